/* Internal: receive without the per-message socket-type check. */
#ifndef SBX_PROTO_MSG_INTERNAL_H
#define SBX_PROTO_MSG_INTERNAL_H

#include <sbx/proto.h>

/*
 * sbx_msg_recv minus its getsockopt(SO_TYPE): for channels whose type was
 * checked once when they were adopted (sbx_client_new, sbx_broker_add_child).
 * Everything else, every fd-closing rule included, is the same.
 */
int msg_recv_unchecked(int sock, struct sbx_msg *msg, unsigned max_fds);

#endif
