/* Internal: fork a confined worker in the DESIGN.md order. Not part of
 * libsbx's ABI (sandbox-run and the tests use it).
 *
 * Everything the child needs is prepared by the caller and by spawn_prepare()
 * in the parent: after the clone the child only makes async-signal-safe
 * calls (no malloc, no stdio, no locks), so a multi-threaded caller is fine.
 *
 * Order in the child, each step checked; the first failure is sent to the
 * parent on a close-on-exec SOCK_SEQPACKET status socket as (step, errno) and
 * the child exits 125:
 *   1. setsid, PR_SET_PDEATHSIG(SIGKILL), recheck the parent;
 *   2. fds: d->fds[] at 3.., then the channel; LISTEN_FDS/LISTEN_FDNAMES/
 *      LISTEN_PID/SBX_FD; everything else closed (close_range, or a loop up
 *      to RLIMIT_NOFILE when close_range is missing);
 *   3. namespaces: created by clone3() flags in the parent's call (one call:
 *      the user namespace comes first in the kernel, so an unprivileged
 *      caller gets net/ipc/uts/pid/mount owned by it); an ordinary caller's
 *      child writes its own uid/gid maps, root's are written by the parent
 *      (identity map); with SPAWN_NS_PID the worker is pid 1 of the new
 *      namespace (no extra init process: see doc/spawn.md for what that
 *      means for signals);
 *   4. rlimits; chdir;
 *   5. capabilities with raw syscalls (uid/gid change, groups dropped,
 *      bounding/ambient cleared, sets emptied), then PR_SET_NO_NEW_PRIVS (it only acts at execve, and an
 *      unprivileged Landlock needs it first);
 *   6. Landlock (a ruleset built by the parent: d->landlock_fd is kept
 *      across the fd layout, moved above the placed fds);
 *   7. seccomp last (a program compiled by the parent; its listener fd, if
 *      any, is passed back over the status socket);
 *   8. execve of d->path (already resolved by the parent: no PATH search in
 *      the child).
 */
#ifndef SBX_SPAWN_H
#define SBX_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

struct sbx_bpf;

/* Namespaces (bit set). */
enum {
	SPAWN_NS_USER = 1u << 0,
	SPAWN_NS_NET = 1u << 1,
	SPAWN_NS_IPC = 1u << 2,
	SPAWN_NS_UTS = 1u << 3,
	SPAWN_NS_PID = 1u << 4,
	SPAWN_NS_MOUNT = 1u << 5,
	SPAWN_NS_ALL = (1u << 6) - 1,
};

/* Steps, as reported on failure (spawn_step_name() gives the text). */
enum spawn_step {
	SPAWN_STEP_NONE = 0,
	SPAWN_STEP_CLONE,
	SPAWN_STEP_SETSID,
	SPAWN_STEP_PDEATHSIG,
	SPAWN_STEP_PARENT,
	SPAWN_STEP_FDS,
	SPAWN_STEP_USERNS,
	SPAWN_STEP_RLIMIT,
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_CAPS,
	SPAWN_STEP_NO_NEW_PRIVS,
	SPAWN_STEP_LANDLOCK,
	SPAWN_STEP_SECCOMP,
	SPAWN_STEP_EXEC,
	SPAWN_STEP_MAX,
};

/* One named fd to hand over (borrowed: the caller closes it after spawn). */
struct spawn_fd {
	const char *name;       /* no ':' (LISTEN_FDNAMES separator) */
	int fd;
};

struct spawn_rlimit {
	int resource;           /* RLIMIT_* */
	struct rlimit lim;
};

struct sbx_spawn_desc {
	const char *path;                 /* executable, resolved (contains '/') */
	char *const *argv;                /* argv[0] included, NULL-terminated */
	char *const *envp;                /* base environment; LISTEN_* and SBX_FD
	                                   * entries in it are dropped and replaced */
	const struct spawn_fd *fds;       /* placed at 3, 4, ... */
	size_t nfds;
	int chan_fd;                      /* worker's end of the broker channel, placed
	                                   * at 3 + nfds (SBX_FD); -1 for none; borrowed */
	unsigned ns;                      /* SPAWN_NS_* */
	const struct spawn_rlimit *rlimits;
	size_t nrlimits;
	const char *chdir;                /* NULL: stay */
	bool change_id;                   /* setresgid/setresuid to gid/uid */
	uid_t uid;
	gid_t gid;
	bool keep_caps;                   /* skip the capability step */
	int landlock_fd;                  /* built Landlock ruleset fd (borrowed), -1 none;
	                                   * restricted with a raw landlock_restrict_self
	                                   * after the fd layout moved it */
	const struct sbx_bpf *filter;     /* compiled seccomp program, or NULL */
};

struct sbx_spawned {
	pid_t pid;              /* the worker, as seen from the parent */
	int pidfd;              /* close-on-exec pidfd of the worker (caller closes);
	                         * -1 on a kernel without clone3 and pidfd_open */
	int listener;           /* seccomp notify listener, or -1 (caller closes) */
};

/* Failure details of sbx_spawn(). */
struct spawn_error {
	enum spawn_step step;   /* SPAWN_STEP_NONE when it failed in the parent */
	int err;                /* positive errno */
};

/*
 * Start the worker described by d. On success fills *ret and returns 0 once
 * the child has exec'd (the status socket closed on exec). On failure the
 * child (if any) has been reaped, *err says which step failed with which
 * errno, and -errno is returned: -EINVAL (bad description), -ENOMEM,
 * the errno of the failed step. The caller's fd table is unchanged apart
 * from ret->pidfd / ret->listener on success.
 */
int sbx_spawn(const struct sbx_spawn_desc *d, struct sbx_spawned *ret,
	      struct spawn_error *err);

/* Text of a step for messages ("setsid", "landlock", "execve", ...). */
const char *spawn_step_name(enum spawn_step s);

/*
 * Search PATH (from the given value, or the confstr default when NULL) for
 * an executable named file, like execvpe(3) but in the parent. A name with
 * a '/' is returned as is. Returns a malloc'ed path, or NULL with errno set
 * (ENOENT not found, EACCES found but not executable, ENOMEM).
 */
char *spawn_find_program(const char *file, const char *path);

/* Exit status sandbox-run uses for an exec errno: 127 ENOENT/ENOTDIR, else 126. */
int spawn_exec_status(int err);

/* What the running kernel offers. */
struct spawn_features {
	bool close_range;       /* SPAWN_PROBE_INFO only */
	bool clone3;            /* SPAWN_PROBE_INFO only */
	bool openat2;           /* SPAWN_PROBE_INFO only */
	bool userns;            /* unprivileged user namespaces allowed (SPAWN_PROBE_USERNS) */
	bool seccomp_notify;
	int landlock_abi;       /* 0 when unavailable */
};
/* What to probe besides seccomp notify and Landlock (always: every start
 * needs them). The others cost syscalls and two /proc reads on every start,
 * so only when asked for: USERNS when an unprivileged caller wants
 * namespaces, INFO for -v. What is not probed is false. */
enum {
	SPAWN_PROBE_USERNS = 1 << 0,
	SPAWN_PROBE_INFO = 1 << 1,
};
void spawn_probe(struct spawn_features *f, unsigned what);

#endif
