/* Internal: the broker's request and reply payloads (inside a proto/ message).
 *
 * Pure encode/decode: no I/O, no allocation. Native endian like the header
 * (both ends share one host). Every field has a fixed width; strings travel
 * as a u32 byte count followed by exactly that many bytes, no terminator.
 *
 *   OPEN     (type 1)  u32 flags | u32 mode | u32 n | path[n]   0 fds
 *   GET      (type 2)  u32 n | name[n]                          0 fds
 *   CONNECT  (type 3)  u32 n | name[n]                          0 fds
 *   REPLY_OK (0x100)   builtin: empty payload, 1 fd; custom: app payload + fds
 *   REPLY_ERR(0x101)   u32 errno (1..4095)                      0 fds
 *   custom   (>= 0x10000) app-defined payload, fds as registered
 *
 * The decoders refuse (-EBADMSG) a short buffer, a string count that does
 * not match the bytes left (truncation or trailing garbage), an empty string,
 * an embedded NUL, a path over REQ_PATH_MAX or a name over REQ_NAME_MAX
 * bytes (-ENAMETOOLONG at encode time), and mode bits outside 07777. */
#ifndef SBX_PROTO_REQUEST_H
#define SBX_PROTO_REQUEST_H

#include <stddef.h>
#include <stdint.h>

enum {
	REQ_OPEN = 1,
	REQ_GET = 2,
	REQ_CONNECT = 3,
	REPLY_OK = 0x100,
	REPLY_ERR = 0x101,
	REQ_CUSTOM_MIN = 0x10000,
};

/* Longest path in bytes, terminator excluded (PATH_MAX counts it). */
#define REQ_PATH_MAX 4095
/* Longest name (get/connect) in bytes, terminator excluded. */
#define REQ_NAME_MAX 255
/* Fixed part of an OPEN payload. */
#define REQ_OPEN_FIXED 12
/* Largest encoded OPEN/GET/CONNECT and REPLY_ERR payloads. */
#define REQ_OPEN_MAX (REQ_OPEN_FIXED + REQ_PATH_MAX)
#define REQ_NAME_ENC_MAX (4 + REQ_NAME_MAX)
#define REPLY_ERR_LEN 4

struct req_open {
	uint32_t flags;
	uint32_t mode;
	char path[REQ_PATH_MAX + 1];   /* NUL-terminated copy */
};

struct req_name {
	char name[REQ_NAME_MAX + 1];   /* NUL-terminated copy */
};

/* Encode into buf (cap bytes). Return the payload length, or -ENOENT (empty
 * string), -EINVAL (NULL, mode outside 07777), -ENAMETOOLONG, -ENOBUFS (cap
 * too small). */
int req_open_encode(void *buf, size_t cap, uint32_t flags, uint32_t mode,
		    const char *path);
int req_name_encode(void *buf, size_t cap, const char *name);
/* err is a positive errno in 1..4095 (anything else is encoded as EIO). */
int reply_err_encode(void *buf, size_t cap, int err);

/* Decode len bytes of buf into out. Return 0, or -EBADMSG (malformed as
 * described above), -EINVAL (NULL arguments). out is unspecified on error. */
int req_open_decode(const void *buf, size_t len, struct req_open *out);
int req_name_decode(const void *buf, size_t len, struct req_name *out);
/* *err receives the positive errno. */
int reply_err_decode(const void *buf, size_t len, int *err);

/* Name of a request type for logs ("open", "get", "connect", "custom"). */
const char *req_type_name(uint32_t type);

#endif
