/*
 * Round trips of one message carrying one fd: sbx_msg_send/sbx_msg_recv
 * against raw sendmsg/recvmsg doing the same work, in the same run, both
 * processes pinned to one CPU (a cross-CPU wake-up here costs ~100 us and
 * would drown the difference). Prints microseconds per round trip and the
 * ratio sbx/raw (median of several alternating rounds).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "proto/msg-internal.h"

#define ROUNDS 7

static int iters = 20000;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("sched_setaffinity");
		exit(1);
	}
}

/* The baseline: what any careful fd-passing code does at the least. */
static int raw_send(int s, int fd)
{
	char hdr[16] = { 0 };
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(s, &mh, MSG_NOSIGNAL) == sizeof(hdr) ? 0 : -1;
}

static int raw_recv(int s)
{
	char hdr[16];
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static struct sbx_msg msg;

static int sbx_send1(int s, int fd)
{
	return sbx_msg_send(s, 1, 1, NULL, 0, &fd, 1);
}

static int sbx_recv1(int s)
{
	if (sbx_msg_recv(s, &msg, 1) != 1 || msg.nfds != 1)
		return -1;
	return sbx_msg_take_fd(&msg, 0);
}

/* What the broker and the client do: the socket type checked once when the
 * channel is adopted, not on every message. */
static int sbx_recv1_adopted(int s)
{
	if (msg_recv_unchecked(s, &msg, 1) != 1 || msg.nfds != 1)
		return -1;
	return sbx_msg_take_fd(&msg, 0);
}

/* Echo peer: receive an fd, close it, send our own fd back. */
static void echo(int s, int (*snd)(int, int), int (*rcv)(int), int n, int myfd)
{
	for (int i = 0; i < n; i++) {
		int fd = rcv(s);

		if (fd < 0)
			_exit(1);
		close(fd);
		if (snd(s, myfd) < 0)
			_exit(1);
	}
	_exit(0);
}

static double run(int (*snd)(int, int), int (*rcv)(int))
{
	int sv[2], st, fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	double t0, t1;
	pid_t pid;

	if (fd < 0 || sbx_socketpair(sv) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		echo(sv[1], snd, rcv, iters, fd);
	}
	close(sv[1]);
	t0 = now_us();
	for (int i = 0; i < iters; i++) {
		int got;

		if (snd(sv[0], fd) < 0 || (got = rcv(sv[0])) < 0) {
			fprintf(stderr, "round trip failed: %s\n", strerror(errno));
			exit(1);
		}
		close(got);
	}
	t1 = now_us();
	waitpid(pid, &st, 0);
	close(sv[0]);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "peer failed\n");
		exit(1);
	}
	return (t1 - t0) / iters;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double raw[ROUNDS], sbx[ROUNDS], ratio[ROUNDS], ad[ROUNDS], aratio[ROUNDS];

	if (argc > 1)
		iters = atoi(argv[1]);
	pin(0);
	run(raw_send, raw_recv); /* warm up */
	for (int r = 0; r < ROUNDS; r++) {
		raw[r] = run(raw_send, raw_recv);
		sbx[r] = run(sbx_send1, sbx_recv1);
		ad[r] = run(sbx_send1, sbx_recv1_adopted);
		ratio[r] = sbx[r] / raw[r];
		aratio[r] = ad[r] / raw[r];
	}
	qsort(raw, ROUNDS, sizeof(double), cmp);
	qsort(sbx, ROUNDS, sizeof(double), cmp);
	qsort(ratio, ROUNDS, sizeof(double), cmp);
	qsort(ad, ROUNDS, sizeof(double), cmp);
	qsort(aratio, ROUNDS, sizeof(double), cmp);
	printf("bench-proto: 1-fd round trip, %d iterations x %d rounds, pinned to CPU 0\n", iters, ROUNDS);
	printf("  raw sendmsg/recvmsg : %7.2f us  (%.0f round trips/s)\n", raw[ROUNDS / 2], 1e6 / raw[ROUNDS / 2]);
	printf("  sbx_msg_send/recv   : %7.2f us  (%.0f round trips/s)\n", sbx[ROUNDS / 2], 1e6 / sbx[ROUNDS / 2]);
	printf("  sbx, adopted channel: %7.2f us  (%.0f round trips/s; type checked once, as broker and client do)\n",
	       ad[ROUNDS / 2], 1e6 / ad[ROUNDS / 2]);
	printf("  ratio sbx/raw       : %7.3f (sbx_msg_recv checks SO_TYPE on every call)\n", ratio[ROUNDS / 2]);
	printf("  ratio adopted/raw   : %7.3f (goal <= 1.05; medians of per-round ratios)\n", aratio[ROUNDS / 2]);
	return 0;
}
