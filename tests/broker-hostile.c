/* Hostile children: every protocol violation is refused (error reply with
 * the request's id when it is known), audited as a drop, and the child is
 * dropped; the broker's fd table is exactly as before. Also: a child dying
 * mid-request, a child that never reads its replies, and a flood from one
 * child while another is served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "peer.h"
#include "proto/request.h"
#include "tap.h"

#define T_ONEFD (SBX_REQ_CUSTOM_MIN + 1)
#define T_MALFORMED (SBX_REQ_CUSTOM_MIN + 2)
#define T_TWOFD (SBX_REQ_CUSTOM_MIN + 3)

struct hostile {
	const char *what;
	uint32_t type;
	const void *data;
	size_t len;
	int nfds;          /* fds of /dev/null sent along */
	int raw;           /* 1: send with raw_send (oversize, bad version) */
	int want_err;      /* errno of the error reply; 0: no reply, only EOF */
};

static int h_onefd(struct sbx_call *call, void *ud)
{
	(void)call;
	(void)ud;
	return 0;
}

static int h_malformed(struct sbx_call *call, void *ud)
{
	(void)call;
	(void)ud;
	return -EBADMSG;
}

static pid_t fork_child(struct sbx_broker *b, int (*fn)(int sock, void *arg), void *arg)
{
	int sv[2];
	pid_t pid;

	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(98);
		close_range(4, ~0u, 0);
		_exit(fn(3, arg));
	}
	close(sv[1]);
	if (sbx_broker_add_child(b, sv[0], pid) < 0)
		tap_bail("add_child");
	return pid;
}


/* The child side of a hostile case: send, expect the refusal, then EOF. */
static int hostile_exchange(int sock, const struct hostile *h, struct sbx_msg *m)
{
	int fds[SBX_MAX_FDS + 1], r, err;

	open_nulls(fds, h->nfds);
	if (h->raw) {
		struct sbx_wire_hdr hdr = { .version = 1, .nfds = (uint16_t)h->nfds,
					    .type = h->type, .id = 4242, .len = (uint32_t)h->len };

		if (h->raw == 2)
			hdr.version = 9;
		r = raw_send(sock, &hdr, h->data, h->len, fds, h->nfds) > 0 ? 0 : -EIO;
	} else {
		r = sbx_msg_send(sock, h->type, 4242, h->data, h->len, fds, (size_t)h->nfds);
	}
	close_fds(fds, h->nfds);
	if (r == -EPERM && h->nfds && !h->want_err)
		return 50;         /* SO_PASSRIGHTS off: refused by the kernel */
	if (r < 0)
		return 10;
	r = sbx_msg_recv(sock, m, 1);
	if (h->want_err) {
		if (r != 1 || m->type != REPLY_ERR || m->id != 4242 || m->nfds ||
		    reply_err_decode(m->data, m->len, &err) < 0) {
			fprintf(stderr, "# %s: reply r=%d type=%#x id=%u\n", h->what, r, m->type, m->id);
			return 11;
		}
		if (err != h->want_err) {
			fprintf(stderr, "# %s: errno %d, want %d\n", h->what, err, h->want_err);
			return 12;
		}
		r = sbx_msg_recv(sock, m, 1);
	}
	if (r != 0) {
		fprintf(stderr, "# %s: after the refusal r=%d, want EOF\n", h->what, r);
		return 13;
	}
	return 0;
}

static int send_hostile(int sock, void *arg)
{
	struct sbx_msg *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return 9;
	r = hostile_exchange(sock, arg, m);
	sbx_msg_clear(m);
	free(m);
	return r;
}

static int audit_has(int afd, const char *needle)
{
	static char buf[65536];
	ssize_t n = pread(afd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

static void hostile_case(struct sbx_broker *b, const struct hostile *h)
{
	struct fd_table before;
	int afd = memfd_create("audit", MFD_CLOEXEC);
	pid_t pid;
	int st;

	if (afd < 0)
		tap_bail("memfd_create");
	sbx_broker_set_audit_fd(b, afd);
	fd_snapshot(&before);
	pid = fork_child(b, send_hostile, (void *)h);
	is_int(sbx_broker_serve(b), 0, "%s: serve returned", h->what);
	is_int(sbx_broker_children(b), 0, "%s: child dropped", h->what);
	st = tap_reap(pid);
	if (st == 50) {
		ok(1, "%s: the kernel refused the fds at sendmsg (SO_PASSRIGHTS)", h->what);
		ok(fd_same(&before), "%s: broker fd table unchanged", h->what);
		skip(1, "nothing reached the broker, nothing to audit");
	} else {
		is_int(st, 0, "%s: child saw %s, then EOF", h->what,
		       h->want_err ? "the refusal" : "no reply");
		ok(fd_same(&before), "%s: broker fd table restored (fds it sent closed)", h->what);
		ok(audit_has(afd, "\"verdict\":\"drop\""), "%s: audited as a drop", h->what);
	}
	sbx_broker_set_audit_fd(b, -1);
	close(afd);
}

static void protocol_cases(struct sbx_broker *b, struct sbx_broker *b0)
{
	static unsigned char big[SBX_MSG_MAX + 100];
	static unsigned char longpath[12 + REQ_PATH_MAX + 1];
	unsigned char nul[12 + 11], empty[12], trunc[7], garbage[4 + 4 + 1], okopen[64];
	uint32_t v;
	int n;

	memset(nul, 0, sizeof(nul));
	v = 11;
	memcpy(nul + 8, &v, 4);
	memcpy(nul + 12, "/etc\0passwd", 11);
	memset(empty, 0, sizeof(empty));
	memset(trunc, 0, sizeof(trunc));
	memset(longpath, 'a', sizeof(longpath));
	memset(longpath, 0, 8);
	longpath[12] = '/';
	v = REQ_PATH_MAX + 1;
	memcpy(longpath + 8, &v, 4);
	n = req_name_encode(garbage, sizeof(garbage), "null");
	garbage[n] = 'x';
	n = req_open_encode(okopen, sizeof(okopen), O_RDONLY, 0, "/dev/null");
	memset(big, 'b', sizeof(big));

	const struct hostile cases[] = {
		{ "unknown request type", 77, NULL, 0, 0, 0, EBADRQC },
		{ "reply type as a request", REPLY_OK, NULL, 0, 0, 0, EBADRQC },
		{ "unregistered app type", SBX_REQ_CUSTOM_MIN + 5, NULL, 0, 0, 0, EBADRQC },
		{ "embedded NUL in the path", REQ_OPEN, nul, sizeof(nul), 0, 0, EBADMSG },
		{ "empty path on the wire", REQ_OPEN, empty, sizeof(empty), 0, 0, EBADMSG },
		{ "path over PATH_MAX on the wire", REQ_OPEN, longpath, sizeof(longpath), 0, 0, EBADMSG },
		{ "truncated open", REQ_OPEN, trunc, sizeof(trunc), 0, 0, EBADMSG },
		{ "get with trailing garbage", REQ_GET, garbage, 4 + 4 + 1, 0, 0, EBADMSG },
		{ "open carrying an fd", REQ_OPEN, okopen, (size_t)n, 1, 0, ETOOMANYREFS },
		{ "app type with one fd too many", T_ONEFD, NULL, 0, 2, 0, ETOOMANYREFS },
		{ "more fds than any type takes", T_TWOFD, NULL, 0, 3, 0, 0 },
		{ "request over SBX_LIMIT_REQUEST_BYTES", T_ONEFD, big, 5000, 0, 0, EMSGSIZE },
		{ "request over SBX_MSG_MAX", T_ONEFD, big, sizeof(big), 0, 1, 0 },
		{ "wrong protocol version", REQ_OPEN, okopen, (size_t)n, 0, 2, 0 },
		{ "handler says malformed", T_MALFORMED, "x", 1, 0, 0, EBADMSG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		hostile_case(b, &cases[i]);

	/* A broker that accepts no fds at all: the fd is refused by the kernel
	 * receive itself (no control buffer), the id is unknown: EOF only. */
	struct hostile nofd = { "fd to a broker taking none", REQ_OPEN, okopen, (size_t)n, 1, 0, 0 };
	struct hostile many = { "16 fds to a broker taking none", REQ_GET, garbage, 8, 16, 0, 0 };

	hostile_case(b0, &nofd);
	hostile_case(b0, &many);
}

/* ---- children that misbehave in time ----------------------------------- */

static int die_mid_request(int sock, void *arg)
{
	unsigned char buf[64];
	int n = req_open_encode(buf, sizeof(buf), O_RDONLY, 0, "/dev/null");

	(void)arg;
	sbx_msg_send(sock, REQ_OPEN, 1, buf, (size_t)n, NULL, 0);
	if (arg)
		raise(SIGKILL);
	_exit(0);
}

static void dying_cases(struct sbx_broker *b)
{
	for (int k = 0; k < 2; k++) {
		struct fd_table before;
		pid_t pid;

		fd_snapshot(&before);
		pid = fork_child(b, die_mid_request, k ? (void *)1 : NULL);
		/* Make sure it is gone before the broker looks. */
		tap_reap(pid);
		is_int(sbx_broker_serve(b), 0, "dies mid-request (%s): serve returned",
		       k ? "SIGKILL" : "exit");
		is_int(sbx_broker_children(b), 0, "dies mid-request (%s): child dropped",
		       k ? "SIGKILL" : "exit");
		ok(fd_same(&before), "dies mid-request (%s): broker fd table restored",
		   k ? "SIGKILL" : "exit");
	}
}

/* Sends get requests (each answered with an fd) and never reads. */
static int never_reads(int sock, void *arg)
{
	unsigned char buf[64];
	int n = req_name_encode(buf, sizeof(buf), "null");

	(void)arg;
	for (int i = 0; i < 100000; i++) {
		int r = sbx_msg_send(sock, REQ_GET, (uint32_t)i + 1, buf, (size_t)n, NULL, 0);

		if (r == -EPIPE || r == -ECONNRESET)
			return 0;     /* dropped: the broker did not wait for us */
		if (r < 0)
			return 20;
	}
	return 21;
}

static void never_reads_case(struct sbx_broker *b)
{
	struct fd_table before;
	int afd = memfd_create("audit", MFD_CLOEXEC);
	pid_t pid;

	sbx_broker_set_audit_fd(b, afd);
	fd_snapshot(&before);
	pid = fork_child(b, never_reads, NULL);
	is_int(sbx_broker_serve(b), 0, "never reads: serve returned (did not block)");
	is_int(tap_reap(pid), 0, "never reads: the child was dropped (its sends fail)");
	ok(fd_same(&before), "never reads: broker fd table restored");
	ok(audit_has(afd, "\"request\":\"reply\"") && audit_has(afd, "EAGAIN"),
	   "never reads: audited as a drop on EAGAIN");
	sbx_broker_set_audit_fd(b, -1);
	close(afd);
}

/* A legitimate but relentless child: synchronous gets as fast as it can. */
static int flood(int sock, void *arg)
{
	struct sbx_client *c;
	long n = 0;

	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 30;
	for (;;) {
		int fd = sbx_client_get(c, "null");

		if (fd < 0)
			break;
		close(fd);
		n++;
	}
	sbx_client_free(c);
	return 0;
}

static int quiet(int sock, void *arg)
{
	struct sbx_client *c;
	int bad = 0;

	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 40;
	for (int i = 0; i < 50; i++) {
		int fd = sbx_client_get(c, "null");

		bad += fd < 0;
		if (fd >= 0)
			close(fd);
	}
	sbx_client_free(c);
	return bad ? 41 : 0;
}

static void flood_case(struct sbx_broker *b)
{
	struct fd_table before;
	pid_t fl, q;
	int rounds = 0, st, qdone = 0, qstatus = -1;

	fd_snapshot(&before);
	fl = fork_child(b, flood, NULL);
	/* Let the flood get going first. */
	for (int i = 0; i < 50; i++)
		sbx_broker_dispatch(b, 100);
	q = fork_child(b, quiet, NULL);
	while (!qdone && rounds++ < 1000000) {
		if (sbx_broker_dispatch(b, 1000) < 0)
			break;
		if (waitpid(q, &st, WNOHANG) == q) {
			qdone = 1;
			qstatus = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
	}
	ok(qdone && qstatus == 0, "flood: the other child got its 50 answers (status %d)", qstatus);
	ok(kill(fl, 0) == 0 && sbx_broker_children(b) >= 1, "flood: the flooding child is still served");
	kill(fl, SIGKILL);
	is_int(sbx_broker_serve(b), 0, "flood: serve returned once both left");
	tap_reap(fl);
	ok(fd_same(&before), "flood: broker fd table restored");
}

int main(void)
{
	struct sbx_policy *p;
	struct sbx_broker *b, *b0;
	struct fd_table start;
	int nullfd;

	tap_start();
	signal(SIGPIPE, SIG_IGN);
	fd_snapshot(&start);
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, "/dev", SBX_PERM_READ) < 0)
		tap_bail("policy");
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sbx_policy_add_fd(p, "null", nullfd) < 0)
		tap_bail("policy fd");
	close(nullfd);
	if (sbx_broker_new(p, &b) < 0 || sbx_broker_new(p, &b0) < 0)
		tap_bail("broker");
	if (sbx_broker_register(b, T_ONEFD, 1, h_onefd, NULL) < 0 ||
	    sbx_broker_register(b, T_TWOFD, 2, h_onefd, NULL) < 0 ||
	    sbx_broker_register(b, T_MALFORMED, 0, h_malformed, NULL) < 0)
		tap_bail("register");

	protocol_cases(b, b0);
	dying_cases(b);
	never_reads_case(b);
	flood_case(b);

	sbx_broker_free(b);
	sbx_broker_free(b0);
	sbx_policy_free(p);
	ok(fd_same(&start), "fd table as at the start");
	return tap_done();
}
