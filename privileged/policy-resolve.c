/*
 * Resolution beneath a root fd: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * when the kernel (or the tool we run under: valgrind 3.19 does not know
 * openat2) has it, else the same rules walked in user space.
 *
 * The user-space walk must stay as strict as the kernel:
 *   - one component at a time, each opened O_PATH | O_NOFOLLOW relative to
 *     the previous one, so no lookup ever starts outside the tree;
 *   - ".." pops a stack of the directory fds we opened ourselves (never a
 *     lookup of ".."), so a directory renamed out of the tree mid-walk
 *     cannot take us above the root; ".." at the root is EXDEV;
 *   - a symlink is read (readlinkat on the O_PATH fd) and spliced in front
 *     of the rest; an absolute target is EXDEV, at most 40 links (ELOOP);
 *   - procfs links whose target is absolute or has a ':' ("pipe:[..]") are
 *     the magic ones: ELOOP, like RESOLVE_NO_MAGICLINKS;
 *   - the last component is opened with O_NOFOLLOW once we know it is not a
 *     symlink; if it became one in between, EAGAIN (the caller retries).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy-impl.h"

#define MAX_LINKS 40
#define MAX_DEPTH 2048

/* 0 unknown, 1 openat2 works, -1 ENOSYS seen (or forced by a test) */
static atomic_int have_openat2;

void policy_force_fallback(bool on)
{
	atomic_store(&have_openat2, on ? -1 : 0);
}

struct walk {
	int root;
	int depth;
	int fds[MAX_DEPTH]; /* owned, fds[depth-1] is the current directory */
	char *path;         /* what is left, NUL-terminated, in buf */
	char buf[2 * PATH_MAX + 2];
	int links;
};

static int cur(const struct walk *w)
{
	return w->depth ? w->fds[w->depth - 1] : w->root;
}

static void walk_free(struct walk *w)
{
	while (w->depth)
		close(w->fds[--w->depth]);
}

/* Next component into comp (NUL-terminated view in place); *last when it is
 * the final one, *slash when a slash followed it. 0 when none is left. */
static size_t next_comp(struct walk *w, char **comp, bool *last, bool *slash)
{
	char *s = w->path, *e;
	size_t n;

	while (*s == '/')
		s++;
	if (!*s)
		return 0;
	e = s;
	while (*e && *e != '/')
		e++;
	n = (size_t)(e - s);
	*slash = *e == '/';
	if (*e)
		*e++ = '\0';
	while (*e == '/')
		e++;
	*last = !*e;
	*comp = s;
	w->path = e;
	return n;
}

/* Splice the symlink behind fd in front of what is left; slash: a slash
 * followed the link's name (it must resolve to a directory). */
static int follow(struct walk *w, int fd, bool slash)
{
	char target[PATH_MAX + 1], rest[PATH_MAX + 1];
	struct statfs sfs;
	size_t rl, t;
	ssize_t n;

	if (++w->links > MAX_LINKS)
		return -ELOOP;
	n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if (n == 0 || (size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	t = (size_t)n;
	target[t] = '\0';
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC &&
	    (target[0] == '/' || strchr(target, ':')))
		return -ELOOP; /* a magic link: RESOLVE_NO_MAGICLINKS */
	if (target[0] == '/')
		return -EXDEV; /* RESOLVE_BENEATH: absolute symlink */
	rl = strlen(w->path);
	if (t + 1 + rl >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(rest, w->path, rl + 1);
	memcpy(w->buf, target, t);
	if (rl || slash)
		w->buf[t++] = '/';
	memcpy(w->buf + t, rest, rl + 1);
	w->path = w->buf;
	return 0;
}

static int push(struct walk *w, int fd)
{
	struct stat st;
	int err = 0;

	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	else if (w->depth == MAX_DEPTH)
		err = -ENAMETOOLONG;
	if (err) {
		close(fd);
		return err;
	}
	w->fds[w->depth++] = fd;
	return 0;
}

static int open_here(struct walk *w, const char *name, int flags, mode_t mode)
{
	int fd = openat(cur(w), name, flags, mode);

	return fd < 0 ? -errno : fd;
}

static int walk_open(struct walk *w, int flags, mode_t mode)
{
	bool last, slash;
	struct stat st;
	char *comp;
	size_t n;
	int fd, r;

	for (;;) {
		n = next_comp(w, &comp, &last, &slash);
		if (n == 0)
			return open_here(w, ".", flags, mode);
		if (n == 1 && comp[0] == '.') {
			if (last)
				return open_here(w, ".", flags, mode);
			continue;
		}
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			if (w->depth == 0)
				return -EXDEV; /* above the root */
			close(w->fds[--w->depth]);
			if (last)
				return open_here(w, ".", flags, mode);
			continue;
		}
		if (last && !slash && (flags & O_NOFOLLOW))
			return open_here(w, comp, flags, mode); /* the link itself or ELOOP */
		fd = openat(cur(w), comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			if (r != -ENOENT || !last || !(flags & O_CREAT))
				return r;
			if (slash)
				return -EISDIR;
			/* create it; a symlink planted meanwhile is not followed */
			r = open_here(w, comp, flags | O_NOFOLLOW, mode);
			return r == -ELOOP ? -EAGAIN : r;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			if (last && (flags & O_CREAT) && (flags & O_EXCL)) {
				close(fd);
				return -EEXIST; /* O_EXCL never follows, as open(2) */
			}
			r = follow(w, fd, slash);
			close(fd);
			if (r < 0)
				return r;
			continue;
		}
		if (!last) {
			r = push(w, fd);
			if (r < 0)
				return r;
			continue;
		}
		close(fd);
		if (slash && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		r = open_here(w, comp, flags | O_NOFOLLOW | (slash ? O_DIRECTORY : 0), mode);
		return r == -ELOOP ? -EAGAIN : r; /* became a symlink meanwhile */
	}
}

static int resolve_fallback(int root, const char *path, int flags, mode_t mode)
{
	struct walk *w;
	size_t len = strlen(path);
	int r;

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->root = root;
	w->depth = 0;
	w->links = 0;
	memcpy(w->buf, path, len + 1);
	w->path = w->buf;
	r = walk_open(w, flags | O_CLOEXEC, mode);
	walk_free(w);
	free(w);
	return r;
}

int policy_openat_beneath(int root, const char *path, int flags, mode_t mode)
{
	if (atomic_load(&have_openat2) >= 0) {
		struct open_how how = {
			.flags = (unsigned long long)(unsigned)flags,
			.mode = mode,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		long r = syscall(SYS_openat2, root, path, &how, sizeof(how));

		if (r >= 0)
			return (int)r;
		if (errno != ENOSYS)
			return -errno;
		atomic_store(&have_openat2, -1);
	}
	return resolve_fallback(root, path, flags, mode);
}

int policy_openat_same_mount(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(unsigned)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long r;

	if (flags & O_CREAT)
		return -EINVAL;
	if (atomic_load(&have_openat2) < 0)
		return -ENOSYS;
	r = syscall(SYS_openat2, root, path, &how, sizeof(how));
	return r >= 0 ? (int)r : -errno;
}

int policy_open_symlink_free(const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	long r;

	if (atomic_load(&have_openat2) < 0)
		return -ENOSYS;
	r = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	return r >= 0 ? (int)r : -errno;
}
