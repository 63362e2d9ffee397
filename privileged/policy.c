/*
 * The policy: path rules, named preopened fds, limits, and the accessors the
 * rest of the privileged side iterates with. Resolution of requests lives in
 * policy-open.c, connect targets in policy-connect.c, the file format in
 * policy-file.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "policy-impl.h"
#include "proto/export.h"

int policy_reserve(void **arr, size_t *cap, size_t n, size_t more, size_t elem)
{
	size_t want, ncap;
	void *q;

	if (more > SIZE_MAX / elem - n)
		return -ENOMEM;
	want = n + more;
	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 / elem ? want : ncap * 2;
	q = realloc(*arr, ncap * elem);
	if (!q)
		return -ENOMEM;
	*arr = q;
	*cap = ncap;
	return 0;
}

bool policy_name_valid(const char *name)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= POLICY_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return i > 0;
}

int policy_normalise(const char *in, char *out, bool allow_dotdot, bool *trailing)
{
	size_t inlen, o = 0, i = 0;

	if (!in)
		return -EINVAL;
	inlen = strnlen(in, PATH_MAX);
	if (inlen == 0)
		return -ENOENT;
	if (inlen >= PATH_MAX)
		return -ENAMETOOLONG;
	if (in[0] != '/')
		return -EINVAL;
	if (trailing)
		*trailing = false;
	while (i < inlen) {
		size_t start, clen;

		while (i < inlen && in[i] == '/')
			i++;
		start = i;
		while (i < inlen && in[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0)
			break;
		if (trailing)
			*trailing = i < inlen; /* a slash follows this component */
		if (clen == 1 && in[start] == '.') {
			if (trailing)
				*trailing = true; /* "x/." names x as a directory */
			continue;
		}
		if (clen == 2 && in[start] == '.' && in[start + 1] == '.' && !allow_dotdot)
			return -EINVAL;
		out[o++] = '/';
		memcpy(out + o, in + start, clen);
		o += clen;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return (int)o;
}

SBX_EXPORT int sbx_policy_new(struct sbx_policy **ret)
{
	struct sbx_policy *p;

	if (!ret)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->limit[SBX_LIMIT_REQUEST_BYTES] = POLICY_DEFAULT_REQUEST_BYTES;
	p->limit[SBX_LIMIT_IN_FLIGHT] = POLICY_DEFAULT_IN_FLIGHT;
	/* Optional: without it (no procfs yet) reopening takes the long path. */
	p->proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p->proc_pid = getpid();
	*ret = p;
	return 0;
}

SBX_EXPORT struct sbx_policy *sbx_policy_free(struct sbx_policy *p)
{
	if (!p)
		return NULL;
	if (p->proc_fd_dir >= 0)
		close(p->proc_fd_dir);
	for (size_t i = 0; i < p->nrules; i++) {
		close(p->rules[i].root_fd);
		free(p->rules[i].path);
	}
	for (size_t i = 0; i < p->nfds; i++)
		close(p->fds[i].fd);
	free(p->rules);
	free(p->fds);
	free(p->conns);
	free(p->sys);
	free(p);
	return NULL;
}

static struct policy_rule *find_rule(const struct sbx_policy *p, const char *path)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].path, path) == 0)
			return &p->rules[i];
	return NULL;
}

/* A rule being added: built completely before the policy is touched. */
struct pending_rule {
	const char *path;
	struct policy_rule *existing;
	char *copy;
	int fd;
};

/* src becomes the rule's root fd: taken as is when take (the caller gives
 * up its ownership once the rule is committed), else duplicated. */
static int prepare_rule(struct sbx_policy *p, const char *path, int src, bool take,
			struct pending_rule *pr)
{
	pr->path = path;
	pr->copy = NULL;
	pr->fd = -1;
	pr->existing = find_rule(p, path);
	if (pr->existing)
		return 0; /* read then exec on /usr is one rule with both perms */
	pr->copy = strdup(path);
	if (!pr->copy)
		return -ENOMEM;
	pr->fd = take ? src : fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (pr->fd < 0) {
		free(pr->copy);
		pr->copy = NULL;
		return -errno;
	}
	return 0;
}

/* Closes the rule's fd unless it is still the caller's (keep). */
static void drop_pending(struct pending_rule *pr, int keep)
{
	free(pr->copy);
	if (pr->fd >= 0 && pr->fd != keep)
		close(pr->fd);
}

/* Cannot fail: room was reserved and the copies made. */
static void commit_rule(struct sbx_policy *p, struct pending_rule *pr, bool is_dir,
			dev_t dev, bool nodev, unsigned perms)
{
	if (pr->existing) {
		pr->existing->perms |= perms;
		return;
	}
	if (!pr->copy)
		return; /* unreachable: prepare_rule made the copy */
	p->rules[p->nrules++] = (struct policy_rule){
		.path = pr->copy, .len = strlen(pr->copy), .root_fd = pr->fd,
		.perms = perms, .is_dir = is_dir, .root_dev = dev, .nodev = nodev,
	};
}

/* The path of what fd holds, symlinks resolved: read back from the held
 * /proc/self/fd (two syscalls) instead of realpath's readlink per
 * component; realpath when procfs cannot say (no procfs, a deleted or
 * unreachable object). A string to free, or NULL with errno set. */
static char *fd_realpath(const struct sbx_policy *p, int fd, const char *path)
{
	static const char deleted[] = " (deleted)";
	char name[32], buf[PATH_MAX];
	ssize_t n = -1;

	if (p->proc_fd_dir >= 0 && p->proc_pid == getpid()) {
		snprintf(name, sizeof(name), "%d", fd);
		n = readlinkat(p->proc_fd_dir, name, buf, sizeof(buf) - 1);
	}
	if (n > 0 && (size_t)n < sizeof(buf) - 1 && buf[0] == '/') {
		buf[n] = '\0';
		if ((size_t)n < sizeof(deleted) - 1 ||
		    strcmp(buf + n - (sizeof(deleted) - 1), deleted) != 0)
			return strdup(buf);
	}
	return realpath(path, NULL);
}

/*
 * Open a granted path (normalised, absolute) as O_PATH, and its real path
 * in *ret_real (to free; NULL with errno set on failure, fd still
 * returned). A path the kernel resolves without meeting a symlink
 * (RESOLVE_NO_SYMLINKS) is its own real path: no /proc readlink, whose
 * first lookups in a new process cost several microseconds a grant.
 * Otherwise (a symlink on the way, no openat2) the long way.
 */
static int open_grant(const struct sbx_policy *p, const char *norm, char **ret_real)
{
	int fd = policy_open_symlink_free(norm);

	if (fd >= 0) {
		*ret_real = strdup(norm);
		return fd;
	}
	fd = open(norm, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_real = fd_realpath(p, fd, norm);
	return fd;
}

SBX_EXPORT int sbx_policy_add_path(struct sbx_policy *p, const char *path, unsigned perms)
{
	struct pending_rule pr[2] = { { .fd = -1 }, { .fd = -1 } };
	char norm[PATH_MAX], *real = NULL;
	bool alias, is_dir, nodev;
	struct stat st;
	int fd = -1, n, err;

	if (!p || !path || perms == 0 || (perms & ~POLICY_PERMS_ALL))
		return -EINVAL;
	n = policy_normalise(path, norm, false, NULL);
	if (n < 0)
		return n;
	/* The privileged side trusts its own configuration: resolve symlinks in
	 * the granted path now, so a grant of an absolute symlink
	 * (/etc/localtime) also grants its target, which RESOLVE_BENEATH would
	 * otherwise never reach from the link's own rule. */
	fd = open_grant(p, norm, &real);
	if (fd < 0)
		return fd;
	if (!real || fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	alias = strcmp(real, norm) != 0;
	is_dir = S_ISDIR(st.st_mode);
	err = policy_root_check(fd, &nodev); /* -EPERM: see policy-kernelfs.c */
	if (err < 0)
		goto out;
	err = policy_reserve((void **)&p->rules, &p->crules, p->nrules, 2,
			     sizeof(*p->rules));
	/* fd itself becomes the first new rule's root; an alias gets a copy */
	if (err == 0)
		err = prepare_rule(p, norm, fd, true, &pr[0]);
	if (err == 0 && alias)
		err = prepare_rule(p, real, fd, pr[0].fd != fd, &pr[1]);
	if (err < 0) {
		drop_pending(&pr[0], fd);
		drop_pending(&pr[1], fd);
		goto out;
	}
	commit_rule(p, &pr[0], is_dir, st.st_dev, nodev, perms);
	if (alias)
		commit_rule(p, &pr[1], is_dir, st.st_dev, nodev, perms);
	if (pr[0].fd == fd || pr[1].fd == fd)
		fd = -1; /* the policy's now */
out:
	if (fd >= 0)
		close(fd);
	free(real);
	return err;
}

const struct policy_rule *policy_match(const struct sbx_policy *p, const char *path,
				       const char **rest)
{
	const struct policy_rule *best = NULL;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];

		if (best && r->len <= best->len)
			continue;
		if (r->len == 1) { /* "/" matches every absolute path */
			best = r;
			continue;
		}
		if (strncmp(path, r->path, r->len) != 0)
			continue;
		if (path[r->len] != '\0' && path[r->len] != '/')
			continue; /* /data must not match /database */
		best = r;
	}
	if (best && rest) {
		const char *s = path + (best->len == 1 ? 0 : best->len);

		while (*s == '/')
			s++;
		*rest = s;
	}
	return best;
}

bool policy_covers(const struct sbx_policy *p, const char *path, unsigned perms)
{
	const char *rest;
	const struct policy_rule *rule = policy_match(p, path, &rest);
	int fd;

	if (!rule || (perms & ~rule->perms))
		return false;
	if (!*rest)
		return true; /* that very rule: adding would only merge perms */
	fd = policy_openat_beneath(rule->root_fd, rest, O_PATH | O_CLOEXEC, 0);
	if (fd < 0)
		return false; /* absent, or leaves the rule: a grant of its own */
	close(fd);
	return true;
}

const struct policy_fd *policy_find_fd(const struct sbx_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nfds; i++)
		if (strcmp(p->fds[i].name, name) == 0)
			return &p->fds[i];
	return NULL;
}

SBX_EXPORT int sbx_policy_add_fd(struct sbx_policy *p, const char *name, int fd)
{
	struct policy_fd *f;
	int r, dup_fd;

	if (!p || !policy_name_valid(name) || fd < 0)
		return -EINVAL;
	if (policy_find_fd(p, name))
		return -EEXIST;
	r = policy_reserve((void **)&p->fds, &p->cfds, p->nfds, 1, sizeof(*p->fds));
	if (r < 0)
		return r;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return -errno;
	f = &p->fds[p->nfds++];
	memset(f, 0, sizeof(*f));
	strcpy(f->name, name);
	f->fd = dup_fd;
	return 0;
}

SBX_EXPORT int sbx_policy_get(const struct sbx_policy *p, const char *name)
{
	const struct policy_fd *f;
	int fd;

	if (!p || !policy_name_valid(name))
		return -EINVAL;
	f = policy_find_fd(p, name);
	if (!f)
		return -ENOENT;
	fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

SBX_EXPORT int sbx_policy_set_limit(struct sbx_policy *p, enum sbx_limit which,
				    unsigned long value)
{
	unsigned long max;

	if (!p)
		return -EINVAL;
	switch (which) {
	case SBX_LIMIT_REQUEST_BYTES:
		max = SBX_MSG_MAX;
		break;
	case SBX_LIMIT_IN_FLIGHT:
		max = POLICY_MAX_IN_FLIGHT;
		break;
	default:
		return -EINVAL;
	}
	if (value < 1 || value > max)
		return -EINVAL;
	p->limit[which] = value;
	p->limit_set[which] = true;
	return 0;
}

unsigned long policy_limit(const struct sbx_policy *p, enum sbx_limit which)
{
	if (!p || (which != SBX_LIMIT_REQUEST_BYTES && which != SBX_LIMIT_IN_FLIGHT))
		return 0;
	return p->limit[which];
}

int policy_foreach_path(const struct sbx_policy *p,
			int (*cb)(const char *path, int root_fd, unsigned perms, void *ud),
			void *ud)
{
	if (!p || !cb)
		return -EINVAL;
	for (size_t i = 0; i < p->nrules; i++) {
		int r = cb(p->rules[i].path, p->rules[i].root_fd, p->rules[i].perms, ud);

		if (r)
			return r;
	}
	return 0;
}

int policy_foreach_fd(const struct sbx_policy *p,
		      int (*cb)(const char *name, int fd, void *ud), void *ud)
{
	if (!p || !cb)
		return -EINVAL;
	for (size_t i = 0; i < p->nfds; i++) {
		int r = cb(p->fds[i].name, p->fds[i].fd, ud);

		if (r)
			return r;
	}
	return 0;
}

const struct policy_syscall *policy_find_syscall(const struct sbx_policy *p,
						 const char *name)
{
	for (size_t i = 0; i < p->nsys; i++)
		if (strcmp(p->sys[i].name, name) == 0)
			return &p->sys[i];
	return NULL;
}

int policy_add_syscall(struct sbx_policy *p, const char *name, bool allow, unsigned line)
{
	struct policy_syscall *s;
	int r;

	if (!p || !name || !*name || strlen(name) > POLICY_NAME_MAX)
		return -EINVAL;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return -EINVAL;
	if (policy_find_syscall(p, name))
		return -EEXIST;
	r = policy_reserve((void **)&p->sys, &p->csys, p->nsys, 1, sizeof(*p->sys));
	if (r < 0)
		return r;
	s = &p->sys[p->nsys++];
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->allow = allow;
	s->line = line;
	return 0;
}

int policy_foreach_syscall(const struct sbx_policy *p,
			   int (*cb)(const char *name, bool allow, void *ud), void *ud)
{
	if (!p || !cb)
		return -EINVAL;
	for (size_t i = 0; i < p->nsys; i++) {
		int r = cb(p->sys[i].name, p->sys[i].allow, ud);

		if (r)
			return r;
	}
	return 0;
}

unsigned policy_connect_count(const struct sbx_policy *p)
{
	return p ? (unsigned)p->nconns : 0;
}
