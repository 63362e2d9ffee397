/* Test helper for the notify tests: a forked worker under a real seccomp
 * filter whose opens (and optionally other syscalls) trap with
 * SCMP_ACT_NOTIFY; its listener fd comes back to the test over a socket and
 * the test serves it with notify_handle_one. The worker reports one result
 * (errno and a few bytes) over the same socket; only the parent prints TAP. */
#ifndef SBX_TEST_NOTIFY_WORKER_H
#define SBX_TEST_NOTIFY_WORKER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "privileged/notify.h"
#include "tap.h"

struct wresult {
	int err;           /* 0 or the errno the worker saw */
	int n;             /* a count (e.g. fds, successes) */
	char data[120];    /* e.g. the content read */
};

struct worker {
	pid_t pid;
	int sock;          /* the test's end */
	int pidfd;
	int listener;      /* received; -1 once handed to a ctx */
};

/* Syscalls trapped besides the four opens (e.g. __NR_socket), -1 ended. */
static int worker_extra_notify[8] = { -1 };

static inline int worker_install(void)
{
	static const int opens[] = { __NR_open, __NR_openat, __NR_openat2, __NR_creat };
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int fd, i;

	if (!f)
		return -1;
	for (i = 0; i < 4; i++)
		if (seccomp_rule_add(f, SCMP_ACT_NOTIFY, opens[i], 0) < 0)
			return -1;
	for (i = 0; i < 8 && worker_extra_notify[i] >= 0; i++)
		if (seccomp_rule_add(f, SCMP_ACT_NOTIFY, worker_extra_notify[i], 0) < 0)
			return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(f) < 0)
		return -1;
	fd = seccomp_notify_fd(f);
	/* seccomp_release would close nothing we need: the fd is ours. */
	return fd;
}

static inline void worker_reply(int sock, const struct wresult *r)
{
	if (send(sock, r, sizeof(*r), MSG_NOSIGNAL) < 0)
		_exit(3);
}

/* Fork fn(sock, arg) under the filter. fn sends its wresult and returns the
 * exit code. */
static inline void worker_start(struct worker *w, int (*fn)(int sock, void *arg), void *arg)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		tap_bail("socketpair");
	w->pid = fork();
	if (w->pid < 0)
		tap_bail("fork");
	if (w->pid == 0) {
		int lfd;

		close(sv[0]);
		lfd = worker_install();
		if (lfd < 0 || sbx_msg_send(sv[1], 1, 0, "L", 1, &lfd, 1) < 0)
			_exit(2);
		close(lfd);
		_exit(fn(sv[1], arg));
	}
	close(sv[1]);
	w->sock = sv[0];
	w->pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	if (w->pidfd < 0)
		tap_bail("pidfd_open");
	{
		static struct sbx_msg m;

		if (sbx_msg_recv(w->sock, &m, 1) != 1 || m.nfds != 1)
			tap_bail("worker did not send its listener");
		w->listener = sbx_msg_take_fd(&m, 0);
		sbx_msg_clear(&m);
	}
}

/* Serve ctx until the worker exits; returns notifications handled, < 0 on
 * a handler error. */
static inline long worker_serve(struct worker *w, struct notify_ctx *ctx)
{
	long handled = 0;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = notify_ctx_fd(ctx), .events = POLLIN },
			{ .fd = w->pidfd, .events = POLLIN },
		};
		int r = poll(p, 2, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & POLLIN) {
			r = notify_handle_one(ctx);
			if (r < 0)
				return r;
			handled += r;
			continue;
		}
		if (p[1].revents & POLLIN)
			return handled;
	}
}

/* Reap the worker; returns its wait status, fills *res (err -1 when it
 * sent nothing). Closes the worker's fds. */
static inline int worker_finish(struct worker *w, struct wresult *res)
{
	int st = 0;

	memset(res, 0, sizeof(*res));
	res->err = -1;
	if (recv(w->sock, res, sizeof(*res), MSG_DONTWAIT) != (ssize_t)sizeof(*res))
		res->err = -1;
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	close(w->sock);
	close(w->pidfd);
	if (w->listener >= 0)
		close(w->listener);
	return st;
}

#endif
