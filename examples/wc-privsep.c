/*
 * wc-privsep: wc(1) split in two. The privileged parent opens the files
 * named on its command line and keeps them in a policy as named fds; a
 * forked worker drops everything (sbx_confine: no capabilities,
 * no_new_privs, Landlock, strict seccomp: it can no longer open anything),
 * asks the parent for each file by name through the broker, counts lines,
 * words and bytes, and sends each result back with an app-defined request
 * type. The parent prints them like wc.
 *
 *   wc-privsep FILE...
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/confine.h>
#include <sbx/policy.h>

/* Worker -> parent: one file's counts. Payload (native endian, exact):
 * u32 index | u32 errno (0 = counted) | u64 lines | u64 words | u64 bytes. */
#define WC_RESULT (SBX_REQ_CUSTOM_MIN + 1)
#define WC_RESULT_LEN 32

struct count {
	uint64_t lines, words, bytes;
	int err;          /* 0 counted; else why not */
	int done;         /* a result arrived (each index once) */
};

struct wc {
	int nfiles;
	struct count *counts;
};

static void fdname(char *buf, size_t len, int i)
{
	snprintf(buf, len, "file%d", i);
}

/* ---- worker (unprivileged) ---------------------------------------------- */

static int count_fd(int fd, struct count *c)
{
	static char buf[65536];
	int inword = 0;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->bytes += (uint64_t)n;
		for (ssize_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)buf[i];

			c->lines += ch == '\n';
			if (isspace(ch)) {
				inword = 0;
			} else if (!inword) {
				inword = 1;
				c->words++;
			}
		}
	}
	return 0;
}

static int send_result(struct sbx_client *cl, int i, const struct count *c, int err)
{
	unsigned char p[WC_RESULT_LEN];
	uint32_t idx = (uint32_t)i, e = (uint32_t)err;

	memcpy(p, &idx, 4);
	memcpy(p + 4, &e, 4);
	memcpy(p + 8, &c->lines, 8);
	memcpy(p + 16, &c->words, 8);
	memcpy(p + 24, &c->bytes, 8);
	return sbx_client_call(cl, WC_RESULT, p, sizeof(p), NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
}

static int worker(int sock, int nfiles)
{
	struct sbx_confine_opts o = { .chan_fd = sock, .flags = SBX_CONFINE_LANDLOCK };
	struct sbx_client *cl;
	char err[256], name[32];
	int r;

	if (geteuid() == 0) {
		/* Root: become nobody as well. */
		o.flags |= SBX_CONFINE_SETID;
		o.uid = 65534;
		o.gid = 65534;
	}
	o.errbuf = err;
	o.errlen = sizeof(err);
	/* Build the client (it allocates) before the door closes. */
	if (sbx_client_new(sock, &cl) < 0)
		return 1;
	r = sbx_confine(&o);
	if (r < 0) {
		fprintf(stderr, "wc-privsep: worker: confine: %s: %s\n", err, strerror(-r));
		return 1;
	}
	for (int i = 0; i < nfiles; i++) {
		struct count c = { 0 };
		int fd;

		fdname(name, sizeof(name), i);
		fd = sbx_client_get(cl, name);
		if (fd < 0) {
			r = fd;
		} else {
			r = count_fd(fd, &c);
			close(fd);
		}
		if (send_result(cl, i, &c, r < 0 ? -r : 0) < 0)
			return 1;
	}
	sbx_client_free(cl);
	return 0;
}

/* ---- parent (privileged) ------------------------------------------------ */

/* The worker is untrusted: check the payload exactly; a lie is malformed
 * (-EBADMSG makes the broker drop the worker). */
static int on_result(struct sbx_call *call, void *ud)
{
	struct wc *wc = ud;
	uint32_t idx, e;
	struct count *c;

	if (call->len != WC_RESULT_LEN || call->nfds)
		return -EBADMSG;
	memcpy(&idx, call->data, 4);
	memcpy(&e, (const char *)call->data + 4, 4);
	if (idx >= (uint32_t)wc->nfiles || wc->counts[idx].done || e > 4095)
		return -EBADMSG;
	c = &wc->counts[idx];
	if (!c->err) {
		c->err = (int)e;
		memcpy(&c->lines, (const char *)call->data + 8, 8);
		memcpy(&c->words, (const char *)call->data + 16, 8);
		memcpy(&c->bytes, (const char *)call->data + 24, 8);
	}
	c->done = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sbx_policy *p = NULL;
	struct sbx_broker *b = NULL;
	struct wc wc = { 0 };
	struct count total = { 0 };
	int sv[2], status = 0, st, r;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: wc-privsep FILE...\n");
		return 2;
	}
	wc.nfiles = argc - 1;
	wc.counts = calloc((size_t)wc.nfiles, sizeof(*wc.counts));
	if (!wc.counts || sbx_policy_new(&p) < 0)
		return 1;
	/* Privileged work first: open what the user named. */
	for (int i = 0; i < wc.nfiles; i++) {
		char name[32];
		int fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd < 0) {
			wc.counts[i].err = errno;
			continue;
		}
		fdname(name, sizeof(name), i);
		r = sbx_policy_add_fd(p, name, fd);
		close(fd);
		if (r < 0)
			wc.counts[i].err = -r;
	}
	if (sbx_broker_new(p, &b) < 0 ||
	    sbx_broker_register(b, WC_RESULT, 0, on_result, &wc) < 0 || sbx_socketpair(sv) < 0) {
		fprintf(stderr, "wc-privsep: broker setup failed\n");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("wc-privsep: fork");
		return 1;
	}
	if (pid == 0) {
		/* The worker keeps stdio and its channel, nothing else: the
		 * policy's copies of the files stay with the parent. */
		if (dup2(sv[1], 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		_exit(worker(3, wc.nfiles));
	}
	close(sv[1]);
	r = sbx_broker_add_child(b, sv[0], pid);
	if (r == 0)
		r = sbx_broker_serve(b);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "wc-privsep: worker failed\n");
		status = 1;
	}
	for (int i = 0; i < wc.nfiles; i++) {
		struct count *c = &wc.counts[i];

		if (c->err || !c->done) {
			fprintf(stderr, "wc-privsep: %s: %s\n", argv[i + 1],
				strerror(c->err ? c->err : EPROTO));
			status = 1;
			continue;
		}
		printf("%7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %s\n", c->lines, c->words,
		       c->bytes, argv[i + 1]);
		total.lines += c->lines;
		total.words += c->words;
		total.bytes += c->bytes;
	}
	if (wc.nfiles > 1)
		printf("%7" PRIu64 " %7" PRIu64 " %7" PRIu64 " total\n", total.lines,
		       total.words, total.bytes);
	sbx_broker_free(b);
	sbx_policy_free(p);
	free(wc.counts);
	return status;
}
