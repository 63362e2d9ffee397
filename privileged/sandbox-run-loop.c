/* sandbox-run: after the spawn. One poll loop over the worker's pidfd, a
 * signalfd (forwarded signals) and the broker; the timeout is the poll
 * timeout. At the end every remaining descendant is killed (we are their
 * child subreaper) and reaped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/broker.h>

#include "privileged/sandbox-run.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

int loop_block_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	/* SIGCHLD is read too, for a worker without a pidfd (old kernels);
	 * with one, the pidfd says when it is done. */
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Kill every child we have (the worker's orphans reparent to us as
 * subreaper), until none is left. */
void loop_kill_descendants(pid_t worker)
{
	if (worker > 0)
		(void)kill(-worker, SIGKILL); /* its session's process group */
	for (int round = 0; round < 1000; round++) {
		char path[64];
		pid_t pids[256];
		size_t n = 0;
		siginfo_t si;
		FILE *f;
		int pid;

		/* No child at all, running or zombie: then no descendant either
		 * (each would sit below a child of ours, the subreaper). The
		 * common end of a run; it spares opening /proc (~30 us). */
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
			return;
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
		f = fopen(path, "re");
		if (!f) {
			/* No /proc: wait for whatever is left (killed by the group kill). */
			while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
				;
			return;
		}
		/* the kernel writes decimal pids; a failed conversion ends the list */
		while (n < sizeof(pids) / sizeof(pids[0]) && fscanf(f, "%d", &pid) == 1) { // NOLINT(cert-err34-c)
			(void)kill(pid, SIGKILL);
			pids[n++] = pid;
		}
		fclose(f);
		for (size_t i = 0; i < n; i++)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0)
			return;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int loop_run(const struct loop_args *a)
{
	long deadline = a->timeout ? now_ms() + (long)a->timeout * 1000L : 0;
	int bfd = a->broker ? sbx_broker_fd(a->broker) : -1;
	bool broker_live = bfd >= 0;
	siginfo_t si;

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = a->pidfd, .events = POLLIN },
			{ .fd = a->sigfd, .events = POLLIN },
			{ .fd = broker_live ? bfd : -1, .events = POLLIN },
		};
		int timeout = -1, r;

		if (deadline) {
			long left = deadline - now_ms();

			if (left <= 0) {
				status_timeout(a->timeout);
				loop_kill_descendants(a->pid);
				return RUN_EXIT_TIMEOUT;
			}
			timeout = left > 60000 ? 60000 : (int)left;
		}
		r = poll(pfd, 3, timeout);
		if (r < 0 && errno != EINTR) {
			run_err("poll", errno);
			loop_kill_descendants(a->pid);
			return RUN_EXIT_FAILURE;
		}
		if (r <= 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo ssi;
			bool chld = false;

			while (read(a->sigfd, &ssi, sizeof(ssi)) == sizeof(ssi)) {
				if (ssi.ssi_signo == SIGCHLD)
					chld = true;
				else
					(void)kill(a->pid, (int)ssi.ssi_signo);
			}
			if (chld && a->pidfd < 0) {
				memset(&si, 0, sizeof(si));
				if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG) == 0 &&
				    si.si_pid == a->pid)
					goto reaped;
			}
		}
		if (pfd[2].revents & (POLLIN | POLLERR | POLLHUP)) {
			r = sbx_broker_dispatch(a->broker, 0);
			if (r < 0) {
				run_err("broker", -r);
				broker_live = false;
			}
		}
		if (pfd[0].revents & POLLIN)
			break;
	}
	memset(&si, 0, sizeof(si));
	while (waitid(a->pidfd >= 0 ? P_PIDFD : P_PID, (id_t)(a->pidfd >= 0 ? a->pidfd : a->pid),
		      &si, WEXITED) < 0) {
		if (errno != EINTR) {
			run_err("waitid", errno);
			loop_kill_descendants(a->pid);
			return RUN_EXIT_FAILURE;
		}
	}
reaped:
	loop_kill_descendants(a->pid);
	if (si.si_code == CLD_EXITED) {
		status_exit(si.si_status, 0);
		return si.si_status;
	}
	status_exit(-1, si.si_status);
	return 128 + si.si_status;
}
