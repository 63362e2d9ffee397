/* Internal to spawn*.c: what the parent prepares for the child. */
#ifndef SBX_SPAWN_IMPL_H
#define SBX_SPAWN_IMPL_H

#include "privileged/spawn.h"

/* Messages on the status socket (sbx_msg type; id carries the errno). */
enum {
	SPAWN_MSG_HELLO = 1000,     /* child alive after PDEATHSIG (parent check) */
	SPAWN_MSG_LISTENER,         /* carries the seccomp listener fd */
	SPAWN_MSG_MAPS,             /* child: write my uid/gid maps, please */
	SPAWN_MSG_MAPPED,           /* parent: done, id = errno or 0 */
	/* types 1..SPAWN_STEP_MAX-1: that step failed with errno id */
};

struct spawn_prep {
	const struct sbx_spawn_desc *d;
	char **envp;                /* malloc'ed array: base env (the caller's
	                             * strings) + ours (malloc'ed) */
	size_t env_own;             /* envp[env_own..] are ours to free */
	char *listen_pid;           /* digits buffer inside envp's LISTEN_PID entry */
	size_t listen_pid_len;      /* room in listen_pid, NUL included */
	int status_fd;              /* child's end of the status socket */
	int parent_status_fd;       /* parent's end: the child closes it */
	int landlock_fd;            /* child: where step_fds moved the ruleset */
	pid_t parent_pid;
	bool pidns;                 /* getppid() is 0 in the child */
	bool clone_ns;              /* namespaces came with clone3 (else unshare) */
	unsigned long unshare_flags;
	bool parent_maps;           /* root: the parent writes the maps (a process
	                             * inside the namespace may map only itself) */
	char uid_map[64];           /* "inside outside count\n", empty: none */
	char gid_map[64];
};

/* The child: runs the steps and execs; never returns. */
__attribute__((noreturn)) void spawn_child(struct spawn_prep *p);

#endif
