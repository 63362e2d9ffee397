/* The sending side: limits enforced before sendmsg, the caller's fds never
 * closed, stream sockets refused, a gone peer reported without SIGPIPE. */
#include <stdlib.h>

#include <sbx/proto.h>

#include "peer.h"

int main(void)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	int sv[2], fds[SBX_MAX_FDS + 1], st[2];
	static char big[SBX_MSG_MAX + 1];

	tap_start();
	if (sbx_socketpair(sv) < 0)
		tap_bail("sbx_socketpair");
	ok(fd_is_cloexec(sv[0]) && fd_is_cloexec(sv[1]), "sbx_socketpair: both ends close-on-exec");

	/* 18: more than SBX_MAX_FDS is refused before sendmsg. */
	open_nulls(fds, SBX_MAX_FDS + 1);
	fd_snapshot(&before);
	is_int(sbx_msg_send(sv[0], 1, 1, "a", 1, fds, SBX_MAX_FDS + 1), -EINVAL,
	       "send: SBX_MAX_FDS + 1 fds refused with EINVAL");
	ok(fd_same(&before), "send: refusal closed none of the caller's fds");
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	is_int(sbx_msg_recv(sv[1], m, SBX_MAX_FDS), -EAGAIN, "send: nothing reached the peer");

	/* Borrowed fds stay the caller's after a successful send too. */
	is_int(sbx_msg_send(sv[0], 1, 1, "a", 1, fds, SBX_MAX_FDS), 0, "send: SBX_MAX_FDS fds sent");
	ok(fd_same(&before), "send: the caller still owns every fd it sent");
	is_int(sbx_msg_recv(sv[1], m, SBX_MAX_FDS), 1, "send: peer got it");
	sbx_msg_clear(m);
	close_fds(fds, SBX_MAX_FDS + 1);

	is_int(sbx_msg_send(sv[0], 1, 1, big, sizeof(big), NULL, 0), -EMSGSIZE,
	       "send: payload over SBX_MSG_MAX refused with EMSGSIZE");
	is_int(sbx_msg_send(sv[0], 1, 1, big, SBX_MSG_MAX, NULL, 0), 0,
	       "send: payload of exactly SBX_MSG_MAX sent");
	is_int(sbx_msg_recv(sv[1], m, 0), 1, "send: ... and received");
	is_int(m->len, SBX_MSG_MAX, "send: ... whole");
	fds[0] = -1;
	is_int(sbx_msg_send(sv[0], 1, 1, NULL, 0, fds, 1), -EINVAL, "send: negative fd refused");
	is_int(sbx_msg_send(sv[0], 1, 1, NULL, 0, NULL, 2), -EINVAL, "send: NULL fd array refused");
	is_int(sbx_msg_send(sv[0], 1, 1, NULL, 3, NULL, 0), -EINVAL, "send: NULL payload refused");
	is_int(sbx_msg_recv(sv[1], m, SBX_MAX_FDS + 1), -EINVAL, "recv: max_fds over SBX_MAX_FDS refused");
	is_int(sbx_msg_recv(sv[1], NULL, 0), -EINVAL, "recv: NULL message refused");

	/* 17: a SOCK_STREAM socket where SEQPACKET is required. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) < 0)
		tap_bail("socketpair");
	open_nulls(fds, 1);
	raw_send(st[1], &(struct sbx_wire_hdr){ 1, 1, 1, 1, 0 }, NULL, 0, fds, 1);
	close(fds[0]);
	fd_snapshot(&before);
	is_int(sbx_msg_recv(st[0], m, 1), -EPROTOTYPE, "recv: SOCK_STREAM socket refused");
	ok(fd_same(&before), "recv: no fd taken from the stream");
	/* send does not check the type: the SEQPACKET receiver is the guard. */
	raw_send(st[1], &(struct sbx_wire_hdr){ 1, 0, 1, 1, 0 }, NULL, 0, NULL, 0);
	is_int(sbx_msg_recv(st[0], m, 1), -EPROTOTYPE, "recv: stream refused again, data or not");
	is_int(sbx_msg_recv(0 + 1000, m, 1), -EBADF, "recv: bad fd gives EBADF");
	{
		int pfd[2];

		if (pipe2(pfd, O_CLOEXEC) < 0)
			tap_bail("pipe");
		is_int(sbx_msg_recv(pfd[0], m, 1), -ENOTSOCK, "recv: a pipe gives ENOTSOCK");
		close(pfd[0]);
		close(pfd[1]);
	}
	close(st[0]);
	close(st[1]);

	/* Peer gone: EPIPE, and no SIGPIPE kills us (MSG_NOSIGNAL). */
	close(sv[1]);
	is_int(sbx_msg_send(sv[0], 1, 1, "x", 1, NULL, 0), -EPIPE, "send: gone peer gives EPIPE, no SIGPIPE");
	close(sv[0]);
	free(m);
	return tap_done();
}
