/* Test helpers: a forked peer on a SEQPACKET pair, and raw sends that break
 * the protocol on purpose. Only the parent prints TAP. */
#ifndef SBX_TEST_PEER_H
#define SBX_TEST_PEER_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/wire.h"
#include "tap.h"

struct peer {
	pid_t pid;
	int sock;   /* the test's end */
	int hold;   /* write end: closing it releases a peer waiting in peer_wait */
};

/* Forks fn(sock, arg) as the peer; it exits with fn's return value. The peer
 * keeps its socket open until the parent calls peer_finish (so an empty
 * message is never confused with EOF by accident). */
static inline void peer_start(struct peer *p, int type, int (*fn)(int, void *), void *arg)
{
	int sv[2], hp[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		tap_bail("socketpair");
	if (pipe2(hp, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	p->pid = fork();
	if (p->pid < 0)
		tap_bail("fork");
	if (p->pid == 0) {
		char c;
		int r;

		close(sv[0]);
		close(hp[1]);
		r = fn(sv[1], arg);
		/* Wait for the parent to finish reading before closing. */
		while (read(hp[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(r);
	}
	close(sv[1]);
	close(hp[0]);
	p->sock = sv[0];
	p->hold = hp[1];
}

/* Releases the peer, reaps it, closes the test's end; returns its exit code. */
static inline int peer_finish(struct peer *p)
{
	int code;

	if (p->hold >= 0)
		close(p->hold);
	p->hold = -1;
	code = tap_reap(p->pid);
	close(p->sock);
	return code;
}

/* Let the peer close now (EOF tests) without reaping it yet. */
static inline void peer_release(struct peer *p)
{
	close(p->hold);
	p->hold = -1;
}

/* Opens n fds of /dev/null into out[] (the caller closes them). */
static inline void open_nulls(int *out, int n)
{
	for (int i = 0; i < n; i++) {
		out[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (out[i] < 0)
			tap_bail("open /dev/null");
	}
}

static inline void close_fds(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Sends a hand-made datagram: header fields as given (hdr NULL: no header),
 * body, fds in one SCM_RIGHTS cmsg. Returns sendmsg's result or -errno. */
static inline ssize_t raw_send(int sock, const struct sbx_wire_hdr *hdr,
			       const void *body, size_t blen, const int *fds, int nfds)
{
	static union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int) * 253)];
	} ctl;
	struct iovec iov[2];
	struct msghdr mh;
	int k = 0;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	if (hdr)
		iov[k++] = (struct iovec){ (void *)hdr, sizeof(*hdr) };
	if (blen)
		iov[k++] = (struct iovec){ (void *)body, blen };
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

static inline struct sbx_wire_hdr mkhdr(uint16_t nfds, uint32_t len)
{
	return (struct sbx_wire_hdr){ .version = 1, .nfds = nfds, .type = 7, .id = 42, .len = len };
}

#endif
