/*
 * The confined side of the broker protocol: one request, one reply with the
 * same id, under a mutex (one request in flight per client). Everything
 * received is checked before it is handed out: the reply's id and type,
 * its payload size, its fd count, and the kind of each fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/client.h>
#include <sbx/proto.h>

#include "proto/export.h"
#include "proto/msg-internal.h"
#include "proto/request.h"

struct sbx_client {
	int sock;
	uint32_t last_id;
	pthread_mutex_t lock;
	struct sbx_msg msg;
	unsigned char req[REQ_OPEN_MAX];
};

/* What an fd-returning request expects to get. */
enum want { WANT_FILE, WANT_ANY, WANT_SOCKET };

SBX_EXPORT int sbx_client_new(int sock, struct sbx_client **ret)
{
	struct sbx_client *c;
	int type;
	socklen_t len = sizeof(type);

	if (!ret)
		return -EINVAL;
	if (sock < 0)
		return -EBADF;
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sock = sock;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

/* Decimal digits only, no sign, no leading zero, fits an int. */
static int parse_fd(const char *s)
{
	long v = 0;

	if (!s || !*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	return (int)v;
}

SBX_EXPORT int sbx_client_from_env(struct sbx_client **ret)
{
	const char *s = getenv("SBX_FD");
	int fd;

	if (!ret)
		return -EINVAL;
	if (!s)
		return -ENOENT;
	fd = parse_fd(s);
	if (fd < 0)
		return fd;
	return sbx_client_new(fd, ret);
}

SBX_EXPORT struct sbx_client *sbx_client_free(struct sbx_client *c)
{
	if (!c)
		return NULL;
	sbx_msg_clear(&c->msg);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

/* A malformed or foreign reply is the broker's fault, not the request's. */
static int recv_error(int r)
{
	switch (r) {
	case -EBADMSG:
	case -ETOOMANYREFS:
	case -EMSGSIZE:
	case -EPROTO:
		return -EPROTO;
	default:
		return r;
	}
}

static int wait_readable(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * Send a request and receive its reply into c->msg (lock held). Returns 0
 * with c->msg an OK reply (its fds owned by c->msg), or -errno with c->msg
 * empty: the broker's refusal, or a transport/protocol error.
 */
static int exchange(struct sbx_client *c, uint32_t type, const void *data, size_t len,
		    const int *fds, unsigned nfds, unsigned max_fds)
{
	struct sbx_msg *m = &c->msg;
	uint32_t id;
	int r, err;

	id = ++c->last_id;
	if (id == 0)
		id = ++c->last_id;
	r = sbx_msg_send(c->sock, type, id, data, len, fds, nfds);
	if (r < 0)
		return r;
	for (;;) {
		r = msg_recv_unchecked(c->sock, m, max_fds);
		if (r != -EAGAIN)
			break;
		r = wait_readable(c->sock);   /* the socket was non-blocking */
		if (r < 0)
			return r;
	}
	if (r == 0)
		return -ECONNRESET;
	if (r < 0)
		return recv_error(r);
	if (m->id != id)
		goto proto;
	if (m->type == REPLY_ERR) {
		if (m->nfds || reply_err_decode(m->data, m->len, &err) < 0)
			goto proto;
		return -err;
	}
	if (m->type == REPLY_OK)
		return 0;
proto:
	sbx_msg_clear(m);
	return -EPROTO;
}

/* Is fd what was asked for? Kind by fstat (fine on O_PATH fds); with
 * check_mode, the access mode (and O_PATH) must be the one asked for. */
static int check_fd(int fd, enum want want, int flags, bool check_mode)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0)
		return -errno;
	switch (want) {
	case WANT_SOCKET:
		return S_ISSOCK(st.st_mode) ? 0 : -EMEDIUMTYPE;
	case WANT_ANY:
		break;
	case WANT_FILE:
		if (S_ISDIR(st.st_mode)) {
			if (!(flags & (O_DIRECTORY | O_PATH)))
				return -EMEDIUMTYPE;
		} else if (!S_ISREG(st.st_mode) || (flags & O_DIRECTORY)) {
			return -EMEDIUMTYPE;
		}
		break;
	}
	if (!check_mode)
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (flags & O_PATH)
		return (fl & O_PATH) ? 0 : -EMEDIUMTYPE;
	if ((fl & O_PATH) || (fl & O_ACCMODE) != (flags & O_ACCMODE))
		return -EMEDIUMTYPE;
	return 0;
}

/* One request answered by exactly one fd, checked against want. */
static int call_fd(struct sbx_client *c, uint32_t type, size_t len, enum want want,
		   int flags, bool check_mode)
{
	struct sbx_msg *m = &c->msg;
	int fd, r;

	r = exchange(c, type, c->req, len, NULL, 0, 1);
	if (r < 0)
		return r;
	if (m->len != 0 || m->nfds != 1) {
		sbx_msg_clear(m);
		return -EPROTO;
	}
	fd = sbx_msg_take_fd(m, 0);
	sbx_msg_clear(m);
	r = check_fd(fd, want, flags, check_mode);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int client_open(struct sbx_client *c, const char *path, int flags, mode_t mode,
		       enum want want)
{
	int n, r;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	n = req_open_encode(c->req, sizeof(c->req), (uint32_t)flags, (uint32_t)mode, path);
	r = n < 0 ? n : call_fd(c, REQ_OPEN, (size_t)n, want, flags, true);
	pthread_mutex_unlock(&c->lock);
	return r;
}

SBX_EXPORT int sbx_client_open(struct sbx_client *c, const char *path, int flags, mode_t mode)
{
	return client_open(c, path, flags, mode, WANT_FILE);
}

SBX_EXPORT int sbx_client_open_any(struct sbx_client *c, const char *path, int flags,
				   mode_t mode)
{
	return client_open(c, path, flags, mode, WANT_ANY);
}

static int client_name(struct sbx_client *c, uint32_t type, const char *name, enum want want)
{
	int n, r;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	n = req_name_encode(c->req, sizeof(c->req), name);
	r = n < 0 ? n : call_fd(c, type, (size_t)n, want, 0, false);
	pthread_mutex_unlock(&c->lock);
	return r;
}

SBX_EXPORT int sbx_client_get(struct sbx_client *c, const char *name)
{
	return client_name(c, REQ_GET, name, WANT_ANY);
}

SBX_EXPORT int sbx_client_connect(struct sbx_client *c, const char *name)
{
	return client_name(c, REQ_CONNECT, name, WANT_SOCKET);
}

SBX_EXPORT int sbx_client_call(struct sbx_client *c, uint32_t type, const void *data,
			       size_t len, const int *fds, unsigned nfds, void *reply,
			       size_t reply_cap, size_t *reply_len, int *fds_out,
			       unsigned max_fds_out, unsigned *nfds_out)
{
	struct sbx_msg *m;
	int r;

	if (!c || type < SBX_REQ_CUSTOM_MIN || nfds > SBX_MAX_FDS ||
	    max_fds_out > SBX_MAX_FDS || (max_fds_out && (!fds_out || !nfds_out)) ||
	    (reply_cap && !reply) || (len && !data) || (nfds && !fds))
		return -EINVAL;
	if (len > SBX_MSG_MAX)
		return -EMSGSIZE;
	m = &c->msg;
	pthread_mutex_lock(&c->lock);
	r = exchange(c, type, data, len, fds, nfds, max_fds_out);
	if (r == 0 && m->len > reply_cap) {
		sbx_msg_clear(m);
		r = -EMSGSIZE;
	}
	if (r == 0) {
		if (m->len)
			memcpy(reply, m->data, m->len);
		if (reply_len)
			*reply_len = m->len;
		for (unsigned i = 0; i < m->nfds; i++)
			fds_out[i] = sbx_msg_take_fd(m, i);
		if (nfds_out)
			*nfds_out = m->nfds;
		sbx_msg_clear(m);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}
