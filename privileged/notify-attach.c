/* A listener served by the broker's poll loop. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "broker-internal.h"
#include "notify-impl.h"

/* One listener served by a broker's loop; freed when the listener hangs up
 * or when the broker is freed (it calls on_listener with EPOLLHUP). */
struct attached {
	struct sbx_broker *b;
	struct notify_ctx *ctx;
};

static void audit_open(pid_t pid, const char *path, int flags, int err, void *ud)
{
	struct sbx_broker *b = ud;

	(void)flags;
	broker_audit(b, pid, "notify-open", path, err);
}

/* Unwatch, close and free one attachment. */
static void detach(struct attached *a)
{
	broker_unwatch(a->b, notify_ctx_fd(a->ctx));
	notify_ctx_free(a->ctx);
	free(a);
}

static int on_listener(struct sbx_broker *b, int fd, unsigned revents, void *ud)
{
	struct attached *a = ud;

	(void)b;
	(void)fd;
	if (revents & EPOLLIN) {
		if (notify_handle_one(a->ctx) >= 0)
			return 0;
	} else if (!(revents & (EPOLLHUP | EPOLLERR))) {
		return 0;
	}
	/* Every task using the filter is gone (or the listener broke). */
	detach(a);
	return 0;
}

int notify_attach(struct sbx_broker *b, int listener, pid_t pid, const struct notify_opts *o)
{
	struct notify_opts opts = { 0 };
	struct attached *a;
	int r;

	if (!b) {
		if (listener >= 0)
			close(listener);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		if (listener >= 0)
			close(listener);
		return -ENOMEM;
	}
	if (o)
		opts = *o;
	if (!opts.on_open) {
		opts.on_open = audit_open;
		opts.open_ud = b;
	}
	r = notify_ctx_new(broker_policy(b), listener, pid, &opts, &a->ctx);
	if (r < 0) {
		free(a);
		return r;
	}
	a->b = b;
	r = broker_watch(b, notify_ctx_fd(a->ctx), on_listener, a);
	if (r < 0) {
		notify_ctx_free(a->ctx);
		free(a);
		return r;
	}
	return 0;
}
