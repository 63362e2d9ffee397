/* A listener served by the broker's poll loop. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "broker-internal.h"
#include "notify-impl.h"

static void audit_open(pid_t pid, const char *path, int flags, int err, void *ud)
{
	struct sbx_broker *b = ud;

	(void)flags;
	broker_audit(b, pid, "notify-open", path, err);
}

static int on_listener(struct sbx_broker *b, int fd, unsigned revents, void *ud)
{
	struct notify_ctx *ctx = ud;
	int r;

	if (revents & EPOLLIN) {
		r = notify_handle_one(ctx);
		if (r >= 0)
			return 0;
	} else if (!(revents & (EPOLLHUP | EPOLLERR))) {
		return 0;
	}
	/* Every task using the filter is gone (or the listener broke). */
	broker_unwatch(b, fd);
	notify_ctx_free(ctx);
	return 0;
}

int notify_attach(struct sbx_broker *b, int listener, pid_t pid, const struct notify_opts *o)
{
	struct notify_opts opts = { 0 };
	struct notify_ctx *ctx;
	int r;

	if (!b) {
		if (listener >= 0)
			close(listener);
		return -EINVAL;
	}
	if (o)
		opts = *o;
	if (!opts.on_open) {
		opts.on_open = audit_open;
		opts.open_ud = b;
	}
	r = notify_ctx_new(broker_policy(b), listener, pid, &opts, &ctx);
	if (r < 0)
		return r;
	r = broker_watch(b, notify_ctx_fd(ctx), on_listener, ctx);
	if (r < 0)
		notify_ctx_free(ctx);
	return r;
}
