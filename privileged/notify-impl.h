/* Private to privileged/notify*.c. */
#ifndef SBX_NOTIFY_IMPL_H
#define SBX_NOTIFY_IMPL_H

#include <linux/openat2.h>

#ifndef OPEN_HOW_SIZE_VER0
#define OPEN_HOW_SIZE_VER0 24 /* first published struct open_how */
#endif
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "notify.h"

/* Copy the NUL-terminated string at addr in pid into buf (PATH_MAX bytes),
 * in reads that never cross a page, so an unreadable page gives -EFAULT
 * exactly where the kernel's copy would fault. Returns its length, or
 * -EFAULT, -ENAMETOOLONG (no NUL within PATH_MAX bytes), -ESRCH (gone),
 * -ENOMEM. */
int notify_read_path(pid_t pid, uint64_t addr, char *buf);

/* Read openat2's struct open_how of size bytes at addr, by the kernel's
 * rules for extensible structs: < OPEN_HOW_SIZE_VER0 -EINVAL, > page size
 * -E2BIG, a larger struct must be zero beyond ours (else -E2BIG).
 * Returns 0 or -errno (-EFAULT, -ESRCH as above). */
int notify_read_how(pid_t pid, uint64_t addr, uint64_t size, struct open_how *how);

/* The absolute name of the worker's cwd (dirfd AT_FDCWD) or of its dirfd,
 * checked to be a directory that the name still leads to. Returns the
 * length, or -EBADF (no such fd), -ENOTDIR, -ENOENT (deleted, renamed,
 * unreachable), -ESRCH (gone), -ENAMETOOLONG. */
int notify_base_dir(pid_t pid, int dirfd, char *buf, size_t len);

/* base + "/" + rel into out (PATH_MAX bytes). Returns the length or
 * -ENAMETOOLONG. */
int notify_join(const char *base, const char *rel, char *out);

struct notify_creds {
	unsigned umask;
	uid_t fsuid;
	gid_t fsgid;
};
/* The worker's umask and filesystem ids, from /proc/<pid>/status.
 * Returns 0, -ESRCH, or -errno of fopen. */
int notify_proc_creds(pid_t pid, struct notify_creds *c);

#endif
