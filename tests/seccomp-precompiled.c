/* The filter programs compiled at build time (seccomp/gen-precompiled.c):
 * each one is byte for byte what libseccomp compiles for its spec now;
 * sbx_filter_compile hands the programs out only for an exact match; an
 * embedded program installed confines as it should; sbx_bpf_import/export
 * keep a program intact and refuse bad input. */
#include <linux/seccomp.h>
#include <seccomp.h>

#include "seccomp/filter.h"
#include "seccomp/precompiled.h"
#include "try-syscall.h"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Compare two programs; diagnose the first difference. */
static bool same_prog(const struct sbx_bpf *a, const struct sbx_bpf *b)
{
	const struct sock_filter *ia, *ib;
	size_t la, lb;
	bool na, nb;

	if (sbx_bpf_export(a, &ia, &la, &na) < 0 || sbx_bpf_export(b, &ib, &lb, &nb) < 0)
		return false;
	if (la != lb || na != nb) {
		diag("  %zu vs %zu instructions, notify %d vs %d", la, lb, na, nb);
		return false;
	}
	for (size_t i = 0; i < la; i++)
		if (memcmp(&ia[i], &ib[i], sizeof(ia[i])) != 0) {
			diag("  instruction %zu differs: %04x %u %u %08x vs %04x %u %u %08x", i,
			     ia[i].code, ia[i].jt, ia[i].jf, ia[i].k,
			     ib[i].code, ib[i].jt, ib[i].jf, ib[i].k);
			return false;
		}
	return true;
}

static struct sbx_filter_spec spec_of(const struct sbx_precompiled *p)
{
	return (struct sbx_filter_spec){
		.profile = p->profile, .action = p->action, .chan_fd = -1,
		.notify_open = p->notify_open, .trace_denied = p->trace_denied,
		.allow_net = p->allow_net,
	};
}

/* Every entry equals a run-time compile of its spec; sbx_filter_compile
 * returns the same program (whichever path it took); chan_fd, which the
 * default profile ignores, changes nothing. */
static void check_entries(void)
{
	for (size_t i = 0; i < sbx_nprecompiled; i++) {
		const struct sbx_precompiled *p = &sbx_precompiled[i];
		struct sbx_filter_spec s = spec_of(p);
		struct sbx_bpf *fresh = NULL, *fast = NULL, *fresh3 = NULL, *emb = NULL;
		char what[128];
		int r1, r2, r3;

		snprintf(what, sizeof(what), "action %d notify_open %d trace_denied %d allow_net %d",
			 p->action, p->notify_open, p->trace_denied, p->allow_net);
		ok(p->profile == SBX_PROFILE_DEFAULT, "entry %zu (%s): default profile", i, what);
		r1 = sbx_filter_compile_libseccomp(&s, &fresh);
		r2 = sbx_filter_compile(&s, &fast);
		s.chan_fd = 3;
		r3 = sbx_filter_compile_libseccomp(&s, &fresh3);
		is_int(r1 | r2 | r3, 0, "entry %zu: compiles", i);
		is_int(sbx_bpf_import(p->insns, p->len, p->notify, &emb), 0, "entry %zu: imports", i);
		ok(fresh && emb && same_prog(fresh, emb),
		   "entry %zu: byte-identical to libseccomp's program now", i);
		ok(fresh && fast && same_prog(fresh, fast), "entry %zu: sbx_filter_compile agrees", i);
		ok(emb && fast && same_prog(emb, fast), "entry %zu: sbx_filter_compile returns it", i);
		ok(fresh && fresh3 && same_prog(fresh, fresh3),
		   "entry %zu: chan_fd does not change the default profile", i);
		is_int(sbx_bpf_has_notify(fresh), p->notify_open || p->trace_denied,
		       "entry %zu: notify flag", i);
		sbx_bpf_free(fresh);
		sbx_bpf_free(fast);
		sbx_bpf_free(fresh3);
		sbx_bpf_free(emb);
	}
}

/* Specs the table must not answer: extra names change the program. */
static void check_no_false_match(void)
{
	static const char *const allow[] = { "acct" };
	static const char *const deny[] = { "getppid" };
	struct sbx_filter_spec s = { .profile = SBX_PROFILE_DEFAULT, .action = SBX_ACTION_ERRNO,
				     .chan_fd = -1, .notify_open = true };
	struct sbx_bpf *base = NULL, *a = NULL, *a_fresh = NULL, *d = NULL, *d_fresh = NULL;
	size_t lb = 0, la = 0, ld = 0;
	const struct sock_filter *in;

	is_int(sbx_filter_compile(&s, &base), 0, "base spec compiles");
	s.allow = allow;
	s.nallow = 1;
	is_int(sbx_filter_compile(&s, &a), 0, "spec with an extra allow compiles");
	is_int(sbx_filter_compile_libseccomp(&s, &a_fresh), 0, "... and with libseccomp");
	s.allow = NULL;
	s.nallow = 0;
	s.deny = deny;
	s.ndeny = 1;
	is_int(sbx_filter_compile(&s, &d), 0, "spec with an extra deny compiles");
	is_int(sbx_filter_compile_libseccomp(&s, &d_fresh), 0, "... and with libseccomp");
	if (base)
		sbx_bpf_export(base, &in, &lb, NULL);
	if (a)
		sbx_bpf_export(a, &in, &la, NULL);
	if (d)
		sbx_bpf_export(d, &in, &ld, NULL);
	ok(base && a && (la != lb || !same_prog(base, a)), "extra allow: not the base program");
	ok(a && a_fresh && same_prog(a, a_fresh), "extra allow: libseccomp's program");
	ok(base && d && (ld != lb || !same_prog(base, d)), "extra deny: not the base program");
	ok(d && d_fresh && same_prog(d, d_fresh), "extra deny: libseccomp's program");
	sbx_bpf_free(base);
	sbx_bpf_free(a);
	sbx_bpf_free(a_fresh);
	sbx_bpf_free(d);
	sbx_bpf_free(d_fresh);
}

static void check_import_export(void)
{
	static const struct sock_filter allow_all[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static struct sock_filter big[BPF_MAXINSNS + 1];
	static char sentinel;
	struct fd_table t;
	struct sbx_bpf *b = (struct sbx_bpf *)&sentinel; /* must stay untouched */
	const struct sock_filter *in = NULL;
	size_t len = 7;
	bool notify = true;

	fd_snapshot(&t);
	is_int(sbx_bpf_import(NULL, 1, false, &b), -EINVAL, "import NULL insns: -EINVAL");
	is_int(sbx_bpf_import(allow_all, 0, false, &b), -EINVAL, "import 0 insns: -EINVAL");
	is_int(sbx_bpf_import(big, BPF_MAXINSNS + 1, false, &b), -EINVAL,
	       "import BPF_MAXINSNS + 1 insns: -EINVAL");
	is_int(sbx_bpf_import(allow_all, 1, false, NULL), -EINVAL, "import NULL ret: -EINVAL");
	ok(b == (struct sbx_bpf *)&sentinel, "ret untouched on failure");
	is_int(sbx_bpf_export(NULL, &in, &len, NULL), -EINVAL, "export NULL: -EINVAL");
	ok(in == NULL && len == 7, "export outputs untouched on failure");
	b = NULL;
	is_int(sbx_bpf_import(allow_all, 1, false, &b), 0, "import 1 insn");
	is_int(sbx_bpf_export(b, &in, &len, &notify), 0, "export it");
	ok(len == 1 && !notify && in && !memcmp(in, allow_all, sizeof(allow_all)),
	   "round trip keeps instructions and notify flag");
	is_int(sbx_bpf_len(b), 1, "sbx_bpf_len");
	sbx_bpf_free(b);
	b = NULL;
	is_int(sbx_bpf_import(big, BPF_MAXINSNS, true, &b), 0, "import BPF_MAXINSNS insns");
	ok(sbx_bpf_has_notify(b), "notify flag kept");
	sbx_bpf_free(b);
	ok(sbx_bpf_free(NULL) == NULL, "sbx_bpf_free(NULL)");
	ok(fd_same(&t), "import/export: fd table unchanged");
}

static int child_run(void *ud)
{
	int listener = -1;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_filter_install(ud, &listener) < 0)
		return 2;
	if (prctl(PR_GET_SECCOMP) != 2)
		return 3;
	if (try_syscall(SYS_ptrace, 16 /* ATTACH */, NO_PID, 0, 0, 0, 0) != -EPERM)
		return 4;
	if (try_syscall(SYS_mount, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0, 0) != -EPERM)
		return 5;
	if (try_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0) <= 0)
		return 6;
	if (try_syscall(SYS_ioctl, BAD_FD, TIOCSTI, BAD_PTR, 0, 0, 0) != -EPERM ||
	    try_syscall(SYS_ioctl, BAD_FD, (1L << 32) | TIOCSTI, BAD_PTR, 0, 0, 0) != -EPERM)
		return 7;
	if (try_syscall(SYS_ioctl, BAD_FD, FIONREAD, BAD_PTR, 0, 0, 0) != -EBADF)
		return 8;
	if (try_syscall(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0) != -EPERM ||
	    try_syscall(SYS_socket, (1L << 32) | AF_UNIX, SOCK_STREAM, 0, 0, 0, 0) != -EPERM)
		return 9;
	if (try_syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0) < 0)
		return 10;
	if (try_syscall(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0) != -EPERM ||
	    try_syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0, 0) != -EPERM)
		return 11;
	if (try_syscall(SYS_personality, 0xffffffffL, 0, 0, 0, 0, 0) < 0 ||
	    try_syscall(SYS_personality, 0x0008 /* ADDR_NO_RANDOMIZE */, 0, 0, 0, 0, 0) != -EPERM)
		return 12;
	return 0;
}

static void check_installed(void)
{
	struct sbx_filter_spec s = { .profile = SBX_PROFILE_DEFAULT, .action = SBX_ACTION_ERRNO,
				     .chan_fd = -1 };
	struct sbx_bpf *b = NULL;
	pid_t pid;
	int st = -1;

	if (under_valgrind()) {
		skip(2, "installs a filter (valgrind's own syscalls would be refused)");
		return;
	}
	is_int(sbx_filter_compile(&s, &b), 0, "errno, no notify: compiles");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0)
		_exit(child_run(b));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid");
	if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"installed: ptrace, mount, namespaces, TIOCSTI, inet EPERM; the rest allowed"))
		diag("  child status %#x", st);
	sbx_bpf_free(b);
}

int main(void)
{
	const struct scmp_version *v = seccomp_version();

	tap_start();
	check_import_export();
	check_no_false_match();
	check_installed();
	if (sbx_nprecompiled == 0) {
		skip(1, "no precompiled filters in this build (cross or fuzz build)");
	} else if (v->major != sbx_precompiled_libseccomp[0] ||
		   v->minor != sbx_precompiled_libseccomp[1] ||
		   v->micro != sbx_precompiled_libseccomp[2]) {
		skip(1, "built with libseccomp %u.%u.%u, running %u.%u.%u: table not used",
		     sbx_precompiled_libseccomp[0], sbx_precompiled_libseccomp[1],
		     sbx_precompiled_libseccomp[2], v->major, v->minor, v->micro);
	} else {
		ok(sbx_nprecompiled >= 8, "%zu precompiled programs", sbx_nprecompiled);
		check_entries();
	}
	return tap_done();
}
