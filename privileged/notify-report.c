/* The per-syscall summary of traced denials, printed by sandbox-run at exit
 * in a form the user pastes back (options, or a policy-file section). */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "notify-impl.h"

/* No more distinct entries than syscall numbers exist: a hostile worker
 * cannot grow the table without bound (other numbers share one slot). */
#define NOTIFY_REPORT_MAX 1024

struct report_entry {
	int nr;
	unsigned long count;
};

struct notify_report {
	struct report_entry *v;
	size_t n, cap;
};

int notify_report_new(struct notify_report **ret)
{
	struct notify_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*ret = r;
	return 0;
}

struct notify_report *notify_report_free(struct notify_report *r)
{
	if (r) {
		free(r->v);
		free(r);
	}
	return NULL;
}

long notify_report_add(struct notify_report *r, int nr)
{
	size_t i;

	if (!r)
		return -EINVAL;
	if (nr < 0 || nr >= NOTIFY_REPORT_MAX)
		nr = -1; /* "other": one slot for every out-of-range number */
	for (i = 0; i < r->n; i++)
		if (r->v[i].nr == nr)
			return (long)++r->v[i].count;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct report_entry *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].nr = nr;
	r->v[r->n].count = 1;
	r->n++;
	return 1;
}

unsigned notify_report_count(const struct notify_report *r)
{
	return r ? (unsigned)r->n : 0;
}

const char *notify_syscall_name(int nr, char *buf, size_t len)
{
	char *s = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) : NULL;

	if (s) {
		snprintf(buf, len, "%s", s);
		free(s);
	} else {
		snprintf(buf, len, "syscall_%d", nr);
	}
	return buf;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int notify_report_write(const struct notify_report *r, int fd, const char *prefix)
{
	char name[64], *buf;
	size_t i, cap, len = 0;
	int ret;

	if (!r || r->n == 0)
		return 0;
	if (!prefix)
		prefix = "";
	cap = 256 + r->n * (3 * (sizeof(name) + 32) + 3 * strlen(prefix));
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
#define ADD(...) (len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__))
	ADD("%sdenied syscalls:", prefix);
	for (i = 0; i < r->n; i++)
		ADD(" %s (%lu)", r->v[i].nr < 0 ? "(out of range)"
						  : notify_syscall_name(r->v[i].nr, name, sizeof(name)),
		    r->v[i].count);
	ADD("\n%sto allow them, add:", prefix);
	for (i = 0; i < r->n; i++)
		if (r->v[i].nr >= 0)
			ADD(" --allow-syscall %s", notify_syscall_name(r->v[i].nr, name, sizeof(name)));
	ADD("\n%sor in a policy file:\n", prefix);
	for (i = 0; i < r->n; i++)
		if (r->v[i].nr >= 0)
			ADD("allow-syscall %s\n", notify_syscall_name(r->v[i].nr, name, sizeof(name)));
	/* The profile allows socket() by its arguments: allowing the whole
	 * syscall would let in raw and packet sockets too. */
	for (i = 0; i < r->n; i++)
		if (r->v[i].nr == __NR_socket) {
			ADD("%s(for inet sockets, --allow-net is the narrower grant)\n", prefix);
			break;
		}
#undef ADD
	ret = write_all(fd, buf, len < cap ? len : cap - 1);
	free(buf);
	return ret;
}
