/* The broker serving well-behaved children through the client: grants and
 * refusals of the real policy (relative paths, "..", symlinks, O_PATH,
 * FIFOs, unknown names), app-defined handlers with fds in and out, dispatch
 * from an external poll loop, and the audit log parsed as JSON. Every case
 * checks the broker's fd table (and the child's) before and after. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "privileged/broker-internal.h"
#include "tap.h"

static char dir[PATH_MAX];
/* The fd the ping handler kept (the test closes it before comparing). */
static int kept_fd = -1;
static int kept_seen;
static char outside[PATH_MAX + 16];

typedef int (*child_fn)(struct sbx_client *c, void *arg);

/* Forks a child with only stdio and its channel end (fd 3) open; it runs
 * fn through a client and exits with fn's result, or 99 if its own fd
 * table changed. The parent's end goes to the broker. */
static pid_t start_child(struct sbx_broker *b, child_fn fn, void *arg)
{
	int sv[2];
	pid_t pid;

	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		struct sbx_client *c;
		struct fd_table t;
		int r;

		if (dup2(sv[1], 3) < 0)
			_exit(98);
		close_range(4, ~0u, 0);
		if (sbx_client_new(3, &c) < 0)
			_exit(97);
		fd_snapshot(&t);
		r = fn(c, arg);
		sbx_client_free(c);
		if (r == 0 && !fd_same(&t))
			r = 99;
		_exit(r);
	}
	close(sv[1]);
	if (sbx_broker_add_child(b, sv[0], pid) < 0)
		tap_bail("add_child");
	return pid;
}


/* Runs one child to completion under sbx_broker_serve. */
static void run_case(struct sbx_broker *b, const char *what, child_fn fn, void *arg)
{
	struct fd_table before;
	pid_t pid;
	int r;

	fd_snapshot(&before);
	pid = start_child(b, fn, arg);
	r = sbx_broker_serve(b);
	is_int(r, 0, "%s: serve returned when the child left", what);
	is_int(tap_reap(pid), 0, "%s: the child's checks passed", what);
	if (kept_fd >= 0) {
		kept_seen += fd_is_cloexec(kept_fd);
		close(kept_fd);
		kept_fd = -1;
	}
	ok(fd_same(&before), "%s: broker fd table restored", what);
}

#define CHECK(step, cond)                                                     \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "# child step %d failed: %s\n", step, #cond); \
			return step;                                          \
		}                                                             \
	} while (0)

/* A path under the test tree; kept for the whole run (freed at exit). */
static char *made[32];
static int nmade;

static char *in_dir(const char *rel)
{
	char *p;

	if (nmade == 32 || asprintf(&p, "%s/%s", dir, rel) < 0)
		tap_bail("asprintf");
	made[nmade++] = p;
	return p;
}

static int c_open_ok(struct sbx_client *c, void *arg)
{
	char buf[16] = { 0 };
	int fd;

	(void)arg;
	fd = sbx_client_open(c, in_dir("a.txt"), O_RDONLY, 0);
	CHECK(1, fd >= 0);
	CHECK(2, read(fd, buf, sizeof(buf) - 1) == 12 && !strcmp(buf, "hello world\n"));
	CHECK(3, fd_is_cloexec(fd));
	close(fd);
	fd = sbx_client_open(c, in_dir("sub"), O_RDONLY | O_DIRECTORY, 0);
	CHECK(4, fd >= 0);
	close(fd);
	/* A granted directory opened without O_DIRECTORY is not a file. */
	fd = sbx_client_open(c, in_dir("sub"), O_RDONLY, 0);
	CHECK(5, fd < 0);
	return 0;
}

struct expect_err {
	const char *path;
	int flags;
	int want;          /* expected -errno; 0: any negative */
};

static int c_open_refused(struct sbx_client *c, void *arg)
{
	const struct expect_err *e = arg;
	int fd = sbx_client_open(c, e->path, e->flags, 0);

	if (fd >= 0)
		close(fd);
	if (fd >= 0 || (e->want && fd != e->want)) {
		fprintf(stderr, "# open %s: got %d, want %d\n", e->path, fd, e->want);
		return 1;
	}
	return 0;
}

static int c_symlink_in(struct sbx_client *c, void *arg)
{
	char buf[16] = { 0 };
	int fd = sbx_client_open(c, in_dir("link"), O_RDONLY, 0);

	(void)arg;
	CHECK(1, fd >= 0);
	CHECK(2, read(fd, buf, sizeof(buf) - 1) == 12);
	close(fd);
	return 0;
}

static int c_get(struct sbx_client *c, void *arg)
{
	struct stat st;
	int fd;

	(void)arg;
	fd = sbx_client_get(c, "null");
	CHECK(1, fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode));
	close(fd);
	CHECK(2, sbx_client_get(c, "nope") < 0);
	CHECK(3, sbx_client_get(c, "") == -ENOENT);
	CHECK(4, sbx_client_connect(c, "nope") < 0);
	return 0;
}

/* ---- app-defined handler: fds in and out ------------------------------- */

#define T_PING (SBX_REQ_CUSTOM_MIN + 1)
#define T_BAD (SBX_REQ_CUSTOM_MIN + 2)

static int h_ping(struct sbx_call *call, void *ud)
{
	int p[2];

	(void)ud;
	if (call->len != 4 || memcmp(call->data, "ping", 4) || call->nfds != 2)
		return -EINVAL;
	/* Keep the first fd (take it), let the broker close the second. */
	kept_fd = call->fds[0];
	call->fds[0] = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (write(p[1], "from broker", 11) != 11) {
		close(p[0]);
		close(p[1]);
		return -EIO;
	}
	close(p[1]);
	memcpy(call->reply, "pong", 4);
	call->reply_len = 4;
	call->reply_fds[0] = p[0];
	call->reply_nfds = 1;
	return 0;
}

static int h_bad(struct sbx_call *call, void *ud)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)ud;
	/* Fails after putting an fd in the reply: the broker must close it. */
	call->reply_fds[0] = fd;
	call->reply_nfds = 1;
	return -EPERM;
}

static int c_custom(struct sbx_client *c, void *arg)
{
	char reply[8];
	size_t rlen = 0;
	int fds[2], out[2] = { -1, -1 }, devnull;
	unsigned nout = 0;
	char buf[16] = { 0 };

	(void)arg;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(1, devnull >= 0);
	fds[0] = devnull;
	fds[1] = devnull;
	CHECK(2, sbx_client_call(c, T_PING, "ping", 4, fds, 2, reply, sizeof(reply), &rlen,
				 out, 2, &nout) == 0);
	close(devnull);
	CHECK(3, rlen == 4 && !memcmp(reply, "pong", 4) && nout == 1);
	CHECK(4, read(out[0], buf, sizeof(buf)) == 11 && fd_is_cloexec(out[0]));
	close(out[0]);
	CHECK(5, sbx_client_call(c, T_BAD, NULL, 0, NULL, 0, NULL, 0, NULL, out, 2, &nout) ==
		 -EPERM);
	/* Too small a reply buffer: -EMSGSIZE, the reply's fd closed. */
	CHECK(6, sbx_client_call(c, T_PING, "ping", 4, fds, 0, reply, 2, &rlen, out, 2,
				 &nout) == -EINVAL);
	return 0;
}

static int c_custom_small(struct sbx_client *c, void *arg)
{
	char reply[2];
	size_t rlen = 0;
	int fds[2], out[2] = { -1, -1 };
	unsigned nout = 0;

	(void)arg;
	fds[0] = fds[1] = 0;
	CHECK(1, sbx_client_call(c, T_PING, "ping", 4, fds, 2, reply, sizeof(reply), &rlen,
				 out, 2, &nout) == -EMSGSIZE);
	return 0;
}

/* ---- external poll loop ------------------------------------------------- */

static int c_three_opens(struct sbx_client *c, void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		int fd = sbx_client_open(c, in_dir("a.txt"), O_RDONLY, 0);

		CHECK(1 + i, fd >= 0);
		close(fd);
	}
	return 0;
}

static void external_loop(struct sbx_broker *b)
{
	struct fd_table before;
	pid_t pid;
	int rounds = 0, bad = 0;

	fd_snapshot(&before);
	pid = start_child(b, c_three_opens, NULL);
	while (sbx_broker_children(b) > 0 && rounds < 10000) {
		struct pollfd p = { .fd = sbx_broker_fd(b), .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0) {
			bad++;
			break;
		}
		if (sbx_broker_dispatch(b, 0) < 0)
			bad++;
		rounds++;
	}
	is_int(bad, 0, "poll loop: the broker fd polled readable, dispatch(0) never failed");
	is_int(sbx_broker_children(b), 0, "poll loop: the child was served and left");
	is_int(tap_reap(pid), 0, "poll loop: the child got its three files");
	ok(fd_same(&before), "poll loop: broker fd table restored");
	is_int(sbx_broker_dispatch(b, 0), 0, "poll loop: dispatch(0) with nothing to do returns 0");
}

/* ---- internal watch hook ---------------------------------------------- */

static int watch_hits;

static int on_pipe(struct sbx_broker *b, int fd, unsigned revents, void *ud)
{
	char c;

	(void)ud;
	if ((revents & EPOLLIN) && read(fd, &c, 1) == 1 && c == 'w')
		watch_hits++;
	/* Unwatching itself from inside its callback must be safe. */
	return broker_unwatch(b, fd) == 0 ? 0 : -1;
}

static void watch_cases(struct sbx_broker *b)
{
	struct fd_table before;
	int pp[2];

	fd_snapshot(&before);
	if (pipe2(pp, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	is_int(broker_watch(b, pp[0], on_pipe, NULL), 0, "watch: pipe watched");
	is_int(broker_watch(b, pp[0], on_pipe, NULL), -EEXIST, "watch: twice is EEXIST");
	if (write(pp[1], "w", 1) != 1)
		tap_bail("write");
	is_int(sbx_broker_serve(b), 0, "watch: serve ran while the watch existed, then returned");
	is_int(watch_hits, 1, "watch: callback saw the byte once");
	is_int(broker_unwatch(b, pp[0]), -ENOENT, "watch: gone after unwatching itself");
	ok(broker_policy(b) != NULL, "broker_policy returns the policy");
	close(pp[0]);
	close(pp[1]);
	ok(fd_same(&before), "watch: fd table restored");
}

/* ---- audit log --------------------------------------------------------- */

static int json_lines_ok(const char *file, int *nlines)
{
	char cmd[PATH_MAX * 2 + 256];
	FILE *f = fopen(file, "re");
	int c, n = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	*nlines = n;
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\n"
		 "for l in open(sys.argv[1], encoding=\"utf-8\"):\n"
		 "  o = json.loads(l)\n"
		 "  assert set(o) >= {\"time\",\"pid\",\"request\",\"verdict\",\"errno\"}, o\n"
		 "  assert o[\"verdict\"] in (\"grant\",\"deny\",\"drop\"), o\n"
		 "  assert isinstance(o[\"time\"], float)\n' '%s'",
		 file);
	return system(cmd) == 0;
}

static void audit_cases(struct sbx_broker *b)
{
	char file[PATH_MAX + 16], line[1024];
	int fd, n = 0;
	size_t len;

	snprintf(file, sizeof(file), "%s/audit.log", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		tap_bail("open audit");
	is_int(sbx_broker_set_audit_fd(b, fd), 0, "audit: log fd set");
	run_case(b, "audit: grants and refusals", c_get, NULL);
	run_case(b, "audit: opens", c_open_ok, NULL);
	/* Nasty strings straight through the formatter. */
	broker_audit(b, 1, "open", "/tmp/\"quote\\back\nnl\ttab\x01\x7f\xff\xc3\xa9", -EACCES);
	broker_audit_drop(b, 2, "custom", "\x1b[31mred", 0);
	broker_audit(b, 3, "connect", NULL, EXDEV);
	sbx_broker_set_audit_fd(b, -1);
	close(fd);
	ok(json_lines_ok(file, &n), "audit: every line parses as JSON with the expected keys");
	ok(n >= 9, "audit: one line per decision (%d lines)", n);
	len = audit_format(line, 300, 1.5, 7, "open", "/\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
			   "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
			   "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
			   "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", AUDIT_DENY, EACCES);
	ok(len <= 300 && line[len - 1] == '\n' && line[len - 2] == '}',
	   "audit: a line cut to the buffer still closes its object");
}

static void setup_tree(void)
{
	char tmpl[] = "/tmp/sbx-broker-XXXXXX";
	char p[PATH_MAX * 2];
	int fd;

	if (!mkdtemp(tmpl))
		tap_bail("mkdtemp");
	/* The policy normalises paths: use the real one. */
	if (!realpath(tmpl, dir))
		tap_bail("realpath");
	snprintf(p, sizeof(p), "%s/a.txt", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "hello world\n", 12) != 12)
		tap_bail("write a.txt");
	close(fd);
	snprintf(p, sizeof(p), "%s/sub", dir);
	if (mkdir(p, 0755) < 0)
		tap_bail("mkdir");
	snprintf(p, sizeof(p), "%s/link", dir);
	if (symlink("a.txt", p) < 0)
		tap_bail("symlink");
	snprintf(outside, sizeof(outside), "%s.outside", dir);
	fd = open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		tap_bail("outside");
	close(fd);
	snprintf(p, sizeof(p), "%s/abslink", dir);
	if (symlink(outside, p) < 0)
		tap_bail("symlink");
	snprintf(p, sizeof(p), "%s/fifo", dir);
	if (mkfifo(p, 0600) < 0)
		tap_bail("mkfifo");
}

static void cleanup_tree(void)
{
	char cmd[PATH_MAX * 2 + 32];

	while (nmade > 0)
		free(made[--nmade]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, outside);
	if (system(cmd) != 0)
		diag("cleanup of %s failed", dir);
}

int main(void)
{
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct fd_table start;
	char dotdot[PATH_MAX * 2], longp[PATH_MAX + 16];
	int nullfd;

	tap_start();
	setup_tree();
	fd_snapshot(&start);
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, dir, SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("policy");
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sbx_policy_add_fd(p, "null", nullfd) < 0)
		tap_bail("policy fd");
	close(nullfd);
	is_int(sbx_broker_new(p, &b), 0, "broker created");
	is_int(sbx_broker_register(b, T_PING, 2, h_ping, NULL), 0, "handler registered");
	is_int(sbx_broker_register(b, T_BAD, 0, h_bad, NULL), 0, "second handler registered");
	is_int(sbx_broker_register(b, T_PING, 0, h_ping, NULL), -EEXIST, "same type twice: EEXIST");
	is_int(sbx_broker_register(b, 5, 0, h_ping, NULL), -EINVAL, "builtin type range: EINVAL");
	is_int(sbx_broker_register(b, T_PING + 9, SBX_MAX_FDS + 1, h_ping, NULL), -EINVAL,
	       "too many fds in: EINVAL");
	is_int(sbx_broker_serve(b), 0, "serve with no child returns at once");

	run_case(b, "open granted", c_open_ok, NULL);
	run_case(b, "symlink inside the grant", c_symlink_in, NULL);
	{
		struct expect_err cases[] = {
			{ "a.txt", O_RDONLY, -EINVAL },
			{ in_dir("missing"), O_RDONLY, -ENOENT },
			{ in_dir("a.txt"), O_RDONLY | O_PATH, 0 },
			{ in_dir("fifo"), O_RDONLY, 0 },
			{ in_dir("abslink"), O_RDONLY, 0 },
			{ in_dir("a.txt"), O_WRONLY, 0 },
			{ "/etc/passwd", O_RDONLY, 0 },
			{ "", O_RDONLY, -ENOENT },
			{ dotdot, O_RDONLY, 0 },
			{ longp, O_RDONLY, -ENAMETOOLONG },
		};
		const char *what[] = { "relative path", "missing file", "O_PATH",
				       "FIFO (no hang)", "absolute symlink out of the grant",
				       "write on a read grant", "outside the grant", "empty path",
				       "\"..\" out of the grant", "path over PATH_MAX" };

		snprintf(dotdot, sizeof(dotdot), "%s/sub/../../%s", dir, strrchr(outside, '/') + 1);
		memset(longp, 'x', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = 0;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char name[128];

			snprintf(name, sizeof(name), "refused: %s", what[i]);
			run_case(b, name, c_open_refused, &cases[i]);
		}
	}
	run_case(b, "get and connect", c_get, NULL);
	run_case(b, "app handler, fds in and out", c_custom, NULL);
	is_int(kept_seen, 1, "app handler kept the fd it took (close-on-exec)");
	run_case(b, "app reply over the client's buffer", c_custom_small, NULL);
	external_loop(b);
	watch_cases(b);
	audit_cases(b);

	ok(sbx_broker_free(b) == NULL, "broker freed");
	ok(sbx_broker_free(NULL) == NULL, "free(NULL) is fine");
	sbx_policy_free(p);
	ok(fd_same(&start), "fd table as at the start");
	cleanup_tree();
	return tap_done();
}
