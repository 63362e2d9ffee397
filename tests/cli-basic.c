/* sandbox-run as a user runs it: files granted and refused, exit statuses,
 * fds and LISTEN_* variables, socket activation, signal forwarding, -v,
 * --dump-seccomp, --json-status-fd, --audit. As root the core cases also run
 * as an ordinary user (uid 65534). */
#include <stdlib.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "cli-run.h"

static char dir[64], granted[128], other[128];

static void setup_files(void)
{
	FILE *f;

	strcpy(dir, "/tmp/sbx-cli-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	chmod(dir, 0755);
	snprintf(granted, sizeof(granted), "%s/granted.txt", dir);
	snprintf(other, sizeof(other), "%s/other.txt", dir);
	if (!(f = fopen(granted, "w")))
		tap_bail("fopen");
	fputs("granted content\n", f);
	fclose(f);
	if (!(f = fopen(other, "w")))
		tap_bail("fopen");
	fputs("other content\n", f);
	fclose(f);
	chmod(granted, 0644);
	chmod(other, 0644);
}

static void core(const struct cli_env *e, const char *who)
{
	struct cli_result r;
	char fdarg[160];

	CLI_ENV(&r, e, "--ro", granted, "cat", granted);
	is_int(r.status, 0, "%s: cat of a granted file exits 0", who);
	ok(!strcmp(r.out, "granted content\n"), "%s: and prints it", who);

	CLI_ENV(&r, e, "--ro", granted, "cat", other);
	ok(r.status != 0, "%s: cat of another file fails (%d)", who, r.status);
	ok(strstr(r.err, "Permission denied") != NULL, "%s: stderr names the error", who);
	ok(!strstr(r.out, "other content"), "%s: nothing of it printed", who);

	CLI_ENV(&r, e, "sh", "-c", "echo one; exit 7");
	is_int(r.status, 7, "%s: sh -c one-liner: the worker's exit code", who);
	ok(!strcmp(r.out, "one\n"), "%s: sh -c output", who);

	CLI_ENV(&r, e, cli_self(), "helper", "fds");
	if (!ok(!strcmp(r.out, "0 1 2 3 \n"), "%s: only stdio and the channel open", who))
		diag("fds: %s", r.out);

	snprintf(fdarg, sizeof(fdarg), "a=%s", granted);
	CLI_ENV(&r, e, "--fd", fdarg, "--fd", fdarg + 0, cli_self(), "helper", "fds");
	is_int(r.status, 125, "%s: a name given twice is refused", who);

	{
		char b[160];

		snprintf(b, sizeof(b), "b=%s", granted);
		CLI_ENV(&r, e, "--fd", fdarg, "--fd", b, cli_self(), "helper", "fds");
		if (!ok(!strcmp(r.out, "0 1 2 3 4 5 \n"), "%s: two named fds then the channel", who))
			diag("fds: %s", r.out);
		CLI_ENV(&r, e, "--fd", fdarg, "--fd", b, cli_self(), "helper", "env");
		if (!ok(!strcmp(r.out, "fds=2 names=a:b pid=self sbx=5\n"),
			"%s: LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID, SBX_FD", who))
			diag("env: %s", r.out);
	}
	CLI_ENV(&r, e, "--env", "LISTEN_FDS=9", cli_self(), "helper", "env");
	if (!ok(!strcmp(r.out, "fds=- names=- pid=- sbx=3\n"),
		"%s: no named fds: no LISTEN_* (stale ones dropped)", who))
		diag("env: %s", r.out);

	CLI_ENV(&r, e, cli_self(), "helper", "exit", "42");
	is_int(r.status, 42, "%s: exit status passed through", who);
	CLI_ENV(&r, e, "sh", "-c", "kill -KILL $$");
	is_int(r.status, 128 + SIGKILL, "%s: killed by signal 9: 137", who);
	CLI_ENV(&r, e, "sh", "-c", "sleep 60 & echo $!; (sleep 61 &); exit 5");
	{
		long left = atol(r.out);

		ok(r.status == 5 && left > 1 && kill((pid_t)left, 0) < 0 && errno == ESRCH,
		   "%s: descendants left behind are killed when the worker exits", who);
	}
	CLI_ENV(&r, e, "no-such-program-sbx");
	is_int(r.status, 127, "%s: not found: 127", who);
	CLI_ENV(&r, e, "--ro", granted, granted);
	is_int(r.status, 126, "%s: not executable: 126", who);
	CLI_ENV(&r, e, "--chdir", "/nonexistent-sbx", "true");
	is_int(r.status, 125, "%s: setup failure: 125", who);
	if (!ok(strstr(r.err, "sandbox-run: chdir: No such file or directory") != NULL,
		"%s: names the step and the error", who))
		diag("stderr: %s", r.err);
	CLI_ENV(&r, e, "--timeout", "1", "sleep", "30");
	is_int(r.status, 124, "%s: --timeout: 124", who);
	ok(strstr(r.err, "timeout") != NULL, "%s: and says so", who);
	{
		struct cli_env e2 = *e;

		e2.signal_after_ready = SIGUSR1;
		CLI_ENV(&r, &e2, cli_self(), "helper", "waitsig");
		is_int(r.status, 100 + SIGUSR1, "%s: SIGUSR1 forwarded to the worker", who);
		e2.signal_after_ready = SIGTERM;
		CLI_ENV(&r, &e2, cli_self(), "helper", "waitsig");
		is_int(r.status, 100 + SIGTERM, "%s: SIGTERM forwarded to the worker", who);
	}
	{
		struct cli_env e2 = *e;

		e2.input = "from stdin\n";
		CLI_ENV(&r, &e2, "cat");
		ok(!strcmp(r.out, "from stdin\n"), "%s: stdin passed through", who);
	}
	CLI_ENV(&r, e, "--landlock=off", "--ro", granted, "cat", granted, other);
	ok(r.status == 1 && strstr(r.out, "granted content") && !strstr(r.out, "other content"),
	   "%s: --landlock=off: opens brokered by the policy (%d)", who, r.status);
}

/* --listen: the worker gets a listening socket as LISTEN_FDS and echoes
 * one connection made by the test. */
static void listen_case(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cli_result r;
	char arg[200];
	pid_t pid;
	int st;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	snprintf(arg, sizeof(arg), "echo=unix:%s", sun.sun_path);
	pid = fork();
	if (pid == 0) {
		char buf[16] = { 0 };

		for (int i = 0; i < 2000; i++) {
			int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
				bool good;

				(void)!write(s, "ping", 4);
				good = read(s, buf, sizeof(buf)) == 4 && !memcmp(buf, "ping", 4);
				close(s);
				_exit(good ? 0 : 1);
			}
			close(s);
			usleep(5000);
		}
		_exit(2);
	}
	CLI(&r, "--listen", arg, cli_self(), "helper", "echo");
	waitpid(pid, &st, 0);
	is_int(r.status, 0, "--listen: the worker accepted on fd 3");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--listen: the test's connection was echoed");
	unlink(sun.sun_path);
}

/* --listen tcp:127.0.0.1:0: the port is learnt from --json-status-fd. */
static void listen_tcp_case(void)
{
	struct cli_env e = { .extra_fd = -1 };
	struct cli_result r;
	char fdnum[16];
	pid_t pid;
	int p[2], st;

	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	pid = fork();
	if (pid == 0) {
		char buf[1024] = { 0 }, *at;
		struct sockaddr_in sin = { .sin_family = AF_INET };
		size_t got = 0;
		ssize_t k;
		int s;

		close(p[1]);
		while (!(at = strstr(buf, "tcp:127.0.0.1:")) || !strchr(at, '"')) {
			k = read(p[0], buf + got, sizeof(buf) - 1 - got);
			if (k <= 0)
				_exit(3);
			got += (size_t)k;
		}
		sin.sin_port = htons((unsigned short)atoi(at + 14));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			_exit(4);
		(void)!write(s, "ping", 4);
		k = read(s, buf, 4);
		close(s);
		close(p[0]);
		_exit(k == 4 && !memcmp(buf, "ping", 4) ? 0 : 1);
	}
	close(p[0]);
	e.extra_fd = p[1];
	snprintf(fdnum, sizeof(fdnum), "%d", p[1]);
	CLI_ENV(&r, &e, "--json-status-fd", fdnum, "--listen", "web=tcp:127.0.0.1:0", cli_self(),
		"helper", "echo");
	close(p[1]);
	waitpid(pid, &st, 0);
	is_int(r.status, 0, "--listen tcp: the worker accepted");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "--listen tcp:127.0.0.1:0: port reported on the status fd, connection echoed");
}

static void option_errors(void)
{
	static const struct {
		const char *args[6];
		const char *want;
	} cases[] = {
		{ { "--rlimit", "foo=1", "true" }, "sandbox-run: --rlimit: unknown limit 'foo'" },
		{ { "--rlimit", "nofile=abc", "true" }, "sandbox-run: --rlimit: bad value" },
		{ { "--rlimit", "nofile", "true" }, "sandbox-run: --rlimit: expected NAME=N" },
		{ { "--rlimit", "nofile=10:5", "true" }, "sandbox-run: --rlimit: soft limit above" },
		{ { "--landlock=maybe", "true" }, "sandbox-run: --landlock: expected" },
		{ { "--seccomp=bogus", "true" }, "sandbox-run: --seccomp: expected" },
		{ { "--seccomp=/nonexistent-sbx", "true" }, "sandbox-run: --seccomp: /nonexistent-sbx" },
		{ { "--seccomp-action=die", "true" }, "sandbox-run: --seccomp-action: expected" },
		{ { "--allow-syscall", "no_such_call", "true" }, "sandbox-run: --allow-syscall: unknown syscall 'no_such_call'" },
		{ { "--deny-syscall", "nope", "true" }, "sandbox-run: --deny-syscall: unknown syscall 'nope'" },
		{ { "--timeout", "0", "true" }, "sandbox-run: --timeout: expected" },
		{ { "--timeout", "1x", "true" }, "sandbox-run: --timeout: expected" },
		{ { "--timeout", " 10", "true" }, "sandbox-run: --timeout: expected" },
		{ { "--rlimit", "nofile= -5", "true" }, "sandbox-run: --rlimit: bad value" },
		{ { "--fd", "a12345678901234567890123456789012345678901234567890123456789012345=/dev/null", "true" },
		  "sandbox-run: --fd: bad name" },
		{ { "--env", "NOEQUALS", "true" }, "sandbox-run: --env: expected K=V" },
		{ { "--fd", "noequals", "true" }, "sandbox-run: --fd: expected NAME=VALUE" },
		{ { "--fd", "a:b=/dev/null", "true" }, "sandbox-run: --fd: bad name" },
		{ { "--fd", "a=/nonexistent-sbx", "true" }, "sandbox-run: --fd: /nonexistent-sbx" },
		{ { "--listen", "a=bogus:1", "true" }, "sandbox-run: --listen: expected" },
		{ { "--listen", "a=unix:/nonexistent-sbx/s", "true" }, "sandbox-run: --listen:" },
		{ { "--listen", "a=tcp:nohostport", "true" }, "sandbox-run: --listen:" },
		{ { "--connect", "a=nonsense", "true" }, "sandbox-run: --connect:" },
		{ { "--ro", "relative/path", "true" }, "sandbox-run: --ro: 'relative/path' is not" },
		{ { "--rw", "/nonexistent-sbx", "true" }, "sandbox-run: --rw: /nonexistent-sbx" },
		{ { "--policy", "/nonexistent-sbx", "true" }, "sandbox-run: --policy:" },
		{ { "--json-status-fd", "999", "true" }, "sandbox-run: --json-status-fd: 999" },
		{ { "--json-status-fd", "x", "true" }, "sandbox-run: --json-status-fd: expected" },
		{ { "--no-such-option", "true" }, "sandbox-run: --no-such-option: unknown option" },
		{ { "--ro" }, "sandbox-run: --ro: missing value" },
		{ { "-v" }, "sandbox-run: no program given" },
	};
	struct fd_table before;

	fd_snapshot(&before);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_result r;

		cli_run(&r, cases[i].args);
		ok(r.status == 125 && !strncmp(r.err, cases[i].want, strlen(cases[i].want)),
		   "%s %s: exit 125 naming the option", cases[i].args[0],
		   cases[i].args[1] ? cases[i].args[1] : "");
		if (r.status != 125 || strncmp(r.err, cases[i].want, strlen(cases[i].want)))
			diag("status %d, stderr: %s", r.status, r.err);
	}
	ok(fd_same(&before), "no fd leaked by the error cases");
}

static void output_options(void)
{
	struct cli_result r;
	char fdnum[16], buf[4096];
	int p[2];
	ssize_t n;

	CLI(&r, "--dump-seccomp");
	ok(r.status == 0 && strstr(r.out, "pseudo filter code") != NULL,
	   "--dump-seccomp prints the PFC and exits 0");
	CLI(&r, "--seccomp=strict", "--dump-seccomp");
	ok(r.status == 0 && strstr(r.out, "pseudo filter code") != NULL,
	   "--seccomp=strict --dump-seccomp");
	CLI(&r, "-v", "true");
	ok(r.status == 0 && strstr(r.err, "seccomp: default profile") &&
	   strstr(r.err, "landlock: ABI") && strstr(r.err, "namespaces: none") &&
	   strstr(r.err, "no_new_privs yes") && strstr(r.err, "worker exited with status 0"),
	   "-v names the layers applied");
	CLI(&r, "--help");
	ok(r.status == 0 && strstr(r.out, "usage: sandbox-run"), "--help");
	CLI(&r, "--version");
	ok(r.status == 0 && !strncmp(r.out, "sandbox-run ", 12), "--version");

	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	snprintf(fdnum, sizeof(fdnum), "%d", p[1]);
	{
		struct cli_env e = { .extra_fd = p[1] };

		CLI_ENV(&r, &e, "--json-status-fd", fdnum, "sh", "-c", "exit 3");
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	ok(r.status == 3 && strstr(buf, "{\"event\":\"setup\"") && strstr(buf, "\"event\":\"started\"") &&
	   strstr(buf, "{\"event\":\"exit\",\"code\":3}"), "--json-status-fd: setup, started, exit");

	{
		static char log[65536];
		char audit[160];
		int fd;

		snprintf(audit, sizeof(audit), "%s/audit.json", dir);
		CLI(&r, "--landlock=off", "--audit", audit, "--ro", granted, "cat", granted, other);
		fd = open(audit, O_RDONLY | O_CLOEXEC);
		n = 0;
		for (ssize_t k; fd >= 0 && (k = read(fd, log + n, sizeof(log) - 1 - (size_t)n)) > 0;)
			n += k;
		if (fd >= 0)
			close(fd);
		log[n] = '\0';
		ok(strstr(log, granted) && strstr(log, "\"grant\"") && strstr(log, "\"deny\""),
		   "--audit: JSON lines of the decisions");
		unlink(audit);
	}
}

static void unshare_net(const struct cli_env *e, const char *who)
{
	struct cli_result r;

	/* Listing interfaces takes a netlink socket: refused without
	 * --allow-net, like any inet socket. */
	CLI_ENV(&r, e, cli_self(), "helper", "ifaces");
	ok(r.status != 0, "%s: no --allow-net: the netlink socket is refused", who);
	CLI_ENV(&r, e, "--allow-net", cli_self(), "helper", "ifaces");
	if (!ok(r.status == 0 && strstr(r.out, "lo ") && strcmp(r.out, "lo \n"),
		"%s: --allow-net without --unshare-net: lo and more", who))
		diag("interfaces: %s", r.out);
	CLI_ENV(&r, e, "--allow-net", "--unshare-net", cli_self(), "helper", "ifaces");
	if (!ok(r.status == 0 && !strcmp(r.out, "lo \n"), "%s: --unshare-net: only lo", who))
		diag("interfaces: %s (status %d)", r.out, r.status);
}

int main(int argc, char **argv)
{
	struct cli_env me = { .extra_fd = -1 }, nobody = { .as_uid = 65534, .extra_fd = -1 };

	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (access(cli_bin(), X_OK) < 0)
		tap_skip_all("no sandbox-run at %s", cli_bin());
	setup_files();
	core(&me, geteuid() ? "user" : "root");
	listen_case();
	listen_tcp_case();
	option_errors();
	output_options();
	unshare_net(&me, geteuid() ? "user" : "root");
	if (geteuid() == 0) {
		core(&nobody, "uid 65534");
		unshare_net(&nobody, "uid 65534");
	} else {
		skip(1, "not root: the uid 65534 run needs root to switch");
	}
	unlink(granted);
	unlink(other);
	rmdir(dir);
	return tap_done();
}
