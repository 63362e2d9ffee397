/* RLIMIT_NOFILE exhausted, on both sides.
 * Broker (this process): with no fd to spare, an open or a get is answered
 * with an EMFILE error reply (the child goes on); an app request that
 * needs no fd is served; with 1, 2, 3 spare fds an open either succeeds or
 * says EMFILE (never anything else, never a leak); an app request carrying
 * an fd cannot be received whole (the kernel truncates the fds: MSG_CTRUNC):
 * sbx_msg_recv names the request, so the broker answers it EMFILE, audits a
 * deny, and goes on serving that child. A child added at the limit
 * (no pidfd possible) is served once the limit is raised: recovery.
 * Worker: its receive of a reply's fd hits EMFILE: sbx_client_open/get/call
 * return -EMFILE, its fd table is unchanged, and the next request after
 * raising the limit works. Each case compares the broker's fd table.
 * valgrind emulates RLIMIT_NOFILE without telling the kernel: skipped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "soak-util.h"
#include "tap.h"

#define ECHO_TYPE (SBX_REQ_CUSTOM_MIN + 1)
#define FDIN_TYPE (SBX_REQ_CUSTOM_MIN + 2)
#define FDOUT_TYPE (SBX_REQ_CUSTOM_MIN + 3)

static char dir[PATH_MAX];
static char file[PATH_MAX + 16];
static struct rlimit saved;

static int echo_handler(struct sbx_call *call, void *ud)
{
	(void)ud;
	memcpy(call->reply, call->data, call->len);
	call->reply_len = call->len;
	return 0;
}

/* Takes one fd, answers with its type bits. */
static int fdin_handler(struct sbx_call *call, void *ud)
{
	struct stat st;
	uint32_t t;

	(void)ud;
	if (call->nfds != 1 || fstat(call->fds[0], &st) < 0)
		return -EBADMSG;
	t = st.st_mode & S_IFMT;
	memcpy(call->reply, &t, sizeof(t));
	call->reply_len = sizeof(t);
	return 0;
}

/* Answers with a new fd of /dev/null. */
static int fdout_handler(struct sbx_call *call, void *ud)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)ud;
	if (fd < 0)
		return -errno;
	call->reply_fds[0] = fd;
	call->reply_nfds = 1;
	return 0;
}

/* Lower the soft limit so that exactly spare more fds can be opened. */
static void set_spare(int spare)
{
	struct rlimit r = saved;
	int lim = 0, free_slots = 0;

	/* lim: the (spare+1)-th free slot, so exactly spare free slots lie
	 * below the limit and the next one is refused. */
	for (;; lim++) {
		if (fcntl(lim, F_GETFD) >= 0)
			continue;
		if (free_slots == spare)
			break;
		free_slots++;
	}
	r.rlim_cur = (rlim_t)lim;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0)
		tap_bail("setrlimit");
}

static void restore_limit(void)
{
	if (setrlimit(RLIMIT_NOFILE, &saved) < 0)
		tap_bail("setrlimit restore");
}

/* ---- the broker out of fds ---- */

enum { B_OPEN0, B_GET0, B_ECHO0, B_OPEN1, B_OPEN2, B_OPEN3, B_OPEN_OK, B_FDIN0, B_NSTEPS };

/* Reports each result (fd kind or -errno) on keep; the parent sets the
 * broker's limit before serving each request. */
static int broker_side_child(int sock, int keep, void *arg)
{
	struct sbx_client *c;
	int res[B_NSTEPS];

	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	for (int i = 0; i < B_NSTEPS; i++) {
		uint32_t v = 42, back = 0;
		size_t len = 0;
		int fd = -1, r;

		switch (i) {
		case B_GET0:
			fd = sbx_client_get(c, "null");
			r = fd;
			break;
		case B_ECHO0:
			r = sbx_client_call(c, ECHO_TYPE, &v, sizeof(v), NULL, 0, &back,
					    sizeof(back), &len, NULL, 0, NULL);
			if (r == 0 && (len != sizeof(back) || back != 42))
				r = -EPROTO;
			break;
		case B_FDIN0: {
			int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

			r = sbx_client_call(c, FDIN_TYPE, &v, sizeof(v), &in, 1, &back,
					    sizeof(back), &len, NULL, 0, NULL);
			close(in);
			break;
		}
		default: {
			char buf[8] = "";

			fd = sbx_client_open(c, file, O_RDONLY, 0);
			r = fd;
			if (fd >= 0 && (read(fd, buf, sizeof(buf)) != 2 || memcmp(buf, "x\n", 2)))
				r = -EPROTO;
		}
		}
		if (fd >= 0) {
			close(fd);
			if (r >= 0)
				r = 0;
		}
		res[i] = r;
		if (write(keep, &res[i], sizeof(res[i])) != sizeof(res[i]))
			return 11;
	}
	sbx_client_free(c);
	return 0;
}

/* Serve exactly one request of the only child (the limit is already set). */
static void serve_one(struct sbx_broker *b)
{
	int r;

	while ((r = sbx_broker_dispatch(b, -1)) == 0)
		;
	if (r < 0)
		tap_bail("dispatch: %s", strerror(-r));
}

static int read_result(int fd)
{
	int v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return INT_MIN;
	return v;
}

static bool grep_file(int fd, const char *needle)
{
	char buf[16384];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* The recovery child: everything works again. */
static int recovery_child(int sock, int keep, void *arg)
{
	struct sbx_client *c;
	uint32_t v = 7, back = 0;
	size_t len;
	int fd, in;

	(void)keep;
	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	fd = sbx_client_open(c, file, O_RDONLY, 0);
	if (fd < 0)
		return 11;
	close(fd);
	fd = sbx_client_get(c, "null");
	if (fd < 0)
		return 12;
	close(fd);
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sbx_client_call(c, FDIN_TYPE, &v, sizeof(v), &in, 1, &back, sizeof(back), &len,
			    NULL, 0, NULL) < 0 || back != S_IFCHR)
		return 13;
	close(in);
	sbx_client_free(c);
	return 0;
}

static void broker_limit(struct sbx_broker *b, int audit)
{
	struct fd_table before;
	int pfd[2], res[B_NSTEPS];
	pid_t pid;

	fd_snapshot(&before);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	pid = soak_fork(b, pfd[1], broker_side_child, NULL, NULL);
	close(pfd[1]);
	for (int i = 0; i < B_NSTEPS; i++) {
		static const int spare[B_NSTEPS] = { 0, 0, 0, 1, 2, 3, -1, 0 };

		if (spare[i] >= 0)
			set_spare(spare[i]);
		serve_one(b);
		restore_limit();
		res[i] = read_result(pfd[0]);
	}
	is_int(res[B_OPEN0], -EMFILE, "broker at the limit: open answered EMFILE");
	is_int(res[B_GET0], -EMFILE, "broker at the limit: get answered EMFILE");
	is_int(res[B_ECHO0], 0, "broker at the limit: an app request needing no fd served");
	for (int i = B_OPEN1; i <= B_OPEN3; i++)
		ok(res[i] == 0 || res[i] == -EMFILE,
		   "broker with %d spare fd(s): open served or EMFILE (got %d)", i - B_OPEN1 + 1,
		   res[i]);
	is_int(res[B_OPEN3], 0, "broker with 3 spare fds: open served");
	is_int(res[B_OPEN_OK], 0, "limit raised: open served again");
	is_int(res[B_FDIN0], -EMFILE,
	       "broker at the limit: an fd-carrying request is answered EMFILE, child kept");
	ok(grep_file(audit, "\"verdict\":\"deny\",\"errno\":\"EMFILE\""),
	   "broker at the limit: the refusal is audited with EMFILE");
	is_int(tap_reap(pid), 0, "broker at the limit: the child saw every answer");
	serve_one(b); /* the child's EOF */
	is_int(sbx_broker_children(b), 0, "broker at the limit: the child is gone after its exit");
	close(pfd[0]);
	ok(fd_same(&before), "broker at the limit: fd table restored");

	/* Recovery: a child added at the limit (no pidfd then), served after. */
	fd_snapshot(&before);
	{
		int sock, r;

		pid = soak_fork(NULL, -1, recovery_child, NULL, &sock);
		set_spare(0);
		r = sbx_broker_add_child(b, sock, pid);
		restore_limit();
		is_int(r, 0, "recovery: a child is accepted at the limit (EOF watch only)");
		is_int(sbx_broker_serve(b), 0, "recovery: served until the child left");
		is_int(tap_reap(pid), 0, "recovery: open, get and an fd-carrying request work again");
	}
	ok(fd_same(&before), "recovery: fd table restored");
}

/* ---- the worker out of fds ---- */

static int worker_child(int sock, int keep, void *arg)
{
	struct sbx_client *c;
	struct fd_table t;
	int fd, out[1], r;
	unsigned nout = 0;
	size_t len;

	(void)keep;
	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	fd_snapshot(&t);
	set_spare(0);
	if (sbx_client_open(c, file, O_RDONLY, 0) != -EMFILE)
		return 11;
	if (sbx_client_get(c, "null") != -EMFILE)
		return 12;
	r = sbx_client_call(c, FDOUT_TYPE, NULL, 0, NULL, 0, NULL, 0, &len, out, 1, &nout);
	if (r != -EMFILE)
		return 13;
	restore_limit();
	if (!fd_same(&t))
		return 14;
	fd = sbx_client_open(c, file, O_RDONLY, 0);
	if (fd < 0)
		return 15;
	close(fd);
	if (sbx_client_call(c, FDOUT_TYPE, NULL, 0, NULL, 0, NULL, 0, &len, out, 1, &nout) < 0 ||
	    nout != 1)
		return 16;
	close(out[0]);
	if (!fd_same(&t))
		return 17;
	sbx_client_free(c);
	return 0;
}

static void worker_limit(struct sbx_broker *b)
{
	struct fd_table before;
	pid_t pid;

	fd_snapshot(&before);
	pid = soak_fork(b, -1, worker_child, NULL, NULL);
	is_int(sbx_broker_serve(b), 0, "worker at the limit: served until it left");
	is_int(tap_reap(pid), 0, "worker at the limit: open/get/call said EMFILE, nothing "
	       "leaked, the next requests worked");
	ok(fd_same(&before), "worker at the limit: broker fd table restored");
}

/* Setting up at the limit: each constructor says EMFILE, leaks nothing,
 * leaves the policy as it was, and works once the limit is raised. */
static void setup_limit(void)
{
	struct fd_table before;
	struct sbx_policy *p;
	struct sbx_broker *b = NULL;
	int sv[2], r1, r2, r3, r4;

	fd_snapshot(&before);
	if (sbx_policy_new(&p) < 0)
		tap_bail("policy");
	set_spare(0);
	r1 = sbx_broker_new(p, &b);
	r2 = sbx_policy_add_path(p, dir, SBX_PERM_READ);
	r3 = sbx_policy_add_fd(p, "in", 0);
	r4 = sbx_socketpair(sv);
	restore_limit();
	is_int(r1, -EMFILE, "setup at the limit: sbx_broker_new says EMFILE");
	is_int(r2, -EMFILE, "setup at the limit: sbx_policy_add_path says EMFILE");
	is_int(r3, -EMFILE, "setup at the limit: sbx_policy_add_fd says EMFILE");
	is_int(r4, -EMFILE, "setup at the limit: sbx_socketpair says EMFILE");
	is_int(sbx_policy_open(p, file, O_RDONLY, 0), -EACCES,
	       "setup at the limit: the failed rule was not added");
	ok(sbx_policy_add_path(p, dir, SBX_PERM_READ) == 0 && sbx_policy_add_fd(p, "in", 0) == 0 &&
	   sbx_broker_new(p, &b) == 0, "setup at the limit: all work once the limit is raised");
	sbx_broker_free(b);
	sbx_policy_free(p);
	ok(fd_same(&before), "setup at the limit: fd table restored");
}

int main(void)
{
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct fd_table start;
	int audit;

	if (soak_under_valgrind())
		tap_skip_all("valgrind emulates RLIMIT_NOFILE without passing it to the kernel");
	tap_start();
	if (getrlimit(RLIMIT_NOFILE, &saved) < 0)
		tap_bail("getrlimit");
	soak_tree("fault-rlimit", dir, sizeof(dir), file, sizeof(file));
	fd_snapshot(&start);
	p = soak_policy(dir);
	audit = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (audit < 0 || sbx_broker_new(p, &b) < 0 ||
	    sbx_broker_register(b, ECHO_TYPE, 0, echo_handler, NULL) < 0 ||
	    sbx_broker_register(b, FDIN_TYPE, 1, fdin_handler, NULL) < 0 ||
	    sbx_broker_register(b, FDOUT_TYPE, 0, fdout_handler, NULL) < 0 ||
	    sbx_broker_set_audit_fd(b, audit) < 0)
		tap_bail("broker");

	setup_limit();
	broker_limit(b, audit);
	worker_limit(b);

	sbx_broker_free(b);
	sbx_policy_free(p);
	close(audit);
	ok(fd_same(&start), "fd table as at the start");
	unlink(file);
	rmdir(dir);
	return tap_done();
}
