/* bench-notify: cost of an open brokered through seccomp user notification
 * (an unmodified worker's openat+close, served by notify_handle_one),
 * against the same loop unconfined and against explicit broker requests
 * (sbx_client_open served by sbx_broker), in one run, everything pinned to
 * one CPU (across CPUs every wake-up costs ~100 us here).
 *
 *   bench-notify [iterations] [cpu]      (defaults: 20000, 0)
 *
 * Prints ns per openat+close for each mode (best of 3 interleaved rounds)
 * and the ratios. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>
#include <sbx/proto.h>

#include "privileged/notify.h"

static const char *target = "/etc/hostname";
static long iters = 20000;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double loop_openat(void)
{
	double t0;
	long i;

	/* warm up */
	for (i = 0; i < iters / 10; i++)
		close(openat(AT_FDCWD, target, O_RDONLY | O_CLOEXEC));
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		int fd = openat(AT_FDCWD, target, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			_exit(3);
		close(fd);
	}
	return (now_ns() - t0) / (double)iters;
}

static int install_notify(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);

	if (!f || seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 0) < 0 ||
	    seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(open), 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(f) < 0)
		return -1;
	return seccomp_notify_fd(f);
}

static double bench_unconfined(void)
{
	return loop_openat();
}

static double bench_notify(const struct sbx_policy *pol)
{
	struct notify_ctx *ctx;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	double ns = -1;
	int sv[2], pidfd, lfd;
	pid_t pid;

	if (!m || sbx_socketpair(sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		double r;

		close(sv[0]);
		lfd = install_notify();
		if (lfd < 0 || sbx_msg_send(sv[1], 1, 0, "L", 1, &lfd, 1) < 0)
			_exit(2);
		close(lfd);
		r = loop_openat();
		if (send(sv[1], &r, sizeof(r), 0) < 0)
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sbx_msg_recv(sv[0], m, 1) != 1 || m->nfds != 1)
		goto out;
	if (notify_ctx_new(pol, sbx_msg_take_fd(m, 0), pid, NULL, &ctx) < 0)
		goto out;
	for (;;) {
		struct pollfd p[2] = { { notify_ctx_fd(ctx), POLLIN, 0 }, { pidfd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			if (notify_handle_one(ctx) < 0)
				break;
		} else if (p[1].revents & POLLIN) {
			break;
		}
	}
	notify_ctx_free(ctx);
	if (recv(sv[0], &ns, sizeof(ns), MSG_DONTWAIT) != (ssize_t)sizeof(ns))
		ns = -1;
out:
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(pidfd);
	sbx_msg_clear(m);
	free(m);
	return ns;
}

static double bench_explicit(const struct sbx_policy *pol)
{
	struct sbx_broker *b;
	double ns = -1;
	int sv[2], res[2];
	pid_t pid;

	if (sbx_socketpair(sv) < 0 || pipe2(res, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sbx_client *c;
		double t0, r;
		long i;

		close(sv[0]);
		close(res[0]);
		if (sbx_client_new(sv[1], &c) < 0)
			_exit(2);
		for (i = 0; i < iters / 10; i++)
			close(sbx_client_open(c, target, O_RDONLY, 0));
		t0 = now_ns();
		for (i = 0; i < iters; i++) {
			int fd = sbx_client_open(c, target, O_RDONLY, 0);

			if (fd < 0)
				_exit(3);
			close(fd);
		}
		r = (now_ns() - t0) / (double)iters;
		if (write(res[1], &r, sizeof(r)) < 0)
			_exit(4);
		sbx_client_free(c);
		_exit(0);
	}
	close(sv[1]);
	close(res[1]);
	if (sbx_broker_new(pol, &b) == 0) {
		if (sbx_broker_add_child(b, sv[0], pid) == 0)
			sbx_broker_serve(b);
		sbx_broker_free(b);
	} else {
		close(sv[0]);
	}
	if (read(res[0], &ns, sizeof(ns)) != (ssize_t)sizeof(ns))
		ns = -1;
	close(res[0]);
	waitpid(pid, NULL, 0);
	return ns;
}

int main(int argc, char **argv)
{
	struct sbx_policy *pol;
	double u, n, e;
	cpu_set_t set;
	int cpu = 0;

	if (argc > 1)
		iters = atol(argv[1]);
	if (argc > 2)
		cpu = atoi(argv[2]);
	if (iters <= 0)
		iters = 20000;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("sched_setaffinity (running unpinned)");
	if (sbx_policy_new(&pol) < 0 || sbx_policy_add_path(pol, target, SBX_PERM_READ) < 0) {
		fprintf(stderr, "bench-notify: policy for %s failed\n", target);
		return 1;
	}
	/* Interleaved rounds, best of each: this machine's noise comes in bursts. */
	u = n = e = 1e18;
	for (int round = 0; round < 3; round++) {
		double x;

		x = bench_unconfined();
		u = x < u ? x : u;
		x = bench_notify(pol);
		n = x > 0 && x < n ? x : n;
		x = bench_explicit(pol);
		e = x > 0 && x < e ? x : e;
	}
	printf("bench-notify: %ld iterations of openat(%s)+close, pinned to CPU %d, best of 3 interleaved rounds\n",
	       iters, target, cpu);
	printf("  unconfined            %9.0f ns\n", u);
	printf("  notify-brokered       %9.0f ns  (%.1fx unconfined)\n", n, n / u);
	printf("  explicit sbx_client   %9.0f ns  (%.1fx unconfined)\n", e, e / u);
	printf("  notify / explicit     %9.2fx  (goal <= 1.10x)\n", n / e);
	sbx_policy_free(pol);
	return n < 1e18 && e < 1e18 ? 0 : 1;
}
