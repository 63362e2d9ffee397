/* sbx: self-confinement for a privsep worker ("initialise, then pledge"). */
#ifndef SBX_CONFINE_H
#define SBX_CONFINE_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* opts->flags */
#define SBX_CONFINE_SETID        (1u << 0)  /* switch to opts->uid/gid (as root) */
#define SBX_CONFINE_LANDLOCK     (1u << 1)  /* deny all filesystem access (best effort) */
#define SBX_CONFINE_LANDLOCK_REQUIRE (1u << 2) /* ... and fail if Landlock is absent */

/* opts->action: what a refused syscall gets */
#define SBX_CONFINE_ACT_ERRNO    0          /* EPERM */
#define SBX_CONFINE_ACT_KILL     1          /* the process is killed (SIGSYS) */

/*
 * Zero-initialise, then set what you need. Unknown flags are refused.
 * chan_fd: the channel to the privileged parent; recvmsg(2) is allowed on it
 * only with MSG_CMSG_CLOEXEC, sendmsg(2)/read/write too. -1: no channel.
 * allow: extra syscalls (names as in <sys/syscall.h> without SYS_), e.g.
 * "pipe2", "epoll_wait"; nallow entries.
 */
struct sbx_confine_opts {
	unsigned flags;
	uid_t uid;
	gid_t gid;
	int chan_fd;
	int action;
	const char *const *allow;
	size_t nallow;
	char *errbuf;               /* optional: a human reason on failure */
	size_t errlen;
};

/*
 * Confine the calling process for good, in this order: (1) build the strict
 * seccomp filter (and the Landlock ruleset when asked), (2) uid/gid change
 * with supplementary groups dropped (SBX_CONFINE_SETID), (3) all
 * capabilities dropped (bounding and ambient included), (4)
 * PR_SET_NO_NEW_PRIVS, (5) Landlock (empty ruleset: every filesystem right
 * handled, none granted), (6) the seccomp filter, last. Call it from a
 * single-threaded process (the filter applies to the calling thread only).
 * fds: chan_fd is borrowed; nothing is opened or closed.
 * Returns 0, or -EINVAL (bad opts or unknown syscall name: errbuf names it),
 * -EPERM (id change or drop refused), -ENOSYS/-EOPNOTSUPP (Landlock absent
 * with SBX_CONFINE_LANDLOCK_REQUIRE, or no seccomp), or another -errno.
 * A failure in steps 1 leaves the process unchanged; a failure in steps 2-6
 * leaves it partly confined: the caller must exit.
 */
int sbx_confine(const struct sbx_confine_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
