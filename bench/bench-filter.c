/* Per-syscall cost of the default filter (getppid, pinned to one CPU, same
 * process before and after install) and compile-vs-install times.
 * Run: build-<dir>/bench/bench-filter [iterations] */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp/filter.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long bench_nr = SYS_getppid;
static long bench_a0, bench_a1;

static double per_call(long n)
{
	double best = 1e30;

	/* best of 5 rounds: the least disturbed */
	for (int round = 0; round < 5; round++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(bench_nr, bench_a0, bench_a1, 0);
		double t = (now_ns() - t0) / (double)n;
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	struct sbx_filter_spec spec = { .profile = SBX_PROFILE_DEFAULT, .chan_fd = -1 };
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct sbx_bpf *bpf = NULL;
	cpu_set_t set;
	double t0, compile_ns = 0, install_ns = 0;
	int p[2], reps = 50;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("sched_setaffinity (not pinned)");

	for (int i = 0; i < reps; i++) {
		struct sbx_bpf *b;

		t0 = now_ns();
		if (sbx_filter_compile(&spec, &b) < 0) {
			fprintf(stderr, "compile failed\n");
			return 1;
		}
		compile_ns += now_ns() - t0;
		if (i == 0)
			bpf = b;
		else
			sbx_bpf_free(b);
	}
	printf("default filter: %zu BPF instructions\n", sbx_bpf_len(bpf));
	printf("compile (libseccomp, in the parent): %.1f us\n", compile_ns / reps / 1e3);

	for (int i = 0; i < reps; i++) {
		double t;
		pid_t pid;

		if (pipe(p) < 0)
			return 1;
		pid = fork();
		if (pid == 0) {
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			t = now_ns();
			if (sbx_filter_install(bpf, NULL) < 0)
				_exit(1);
			t = now_ns() - t;
			if (write(p[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], &t, sizeof(t)) != sizeof(t))
			return 1;
		close(p[0]);
		waitpid(pid, NULL, 0);
		install_ns += t;
	}
	printf("install (precompiled, raw seccomp(2) in the child): %.1f us\n", install_ns / reps / 1e3);

	if (pipe(p) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		double r[4];

		r[0] = per_call(n);
		bench_nr = SYS_ioctl, bench_a0 = -1, bench_a1 = 0x541B; /* FIONREAD */
		r[2] = per_call(n);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (sbx_filter_install(bpf, NULL) < 0)
			_exit(1);
		r[3] = per_call(n);
		bench_nr = SYS_getppid;
		r[1] = per_call(n);
		if (write(p[1], r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	double r[4];
	close(p[1]);
	if (read(p[0], r, sizeof(r)) != sizeof(r))
		return 1;
	waitpid(pid, NULL, 0);
	printf("getppid, %ld calls pinned to CPU 0 (best of 5): no filter %.1f ns/call, "
	       "default filter %.1f ns/call, difference %+.1f ns (goal <= +80)\n",
	       n, r[0], r[1], r[1] - r[0]);
	printf("ioctl(-1, FIONREAD) (argument rules, not cacheable by the kernel): no filter %.1f ns/call, "
	       "default filter %.1f ns/call, difference %+.1f ns\n", r[2], r[3], r[3] - r[2]);
	sbx_bpf_free(bpf);
	return 0;
}
