/* The filter API: compile errors, PFC dump contents, install with a
 * listener, trace_denied, the ENOSYS fallback, syscall names. */
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include "escape-probes.h"

static char *dump(const struct sbx_filter_spec *spec, int *ret)
{
	static char buf[1 << 18];
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		tap_bail("memfd_create");
	*ret = sbx_filter_dump(spec, fd);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}


static int child_listener(void *ud)
{
	int listener = -1;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (sbx_filter_install(ud, &listener) < 0)
		return 2;
	if (listener < 0)
		return 3;
	return fd_is_cloexec(listener) ? 0 : 4;
}

static int child_no_listener(void *ud)
{
	int listener = 42;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (sbx_filter_install(ud, &listener) < 0)
		return 2;
	return listener == -1 ? 0 : 3;
}

static int child_notify_without_ptr(void *ud)
{
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return sbx_filter_install(ud, NULL) == -EINVAL ? 0 : 1;
}

static int child_no_nnp(void *ud)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return 9;
	return sbx_filter_install(ud, NULL) == -EACCES ? 0 : 1;
}

/* An outer filter answering seccomp(2) with ENOSYS, as the spawn
 * engineer's fallback tests do. */
static int hide_seccomp(void)
{
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!c)
		return -ENOMEM;
	r = seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(seccomp), 0);
	if (r == 0)
		r = seccomp_load(c);
	seccomp_release(c);
	return r;
}

static int child_enosys_plain(void *ud)
{
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (hide_seccomp() < 0)
		return 9;
	if (sbx_filter_install(ud, NULL) < 0)
		return 1;     /* fell back to prctl(PR_SET_SECCOMP) */
	return try_syscall(SYS_ptrace, 16, NO_PID, 0, 0, 0, 0) == -EPERM ? 0 : 2;
}

static int child_enosys_notify(void *ud)
{
	int l = 7;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (hide_seccomp() < 0)
		return 9;
	return sbx_filter_install(ud, &l) == -ENOSYS && l == 7 ? 0 : 1;
}

/* trace_denied: the child passes its listener up and tries ptrace; the
 * parent (playing the supervisor) sees the syscall and answers EPERM. */
static void trace_denied_case(struct sbx_bpf *bpf)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	int sv[2], st, listener;
	pid_t pid;

	if (!m || sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	pid = fork();
	if (pid == 0) {
		int l = -1;
		long r;

		close(sv[0]);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (sbx_filter_install(bpf, &l) < 0 || sbx_msg_send(sv[1], 1, 1, "", 0, &l, 1) < 0)
			_exit(2);
		close(l);
		r = try_syscall(SYS_ptrace, 16, NO_PID, 0, 0, 0, 0);
		_exit(r == -EPERM ? 0 : 3);
	}
	close(sv[1]);
	if (sbx_msg_recv(sv[0], m, 1) != 1 || m->nfds != 1)
		tap_bail("no listener from the child");
	listener = sbx_msg_take_fd(m, 0);
	memset(&req, 0, sizeof(req));
	ok(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0, "trace_denied: supervisor got a notification");
	is_int(req.data.nr, SYS_ptrace, "trace_denied: it names ptrace (%s)",
	       sbx_syscall_name(req.data.nr) ? sbx_syscall_name(req.data.nr) : "?");
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -EPERM;
	ok(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0, "trace_denied: answered EPERM");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "trace_denied: the worker saw EPERM");
	close(listener);
	close(sv[0]);
	sbx_msg_clear(m);
	free(m);
}

int main(void)
{
	struct sbx_filter_spec spec = { .profile = SBX_PROFILE_DEFAULT, .chan_fd = -1 };
	const char *bad[] = { "getpid", "no_such_syscall" };
	const char *extra_allow[] = { "ptrace" };
	const char *extra_deny[] = { "getppid", "socket" };
	struct sbx_bpf *bpf = (struct sbx_bpf *)&spec, *b2;
	struct fd_table before;
	char err[128] = "";
	char *pfc;
	int r;

	tap_start();
	fd_snapshot(&before);

	/* errors: *ret untouched, errbuf names the culprit, no fd left */
	spec.errbuf = err;
	spec.errlen = sizeof(err);
	spec.allow = bad;
	spec.nallow = 2;
	is_int(sbx_filter_compile(&spec, &bpf), -EINVAL, "unknown allow name: -EINVAL");
	ok(strstr(err, "no_such_syscall") != NULL, "errbuf names it (%s)", err);
	ok(bpf == (struct sbx_bpf *)&spec, "*ret untouched on failure");
	spec.allow = NULL;
	spec.nallow = 0;
	spec.deny = bad;
	spec.ndeny = 2;
	err[0] = '\0';
	is_int(sbx_filter_compile(&spec, &bpf), -EINVAL, "unknown deny name: -EINVAL");
	ok(strstr(err, "no_such_syscall") != NULL, "errbuf names it (%s)", err);
	is_int(sbx_filter_dump(&spec, 1), -EINVAL, "dump: the same error");
	spec.deny = NULL;
	spec.ndeny = 0;
	spec.profile = 7;
	is_int(sbx_filter_compile(&spec, &bpf), -EINVAL, "unknown profile: -EINVAL");
	spec.profile = SBX_PROFILE_DEFAULT;
	spec.action = 9;
	is_int(sbx_filter_compile(&spec, &bpf), -EINVAL, "unknown action: -EINVAL");
	spec.action = SBX_ACTION_ERRNO;
	spec.nallow = 1;
	is_int(sbx_filter_compile(&spec, &bpf), -EINVAL, "nallow without a list: -EINVAL");
	spec.nallow = 0;
	is_int(sbx_filter_compile(NULL, &bpf), -EINVAL, "NULL spec: -EINVAL");
	is_int(sbx_filter_compile(&spec, NULL), -EINVAL, "NULL ret: -EINVAL");
	ok(fd_same(&before), "no fd left by failed compiles");
	ok(sbx_bpf_free(NULL) == NULL, "sbx_bpf_free(NULL)");

	/* names */
	ok(sbx_syscall_name(SYS_getpid) && !strcmp(sbx_syscall_name(SYS_getpid), "getpid"), "name of getpid");
	ok(sbx_syscall_name(SYS_openat2) && !strcmp(sbx_syscall_name(SYS_openat2), "openat2"), "name of openat2");
	ok(sbx_syscall_name(-1) == NULL && sbx_syscall_name(100000) == NULL, "no name out of range");

	/* PFC: the default profile */
	pfc = dump(&spec, &r);
	is_int(r, 0, "dump default");
	ok(strstr(pfc, "\"ioctl\"") && strstr(pfc, "\"execve\"") && strstr(pfc, "\"clone\""),
	   "default: ioctl, execve, clone present");
	ok(!strstr(pfc, "\"ptrace\"") && !strstr(pfc, "\"mount\"") && !strstr(pfc, "\"bpf\"") &&
	   !strstr(pfc, "\"keyctl\"") && !strstr(pfc, "\"io_uring_setup\"") &&
	   !strstr(pfc, "\"open_by_handle_at\"") && !strstr(pfc, "\"setns\""),
	   "default: dangerous groups absent (fall to the default action)");
	ok(strstr(pfc, "\"clone3\"") && strstr(pfc, "ERRNO(38)"), "default: clone3 -> ENOSYS");
	ok(strstr(pfc, "invalid architecture action\naction KILL_PROCESS;") != NULL, "bad arch kills the process");
	ok(strstr(pfc, "default action\n  action ERRNO(1);") != NULL, "default action EPERM");
	ok(strstr(pfc, "0x7e020000") != NULL, "clone: namespace flags masked");
	ok(!strstr(pfc, "NOTIFY"), "no notify without notify_open");

	spec.notify_open = true;
	pfc = dump(&spec, &r);
	ok(r == 0 && strstr(pfc, "\"openat\"") && strstr(pfc, "action 0x7fc00000;"), "notify_open: openat -> NOTIFY (libseccomp 2.5.4 prints it as 0x7fc00000)");
	spec.notify_open = false;
	spec.action = SBX_ACTION_KILL;
	pfc = dump(&spec, &r);
	ok(r == 0 && strstr(pfc, "default action\n  action KILL_PROCESS;"), "action kill");
	spec.action = SBX_ACTION_LOG;
	pfc = dump(&spec, &r);
	ok(r == 0 && strstr(pfc, "default action\n  action LOG;"), "action log");
	spec.action = SBX_ACTION_ERRNO;
	spec.trace_denied = true;
	pfc = dump(&spec, &r);
	ok(r == 0 && strstr(pfc, "default action\n  action 0x7fc00000;"), "trace_denied: default action NOTIFY");
	spec.trace_denied = false;
	spec.allow = extra_allow;
	spec.nallow = 1;
	spec.deny = extra_deny;
	spec.ndeny = 2;
	pfc = dump(&spec, &r);
	ok(r == 0 && strstr(pfc, "\"ptrace\"") && !strstr(pfc, "\"getppid\"") && !strstr(pfc, "\"socket\""),
	   "extra allow (ptrace) and deny (getppid, socket) by name");
	spec.allow = NULL;
	spec.nallow = 0;
	spec.deny = NULL;
	spec.ndeny = 0;

	/* PFC: strict */
	spec.profile = SBX_PROFILE_STRICT;
	spec.chan_fd = 7;
	pfc = dump(&spec, &r);
	is_int(r, 0, "dump strict");
	ok(strstr(pfc, "\"recvmsg\"") && strstr(pfc, "$a0.lo32 == 7") &&
	   strstr(pfc, "$a2.lo32 & 0x40000000 == 1073741824"),
	   "strict: recvmsg only on fd 7 with MSG_CMSG_CLOEXEC");
	ok(!strstr(pfc, "\"open") && !strstr(pfc, "\"socket\"") && !strstr(pfc, "\"recvmmsg\"") &&
	   !strstr(pfc, "\"memfd_create\"") && !strstr(pfc, "\"execve\"") && !strstr(pfc, "\"accept"),
	   "strict: nothing that makes an fd from a name");
	spec.chan_fd = -1;
	pfc = dump(&spec, &r);
	ok(r == 0 && !strstr(pfc, "\"recvmsg\""), "strict without a channel: no recvmsg at all");
	ok(fd_same(&before), "no fd left by dumps");

	/* install */
	spec.profile = SBX_PROFILE_DEFAULT;
	is_int(sbx_filter_install(NULL, NULL), -EINVAL, "install NULL: -EINVAL");
	if (under_valgrind()) {
		skip(8, "installs seccomp filters that valgrind's own syscalls violate");
	} else {
		spec.notify_open = true;
		if ((r = sbx_filter_compile(&spec, &bpf)) < 0)
			tap_bail("compile: %s", strerror(-r));
		ok(sbx_bpf_has_notify(bpf) && sbx_bpf_len(bpf) > 100, "notify_open: has notify, %zu insns", sbx_bpf_len(bpf));
		is_int(tap_in_child(child_listener, bpf), 0, "install returns a close-on-exec listener");
		is_int(tap_in_child(child_notify_without_ptr, bpf), 0, "notify without ret_listener: -EINVAL");
		is_int(tap_in_child(child_enosys_notify, bpf), 0, "seccomp(2) hidden (ENOSYS): notify filter -> -ENOSYS");
		spec.notify_open = false;
		if ((r = sbx_filter_compile(&spec, &b2)) < 0)
			tap_bail("compile: %s", strerror(-r));
		ok(!sbx_bpf_has_notify(b2), "no notify: no listener");
		is_int(tap_in_child(child_no_listener, b2), 0, "install without notify sets *ret_listener = -1");
		is_int(tap_in_child(child_enosys_plain, b2), 0, "seccomp(2) hidden (ENOSYS): falls back to prctl");
		if (tap_is_root())
			is_int(tap_in_child(child_no_nnp, b2), 0, "without no_new_privs, as nobody: -EACCES");
		else
			skip(1, "needs root to become nobody");
		sbx_bpf_free(bpf);
		sbx_bpf_free(b2);

		spec.trace_denied = true;
		if ((r = sbx_filter_compile(&spec, &bpf)) < 0)
			tap_bail("compile: %s", strerror(-r));
		trace_denied_case(bpf);
		sbx_bpf_free(bpf);
	}
	ok(fd_same(&before), "no fd leaked");
	return tap_done();
}
