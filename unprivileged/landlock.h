/* Internal: Landlock rulesets, best effort by the ABI the kernel reports. */
#ifndef SBX_LANDLOCK_H
#define SBX_LANDLOCK_H

#include <stddef.h>
#include <stdint.h>

struct sbx_landlock;

/*
 * The Landlock ABI version of the running kernel (1..), or -ENOSYS (no
 * landlock syscalls, or denied by a filter with ENOSYS), -EOPNOTSUPP
 * (built in but disabled at boot), or another -errno.
 */
int sbx_landlock_abi(void);

/*
 * Start a ruleset that handles every filesystem right known to ABI abi
 * (0: detect with sbx_landlock_abi(); a larger abi than ours is clamped to
 * the newest we know, 7). Not async-signal-safe (allocates): build before
 * fork. Everything handled and not granted by sbx_landlock_add() is denied
 * once restricted. *ret set on success only.
 * Returns 0, or -ENOSYS/-EOPNOTSUPP (no Landlock), -EINVAL (abi < 0),
 * -ENOMEM, -EMFILE, or another -errno from landlock_create_ruleset(2).
 */
int sbx_landlock_new(int abi, struct sbx_landlock **ret);

/*
 * Grant perms (SBX_PERM_* of sbx/policy.h) beneath path_fd (borrowed, an
 * O_PATH fd is enough). On a non-directory only the file rights apply.
 * The mapping is in doc/confine.md. perms 0 adds nothing and returns 0.
 * Returns 0, or -EINVAL (unknown perm bits, NULL l), -EBADF, or another
 * -errno from landlock_add_rule(2).
 */
int sbx_landlock_add(struct sbx_landlock *l, int path_fd, unsigned perms);

/*
 * The rights sbx_landlock_add() grants for perms beneath a directory (the
 * LANDLOCK_ACCESS_FS_* bits this ruleset handles; a file gets a subset):
 * to tell whether one rule adds anything to another. 0 for NULL l or
 * unknown perm bits.
 */
uint64_t sbx_landlock_rights(const struct sbx_landlock *l, unsigned perms);

/*
 * Enforce the ruleset on the calling thread (and its future children):
 * sets PR_SET_NO_NEW_PRIVS first (Landlock needs it without CAP_SYS_ADMIN).
 * Async-signal-safe (prctl + one syscall): for a forked child.
 * Returns 0, or -EINVAL (NULL l), or -errno from prctl(2) or
 * landlock_restrict_self(2).
 */
int sbx_landlock_restrict(struct sbx_landlock *l);

/* The ruleset fd (close-on-exec, still owned by l), for a spawner that
 * moves fds around before restricting: see sbx_landlock_restrict_fd().
 * Returns the fd, or -EINVAL for NULL. */
int sbx_landlock_fd(const struct sbx_landlock *l);

/*
 * sbx_landlock_restrict() on a ruleset fd (a dup of sbx_landlock_fd(),
 * borrowed): PR_SET_NO_NEW_PRIVS, then landlock_restrict_self(2).
 * Async-signal-safe. Returns 0, or -errno from prctl(2) or
 * landlock_restrict_self(2) (-EBADF, -EBADFD not a ruleset, -EPERM).
 */
int sbx_landlock_restrict_fd(int ruleset_fd);

/* landlock_restrict_self(2) alone, for a caller that has just set
 * PR_SET_NO_NEW_PRIVS itself (spawn's child). Async-signal-safe. Returns 0
 * or its -errno. */
int sbx_landlock_enforce_fd(int ruleset_fd);

/* ABI the ruleset was built for, and the filesystem rights it handles
 * (LANDLOCK_ACCESS_FS_* bits). */
int sbx_landlock_get_abi(const struct sbx_landlock *l);
uint64_t sbx_landlock_handled(const struct sbx_landlock *l);

/*
 * Describe the ruleset for users ("landlock ABI 7: handles execute,
 * write_file, ...; 3 rules") into buf (always NUL-terminated when len > 0).
 * Returns the length it wanted (like snprintf), or -EINVAL.
 */
int sbx_landlock_describe(const struct sbx_landlock *l, char *buf, size_t len);

/* Close the ruleset fd and free. NULL-safe, returns NULL. */
struct sbx_landlock *sbx_landlock_free(struct sbx_landlock *l);

#endif
