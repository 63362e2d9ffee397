/* sbx: the privileged broker. Serves confined children over their channels:
 * open/get/connect decided by a policy, plus app-defined request types. */
#ifndef SBX_BROKER_H
#define SBX_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sbx/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_broker;
struct sbx_policy;

/* App-defined request types are >= this value; smaller ones are sbx's. */
#ifndef SBX_REQ_CUSTOM_MIN
#define SBX_REQ_CUSTOM_MIN 0x10000u
#endif

/*
 * One app-defined request, handed to its handler. Ownership:
 * - data/len: the request payload, borrowed, valid during the call only;
 * - fds[0..nfds): fds the child sent, owned by the broker, which closes
 *   every slot still >= 0 after the handler returns; a handler keeps one
 *   by copying it and writing -1 into the slot;
 * - reply/reply_len: the handler writes at most SBX_MSG_MAX bytes into
 *   reply and sets reply_len;
 * - reply_fds[0..reply_nfds): fds to send back (at most SBX_MAX_FDS); they
 *   are CONSUMED: the broker closes them after sending, and also when the
 *   handler fails or the reply cannot be sent.
 */
struct sbx_call {
	pid_t pid;                        /* the child asking (0 if unknown) */
	uint32_t type;
	const void *data;
	size_t len;
	int *fds;
	unsigned nfds;
	void *reply;
	size_t reply_len;
	int reply_fds[SBX_MAX_FDS];
	unsigned reply_nfds;
};

/* A handler returns 0 (the reply is sent), a negative errno (sent to the
 * child as an error reply), or -EBADMSG to declare the request malformed:
 * the child is then treated as hostile (refused, audited, dropped). */
typedef int (*sbx_handler_fn)(struct sbx_call *call, void *ud);

/*
 * Create a broker deciding with policy (borrowed: it must outlive the
 * broker; NULL refuses every open/get/connect with EACCES).
 * Returns 0 and sets *ret, or -ENOMEM, -EINVAL, or -errno from epoll_create1.
 */
int sbx_broker_new(const struct sbx_policy *policy, struct sbx_broker **ret);

/* Drop every child (closing its channel), close the broker's fds and free
 * it. NULL-safe; returns NULL. */
struct sbx_broker *sbx_broker_free(struct sbx_broker *b);

/*
 * Serve a child on sock (its end of a SOCK_SEQPACKET pair). sock is
 * CONSUMED on every path, errors included; the broker makes it
 * non-blocking. pid (> 0) is used in the audit log and to notice the
 * child's exit with a pidfd; pid <= 0 relies on EOF alone.
 * Returns 0, or -EBADF, -EINVAL (NULL b), -EPROTOTYPE (not SEQPACKET),
 * -ENOMEM, or -errno from epoll_ctl/fcntl.
 */
int sbx_broker_add_child(struct sbx_broker *b, int sock, pid_t pid);

/*
 * Register handler fn for the app-defined request type (>= SBX_REQ_CUSTOM_MIN),
 * accepting at most max_fds_in fds with a request (<= SBX_MAX_FDS).
 * Returns 0, or -EINVAL (type out of range, max_fds_in too large, NULL fn),
 * -EEXIST (type already registered), -ENOMEM.
 */
int sbx_broker_register(struct sbx_broker *b, uint32_t type, unsigned max_fds_in,
			sbx_handler_fn fn, void *ud);

/*
 * Write one JSON line per decision to fd (borrowed; -1 switches the log
 * off). Write errors are ignored: the log never stops the broker.
 * Returns 0, or -EINVAL (NULL b), -EBADF (fd not open).
 */
int sbx_broker_set_audit_fd(struct sbx_broker *b, int fd);

/* The broker's epoll fd (borrowed; owned by the broker): poll it for
 * POLLIN, then call sbx_broker_dispatch(b, 0). Returns the fd or -EINVAL. */
int sbx_broker_fd(const struct sbx_broker *b);

/* Number of children being served (>= 0), or -EINVAL. */
int sbx_broker_children(const struct sbx_broker *b);

/*
 * Wait up to timeout_ms (-1: forever, 0: not at all) for activity and
 * handle it: at most a few requests per child per call (fairness), child
 * exits, watched fds. Returns the number of events handled (0 on timeout
 * or EINTR), or -EINVAL, or -errno from epoll_wait. A hostile child is
 * dropped, never reported as an error.
 */
int sbx_broker_dispatch(struct sbx_broker *b, int timeout_ms);

/* Dispatch until no child (and no internal watch) is left.
 * Returns 0, or a negative errno from sbx_broker_dispatch. */
int sbx_broker_serve(struct sbx_broker *b);

#ifdef __cplusplus
}
#endif
#endif
