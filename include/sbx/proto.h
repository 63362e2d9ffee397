/* sbx: messages with file descriptors over SOCK_SEQPACKET. */
#ifndef SBX_PROTO_H
#define SBX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wire version carried in every header; a peer speaking another is refused. */
#define SBX_PROTO_VERSION 1
/* Largest payload of one message, in bytes (header not included). */
#define SBX_MSG_MAX 8192
/* Most fds one message may carry. */
#define SBX_MAX_FDS 16

/*
 * One received message. The fds in fds[0..nfds) belong to the message until
 * taken with sbx_msg_take_fd() (which leaves -1 in the slot); sbx_msg_clear()
 * closes whatever is left. A message filled by a failed sbx_msg_recv() holds
 * no fds.
 */
struct sbx_msg {
	uint32_t type;
	uint32_t id;
	uint32_t len;                        /* payload bytes in data[] */
	unsigned nfds;
	int fds[SBX_MAX_FDS];
	unsigned char data[SBX_MSG_MAX];
};

/*
 * Create a connected SOCK_SEQPACKET pair, both ends close-on-exec.
 * Returns 0 and fills sv[2], or -errno (sv untouched).
 */
int sbx_socketpair(int sv[2]);

/*
 * Send one message on a SOCK_SEQPACKET socket. The fds are borrowed: the
 * caller still owns them afterwards, on success and on failure. The socket
 * type is not checked here (it would cost a syscall per message): the
 * receiving end refuses anything but SOCK_SEQPACKET.
 * Returns 0, or -EINVAL (nfds > SBX_MAX_FDS, bad arguments, an fd < 0),
 * -EMSGSIZE (len > SBX_MSG_MAX), -EAGAIN (non-blocking socket full), -EPIPE (peer gone), or another -errno
 * from sendmsg(2). Nothing is sent on error.
 */
int sbx_msg_send(int sock, uint32_t type, uint32_t id, const void *data,
		 size_t len, const int *fds, size_t nfds);

/*
 * Receive one message, accepting at most max_fds fds (0 means none: no
 * control buffer at all). Received fds are close-on-exec.
 * Returns 1 and fills msg (whose fds the caller now owns through msg),
 * 0 at end of file (the peer closed), or -errno:
 *   -EINVAL       max_fds > SBX_MAX_FDS or msg NULL;
 *   -EPROTOTYPE   sock is not a SOCK_SEQPACKET socket;
 *   -EAGAIN       non-blocking socket with nothing queued;
 *   -EMSGSIZE     payload longer than SBX_MSG_MAX (the message is dropped);
 *   -ETOOMANYREFS more fds than max_fds;
 *   -EMFILE       the fds did not all arrive (fd table full, or an LSM
 *                 refused one); msg->type and msg->id then name the
 *                 refused message (len 0, no fds), so it can be answered;
 *   -EPROTO       header of another protocol version;
 *   -EBADMSG      any other malformed message: short header, len or nfds
 *                 disagreeing with what arrived, a foreign control message,
 *                 an empty message;
 *   other -errno from recvmsg(2).
 * On every error msg holds no fds and the fd table is as before the call:
 * every fd that arrived with a refused message has been closed. The message
 * is consumed either way, so the caller may go on reading or drop the peer.
 */
int sbx_msg_recv(int sock, struct sbx_msg *msg, unsigned max_fds);

/*
 * Take ownership of fds[i]: returns the fd and leaves -1 in the slot,
 * or -EBADF if i is out of range or the slot is already empty.
 */
int sbx_msg_take_fd(struct sbx_msg *msg, unsigned i);

/* Close every fd still owned by msg and empty it. NULL-safe. */
void sbx_msg_clear(struct sbx_msg *msg);

#ifdef __cplusplus
}
#endif
#endif
