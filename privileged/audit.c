/*
 * The audit log: one JSON object per line per decision. Strings coming
 * from a child are hostile: every byte that is not printable ASCII is
 * escaped (\uXXXX), bytes >= 0x80 included (as U+0080..U+00FF, one per
 * byte), so the line is valid JSON and valid UTF-8 whatever the child sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker-internal.h"

struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* Keep room for the closing "}\n" the caller always appends. */
	if (o->len + n + 3 > o->cap)
		n = o->len + 3 < o->cap ? o->cap - o->len - 3 : 0;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A quoted JSON string; truncated (never split inside an escape) if long. */
static void put_json_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put(o, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char e[7];
		size_t n;

		if (*c == '"' || *c == '\\') {
			e[0] = '\\';
			e[1] = (char)*c;
			n = 2;
		} else if (*c < 0x20 || *c >= 0x7f) {
			memcpy(e, "\\u00", 4); // NOLINT(bugprone-not-null-terminated-result): e is bytes, n counts them
			e[4] = hex[*c >> 4];
			e[5] = hex[*c & 15];
			n = 6;
		} else {
			e[0] = (char)*c;
			n = 1;
		}
		/* 1 for the closing quote, 3 for "}\n" + NUL slack. */
		if (o->len + n + 1 + 3 > o->cap)
			break;
		put(o, e, n);
	}
	put(o, "\"", 1);
}

static const char *verdict_name(enum audit_verdict v)
{
	switch (v) {
	case AUDIT_GRANT:
		return "grant";
	case AUDIT_DENY:
		return "deny";
	default:
		return "drop";
	}
}

size_t audit_format(char *buf, size_t cap, double when, pid_t pid,
		    const char *request, const char *path,
		    enum audit_verdict v, int err)
{
	struct out o = { buf, cap, 0 };
	const char *ename;
	char num[96];
	int key_is_name;

	if (err < 0)
		err = -err;
	snprintf(num, sizeof(num), "{\"time\":%.6f,\"pid\":%ld,\"request\":", when,
		 (long)pid);
	puts_(&o, num);
	put_json_str(&o, request ? request : "unknown");
	key_is_name = request && (!strcmp(request, "get") || !strcmp(request, "connect") ||
				  !strcmp(request, "custom"));
	if (path) {
		puts_(&o, key_is_name ? ",\"name\":" : ",\"path\":");
		put_json_str(&o, path);
	}
	puts_(&o, ",\"verdict\":");
	put_json_str(&o, verdict_name(v));
	puts_(&o, ",\"errno\":");
	if (!err) {
		puts_(&o, "null");
	} else {
		ename = strerrorname_np(err);
		if (ename) {
			put_json_str(&o, ename);
		} else {
			snprintf(num, sizeof(num), "%d", err);
			puts_(&o, num);
		}
	}
	/* put() always left room for these. */
	memcpy(o.p + o.len, "}\n", 2);
	return o.len + 2;
}

void audit_write(int fd, pid_t pid, const char *request, const char *path,
		 enum audit_verdict v, int err)
{
	/* A path is at most 4095 bytes, 6 per escaped byte. */
	static char line[6 * 4096 + 512];
	struct timespec ts;
	size_t n;
	ssize_t w;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = audit_format(line, sizeof(line), (double)ts.tv_sec + ts.tv_nsec / 1e9,
			 pid, request, path, v, err);
	do
		w = write(fd, line, n);
	while (w < 0 && errno == EINTR);
	(void)w;
}
