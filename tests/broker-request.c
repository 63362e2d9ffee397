/* The request/reply codec: round trips, every truncation, trailing garbage,
 * embedded NULs, empty and over-long strings, lying counts, random bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/request.h"
#include "tap.h"

static size_t put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

static void open_cases(void)
{
	static unsigned char buf[REQ_OPEN_MAX + 64];
	static struct req_open o;
	static char longp[REQ_PATH_MAX + 2];
	int n, bad = 0;

	n = req_open_encode(buf, sizeof(buf), 0x80241, 0644, "/etc/h\xc3\xa9llo");
	is_int(n, 12 + 11, "open: encoded length");
	ok(req_open_decode(buf, (size_t)n, &o) == 0 && o.flags == 0x80241 && o.mode == 0644 &&
	   !strcmp(o.path, "/etc/h\xc3\xa9llo"), "open: round trip (bytes >= 0x80 kept)");
	for (int k = 0; k < n; k++)
		bad += req_open_decode(buf, (size_t)k, &o) != -EBADMSG;
	is_int(bad, 0, "open: every truncation (0..%d bytes) refused with EBADMSG", n - 1);
	buf[n] = 'x';
	is_int(req_open_decode(buf, (size_t)n + 1, &o), -EBADMSG, "open: trailing garbage refused");

	/* Wire-level: a NUL inside the path. */
	memcpy(buf + 12, "/etc\0passwd", 11);
	put_u32(buf + 8, 11);
	is_int(req_open_decode(buf, 23, &o), -EBADMSG, "open: embedded NUL refused");
	put_u32(buf + 8, 4);
	is_int(req_open_decode(buf, 16, &o), 0, "open: the same bytes before the NUL are fine");
	memcpy(buf + 12, "/etc\0", 5);
	put_u32(buf + 8, 5);
	is_int(req_open_decode(buf, 17, &o), -EBADMSG, "open: trailing NUL terminator refused");

	is_int(req_open_encode(buf, sizeof(buf), 0, 0, ""), -ENOENT, "open: encoder refuses an empty path");
	put_u32(buf + 8, 0);
	is_int(req_open_decode(buf, 12, &o), -EBADMSG, "open: empty path refused on the wire");

	memset(longp, 'a', REQ_PATH_MAX);
	longp[0] = '/';
	n = req_open_encode(buf, sizeof(buf), 0, 0, longp);
	ok(n == 12 + REQ_PATH_MAX && req_open_decode(buf, (size_t)n, &o) == 0 &&
	   strlen(o.path) == REQ_PATH_MAX, "open: a path of PATH_MAX-1 bytes passes");
	longp[REQ_PATH_MAX] = 'a';
	is_int(req_open_encode(buf, sizeof(buf), 0, 0, longp), -ENAMETOOLONG,
	       "open: encoder refuses a path of PATH_MAX bytes");
	memset(buf + 12, 'a', REQ_PATH_MAX + 1);
	put_u32(buf + 8, REQ_PATH_MAX + 1);
	is_int(req_open_decode(buf, 12 + REQ_PATH_MAX + 1, &o), -EBADMSG,
	       "open: a path of PATH_MAX bytes refused on the wire");
	put_u32(buf + 8, 0xffffffffu);
	is_int(req_open_decode(buf, 20, &o), -EBADMSG, "open: a count of 2^32-1 refused");
	put_u32(buf + 8, 2);
	is_int(req_open_decode(buf, 20, &o), -EBADMSG, "open: a count short of the bytes refused");
	n = req_open_encode(buf, sizeof(buf), 0, 0, "/x");
	put_u32(buf + 4, 010000);
	is_int(req_open_decode(buf, (size_t)n, &o), -EBADMSG, "open: mode bits beyond 07777 refused");
	is_int(req_open_encode(buf, sizeof(buf), 0, 010000, "/x"), -EINVAL, "open: encoder refuses them");
	is_int(req_open_encode(buf, 13, 0, 0, "/x"), -ENOBUFS, "open: encoder refuses a short buffer");
	is_int(req_open_decode(NULL, 0, &o), -EBADMSG, "open: empty buffer refused");
}

static void name_cases(void)
{
	unsigned char buf[REQ_NAME_ENC_MAX + 8];
	struct req_name o;
	char longn[REQ_NAME_MAX + 2];
	int n, bad = 0;

	n = req_name_encode(buf, sizeof(buf), "config");
	ok(n == 10 && req_name_decode(buf, (size_t)n, &o) == 0 && !strcmp(o.name, "config"),
	   "name: round trip");
	for (int k = 0; k < n; k++)
		bad += req_name_decode(buf, (size_t)k, &o) != -EBADMSG;
	is_int(bad, 0, "name: every truncation refused");
	buf[n] = 0;
	is_int(req_name_decode(buf, (size_t)n + 1, &o), -EBADMSG, "name: trailing byte refused");
	memcpy(buf + 4, "co\0fig", 6);
	is_int(req_name_decode(buf, 10, &o), -EBADMSG, "name: embedded NUL refused");
	put_u32(buf, 0);
	is_int(req_name_decode(buf, 4, &o), -EBADMSG, "name: empty name refused");
	is_int(req_name_encode(buf, sizeof(buf), ""), -ENOENT, "name: encoder refuses empty");
	memset(longn, 'n', sizeof(longn));
	longn[REQ_NAME_MAX] = 0;
	ok(req_name_encode(buf, sizeof(buf), longn) == 4 + REQ_NAME_MAX, "name: 255 bytes pass");
	longn[REQ_NAME_MAX] = 'n';
	longn[REQ_NAME_MAX + 1] = 0;
	is_int(req_name_encode(buf, sizeof(buf), longn), -ENAMETOOLONG, "name: 256 bytes refused");
}

static void err_cases(void)
{
	unsigned char buf[8];
	int e = 0;

	ok(reply_err_encode(buf, sizeof(buf), EACCES) == 4 && reply_err_decode(buf, 4, &e) == 0 &&
	   e == EACCES, "error reply: round trip");
	is_int(reply_err_decode(buf, 3, &e), -EBADMSG, "error reply: short refused");
	is_int(reply_err_decode(buf, 5, &e), -EBADMSG, "error reply: long refused");
	put_u32(buf, 0);
	is_int(reply_err_decode(buf, 4, &e), -EBADMSG, "error reply: errno 0 refused");
	put_u32(buf, 4096);
	is_int(reply_err_decode(buf, 4, &e), -EBADMSG, "error reply: errno 4096 refused");
	reply_err_encode(buf, sizeof(buf), -5);
	ok(reply_err_decode(buf, 4, &e) == 0 && e == EIO, "error reply: bad errno encoded as EIO");
}

/* Random bytes: the decoders never read out of bounds (ASan/valgrind
 * watch), and whatever they accept is a well-formed string. */
static void random_cases(void)
{
	static unsigned char buf[64];
	static struct req_open o;
	struct req_name nm;
	unsigned seed = 12345;
	int accepted = 0, wrong = 0;

	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		unsigned char *p = malloc(len ? len : 1);

		for (size_t k = 0; k < len; k++)
			p[k] = (unsigned char)(rand_r(&seed) % 4 ? 'a' + rand_r(&seed) % 3 : rand_r(&seed));
		/* Often make the count match, to get past the first check. */
		if (len >= 12 && rand_r(&seed) % 2) {
			put_u32(p + 8, (uint32_t)(len - 12));
			memset(p + 4, 0, 4);
		}
		if (req_open_decode(p, len, &o) == 0) {
			accepted++;
			wrong += strlen(o.path) != len - 12 || o.path[0] == 0;
		}
		if (len >= 4 && rand_r(&seed) % 2)
			put_u32(p, (uint32_t)(len - 4));
		if (req_name_decode(p, len, &nm) == 0) {
			accepted++;
			wrong += strlen(nm.name) != len - 4;
		}
		free(p);
	}
	ok(accepted > 0, "random: some inputs accepted (%d)", accepted);
	is_int(wrong, 0, "random: every accepted string is exactly the counted bytes");
}

int main(void)
{
	struct fd_table before;

	tap_start();
	fd_snapshot(&before);
	open_cases();
	name_cases();
	err_cases();
	random_cases();
	ok(fd_same(&before), "codec: no fd opened or closed (pure functions)");
	return tap_done();
}
