/* A hostile peer sends what the protocol forbids; the receiver returns a
 * clear error (or the message) and its fd table is exactly as before. */
#include <stdlib.h>

#include <sbx/proto.h>

#include "peer.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

struct hostile {
	const char *what;
	unsigned max_fds;
	int want;                  /* sbx_msg_recv's result */
	int (*send)(int sock, void *arg);
	int arg;
	int sockopt;               /* receiver-side SOL_SOCKET option to switch on */
};

/* Sends a well-formed header with `arg` fds (header nfds says the same). */
static int fds_n(int sock, void *arg)
{
	int n = *(int *)arg, fds[253];
	struct sbx_wire_hdr h = mkhdr(n, 0);
	ssize_t r;

	open_nulls(fds, n);
	r = raw_send(sock, &h, NULL, 0, fds, n);
	close_fds(fds, n);
	return r == (ssize_t)sizeof(h) ? 0 : 1;
}

static int two_rights(int sock, void *arg)
{
	union {
		struct cmsghdr a;
		char b[2 * CMSG_SPACE(sizeof(int))];
	} ctl;
	struct sbx_wire_hdr h = mkhdr(2, 0);
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fds[2];
	ssize_t r;

	(void)arg;
	open_nulls(fds, 2);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fds[c == CMSG_FIRSTHDR(&mh) ? 0 : 1], sizeof(int));
	}
	r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	close_fds(fds, 2);
	return r == (ssize_t)sizeof(h) ? 0 : 1;
}

static int with_creds(int sock, void *arg)
{
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
	} ctl;
	struct sbx_wire_hdr h = mkhdr(1, 0);
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ucred uc = { getpid(), getuid(), getgid() };
	struct cmsghdr *c;
	int fd;
	ssize_t r;

	(void)arg;
	open_nulls(&fd, 1);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(c), &uc, sizeof(uc));
	c = CMSG_NXTHDR(&mh, c);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	close(fd);
	return r == (ssize_t)sizeof(h) ? 0 : 1;
}

static int oversize(int sock, void *arg)
{
	static char body[SBX_MSG_MAX + 1];
	struct sbx_wire_hdr h = mkhdr(1, sizeof(body));
	int fd;
	ssize_t r;

	(void)arg;
	open_nulls(&fd, 1);
	r = raw_send(sock, &h, body, sizeof(body), &fd, 1);
	close(fd);
	return r > 0 ? 0 : 1;
}

static int short_hdr(int sock, void *arg)
{
	char b[7] = "shortie";
	int fd;
	ssize_t r;

	(void)arg;
	open_nulls(&fd, 1);
	r = raw_send(sock, NULL, b, sizeof(b), &fd, 1);
	close(fd);
	return r == 7 ? 0 : 1;
}

static int empty_msg(int sock, void *arg)
{
	int fd, n = *(int *)arg;
	ssize_t r;

	open_nulls(&fd, 1);
	r = raw_send(sock, NULL, NULL, 0, &fd, n);
	close(fd);
	return r == 0 ? 0 : 1;
}

static int bad_version(int sock, void *arg)
{
	struct sbx_wire_hdr h = mkhdr(1, 0);
	int fd;
	ssize_t r;

	(void)arg;
	h.version = 2;
	open_nulls(&fd, 1);
	r = raw_send(sock, &h, NULL, 0, &fd, 1);
	close(fd);
	return r > 0 ? 0 : 1;
}

/* len in the header disagrees with the bytes sent: arg is the lie. */
static int bad_len(int sock, void *arg)
{
	struct sbx_wire_hdr h = mkhdr(1, (uint32_t)*(int *)arg);
	int fd;
	ssize_t r;

	open_nulls(&fd, 1);
	r = raw_send(sock, &h, "12345", 5, &fd, 1);
	close(fd);
	return r > 0 ? 0 : 1;
}

/* nfds in the header is arg; two fds are really sent. */
static int bad_nfds(int sock, void *arg)
{
	struct sbx_wire_hdr h = mkhdr((uint16_t)*(int *)arg, 0);
	int fds[2];
	ssize_t r;

	open_nulls(fds, 2);
	r = raw_send(sock, &h, NULL, 0, fds, 2);
	close_fds(fds, 2);
	return r > 0 ? 0 : 1;
}

static int nothing(int sock, void *arg)
{
	(void)sock;
	(void)arg;
	return 0;
}

static const struct hostile cases[] = {
	{ "2: 2 fds, receiver accepts 1 (CMSG_SPACE(int) would fit both)", 1, -ETOOMANYREFS, fds_n, 2, 0 },
	{ "2: 4 fds, receiver accepts 3", 3, -ETOOMANYREFS, fds_n, 4, 0 },
	{ "2: SBX_MAX_FDS fds, receiver accepts SBX_MAX_FDS - 1", SBX_MAX_FDS - 1, -ETOOMANYREFS, fds_n, SBX_MAX_FDS, 0 },
	{ "3: 1 fd, receiver accepts none", 0, -ETOOMANYREFS, fds_n, 1, 0 },
	{ "4: SBX_MAX_FDS + 1 fds", SBX_MAX_FDS, -ETOOMANYREFS, fds_n, SBX_MAX_FDS + 1, 0 },
	{ "4: 253 (SCM_MAX_FD) fds", SBX_MAX_FDS, -ETOOMANYREFS, fds_n, 253, 0 },
	{ "5: two SCM_RIGHTS cmsgs (the kernel merges them into one)", 2, 1, two_rights, 0, 0 },
	{ "6: SCM_CREDENTIALS with SO_PASSCRED on, plus 1 fd", 1, -EBADMSG, with_creds, 0, SO_PASSCRED },
	{ "6: SO_PASSPIDFD on: the kernel's pidfd is closed", 1, -EBADMSG, fds_n, 1, SO_PASSPIDFD },
	{ "7: payload longer than SBX_MSG_MAX (MSG_TRUNC)", 1, -EMSGSIZE, oversize, 0, 0 },
	{ "8: 7-byte datagram, shorter than the header, with an fd", 1, -EBADMSG, short_hdr, 0, 0 },
	{ "9: zero-length message with an fd", 1, -EBADMSG, empty_msg, 1, 0 },
	{ "9: zero-length message without fds, peer alive", 1, -EBADMSG, empty_msg, 0, 0 },
	{ "10: wrong version", 1, -EPROTO, bad_version, 0, 0 },
	{ "11: len says 10, 5 bytes sent", 1, -EBADMSG, bad_len, 10, 0 },
	{ "11: len says 3, 5 bytes sent", 1, -EBADMSG, bad_len, 3, 0 },
	{ "11: len says 0xffffffff, 5 bytes sent", 1, -EBADMSG, bad_len, -1, 0 },
	{ "12: nfds says 3, 2 fds sent", 4, -EBADMSG, bad_nfds, 3, 0 },
	{ "12: nfds says 1, 2 fds sent", 4, -EBADMSG, bad_nfds, 1, 0 },
	{ "12: nfds says 0, 2 fds sent", 4, -EBADMSG, bad_nfds, 0, 0 },
};

static void run(const struct hostile *h)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;
	int r, one = 1, arg = h->arg;

	peer_start(&p, SOCK_SEQPACKET, h->send, &arg);
	if (h->sockopt && setsockopt(p.sock, SOL_SOCKET, h->sockopt, &one, sizeof(one)) < 0) {
		skip(3, "%s: setsockopt %d: %s", h->what, h->sockopt, strerror(errno));
		peer_finish(&p);
		free(m);
		return;
	}
	fd_snapshot(&before);
	r = sbx_msg_recv(p.sock, m, h->max_fds);
	is_int(r, h->want, "%s: %s", h->what, r < 0 ? strerror(-r) : "accepted");
	if (r == 1) {
		ok(m->nfds == 2 && fd_is_cloexec(m->fds[0]) && fd_is_cloexec(m->fds[1]),
		   "%s: both fds delivered close-on-exec", h->what);
		sbx_msg_clear(m);
	} else {
		is_int(m->nfds, 0, "%s: message holds no fds", h->what);
	}
	ok(fd_same(&before), "%s: fd table unchanged", h->what);
	is_int(peer_finish(&p), 0, "%s: peer sent it", h->what);
	free(m);
}

/* The SO_PASSCRED case with no fds wanted needs the message to come from the
 * peer after the option is on; run it by hand. */
static int passcred_plain(int sock, void *arg)
{
	char c;

	(void)arg;
	/* wait for the go signal: the receiver has set SO_PASSCRED */
	if (read(sock, &c, 1) != 1)
		return 1;
	return sbx_msg_send(sock, 1, 1, "hi", 2, NULL, 0) == 0 ? 0 : 1;
}

static void passcred_nofds(void)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;
	int one = 1, r;

	peer_start(&p, SOCK_SEQPACKET, passcred_plain, NULL);
	setsockopt(p.sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (send(p.sock, "g", 1, MSG_NOSIGNAL) != 1)
		tap_bail("send");
	fd_snapshot(&before);
	r = sbx_msg_recv(p.sock, m, 0);
	is_int(r, -EBADMSG, "6: SO_PASSCRED on, no fds accepted: credentials refused");
	ok(fd_same(&before), "6: fd table unchanged");
	is_int(peer_finish(&p), 0, "6: peer sent it");
	free(m);
}

/* 13: the peer sends one message then closes: message, then EOF (0), and
 * EOF stays EOF. */
static int one_then_close(int sock, void *arg)
{
	(void)arg;
	if (sbx_msg_send(sock, 3, 3, "bye", 3, NULL, 0) < 0)
		return 1;
	close(sock);
	return 0;
}

static void eof_case(void)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;

	peer_start(&p, SOCK_SEQPACKET, one_then_close, NULL);
	fd_snapshot(&before);
	is_int(sbx_msg_recv(p.sock, m, 1), 1, "13: message before the close arrives");
	is_int(sbx_msg_recv(p.sock, m, 1), 0, "13: then EOF is reported as 0");
	is_int(sbx_msg_recv(p.sock, m, 1), 0, "13: and again as 0, never as an error");
	ok(fd_same(&before), "13: fd table unchanged");
	peer_finish(&p);

	/* Closing with nothing sent, while we are blocked in recv. */
	peer_start(&p, SOCK_SEQPACKET, nothing, NULL);
	peer_release(&p);
	is_int(sbx_msg_recv(p.sock, m, 1), 0, "13: peer exits mid-conversation: EOF");
	peer_finish(&p);
	free(m);
}

/* A valid message after a refused one still gets through: errors consume
 * exactly one datagram. */
static int bad_then_good(int sock, void *arg)
{
	int two = 2;

	(void)arg;
	if (bad_version(sock, NULL) || fds_n(sock, &two))
		return 1;
	return 0;
}

static void resync_case(void)
{
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;

	peer_start(&p, SOCK_SEQPACKET, bad_then_good, NULL);
	is_int(sbx_msg_recv(p.sock, m, 2), -EPROTO, "after a refused message ...");
	is_int(sbx_msg_recv(p.sock, m, 2), 1, "... the next one is read whole");
	is_int(m->nfds, 2, "... with its fds");
	sbx_msg_clear(m);
	peer_finish(&p);
	free(m);
}

/* Non-blocking socket with nothing queued: -EAGAIN, nothing changed. */
static void eagain_case(void)
{
	struct sbx_msg *m = calloc(1, sizeof(*m));
	int sv[2];

	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	is_int(sbx_msg_recv(sv[0], m, 4), -EAGAIN, "non-blocking, empty: EAGAIN");
	close(sv[0]);
	close(sv[1]);
	free(m);
}

int main(void)
{
	tap_start();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(&cases[i]);
	passcred_nofds();
	eof_case();
	resync_case();
	eagain_case();
	return tap_done();
}
