/* Well-formed messages with 0, 1 and SBX_MAX_FDS fds arrive intact,
 * close-on-exec, and clearing the message restores the fd table. */
#include <stdlib.h>
#include <sys/stat.h>

#include <sbx/proto.h>

#include "peer.h"

static int send_n(int sock, void *arg)
{
	int n = *(int *)arg, fds[SBX_MAX_FDS] = { 0 };
	char body[100];
	int r;

	open_nulls(fds, n);
	memset(body, 'x', sizeof(body));
	r = sbx_msg_send(sock, 5, 77, body, sizeof(body), fds, n);
	close_fds(fds, n);
	return r == 0 ? 0 : 1;
}

static void valid_case(int n)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;
	int r, cloexec = 1, isnull = 1;

	peer_start(&p, SOCK_SEQPACKET, send_n, &n);
	fd_snapshot(&before);
	r = sbx_msg_recv(p.sock, m, SBX_MAX_FDS);
	is_int(r, 1, "%d fds: message received", n);
	ok(m->type == 5 && m->id == 77 && m->len == 100 && m->data[99] == 'x',
	   "%d fds: type, id and payload intact", n);
	is_int(m->nfds, n, "%d fds: all fds delivered", n);
	for (unsigned i = 0; i < m->nfds; i++) {
		struct stat st;

		cloexec &= fd_is_cloexec(m->fds[i]);
		isnull &= fstat(m->fds[i], &st) == 0 && S_ISCHR(st.st_mode);
	}
	ok(cloexec, "%d fds: every received fd is close-on-exec", n);
	ok(isnull, "%d fds: received fds are the files sent", n);
	sbx_msg_clear(m);
	ok(fd_same(&before), "%d fds: fd table restored after sbx_msg_clear", n);
	is_int(peer_finish(&p), 0, "%d fds: peer sent cleanly", n);
	free(m);
}

static void take_fd_case(void)
{
	struct fd_table before;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	struct peer p;
	int n = 2, fd;

	peer_start(&p, SOCK_SEQPACKET, send_n, &n);
	fd_snapshot(&before);
	is_int(sbx_msg_recv(p.sock, m, 2), 1, "take: message with 2 fds");
	fd = sbx_msg_take_fd(m, 0);
	ok(fd >= 0, "take: fd 0 taken");
	is_int(sbx_msg_take_fd(m, 0), -EBADF, "take: slot is empty afterwards");
	is_int(sbx_msg_take_fd(m, 5), -EBADF, "take: out of range refused");
	sbx_msg_clear(m);
	ok(fcntl(fd, F_GETFD) >= 0, "take: taken fd survives sbx_msg_clear");
	close(fd);
	ok(fd_same(&before), "take: nothing leaked");
	peer_finish(&p);
	sbx_msg_clear(NULL);
	free(m);
}

int main(void)
{
	tap_start();
	valid_case(0);
	valid_case(1);
	valid_case(SBX_MAX_FDS);
	take_fd_case();
	return tap_done();
}
