/*
 * libFuzzer target: the broker's request/reply payload codec
 * (proto/request.h), decoders and encoders. Input layout:
 *   byte 0 (mod 6) picks the function, the rest is its input:
 *   0 req_open_decode   1 req_name_decode   2 reply_err_decode
 *      on the rest as is (the buffer ends where the fuzzer's allocation
 *      ends, so ASan sees any over-read);
 *   3 req_open_encode   u32 flags | u32 mode | u16 cap | string
 *   4 req_name_encode   u16 cap | string
 *   5 reply_err_encode  u32 err
 *      (string: the rest up to its first NUL; cap: size of an exact heap
 *      buffer the encoder writes to, so ASan sees any over-write).
 * Invariants checked on every input:
 * - each decoder agrees with an independent reading of the layout in
 *   request.h (accepts exactly the well-formed payloads, -EBADMSG else);
 * - what decodes re-encodes to the same bytes (the encoding is canonical),
 *   and fails with -ENOBUFS one byte short;
 * - what encodes decodes back to the same fields; encoders fail with the
 *   documented code (-ENOENT empty, -ENAMETOOLONG, -EINVAL mode, -ENOBUFS);
 * - req_type_name never returns NULL.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz-util.h"
#include "proto/request.h"

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));   /* native endian, like the codec */
	return v;
}

/* "u32 n | bytes[n]" ending the buffer exactly, n in 1..max, no NUL. */
static bool str_ok(const uint8_t *p, size_t left, size_t max)
{
	uint32_t n;

	if (left < 4)
		return false;
	n = rd32(p);
	return n >= 1 && n <= max && n == left - 4 && !memchr(p + 4, 0, n);
}

static void check_open_decode(const uint8_t *p, size_t len)
{
	static struct req_open rq;
	static uint8_t buf[REQ_OPEN_MAX];
	bool want = len >= REQ_OPEN_FIXED && !(rd32(p + 4) & ~07777u) &&
		    str_ok(p + 8, len - 8, REQ_PATH_MAX);
	int r = req_open_decode(p, len, &rq);

	if (!want) {
		if (r != -EBADMSG)
			fuzz_fail("open decode of a bad payload returned %d", r);
		return;
	}
	if (r != 0)
		fuzz_fail("open decode of a good payload returned %d", r);
	fuzz_assert(rq.flags == rd32(p) && rq.mode == rd32(p + 4));
	fuzz_assert(strlen(rq.path) == len - REQ_OPEN_FIXED);
	fuzz_assert(memcmp(rq.path, p + REQ_OPEN_FIXED, len - REQ_OPEN_FIXED) == 0);
	r = req_open_encode(buf, sizeof(buf), rq.flags, rq.mode, rq.path);
	fuzz_assert(r >= 0 && (size_t)r == len && memcmp(buf, p, len) == 0);
	fuzz_assert(req_open_encode(buf, len - 1, rq.flags, rq.mode, rq.path) == -ENOBUFS);
}

static void check_name_decode(const uint8_t *p, size_t len)
{
	struct req_name rq;
	uint8_t buf[REQ_NAME_ENC_MAX];
	bool want = str_ok(p, len, REQ_NAME_MAX);
	int r = req_name_decode(p, len, &rq);

	if (!want) {
		if (r != -EBADMSG)
			fuzz_fail("name decode of a bad payload returned %d", r);
		return;
	}
	if (r != 0)
		fuzz_fail("name decode of a good payload returned %d", r);
	fuzz_assert(strlen(rq.name) == len - 4 && memcmp(rq.name, p + 4, len - 4) == 0);
	r = req_name_encode(buf, sizeof(buf), rq.name);
	fuzz_assert(r >= 0 && (size_t)r == len && memcmp(buf, p, len) == 0);
	fuzz_assert(req_name_encode(buf, len - 1, rq.name) == -ENOBUFS);
}

static void check_err_decode(const uint8_t *p, size_t len)
{
	uint8_t buf[REPLY_ERR_LEN];
	bool want = len == REPLY_ERR_LEN && rd32(p) >= 1 && rd32(p) <= 4095;
	int err = 0, r = reply_err_decode(p, len, &err);

	if (!want) {
		if (r != -EBADMSG)
			fuzz_fail("reply_err decode of a bad payload returned %d", r);
		return;
	}
	fuzz_assert(r == 0 && (uint32_t)err == rd32(p));
	fuzz_assert(reply_err_encode(buf, sizeof(buf), err) == REPLY_ERR_LEN);
	fuzz_assert(memcmp(buf, p, REPLY_ERR_LEN) == 0);
}

/* The rest of the input as a C string (up to its first NUL). */
static char *take_str(struct fuzz_in *in)
{
	const uint8_t *nul = memchr(in->p, 0, in->left);
	size_t n = nul ? (size_t)(nul - in->p) : in->left;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, in->p, n);
	s[n] = 0;
	return s;
}

static void check_open_encode(struct fuzz_in *in)
{
	static struct req_open rq;
	uint32_t flags = fuzz_u32(in), mode = fuzz_u32(in);
	size_t cap = fuzz_u16(in);
	char *path = take_str(in);
	uint8_t *buf = malloc(cap ? cap : 1);
	size_t n = strlen(path);
	int want, r;

	if (!buf)
		abort();
	if (mode & ~07777u)
		want = -EINVAL;
	else if (n == 0)
		want = -ENOENT;
	else if (n > REQ_PATH_MAX)
		want = -ENAMETOOLONG;
	else if (cap < REQ_OPEN_FIXED + n)
		want = -ENOBUFS;
	else
		want = (int)(REQ_OPEN_FIXED + n);
	r = req_open_encode(buf, cap, flags, mode, path);
	if (r != want)
		fuzz_fail("open encode returned %d, expected %d", r, want);
	if (r > 0) {
		fuzz_assert(req_open_decode(buf, (size_t)r, &rq) == 0);
		fuzz_assert(rq.flags == flags && rq.mode == mode && strcmp(rq.path, path) == 0);
	}
	free(buf);
	free(path);
}

static void check_name_encode(struct fuzz_in *in)
{
	struct req_name rq;
	size_t cap = fuzz_u16(in);
	char *name = take_str(in);
	uint8_t *buf = malloc(cap ? cap : 1);
	size_t n = strlen(name);
	int want, r;

	if (!buf)
		abort();
	if (n == 0)
		want = -ENOENT;
	else if (n > REQ_NAME_MAX)
		want = -ENAMETOOLONG;
	else if (cap < 4 + n)
		want = -ENOBUFS;
	else
		want = (int)(4 + n);
	r = req_name_encode(buf, cap, name);
	if (r != want)
		fuzz_fail("name encode returned %d, expected %d", r, want);
	if (r > 0) {
		fuzz_assert(req_name_decode(buf, (size_t)r, &rq) == 0);
		fuzz_assert(strcmp(rq.name, name) == 0);
	}
	free(buf);
	free(name);
}

static void check_err_encode(struct fuzz_in *in)
{
	int err = (int)fuzz_u32(in), back = 0;
	uint8_t buf[REPLY_ERR_LEN];

	fuzz_assert(reply_err_encode(buf, sizeof(buf), err) == REPLY_ERR_LEN);
	fuzz_assert(reply_err_encode(buf, REPLY_ERR_LEN - 1, err) == -ENOBUFS);
	fuzz_assert(reply_err_decode(buf, sizeof(buf), &back) == 0);
	fuzz_assert(back == (err >= 1 && err <= 4095 ? err : EIO));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;

	if (size < 1)
		return 0;
	in = (struct fuzz_in){ data + 1, size - 1 };
	if (size >= 5)
		fuzz_assert(req_type_name(rd32(data + 1)) != NULL);
	switch (data[0] % 6) {
	case 0:
		check_open_decode(data + 1, size - 1);
		break;
	case 1:
		check_name_decode(data + 1, size - 1);
		break;
	case 2:
		check_err_decode(data + 1, size - 1);
		break;
	case 3:
		check_open_encode(&in);
		break;
	case 4:
		check_name_encode(&in);
		break;
	default:
		check_err_encode(&in);
		break;
	}
	return 0;
}
