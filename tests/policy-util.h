/* Helpers for the policy tests: a scratch tree under mkdtemp, removed at the
 * end, and checks that a request is refused (or granted) without leaking. */
#ifndef SBX_TEST_POLICY_UTIL_H
#define SBX_TEST_POLICY_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "tap.h"

static char tree[PATH_MAX];

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void tree_cleanup(void)
{
	if (tree[0])
		nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp under TMPDIR (or /tmp); removed at exit. */
static inline void tree_make(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tree, sizeof(tree), "%s/sbx-policy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tree))
		tap_bail("mkdtemp: %s", strerror(errno));
	atexit(tree_cleanup);
}

/* tree + "/" + rel, in a rotating set of static buffers. */
static inline const char *T(const char *rel)
{
	static char buf[16][PATH_MAX];
	static int i;
	char *b = buf[i++ % 16];

	int n = snprintf(b, PATH_MAX, "%s%s%s", tree, *rel ? "/" : "", rel);

	if (n < 0 || n >= PATH_MAX)
		tap_bail("test path too long");
	return b;
}

static inline void mkdir_t(const char *rel)
{
	if (mkdir(T(rel), 0755) < 0)
		tap_bail("mkdir %s: %s", rel, strerror(errno));
}

static inline void write_t(const char *rel, const char *text)
{
	int fd = open(T(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		tap_bail("write %s: %s", rel, strerror(errno));
	close(fd);
}

static inline void symlink_t(const char *target, const char *rel)
{
	if (symlink(target, T(rel)) < 0)
		tap_bail("symlink %s: %s", rel, strerror(errno));
}

/* The request is refused with want, and the fd table is what it was. */
#define DENY(p, path, flags, mode, want, ...)                                 \
	do {                                                                  \
		struct fd_table t_;                                           \
		int r_;                                                       \
		fd_snapshot(&t_);                                             \
		r_ = sbx_policy_open((p), (path), (flags), (mode));           \
		if (r_ >= 0)                                                  \
			close(r_);                                            \
		is_int(r_, (want), __VA_ARGS__);                              \
		ok(fd_same(&t_), "  ...and no fd leaked");                    \
	} while (0)

/* The request is granted: returns the fd (close-on-exec checked). */
static inline int grant(const struct sbx_policy *p, const char *path, int flags, mode_t mode,
		 const char *what)
{
	int fd = sbx_policy_open(p, path, flags, mode);

	if (!ok(fd >= 0, "%s", what))
		diag("  got %d (%s)", fd, fd < 0 ? strerror(-fd) : "");
	else if (!fd_is_cloexec(fd))
		ok(0, "  ...fd is close-on-exec");
	return fd;
}

#endif
