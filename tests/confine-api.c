/* sbx_confine: argument checks, what a failure leaves, extra allowed
 * syscalls, abort() still works, and caps drop helpers. */
#include "escape-probes.h"
#include "sbx/confine.h"
#include "unprivileged/caps.h"


/* A refused option leaves the process exactly as it was. */
static int child_bad_name(void *ud)
{
	const char *allow[] = { "pipe2", "definitely_not_a_syscall" };
	char err[128] = "x";
	struct sbx_confine_opts o = { .chan_fd = -1, .allow = allow, .nallow = 2,
				      .errbuf = err, .errlen = sizeof(err) };

	(void)ud;
	if (sbx_confine(&o) != -EINVAL)
		return 1;
	if (!strstr(err, "definitely_not_a_syscall"))
		return 2;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 3;
	return 0;
}

static int child_extra(void *ud)
{
	const char *allow[] = { "pipe2" };
	struct sbx_confine_opts o = { .chan_fd = -1, .allow = allow, .nallow = ud ? 1 : 0 };
	int p[2];
	long r;

	if (sbx_confine(&o) < 0)
		return 9;
	r = try_syscall(SYS_pipe2, (long)p, O_CLOEXEC, 0, 0, 0, 0);
	return r == 0 ? 0 : r == -EPERM ? 1 : 2;
}

static int child_abort(void *ud)
{
	struct sbx_confine_opts o = { .chan_fd = -1 };

	(void)ud;
	if (sbx_confine(&o) < 0)
		return 9;
	abort();
}

static int child_kill_other(void *ud)
{
	struct sbx_confine_opts o = { .chan_fd = -1 };

	(void)ud;
	if (sbx_confine(&o) < 0)
		return 9;
	/* signals to anyone else stay refused */
	return try_syscall(SYS_kill, getppid(), 0, 0, 0, 0, 0) == -EPERM ? 0 : 1;
}

static int child_write(void *ud)
{
	struct sbx_confine_opts o = { .chan_fd = -1 };
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)ud;
	if (fd < 0 || sbx_confine(&o) < 0)
		return 9;
	/* stdio on a handed fd: fstat, mmap/brk, write */
	return dprintf(fd, "computed %d\n", 42) > 0 ? 0 : 1;
}

static int child_caps_root(void *ud)
{
	(void)ud;
	if (sbx_caps_drop(NOBODY, NOBODY, true) < 0)
		return 1;
	if (sbx_caps_all_clear(true) != 1)
		return 2;
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY || getgroups(0, NULL) != 0)
		return 3;
	return setuid(0) == -1 && errno == EPERM ? 0 : 4;
}

static int child_caps_keep_uid(void *ud)
{
	(void)ud;
	/* root keeping uid 0: every set empty, bounding included */
	if (sbx_caps_drop(0, 0, false) < 0)
		return 1;
	return sbx_caps_all_clear(true) == 1 ? 0 : 2;
}

static int child_caps_user(void *ud)
{
	(void)ud;
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
			       setresuid(NOBODY, NOBODY, NOBODY) < 0))
		return 9;
	if (sbx_caps_drop((uid_t)-1, (gid_t)-1, false) < 0)
		return 1;
	if (sbx_caps_all_clear(false) != 1)
		return 2;
	/* an ordinary user cannot change identity */
	return sbx_caps_drop(0, 0, true) == -EPERM ? 0 : 3;
}

int main(void)
{
	struct sbx_confine_opts o = { .chan_fd = -1 };
	struct fd_table before;

	tap_start();
	fd_snapshot(&before);
	is_int(sbx_confine(NULL), -EINVAL, "NULL opts: -EINVAL");
	o.flags = 1u << 30;
	is_int(sbx_confine(&o), -EINVAL, "unknown flag: -EINVAL");
	o.flags = 0;
	o.action = 5;
	is_int(sbx_confine(&o), -EINVAL, "unknown action: -EINVAL");
	o.action = 0;
	o.chan_fd = -5;
	is_int(sbx_confine(&o), -EINVAL, "chan_fd < -1: -EINVAL");
	o.chan_fd = -1;
	o.nallow = 2;
	is_int(sbx_confine(&o), -EINVAL, "nallow without a list: -EINVAL");
	ok(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0, "refused options left this process alone");
	is_int(sbx_caps_drop((uid_t)-1, 0, true), -EINVAL, "caps drop to uid -1: -EINVAL");
	ok(fd_same(&before), "no fd left");

	if (under_valgrind()) {
		skip(6, "installs seccomp filters that valgrind's own syscalls violate");
	} else {
		is_int(tap_in_child(child_bad_name, NULL), 0, "unknown syscall name: -EINVAL, errbuf names it, nothing applied");
		is_int(tap_in_child(child_extra, (void *)1), 0, "extra allowed syscall (pipe2) works");
		is_int(tap_in_child(child_extra, NULL), 1, "without it pipe2 is EPERM");
		is_int(tap_in_child(child_abort, NULL), 128 + SIGABRT, "abort() still raises SIGABRT (tgkill to itself)");
		is_int(tap_in_child(child_kill_other, NULL), 0, "kill(parent) is refused");
		is_int(tap_in_child(child_write, NULL), 0, "stdio on a handed fd works confined");
	}
	if (tap_is_root()) {
		is_int(tap_in_child(child_caps_root, NULL), 0, "root -> nobody: all five sets zero, no groups, setuid(0) EPERM");
		is_int(tap_in_child(child_caps_keep_uid, NULL), 0, "root keeping uid 0: all five sets zero");
	} else {
		skip(2, "needs root");
	}
	is_int(tap_in_child(child_caps_user, NULL), 0, "ordinary user: effective/permitted/inheritable/ambient zero; no id change");
	ok(fd_same(&before), "no fd leaked");
	return tap_done();
}
