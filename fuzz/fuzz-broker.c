/*
 * libFuzzer target: the broker end to end. One broker (created once, with a
 * small policy over /tmp/sbx-fuzz-broker, a named fd, two connect targets
 * and two app handlers, one taking fds) serves a new child per input over a
 * real SOCK_SEQPACKET pair; the input is the child's side of the talk.
 *
 * Input: a sequence of records
 *   u8 ctl | u16 n (little endian) | n bytes (fewer if the input ends)
 *   ctl bits 0-4: fds to attach (mod 21: up to 20, over SBX_MAX_FDS)
 *   ctl bit 5:    attach a directory fd instead of /dev/null
 *   ctl bit 6:    do not let the broker run after this send (requests pile
 *                 up, replies too: the "child that does not read" paths)
 *   ctl bit 7:    framed: the bytes are u32 type | u32 id | payload and the
 *                 target writes a correct header; else the bytes are sent
 *                 as the raw datagram, header included.
 *   A framed record under 8 bytes sends nothing: it is a directive for the
 *   rest of the input. Empty, or bit 0 of its first byte: the policy's path
 *   resolution uses the fallback walk (no openat2); bit 1: the child stops
 *   reading replies (until the end of the input), so they pile up at it
 *   and the broker's non-blocking send fails. Each input starts with
 *   openat2 and a child that reads.
 * "Let the broker run" = sbx_broker_dispatch(b, 0) until it reports no
 * event, accepting pending connections and reading every reply between
 * rounds. After the last record the child's end is closed and the broker
 * runs until it has dropped the child.
 *
 * Invariants checked on every input:
 * - the broker never blocks (dispatch timeout 0; a blocking handler would
 *   trip libFuzzer's -timeout) and gets quiet within a bounded number of
 *   rounds;
 * - one request, one reply: the k-th reply answers the k-th datagram sent
 *   (same id; a datagram the broker cannot read ends the child, so
 *   replies are a prefix), REPLY_OK or REPLY_ERR only, a REPLY_ERR payload
 *   decodes and carries no fd, a built-in REPLY_OK carries exactly one fd
 *   and no payload;
 * - handlers see at most their registered fds, close-on-exec, a payload
 *   within the policy's request limit and the child's pid;
 * - every audit line is one JSON object of printable ASCII ending in "}\n";
 * - after the child is gone, the broker has no child and the process's fd
 *   table is exactly as before the input (LeakSanitizer checks memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/policy.h>
#include <sbx/proto.h>

#include "fuzz-util.h"
#include "privileged/policy-impl.h"
#include "proto/request.h"
#include "proto/wire.h"

#define TREE "/tmp/sbx-fuzz-broker"
#define TYPE_FDS 0x10000u      /* handler taking up to 4 fds */
#define TYPE_PLAIN 0x10001u    /* handler taking none */
#define MAX_SENT 4096
#define MAX_ROUNDS 100000

static struct sbx_policy *policy;
static struct sbx_broker *broker;
static int nullfd = -1, dirfd_ = -1, listener = -1, audit_fd = -1;
static int child_end = -1;
static pid_t self;

static struct {
	uint32_t type, id;
	bool framed;               /* had a full header */
} sent[MAX_SENT];
static size_t nsent, nreplies;
static bool deaf;              /* the child does not read replies */

static int take_dup(void)
{
	int fd = fcntl(nullfd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		abort();
	return fd;
}

static void check_call(const struct sbx_call *call, unsigned max_fds)
{
	fuzz_assert(call->pid == self);
	fuzz_assert(call->nfds <= max_fds);
	fuzz_assert(call->len <= policy_limit(policy, SBX_LIMIT_REQUEST_BYTES));
	for (unsigned i = 0; i < call->nfds; i++)
		fuzz_assert(call->fds[i] >= 0 && fcntl(call->fds[i], F_GETFD) == FD_CLOEXEC);
}

/* The payload's first byte picks a behaviour, good and bad. */
static int handler_fds(struct sbx_call *call, void *ud)
{
	unsigned what = call->len ? ((const uint8_t *)call->data)[0] % 8 : 0;

	(void)ud;
	check_call(call, 4);
	switch (what) {
	case 0:   /* echo */
		memcpy(call->reply, call->data, call->len);
		call->reply_len = call->len;
		return 0;
	case 1:   /* keep the first fd and hand it back */
		if (call->nfds) {
			call->reply_fds[0] = call->fds[0];
			call->fds[0] = -1;
			call->reply_nfds = 1;
		}
		return 0;
	case 2:
		return -EBADMSG;
	case 3:
		return -EACCES;
	case 4:   /* reply too long: refused, its fd still closed */
		call->reply_len = SBX_MSG_MAX + 1;
		call->reply_fds[0] = take_dup();
		call->reply_nfds = 1;
		return 0;
	case 5:   /* an unset reply fd */
		call->reply_fds[0] = take_dup();
		call->reply_fds[1] = -1;
		call->reply_nfds = 2;
		return 0;
	case 6:   /* failure with a reply fd set: consumed anyway */
		call->reply_fds[0] = take_dup();
		call->reply_nfds = 1;
		return -EPERM;
	default:  /* too many reply fds */
		for (unsigned i = 0; i < SBX_MAX_FDS; i++)
			call->reply_fds[i] = take_dup();
		call->reply_nfds = SBX_MAX_FDS + 1;
		return 0;
	}
}

static int handler_plain(struct sbx_call *call, void *ud)
{
	(void)ud;
	check_call(call, 0);
	call->reply_len = 0;
	return 0;
}

static void make_tree(void)
{
	int fd;

	if (mkdir(TREE, 0755) < 0 && errno != EEXIST)
		abort();
	if (mkdir(TREE "/sub", 0755) < 0 && errno != EEXIST)
		abort();
	fd = open(TREE "/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	fd = open(TREE "/sub/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	(void)symlink("sub", TREE "/link");
	(void)symlink("/etc", TREE "/escape");
	(void)symlink("loop", TREE "/loop");
	(void)mkfifo(TREE "/fifo", 0644);
}

static void init(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char addr[64];
	int n;

	self = getpid();
	make_tree();
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	dirfd_ = open(TREE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	audit_fd = memfd_create("sbx-fuzz-audit", MFD_CLOEXEC);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (nullfd < 0 || dirfd_ < 0 || audit_fd < 0 || listener < 0)
		abort();
	/* Abstract address with our pid: parallel jobs do not collide. */
	n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "sbx-fuzz-broker.%d", self);
	if (bind(listener, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0 ||
	    listen(listener, 64) < 0)
		abort();
	if (sbx_policy_new(&policy) < 0 ||
	    sbx_policy_add_path(policy, TREE,
				SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_DIR | SBX_PERM_DEV) < 0 ||
	    sbx_policy_add_path(policy, "/dev/null", SBX_PERM_READ | SBX_PERM_WRITE |
				SBX_PERM_DEV) < 0 ||
	    sbx_policy_add_fd(policy, "null", nullfd) < 0)
		abort();
	snprintf(addr, sizeof(addr), "unix:@sbx-fuzz-broker.%d", self);
	if (sbx_policy_add_connect(policy, "db", addr) < 0)
		abort();
	snprintf(addr, sizeof(addr), "unix:@sbx-fuzz-broker-gone.%d", self);
	if (sbx_policy_add_connect(policy, "gone", addr) < 0)
		abort();
	if (sbx_broker_new(policy, &broker) < 0 ||
	    sbx_broker_register(broker, TYPE_FDS, 4, handler_fds, NULL) < 0 ||
	    sbx_broker_register(broker, TYPE_PLAIN, 0, handler_plain, NULL) < 0 ||
	    sbx_broker_set_audit_fd(broker, audit_fd) < 0)
		abort();
}

static void check_reply(const struct sbx_msg *m)
{
	int err;

	if (nreplies >= nsent)
		fuzz_fail("reply %zu to %zu requests", nreplies + 1, nsent);
	if (!sent[nreplies].framed)
		fuzz_fail("reply %zu answers a datagram without a header", nreplies + 1);
	if (m->id != sent[nreplies].id)
		fuzz_fail("reply %zu has id %u, request %u", nreplies + 1, m->id,
			  sent[nreplies].id);
	if (m->type == REPLY_ERR) {
		fuzz_assert(m->nfds == 0 && reply_err_decode(m->data, m->len, &err) == 0);
	} else if (m->type == REPLY_OK) {
		if (sent[nreplies].type < REQ_CUSTOM_MIN)
			fuzz_assert(m->nfds == 1 && m->len == 0);
	} else {
		fuzz_fail("reply type 0x%x", m->type);
	}
	nreplies++;
}

/* Read every queued reply; the fds that came with them are closed. */
static void drain_replies(void)
{
	static struct sbx_msg m;

	while (child_end >= 0 && !deaf && sbx_msg_recv(child_end, &m, SBX_MAX_FDS) == 1) {
		check_reply(&m);
		sbx_msg_clear(&m);
	}
}

static void accept_all(void)
{
	int fd;

	while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* Let the broker run until it has nothing left to do. */
static void pump(void)
{
	for (int rounds = 0;; rounds++) {
		int n = sbx_broker_dispatch(broker, 0);

		fuzz_assert(n >= 0);
		accept_all();
		drain_replies();
		if (n == 0)
			return;
		if (rounds == MAX_ROUNDS)
			fuzz_fail("broker still busy after %d rounds", MAX_ROUNDS);
	}
}

static void send_record(unsigned ctl, const uint8_t *p, size_t n)
{
	static uint8_t buf[sizeof(struct sbx_wire_hdr) + 65536];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 20)];
	} ctrl;
	unsigned nfds = (ctl & 0x1f) % 21;
	int fd = ctl & 0x20 ? dirfd_ : nullfd;
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sbx_wire_hdr h;
	ssize_t r;

	if ((ctl & 0x80) && n < 8) {
		unsigned d = n ? p[0] : 1;

		if (d & 1)
			policy_force_fallback(true);
		if (d & 2)
			deaf = true;
		return;
	}
	if (ctl & 0x80) {
		struct fuzz_in in = { p, n };

		h.version = SBX_PROTO_VERSION;
		h.nfds = (uint16_t)nfds;
		h.type = fuzz_u32(&in);
		h.id = fuzz_u32(&in);
		h.len = (uint32_t)in.left;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), in.p, in.left);
		iov.iov_len = sizeof(h) + in.left;
	} else {
		memcpy(buf, p, n);
		iov.iov_len = n;
	}
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (unsigned i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	r = sendmsg(child_end, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 && errno == EAGAIN) {
		pump();
		r = sendmsg(child_end, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (r < 0 || nsent == MAX_SENT)
		return;   /* not sent (too big, peer gone, still full) */
	sent[nsent].framed = iov.iov_len >= sizeof(h);
	if (sent[nsent].framed) {
		memcpy(&h, buf, sizeof(h));
		sent[nsent].type = h.type;
		sent[nsent].id = h.id;
	}
	nsent++;
	if (!(ctl & 0x40))
		pump();
}

static void check_audit(void)
{
	static char log[1 << 20];
	ssize_t n = pread(audit_fd, log, sizeof(log), 0);
	const char *p = log, *end;

	fuzz_assert(n >= 0 && (size_t)n < sizeof(log));
	end = log + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl || nl == p || nl[-1] != '}' || strncmp(p, "{\"time\":", 8) != 0)
			fuzz_fail("bad audit line: %.*s", (int)(end - p > 200 ? 200 : end - p), p);
		for (const char *c = p; c < nl; c++)
			if (*c < 0x20 || *c > 0x7e)
				fuzz_fail("audit line with byte 0x%02x", (unsigned char)*c);
		p = nl + 1;
	}
	if (ftruncate(audit_fd, 0) < 0 || lseek(audit_fd, 0, SEEK_SET) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int sv[2], fds0;

	if (!broker)
		init();
	fds0 = fuzz_count_fds();
	nsent = nreplies = 0;
	deaf = false;
	policy_force_fallback(false);
	if (sbx_socketpair(sv) < 0 || fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	child_end = sv[1];
	if (sbx_broker_add_child(broker, sv[0], self) < 0)
		abort();
	while (in.left) {
		unsigned ctl = fuzz_u8(&in);
		size_t n = fuzz_u16(&in);

		if (n > in.left)
			n = in.left;
		send_record(ctl, in.p, n);
		in.p += n;
		in.left -= n;
	}
	deaf = false;
	pump();
	close(child_end);
	child_end = -1;
	pump();
	if (sbx_broker_children(broker) != 0)
		fuzz_fail("the broker still serves %d children after EOF",
			  sbx_broker_children(broker));
	check_audit();
	if (fuzz_count_fds() != fds0)
		fuzz_fail("fd leak: %d fds before the input, %d after", fds0, fuzz_count_fds());
	return 0;
}
