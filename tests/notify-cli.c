/* The built sandbox-run, as a user drives it: brokered opens of unmodified
 * programs (default profile: seccomp notify), --trace-denied and its
 * summary, --seccomp-action=kill, --json-status-fd, --no-default-grants. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "tap.h"

static char sr[PATH_MAX];
static char root[256];
static uid_t as_uid; /* 0: run sandbox-run as root; else as this ordinary user */

struct res {
	int code;            /* exit code, or 128+sig */
	char out[8192], err[8192], json[4096];
};

static void drain(int fds[3], char *bufs[3], size_t cap)
{
	size_t len[3] = { 0, 0, 0 };
	int open_n = 3;

	while (open_n > 0) {
		struct pollfd p[3];
		int i;

		for (i = 0; i < 3; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(p, 3, 30000) <= 0)
			break;
		for (i = 0; i < 3; i++) {
			ssize_t n;

			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(fds[i], bufs[i] + len[i], cap - 1 - len[i]);
			if (n <= 0) {
				close(fds[i]);
				fds[i] = -1;
				open_n--;
				continue;
			}
			len[i] += (size_t)n;
			if (len[i] >= cap - 1) {
				close(fds[i]);
				fds[i] = -1;
				open_n--;
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		bufs[i][len[i]] = 0;
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

/* sandbox-run ARGS... with stdout, stderr and fd 9 (json) captured. */
static void run(struct res *r, char *const args[])
{
	char *argv[64];
	int o[2], e[2], j[2], st, n = 0;
	pid_t pid;

	argv[n++] = sr;
	while (*args && n < 62)
		argv[n++] = *args++;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 || pipe2(j, O_CLOEXEC) < 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		if (dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0 || dup2(j[1], 9) < 0)
			_exit(99);
		if (as_uid && (setgroups(0, NULL) < 0 || setresgid(as_uid, as_uid, as_uid) < 0 ||
			       setresuid(as_uid, as_uid, as_uid) < 0))
			_exit(97);
		if (chdir("/tmp") < 0)
			_exit(99);
		execv(sr, argv);
		_exit(98);
	}
	close(o[1]);
	close(e[1]);
	close(j[1]);
	{
		int fds[3] = { o[0], e[0], j[0] };
		char *bufs[3] = { r->out, r->err, r->json };

		drain(fds, bufs, sizeof(r->json));
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void put(const char *rel, const char *content, char *ret, size_t len)
{
	int fd;

	snprintf(ret, len, "%s/%s", root, rel);
	fd = open(ret, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		tap_bail("write %s", ret);
	close(fd);
}

/* Every line of the status output is one JSON object: checked with python3's
 * parser when it is there. */
static bool json_parses(const char *text)
{
	char file[300], cmd[700];
	FILE *f;
	int st;

	if (access("/usr/bin/python3", X_OK) < 0)
		return text[0] == '{';
	snprintf(file, sizeof(file), "%s/status.json", root);
	f = fopen(file, "we");
	if (!f)
		return false;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' %s",
		 file);
	st = system(cmd);
	return st == 0;
}

static void cases(char *granted, char *secret, const char *ro_arg)
{
	char st_bin[PATH_MAX], ro[320];
	struct res r;

	snprintf(ro, sizeof(ro), "%s", ro_arg);

	{
		char *a[] = { "--ro", ro, "--", "cat", granted, NULL };

		run(&r, a);
		ok(r.code == 0 && strcmp(r.out, "granted-content\n") == 0, "cat of a granted file works");
		if (r.code)
			diag("exit %d: %s", r.code, r.err);
	}
	{
		char *a[] = { "--ro", ro, "--", "cat", secret, NULL };

		run(&r, a);
		ok(r.code == 1 && strstr(r.err, "Permission denied") && !strstr(r.out, "SECRET"),
		   "cat of another file fails with EACCES");
	}
	{
		char *a[] = { "--", "/usr/bin/python3", "-c", "import json; print(json.dumps({'a': 1}))", NULL };

		if (access("/usr/bin/python3", X_OK) < 0) {
			skip(1, "no /usr/bin/python3");
		} else {
			run(&r, a);
			ok(r.code == 0 && strcmp(r.out, "{\"a\": 1}\n") == 0,
			   "python3 -c 'import json' works with only the default grants");
			if (r.code)
				diag("exit %d: %.400s", r.code, r.err);
		}
	}
	snprintf(st_bin, sizeof(st_bin), "%s/tests/notify-static", tap_build_dir());
	if (access(st_bin, X_OK) == 0) {
		const char *pub = tap_public_copy(st_bin);

		if (pub != st_bin)
			snprintf(st_bin, sizeof(st_bin), "%s", pub);
	}
	if (access(st_bin, X_OK) < 0) {
		skip(1, "no static test binary (no /usr/lib/x86_64-linux-gnu/libc.a at build time)");
	} else {
		char *a[] = { "--ro", ro, "--", st_bin, granted, secret, NULL };
		char want1[400], want2[400];

		run(&r, a);
		snprintf(want1, sizeof(want1), "%s: granted-content", granted);
		snprintf(want2, sizeof(want2), "%s: Permission denied", secret);
		ok(strstr(r.out, want1) && strstr(r.out, want2) && !strstr(r.out, "SECRET"),
		   "a static binary is held to the same rules");
		if (!strstr(r.out, want1))
			diag("exit %d out %s err %s", r.code, r.out, r.err);
	}
	{
		char *a[] = { "--trace-denied", "--json-status-fd", "9", "--", "/usr/bin/python3", "-c",
			      "import socket\n"
			      "for i in range(3):\n"
			      "    try: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"
			      "    except PermissionError: pass\n"
			      "print('done')", NULL };

		if (access("/usr/bin/python3", X_OK) < 0) {
			skip(5, "no /usr/bin/python3");
		} else {
			run(&r, a);
			ok(r.code == 0 && strcmp(r.out, "done\n") == 0, "denied socket() fails with EPERM, the program goes on");
			ok(strstr(r.err, "sandbox-run: denied: socket(0x11, ") != NULL,
			   "--trace-denied names socket with its arguments");
			ok(strstr(r.err, "socket (3)") && strstr(r.err, "--allow-syscall socket") &&
			   strstr(r.err, "\nallow-syscall socket\n"),
			   "the summary at exit counts it and can be pasted back");
			if (!strstr(r.err, "--allow-syscall socket"))
				diag("stderr: %s", r.err);
			ok(json_parses(r.json), "the status-fd output parses as JSON lines");
			ok(strstr(r.json, "\"event\":\"denied\"") && strstr(r.json, "\"syscall\":\"socket\"") &&
			   strstr(r.json, "{\"event\":\"exit\",\"code\":0}"),
			   "it carries the denial and the right exit");
		}
	}
	{
		char *a[] = { "--seccomp-action=kill", "--json-status-fd", "9", "--", "/usr/bin/python3", "-c",
			      "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)", NULL };

		if (access("/usr/bin/python3", X_OK) < 0) {
			skip(2, "no /usr/bin/python3");
		} else {
			run(&r, a);
			is_int(r.code, 128 + SIGSYS, "killed by seccomp: exit 128+SIGSYS");
			ok(strstr(r.err, "killed by seccomp (SIGSYS)") && strstr(r.json, "\"signal\":31"),
			   "reported as a seccomp kill (stderr and status)");
		}
	}
	{
		char *a[] = { "--no-default-grants", "--ro", ro, "--", "cat", granted, NULL };

		run(&r, a);
		ok(r.code != 0 && !strstr(r.out, "granted-content"),
		   "--no-default-grants: a dynamic program cannot load its libraries (exit %d)", r.code);
	}
	{
		char *a[] = { "--help", NULL };

		run(&r, a);
		ok(r.code == 0 && strstr(r.out, "--trace-denied") && strstr(r.out, "/etc/ld.so.cache") &&
		   strstr(r.out, "/usr/share/zoneinfo"), "--help lists --trace-denied and the default grants");
	}
	{
		/* The worker's whole process tree ends with sandbox-run. */
		char *a[] = { "--", "/bin/sh", "-c", "sleep 60 & echo $!", NULL };
		int pid;

		run(&r, a);
		pid = atoi(r.out);
		ok(r.code == 0 && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH,
		   "a background grandchild does not outlive sandbox-run (pid %d)", pid);
	}
	{
		char *a[] = { "--timeout", "1", "--", "/bin/sleep", "30", NULL };

		run(&r, a);
		is_int(r.code, 124, "--timeout: the worker is killed, exit 124");
	}
}

int main(void)
{
	char granted[300], secret[300], ro_grant[320];


	if (getenv("SBX_UNDER_VALGRIND"))
		tap_skip_all("sandbox-run's workers install seccomp filters valgrind cannot follow");
	if (!tap_is_root())
		tap_skip_all("run as root: it starts sandbox-run as root and as uid 65534");
	if (seccomp_api_get() < 5)
		tap_skip_all("no seccomp user notification");
	snprintf(sr, sizeof(sr), "%s/sandbox-run", tap_build_dir());
	if (access(sr, X_OK) < 0)
		tap_skip_all("sandbox-run not built");
	/* Started by uid 65534 too: from a checkout in a private directory,
	 * a copy it can reach. */
	{
		const char *pub = tap_public_copy(sr);

		if (pub != sr)
			snprintf(sr, sizeof(sr), "%s", pub);
	}
	tap_start();
	snprintf(root, sizeof(root), "/tmp/sbx-ncli-XXXXXX");
	if (!mkdtemp(root))
		tap_bail("mkdtemp");
	put("granted", "granted-content\n", granted, sizeof(granted));
	put("secret", "SECRET\n", secret, sizeof(secret));
	snprintf(ro_grant, sizeof(ro_grant), "%s", granted);
	/* Readable by everyone: a refusal below is the sandbox's, not the
	 * file mode's, in the ordinary-user run too. */
	if (chmod(root, 0755) < 0)
		tap_bail("chmod");
	tap_prefix("root");
	cases(granted, secret, ro_grant);
	/* The same, sandbox-run started by an ordinary user (no uid change,
	 * but seccomp notify, Landlock and no_new_privs all apply). */
	as_uid = 65534;
	tap_prefix("uid 65534");
	cases(granted, secret, ro_grant);
	tap_prefix(NULL);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			diag("could not remove %s", root);
	}
	return tap_done();
}
