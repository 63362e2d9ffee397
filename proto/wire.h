/* Internal: the on-wire header. Native endian: both ends share one host. */
#ifndef SBX_PROTO_WIRE_H
#define SBX_PROTO_WIRE_H

#include <stdint.h>

struct sbx_wire_hdr {
	uint16_t version;
	uint16_t nfds;
	uint32_t type;
	uint32_t id;
	uint32_t len;
};

_Static_assert(sizeof(struct sbx_wire_hdr) == 16, "wire header is 16 bytes");

#endif
