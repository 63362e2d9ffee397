/* The child side of sbx_spawn: async-signal-safe code only (no malloc, no
 * stdio), everything it reads was prepared by the parent. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "privileged/spawn-impl.h"
#include "seccomp/filter.h"
#include "unprivileged/landlock.h"

__attribute__((noreturn)) static void fail(struct spawn_prep *p, enum spawn_step s, int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		err = EIO;
	(void)sbx_msg_send(p->status_fd, (uint32_t)s, (uint32_t)err, NULL, 0, NULL, 0);
	_exit(125);
}

/* Write a decimal number; returns the bytes written (no NUL). */
static size_t fmt_uint(char *buf, size_t len, unsigned long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	if (n >= len)
		return 0;
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static int write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == len ? 0 : -EIO;
}

static void step_session(struct spawn_prep *p)
{
	char hello = 0;

	if (setsid() < 0)
		fail(p, SPAWN_STEP_SETSID, errno);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(p, SPAWN_STEP_PDEATHSIG, errno);
	/* The parent may have died before PDEATHSIG was set. Outside a pid
	 * namespace getppid() tells; inside it is 0, so probe the status
	 * socket instead: with the parent's end closed the send fails (EPIPE). */
	if (!p->pidns && getppid() != p->parent_pid)
		_exit(125);
	if (p->pidns && sbx_msg_send(p->status_fd, SPAWN_MSG_HELLO, 0, &hello, 1, NULL, 0) < 0)
		_exit(125);
}

static void close_from(unsigned lowest)
{
	struct rlimit rl;

	if (syscall(SYS_close_range, lowest, ~0U, 0) == 0)
		return;
	/* No close_range (ENOSYS, or an outer filter): a loop that needs
	 * neither /proc nor malloc. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 20))
		rl.rlim_cur = 1u << 20;
	for (unsigned long fd = lowest; fd < rl.rlim_cur; fd++)
		(void)close((int)fd);
}

/* Place fds at 3.. without clobbering a source that sits on a target:
 * first copy every source above the targets, then dup2 into place. The
 * status socket ends up at 3 + n and the Landlock ruleset at 3 + n + 1
 * (both close-on-exec); everything else is closed. */
static void step_fds(struct spawn_prep *p)
{
	const struct sbx_spawn_desc *d = p->d;
	size_t n = d->nfds + (d->chan_fd >= 0);
	int copy[SBX_MAX_FDS * 4 + 1];
	int st;

	if (n > sizeof(copy) / sizeof(copy[0]))
		fail(p, SPAWN_STEP_FDS, EMFILE);
	for (size_t i = 0; i < n; i++) {
		int src = i < d->nfds ? d->fds[i].fd : d->chan_fd;

		copy[i] = fcntl(src, F_DUPFD_CLOEXEC, (int)(3 + n + 2));
		if (copy[i] < 0)
			fail(p, SPAWN_STEP_FDS, errno);
	}
	/* Copy the status socket and the ruleset up too before placing
	 * anything: either may sit on a target number. */
	st = fcntl(p->status_fd, F_DUPFD_CLOEXEC, (int)(3 + n + 2));
	if (st < 0)
		fail(p, SPAWN_STEP_FDS, errno);
	p->status_fd = st;
	if (d->landlock_fd >= 0) {
		int ll = fcntl(d->landlock_fd, F_DUPFD_CLOEXEC, (int)(3 + n + 2));

		if (ll < 0 || dup3(ll, (int)(3 + n + 1), O_CLOEXEC) < 0)
			fail(p, SPAWN_STEP_FDS, errno);
		p->landlock_fd = (int)(3 + n + 1);
	}
	if (dup3(st, (int)(3 + n), O_CLOEXEC) < 0)
		fail(p, SPAWN_STEP_FDS, errno);
	p->status_fd = (int)(3 + n);
	for (size_t i = 0; i < n; i++)
		if (dup2(copy[i], (int)(3 + i)) < 0) /* clears close-on-exec */
			fail(p, SPAWN_STEP_FDS, errno);
	close_from((unsigned)(3 + n + 2));
}

static void step_userns(struct spawn_prep *p)
{
	int r;

	if (!p->clone_ns && p->unshare_flags && unshare((int)p->unshare_flags) < 0)
		fail(p, SPAWN_STEP_USERNS, errno);
	if (!p->uid_map[0])
		return;
	if (p->parent_maps) {
		struct sbx_msg m;

		r = sbx_msg_send(p->status_fd, SPAWN_MSG_MAPS, 0, NULL, 0, NULL, 0);
		if (r < 0)
			fail(p, SPAWN_STEP_USERNS, r);
		do
			r = sbx_msg_recv(p->status_fd, &m, 0);
		while (r == -EINTR);
		if (r <= 0 || m.type != SPAWN_MSG_MAPPED)
			fail(p, SPAWN_STEP_USERNS, r < 0 ? r : EPROTO);
		if (m.id)
			fail(p, SPAWN_STEP_USERNS, (int)m.id);
		return;
	}
	r = write_file("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT)
		fail(p, SPAWN_STEP_USERNS, r);
	r = write_file("/proc/self/uid_map", p->uid_map);
	if (r == 0)
		r = write_file("/proc/self/gid_map", p->gid_map);
	if (r < 0)
		fail(p, SPAWN_STEP_USERNS, r);
}

static void step_limits(struct spawn_prep *p)
{
	const struct sbx_spawn_desc *d = p->d;

	for (size_t i = 0; i < d->nrlimits; i++)
		if (setrlimit((__rlimit_resource_t)d->rlimits[i].resource, &d->rlimits[i].lim) < 0)
			fail(p, SPAWN_STEP_RLIMIT, errno);
	if (d->chdir && chdir(d->chdir) < 0)
		fail(p, SPAWN_STEP_CHDIR, errno);
}

/* Drop every capability with raw syscalls: async-signal-safe, no /proc,
 * no allocation (libcap-ng's sbx_caps_drop reads /proc and allocates, and
 * costs ~0.15 ms here). Same result: ambient and bounding sets cleared
 * (bounding only with CAP_SETPCAP: an unprivileged caller keeps it, and
 * no_new_privs makes that harmless), groups dropped and ids changed when
 * asked, then effective/permitted/inheritable emptied and checked. */
static int drop_caps(const struct sbx_spawn_desc *d)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	/* PR_CAPBSET_DROP checks CAP_SETPCAP first (EPERM for every number
	 * then: stop, as said above), then the number (EINVAL past the last
	 * capability: done); dropping one already gone succeeds. No
	 * PR_CAPBSET_READ before each: half the syscalls. */
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL || errno == EPERM)
			break;
		return -errno;
	}
	if (d->change_id) {
		/* Raw syscalls: glibc's wrappers broadcast a set*id to every
		 * thread of a multithreaded process, and this child may share
		 * its parent's memory (vfork-style): it would reach the
		 * parent's threads. */
		if (syscall(SYS_setgroups, 0, NULL) < 0 ||
		    syscall(SYS_setresgid, d->gid, d->gid, d->gid) < 0 ||
		    syscall(SYS_setresuid, d->uid, d->uid, d->uid) < 0)
			return -errno;
		if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
			return -errno;
		if (ru != d->uid || eu != d->uid || su != d->uid || rg != d->gid ||
		    eg != d->gid || sg != d->gid)
			return -EPERM;
	}
	memset(c, 0, sizeof(c));
	if (syscall(SYS_capset, &h, c) < 0)
		return -errno;
	if (syscall(SYS_capget, &h, c) < 0)
		return -errno;
	if (c[0].effective | c[1].effective | c[0].permitted | c[1].permitted |
	    c[0].inheritable | c[1].inheritable)
		return -EPERM;
	return 0;
}

static void step_privileges(struct spawn_prep *p)
{
	const struct sbx_spawn_desc *d = p->d;
	int r;

	if (!d->keep_caps) {
		r = drop_caps(d);
		if (r < 0)
			fail(p, SPAWN_STEP_CAPS, r);
		/* A credential change cleared the parent-death signal. */
		if (d->change_id && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			fail(p, SPAWN_STEP_PDEATHSIG, errno);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(p, SPAWN_STEP_NO_NEW_PRIVS, errno);
	/* sbx_landlock_restrict() would use the ruleset's original fd
	 * number, which the fd layout may have reused: restrict with ours
	 * (no_new_privs is set just above). */
	if (p->landlock_fd >= 0) {
		r = sbx_landlock_enforce_fd(p->landlock_fd);
		if (r < 0)
			fail(p, SPAWN_STEP_LANDLOCK, r);
		close(p->landlock_fd);
	}
}

static void step_seccomp(struct spawn_prep *p)
{
	int listener = -1, r;

	if (!p->d->filter)
		return;
	r = sbx_filter_install(p->d->filter, &listener);
	if (r < 0)
		fail(p, SPAWN_STEP_SECCOMP, r);
	if (listener >= 0) {
		r = sbx_msg_send(p->status_fd, SPAWN_MSG_LISTENER, 0, NULL, 0, &listener, 1);
		if (r < 0)
			fail(p, SPAWN_STEP_SECCOMP, r);
		close(listener);
	}
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	/* Every signal: reading /proc/self/status (SigIgn, SigCgt) to skip
	 * the ones at SIG_DFL costs as much here (~16 us either way in a
	 * fresh process), so the plain loop stays. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &sa, NULL); /* EINVAL for KILL/STOP/libc's own */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

void spawn_child(struct spawn_prep *p)
{
	const struct sbx_spawn_desc *d = p->d;

	close(p->parent_status_fd);
	reset_signals();
	step_session(p);
	step_fds(p);
	if (p->listen_pid) {
		size_t n = fmt_uint(p->listen_pid, p->listen_pid_len, (unsigned long)getpid());

		p->listen_pid[n] = '\0';
	}
	step_userns(p);
	step_limits(p);
	step_privileges(p);
	step_seccomp(p);
	execve(d->path, d->argv, p->envp);
	fail(p, SPAWN_STEP_EXEC, errno);
}
