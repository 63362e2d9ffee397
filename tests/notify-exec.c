/* Unmodified programs (cat, python3, a static binary) exec'd under a notify
 * filter, their opens served by the broker's loop through notify_attach,
 * with the default runtime grants. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/policy.h>
#include <sbx/proto.h>

#include "privileged/notify.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *content)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		tap_bail("write %s", p);
	close(fd);
}

struct outcome {
	int status;         /* wait status */
	char out[4096];     /* stdout + stderr */
	char audit[8192];
	char denied[64];    /* first denied syscall reported */
	unsigned long long denied_arg0;
	int denials;
};

static void on_denial(const struct notify_denial *d, void *ud)
{
	struct outcome *o = ud;

	if (!o->denials++) {
		snprintf(o->denied, sizeof(o->denied), "%s", d->name);
		o->denied_arg0 = d->args[0];
	}
}

static void read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
}

/* Run argv under a filter trapping the opens (and socket when trace) with
 * the policy p, served by a broker. */
static void run(struct sbx_policy *p, char *const argv[], bool trace, struct outcome *o)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/nonexistent", NULL };
	struct notify_opts opts = { .on_denial = on_denial, .ud = o };
	struct sbx_broker *b;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	int sv[2], out[2], aud[2], r;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (!m || sbx_socketpair(sv) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(aud, O_CLOEXEC) < 0)
		tap_bail("setup");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
		int lfd;

		if (dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(120);
		if (!f || seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(open), 0) < 0 ||
		    seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 0) < 0 ||
		    seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat2), 0) < 0 ||
		    seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(creat), 0) < 0 ||
		    (trace && seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 0) < 0) ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(f) < 0)
			_exit(121);
		lfd = seccomp_notify_fd(f);
		if (lfd < 0 || sbx_msg_send(sv[1], 1, 0, "L", 1, &lfd, 1) < 0)
			_exit(122);
		close(lfd);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(sv[1]);
	close(out[1]);
	if (sbx_msg_recv(sv[0], m, 1) != 1 || m->nfds != 1)
		tap_bail("no listener");
	if (sbx_broker_new(p, &b) < 0 || sbx_broker_set_audit_fd(b, aud[1]) < 0)
		tap_bail("broker");
	r = notify_attach(b, sbx_msg_take_fd(m, 0), pid, &opts);
	if (r < 0)
		diag("notify_attach: %s", strerror(-r));
	/* Runs until the listener hangs up (the worker's tasks are gone). */
	r = sbx_broker_serve(b);
	if (r < 0)
		diag("serve: %s", strerror(-r));
	sbx_broker_free(b);
	close(aud[1]);
	read_all(out[0], o->out, sizeof(o->out));
	read_all(aud[0], o->audit, sizeof(o->audit));
	close(out[0]);
	close(aud[0]);
	close(sv[0]);
	while (waitpid(pid, &o->status, 0) < 0 && errno == EINTR)
		;
	sbx_msg_clear(m);
	free(m);
}

static bool exited(const struct outcome *o, int code)
{
	return WIFEXITED(o->status) && WEXITSTATUS(o->status) == code;
}

int main(void)
{
	struct sbx_policy *p, *bare;
	struct outcome o;
	struct fd_table before;
	char path[512], secret[512], st_bin[PATH_MAX];

	if (getenv("SBX_UNDER_VALGRIND"))
		tap_skip_all("valgrind does not implement seccomp(2) (syscall 317), which the workers install");
	if (seccomp_api_get() < 5)
		tap_skip_all("seccomp user notification not available");
	tap_start();
	snprintf(root, sizeof(root), "/tmp/sbx-nexec-XXXXXX");
	if (!mkdtemp(root))
		tap_bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/g", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/s", root);
	mkdir(path, 0755);
	put("g/file", "granted-content\n");
	put("s/file", "SECRET\n");
	if (sbx_policy_new(&p) < 0 || notify_default_grants(p) < 0)
		tap_bail("policy");
	snprintf(path, sizeof(path), "%s/g", root);
	if (sbx_policy_add_path(p, path, SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("add");
	snprintf(path, sizeof(path), "%s/g/file", root);
	snprintf(secret, sizeof(secret), "%s/s/file", root);

	fd_snapshot(&before);
	{
		char *argv[] = { "/bin/cat", path, NULL };

		run(p, argv, false, &o);
		ok(exited(&o, 0) && strcmp(o.out, "granted-content\n") == 0,
		   "cat of a granted file works (with LANG=C.UTF-8 and the default grants)");
		if (!exited(&o, 0))
			diag("status 0x%x, output: %s", o.status, o.out);
		ok(strstr(o.audit, "notify-open") && strstr(o.audit, "g/file"),
		   "the broker's audit log records the brokered open");
	}
	{
		char *argv[] = { "/bin/cat", secret, NULL };

		run(p, argv, false, &o);
		ok(exited(&o, 1) && strstr(o.out, "Permission denied") && !strstr(o.out, "SECRET"),
		   "cat of an ungranted file fails with EACCES");
	}
	{
		char *argv[] = { "/usr/bin/python3", "-c", "import json; print(json.dumps([1, 2]))", NULL };

		if (access(argv[0], X_OK) < 0) {
			skip(1, "no python3");
		} else {
			run(p, argv, false, &o);
			ok(exited(&o, 0) && strcmp(o.out, "[1, 2]\n") == 0,
			   "python3 -c 'import json' works with only the default grants");
			if (!exited(&o, 0))
				diag("status 0x%x, output: %.300s", o.status, o.out);
		}
	}
	{
		char *argv[] = { "/usr/bin/python3", "-c", "import socket; socket.socket()", NULL };

		if (access(argv[0], X_OK) < 0) {
			skip(2, "no python3");
		} else {
			run(p, argv, true, &o);
			ok(exited(&o, 1) && strstr(o.out, "PermissionError"), "a traced socket() fails with EPERM");
			ok(o.denials == 1 && strcmp(o.denied, "socket") == 0 && o.denied_arg0 == 2,
			   "the denial names socket with its arguments (AF_INET)");
		}
	}
	snprintf(st_bin, sizeof(st_bin), "%s/tests/notify-static", tap_build_dir());
	if (access(st_bin, X_OK) < 0) {
		skip(2, "no static test binary (no /usr/lib/x86_64-linux-gnu/libc.a at build time)");
	} else {
		char *argv[] = { st_bin, path, secret, NULL };
		char want1[600], want2[600];

		run(p, argv, false, &o);
		snprintf(want1, sizeof(want1), "%s: granted-content", path);
		snprintf(want2, sizeof(want2), "%s: Permission denied", secret);
		ok(strstr(o.out, want1) != NULL, "a static binary's open of a granted file is served");
		ok(strstr(o.out, want2) && !strstr(o.out, "SECRET"), "a static binary is held to the same rules");
	}
	if (sbx_policy_new(&bare) < 0)
		tap_bail("policy");
	{
		char *argv[] = { "/bin/cat", path, NULL };

		run(bare, argv, false, &o);
		ok(!exited(&o, 0), "without the default grants the dynamic loader cannot even load libc");
	}
	sbx_policy_free(bare);
	ok(fd_same(&before), "no fd left behind by the runs (listeners closed at hang-up)");

	sbx_policy_free(p);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	if (system(path) != 0)
		diag("could not remove %s", root);
	return tap_done();
}
