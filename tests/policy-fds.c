/* Named preopened fds, connect targets, limits and the internal iterators. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sbx/proto.h>

#include "policy-util.h"
#include "privileged/policy-internal.h"

static void test_names(struct sbx_policy *p)
{
	struct fd_table before;
	char name65[66];
	struct stat a, b;
	int src, fd, fd2;

	src = open(T("file.txt"), O_RDONLY | O_CLOEXEC);
	if (src < 0)
		tap_bail("open");
	fd_snapshot(&before);
	is_int(sbx_policy_add_fd(p, "log_file-1.x", src), 0, "add_fd with [A-Za-z0-9_.-]");
	is_int(sbx_policy_add_fd(p, "log_file-1.x", src), -EEXIST, "add_fd: duplicate name");
	memset(name65, 'n', 65);
	name65[65] = '\0';
	is_int(sbx_policy_add_fd(p, name65, src), -EINVAL, "add_fd: 65-byte name");
	name65[64] = '\0';
	is_int(sbx_policy_add_fd(p, name65, src), 0, "add_fd: 64-byte name");
	is_int(sbx_policy_add_fd(p, "", src), -EINVAL, "add_fd: empty name");
	is_int(sbx_policy_add_fd(p, "a:b", src), -EINVAL, "add_fd: ':' (LISTEN_FDNAMES separator)");
	is_int(sbx_policy_add_fd(p, "a/b", src), -EINVAL, "add_fd: '/'");
	is_int(sbx_policy_add_fd(p, "a b", src), -EINVAL, "add_fd: space");
	is_int(sbx_policy_add_fd(p, NULL, src), -EINVAL, "add_fd: NULL name");
	is_int(sbx_policy_add_fd(p, "neg", -1), -EINVAL, "add_fd: fd -1");
	is_int(sbx_policy_add_fd(p, "closed", 999), -EBADF, "add_fd: closed fd");
	is_int(fd_count(), before.n + 2, "the policy keeps one dup per named fd");
	close(src);

	fd_snapshot(&before);
	fd = sbx_policy_get(p, "log_file-1.x");
	ok(fd >= 0, "get returns an fd after the caller closed its own");
	ok(fd >= 0 && fd_is_cloexec(fd), "  ...close-on-exec");
	fd2 = sbx_policy_get(p, "log_file-1.x");
	ok(fd2 >= 0 && fd2 != fd, "  ...a new dup each time");
	ok(fstat(fd, &a) == 0 && stat(T("file.txt"), &b) == 0 && a.st_ino == b.st_ino,
	   "  ...of the file that was added");
	close(fd);
	close(fd2);
	DENY(p, "x", 0, 0, -EINVAL, "(open with a relative path, for the leak check)");
	fd = sbx_policy_get(p, "unknown");
	is_int(fd, -ENOENT, "get: unknown name");
	is_int(sbx_policy_get(p, "a:b"), -EINVAL, "get: invalid name");
	is_int(sbx_policy_get(NULL, "x"), -EINVAL, "get: NULL policy");
	ok(fd_same(&before), "get leaks nothing");
}

static int listener(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
	if (bind(s, (struct sockaddr *)ss, *len) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)ss, len) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
					: ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void connect_ok(struct sbx_policy *p, const char *name, int lsock, const char *what)
{
	int fd = sbx_policy_connect(p, name), peer, fl;

	if (!ok(fd >= 0, "connect %s", what))
		diag("  got %d (%s)", fd, fd < 0 ? strerror(-fd) : "");
	peer = fd >= 0 ? accept4(lsock, NULL, NULL, SOCK_CLOEXEC) : -1;
	ok(peer >= 0, "  ...the listener accepts it");
	fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	ok(fd >= 0 && fd_is_cloexec(fd) && fl >= 0 && !(fl & O_NONBLOCK),
	   "  ...close-on-exec, blocking");
	ok(fd >= 0 && peer >= 0 && write(fd, "x", 1) == 1, "  ...and carries data");
	if (fd >= 0)
		close(fd);
	if (peer >= 0)
		close(peer);
}

static void test_connect(struct sbx_policy *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_storage ss;
	struct fd_table before;
	socklen_t len;
	char addr[160];
	int us, as, ts, t6, dead;

	us = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", T("svc.sock"));
	if (us < 0 || bind(us, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(us, 4) < 0)
		tap_bail("unix listener");
	snprintf(addr, sizeof(addr), "unix:%s", T("svc.sock"));
	is_int(sbx_policy_add_connect(p, "svc", addr), 0, "add_connect unix:PATH");
	connect_ok(p, "svc", us, "to a unix socket");

	as = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  (size_t)snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
					   "sbx-policy-%d", (int)getpid()));
	if (as < 0 || bind(as, (struct sockaddr *)&sun, len) < 0 || listen(as, 4) < 0)
		tap_bail("abstract listener");
	snprintf(addr, sizeof(addr), "unix:@sbx-policy-%d", (int)getpid());
	is_int(sbx_policy_add_connect(p, "abstract", addr), 0, "add_connect unix:@NAME");
	connect_ok(p, "abstract", as, "to an abstract unix socket");

	ts = listener(AF_INET, &ss, &len);
	if (ts < 0)
		tap_bail("tcp listener");
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%u", port_of(&ss));
	is_int(sbx_policy_add_connect(p, "web", addr), 0, "add_connect tcp:127.0.0.1:PORT");
	connect_ok(p, "web", ts, "to a tcp listener on 127.0.0.1");
	snprintf(addr, sizeof(addr), "tcp:localhost:%u", port_of(&ss));
	if (sbx_policy_add_connect(p, "byname", addr) == 0) {
		/* localhost may list ::1 first: the 127.0.0.1 listener must
		 * still be reached through the next address */
		connect_ok(p, "byname", ts, "to tcp:localhost (resolved when added)");
	} else {
		skip(4, "localhost does not resolve here");
	}

	t6 = listener(AF_INET6, &ss, &len);
	if (t6 >= 0) {
		snprintf(addr, sizeof(addr), "tcp:[::1]:%u", port_of(&ss));
		is_int(sbx_policy_add_connect(p, "web6", addr), 0, "add_connect tcp:[::1]:PORT");
		connect_ok(p, "web6", t6, "to a tcp listener on [::1]");
		close(t6);
	} else {
		skip(5, "no IPv6 loopback");
	}

	/* bound, not listening: the kernel answers with a reset */
	dead = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&ss, 0, sizeof(ss));
	((struct sockaddr_in *)&ss)->sin_family = AF_INET;
	((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = sizeof(struct sockaddr_in);
	if (dead < 0 || bind(dead, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(dead, (struct sockaddr *)&ss, &len) < 0)
		tap_bail("bind");
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%u", port_of(&ss));
	is_int(sbx_policy_add_connect(p, "dead", addr), 0, "add_connect to a port nobody listens on");
	fd_snapshot(&before);
	is_int(sbx_policy_connect(p, "dead"), -ECONNREFUSED, "connect: refused");
	ok(fd_same(&before), "  ...no fd leaked");

	fd_snapshot(&before);
	is_int(sbx_policy_connect(p, "nope"), -ENOENT, "connect: unknown name");
	is_int(sbx_policy_connect(p, "a:b"), -EINVAL, "connect: invalid name");
	is_int(sbx_policy_add_connect(p, "svc", "unix:/x"), -EEXIST, "add_connect: duplicate");
	{
		static const char *const bad[] = {
			"tcp:127.0.0.1", "tcp:127.0.0.1:", "tcp:127.0.0.1:0",
			"tcp:127.0.0.1:65536", "tcp:127.0.0.1:8o", "tcp::80", "tcp:::1:80",
			"tcp:[::1:80", "tcp:[::1]80", "tcp:[127.0.0.1]:80", "unix:relative",
			"unix:", "unix:@", "udp:127.0.0.1:53", "", "tcp:127.0.0.1:123456",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			is_int(sbx_policy_add_connect(p, "bad", bad[i]), -EINVAL,
			       "add_connect refuses '%s'", bad[i]);
	}
	memset(addr, 'a', sizeof(addr) - 1);
	memcpy(addr, "unix:/", 6);
	addr[sizeof(addr) - 1] = '\0';
	is_int(sbx_policy_add_connect(p, "bad", addr), -EINVAL, "add_connect: unix path too long");
	is_int(sbx_policy_add_connect(p, "bad", "tcp:no-such-host.invalid:80"), -ENOENT,
	       "add_connect: host that does not resolve");
	is_int(sbx_policy_add_connect(p, "bad name", "unix:/x"), -EINVAL, "add_connect: bad name");
	ok(fd_same(&before), "connect failures leak nothing");
	close(us);
	close(as);
	close(ts);
	close(dead);
}

static void test_limits(struct sbx_policy *p)
{
	is_int(policy_limit(p, SBX_LIMIT_REQUEST_BYTES), 4096 + 256, "default request-bytes");
	is_int(policy_limit(p, SBX_LIMIT_IN_FLIGHT), 8, "default in-flight");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_REQUEST_BYTES, 0), -EINVAL, "request-bytes 0");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_REQUEST_BYTES, SBX_MSG_MAX + 1), -EINVAL,
	       "request-bytes over SBX_MSG_MAX");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_REQUEST_BYTES, SBX_MSG_MAX), 0,
	       "request-bytes SBX_MSG_MAX");
	is_int(policy_limit(p, SBX_LIMIT_REQUEST_BYTES), SBX_MSG_MAX, "  ...read back");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_IN_FLIGHT, 0), -EINVAL, "in-flight 0");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_IN_FLIGHT, 1025), -EINVAL, "in-flight 1025");
	is_int(sbx_policy_set_limit(p, SBX_LIMIT_IN_FLIGHT, 1), 0, "in-flight 1");
	is_int(sbx_policy_set_limit(p, (enum sbx_limit)7, 1), -EINVAL, "unknown limit");
	is_int(sbx_policy_set_limit(NULL, SBX_LIMIT_IN_FLIGHT, 1), -EINVAL, "NULL policy");
	is_int(policy_limit(p, (enum sbx_limit)7), 0, "policy_limit of an unknown limit");
}

struct visit {
	int n, stop_at;
	char seen[8][PATH_MAX];
	unsigned perms[8];
};

static int visit_path(const char *path, int root_fd, unsigned perms, void *ud)
{
	struct visit *v = ud;
	struct stat st;

	if (fstat(root_fd, &st) < 0)
		return -1;
	if (v->n < 8) {
		snprintf(v->seen[v->n], PATH_MAX, "%s", path);
		v->perms[v->n] = perms;
	}
	return ++v->n == v->stop_at ? 42 : 0;
}

static int visit_fd(const char *name, int fd, void *ud)
{
	(void)name;
	return fcntl(fd, F_GETFD) < 0 ? -1 : (++((struct visit *)ud)->n, 0);
}

static void test_iterators(void)
{
	struct sbx_policy *p;
	struct visit v = { 0 };
	char real[PATH_MAX];

	if (sbx_policy_new(&p) < 0)
		tap_bail("new");
	mkdir_t("it");
	symlink_t(T("it"), "it-link");
	sbx_policy_add_path(p, T("it"), SBX_PERM_READ);
	sbx_policy_add_path(p, T("it-link"), SBX_PERM_EXEC);
	if (!realpath(T("it"), real))
		tap_bail("realpath");
	is_int(policy_foreach_path(p, visit_path, &v), 0, "foreach_path visits all");
	is_int(v.n, strcmp(real, T("it")) ? 3 : 2, "  ...the rules, and the symlinked grant's target");
	ok(strcmp(v.seen[1], T("it-link")) == 0, "  ...in order, the link as given");
	ok(v.perms[0] == (SBX_PERM_READ | SBX_PERM_EXEC) || strcmp(real, T("it")),
	   "  ...the target rule gained the link's perms");
	v = (struct visit){ .stop_at = 1 };
	is_int(policy_foreach_path(p, visit_path, &v), 42, "foreach_path stops at nonzero");
	is_int(v.n, 1, "  ...after one");
	v = (struct visit){ 0 };
	is_int(policy_foreach_fd(p, visit_fd, &v), 0, "foreach_fd on no fds");
	sbx_policy_add_fd(p, "one", 0);
	sbx_policy_add_fd(p, "two", 1);
	is_int(policy_foreach_fd(p, visit_fd, &v), 0, "foreach_fd");
	is_int(v.n, 2, "  ...visits both");
	is_int(policy_connect_count(p), 0, "policy_connect_count");
	is_int(policy_foreach_path(NULL, visit_path, &v), -EINVAL, "foreach_path(NULL)");
	sbx_policy_free(p);
}

int main(void)
{
	struct fd_table start;
	struct sbx_policy *p;

	tap_start();
	tree_make();
	write_t("file.txt", "hello");
	fd_snapshot(&start);
	is_int(sbx_policy_new(NULL), -EINVAL, "sbx_policy_new(NULL)");
	if (sbx_policy_new(&p) < 0)
		tap_bail("new");
	test_names(p);
	test_connect(p);
	test_limits(p);
	sbx_policy_free(p);
	test_iterators();
	ok(fd_same(&start), "every fd closed at the end");
	return tap_done();
}
