/*
 * libFuzzer target: sbx_msg_recv against arbitrary datagrams with an
 * arbitrary number of fds attached. Input layout:
 *   byte 0: max_fds the receiver accepts (mod SBX_MAX_FDS + 1)
 *   byte 1: how many fds the hostile sender attaches (mod 24)
 *   byte 2: bit 0 turns SO_PASSCRED on for this message
 *   rest  : the datagram, header included, sent as is
 * Invariant checked on every input: after sbx_msg_recv (and sbx_msg_clear
 * on success) the fd table has exactly the fds it had before; a message
 * accepted has nfds <= max_fds and len <= SBX_MSG_MAX.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sbx/proto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sv[2] = { -1, -1 }, nullfd = -1;
static struct sbx_msg msg;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static void send_raw(const uint8_t *buf, size_t len, int nfds)
{
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int) * 24)];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (int i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &nullfd, sizeof(int));
	}
	/* Oversized datagrams fail with EMSGSIZE: nothing queued, fine. */
	(void)sendmsg(sv[1], &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned max_fds;
	int nfds, cred, before, r, one = 1, zero = 0;

	if (size < 3)
		return 0;
	if (sv[0] < 0) {
		if (sbx_socketpair(sv) < 0)
			abort();
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	max_fds = data[0] % (SBX_MAX_FDS + 1);
	nfds = data[1] % 24;
	cred = data[2] & 1;
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, cred ? &one : &zero, sizeof(int));
	before = count_fds();
	send_raw(data + 3, size - 3, nfds);
	r = sbx_msg_recv(sv[0], &msg, max_fds);
	if (r == 1) {
		if (msg.nfds > max_fds || msg.len > SBX_MSG_MAX)
			abort();
		sbx_msg_clear(&msg);
	} else if (msg.nfds != 0) {
		abort();
	}
	/* Drain anything left (there should be nothing: one call, one datagram). */
	while (sbx_msg_recv(sv[0], &msg, SBX_MAX_FDS) == 1)
		sbx_msg_clear(&msg);
	if (count_fds() != before)
		abort();
	return 0;
}
