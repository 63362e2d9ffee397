/* Soak: one broker (sbx_broker_serve in this process) serving 64 forked
 * children at once, each confined with sbx_confine (strict profile: recvmsg
 * only on its channel) and asking as fast as it can through sbx_client:
 * opens of granted files, gets of a named fd, and an app-defined request
 * echoing a per-request sequence number. Each child checks every reply
 * (sequence in order, no loss, no duplicate, fd type and content, the fd
 * closed: the same fd number comes back every time) and exits 0 only when
 * all were right. The parent checks every child's status, counts the
 * requests served in the handler and in the audit log, and compares its fd
 * table and RSS after the run with a snapshot taken after a warm-up round.
 * Counts are bounded (64 x 500; 8 x 200 under valgrind); no timings. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/confine.h>
#include <sbx/policy.h>

#include "soak-util.h"
#include "tap.h"

#define ECHO_TYPE (SBX_REQ_CUSTOM_MIN + 1)
#define NFILES 4
#define MAX_CHILDREN 64
#define THREADED 0x1000u     /* who flag: a child of NTHREADS threads */

static char dir[PATH_MAX];
static char files[NFILES][PATH_MAX + 16];
static unsigned long echo_served;

struct echo {
	uint32_t seq;
	uint32_t who;
};

static int echo_handler(struct sbx_call *call, void *ud)
{
	struct echo e;

	(void)ud;
	if (call->len != sizeof(e))
		return -EBADMSG;
	memcpy(&e, call->data, sizeof(e));
	e.who ^= 0x5a5a5a5au;
	memcpy(call->reply, &e, sizeof(e));
	call->reply_len = sizeof(e);
	echo_served++;
	return 0;
}

/* Child exit codes: 0 all good, else the first failed check. */
enum {
	C_CLIENT = 10, C_CONFINE, C_NOT_CONFINED, C_OPEN, C_OPEN_TYPE, C_OPEN_DATA,
	C_GET, C_GET_TYPE, C_ECHO, C_ECHO_DATA, C_FD_NUMBER, C_LEAK,
};

static int check_fd_number(int fd, int *first)
{
	if (!first)            /* threads share the table: numbers vary */
		return 0;
	if (*first < 0)
		*first = fd;
	return fd == *first ? 0 : C_FD_NUMBER;
}

/* One request of kind i % 3; returns 0 or a C_* code. */
static int one_request(struct sbx_client *c, unsigned who, unsigned i, int *first)
{
	char buf[32], want[32];
	struct stat st;
	struct echo e = { .seq = i, .who = who }, back;
	size_t rlen = 0;
	int fd, r;
	ssize_t n;

	switch (i % 3) {
	case 0:
		fd = sbx_client_open(c, files[i % NFILES], O_RDONLY, 0);
		if (fd < 0)
			return C_OPEN;
		if ((r = check_fd_number(fd, first)) != 0)
			return r;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return C_OPEN_TYPE;
		n = read(fd, buf, sizeof(buf) - 1);
		snprintf(want, sizeof(want), "file-%u\n", i % NFILES);
		if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
			return C_OPEN_DATA;
		close(fd);
		return 0;
	case 1:
		fd = sbx_client_get(c, "pipe");
		if (fd < 0)
			return C_GET;
		if ((r = check_fd_number(fd, first)) != 0)
			return r;
		if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
			return C_GET_TYPE;
		close(fd);
		return 0;
	default:
		r = sbx_client_call(c, ECHO_TYPE, &e, sizeof(e), NULL, 0, &back, sizeof(back),
				    &rlen, NULL, 0, NULL);
		if (r < 0)
			return C_ECHO;
		if (rlen != sizeof(back) || back.seq != i || back.who != (who ^ 0x5a5a5a5au))
			return C_ECHO_DATA;
		return 0;
	}
}

static int child_main(unsigned who, unsigned nreq, bool confine)
{
	struct sbx_client *c;
	int first = -1, r = 0;

	if (sbx_client_new(3, &c) < 0)
		return C_CLIENT;
	if (confine) {
		struct sbx_confine_opts o = {
			.flags = SBX_CONFINE_LANDLOCK,
			.chan_fd = 3,
			.action = SBX_CONFINE_ACT_ERRNO,
		};

		if (sbx_confine(&o) < 0)
			return C_CONFINE;
		/* Strict: no path ever turns into an fd here. */
		if (open(files[0], O_RDONLY | O_CLOEXEC) >= 0)
			return C_NOT_CONFINED;
	}
	for (unsigned i = 0; i < nreq && !r; i++)
		r = one_request(c, who, i, &first);
	/* Every fd was closed: the number handed out last is free again. */
	if (!r && first >= 0 && fcntl(first, F_GETFD) >= 0)
		r = C_LEAK;
	sbx_client_free(c);
	return r;
}

#define NTHREADS 4

struct thread_arg {
	struct sbx_client *c;
	unsigned who, nreq;
	int r;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	for (unsigned i = 0; i < a->nreq && !a->r; i++)
		a->r = one_request(a->c, a->who, i, NULL);
	return NULL;
}

/* NTHREADS threads sharing one client (its mutex serialises the calls):
 * each checks its own replies; the fd table must be unchanged after. Not
 * confined: sbx_confine filters the calling thread only. */
static int threaded_child_main(unsigned who, unsigned nreq)
{
	struct thread_arg a[NTHREADS];
	pthread_t t[NTHREADS];
	struct sbx_client *c;
	struct fd_table before;
	int r = 0;

	if (sbx_client_new(3, &c) < 0)
		return C_CLIENT;
	fd_snapshot(&before);
	for (int i = 0; i < NTHREADS; i++) {
		a[i] = (struct thread_arg){ c, (who << 8) | (unsigned)i, nreq / NTHREADS, 0 };
		if (pthread_create(&t[i], NULL, thread_main, &a[i]) != 0)
			return C_CLIENT;
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		if (!r)
			r = a[i].r;
	}
	if (!r && !fd_same(&before))
		r = C_LEAK;
	sbx_client_free(c);
	return r;
}

static pid_t start_child(struct sbx_broker *b, unsigned who, unsigned nreq, bool confine)
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
		if (who & THREADED)
			_exit(threaded_child_main(who & ~THREADED, nreq));
		_exit(child_main(who, nreq, confine));
	}
	close(sv[1]);
	if (sbx_broker_add_child(b, sv[0], pid) < 0)
		tap_bail("add_child");
	return pid;
}

/* Runs n children of nreq requests each to completion. Returns how many
 * exited 0; prints the others' codes. */
static unsigned run_round(struct sbx_broker *b, unsigned n, unsigned nreq, bool confine,
			  unsigned threaded)
{
	pid_t pids[MAX_CHILDREN];
	unsigned good = 0;

	for (unsigned i = 0; i < n; i++)
		pids[i] = start_child(b, i < threaded ? i | THREADED : i, nreq, confine);
	is_int(sbx_broker_serve(b), 0, "serve returned once all %u children left", n);
	for (unsigned i = 0; i < n; i++) {
		int st = tap_reap(pids[i]);

		if (st == 0)
			good++;
		else
			diag("child %u exited %d", i, st);
	}
	return good;
}

/* Requests of kind custom among the first nreq. */
static unsigned long echoes(unsigned nreq)
{
	return nreq / 3;       /* i = 2, 5, 8, ... below nreq */
}

/* Audit lines and grant lines in the log so far. */
static void count_audit(int fd, unsigned long *lines, unsigned long *grants)
{
	FILE *f = fdopen(dup(fd), "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f || fseek(f, 0, SEEK_SET) < 0)
		tap_bail("audit read");
	*lines = *grants = 0;
	while (getline(&line, &cap, f) > 0) {
		++*lines;
		if (strstr(line, "\"verdict\":\"grant\""))
			++*grants;
	}
	free(line);
	fclose(f);
}

int main(void)
{
	bool vg = soak_under_valgrind();
	unsigned nchild = vg ? 8 : 64, nreq = vg ? 200 : 500, nthreaded = vg ? 2 : 8;
	unsigned long total, lines, grants;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct fd_table before;
	long rss_before, rss_after;
	int audit, pfd[2], fds_before, fds_after;
	unsigned good;

	tap_start();
	if (vg)
		diag("under valgrind: %u children x %u requests, children not confined "
		     "(valgrind's own syscalls break the strict filter)", nchild, nreq);
	snprintf(dir, sizeof(dir), "/tmp/sbx-soak-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	for (int i = 0; i < NFILES; i++) {
		char body[32];
		int fd;

		snprintf(files[i], sizeof(files[i]), "%s/f%d", dir, i);
		snprintf(body, sizeof(body), "file-%d\n", i);
		fd = open(files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
			tap_bail("write %s", files[i]);
		close(fd);
	}
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, dir, SBX_PERM_READ) < 0)
		tap_bail("policy");
	if (pipe2(pfd, O_CLOEXEC) < 0 || sbx_policy_add_fd(p, "pipe", pfd[0]) < 0)
		tap_bail("policy fd");
	close(pfd[0]);
	close(pfd[1]);
	audit = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (audit < 0)
		tap_bail("audit tmpfile");
	if (sbx_broker_new(p, &b) < 0 ||
	    sbx_broker_register(b, ECHO_TYPE, 0, echo_handler, NULL) < 0 ||
	    sbx_broker_set_audit_fd(b, audit) < 0)
		tap_bail("broker");

	/* Warm-up: the allocator and the kernel's caches settle. */
	good = run_round(b, 8, 60, !vg, 0);
	is_int(good, 8, "warm-up: 8 children x 60 requests all checked");
	total = 8 * 60;
	is_int(echo_served, 8 * echoes(60), "warm-up: every echo served once");

	fd_snapshot(&before);
	fds_before = fd_count();
	rss_before = soak_rss_kib();
	echo_served = 0;

	good = run_round(b, nchild, nreq, !vg, nthreaded);
	is_int(good, nchild, "soak: %u children x %u requests (%u of them %d threads sharing a "
	       "client), every reply checked", nchild, nreq, nthreaded, NTHREADS);
	total += (unsigned long)nchild * nreq;
	is_int(echo_served, (nchild - nthreaded) * echoes(nreq) +
	       nthreaded * NTHREADS * echoes(nreq / NTHREADS), "soak: the echo handler ran once per echo request");
	is_int(sbx_broker_children(b), 0, "soak: no child left in the broker");

	fds_after = fd_count();
	rss_after = soak_rss_kib();
	ok(fd_same(&before), "soak: broker fd table after == before");
	diag("requests served: %lu (%u children x %u, plus %u warm-up)", total - 480,
	     nchild, nreq, 480);
	diag("broker fds before %d after %d", fds_before, fds_after);
	diag("broker RSS before %ld KiB after %ld KiB (growth %ld KiB)", rss_before,
	     rss_after, rss_after - rss_before);
	if (SOAK_ASAN || vg)
		skip(1, "RSS growth bound: the sanitizer/valgrind heap keeps freed blocks");
	else
		ok(rss_after - rss_before < 256, "soak: broker RSS grew by less than 256 KiB");

	count_audit(audit, &lines, &grants);
	is_int(lines, total, "audit: one line per request (%lu)", total);
	is_int(grants, total, "audit: every request granted");

	sbx_broker_free(b);
	sbx_policy_free(p);
	close(audit);
	for (int i = 0; i < NFILES; i++)
		unlink(files[i]);
	rmdir(dir);
	return tap_done();
}
