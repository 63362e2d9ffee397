/* I/O faults. Full socket buffers: a child that sends requests and never
 * reads its replies is dropped by the broker (the broker's send says
 * EAGAIN; it never blocks) while still alive, and another child is served
 * throughout; a client on a full non-blocking socket gets -EAGAIN from
 * sbx_msg_send and from sbx_client_call, nothing half-sent, and its next
 * call works once the peer has drained. EINTR storms: SIGUSR1 (handler
 * without SA_RESTART) hammering the broker while it serves children, and
 * hitting a client while it is blocked waiting for its reply (checked
 * through /proc/PID/syscall and a shared counter, so each signal is known
 * to have landed inside the wait): every request gets exactly one correct
 * reply. Each case compares the broker's fd table before and after. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "proto/request.h"
#include "soak-util.h"
#include "tap.h"

#define SEQ_TYPE (SBX_REQ_CUSTOM_MIN + 1)

static char dir[PATH_MAX];
static char file[PATH_MAX + 16];
static bool stop_seq;
static unsigned long seq_served;

struct seq_reply {
	uint32_t seq;
	uint32_t stop;
};

static int seq_handler(struct sbx_call *call, void *ud)
{
	struct seq_reply r;

	(void)ud;
	if (call->len != sizeof(uint32_t))
		return -EBADMSG;
	memcpy(&r.seq, call->data, sizeof(r.seq));
	r.stop = stop_seq;
	memcpy(call->reply, &r, sizeof(r));
	call->reply_len = sizeof(r);
	seq_served++;
	return 0;
}

/* A well-behaved child: numbered requests, each reply checked, until the
 * broker says stop (arg NULL) or for *(unsigned *)arg requests, mixing in
 * opens and gets. */
static int seq_child(int sock, int keep, void *arg)
{
	unsigned limit = arg ? *(unsigned *)arg : UINT_MAX;
	struct sbx_client *c;
	struct seq_reply r;
	size_t len;

	(void)keep;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	for (uint32_t seq = 1; seq <= limit; seq++) {
		char buf[4];
		int fd;

		if (sbx_client_call(c, SEQ_TYPE, &seq, sizeof(seq), NULL, 0, &r, sizeof(r), &len,
				    NULL, 0, NULL) < 0)
			return 11;
		if (len != sizeof(r) || r.seq != seq)
			return 12;
		if (r.stop)
			break;
		if (!arg)
			continue;
		fd = sbx_client_open(c, file, O_RDONLY, 0);
		if (fd < 0 || read(fd, buf, sizeof(buf)) != 2 || memcmp(buf, "x\n", 2))
			return 13;
		close(fd);
		fd = sbx_client_get(c, "null");
		if (fd < 0)
			return 14;
		close(fd);
	}
	sbx_client_free(c);
	return 0;
}

static bool grep_file(int fd, const char *needle)
{
	static char buf[1 << 16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* ---- full buffers ---- */

/* Sends GET requests (each reply carries an fd) and never reads; reports
 * how many it sent once its send fails (the broker dropped it), then
 * waits to be killed. */
static int non_reader(int sock, int keep, void *arg)
{
	uint8_t req[8] = { 4, 0, 0, 0, 'n', 'u', 'l', 'l' };
	unsigned sent = 0;

	(void)arg;
	signal(SIGPIPE, SIG_IGN);
	for (uint32_t id = 1; id < 100000; id++) {
		if (sbx_msg_send(sock, REQ_GET, id, req, sizeof(req), NULL, 0) < 0)
			break;
		sent++;
	}
	if (write(keep, &sent, sizeof(sent)) != sizeof(sent))
		return 10;
	for (;;)
		pause();
}

struct alive_arg {
	struct sbx_broker *b;
	int want;
};

static bool children_is(void *arg)
{
	struct alive_arg *a = arg;

	sbx_broker_dispatch(a->b, 10);
	return sbx_broker_children(a->b) == a->want;
}

static void broker_full(struct sbx_broker *b, int audit)
{
	struct fd_table before;
	struct alive_arg a = { b, 1 };
	unsigned long served;
	unsigned sent = 0;
	pid_t byst, nr;
	int pfd[2], st;

	fd_snapshot(&before);
	stop_seq = false;
	byst = soak_fork(b, -1, seq_child, NULL, NULL);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	nr = soak_fork(b, pfd[1], non_reader, NULL, NULL);
	close(pfd[1]);
	served = seq_served;
	ok(soak_wait_for(children_is, &a), "full buffer: the child that never reads was dropped");
	ok(waitpid(nr, &st, WNOHANG) == 0, "full buffer: ... while it was still alive");
	if (read(pfd[0], &sent, sizeof(sent)) != sizeof(sent))
		sent = 0;
	ok(sent > 0, "full buffer: its next send failed once dropped (%u requests sent)", sent);
	ok(grep_file(audit, "\"request\":\"reply\",\"verdict\":\"drop\",\"errno\":\"EAGAIN\""),
	   "full buffer: the drop is audited as a reply EAGAIN");
	kill(nr, SIGKILL);
	is_int(tap_reap(nr), 128 + SIGKILL, "full buffer: the non-reader reaped");
	close(pfd[0]);
	a.want = 1;
	for (int i = 0; i < 1000 && seq_served - served < 100; i++)
		sbx_broker_dispatch(b, 100);
	ok(seq_served - served >= 100, "full buffer: the other child was served meanwhile");
	stop_seq = true;
	is_int(sbx_broker_serve(b), 0, "full buffer: served until the other child left");
	is_int(tap_reap(byst), 0, "full buffer: the other child saw every reply in order");
	ok(fd_same(&before), "full buffer: broker fd table restored");
}

/* The client side of a full non-blocking socket (forked: the parent plays
 * the broker by hand). Exit 0 when every check passed. */
static int full_client(int sock, int keep, void *arg)
{
	struct sbx_client *c;
	struct fd_table t;
	uint32_t v = 1;
	unsigned sent = 0;
	char go;
	int fl, r, null;

	(void)arg;
	fl = fcntl(sock, F_GETFL);
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0)
		return 10;
	if (sbx_client_new(sock, &c) < 0)
		return 11;
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd_snapshot(&t);
	for (uint32_t id = 1000;; id++) {
		r = sbx_msg_send(sock, SEQ_TYPE, id, &v, sizeof(v), &null, 1);
		if (r < 0)
			break;
		sent++;
	}
	if (r != -EAGAIN || sent == 0)
		return 12;
	if (sbx_client_call(c, SEQ_TYPE, &v, sizeof(v), &null, 1, NULL, 0, NULL, NULL, 0,
			    NULL) != -EAGAIN)
		return 13;
	if (sbx_client_open(c, file, O_RDONLY, 0) != -EAGAIN)
		return 14;
	if (!fd_same(&t) || fcntl(null, F_GETFD) < 0)
		return 15;
	if (write(keep, &sent, sizeof(sent)) != sizeof(sent))
		return 16;
	/* The peer drained everything: the next call works. */
	if (read(keep, &go, 1) != 1)
		return 17;
	r = sbx_client_call(c, SEQ_TYPE, &v, sizeof(v), NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
	if (r != 0)
		return 18;
	close(null);
	sbx_client_free(c);
	return 0;
}

static void client_full(void)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	unsigned sent = 0, got = 0, intact = 0;
	int sock, sp[2], r;
	pid_t pid;

	if (!m)
		tap_bail("calloc");
	fd_snapshot(&before);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		tap_bail("socketpair");
	pid = soak_fork(NULL, sp[1], full_client, NULL, &sock);
	close(sp[1]);
	if (read(sp[0], &sent, sizeof(sent)) != sizeof(sent))
		sent = 0;
	ok(sent > 0, "client full: sbx_msg_send said EAGAIN after %u messages, "
	   "sbx_client_call and sbx_client_open too, fds untouched", sent);
	/* Everything queued arrived whole: nothing half-sent on EAGAIN. */
	for (;;) {
		r = sbx_msg_recv(sock, m, 1);
		if (r <= 0)
			break;
		got++;
		intact += m->type == SEQ_TYPE && m->id == 1000 + got - 1 && m->len == 4 &&
			  m->nfds == 1;
		sbx_msg_clear(m);
		if (got == sent)
			break;
	}
	is_int(got, sent, "client full: the peer received exactly the messages sent");
	is_int(intact, sent, "client full: each one whole, in order, with its fd");
	if (write(sp[0], "g", 1) != 1)
		tap_bail("write");
	r = sbx_msg_recv(sock, m, 1);
	ok(r == 1 && m->type == SEQ_TYPE, "client full: the next call was sent");
	if (r == 1 && sbx_msg_send(sock, REPLY_OK, m->id, NULL, 0, NULL, 0) < 0)
		tap_bail("reply");
	sbx_msg_clear(m);
	is_int(tap_reap(pid), 0, "client full: the child's checks passed, the next call worked");
	close(sock);
	close(sp[0]);
	free(m);
	ok(fd_same(&before), "client full: fd table restored");
}

/* ---- EINTR storms ---- */

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

static void handle_usr1(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;    /* no SA_RESTART: syscalls fail with EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		tap_bail("sigaction");
}

/* Signals the target until killed (bounded anyway). */
static pid_t start_hammer(pid_t target)
{
	pid_t pid = fork();

	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		/* Bursts with a breath between them: a storm, yet one that
		 * lets the target make progress on a loaded 2-CPU machine
		 * (without pauses the run took 40 s of kernel time in CI). */
		for (long i = 0; i < 50000000; i++) {
			if (kill(target, SIGUSR1) < 0)
				_exit(0);
			if (i % 256 == 255)
				usleep(200);
		}
		_exit(0);
	}
	return pid;
}

static void broker_storm(struct sbx_broker *b)
{
	bool vg = soak_under_valgrind();
	unsigned n = vg ? 4 : 16, nreq = vg ? 100 : 500, good = 0;
	struct fd_table before;
	pid_t kids[16], hammer;

	if (vg)
		diag("under valgrind: %u children x %u requests", n, nreq);
	fd_snapshot(&before);
	stop_seq = false;
	seq_served = 0;
	usr1_seen = 0;
	handle_usr1();
	hammer = start_hammer(getpid());
	for (unsigned i = 0; i < n; i++)
		kids[i] = soak_fork(b, -1, seq_child, &nreq, NULL);
	is_int(sbx_broker_serve(b), 0, "broker storm: serve went on through EINTR");
	kill(hammer, SIGKILL);
	tap_reap(hammer);
	signal(SIGUSR1, SIG_IGN);
	for (unsigned i = 0; i < n; i++) {
		int st = tap_reap(kids[i]);

		good += st == 0;
		if (st)
			diag("child %u exited %d", i, st);
	}
	is_int(good, n, "broker storm: %u children x %u requests, each reply checked", n, nreq);
	is_int(seq_served, (unsigned long)n * nreq, "broker storm: exactly one reply per request");
	diag("broker storm: %ld SIGUSR1 handled by the broker", (long)usr1_seen);
	ok(usr1_seen > 0, "broker storm: signals did land on the broker");
	ok(fd_same(&before), "broker storm: fd table restored");
}

/* Shared with the forked client: its handler count. */
static volatile unsigned *client_hits;

static void client_on_usr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(client_hits, 1, __ATOMIC_SEQ_CST);
}

static int storm_client(int sock, int keep, void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = client_on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return 9;
	return seq_child(sock, keep, arg);
}

/* The syscall pid is blocked in (from /proc/PID/syscall), -1 running. */
static long blocked_in(pid_t pid)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -2;
	buf[n] = 0;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	return strtol(buf, NULL, 10);
}

struct wait_arg {
	pid_t pid;
	unsigned hits;     /* wait until *client_hits >= hits too */
};

static bool in_reply_wait(void *arg)
{
	struct wait_arg *a = arg;
	long nr;

	if (__atomic_load_n(client_hits, __ATOMIC_SEQ_CST) < a->hits)
		return false;
	nr = blocked_in(a->pid);
	return nr == SYS_recvmsg || nr == SYS_poll || nr == SYS_ppoll;
}

static void client_storm(struct sbx_broker *b)
{
	unsigned nreq = 64, deterministic = 16, landed = 0;
	struct fd_table before;
	pid_t kid, hammer;
	void *shm;

	fd_snapshot(&before);
	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		tap_bail("mmap");
	client_hits = shm;
	stop_seq = false;
	seq_served = 0;
	kid = soak_fork(b, -1, storm_client, &nreq, NULL);
	/* Deterministic part: the child is blocked waiting for a reply to
	 * a request the broker has not read yet; three signals, each seen
	 * by its handler and followed by the child waiting again. */
	for (unsigned i = 0; i < deterministic; i++) {
		struct wait_arg w = { kid, *client_hits };
		bool fine = soak_wait_for(in_reply_wait, &w);

		for (int s = 0; s < 3 && fine; s++) {
			w.hits = *client_hits + 1;
			kill(kid, SIGUSR1);
			fine = soak_wait_for(in_reply_wait, &w);
		}
		landed += fine;
		/* Serve that request (and the open/get that follow it). */
		for (int k = 0; k < 3; k++)
			while (sbx_broker_dispatch(b, -1) == 0)
				;
	}
	is_int(landed, deterministic, "client storm: 3 signals landed in each of %u blocked waits",
	       deterministic);
	/* Then a free-running storm for the rest. */
	hammer = start_hammer(kid);
	is_int(sbx_broker_serve(b), 0, "client storm: served until the child left");
	kill(hammer, SIGKILL);
	tap_reap(hammer);
	is_int(tap_reap(kid), 0, "client storm: every request got one correct reply");
	is_int(seq_served, nreq, "client storm: exactly %u requests served", nreq);
	diag("client storm: %u SIGUSR1 handled by the client", *client_hits);
	munmap(shm, 4096);
	ok(fd_same(&before), "client storm: fd table restored");
}

int main(void)
{
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct fd_table start;
	int audit;

	tap_start();
	soak_tree("fault-io", dir, sizeof(dir), file, sizeof(file));
	fd_snapshot(&start);
	p = soak_policy(dir);
	audit = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (audit < 0 || sbx_broker_new(p, &b) < 0 ||
	    sbx_broker_register(b, SEQ_TYPE, 0, seq_handler, NULL) < 0 ||
	    sbx_broker_set_audit_fd(b, audit) < 0)
		tap_bail("broker");

	broker_full(b, audit);
	client_full();
	broker_storm(b);
	client_storm(b);

	sbx_broker_free(b);
	sbx_policy_free(p);
	close(audit);
	ok(fd_same(&start), "fd table as at the start");
	unlink(file);
	rmdir(dir);
	return tap_done();
}
