/* sbx: the confined side's requests to its broker. */
#ifndef SBX_CLIENT_H
#define SBX_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_client;

#ifndef SBX_REQ_CUSTOM_MIN
#define SBX_REQ_CUSTOM_MIN 0x10000u
#endif

/*
 * A client talking on sock (borrowed: the caller closes it after
 * sbx_client_free). The client is thread-safe: one mutex serialises calls,
 * so one request is in flight at a time.
 * Returns 0 and sets *ret, or -EBADF, -EPROTOTYPE (not SOCK_SEQPACKET),
 * -ENOTSOCK, -EINVAL, -ENOMEM.
 */
int sbx_client_new(int sock, struct sbx_client **ret);

/*
 * sbx_client_new on the fd named by $SBX_FD (decimal digits only, no sign,
 * no leading zero, at most INT_MAX). The fd stays the process's (borrowed).
 * Returns 0, or -ENOENT (unset), -EINVAL (malformed), or sbx_client_new's.
 */
int sbx_client_from_env(struct sbx_client **ret);

/* NULL-safe; does not close the socket. Returns NULL. */
struct sbx_client *sbx_client_free(struct sbx_client *c);

/*
 * Ask the broker to open path (absolute; the policy decides) with flags
 * and mode. The fd received must be a regular file, or a directory when
 * flags has O_DIRECTORY (or O_PATH), with the access mode asked for;
 * anything else is closed and -EMEDIUMTYPE returned.
 * Returns a new close-on-exec fd the caller owns, or -errno: the broker's
 * refusal (-EACCES, -ENOENT, ...), -ENOENT (empty path), -ENAMETOOLONG,
 * -EINVAL, -EMEDIUMTYPE, -EPROTO (malformed or mismatched reply),
 * -EPIPE/-ECONNRESET (broker gone), or another -errno of send/recv.
 */
int sbx_client_open(struct sbx_client *c, const char *path, int flags, mode_t mode);

/* sbx_client_open accepting an fd of any type (FIFO, socket, device):
 * for callers that expect one and guard against blocking themselves. */
int sbx_client_open_any(struct sbx_client *c, const char *path, int flags, mode_t mode);

/* The policy's named fd name (any type). Returns a new fd or -errno as
 * sbx_client_open. */
int sbx_client_get(struct sbx_client *c, const char *name);

/* A connected socket to the policy's connect target name; the fd must be
 * a socket (-EMEDIUMTYPE otherwise). Returns a new fd or -errno. */
int sbx_client_connect(struct sbx_client *c, const char *name);

/*
 * Generic call: send an app-defined request type (>= SBX_REQ_CUSTOM_MIN)
 * with payload data/len and fds (borrowed, at most SBX_MAX_FDS), wait for
 * the reply. The reply payload is copied into reply (cap reply_cap; *reply_len
 * set, may be NULL when reply_cap is 0); at most max_fds_out fds are
 * accepted into fds_out[] (*nfds_out set), which the caller then owns.
 * Returns 0, the broker's -errno, -EINVAL, -EMSGSIZE (len too big, or
 * reply bigger than reply_cap: its fds are closed), -EPROTO, or a send/recv
 * -errno. On error no fd is handed out.
 */
int sbx_client_call(struct sbx_client *c, uint32_t type, const void *data, size_t len,
		    const int *fds, unsigned nfds, void *reply, size_t reply_cap,
		    size_t *reply_len, int *fds_out, unsigned max_fds_out,
		    unsigned *nfds_out);

#ifdef __cplusplus
}
#endif
#endif
