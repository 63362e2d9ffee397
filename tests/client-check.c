/* The client against a lying broker (a forked fake): fds of the wrong kind
 * or access mode, wrong reply ids, extra fds, malformed replies. The client
 * refuses each and closes what it got: its fd table is unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/client.h>
#include <sbx/proto.h>

#include "peer.h"
#include "proto/request.h"

enum ask { ASK_OPEN, ASK_OPEN_DIR, ASK_OPEN_RDWR, ASK_OPEN_ANY, ASK_CONNECT, ASK_GET };

enum answer {
	A_FIFO, A_DIR, A_FILE_RO, A_SOCKET, A_WRONG_ID, A_TWO_FDS, A_PAYLOAD,
	A_ERR_WITH_FD, A_ERR_ZERO, A_ERR_EACCES, A_BAD_TYPE, A_CLOSE, A_NO_FD,
};

struct ccase {
	const char *what;
	enum ask ask;
	enum answer answer;
	int want;          /* < 0: that errno; 1: a valid fd */
};

static int fifo_r = -1, fifo_w = -1;
static char tmpdir[] = "/tmp/sbx-client-XXXXXX";

static int answer_fd(enum answer a)
{
	int sv[2];

	switch (a) {
	case A_FIFO:
		return dup(fifo_r);
	case A_DIR:
		return open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case A_SOCKET:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -1;
		close(sv[1]);
		return sv[0];
	default:
		return open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	}
}

/* The fake broker: one request in, the scripted answer out. */
static int fake(int sock, void *arg)
{
	const struct ccase *c = arg;
	struct sbx_msg *m = calloc(1, sizeof(*m));
	unsigned char err[4];
	int fds[2], r = 0;
	uint32_t id;

	if (sbx_msg_recv(sock, m, 0) != 1)
		return 1;
	id = m->id;
	fds[0] = answer_fd(c->answer);
	fds[1] = answer_fd(c->answer);
	switch (c->answer) {
	case A_WRONG_ID:
		r = sbx_msg_send(sock, REPLY_OK, id + 1, NULL, 0, fds, 1);
		break;
	case A_TWO_FDS:
		r = sbx_msg_send(sock, REPLY_OK, id, NULL, 0, fds, 2);
		break;
	case A_PAYLOAD:
		r = sbx_msg_send(sock, REPLY_OK, id, "xx", 2, fds, 1);
		break;
	case A_ERR_WITH_FD:
		reply_err_encode(err, 4, EACCES);
		r = sbx_msg_send(sock, REPLY_ERR, id, err, 4, fds, 1);
		break;
	case A_ERR_ZERO:
		memset(err, 0, 4);
		r = sbx_msg_send(sock, REPLY_ERR, id, err, 4, NULL, 0);
		break;
	case A_ERR_EACCES:
		reply_err_encode(err, 4, EACCES);
		r = sbx_msg_send(sock, REPLY_ERR, id, err, 4, NULL, 0);
		break;
	case A_BAD_TYPE:
		r = sbx_msg_send(sock, 0x7777, id, NULL, 0, fds, 1);
		break;
	case A_CLOSE:
		close(sock);       /* the only copy: the client sees EOF */
		break;
	case A_NO_FD:
		r = sbx_msg_send(sock, REPLY_OK, id, NULL, 0, NULL, 0);
		break;
	default:
		r = sbx_msg_send(sock, REPLY_OK, id, NULL, 0, fds, 1);
		break;
	}
	close_fds(fds, 2);
	free(m);
	return r < 0 ? 2 : 0;
}

static int ask(struct sbx_client *cl, enum ask a)
{
	switch (a) {
	case ASK_OPEN:
		return sbx_client_open(cl, "/x", O_RDONLY, 0);
	case ASK_OPEN_DIR:
		return sbx_client_open(cl, "/x", O_RDONLY | O_DIRECTORY, 0);
	case ASK_OPEN_RDWR:
		return sbx_client_open(cl, "/x", O_RDWR, 0);
	case ASK_OPEN_ANY:
		return sbx_client_open_any(cl, "/x", O_RDONLY, 0);
	case ASK_CONNECT:
		return sbx_client_connect(cl, "x");
	default:
		return sbx_client_get(cl, "x");
	}
}

static void run(const struct ccase *c)
{
	struct fd_table before;
	struct sbx_client *cl;
	struct peer p;
	int r;

	peer_start(&p, SOCK_SEQPACKET, fake, (void *)c);
	if (sbx_client_new(p.sock, &cl) < 0)
		tap_bail("client");
	fd_snapshot(&before);
	r = ask(cl, c->ask);
	if (c->want == 1) {
		ok(r >= 0 && fd_is_cloexec(r), "%s: fd accepted", c->what);
		if (r >= 0)
			close(r);
	} else {
		is_int(r, c->want, "%s: refused", c->what);
	}
	ok(fd_same(&before), "%s: client fd table unchanged", c->what);
	sbx_client_free(cl);
	is_int(peer_finish(&p), 0, "%s: fake broker ran its script", c->what);
}

static void env_cases(void)
{
	const char *bad[] = { "", "abc", "-3", "+3", "03", "3x", " 3", "99999999999", "2147483648" };
	struct sbx_client *cl = NULL;
	struct fd_table before;
	int sv[2];
	char num[16];

	fd_snapshot(&before);
	unsetenv("SBX_FD");
	is_int(sbx_client_from_env(&cl), -ENOENT, "SBX_FD unset: ENOENT");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SBX_FD", bad[i], 1);
		is_int(sbx_client_from_env(&cl), -EINVAL, "SBX_FD=\"%s\": EINVAL", bad[i]);
	}
	setenv("SBX_FD", "1000000", 1);
	is_int(sbx_client_from_env(&cl), -EBADF, "SBX_FD not open: EBADF");
	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	snprintf(num, sizeof(num), "%d", sv[0]);
	setenv("SBX_FD", num, 1);
	ok(sbx_client_from_env(&cl) == 0 && cl, "SBX_FD=%s: client", num);
	cl = sbx_client_free(cl);
	ok(fcntl(sv[0], F_GETFD) >= 0, "the client borrowed the fd: still open after free");
	close_fds(sv, 2);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		tap_bail("socketpair");
	is_int(sbx_client_new(sv[0], &cl), -EPROTOTYPE, "stream socket: EPROTOTYPE");
	close_fds(sv, 2);
	is_int(sbx_client_new(fifo_r, &cl), -ENOTSOCK, "a FIFO: ENOTSOCK");
	is_int(sbx_client_new(-1, &cl), -EBADF, "fd -1: EBADF");
	is_int(sbx_client_open(NULL, "/x", 0, 0), -EINVAL, "NULL client: EINVAL");
	unsetenv("SBX_FD");
	ok(fd_same(&before), "env and constructor cases: fd table unchanged");
}

int main(void)
{
	static const struct ccase cases[] = {
		{ "open, broker answers a FIFO", ASK_OPEN, A_FIFO, -EMEDIUMTYPE },
		{ "open, broker answers a directory", ASK_OPEN, A_DIR, -EMEDIUMTYPE },
		{ "open, broker answers a socket", ASK_OPEN, A_SOCKET, -EMEDIUMTYPE },
		{ "open O_DIRECTORY, broker answers a file", ASK_OPEN_DIR, A_FILE_RO, -EMEDIUMTYPE },
		{ "open O_DIRECTORY, broker answers a directory", ASK_OPEN_DIR, A_DIR, 1 },
		{ "open O_RDWR, broker answers read-only", ASK_OPEN_RDWR, A_FILE_RO, -EMEDIUMTYPE },
		{ "open, broker answers a file", ASK_OPEN, A_FILE_RO, 1 },
		{ "open_any, broker answers a FIFO", ASK_OPEN_ANY, A_FIFO, 1 },
		{ "connect, broker answers a file", ASK_CONNECT, A_FILE_RO, -EMEDIUMTYPE },
		{ "connect, broker answers a socket", ASK_CONNECT, A_SOCKET, 1 },
		{ "get, broker answers a FIFO", ASK_GET, A_FIFO, 1 },
		{ "reply with the wrong id", ASK_OPEN, A_WRONG_ID, -EPROTO },
		{ "reply with two fds", ASK_OPEN, A_TWO_FDS, -EPROTO },
		{ "OK reply with a payload", ASK_OPEN, A_PAYLOAD, -EPROTO },
		{ "OK reply without an fd", ASK_GET, A_NO_FD, -EPROTO },
		{ "error reply carrying an fd", ASK_OPEN, A_ERR_WITH_FD, -EPROTO },
		{ "error reply with errno 0", ASK_OPEN, A_ERR_ZERO, -EPROTO },
		{ "error reply EACCES", ASK_OPEN, A_ERR_EACCES, -EACCES },
		{ "reply of an unknown type", ASK_OPEN, A_BAD_TYPE, -EPROTO },
		{ "broker closes", ASK_OPEN, A_CLOSE, -ECONNRESET },
	};
	char p[64];

	tap_start();
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp");
	snprintf(p, sizeof(p), "%s/fifo", tmpdir);
	if (mkfifo(p, 0600) < 0)
		tap_bail("mkfifo");
	fifo_r = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	fifo_w = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo_r < 0 || fifo_w < 0)
		tap_bail("open fifo");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(&cases[i]);
	env_cases();
	close(fifo_r);
	close(fifo_w);
	unlink(p);
	rmdir(tmpdir);
	return tap_done();
}
