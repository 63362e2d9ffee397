/*
 * Bounded send and receive of one message with fds over SOCK_SEQPACKET.
 *
 * The receive side is what the whole project trusts: whatever a hostile
 * peer sends, the caller ends up either with a well-formed message whose
 * fds it asked for, or with an error and the fd table it had before.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sbx/proto.h>

#include "export.h"
#include "msg-internal.h"
#include "wire.h"

/* Not in Debian 12's headers; a receiver with SO_PASSPIDFD on gets one. */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

/* Room for the largest control buffer we ever hand the kernel. */
union sbx_ctl {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * SBX_MAX_FDS)];
};

/* Ints that fit in the control buffer: the most fds one recvmsg can install. */
#define CTL_MAX_INTS (sizeof(union sbx_ctl) / sizeof(int))

/* SEQPACKET keeps boundaries; on a stream a lying peer could splice headers. */
static int check_seqpacket(int sock)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	return type == SOCK_SEQPACKET ? 0 : -EPROTOTYPE;
}

static void close_all(const int *fds, size_t n)
{
	/* On Linux close() frees the slot even when it reports EINTR. */
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

SBX_EXPORT int sbx_socketpair(int sv[2])
{
	int tmp[2];

	if (!sv)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tmp) < 0)
		return -errno;
	sv[0] = tmp[0];
	sv[1] = tmp[1];
	return 0;
}

SBX_EXPORT int sbx_msg_send(int sock, uint32_t type, uint32_t id,
			    const void *data, size_t len, const int *fds,
			    size_t nfds)
{
	struct sbx_wire_hdr hdr;
	union sbx_ctl ctl;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (nfds > SBX_MAX_FDS || (nfds && !fds) || (len && !data))
		return -EINVAL;
	if (len > SBX_MSG_MAX)
		return -EMSGSIZE;
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return -EINVAL;
	/* No socket-type check here: it costs a syscall per message (~10% of
	 * a round trip) and guards nothing, since the receiving end refuses
	 * anything but SEQPACKET. */

	hdr = (struct sbx_wire_hdr){
		.version = SBX_PROTO_VERSION,
		.nfds = (uint16_t)nfds,
		.type = type,
		.id = id,
		.len = (uint32_t)len,
	};
	iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SEQPACKET sends are atomic: anything else is a kernel surprise. */
	return (size_t)n == sizeof(hdr) + len ? 0 : -EIO;
}

/*
 * Walk the control data. SCM_RIGHTS fds go to got[] (the caller decides
 * whether to keep them); any other fd-bearing message is closed at once.
 * Sets *foreign when anything but a single SCM_RIGHTS message came.
 * Returns how many fds were gathered.
 */
static unsigned gather_fds(struct msghdr *mh, int *got, int *foreign)
{
	const char *end = (const char *)mh->msg_control + mh->msg_controllen;
	unsigned n = 0, rights = 0;

	*foreign = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		const unsigned char *p = CMSG_DATA(c);
		size_t bytes;
		int fd;

		if (c->cmsg_len < CMSG_LEN(0))
			break;
		bytes = c->cmsg_len - CMSG_LEN(0);
		/* Never read past the buffer, whatever cmsg_len claims. */
		if ((size_t)(end - (const char *)p) < bytes)
			bytes = (size_t)(end - (const char *)p);
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			if (rights++)
				*foreign = 1;
			for (size_t off = 0; off + sizeof(int) <= bytes;
			     off += sizeof(int)) {
				memcpy(&fd, p + off, sizeof(int));
				if (n < CTL_MAX_INTS)
					got[n++] = fd;
				else
					close(fd);
			}
			continue;
		}
		*foreign = 1;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_PIDFD &&
		    bytes >= sizeof(int)) {
			memcpy(&fd, p, sizeof(int));
			close(fd);
		}
	}
	return n;
}

/*
 * recvmsg returned 0 with nothing attached: end of file, or an empty
 * datagram from a live peer (which our protocol never sends). A peek that
 * cannot block tells them apart: a closed peer with an empty queue reads 0.
 */
static int eof_or_empty(int sock)
{
	char c;
	ssize_t n;

	do
		n = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == 0 ? 0 : -EBADMSG;
}

/* Decide what a received datagram is; > 0 keeps it, <= 0 drops its fds. */
static int judge(int sock, const struct sbx_wire_hdr *hdr, ssize_t n,
		 int flags, unsigned got, int foreign, unsigned max_fds)
{
	if (foreign)
		return -EBADMSG;
	if (n == 0) {
		if (got || (flags & (MSG_TRUNC | MSG_CTRUNC)))
			return -EBADMSG;
		return eof_or_empty(sock);
	}
	if ((size_t)n < sizeof(*hdr))
		return -EBADMSG;
	if (hdr->version != SBX_PROTO_VERSION)
		return -EPROTO;
	if (flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (hdr->nfds > max_fds || got > max_fds)
		return -ETOOMANYREFS;
	if (flags & MSG_CTRUNC)
		/* The sender's count fit, yet not all arrived: out of fds. */
		return got < hdr->nfds ? -EMFILE : -EBADMSG;
	if (hdr->len != (size_t)n - sizeof(*hdr) || hdr->nfds != got)
		return -EBADMSG;
	return 1;
}

int msg_recv_unchecked(int sock, struct sbx_msg *msg, unsigned max_fds)
{
	struct sbx_wire_hdr hdr;
	union sbx_ctl ctl;
	int got[CTL_MAX_INTS];
	struct iovec iov[2];
	struct msghdr mh;
	unsigned ngot;
	int foreign, r;
	ssize_t n;

	if (!msg || max_fds > SBX_MAX_FDS)
		return -EINVAL;
	msg->nfds = 0;

	memset(&hdr, 0, sizeof(hdr));
	iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = msg->data, .iov_len = SBX_MSG_MAX };
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (max_fds) {
		/* CMSG_LEN, not CMSG_SPACE: one fd too many must truncate,
		 * not slip into the alignment padding. */
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_LEN(sizeof(int) * max_fds);
	}
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	ngot = max_fds ? gather_fds(&mh, got, &foreign) : 0;
	if (!max_fds)
		foreign = 0;
	r = judge(sock, &hdr, n, mh.msg_flags, ngot, foreign, max_fds);
	if (r <= 0) {
		close_all(got, ngot);
		if (r == -EMFILE) {
			/* A well-formed message we could not take whole: say
			 * which, so the receiver can answer it instead of
			 * treating the peer as hostile. */
			msg->type = hdr.type;
			msg->id = hdr.id;
			msg->len = 0;
		}
		return r;
	}
	msg->type = hdr.type;
	msg->id = hdr.id;
	msg->len = hdr.len;
	msg->nfds = ngot;
	memcpy(msg->fds, got, sizeof(int) * ngot);
	return 1;
}

SBX_EXPORT int sbx_msg_recv(int sock, struct sbx_msg *msg, unsigned max_fds)
{
	int r;

	if (!msg || max_fds > SBX_MAX_FDS)
		return -EINVAL;
	msg->nfds = 0;
	r = check_seqpacket(sock);
	if (r < 0)
		return r;
	return msg_recv_unchecked(sock, msg, max_fds);
}

SBX_EXPORT int sbx_msg_take_fd(struct sbx_msg *msg, unsigned i)
{
	int fd;

	if (!msg || i >= msg->nfds || msg->fds[i] < 0)
		return -EBADF;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

SBX_EXPORT void sbx_msg_clear(struct sbx_msg *msg)
{
	if (!msg)
		return;
	for (unsigned i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
	msg->len = 0;
}
