/* sandbox-run serving an sbx-aware worker: --policy files (path rules,
 * named fds, syscall lines), --connect brokered by name, --seccomp=strict
 * with opens through the channel, --seccomp=FILE, plus the process options
 * (--rlimit, --env, --clearenv, --chdir). */
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include <sbx/client.h>

#include "cli-run.h"

static char dir[64];

static int client_helper(int argc, char **argv)
{
	struct sbx_client *c;
	char buf[256];
	ssize_t n;
	int fd, r;

	if (argc < 4)
		return 64;
	r = sbx_client_from_env(&c);
	if (r < 0) {
		printf("client %d\n", r);
		return 2;
	}
	if (!strcmp(argv[2], "open"))
		fd = sbx_client_open(c, argv[3], O_RDONLY, 0);
	else if (!strcmp(argv[2], "get"))
		fd = sbx_client_get(c, argv[3]);
	else
		fd = sbx_client_connect(c, argv[3]);
	sbx_client_free(c);
	if (fd < 0) {
		printf("error %d\n", -fd);
		return 1;
	}
	if (!strcmp(argv[2], "connect"))
		(void)!write(fd, "hi", 2);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	printf("%s", buf);
	close(fd);
	return 0;
}

static int uname_helper(void)
{
	struct utsname u;
	int r = uname(&u);

	printf("uname %d %d\n", r, r < 0 ? errno : 0);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		tap_bail("fopen %s", path);
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
}

static void policy_cases(void)
{
	char data[128], pol[128], text[512], sec[128];
	struct cli_result r;

	snprintf(data, sizeof(data), "%s/data.txt", dir);
	write_file(data, "policy data\n");
	snprintf(pol, sizeof(pol), "%s/p.policy", dir);
	snprintf(text, sizeof(text),
		 "# test policy\nread %s\nfd cfg %s ro\ndeny-syscall uname\n", data, data);
	write_file(pol, text);

	CLI(&r, "--policy", pol, "cat", data);
	ok(r.status == 0 && !strcmp(r.out, "policy data\n"), "--policy: a read rule grants cat");
	CLI(&r, "--policy", pol, cli_self(), "helper", "env");
	if (!ok(!strcmp(r.out, "fds=1 names=cfg pid=self sbx=4\n"), "--policy: fd line passed as LISTEN_FDS"))
		diag("%s", r.out);
	CLI(&r, "--policy", pol, cli_self(), "uname");
	if (!ok(!strcmp(r.out, "uname -1 1\n"), "--policy: deny-syscall line applied"))
		diag("%s %s", r.out, r.err);
	CLI(&r, cli_self(), "uname");
	ok(!strcmp(r.out, "uname 0 0\n"), "uname allowed by default");

	snprintf(sec, sizeof(sec), "%s/extra.seccomp", dir);
	write_file(sec, "# extra\n!uname   # deny it\n");
	CLI(&r, "--seccomp", sec, cli_self(), "uname");
	ok(!strcmp(r.out, "uname -1 1\n"), "--seccomp=FILE: a !name line denies");
	CLI(&r, "--deny-syscall", "uname", "--seccomp-action=kill", cli_self(), "uname");
	is_int(r.status, 128 + SIGSYS, "--seccomp-action=kill: killed by SIGSYS");

	write_file(pol, "read /nonexistent-sbx-dir\n");
	CLI(&r, "--policy", pol, "true");
	ok(r.status == 125 && strstr(r.err, "sandbox-run: --policy:") && strstr(r.err, ":1:"),
	   "--policy: a bad line is named (file:line)");
	unlink(pol);
	unlink(sec);

	/* An sbx-aware worker opens through the broker on SBX_FD. */
	CLI(&r, "--ro", data, cli_self(), "client", "open", data);
	if (!ok(r.status == 0 && !strcmp(r.out, "policy data\n"),
		"sbx_client_open through the channel: granted"))
		diag("%d %s %s", r.status, r.out, r.err);
	CLI(&r, "--ro", data, cli_self(), "client", "open", "/etc/shadow");
	ok(r.status == 1 && !strcmp(r.out, "error 13\n"), "sbx_client_open of another path: EACCES");
	/* Strict: no open at all, so a dynamically linked program cannot even
	 * load its libraries (strict is for static sbx-aware workers). */
	CLI(&r, "--seccomp=strict", "--ro", "/etc", "cat", "/etc/hostname");
	ok(r.status != 0 && !r.out[0], "--seccomp=strict: a dynamic program gets nothing open (%d)",
	   r.status);
	unlink(data);
}

static void connect_case(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cli_result r;
	char arg[200];
	pid_t pid;
	int s, st;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/peer", dir);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(s, 4) < 0)
		tap_bail("listen");
	pid = fork();
	if (pid == 0) {
		char buf[8];
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0 || read(c, buf, 2) != 2)
			_exit(1);
		(void)!write(c, "pong", 4);
		close(c);
		close(s);
		_exit(0);
	}
	close(s);
	snprintf(arg, sizeof(arg), "peer=unix:%s", sun.sun_path);
	CLI(&r, "--connect", arg, cli_self(), "client", "connect", "peer");
	ok(r.status == 0 && !strcmp(r.out, "pong"), "--connect: the worker reached the target by name");
	CLI(&r, "--connect", arg, cli_self(), "client", "connect", "other");
	ok(r.status == 1 && !strncmp(r.out, "error ", 6), "--connect: an unknown name is refused");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(sun.sun_path);
}

static void process_cases(void)
{
	struct cli_result r;

	CLI(&r, "--rlimit", "nofile=17", "sh", "-c", "ulimit -n");
	ok(r.status == 0 && !strcmp(r.out, "17\n"), "--rlimit nofile=17");
	CLI(&r, "--rlimit", "core=0:unlimited", "sh", "-c", "ulimit -c; ulimit -H -c");
	ok(r.status == 0 && !strcmp(r.out, "0\nunlimited\n"), "--rlimit soft:hard");
	CLI(&r, "--clearenv", "--env", "A=1", "--env", "B=2", "--env", "A=3", "/usr/bin/env");
	if (!ok(r.status == 0 && !strcmp(r.out, "B=2\nA=3\nSBX_FD=3\n"),
		"--clearenv --env: only those (last wins) and SBX_FD"))
		diag("%s", r.out);
	CLI(&r, "--chdir", "/usr", "sh", "-c", "pwd");
	ok(r.status == 0 && !strcmp(r.out, "/usr\n"), "--chdir");
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "client")) {
		int rc = client_helper(argc, argv);

		fflush(stdout);
		_exit(rc);
	}
	if (argc > 1 && !strcmp(argv[1], "uname")) {
		uname_helper();
		fflush(stdout);
		_exit(0);
	}
	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (access(cli_bin(), X_OK) < 0)
		tap_skip_all("no sandbox-run at %s", cli_bin());
	strcpy(dir, "/tmp/sbx-brk-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	chmod(dir, 0755);
	policy_cases();
	connect_case();
	process_cases();
	rmdir(dir);
	return tap_done();
}
