/* Test helpers for the sandbox-run CLI tests: run the built binary as a user
 * would (optionally as another uid, or under an outer seccomp filter that
 * hides a kernel feature), capture its output; and a "helper" mode of the
 * test binary itself, which the tests run inside the sandbox. */
#ifndef SBX_TEST_CLI_RUN_H
#define SBX_TEST_CLI_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

struct cli_result {
	int status;             /* exit code, 128+N when killed by signal N */
	char out[16384];
	char err[16384];
};

struct cli_env {
	uid_t as_uid;           /* 0: as we are; else setresuid/gid to it first */
	bool hide_landlock;     /* outer filter: landlock_create_ruleset -> ENOSYS */
	bool hide_close_range;  /* outer filter: close_range -> ENOSYS */
	int extra_fd;           /* an fd the child leaves open (not close-on-exec), -1 */
	int signal_after_ready; /* send this signal to sandbox-run once out has "ready" */
	const char *input;      /* written to stdin, then closed; NULL: /dev/null */
};

static inline const char *cli_bin(void)
{
	static char path[PATH_MAX];

	if (!path[0])
		snprintf(path, sizeof(path), "%s/sandbox-run", tap_build_dir());
	/* The uid 65534 runs execute it too. */
	return tap_public_copy(path);
}

/* This test program, to run in "helper" mode inside the sandbox. */
static inline const char *cli_self(void)
{
	static char path[PATH_MAX];

	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		if (n < 0)
			tap_bail("readlink /proc/self/exe");
		path[n] = '\0';
	}
	return tap_public_copy(path);
}

static inline void cli_hide(bool landlock, bool close_range_)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx)
		_exit(99);
	if (landlock && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					 seccomp_syscall_resolve_name("landlock_create_ruleset"), 0) < 0)
		_exit(99);
	if (close_range_ && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					     seccomp_syscall_resolve_name("close_range"), 0) < 0)
		_exit(99);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
		_exit(99);
	seccomp_release(ctx);
}

/* Run sandbox-run with argv (NULL-terminated, without argv[0]). */
static inline int cli_run_env(struct cli_result *r, const struct cli_env *env,
			      const char *const *args)
{
	const char *argv[128];
	int out[2], err[2], in[2];
	size_t n = 0, no = 0, ne = 0;
	bool signalled = false;
	pid_t pid;
	int st;

	argv[n++] = cli_bin();
	for (; *args && n < 127; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (env && env->extra_fd >= 0)
			fcntl(env->extra_fd, F_SETFD, 0);
		if (env && env->as_uid) {
			gid_t g = (gid_t)env->as_uid;

			if (setgroups(0, NULL) < 0 || setresgid(g, g, g) < 0 ||
			    setresuid(env->as_uid, env->as_uid, env->as_uid) < 0)
				_exit(98);
		}
		if (env && (env->hide_landlock || env->hide_close_range))
			cli_hide(env->hide_landlock, env->hide_close_range);
		execv(argv[0], (char **)argv);
		_exit(97);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (env && env->input)
		(void)!write(in[1], env->input, strlen(env->input));
	close(in[1]);
	for (int open_ = 2; open_;) {
		struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
				       { .fd = err[0], .events = POLLIN } };
		char buf[4096];
		ssize_t k;

		open_ = 0;
		if (poll(p, 2, -1) < 0)
			continue;
		for (int i = 0; i < 2; i++) {
			char *dst = i ? r->err : r->out;
			size_t *len = i ? &ne : &no;
			size_t cap = sizeof(r->out) - 1;

			if (p[i].fd < 0)
				continue;
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			k = read(p[i].fd, buf, sizeof(buf));
			if (k <= 0) {
				close(p[i].fd);
				if (i)
					err[0] = -1;
				else
					out[0] = -1;
				continue;
			}
			if (*len + (size_t)k > cap)
				k = (ssize_t)(cap - *len);
			memcpy(dst + *len, buf, (size_t)k);
			*len += (size_t)k;
			dst[*len] = '\0';
		}
		if (env && env->signal_after_ready && !signalled && strstr(r->out, "ready")) {
			kill(pid, env->signal_after_ready);
			signalled = true;
		}
		open_ = (out[0] >= 0) + (err[0] >= 0);
		if (out[0] < 0 && err[0] >= 0) {
			/* keep reading stderr alone */
		}
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid");
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->status;
}

static inline int cli_run(struct cli_result *r, const char *const *args)
{
	return cli_run_env(r, NULL, args);
}

#define CLI(r, ...) cli_run((r), (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_ENV(r, e, ...) cli_run_env((r), (e), (const char *const[]){ __VA_ARGS__, NULL })

/* Helper mode: argv[1] == "helper"; runs inside the sandbox. */
static volatile sig_atomic_t helper_sig;
static inline void helper_on_sig(int s)
{
	helper_sig = s;
}

static inline int cli_helper(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";

	if (!strcmp(what, "fds")) {
		/* Open fds without /proc: probe each number. */
		for (int fd = 0; fd < 4096; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				printf("%d ", fd);
		printf("\n");
		return 0;
	}
	if (!strcmp(what, "env")) {
		const char *pid = getenv("LISTEN_PID");

		printf("fds=%s names=%s pid=%s sbx=%s\n", getenv("LISTEN_FDS") ?: "-",
		       getenv("LISTEN_FDNAMES") ?: "-",
		       !pid ? "-" : atol(pid) == (long)getpid() ? "self" : pid,
		       getenv("SBX_FD") ?: "-");
		return 0;
	}
	if (!strcmp(what, "echo")) {
		char buf[256];
		ssize_t k;
		int c = accept4(3, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			return 2;
		k = read(c, buf, sizeof(buf));
		if (k > 0)
			(void)!write(c, buf, (size_t)k);
		close(c);
		return 0;
	}
	if (!strcmp(what, "waitsig")) {
		struct sigaction sa = { .sa_handler = helper_on_sig };
		sigset_t none;

		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigemptyset(&none);
		printf("ready\n");
		fflush(stdout);
		while (!helper_sig)
			sigsuspend(&none);
		return 100 + helper_sig;
	}
	if (!strcmp(what, "ids")) {
		uid_t r, e, s;
		gid_t g[8];

		getresuid(&r, &e, &s);
		printf("uid=%u euid=%u groups=%d\n", (unsigned)r, (unsigned)e, getgroups(8, g));
		return 0;
	}
	if (!strcmp(what, "parent")) {
		long k, p;
		int ke, pe;

		/* Only when confined; ptrace on pid 0 fails harmlessly (ESRCH)
		 * if seccomp lets it through, EPERM if the filter denies it. */
		if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2) {
			printf("unconfined\n");
			return 3;
		}
		k = kill(getppid(), 0);
		ke = errno;
		p = ptrace(PTRACE_ATTACH, 0, NULL, NULL);
		pe = errno;

		printf("kill=%ld/%d ptrace=%ld/%d\n", k, k ? ke : 0, p, p ? pe : 0);
		return 0;
	}
	if (!strcmp(what, "caps")) {
		/* Without /proc (opens of /proc/self may be brokered by the parent). */
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct c[2];
		int bnd = 0, amb = 0;

		if (syscall(SYS_capget, &h, c) < 0)
			return 2;
		for (int cap = 0; cap <= 63; cap++) {
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
				bnd++;
			if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
				amb++;
		}
		printf("eff=%x%x prm=%x%x inh=%x%x bnd=%d amb=%d nnp=%d seccomp=%d\n",
		       c[1].effective, c[0].effective, c[1].permitted, c[0].permitted,
		       c[1].inheritable, c[0].inheritable, bnd, amb,
		       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
		return 0;
	}
	if (!strcmp(what, "ifaces")) {
		struct if_nameindex *ifs = if_nameindex();

		if (!ifs) {
			printf("error %d\n", errno);
			return 1;
		}
		for (struct if_nameindex *i = ifs; i->if_name; i++)
			printf("%s ", i->if_name);
		printf("\n");
		if_freenameindex(ifs);
		return 0;
	}
	if (!strcmp(what, "exit"))
		return argc > 3 ? atoi(argv[3]) : 0;
	return 64;
}

/* _exit: a sanitizer's exit-time leak check needs /proc, which the
 * sandbox does not grant. */
#define CLI_HELPER_MAIN(argc, argv)                                           \
	do {                                                                  \
		if ((argc) > 1 && !strcmp((argv)[1], "helper")) {             \
			int rc_ = cli_helper((argc), (argv));                 \
			fflush(stdout);                                       \
			_exit(rc_);                                           \
		}                                                             \
	} while (0)

#endif
