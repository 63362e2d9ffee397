/* sandbox-run uses no name service (privileged/sandbox-run-names.c), in a
 * static build and a dynamic one alike: --user is a name in /etc/passwd or
 * a number; --listen and --connect hosts (policy files' connect lines too)
 * are numeric addresses or localhost, and a host name is refused with a
 * message saying so. */
#include <netinet/in.h>
#include <pwd.h>
#include <sys/stat.h>

#include <sbx/client.h>

#include "cli-run.h"

static char dir[64];

/* In the sandbox: connect to NAME through the broker, say hi, print the
 * answer. */
static int connect_helper(const char *name)
{
	struct sbx_client *c;
	char buf[64];
	ssize_t n;
	int fd, r;

	r = sbx_client_from_env(&c);
	if (r < 0) {
		printf("client %d\n", r);
		return 2;
	}
	fd = sbx_client_connect(c, name);
	sbx_client_free(c);
	if (fd < 0) {
		printf("error %d\n", -fd);
		return 1;
	}
	(void)!write(fd, "hi", 2);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	printf("%s", buf);
	close(fd);
	return 0;
}

static int ids_helper(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	printf("uid=%u/%u/%u gid=%u/%u/%u\n", (unsigned)ru, (unsigned)eu, (unsigned)su,
	       (unsigned)rg, (unsigned)eg, (unsigned)sg);
	return 0;
}

static bool can_bind(int family)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (s < 0)
		return false;
	yes = family == AF_INET6 ? bind(s, (struct sockaddr *)&in6, sizeof(in6)) == 0
				 : bind(s, (struct sockaddr *)&in, sizeof(in)) == 0;
	close(s);
	return yes;
}

static void listen_cases(void)
{
	static const struct {
		const char *spec, *want;
	} good[] = {
		{ "web=tcp:127.0.0.1:0", "listening: web on tcp:127.0.0.1:" },
		{ "web=tcp:localhost:0", "listening: web on tcp:127.0.0.1:" },
		{ "web=tcp:LocalHost:0", "listening: web on tcp:127.0.0.1:" },
		{ "web=tcp::0", "listening: web on tcp:0.0.0.0:" },
	};
	struct cli_result r;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CLI(&r, "-v", "--listen", good[i].spec, "true");
		if (!ok(r.status == 0 && strstr(r.err, good[i].want), "--listen %s: bound (%s)",
			good[i].spec, good[i].want))
			diag("%d %s", r.status, r.err);
	}
	if (can_bind(AF_INET6)) {
		CLI(&r, "-v", "--listen", "web=tcp:[::1]:0", "true");
		ok(r.status == 0 && strstr(r.err, "listening: web on tcp:[::1]:"),
		   "--listen tcp:[::1]:0: a numeric IPv6 address");
	} else {
		skip(1, "no IPv6 loopback here");
	}
	CLI(&r, "--listen", "web=tcp:example.invalid:80", "true");
	if (!ok(r.status == 125 &&
		strstr(r.err, "sandbox-run: --listen: web: 'example.invalid' is not a numeric "
			      "address or localhost (sandbox-run does no name lookups)"),
		"--listen with a host name: refused, saying why"))
		diag("%s", r.err);
	CLI(&r, "--listen", "web=tcp:127.0.0.1:http", "true");
	if (!ok(r.status == 125 && strstr(r.err, "sandbox-run: --listen: web: port 'http' is not a number"),
		"--listen with a service name: refused, saying why"))
		diag("%s", r.err);
}

/* A TCP peer on 127.0.0.1 that answers "pong" to each of n connections. */
static pid_t tcp_peer(unsigned *port, int n)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(in);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	if (s < 0 || bind(s, (struct sockaddr *)&in, sizeof(in)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&in, &len) < 0)
		tap_bail("tcp listen");
	*port = ntohs(in.sin_port);
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			char buf[8];
			int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0 || read(c, buf, 2) != 2)
				_exit(1);
			(void)!write(c, "pong", 4);
			close(c);
		}
		_exit(0);
	}
	close(s);
	return pid;
}

static void connect_cases(void)
{
	char arg[64], pol[128], text[128];
	struct cli_result r;
	unsigned port;
	pid_t pid = tcp_peer(&port, 2);
	int st;
	FILE *f;

	snprintf(arg, sizeof(arg), "peer=tcp:127.0.0.1:%u", port);
	CLI(&r, "--connect", arg, cli_self(), "connect", "peer");
	if (!ok(r.status == 0 && !strcmp(r.out, "pong"), "--connect tcp:127.0.0.1:PORT: reached"))
		diag("%d %s %s", r.status, r.out, r.err);
	snprintf(arg, sizeof(arg), "peer=tcp:localhost:%u", port);
	CLI(&r, "--connect", arg, cli_self(), "connect", "peer");
	if (!ok(r.status == 0 && !strcmp(r.out, "pong"), "--connect tcp:localhost:PORT: reached"))
		diag("%d %s %s", r.status, r.out, r.err);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the peer answered both");

	CLI(&r, "--connect", "peer=tcp:[::1]:9", "true");
	ok(r.status == 0, "--connect tcp:[::1]:9: a numeric IPv6 target is accepted");
	CLI(&r, "--connect", "peer=tcp:example.invalid:80", "true");
	if (!ok(r.status == 125 &&
		strstr(r.err, "sandbox-run: --connect: 'example.invalid' is not a numeric "
			      "address or localhost (sandbox-run does no name lookups)"),
		"--connect with a host name: refused, saying why"))
		diag("%s", r.err);

	snprintf(pol, sizeof(pol), "%s/connect.policy", dir);
	snprintf(text, sizeof(text), "connect peer tcp:example.invalid:80\n");
	f = fopen(pol, "w");
	if (!f)
		tap_bail("fopen %s", pol);
	fputs(text, f);
	fclose(f);
	chmod(pol, 0644);
	CLI(&r, "--policy", pol, "true");
	if (!ok(r.status == 125 && strstr(r.err, "sandbox-run: --policy:") &&
		strstr(r.err, "sandbox-run: --policy: 'example.invalid' is not a numeric address"),
		"a policy file's connect line with a host name: refused, saying why"))
		diag("%s", r.err);
	unlink(pol);
}

/* A uid with no /etc/passwd entry (4242 up). */
static unsigned free_uid(void)
{
	for (unsigned uid = 4242;; uid++) {
		struct passwd *pw;
		FILE *f = fopen("/etc/passwd", "re");
		bool taken = false;

		if (!f)
			return uid;
		while ((pw = fgetpwent(f)))
			if (pw->pw_uid == uid)
				taken = true;
		fclose(f);
		if (!taken)
			return uid;
	}
}

static void user_cases(void)
{
	struct cli_result r;
	char num[16], want[96];
	unsigned uid = free_uid();
	struct passwd *nobody = getpwnam("nobody");
	unsigned nobody_gid = nobody ? (unsigned)nobody->pw_gid : 65534;

	CLI(&r, "--user", "65534", cli_self(), "ids");
	snprintf(want, sizeof(want), "uid=65534/65534/65534 gid=%u/%u/%u\n", nobody_gid, nobody_gid,
		 nobody_gid);
	if (!ok(r.status == 0 && !strcmp(r.out, want),
		"--user 65534: that uid, the group of its /etc/passwd entry"))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--user", "nobody", cli_self(), "ids");
	if (!ok(r.status == 0 && !strcmp(r.out, want), "--user nobody: found in /etc/passwd"))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--user", "root", cli_self(), "ids");
	ok(r.status == 0 && !strcmp(r.out, "uid=0/0/0 gid=0/0/0\n"), "--user root: 0/0");
	snprintf(num, sizeof(num), "%u", uid);
	snprintf(want, sizeof(want), "uid=%u/%u/%u gid=%u/%u/%u\n", uid, uid, uid, uid, uid, uid);
	CLI(&r, "--user", num, cli_self(), "ids");
	if (!ok(r.status == 0 && !strcmp(r.out, want),
		"--user %u (not in /etc/passwd): that uid, gid of the same number", uid))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--user", "no-such-user-sbx", "true");
	if (!ok(r.status == 125 &&
		strstr(r.err, "sandbox-run: --user: unknown user 'no-such-user-sbx': not in "
			      "/etc/passwd") && strstr(r.err, "give a numeric uid"),
		"--user with an unknown name: refused, naming /etc/passwd and the way out"))
		diag("%s", r.err);
	CLI(&r, "--user", "4294967295", "true");
	ok(r.status == 125 && strstr(r.err, "sandbox-run: --user: unknown user '4294967295'"),
	   "--user 4294967295 ((uid_t)-1): refused");
	CLI(&r, "--user", "-1", "true");
	ok(r.status == 125 && strstr(r.err, "sandbox-run: --user: unknown user '-1'"),
	   "--user -1: refused");
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "connect")) {
		int rc = connect_helper(argv[2]);

		fflush(stdout);
		_exit(rc);
	}
	if (argc > 1 && !strcmp(argv[1], "ids")) {
		ids_helper();
		fflush(stdout);
		_exit(0);
	}
	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (access(cli_bin(), X_OK) < 0)
		tap_skip_all("no sandbox-run at %s", cli_bin());
	if (!can_bind(AF_INET))
		tap_skip_all("no IPv4 loopback here");
	strcpy(dir, "/tmp/sbx-names-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	chmod(dir, 0755);
	listen_cases();
	connect_cases();
	if (tap_is_root())
		user_cases();
	else
		skip(7, "needs root (--user)");
	rmdir(dir);
	return tap_done();
}
