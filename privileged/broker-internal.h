/* Internal: hooks of the broker used by notify, spawn and sandbox-run. */
#ifndef SBX_BROKER_INTERNAL_H
#define SBX_BROKER_INTERNAL_H

#include <sys/types.h>

#include <sbx/broker.h>

/* Callback for a watched fd: revents are epoll events (EPOLLIN, EPOLLHUP,
 * EPOLLERR). It may call broker_unwatch(b, fd) (even for its own fd) and
 * broker_audit. Its return value is ignored except < 0 unwatches the fd. */
typedef int (*broker_watch_fn)(struct sbx_broker *b, int fd, unsigned revents, void *ud);

/* Watch fd (borrowed: the caller keeps it open while watched and closes it
 * after broker_unwatch) for input. A watch keeps sbx_broker_serve running.
 * sbx_broker_free calls each remaining watch's cb once with EPOLLHUP, so the
 * watcher can release what it attached (unwatching there is allowed).
 * Returns 0, or -EINVAL, -EEXIST, -ENOMEM, -errno from epoll_ctl. */
int broker_watch(struct sbx_broker *b, int fd, broker_watch_fn cb, void *ud);
/* Stop watching fd (does not close it). Returns 0 or -ENOENT. */
int broker_unwatch(struct sbx_broker *b, int fd);

/* The policy the broker decides with (may be NULL). */
const struct sbx_policy *broker_policy(const struct sbx_broker *b);

/* One audit line: err 0 = grant, else deny with errno err (positive or
 * negative accepted). request e.g. "open"; path may be NULL. */
void broker_audit(struct sbx_broker *b, pid_t pid, const char *request,
		  const char *path, int err);

/* Verdicts of the audit log. */
enum audit_verdict { AUDIT_GRANT, AUDIT_DENY, AUDIT_DROP };

/* audit.c: format one JSON line into buf (cap bytes, >= 256); returns its
 * length (with the newline). Pure, for tests. */
size_t audit_format(char *buf, size_t cap, double when, pid_t pid,
		    const char *request, const char *path,
		    enum audit_verdict v, int err);
/* Write the line to fd (one write; errors ignored). */
void audit_write(int fd, pid_t pid, const char *request, const char *path,
		 enum audit_verdict v, int err);

/* Drop verdict (hostile child) for the log. */
void broker_audit_drop(struct sbx_broker *b, pid_t pid, const char *request,
		       const char *path, int err);

#endif
