/* sbx: what the privileged side may grant. (Owned by the policy work; the
 * declarations below are the contract the broker, spawn and notify code use.) */
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
	SBX_PERM_CREATE = 1u << 2,  /* O_CREAT (new files under the rule) */
	SBX_PERM_DIR = 1u << 3,     /* open directories (list them, use as dirfd) */
	SBX_PERM_EXEC = 1u << 4,    /* execute (Landlock) / O_RDONLY for exec */
	SBX_PERM_DEV = 1u << 5,     /* FIFOs, sockets and devices reached by path */
};

/* Limits a policy puts on each child. */
enum sbx_limit {
	SBX_LIMIT_REQUEST_BYTES,    /* largest request payload accepted */
	SBX_LIMIT_IN_FLIGHT,        /* requests queued per child before it is dropped */
};

int sbx_policy_new(struct sbx_policy **ret);
struct sbx_policy *sbx_policy_free(struct sbx_policy *p);

/* Grant path (absolute) and everything beneath it with perms; the rule keeps
 * an O_PATH fd of the path, opened now. */
int sbx_policy_add_path(struct sbx_policy *p, const char *path, unsigned perms);
/* A named preopened fd; fd is borrowed (the policy keeps its own dup). */
int sbx_policy_add_fd(struct sbx_policy *p, const char *name, int fd);
/* A named connect target: "tcp:HOST:PORT" or "unix:PATH". */
int sbx_policy_add_connect(struct sbx_policy *p, const char *name, const char *addr);
int sbx_policy_set_limit(struct sbx_policy *p, enum sbx_limit which, unsigned long value);

/* Load rules from a text file (format in the README). On failure *errbuf
 * names the file, the line and the reason; the policy is unchanged. */
int sbx_policy_load_file(struct sbx_policy *p, const char *file, char *errbuf, size_t errlen);

/* The decisions. Each returns a new close-on-exec fd the caller owns, or -errno. */
int sbx_policy_open(const struct sbx_policy *p, const char *path, int flags, mode_t mode);
int sbx_policy_get(const struct sbx_policy *p, const char *name);
int sbx_policy_connect(const struct sbx_policy *p, const char *name);

#ifdef __cplusplus
}
#endif
#endif
