/* Internal: what spawn, notify, the broker and sandbox-run read out of a
 * policy. Not part of libsbx's ABI. */
#ifndef SBX_POLICY_INTERNAL_H
#define SBX_POLICY_INTERNAL_H

#include <stdbool.h>

#include <sbx/policy.h>

/* Call cb for every path rule, in the order they were added; a grant whose
 * path was a symlink is visited twice: once as given, once as its resolved
 * target (same perms). path is absolute and normalised, root_fd the rule's
 * O_PATH fd (borrowed: valid as long as the policy). Stops at the first cb
 * that returns nonzero and returns that value; 0 when all were visited. */
int policy_foreach_path(const struct sbx_policy *p,
			int (*cb)(const char *path, int root_fd, unsigned perms, void *ud),
			void *ud);

/* A grant of path (absolute, normalised) with perms would add nothing: the
 * rule that decides path now (the longest at or above it) has every perm
 * of it, and path resolves beneath that rule's root as a request would
 * (so a symlink leaving the rule is not covered). Requests under path are
 * then decided by that rule's perms, a superset of perms. */
bool policy_covers(const struct sbx_policy *p, const char *path, unsigned perms);

/* Call cb for every named fd (in the order added); fd is the policy's own
 * copy (borrowed, close-on-exec: dup it to pass it on). Same stop rule. */
int policy_foreach_fd(const struct sbx_policy *p,
		      int (*cb)(const char *name, int fd, void *ud), void *ud);

/* Call cb for every `allow-syscall NAME` (allow true) and `deny-syscall NAME`
 * (allow false) line of loaded policy files, in file order. The names are not
 * checked against the syscall table here (that is seccomp's business). Same
 * stop rule. */
int policy_foreach_syscall(const struct sbx_policy *p,
			   int (*cb)(const char *name, bool allow, void *ud), void *ud);

/* Number of connect targets (spawn/sandbox-run may use it to decide whether a
 * child needs the connect request at all). */
unsigned policy_connect_count(const struct sbx_policy *p);

/* The value of a limit (the default when never set); 0 for an unknown which. */
unsigned long policy_limit(const struct sbx_policy *p, enum sbx_limit which);

/* Defaults of the limits. */
#define POLICY_DEFAULT_REQUEST_BYTES (4096ul + 256ul)
#define POLICY_DEFAULT_IN_FLIGHT 8ul
/* Upper bound of SBX_LIMIT_IN_FLIGHT. */
#define POLICY_MAX_IN_FLIGHT 1024ul

#endif
