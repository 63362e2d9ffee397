/*
 * The broker: serves confined children over their channels.
 *
 * What must stay true, whatever a child does:
 * - the broker never blocks on a child: channels are non-blocking, a reply
 *   that does not fit (the child does not read) drops the child;
 * - one request, one reply carrying the request's id;
 * - a protocol violation is hostile: refused (when the id is known),
 *   audited, and the child dropped, its fds closed;
 * - fairness: at most PER_ROUND requests of one child per dispatch round;
 * - fd ownership is mechanical: every fd received, opened or handed out is
 *   closed on every path, so dropping a child restores the fd table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "broker-internal.h"
#include "policy-internal.h"
#include "proto/export.h"
#include "proto/msg-internal.h"
#include "proto/request.h"

/* Requests served per child per dispatch round: one, so a flood never
 * delays another child, and an idle round costs no EAGAIN recvmsg. */
#define PER_ROUND 1
#define MAX_EVENTS 64
/* The channel's send buffer bounds the replies (and fds) queued at a child
 * that does not read: one full-size reply fits, a few dozen small ones. */
#define CHAN_SNDBUF (SBX_MSG_MAX + 1024)

/* Linux 6.16: a receiver can refuse SCM_RIGHTS (the sender gets EPERM). */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

enum src_kind { SRC_CHAN, SRC_PIDFD, SRC_WATCH };

/* What an epoll event points at; freed only after the round that may
 * still hold events for it (see graveyard). */
struct src {
	enum src_kind kind;
	void *owner;
};

struct child {
	struct src chan_src, pid_src;
	int sock, pidfd;
	pid_t pid;
	bool dead;
	struct child *next;
};

struct watch {
	struct src src;
	int fd;
	broker_watch_fn cb;
	void *ud;
	bool dead;
	struct watch *next;
};

struct handler {
	uint32_t type;
	unsigned max_fds;
	sbx_handler_fn fn;
	void *ud;
};

struct sbx_broker {
	const struct sbx_policy *policy;
	int epfd;
	int audit_fd;
	struct child *children, *dead_children;
	unsigned nchildren;
	struct watch *watches, *dead_watches;
	unsigned nwatches;
	struct handler *handlers;
	size_t nhandlers;
	unsigned max_fds_in;       /* largest max_fds of any handler */
	struct sbx_msg msg;
	struct req_open open_rq;   /* 4 KiB: kept off the stack */
	unsigned char reply[SBX_MSG_MAX];
};

SBX_EXPORT int sbx_broker_new(const struct sbx_policy *policy, struct sbx_broker **ret)
{
	struct sbx_broker *b;

	if (!ret)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		int e = -errno;

		free(b);
		return e;
	}
	b->policy = policy;
	b->audit_fd = -1;
	*ret = b;
	return 0;
}

static void free_graveyard(struct sbx_broker *b)
{
	while (b->dead_children) {
		struct child *c = b->dead_children;

		b->dead_children = c->next;
		free(c);
	}
	while (b->dead_watches) {
		struct watch *w = b->dead_watches;

		b->dead_watches = w->next;
		free(w);
	}
}

/* Close the child's fds now (the fd table goes back at once); the struct
 * waits in the graveyard until no pending event can name it. */
static void drop_child(struct sbx_broker *b, struct child *c)
{
	struct child **pp;

	if (c->dead)
		return;
	c->dead = true;
	for (pp = &b->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	if (c->pidfd >= 0) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	c->next = b->dead_children;
	b->dead_children = c;
	b->nchildren--;
}

SBX_EXPORT struct sbx_broker *sbx_broker_free(struct sbx_broker *b)
{
	if (!b)
		return NULL;
	while (b->children)
		drop_child(b, b->children);
	/* Tell each watcher the broker is going away (EPOLLHUP), so whoever
	 * attached state to the watch (a notify listener) releases it. */
	while (b->watches) {
		struct watch *w = b->watches;

		w->cb(b, w->fd, EPOLLHUP, w->ud);
		if (b->watches == w)
			broker_unwatch(b, w->fd);
	}
	free_graveyard(b);
	close(b->epfd);
	free(b->handlers);
	free(b);
	return NULL;
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int ep_add(struct sbx_broker *b, int fd, struct src *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/*
 * While no handler takes fds, the kernel refuses them at the child's
 * sendmsg: a hostile child's fds never enter the broker (whose close of the
 * last reference could block, e.g. a FUSE flush). Best effort: older
 * kernels say ENOPROTOOPT and the receive path refuses them instead.
 */
static void pass_rights(int sock, bool on)
{
	int v = on;

	setsockopt(sock, SOL_SOCKET, SO_PASSRIGHTS, &v, sizeof(v));
}

static int prepare_sock(int sock)
{
	int type, fl, sz = CHAN_SNDBUF;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	fl = fcntl(sock, F_GETFL);
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) < 0)
		return -errno;
	return 0;
}

SBX_EXPORT int sbx_broker_add_child(struct sbx_broker *b, int sock, pid_t pid)
{
	struct child *c;
	int r;

	if (sock < 0)
		return -EBADF;
	if (!b) {
		close(sock);
		return -EINVAL;
	}
	r = prepare_sock(sock);
	if (r < 0) {
		close(sock);
		return r;
	}
	if (!b->max_fds_in)
		pass_rights(sock, false);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(sock);
		return -ENOMEM;
	}
	c->sock = sock;
	c->pid = pid;
	c->pidfd = -1;
	c->chan_src = (struct src){ SRC_CHAN, c };
	c->pid_src = (struct src){ SRC_PIDFD, c };
	if (pid > 0) {
		c->pidfd = pidfd_open_(pid);
		if (c->pidfd < 0 && errno == ESRCH) {
			r = -ESRCH;
			goto fail;
		}
		/* Without pidfds (old kernel, seccomp), EOF alone tells. */
	}
	r = ep_add(b, sock, &c->chan_src);
	if (r < 0)
		goto fail;
	if (c->pidfd >= 0) {
		r = ep_add(b, c->pidfd, &c->pid_src);
		if (r < 0) {
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, sock, NULL);
			goto fail;
		}
	}
	c->next = b->children;
	b->children = c;
	b->nchildren++;
	return 0;
fail:
	if (c->pidfd >= 0)
		close(c->pidfd);
	close(sock);
	free(c);
	return r;
}

static struct handler *find_handler(const struct sbx_broker *b, uint32_t type)
{
	for (size_t i = 0; i < b->nhandlers; i++)
		if (b->handlers[i].type == type)
			return &b->handlers[i];
	return NULL;
}

SBX_EXPORT int sbx_broker_register(struct sbx_broker *b, uint32_t type, unsigned max_fds_in,
				   sbx_handler_fn fn, void *ud)
{
	struct handler *h;

	if (!b || !fn || type < SBX_REQ_CUSTOM_MIN || max_fds_in > SBX_MAX_FDS)
		return -EINVAL;
	if (find_handler(b, type))
		return -EEXIST;
	h = realloc(b->handlers, (b->nhandlers + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	b->handlers = h;
	h[b->nhandlers++] = (struct handler){ type, max_fds_in, fn, ud };
	if (max_fds_in && !b->max_fds_in)
		for (struct child *c = b->children; c; c = c->next)
			pass_rights(c->sock, true);
	if (max_fds_in > b->max_fds_in)
		b->max_fds_in = max_fds_in;
	return 0;
}

SBX_EXPORT int sbx_broker_set_audit_fd(struct sbx_broker *b, int fd)
{
	if (!b)
		return -EINVAL;
	if (fd >= 0 && fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	b->audit_fd = fd < 0 ? -1 : fd;
	return 0;
}

SBX_EXPORT int sbx_broker_fd(const struct sbx_broker *b)
{
	return b ? b->epfd : -EINVAL;
}

SBX_EXPORT int sbx_broker_children(const struct sbx_broker *b)
{
	return b ? (int)b->nchildren : -EINVAL;
}

const struct sbx_policy *broker_policy(const struct sbx_broker *b)
{
	return b ? b->policy : NULL;
}

void broker_audit(struct sbx_broker *b, pid_t pid, const char *request,
		  const char *path, int err)
{
	if (b)
		audit_write(b->audit_fd, pid, request, path,
			    err ? AUDIT_DENY : AUDIT_GRANT, err);
}

void broker_audit_drop(struct sbx_broker *b, pid_t pid, const char *request,
		       const char *path, int err)
{
	if (b)
		audit_write(b->audit_fd, pid, request, path, AUDIT_DROP, err);
}

int broker_watch(struct sbx_broker *b, int fd, broker_watch_fn cb, void *ud)
{
	struct watch *w;
	int r;

	if (!b || fd < 0 || !cb)
		return -EINVAL;
	for (w = b->watches; w; w = w->next)
		if (w->fd == fd)
			return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct watch){ { SRC_WATCH, w }, fd, cb, ud, false, NULL };
	r = ep_add(b, fd, &w->src);
	if (r < 0) {
		free(w);
		return r;
	}
	w->next = b->watches;
	b->watches = w;
	b->nwatches++;
	return 0;
}

int broker_unwatch(struct sbx_broker *b, int fd)
{
	struct watch **pp, *w;

	if (!b)
		return -EINVAL;
	for (pp = &b->watches; *pp; pp = &(*pp)->next)
		// cppcheck-suppress nullPointerRedundantCheck ; the loop test checks *pp
		if ((*pp)->fd == fd)
			break;
	w = *pp;
	if (!w)
		return -ENOENT;
	*pp = w->next;
	/* The fd may already be closed (then epoll forgot it): ignore. */
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = true;
	w->next = b->dead_watches;
	b->dead_watches = w;
	b->nwatches--;
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

/* Send a reply; fds borrowed. A child whose buffer is full (EAGAIN: it
 * does not read) or that is gone is dropped. Returns 0 or -1 (dropped). */
static int reply(struct sbx_broker *b, struct child *c, uint32_t type, uint32_t id,
		 const void *data, size_t len, const int *fds, unsigned nfds)
{
	int r = sbx_msg_send(c->sock, type, id, data, len, fds, nfds);

	if (r == 0)
		return 0;
	if (r == -EAGAIN)
		broker_audit_drop(b, c->pid, "reply", NULL, EAGAIN);
	drop_child(b, c);
	return -1;
}

static int reply_err(struct sbx_broker *b, struct child *c, uint32_t id, int err)
{
	unsigned char buf[REPLY_ERR_LEN];
	int n = reply_err_encode(buf, sizeof(buf), err < 0 ? -err : err);

	return reply(b, c, REPLY_ERR, id, buf, (size_t)n, NULL, 0);
}

/* A protocol violation: refuse (id known), audit, drop. Always -1. */
static int hostile(struct sbx_broker *b, struct child *c, const struct sbx_msg *m,
		   const char *what, int err)
{
	if (m)
		reply_err(b, c, m->id, err);   /* best effort: may drop c already */
	broker_audit_drop(b, c->pid, what, NULL, err);
	drop_child(b, c);
	return -1;
}

/* Answer with fd (a new fd the broker owns, or -errno), closing it after. */
static int reply_fd(struct sbx_broker *b, struct child *c, uint32_t id,
		    const char *what, const char *path, int fd)
{
	int r;

	broker_audit(b, c->pid, what, path, fd < 0 ? fd : 0);
	if (fd < 0)
		return reply_err(b, c, id, fd);
	r = reply(b, c, REPLY_OK, id, NULL, 0, &fd, 1);
	close(fd);
	return r;
}

static int do_open(struct sbx_broker *b, struct child *c, const struct sbx_msg *m)
{
	struct req_open *rq = &b->open_rq;
	int fd;

	if (req_open_decode(m->data, m->len, rq) < 0)
		return hostile(b, c, m, "open", EBADMSG);
	if (rq->path[0] != '/')
		fd = -EINVAL;      /* the broker has no cwd of the child */
	else if (!b->policy)
		fd = -EACCES;
	else
		fd = sbx_policy_open(b->policy, rq->path, (int)rq->flags, (mode_t)rq->mode);
	return reply_fd(b, c, m->id, "open", rq->path, fd);
}

static int do_name(struct sbx_broker *b, struct child *c, const struct sbx_msg *m)
{
	struct req_name rq;
	bool get = m->type == REQ_GET;
	const char *what = get ? "get" : "connect";
	int fd;

	if (req_name_decode(m->data, m->len, &rq) < 0)
		return hostile(b, c, m, what, EBADMSG);
	if (!b->policy)
		fd = -EACCES;
	else if (get)
		fd = sbx_policy_get(b->policy, rq.name);
	else
		fd = sbx_policy_connect(b->policy, rq.name);
	return reply_fd(b, c, m->id, what, rq.name, fd);
}

static void close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The handler's reply is sendable: sizes within bounds, every fd set. */
static int check_call_reply(const struct sbx_call *call)
{
	if (call->reply_len > SBX_MSG_MAX || call->reply_nfds > SBX_MAX_FDS)
		return -EIO;
	for (unsigned i = 0; i < call->reply_nfds; i++)
		if (call->reply_fds[i] < 0)
			return -EIO;
	return 0;
}

static int do_custom(struct sbx_broker *b, struct child *c, struct sbx_msg *m,
		     const struct handler *h)
{
	struct sbx_call call = {
		.pid = c->pid,
		.type = m->type,
		.data = m->data,
		.len = m->len,
		.fds = m->fds,
		.nfds = m->nfds,
		.reply = b->reply,
	};
	char name[16];
	unsigned nout;
	int r;

	snprintf(name, sizeof(name), "0x%x", (unsigned)m->type);
	r = h->fn(&call, h->ud);
	/* Reply fds are consumed whatever happens: clamp before closing. */
	nout = call.reply_nfds > SBX_MAX_FDS ? SBX_MAX_FDS : call.reply_nfds;
	if (r == 0)
		r = check_call_reply(&call);
	if (r < 0) {
		close_fds(call.reply_fds, nout);
		if (r == -EBADMSG)
			return hostile(b, c, m, "custom", EBADMSG);
		broker_audit(b, c->pid, "custom", name, r);
		return reply_err(b, c, m->id, r);
	}
	broker_audit(b, c->pid, "custom", name, 0);
	r = reply(b, c, REPLY_OK, m->id, b->reply, call.reply_len,
		  call.reply_fds, call.reply_nfds);
	close_fds(call.reply_fds, nout);
	return r;
}

static unsigned long request_limit(const struct sbx_broker *b)
{
	unsigned long v = b->policy ? policy_limit(b->policy, SBX_LIMIT_REQUEST_BYTES) : 0;

	return v ? v : POLICY_DEFAULT_REQUEST_BYTES;
}

/* Handle one received request. Returns 0, or -1 when the child was dropped. */
static int handle(struct sbx_broker *b, struct child *c, struct sbx_msg *m)
{
	const struct handler *h = NULL;

	if (m->len > request_limit(b))
		return hostile(b, c, m, req_type_name(m->type), EMSGSIZE);
	if (m->type >= REQ_CUSTOM_MIN) {
		h = find_handler(b, m->type);
		if (!h)
			return hostile(b, c, m, "custom", EBADRQC);
		if (m->nfds > h->max_fds)
			return hostile(b, c, m, "custom", ETOOMANYREFS);
		return do_custom(b, c, m, h);
	}
	if (m->nfds)
		return hostile(b, c, m, req_type_name(m->type), ETOOMANYREFS);
	switch (m->type) {
	case REQ_OPEN:
		return do_open(b, c, m);
	case REQ_GET:
	case REQ_CONNECT:
		return do_name(b, c, m);
	default:
		return hostile(b, c, m, "unknown", EBADRQC);
	}
}

static void serve_child(struct sbx_broker *b, struct child *c)
{
	for (int i = 0; i < PER_ROUND && !c->dead; i++) {
		int r = msg_recv_unchecked(c->sock, &b->msg, b->max_fds_in);

		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == 0 || r == -ECONNRESET) {
			drop_child(b, c);         /* EOF: the child closed */
			return;
		}
		if (r == -EMFILE) {
			/* Our fd table is full, not the child's fault: refuse
			 * this request (its fds are closed) and keep serving. */
			broker_audit(b, c->pid, req_type_name(b->msg.type), NULL, EMFILE);
			if (reply_err(b, c, b->msg.id, -EMFILE) < 0)
				return;
			continue;
		}
		if (r < 0) {
			hostile(b, c, NULL, "recv", -r);
			return;
		}
		handle(b, c, &b->msg);
		sbx_msg_clear(&b->msg);
	}
}

SBX_EXPORT int sbx_broker_dispatch(struct sbx_broker *b, int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int n;

	if (!b)
		return -EINVAL;
	n = epoll_wait(b->epfd, ev, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct src *s = ev[i].data.ptr;

		switch (s->kind) {
		case SRC_CHAN: {
			struct child *c = s->owner;

			if (!c->dead)
				serve_child(b, c);
			break;
		}
		case SRC_PIDFD: {
			struct child *c = s->owner;

			/* Exited: nobody is left to read a reply. */
			if (!c->dead)
				drop_child(b, c);
			break;
		}
		case SRC_WATCH: {
			struct watch *w = s->owner;

			if (!w->dead && w->cb(b, w->fd, ev[i].events, w->ud) < 0 && !w->dead)
				broker_unwatch(b, w->fd);
			break;
		}
		}
	}
	free_graveyard(b);
	return n;
}

SBX_EXPORT int sbx_broker_serve(struct sbx_broker *b)
{
	if (!b)
		return -EINVAL;
	while (b->nchildren || b->nwatches) {
		int r = sbx_broker_dispatch(b, -1);

		if (r < 0)
			return r;
	}
	return 0;
}
