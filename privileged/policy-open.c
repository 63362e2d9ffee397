/*
 * sbx_policy_open: the path decision.
 *
 * What must stay true: a request is resolved only by openat2() beneath the
 * root fd of the longest matching rule (string matching only picks the
 * rule), the flags are checked before anything is opened, and nothing with
 * side effects is opened before its type is known. Two phases:
 *   1. an O_PATH probe (no side effects, whatever the object is), fstat,
 *      the type and the perms checked against the rule;
 *   2. the real open of that very object, by reopening the probe through
 *      /proc/self/fd (no second resolution, so no race), with O_NONBLOCK so
 *      a FIFO or a device cannot block the broker; st_dev/st_ino compared;
 *      O_NONBLOCK cleared again unless the requester asked for it.
 * A new file (O_CREAT, nothing there) is created with O_EXCL, so the create
 * path never opens an object that appeared in between; the probe is retried.
 *
 * One phase where the kernel itself rules devices out: under a rule whose
 * root is on a nodev mount, and with RESOLVE_NO_XDEV so the resolution
 * stays on that mount, open(2) refuses a device node before its driver is
 * reached. There the object is opened directly (O_NONBLOCK, so a FIFO
 * cannot block us), fstat()ed and refused if its type is not granted: half
 * the syscalls and no /proc lookup. A FIFO is then opened and closed
 * again before being refused, which wakes a writer blocked in open(2) on
 * it; that is the one side effect the probe avoids and this path does not.
 * Anything but success or ENOENT (a crossing, an escape, a device, a
 * symlink under O_NOFOLLOW, ...) takes the two phases, so errors and their
 * errno stay those of the probe path. Creation always takes the two phases.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-impl.h"
#include "proto/export.h"

/* The kernel's O_LARGEFILE (glibc defines it as 0 on 64-bit, but a raw
 * openat from a trapped program may carry it). Harmless: stripped. */
#if defined(__x86_64__)
#define KERNEL_O_LARGEFILE 0100000
#else
#define KERNEL_O_LARGEFILE 0
#endif

/* Every bit a request may carry. O_TMPFILE includes O_DIRECTORY. O_PATH is
 * known (refused with EACCES, not EINVAL); O_NOATIME and O_ASYNC are not. */
#define OPEN_KNOWN                                                            \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |       \
	 O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_DIRECTORY | O_NOFOLLOW | \
	 O_CLOEXEC | O_PATH | O_TMPFILE | KERNEL_O_LARGEFILE)

/* openat2 may return EAGAIN under RESOLVE_BENEATH during a concurrent
 * rename; and an O_CREAT race retries the probe. */
#define OPEN_ATTEMPTS 4

static int beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	return policy_openat_beneath(dirfd, path, flags, mode);
}

static bool is_tmpfile(int flags)
{
	return (flags & O_TMPFILE) == O_TMPFILE;
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND));
}

static bool wants_read(int flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

/* Flags alone, before any syscall. -EINVAL, -EACCES or 0; *mode masked. */
static int check_flags(int flags, mode_t *mode)
{
	if ((unsigned)flags & ~(unsigned)OPEN_KNOWN)
		return -EINVAL;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	if (flags & O_PATH)
		return -EACCES; /* notify may map O_PATH; the policy does not */
	if (is_tmpfile(flags) && (flags & O_ACCMODE) == O_RDONLY)
		return -EINVAL;
	if ((flags & O_CREAT) || is_tmpfile(flags)) {
		if (*mode & ~(mode_t)07777)
			return -EINVAL;
	} else {
		*mode = 0; /* open(2) ignores it; openat2 would refuse it */
	}
	return 0;
}

/* What the flags need from the rule, whatever the object turns out to be. */
static int check_rule_flags(unsigned perms, int flags)
{
	if (wants_write(flags) && !(perms & SBX_PERM_WRITE))
		return -EACCES;
	/* O_CREAT without O_EXCL on an existing file is a plain open (a shell's
	 * `>/dev/null`): create is checked where a file would be made, in
	 * create(). O_EXCL and O_TMPFILE always make one. */
	if ((is_tmpfile(flags) || ((flags & O_CREAT) && (flags & O_EXCL))) &&
	    !(perms & SBX_PERM_CREATE))
		return -EACCES;
	if ((flags & O_DIRECTORY) && !is_tmpfile(flags) && !(perms & SBX_PERM_DIR))
		return -EACCES;
	if (wants_read(flags) && !is_tmpfile(flags) &&
	    !(perms & (SBX_PERM_READ | SBX_PERM_EXEC | SBX_PERM_DIR)))
		return -EACCES;
	return 0;
}

/* What the object's type needs. */
static int check_type(unsigned perms, int flags, mode_t type)
{
	bool rd = wants_read(flags), wr = wants_write(flags);

	if (S_ISLNK(type))
		return -ELOOP; /* O_NOFOLLOW on a symlink, as open(2) says */
	if (S_ISDIR(type))
		return (perms & SBX_PERM_DIR) ? 0 : -EACCES;
	if ((flags & O_DIRECTORY) && !is_tmpfile(flags))
		return -ENOTDIR;
	if (!S_ISREG(type) && !(perms & SBX_PERM_DEV))
		return -EACCES; /* FIFO, socket, device: never without dev */
	if (wr && !(perms & SBX_PERM_WRITE))
		return -EACCES;
	if (rd && !(perms & SBX_PERM_READ)) {
		/* exec alone lets a regular file be opened read-only (what
		 * fexecve and the dynamic loader need), nothing else */
		if (!S_ISREG(type) || wr || !(perms & SBX_PERM_EXEC))
			return -EACCES;
	}
	return 0;
}

/* Give back the blocking mode the requester asked for; closes fd on error.
 * F_SETFL changes only O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and
 * O_NONBLOCK, and of those we opened with the requester's O_APPEND and
 * O_DIRECT plus our O_NONBLOCK: no F_GETFL needed. */
static int finish(int fd, int flags)
{
	if (flags & O_NONBLOCK)
		return fd;
	if (fcntl(fd, F_SETFL, flags & (O_APPEND | O_DIRECT)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int fstat_fd(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

/* Reopen the probe through its /proc magic link: the very object the probe
 * holds, not a second resolution. The policy keeps /proc/self/fd open so
 * this is a one-component lookup (a quarter of a brokered open's cost
 * otherwise); after a fork that directory would be the parent's, so the
 * pid is checked. */
static int proc_reopen(const struct sbx_policy *p, int probe, int oflags)
{
	char name[64];

	if (p->proc_fd_dir >= 0 && p->proc_pid == getpid()) {
		snprintf(name, sizeof(name), "%d", probe);
		return openat(p->proc_fd_dir, name, oflags);
	}
	snprintf(name, sizeof(name), "/proc/self/fd/%d", probe);
	return open(name, oflags);
}

/* Phase 2: open the probed object itself. */
static int reopen(const struct sbx_policy *p, const struct policy_rule *rule,
		  const char *rest, int probe, const struct stat *pst, int flags)
{
	int oflags = (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | KERNEL_O_LARGEFILE)) |
		     O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd, r;

	fd = proc_reopen(p, probe, oflags);
	if (fd >= 0)
		return finish(fd, flags); /* same object as the probe: no race */
	if (errno == ENOENT && *rest) {
		/* No procfs in this mount namespace: resolve again, and let
		 * the st_dev/st_ino comparison catch a swap (O_NONBLOCK still
		 * keeps a FIFO from blocking us). */
		fd = beneath(rule->root_fd, rest, oflags | (flags & O_NOFOLLOW), 0);
		if (fd < 0)
			return fd;
	} else {
		return -errno;
	}
	r = fstat_fd(fd, &st);
	if (r == 0 && (st.st_dev != pst->st_dev || st.st_ino != pst->st_ino))
		r = -EAGAIN;
	if (r < 0) {
		close(fd);
		return r;
	}
	return finish(fd, flags);
}

/* fd when it is a regular file (what create and O_TMPFILE must give);
 * otherwise fd is closed and -EACCES (or fstat's error) returned. */
static int regular_or_close(int fd)
{
	struct stat st;
	int r = fstat_fd(fd, &st);

	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EACCES;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* O_CREAT and nothing there: create it, never opening what a racer put. */
static int create(const struct policy_rule *rule, const char *rest, int flags,
		  mode_t mode)
{
	int oflags = (flags & ~KERNEL_O_LARGEFILE) | O_EXCL | O_NONBLOCK |
		     O_CLOEXEC | O_NOCTTY;
	int fd;

	if (!(rule->perms & SBX_PERM_CREATE))
		return -EACCES;
	if (!*rest)
		return -EEXIST; /* the rule's own root exists */
	fd = beneath(rule->root_fd, rest, oflags, mode);
	if (fd == -EEXIST && !(flags & O_EXCL))
		return -EAGAIN; /* appeared in between: probe again */
	if (fd < 0)
		return fd;
	fd = regular_or_close(fd);
	return fd < 0 ? fd : finish(fd, flags);
}

static int open_tmpfile(const struct policy_rule *rule, const char *rest, int flags,
		   mode_t mode)
{
	int oflags = (flags & ~KERNEL_O_LARGEFILE) | O_CLOEXEC | O_NOCTTY;
	int fd;

	if (!*rest && !rule->is_dir)
		return -ENOTDIR;
	/* O_TMPFILE carries O_DIRECTORY: only a directory is ever opened, so
	 * no device open can happen here. */
	fd = beneath(rule->root_fd, *rest ? rest : ".", oflags, mode);
	if (fd < 0)
		return fd;
	return regular_or_close(fd);
}

/* The nodev single phase: fd, -ENOENT, or 1 for "take the two phases". */
static int open_direct(const struct policy_rule *rule, const char *rest, int flags)
{
	int oflags = (flags & ~KERNEL_O_LARGEFILE) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd, r;

	fd = policy_openat_same_mount(rule->root_fd, *rest ? rest : ".", oflags);
	if (fd == -ENOENT)
		return fd;
	if (fd < 0)
		return 1;
	r = fstat_fd(fd, &st);
	if (r == 0)
		r = check_type(rule->perms, flags, st.st_mode);
	if (r < 0) {
		close(fd);
		return r;
	}
	return finish(fd, flags);
}

static int open_once(const struct sbx_policy *p, const struct policy_rule *rule,
		     const char *rest, int flags, mode_t mode)
{
	struct stat st;
	int probe, r;

	if (rule->nodev && rule->is_dir && !(flags & O_CREAT)) {
		r = open_direct(rule, rest, flags);
		if (r != 1)
			return r;
	}
	if (!*rest && !rule->is_dir) {
		/* The rule is this very file: its root fd is the probe. */
		probe = fcntl(rule->root_fd, F_DUPFD_CLOEXEC, 3);
		if (probe < 0)
			return -errno;
	} else {
		probe = beneath(rule->root_fd, *rest ? rest : ".",
				    O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY)),
				    0);
		if (probe == -ENOENT && (flags & O_CREAT))
			return create(rule, rest, flags, mode);
		if (probe < 0)
			return probe;
	}
	r = fstat_fd(probe, &st);
	/* Crossed a mount: one fstatfs, only then, keeps kernel pseudo-fs
	 * (opened as the broker, not as the worker) out of every rule. */
	if (r == 0 && st.st_dev != rule->root_dev && policy_is_kernel_fs(probe))
		r = -EACCES;
	if (r == 0 && (flags & O_CREAT) && (flags & O_EXCL))
		r = -EEXIST;
	if (r == 0)
		r = check_type(rule->perms, flags, st.st_mode);
	if (r == 0)
		r = reopen(p, rule, rest, probe, &st, flags);
	close(probe);
	return r;
}

SBX_EXPORT int sbx_policy_open(const struct sbx_policy *p, const char *path, int flags,
			       mode_t mode)
{
	const struct policy_rule *rule;
	char norm[PATH_MAX], rest[PATH_MAX + 2];
	const char *tail;
	bool trailing;
	size_t tl;
	int r, n;

	if (!p || !path)
		return -EINVAL;
	r = check_flags(flags, &mode);
	if (r < 0)
		return r;
	n = policy_normalise(path, norm, true, &trailing);
	if (n < 0)
		return n;
	rule = policy_match(p, norm, &tail);
	if (!rule)
		return -EACCES;
	r = check_rule_flags(rule->perms, flags);
	if (r < 0)
		return r;
	if (trailing && !*tail && !rule->is_dir)
		return -ENOTDIR;
	/* "x/" must stay a directory lookup for the kernel. tail is shorter
	 * than norm (PATH_MAX), so rest has room for it, '/' and NUL. */
	tl = strlen(tail);
	memcpy(rest, tail, tl);
	if (trailing && *tail)
		rest[tl++] = '/';
	rest[tl] = '\0';
	for (int i = 0; i < OPEN_ATTEMPTS; i++) {
		r = is_tmpfile(flags) ? open_tmpfile(rule, rest, flags, mode)
				      : open_once(p, rule, rest, flags, mode);
		if (r != -EAGAIN)
			break;
	}
	if (r == -EAGAIN && (flags & O_CREAT) && !(flags & O_EXCL))
		r = -EEXIST; /* e.g. O_CREAT through a dangling symlink */
	/* RESOLVE_BENEATH says EXDEV for an escape; to the requester it is
	 * simply not granted. ELOOP (magic link, O_NOFOLLOW, loops) stays. */
	return r == -EXDEV ? -EACCES : r;
}
