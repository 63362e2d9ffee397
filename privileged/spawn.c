/* sbx_spawn: the parent side. Prepares everything the child needs (no
 * allocation after the clone), clones with the namespace flags, and reads
 * the status socket until the exec closes it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "privileged/spawn-impl.h"

static const char *const env_ours[] = { "LISTEN_FDS=", "LISTEN_FDNAMES=", "LISTEN_PID=", "SBX_FD=" };

static bool env_is_ours(const char *e)
{
	for (size_t i = 0; i < sizeof(env_ours) / sizeof(env_ours[0]); i++)
		if (!strncmp(e, env_ours[i], strlen(env_ours[i])))
			return true;
	return false;
}

/* envp[0..own) are the caller's strings (borrowed), envp[own..] ours. */
static void free_env(char **envp, size_t own)
{
	if (!envp)
		return;
	for (char **e = envp + own; *e; e++)
		free(*e);
	free(envp);
}

/* Base environment minus ours, plus LISTEN_* and SBX_FD. The base strings
 * are the caller's, only pointed to (they outlive the spawn: the child
 * execs before sbx_spawn returns); LISTEN_PID gets a placeholder of our
 * own that the child overwrites with its pid. */
static int build_env(struct spawn_prep *p)
{
	const struct sbx_spawn_desc *d = p->d;
	size_t nbase = 0, n = 0, names = 0;
	char **envp;
	char *s;

	for (char *const *e = d->envp; e && *e; e++)
		nbase++;
	envp = calloc(nbase + 5, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (char *const *e = d->envp; e && *e; e++)
		if (!env_is_ours(*e))
			envp[n++] = *e;
	p->env_own = n;
	if (d->nfds) {
		for (size_t i = 0; i < d->nfds; i++)
			names += strlen(d->fds[i].name) + 1;
		if (asprintf(&envp[n++], "LISTEN_FDS=%zu", d->nfds) < 0)
			goto nomem_unset;
		s = malloc(strlen("LISTEN_FDNAMES=") + names + 1);
		if (!(envp[n++] = s))
			goto nomem;
		s = stpcpy(s, "LISTEN_FDNAMES=");
		for (size_t i = 0; i < d->nfds; i++) {
			if (i)
				*s++ = ':';
			s = stpcpy(s, d->fds[i].name);
		}
		if (!(envp[n] = strdup("LISTEN_PID=0000000000000000000000")))
			goto nomem;
		p->listen_pid = envp[n] + strlen("LISTEN_PID=");
		p->listen_pid_len = strlen(p->listen_pid) + 1;
		n++;
	}
	if (d->chan_fd >= 0 && asprintf(&envp[n++], "SBX_FD=%zu", 3 + d->nfds) < 0)
		goto nomem_unset;
	p->envp = envp;
	return 0;
nomem_unset:
	envp[n - 1] = NULL;
nomem:
	free_env(envp, p->env_own);
	return -ENOMEM;
}

static unsigned long ns_flags(unsigned ns)
{
	unsigned long f = 0;

	if (ns & SPAWN_NS_USER)
		f |= CLONE_NEWUSER;
	if (ns & SPAWN_NS_NET)
		f |= CLONE_NEWNET;
	if (ns & SPAWN_NS_IPC)
		f |= CLONE_NEWIPC;
	if (ns & SPAWN_NS_UTS)
		f |= CLONE_NEWUTS;
	if (ns & SPAWN_NS_PID)
		f |= CLONE_NEWPID;
	if (ns & SPAWN_NS_MOUNT)
		f |= CLONE_NEWNS;
	return f;
}

static int prepare(const struct sbx_spawn_desc *d, struct spawn_prep *p)
{
	int sv[2], r;

	memset(p, 0, sizeof(*p));
	p->d = d;
	p->status_fd = p->parent_status_fd = p->landlock_fd = -1;
	if (!d->path || !strchr(d->path, '/') || !d->argv || !d->argv[0] ||
	    (d->nfds && !d->fds) || (d->nrlimits && !d->rlimits) || d->nfds > (size_t)SBX_MAX_FDS * 4 ||
	    (d->ns & ~(unsigned)SPAWN_NS_ALL) || (d->landlock_fd >= 0 && d->landlock_fd < 3))
		return -EINVAL;
	for (size_t i = 0; i < d->nfds; i++)
		if (d->fds[i].fd < 0 || !d->fds[i].name || !d->fds[i].name[0] ||
		    strchr(d->fds[i].name, ':'))
			return -EINVAL;
	p->parent_pid = getpid();
	p->pidns = d->ns & SPAWN_NS_PID;
	p->unshare_flags = ns_flags(d->ns);
	if (d->ns & SPAWN_NS_USER) {
		/* Root maps everything as is (so --user still works inside);
		 * anyone else maps its own ids, the only map it may write. */
		if (geteuid() == 0) {
			p->parent_maps = true;
			strcpy(p->uid_map, "0 0 4294967295\n");
			strcpy(p->gid_map, "0 0 4294967295\n");
		} else {
			snprintf(p->uid_map, sizeof(p->uid_map), "%u %u 1\n", geteuid(), geteuid());
			snprintf(p->gid_map, sizeof(p->gid_map), "%u %u 1\n", getegid(), getegid());
		}
	}
	r = build_env(p);
	if (r < 0)
		return r;
	r = sbx_socketpair(sv);
	if (r < 0) {
		free_env(p->envp, p->env_own);
		return r;
	}
	p->parent_status_fd = sv[0];
	p->status_fd = sv[1];
	return 0;
}

static void unprepare(struct spawn_prep *p)
{
	free_env(p->envp, p->env_own);
	p->envp = NULL;
	if (p->status_fd >= 0)
		close(p->status_fd);
	if (p->parent_status_fd >= 0)
		close(p->parent_status_fd);
	p->status_fd = p->parent_status_fd = p->landlock_fd = -1;
}

/* clone3 with CLONE_PIDFD and the namespace flags; fork() + pidfd_open +
 * unshare in the child when clone3 is missing (then no pid namespace). */
/*
 * Without namespaces the child starts vfork-style, as posix_spawn does:
 * CLONE_VM | CLONE_VFORK on a stack of its own. No page tables to copy and
 * no copy-on-write faults in either process (~0.09 ms of a 1.9 ms start
 * here), and the parent sleeps until the child has exec'd or died, so it
 * never runs beside a child that shares its memory. What must stay true:
 *  - the child works on its own copy of the prep, so the parent's is as it
 *    left it; the only memory of the parent it writes is the LISTEN_PID
 *    digits in the prepared environment (and libc's errno);
 *  - every signal is blocked across the clone: no handler of the parent may
 *    run in the child before reset_signals() sets them to SIG_DFL (which it
 *    does before it unblocks them, as before);
 *  - the child itself is unchanged: async-signal-safe, no allocation.
 * Namespaces keep clone3: root's user-namespace maps are written by the
 * parent while the child waits for them, which a sleeping parent cannot do.
 * Returns the pid, or -1 with errno; *fallback is set when this way is not
 * available (clone refused it: valgrind, no CLONE_PIDFD) and nothing ran.
 */
#define VFORK_STACK ((size_t)256 * 1024)

/* AddressSanitizer cannot follow a child on a stack it did not allocate
 * (its no-return handling and stale shadow of a reused mapping report
 * false errors): sanitized builds use the clone3 path only. */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_VFORK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_VFORK 0
#endif
#endif
#ifndef SPAWN_VFORK
#define SPAWN_VFORK 1
#endif

static int vfork_child(void *arg)
{
	struct spawn_prep p = *(const struct spawn_prep *)arg;

	spawn_child(&p);
}

static pid_t do_vfork(struct spawn_prep *p, int *ret_pidfd, bool *fallback)
{
	size_t guard = (size_t)sysconf(_SC_PAGESIZE);
	sigset_t all, old;
	int pidfd = -1, e;
	char *stack;
	pid_t pid;

	*fallback = false;
	stack = mmap(NULL, guard + VFORK_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	if (mprotect(stack, guard, PROT_NONE) < 0) {
		e = errno;
		munmap(stack, guard + VFORK_STACK);
		errno = e;
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(vfork_child, stack + guard + VFORK_STACK,
		    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, p, &pidfd);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, guard + VFORK_STACK);
	if (pid < 0) {
		*fallback = e == EINVAL || e == ENOSYS;
		errno = e;
		return -1;
	}
	/* A clone emulated as fork (valgrind) may not fill in the pidfd. */
	if (pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	*ret_pidfd = pidfd;
	return pid;
}

static pid_t do_clone(struct spawn_prep *p, int *ret_pidfd)
{
	struct clone_args ca;
	int pidfd = -1;
	pid_t pid;

	if (SPAWN_VFORK && !p->unshare_flags) {
		bool fallback;

		pid = do_vfork(p, ret_pidfd, &fallback);
		if (pid >= 0 || !fallback)
			return pid;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PIDFD | p->unshare_flags;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	p->clone_ns = true;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && errno == ENOSYS) {
		if (p->unshare_flags & CLONE_NEWPID) {
			errno = ENOSYS;
			return -1;
		}
		p->clone_ns = false;
		pid = fork();
		/* No pidfd_open either (kernel < 5.3, valgrind): the caller
		 * gets pidfd -1 and waits by pid. */
		if (pid > 0)
			pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	}
	if (pid > 0) {
		*ret_pidfd = pidfd;
		/* The pidfd from clone3 is close-on-exec already (O_CLOEXEC). */
	}
	return pid;
}

/* Root's identity maps, written from outside (see spawn-impl.h). */
static int write_maps(pid_t pid, const struct spawn_prep *p)
{
	const char *const which[] = { "uid_map", "gid_map" };
	const char *const maps[] = { p->uid_map, p->gid_map };

	for (int i = 0; i < 2; i++) {
		char path[64];
		ssize_t n;
		int fd, e;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		n = write(fd, maps[i], strlen(maps[i]));
		e = errno;
		close(fd);
		if (n < 0)
			return e;
	}
	return 0;
}

/* Read the status socket until the exec closes it. Returns 0 (exec'd), or
 * -errno with err filled. */
static int read_status(int sock, pid_t pid, const struct spawn_prep *p, int *listener,
		       struct spawn_error *err)
{
	struct sbx_msg *m = malloc(sizeof(*m));
	int r, rc = 0;

	if (!m)
		return -ENOMEM; /* caller kills the child */
	for (;;) {
		r = sbx_msg_recv(sock, m, 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (r == -EINTR)
				continue;
			err->step = SPAWN_STEP_NONE;
			err->err = -r;
			rc = r;
			break;
		}
		if (m->type == SPAWN_MSG_MAPS && p->parent_maps) {
			int e = write_maps(pid, p);

			(void)sbx_msg_send(sock, SPAWN_MSG_MAPPED, (uint32_t)e, NULL, 0, NULL, 0);
		} else if (m->type == SPAWN_MSG_LISTENER && m->nfds == 1 && *listener < 0) {
			*listener = sbx_msg_take_fd(m, 0);
		} else if (m->type > 0 && m->type < SPAWN_STEP_MAX && rc == 0) {
			err->step = (enum spawn_step)m->type;
			err->err = m->id ? (int)m->id : EIO;
			rc = -err->err;
		}
		sbx_msg_clear(m);
	}
	free(m);
	return rc;
}

int sbx_spawn(const struct sbx_spawn_desc *d, struct sbx_spawned *ret, struct spawn_error *err)
{
	struct spawn_error dummy;
	struct spawn_prep p;
	int pidfd = -1, listener = -1, r;
	pid_t pid;

	if (!err)
		err = &dummy;
	err->step = SPAWN_STEP_NONE;
	err->err = 0;
	if (!d || !ret) {
		err->err = EINVAL;
		return -EINVAL;
	}
	r = prepare(d, &p);
	if (r < 0) {
		err->err = -r;
		return r;
	}
	pid = do_clone(&p, &pidfd);
	if (pid == 0)
		spawn_child(&p);
	if (pid < 0) {
		r = -errno;
		unprepare(&p);
		err->step = SPAWN_STEP_CLONE;
		err->err = -r;
		return r;
	}
	close(p.status_fd);
	p.status_fd = -1;
	r = read_status(p.parent_status_fd, pid, &p, &listener, err);
	unprepare(&p);
	if (r < 0) {
		if (listener >= 0)
			close(listener);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (pidfd >= 0)
			close(pidfd);
		return r;
	}
	ret->pid = pid;
	ret->pidfd = pidfd;
	ret->listener = listener;
	return 0;
}
