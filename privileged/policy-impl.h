/* Private to privileged/policy*.c: the layout of struct sbx_policy and the
 * helpers its files share. Nobody else includes this (use policy-internal.h). */
#ifndef SBX_POLICY_IMPL_H
#define SBX_POLICY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "policy-internal.h"

#define POLICY_NAME_MAX 64
#define POLICY_PERMS_ALL                                                      \
	(SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE | SBX_PERM_DIR |    \
	 SBX_PERM_EXEC | SBX_PERM_DEV)
/* Addresses kept per connect target (a hostname may resolve to several). */
#define POLICY_CONNECT_ADDRS 4

struct policy_rule {
	char *path;      /* absolute, normalised, no trailing slash but "/" */
	size_t len;
	int root_fd;     /* O_PATH | O_CLOEXEC, opened when the rule was added */
	unsigned perms;
	bool is_dir;     /* the root is a directory (else a single object) */
	dev_t root_dev;  /* st_dev of the root: a probe elsewhere crossed a mount */
	bool nodev;      /* the root's mount had nodev when the rule was added:
			  * no device can be opened on it (policy-open.c) */
};

struct policy_fd {
	char name[POLICY_NAME_MAX + 1];
	int fd;          /* the policy's own copy, close-on-exec */
	unsigned line;   /* line in the file that added it, 0 from the API */
};

struct policy_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct policy_connect {
	char name[POLICY_NAME_MAX + 1];
	struct policy_addr addr[POLICY_CONNECT_ADDRS];
	unsigned naddr;
	unsigned line;
};

struct policy_syscall {
	char name[POLICY_NAME_MAX + 1];
	bool allow;
	unsigned line;
};

struct sbx_policy {
	struct policy_rule *rules;
	size_t nrules, crules;
	struct policy_fd *fds;
	size_t nfds, cfds;
	struct policy_connect *conns;
	size_t nconns, cconns;
	struct policy_syscall *sys;
	size_t nsys, csys;
	unsigned long limit[2];
	bool limit_set[2];
	int proc_fd_dir;  /* O_PATH of /proc/self/fd for reopening probes, or -1 */
	pid_t proc_pid;   /* whose /proc/self/fd that is */
};

/* Make room for `more` elements beyond *n in *arr (capacity *cap). 0 or -ENOMEM;
 * the array is untouched on failure. */
int policy_reserve(void **arr, size_t *cap, size_t n, size_t more, size_t elem);

/* True for [A-Za-z0-9_.-]{1,64}. */
bool policy_name_valid(const char *name);

/* Lexically normalise an absolute path into out (PATH_MAX bytes): collapse
 * "//", drop "." components, drop the trailing slash (except for "/").
 * *trailing (may be NULL) tells whether the input ended in a slash after a
 * component. ".." components are kept when allow_dotdot, else -EINVAL.
 * Returns the length, or -EINVAL (not absolute, ".."), -ENOENT (empty),
 * -ENAMETOOLONG (PATH_MAX bytes or more). */
/* fd is on procfs, sysfs, cgroupfs, debugfs or another kernel pseudo-fs
 * (or fstatfs failed): never brokered (policy-kernelfs.c). */
bool policy_is_kernel_fs(int fd);
/* A rule's root: 0 with *nodev (its mount has MS_NODEV), or -EPERM when it
 * is on a kernel pseudo-fs or fstatfs fails. */
int policy_root_check(int fd, bool *nodev);

int policy_normalise(const char *in, char *out, bool allow_dotdot, bool *trailing);

/* Lookups by name; NULL when absent. */
const struct policy_fd *policy_find_fd(const struct sbx_policy *p, const char *name);
const struct policy_connect *policy_find_connect(const struct sbx_policy *p,
						 const char *name);
const struct policy_syscall *policy_find_syscall(const struct sbx_policy *p,
						 const char *name);

/* Parse "tcp:HOST:PORT" or "unix:PATH" into c->addr (name and line untouched).
 * 0, -EINVAL (syntax), -ENOENT (host does not resolve), -ENOMEM. */
int policy_parse_connect(const char *addr, struct policy_connect *c);

/* The longest rule matching path (normalised) on a component boundary, or
 * NULL. *rest points into path at what remains ("" when path is the rule). */
const struct policy_rule *policy_match(const struct sbx_policy *p, const char *path,
				       const char **rest);

/* openat(root, path, flags, mode) confined like openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (policy-resolve.c): the kernel's
 * when it has openat2, else a user-space walk with the same rules. fd or
 * -errno (EXDEV for an escape, ELOOP for a magic link or a loop, EAGAIN for
 * a race the caller should retry). */
int policy_openat_beneath(int root, const char *path, int flags, mode_t mode);
/* The same without O_CREAT, and never leaving root's mount
 * (RESOLVE_NO_XDEV): fd, -errno (EXDEV for an escape or a mount crossing),
 * or -ENOSYS when openat2 is missing (no user-space walk here). */
int policy_openat_same_mount(int root, const char *path, int flags);
/* An O_PATH | O_CLOEXEC fd of path if the kernel resolves it without
 * meeting a symlink (RESOLVE_NO_SYMLINKS); -ELOOP when it meets one,
 * -ENOSYS without openat2, or another -errno. */
int policy_open_symlink_free(const char *path);
/* Tests: use the user-space walk even when openat2 exists (or stop). */
void policy_force_fallback(bool on);

/* Add a syscall line (used by the file parser). 0, -EINVAL, -EEXIST, -ENOMEM. */
int policy_add_syscall(struct sbx_policy *p, const char *name, bool allow, unsigned line);

#endif
