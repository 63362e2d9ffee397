/*
 * The policy file: one rule a line (format in doc/policy.md). Parsed into a
 * temporary policy, merged only when the whole file is good, so a failed load
 * leaves the caller's policy exactly as it was and leaks nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-impl.h"
#include "proto/export.h"

#define FILE_MAX_BYTES (1u << 20)
#define LINE_MAX_BYTES (PATH_MAX + 128)
#define MAX_FIELDS 4

struct perm_name {
	const char *name;
	unsigned perm;
};

static const struct perm_name perm_names[] = {
	{ "read", SBX_PERM_READ },   { "write", SBX_PERM_WRITE },
	{ "create", SBX_PERM_CREATE }, { "dir", SBX_PERM_DIR },
	{ "exec", SBX_PERM_EXEC },   { "dev", SBX_PERM_DEV },
};

struct parse {
	struct sbx_policy *tmp;
	int err;          /* what the load returns: -EINVAL unless said */
	char reason[256]; /* non-empty: the error is about a line */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
	va_end(ap);
	ps->err = -EINVAL;
	return -1;
}

static int read_all(const char *file, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *q;
	ssize_t n;
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	/* Blocking is fine: the caller named this file (a pipe from a shell's
	 * process substitution is a fair use). */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (len == cap) {
			if (cap > FILE_MAX_BYTES) {
				err = -EFBIG;
				break;
			}
			q = realloc(buf, cap * 2);
			if (!q) {
				err = -ENOMEM;
				break;
			}
			buf = q;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err == 0 && len > FILE_MAX_BYTES)
		err = -EFBIG;
	if (err < 0) {
		free(buf);
		return err;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* "read,write" -> bits; 0 with *bad set to the first unknown word. */
static unsigned parse_perms(char *list, const char **bad)
{
	unsigned perms = 0;
	char *save = NULL;

	*bad = list;
	if (!*list || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		return 0;
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned bit = 0;

		for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
			if (strcmp(w, perm_names[i].name) == 0)
				bit = perm_names[i].perm;
		if (!bit) {
			*bad = w;
			return 0;
		}
		perms |= bit;
	}
	return perms;
}

static bool is_perm_word(const char *s)
{
	size_t n = strcspn(s, ",");

	for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
		if (strlen(perm_names[i].name) == n && strncmp(s, perm_names[i].name, n) == 0)
			return true;
	return false;
}

static int parse_number(const char *s, unsigned long *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 9)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

static int line_path(struct parse *ps, unsigned perms, const char *path)
{
	int r = sbx_policy_add_path(ps->tmp, path, perms);

	if (r == -EINVAL)
		return fail(ps, "invalid path '%s' (absolute, no '..')", path);
	if (r < 0) {
		fail(ps, "%s: %s", path, strerror(-r));
		ps->err = r;
		return -1;
	}
	return 0;
}

static int line_fd(struct parse *ps, char **f, int nf, unsigned line)
{
	int oflags, fd, fl, r;

	if (nf != 3 && nf != 4)
		return fail(ps, "usage: fd NAME PATH [ro|rw]");
	if (!policy_name_valid(f[1]))
		return fail(ps, "invalid name '%s' ([A-Za-z0-9_.-], 1 to 64)", f[1]);
	if (policy_find_fd(ps->tmp, f[1])) {
		fail(ps, "duplicate fd name '%s'", f[1]);
		ps->err = -EEXIST;
		return -1;
	}
	if (f[2][0] != '/')
		return fail(ps, "invalid path '%s' (must be absolute)", f[2]);
	if (nf == 3 || strcmp(f[3], "ro") == 0)
		oflags = O_RDONLY;
	else if (strcmp(f[3], "rw") == 0)
		oflags = O_RDWR;
	else
		return fail(ps, "fd mode must be ro or rw, not '%s'", f[3]);
	/* O_NONBLOCK: a FIFO without a writer must not hang the load. */
	fd = open(f[2], oflags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		fail(ps, "%s: %s", f[2], strerror(-r));
		ps->err = r;
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	r = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ? -errno : 0;
	if (r == 0)
		r = sbx_policy_add_fd(ps->tmp, f[1], fd);
	close(fd);
	if (r < 0)
		return fail(ps, "fd %s: %s", f[1], strerror(-r));
	ps->tmp->fds[ps->tmp->nfds - 1].line = line;
	return 0;
}

static int line_connect(struct parse *ps, char **f, int nf, unsigned line)
{
	int r;

	if (nf != 3)
		return fail(ps, "usage: connect NAME tcp:HOST:PORT|unix:PATH");
	if (!policy_name_valid(f[1]))
		return fail(ps, "invalid name '%s' ([A-Za-z0-9_.-], 1 to 64)", f[1]);
	r = sbx_policy_add_connect(ps->tmp, f[1], f[2]);
	if (r == -EEXIST) {
		fail(ps, "duplicate connect name '%s'", f[1]);
		ps->err = r;
		return -1;
	}
	if (r == -EINVAL)
		return fail(ps, "invalid address '%s'", f[2]);
	if (r == -ENOENT)
		return fail(ps, "address '%s' does not resolve", f[2]);
	if (r < 0)
		return fail(ps, "connect %s: %s", f[1], strerror(-r));
	ps->tmp->conns[ps->tmp->nconns - 1].line = line;
	return 0;
}

static int line_limit(struct parse *ps, char **f, int nf)
{
	enum sbx_limit which;
	unsigned long v;

	if (nf != 3)
		return fail(ps, "usage: limit request-bytes|in-flight N");
	if (strcmp(f[1], "request-bytes") == 0)
		which = SBX_LIMIT_REQUEST_BYTES;
	else if (strcmp(f[1], "in-flight") == 0)
		which = SBX_LIMIT_IN_FLIGHT;
	else
		return fail(ps, "unknown limit '%s'", f[1]);
	if (parse_number(f[2], &v) < 0 || sbx_policy_set_limit(ps->tmp, which, v) < 0)
		return fail(ps, "limit %s out of range: '%s'", f[1], f[2]);
	return 0;
}

static int line_syscall(struct parse *ps, char **f, int nf, bool allow, unsigned line)
{
	int r;

	if (nf != 2)
		return fail(ps, "usage: %s NAME", f[0]);
	r = policy_add_syscall(ps->tmp, f[1], allow, line);
	if (r == -EEXIST) {
		fail(ps, "duplicate syscall '%s'", f[1]);
		ps->err = r;
		return -1;
	}
	if (r < 0)
		return fail(ps, "invalid syscall name '%s'", f[1]);
	return 0;
}

/* One line, NUL-terminated, without its newline. */
static int parse_line(struct parse *ps, char *s, unsigned line)
{
	char *f[MAX_FIELDS + 1];
	int nf = 0;

	for (char *t = s;;) {
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t)
			break;
		if (nf == 0 && *t == '#')
			return 0;
		if (nf == MAX_FIELDS)
			return fail(ps, "too many fields");
		f[nf++] = t;
		while (*t && *t != ' ' && *t != '\t')
			t++;
		if (*t)
			*t++ = '\0';
	}
	if (nf == 0)
		return 0;
	if (strcmp(f[0], "fd") == 0)
		return line_fd(ps, f, nf, line);
	if (strcmp(f[0], "connect") == 0)
		return line_connect(ps, f, nf, line);
	if (strcmp(f[0], "limit") == 0)
		return line_limit(ps, f, nf);
	if (strcmp(f[0], "allow-syscall") == 0)
		return line_syscall(ps, f, nf, true, line);
	if (strcmp(f[0], "deny-syscall") == 0)
		return line_syscall(ps, f, nf, false, line);
	if (is_perm_word(f[0])) {
		const char *bad;
		unsigned perms;

		if (nf != 2)
			return fail(ps, "usage: PERM[,PERM...] PATH");
		perms = parse_perms(f[0], &bad);
		if (!perms)
			return fail(ps, "unknown permission '%s'", bad);
		return line_path(ps, perms, f[1]);
	}
	return fail(ps, "unknown keyword '%s'", f[0]);
}

/* Names the file brings that the policy already has; its line or 0. */
static unsigned find_clash(const struct sbx_policy *p, const struct sbx_policy *t,
			   const char **what, const char **name)
{
	for (size_t i = 0; i < t->nfds; i++)
		if (policy_find_fd(p, t->fds[i].name)) {
			*what = "fd name";
			*name = t->fds[i].name;
			return t->fds[i].line;
		}
	for (size_t i = 0; i < t->nconns; i++)
		if (policy_find_connect(p, t->conns[i].name)) {
			*what = "connect name";
			*name = t->conns[i].name;
			return t->conns[i].line;
		}
	for (size_t i = 0; i < t->nsys; i++)
		if (policy_find_syscall(p, t->sys[i].name)) {
			*what = "syscall";
			*name = t->sys[i].name;
			return t->sys[i].line;
		}
	return 0;
}

/* Move everything from t into p. Fails (-ENOMEM) only before touching p. */
static int merge(struct sbx_policy *p, struct sbx_policy *t)
{
	int r;

	r = policy_reserve((void **)&p->rules, &p->crules, p->nrules, t->nrules,
			   sizeof(*p->rules));
	if (r == 0)
		r = policy_reserve((void **)&p->fds, &p->cfds, p->nfds, t->nfds,
				   sizeof(*p->fds));
	if (r == 0)
		r = policy_reserve((void **)&p->conns, &p->cconns, p->nconns, t->nconns,
				   sizeof(*p->conns));
	if (r == 0)
		r = policy_reserve((void **)&p->sys, &p->csys, p->nsys, t->nsys,
				   sizeof(*p->sys));
	if (r < 0)
		return r; /* reserving only grows capacity: p is unchanged */
	for (size_t i = 0; i < t->nrules; i++) {
		struct policy_rule *tr = &t->rules[i], *pr = NULL;

		for (size_t j = 0; j < p->nrules && !pr; j++)
			if (strcmp(p->rules[j].path, tr->path) == 0)
				pr = &p->rules[j];
		if (pr) {
			pr->perms |= tr->perms;
			close(tr->root_fd);
			free(tr->path);
		} else {
			p->rules[p->nrules++] = *tr;
		}
	}
	t->nrules = 0;
	/* An empty array may be NULL: memcpy(NULL, NULL, 0) and NULL + 0 are
	 * undefined behaviour, so copy only what is there. */
	if (t->nfds)
		memcpy(p->fds + p->nfds, t->fds, t->nfds * sizeof(*t->fds));
	p->nfds += t->nfds;
	t->nfds = 0;
	if (t->nconns)
		memcpy(p->conns + p->nconns, t->conns, t->nconns * sizeof(*t->conns));
	p->nconns += t->nconns;
	if (t->nsys)
		memcpy(p->sys + p->nsys, t->sys, t->nsys * sizeof(*t->sys));
	p->nsys += t->nsys;
	for (int w = 0; w < 2; w++)
		if (t->limit_set[w]) {
			p->limit[w] = t->limit[w];
			p->limit_set[w] = true;
		}
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int parse_buffer(struct parse *ps, char *buf, size_t len, unsigned *ret_line)
{
	size_t off = 0;
	unsigned line = 0;

	while (off < len) {
		char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		*ret_line = ++line;
		if (n >= LINE_MAX_BYTES) {
			fail(ps, "line longer than %u bytes", LINE_MAX_BYTES - 1);
			return ps->err;
		}
		if (memchr(s, '\0', n)) {
			fail(ps, "NUL byte in line");
			return ps->err;
		}
		s[n] = '\0'; /* the newline, or the spare byte read_all left */
		if (parse_line(ps, s, line) < 0)
			return ps->err;
		off += n + 1;
	}
	return 0;
}

SBX_EXPORT int sbx_policy_load_file(struct sbx_policy *p, const char *file, char *errbuf,
				    size_t errlen)
{
	struct parse ps = { .tmp = NULL };
	const char *what, *name;
	unsigned line = 0, clash;
	size_t len = 0;
	char *buf = NULL;
	int r;

	set_err(errbuf, errlen, "%s", "");
	if (!p || !file) {
		set_err(errbuf, errlen, "invalid arguments");
		return -EINVAL;
	}
	r = read_all(file, &buf, &len);
	if (r < 0) {
		set_err(errbuf, errlen, "%s: %s", file, strerror(-r));
		return r;
	}
	r = sbx_policy_new(&ps.tmp);
	if (r == 0)
		r = parse_buffer(&ps, buf, len, &line);
	if (r < 0 && ps.reason[0]) {
		set_err(errbuf, errlen, "%s:%u: %s", file, line, ps.reason);
	} else if (r < 0) {
		set_err(errbuf, errlen, "%s: %s", file, strerror(-r));
	} else if ((clash = find_clash(p, ps.tmp, &what, &name)) != 0) {
		set_err(errbuf, errlen, "%s:%u: duplicate %s '%s' (already in the policy)",
			file, clash, what, name);
		r = -EEXIST;
	} else {
		r = merge(p, ps.tmp);
		if (r < 0)
			set_err(errbuf, errlen, "%s: %s", file, strerror(-r));
	}
	sbx_policy_free(ps.tmp);
	free(buf);
	return r;
}
