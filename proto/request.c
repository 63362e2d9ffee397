/*
 * The broker's request/reply payloads: pure, length-checked encode and
 * decode (see request.h for the layout). Every decoder reads a field only
 * after checking that its bytes are there, and accepts a buffer only when
 * it is consumed exactly.
 */
#include <errno.h>
#include <string.h>

#include "request.h"

/* Reads with memcpy: the payload buffer carries no alignment promise. */
static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Encodes "u32 n | bytes[n]" at p; the caller checked cap. */
static size_t put_str(unsigned char *p, const char *s, size_t n)
{
	put_u32(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return 4 + n;
}

/* Validates a string to encode: non-empty, at most max bytes. */
static int check_str(const char *s, size_t max, size_t *ret_n)
{
	size_t n;

	if (!s)
		return -EINVAL;
	n = strnlen(s, max + 1);
	if (n == 0)
		return -ENOENT;
	if (n > max)
		return -ENAMETOOLONG;
	*ret_n = n;
	return 0;
}

/*
 * Decodes "u32 n | bytes[n]" that must end the buffer exactly: a count
 * beyond the bytes left is a truncation, one short of them is trailing
 * garbage. Empty, over max, or holding a NUL: refused.
 */
static int get_str(const unsigned char *p, size_t left, size_t max, char *out)
{
	uint32_t n;

	if (left < 4)
		return -EBADMSG;
	n = get_u32(p);
	if (n == 0 || n > max || n != left - 4)
		return -EBADMSG;
	if (memchr(p + 4, 0, n))
		return -EBADMSG;
	memcpy(out, p + 4, n);
	out[n] = 0;
	return 0;
}

int req_open_encode(void *buf, size_t cap, uint32_t flags, uint32_t mode,
		    const char *path)
{
	unsigned char *p = buf;
	size_t n;
	int r;

	if (!buf)
		return -EINVAL;
	if (mode & ~07777u)
		return -EINVAL;
	r = check_str(path, REQ_PATH_MAX, &n);
	if (r < 0)
		return r;
	if (cap < REQ_OPEN_FIXED + n)
		return -ENOBUFS;
	put_u32(p, flags);
	put_u32(p + 4, mode);
	return (int)(8 + put_str(p + 8, path, n));
}

int req_open_decode(const void *buf, size_t len, struct req_open *out)
{
	const unsigned char *p = buf;

	if ((!buf && len) || !out)
		return -EINVAL;
	if (len < REQ_OPEN_FIXED)
		return -EBADMSG;
	out->flags = get_u32(p);
	out->mode = get_u32(p + 4);
	if (out->mode & ~07777u)
		return -EBADMSG;
	return get_str(p + 8, len - 8, REQ_PATH_MAX, out->path);
}

int req_name_encode(void *buf, size_t cap, const char *name)
{
	size_t n;
	int r;

	if (!buf)
		return -EINVAL;
	r = check_str(name, REQ_NAME_MAX, &n);
	if (r < 0)
		return r;
	if (cap < 4 + n)
		return -ENOBUFS;
	return (int)put_str(buf, name, n);
}

int req_name_decode(const void *buf, size_t len, struct req_name *out)
{
	if ((!buf && len) || !out)
		return -EINVAL;
	return get_str(buf, len, REQ_NAME_MAX, out->name);
}

int reply_err_encode(void *buf, size_t cap, int err)
{
	if (!buf)
		return -EINVAL;
	if (cap < REPLY_ERR_LEN)
		return -ENOBUFS;
	if (err < 1 || err > 4095)
		err = EIO;
	put_u32(buf, (uint32_t)err);
	return REPLY_ERR_LEN;
}

int reply_err_decode(const void *buf, size_t len, int *err)
{
	uint32_t v;

	if ((!buf && len) || !err)
		return -EINVAL;
	if (len != REPLY_ERR_LEN)
		return -EBADMSG;
	v = get_u32(buf);
	if (v < 1 || v > 4095)
		return -EBADMSG;
	*err = (int)v;
	return 0;
}

const char *req_type_name(uint32_t type)
{
	switch (type) {
	case REQ_OPEN:
		return "open";
	case REQ_GET:
		return "get";
	case REQ_CONNECT:
		return "connect";
	default:
		return type >= REQ_CUSTOM_MIN ? "custom" : "unknown";
	}
}
