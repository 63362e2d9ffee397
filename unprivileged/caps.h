/* Internal: dropping identity and capabilities with libcap-ng. */
#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Drop every capability: effective, permitted, inheritable, bounding and
 * ambient. With change_id, also switch to uid/gid (real, effective, saved)
 * with the supplementary groups dropped (needs CAP_SETUID/SETGID: root).
 * Without change_id and without CAP_SETPCAP the bounding set cannot be
 * cleared: what can be dropped is dropped and 0 is returned (the caller
 * sets no_new_privs anyway). Uses libcap-ng, which allocates and reads
 * /proc: not async-signal-safe, but usable in a forked child of a
 * single-threaded parent.
 * Returns 0, or -EINVAL (change_id with uid or gid -1), -EPERM (the id
 * change or the drop was refused), or another -errno.
 */
int sbx_caps_drop(uid_t uid, gid_t gid, bool change_id);

/*
 * Check /proc/self/status: returns 1 when CapInh, CapPrm, CapEff, CapBnd and
 * CapAmb are all zero, 0 when some set is not, or -errno (cannot read it).
 * bnd_too false ignores CapBnd (an unprivileged caller cannot clear it).
 */
int sbx_caps_all_clear(bool bnd_too);

#endif
