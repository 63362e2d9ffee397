/* Reading a notified worker's arguments: its memory (process_vm_readv) and
 * its cwd / dirfds (/proc/<pid>/...). Everything here races with the worker
 * by nature; notify.c checks SECCOMP_IOCTL_NOTIF_ID_VALID after all reads,
 * so a result is only used when the thread that asked is still waiting. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "notify-impl.h"

static size_t page_size(void)
{
	static size_t ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

/* One read that the caller guarantees does not cross a page: it either
 * copies everything or fails (a partial copy only happens across pages). */
static int read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	/* An address in the worker, never dereferenced here. */
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len }; // NOLINT(performance-no-int-to-ptr)
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr == 0 || addr + len < addr)
		return -EFAULT;
	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		if (errno == ENOMEM)
			return -ENOMEM;
		/* EFAULT, and EPERM/EIO for memory we may not read: the kernel's
		 * own copy would have faulted too. */
		return -EFAULT;
	}
	return (size_t)n == len ? 0 : -EFAULT;
}

int notify_read_path(pid_t pid, uint64_t addr, char *buf)
{
	size_t got = 0, ps = page_size();

	while (got < PATH_MAX) {
		uint64_t at = addr + got;
		size_t chunk = ps - (size_t)(at & (ps - 1));
		char *nul;
		int r;

		if (chunk > PATH_MAX - got)
			chunk = PATH_MAX - got;
		r = read_remote(pid, at, buf + got, chunk);
		if (r < 0)
			return r;
		nul = memchr(buf + got, '\0', chunk);
		if (nul)
			return (int)(nul - buf);
		got += chunk;
	}
	return -ENAMETOOLONG;
}

int notify_read_how(pid_t pid, uint64_t addr, uint64_t size, struct open_how *how)
{
	unsigned char rest[512];
	uint64_t off;
	int r;

	memset(how, 0, sizeof(*how));
	/* copy_struct_from_user's rules, as openat2(2) applies them. */
	if (size < OPEN_HOW_SIZE_VER0)
		return -EINVAL;
	if (size > page_size())
		return -E2BIG;
	r = read_remote(pid, addr, how, size < sizeof(*how) ? size : sizeof(*how));
	if (r < 0)
		return r;
	/* A larger struct from a newer libc: the tail must be zero. */
	for (off = sizeof(*how); off < size; off += sizeof(rest)) {
		size_t n = size - off < sizeof(rest) ? (size_t)(size - off) : sizeof(rest);
		size_t i;

		r = read_remote(pid, addr + off, rest, n);
		if (r < 0)
			return r;
		for (i = 0; i < n; i++)
			if (rest[i])
				return -E2BIG;
	}
	return 0;
}

int notify_base_dir(pid_t pid, int dirfd, char *buf, size_t len)
{
	char link[64];
	struct stat via, named;
	ssize_t n;

	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else if (dirfd < 0)
		return -EBADF;
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, dirfd);

	/* What the worker's fd really is (the magic link followed). */
	if (stat(link, &via) < 0) {
		if (errno == ENOENT && dirfd != AT_FDCWD)
			return -EBADF;
		return errno == ENOENT ? -ESRCH : -errno;
	}
	if (!S_ISDIR(via.st_mode))
		return -ENOTDIR;
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	/* The name must still lead to that directory: a deleted directory
	 * ("/x (deleted)"), one renamed meanwhile or one outside our root
	 * cannot be named, so a relative open from it is refused. */
	if (buf[0] != '/' || stat(buf, &named) < 0 ||
	    named.st_dev != via.st_dev || named.st_ino != via.st_ino)
		return -ENOENT;
	return (int)n;
}

int notify_join(const char *base, const char *rel, char *out)
{
	size_t bl = strlen(base), rl = strlen(rel);
	bool slash = bl > 0 && base[bl - 1] == '/';

	if (bl + !slash + rl + 1 > PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, base, bl); // NOLINT(bugprone-not-null-terminated-result): rel's NUL ends it below
	if (!slash)
		out[bl++] = '/';
	memcpy(out + bl, rel, rl + 1);
	return (int)(bl + rl);
}

int notify_proc_creds(pid_t pid, struct notify_creds *c)
{
	char file[64], line[256];
	FILE *f;
	int have = 0;

	snprintf(file, sizeof(file), "/proc/%d/status", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned a, b, cc, d;

		/* Kernel-written lines; a field that does not convert leaves
		 * `have` short and the whole call fails. */
		if (sscanf(line, "Umask: %o", &a) == 1) { // NOLINT(cert-err34-c)
			c->umask = a & 0777;
			have |= 1;
		} else if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &cc, &d) == 4) { // NOLINT(cert-err34-c)
			c->fsuid = d;
			have |= 2;
		} else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &cc, &d) == 4) { // NOLINT(cert-err34-c)
			c->fsgid = d;
			have |= 4;
		}
	}
	fclose(f);
	return have == 7 ? 0 : -ESRCH;
}
