/* sbx: what the privileged side may grant. (Owned by the policy work; the
 * declarations below are the contract the broker, spawn and notify code use.)
 * Full reference: doc/policy.md. */
#ifndef SBX_POLICY_H
#define SBX_POLICY_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_policy;

/* Permissions of a path rule (bit set). */
enum {
	SBX_PERM_READ = 1u << 0,    /* open for reading */
	SBX_PERM_WRITE = 1u << 1,   /* open for writing, O_TRUNC, O_APPEND */
	SBX_PERM_CREATE = 1u << 2,  /* O_CREAT, O_TMPFILE (new files under the rule) */
	SBX_PERM_DIR = 1u << 3,     /* open directories (list them, use as dirfd) */
	SBX_PERM_EXEC = 1u << 4,    /* execute (Landlock); O_RDONLY of regular files */
	SBX_PERM_DEV = 1u << 5,     /* FIFOs, sockets and devices reached by path */
};

/* Limits a policy puts on each child. */
enum sbx_limit {
	SBX_LIMIT_REQUEST_BYTES,    /* largest request payload accepted (1..SBX_MSG_MAX, default 4352) */
	SBX_LIMIT_IN_FLIGHT,        /* requests queued per child before it is dropped (1..1024, default 8) */
};

/* A new, empty policy (no rule grants anything). Returns 0 and sets *ret;
 * -EINVAL (ret NULL), -ENOMEM. */
int sbx_policy_new(struct sbx_policy **ret);
/* Closes every fd the policy holds and frees it. NULL-safe; returns NULL. */
struct sbx_policy *sbx_policy_free(struct sbx_policy *p);

/* Grant path (absolute; "//" and "." normalised, ".." refused) and everything
 * beneath it with perms (SBX_PERM_*); the rule keeps an O_PATH fd of the path,
 * opened now. A path that is or goes through a symlink is resolved now and its
 * target granted too. Adding a path again adds the perms.
 * Returns 0; -EINVAL (relative, "..", no or unknown perms), -ENOENT (empty or
 * missing), -ENAMETOOLONG, -ENOMEM, or the -errno of realpath/open. */
int sbx_policy_add_path(struct sbx_policy *p, const char *path, unsigned perms);
/* A named preopened fd; fd is borrowed (the policy keeps its own
 * close-on-exec dup). Names: [A-Za-z0-9_.-], 1 to 64 bytes.
 * Returns 0; -EINVAL (bad name, fd < 0), -EEXIST (name taken), -EBADF,
 * -EMFILE, -ENOMEM. */
int sbx_policy_add_fd(struct sbx_policy *p, const char *name, int fd);
/* A named connect target: "tcp:HOST:PORT" (IPv4, [IPv6] or a host name,
 * resolved now) or "unix:PATH" (absolute, or "@name" for the abstract space).
 * Returns 0; -EINVAL (bad name or address), -EEXIST (name taken), -ENOENT
 * (host does not resolve), -ENOMEM. */
int sbx_policy_add_connect(struct sbx_policy *p, const char *name, const char *addr);
/* Set a limit. Returns 0; -EINVAL (unknown limit, value out of range). */
int sbx_policy_set_limit(struct sbx_policy *p, enum sbx_limit which, unsigned long value);

/* Load rules from a text file (format in doc/policy.md). On failure errbuf
 * (may be NULL) holds "FILE:LINE: reason" or "FILE: reason", the policy is
 * unchanged and nothing is leaked. Returns 0; -EINVAL (a bad line), -EEXIST
 * (a duplicate name), the -errno of opening a path named in the file or the
 * file itself, -EFBIG (over 1 MiB), -ENOMEM. */
int sbx_policy_load_file(struct sbx_policy *p, const char *file, char *errbuf, size_t errlen);

/* The decisions. Each returns a new close-on-exec fd the caller owns, or -errno.
 * open: path absolute, resolved beneath the longest matching rule only; never
 * blocks on a FIFO or device. -EINVAL (relative path, unknown flag bits, bad
 * access mode or mode), -ENOENT (empty or missing), -ENAMETOOLONG (PATH_MAX
 * bytes or more), -EACCES (no rule, perms missing, O_PATH, an escape from
 * the rule's tree), -ELOOP (O_NOFOLLOW on a symlink, a magic link, a loop),
 * -ENOTDIR, -EEXIST, -ENXIO, or another -errno of the open itself.
 * get: a new dup of the named fd; -EINVAL (bad name), -ENOENT (unknown).
 * connect: a connected blocking stream socket; -EINVAL, -ENOENT (unknown
 * name), -ETIMEDOUT (no TCP handshake within 3 s), or connect's -errno. */
int sbx_policy_open(const struct sbx_policy *p, const char *path, int flags, mode_t mode);
int sbx_policy_get(const struct sbx_policy *p, const char *name);
int sbx_policy_connect(const struct sbx_policy *p, const char *name);

#ifdef __cplusplus
}
#endif
#endif
