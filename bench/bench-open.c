/*
 * A brokered open (child: sbx_client_open; parent: sbx_broker_serve deciding
 * with the policy, openat2, fd back) against its floor measured in the same
 * run: a raw SCM_RIGHTS round trip (one-byte request, sendmsg/recvmsg of
 * one fd) plus the same openat2 (RESOLVE_BENEATH) done by the parent. Both
 * processes pinned to one CPU (a cross-CPU wake-up costs ~100 us here).
 * Prints microseconds per open and the ratio; median of alternating rounds.
 * Also the "conforming minimum": the floor plus what the issue's own rules
 * oblige any broker to do (see floor_round). All of it twice when root:
 * the tree in /tmp, then on a nodev tmpfs where the policy takes one phase.
 *
 *   bench-open [iterations]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#define ROUNDS 7

static int iters = 20000;
static char dir[PATH_MAX], file[PATH_MAX + 16];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

/* The child reports its per-op time on a pipe. */
static double child_result(int rfd, pid_t pid)
{
	double us = -1;
	int st;

	if (read(rfd, &us, sizeof(us)) != sizeof(us))
		us = -1;
	close(rfd);
	waitpid(pid, &st, 0);
	return us;
}

/* ---- floor: raw SCM_RIGHTS + openat2 ------------------------------------ */

static int send_fd(int sock, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	char c = 0;
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int fd;

	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * mode FLOOR: the floor (one-byte request, openat2, fd back).
 * mode MINIMUM: the least any broker meeting the issue's own rules must add
 * to the floor, still with raw sockets and no library code: the parent
 * waits in epoll_wait (it serves several children and an app's loop), opens
 * with O_NONBLOCK until the type is known, fstat()s, clears O_NONBLOCK; the
 * child fstat()s what it received (a regular file is not a FIFO).
 */
enum floor_mode { FLOOR, MINIMUM };

static double floor_round(enum floor_mode mode)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	struct epoll_event ev = { .events = EPOLLIN };
	int sv[2], pp[2], root, ep = -1;
	pid_t pid;
	char c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(pp) < 0)
		die("socketpair");
	pid = fork();
	if (pid == 0) {
		double t0, us;

		close(sv[0]);
		close(pp[0]);
		t0 = now_us();
		for (int i = 0; i < iters; i++) {
			int fd;

			c = 1;
			if (send(sv[1], &c, 1, MSG_NOSIGNAL) != 1)
				_exit(1);
			fd = recv_fd(sv[1]);
			if (fd < 0)
				_exit(1);
			if (mode == MINIMUM) {
				struct stat st;

				if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
					_exit(1);
			}
			close(fd);
		}
		us = (now_us() - t0) / iters;
		if (write(pp[1], &us, sizeof(us)) != sizeof(us))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	close(pp[1]);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mode == MINIMUM) {
		how.flags |= O_NONBLOCK;
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) < 0)
			die("epoll");
	}
	for (int i = 0; i < iters; i++) {
		struct stat st;
		int fd;

		if (mode == MINIMUM && epoll_wait(ep, &ev, 1, -1) != 1)
			die("epoll_wait");
		if (recv(sv[0], &c, 1, 0) != 1)
			break;
		fd = (int)syscall(SYS_openat2, root, "a", &how, sizeof(how));
		if (fd >= 0 && mode == MINIMUM &&
		    (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0))
			die("minimum fstat/F_SETFL");
		if (fd < 0 || send_fd(sv[0], fd) < 0)
			die("floor openat2/send");
		close(fd);
	}
	if (ep >= 0)
		close(ep);
	close(root);
	close(sv[0]);
	return child_result(pp[0], pid);
}

/* ---- brokered ----------------------------------------------------------- */

static double broker_round(const struct sbx_policy *p)
{
	struct sbx_broker *b;
	int sv[2], pp[2];
	pid_t pid;

	if (sbx_broker_new(p, &b) < 0 || sbx_socketpair(sv) < 0 || pipe(pp) < 0)
		die("broker");
	pid = fork();
	if (pid == 0) {
		struct sbx_client *c;
		double t0, us;

		close(sv[0]);
		close(pp[0]);
		if (sbx_client_new(sv[1], &c) < 0)
			_exit(1);
		t0 = now_us();
		for (int i = 0; i < iters; i++) {
			int fd = sbx_client_open(c, file, O_RDONLY, 0);

			if (fd < 0)
				_exit(2);
			close(fd);
		}
		us = (now_us() - t0) / iters;
		sbx_client_free(c);
		if (write(pp[1], &us, sizeof(us)) != sizeof(us))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	close(pp[1]);
	if (sbx_broker_add_child(b, sv[0], pid) < 0 || sbx_broker_serve(b) < 0)
		die("serve");
	sbx_broker_free(b);
	return child_result(pp[0], pid);
}

/* In-process costs, no IPC: the policy's decision+open vs a bare openat2. */
static void inprocess(const struct sbx_policy *p, double *pol, double *raw)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	double t0;

	t0 = now_us();
	for (int i = 0; i < iters; i++)
		close(sbx_policy_open(p, file, O_RDONLY, 0));
	*pol = (now_us() - t0) / iters;
	t0 = now_us();
	for (int i = 0; i < iters; i++)
		close((int)syscall(SYS_openat2, root, "a", &how, sizeof(how)));
	*raw = (now_us() - t0) / iters;
	close(root);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Floor, conforming minimum and brokered open, with the tree at dir. */
static int run_set(const char *label)
{
	double fl[ROUNDS], mn[ROUNDS], br[ROUNDS], pol, raw;
	struct sbx_policy *p;
	int fd;

	snprintf(file, sizeof(file), "%s/a", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create");
	close(fd);
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, dir, SBX_PERM_READ) < 0)
		die("policy");
	for (int r = 0; r < ROUNDS; r++) {
		fl[r] = floor_round(FLOOR);
		mn[r] = floor_round(MINIMUM);
		br[r] = broker_round(p);
		if (fl[r] < 0 || mn[r] < 0 || br[r] < 0) {
			fprintf(stderr, "bench-open: a round failed\n");
			return -1;
		}
	}
	qsort(fl, ROUNDS, sizeof(double), cmp);
	qsort(mn, ROUNDS, sizeof(double), cmp);
	qsort(br, ROUNDS, sizeof(double), cmp);
	printf("== %s\n", label);
	printf("floor (SCM_RIGHTS round trip + openat2): %.2f us/op\n", fl[ROUNDS / 2]);
	printf("conforming minimum (floor + epoll_wait, O_NONBLOCK open, fstat, F_SETFL;\n"
	       "  child fstat):                          %.2f us/op  %.3fx floor\n",
	       mn[ROUNDS / 2], mn[ROUNDS / 2] / fl[ROUNDS / 2]);
	printf("brokered sbx_client_open:               %.2f us/op\n", br[ROUNDS / 2]);
	printf("ratio: %.3fx floor (goal <= 1.15x), %.3fx conforming minimum;\n"
	       "  %d iterations x %d rounds, median, CPU 0\n",
	       br[ROUNDS / 2] / fl[ROUNDS / 2], br[ROUNDS / 2] / mn[ROUNDS / 2], iters, ROUNDS);
	inprocess(p, &pol, &raw);
	printf("in process, no IPC: sbx_policy_open %.2f us, bare openat2 %.2f us "
	       "(policy share of the gap: %.2f us)\n", pol, raw, pol - raw);
	sbx_policy_free(p);
	unlink(file);
	return 0;
}

/* The same tree on a nodev tmpfs, in a private mount namespace (root
 * only): there the policy opens in one phase (doc/broker.md). */
static bool nodev_tree(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("sbx-bench", dir, "tmpfs", MS_NODEV | MS_NOSUID, "mode=0755") < 0)
		return false;
	return true;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/sbx-bench-open-XXXXXX";
	int r;

	if (argc > 1)
		iters = atoi(argv[1]);
	if (iters <= 0)
		iters = 20000;
	pin(0);
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		die("mkdtemp");
	r = run_set("tree in /tmp (devices possible: O_PATH probe, then reopen)");
	if (r == 0 && nodev_tree()) {
		r = run_set("tree on a nodev tmpfs (one phase: open O_NONBLOCK, fstat)");
		umount2(dir, MNT_DETACH);
	} else if (r == 0) {
		printf("== nodev tree skipped (needs root for a private mount namespace)\n");
	}
	rmdir(dir);
	return r < 0;
}
