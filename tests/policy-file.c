/* sbx_policy_load_file: the good file, every error with its line number,
 * the policy unchanged after an error, nothing leaked. */
#include <sys/socket.h>
#include <sys/un.h>

#include "policy-util.h"
#include "privileged/policy-internal.h"

static int count_cb(const char *path, int fd, unsigned perms, void *ud)
{
	(void)path;
	(void)fd;
	(void)perms;
	++*(int *)ud;
	return 0;
}

static int count_fd_cb(const char *name, int fd, void *ud)
{
	(void)name;
	(void)fd;
	++*(int *)ud;
	return 0;
}

struct sys_seen {
	int n;
	char text[256];
};

static int sys_cb(const char *name, bool allow, void *ud)
{
	struct sys_seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s%c%s", len ? " " : "",
		 allow ? '+' : '-', name);
	s->n++;
	return 0;
}

static int nrules(const struct sbx_policy *p)
{
	int n = 0;

	policy_foreach_path(p, count_cb, &n);
	return n;
}

static int nfds(const struct sbx_policy *p)
{
	int n = 0;

	policy_foreach_fd(p, count_fd_cb, &n);
	return n;
}

static void write_policy(const char *rel, const char *text, size_t len)
{
	int fd = open(T(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		tap_bail("write %s", rel);
	close(fd);
}

static void test_good(int lsock)
{
	struct sbx_policy *p;
	struct sys_seen seen = { 0 };
	char text[4096], err[512] = "x";
	struct fd_table before;
	int fd, r;

	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "\n"
		 "   # an indented comment\n"
		 "read %s\n"
		 "read,write,create\t%s\n"
		 "dir %s\n"
		 "exec %s\n"
		 "read,dev %s\n"
		 "fd config %s ro\n"
		 "fd scratch %s/scratch rw\n"
		 "fd plain %s\n"
		 "connect svc unix:%s\n"
		 "limit request-bytes 2048\n"
		 "limit in-flight 3\n"
		 "allow-syscall ptrace\n"
		 "deny-syscall socket\n"
		 "  read   %s  ",
		 T("share"), T("out"), T("srv"), T("bin"), T("fifo"), T("share/a.conf"),
		 T("out"), T("share/a.conf"), T("svc.sock"), T("share"));
	write_policy("good.policy", text, strlen(text));
	fd_snapshot(&before);
	if (sbx_policy_new(&p) < 0)
		tap_bail("new");
	r = sbx_policy_load_file(p, T("good.policy"), err, sizeof(err));
	if (!ok(r == 0, "good file loads (no trailing newline, tabs, comments)"))
		diag("  %d: %s", r, err);
	ok(err[0] == '\0', "  ...errbuf empty on success");
	is_int(nrules(p), 5, "  ...5 path rules (the repeated one merged)");
	is_int(nfds(p), 3, "  ...3 named fds");
	is_int(fd_count(), before.n + 9, "  ...holding 5 rule fds, 3 named fds and /proc/self/fd");
	fd = grant(p, T("share/a.conf"), O_RDONLY, 0, "  ...read rule works");
	close(fd);
	fd = grant(p, T("out/new"), O_WRONLY | O_CREAT, 0600, "  ...create rule works");
	close(fd);
	fd = grant(p, T("srv"), O_RDONLY | O_DIRECTORY, 0, "  ...dir rule works");
	close(fd);
	fd = grant(p, T("fifo"), O_RDONLY, 0, "  ...dev rule works on a FIFO");
	close(fd);
	fd = sbx_policy_get(p, "scratch");
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "  ...fd rw opened O_RDWR");
	if (fd >= 0)
		close(fd);
	fd = sbx_policy_get(p, "plain");
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "  ...fd defaults to ro");
	if (fd >= 0)
		close(fd);
	fd = sbx_policy_connect(p, "svc");
	ok(fd >= 0, "  ...connect target works");
	if (fd >= 0) {
		int peer = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

		if (peer >= 0)
			close(peer);
		close(fd);
	}
	is_int(policy_limit(p, SBX_LIMIT_REQUEST_BYTES), 2048, "  ...limit request-bytes");
	is_int(policy_limit(p, SBX_LIMIT_IN_FLIGHT), 3, "  ...limit in-flight");
	policy_foreach_syscall(p, sys_cb, &seen);
	ok(strcmp(seen.text, "+ptrace -socket") == 0, "  ...syscall lines in order: %s", seen.text);
	is_int(sbx_policy_load_file(p, T("good.policy"), err, sizeof(err)), -EEXIST,
	       "loading it twice: duplicate names");
	ok(strncmp(err, T("good.policy"), strlen(T("good.policy"))) == 0 &&
	   strstr(err, ":9: duplicate fd name 'config'"), "  ...'%s'", err);
	is_int(nrules(p), 5, "  ...policy unchanged");
	sbx_policy_free(p);
	ok(fd_same(&before), "free closes everything the file opened");
}

/* text with each "%s" replaced by dir (no printf with a variable format) */
static void subst(char *out, size_t size, const char *text, const char *dir)
{
	size_t o = 0, dl = strlen(dir);

	for (const char *c = text; *c && o + dl + 1 < size; c++) {
		if (c[0] == '%' && c[1] == 's') {
			memcpy(out + o, dir, dl);
			o += dl;
			c++;
		} else {
			out[o++] = *c;
		}
	}
	out[o] = '\0';
}

struct bad {
	const char *text;
	int line, err;
	const char *reason;
};

static void test_bad(void)
{
	char share[PATH_MAX], text[8192];
	struct bad cases[] = {
		{ "frobnicate /x\n", 3, -EINVAL, "unknown keyword 'frobnicate'" },
		{ "read,wrote %s\n", 3, -EINVAL, "unknown permission 'wrote'" },
		{ "read,,write %s\n", 3, -EINVAL, "unknown permission" },
		{ "read relative/path\n", 3, -EINVAL, "invalid path" },
		{ "read %s/../share\n", 3, -EINVAL, "invalid path" },
		{ "read %s/nonexistent\n", 3, -ENOENT, "No such file" },
		{ "read\n", 3, -EINVAL, "usage" },
		{ "read %s extra\n", 3, -EINVAL, "usage" },
		{ "read a b c d e\n", 3, -EINVAL, "too many fields" },
		{ "fd one %s/a.conf\nfd one %s/a.conf\n", 4, -EEXIST, "duplicate fd name 'one'" },
		{ "fd bad:name %s/a.conf\n", 3, -EINVAL, "invalid name" },
		{ "fd x %s/a.conf rx\n", 3, -EINVAL, "fd mode" },
		{ "fd x relative\n", 3, -EINVAL, "must be absolute" },
		{ "fd x %s/none\n", 3, -ENOENT, "No such file" },
		{ "connect c unix:/a\nconnect c unix:/b\n", 4, -EEXIST, "duplicate connect name" },
		{ "connect c tcp:1.2.3.4\n", 3, -EINVAL, "invalid address" },
		{ "connect c\n", 3, -EINVAL, "usage" },
		{ "limit in-flight 0\n", 3, -EINVAL, "out of range" },
		{ "limit request-bytes 99999\n", 3, -EINVAL, "out of range" },
		{ "limit request-bytes 12k\n", 3, -EINVAL, "out of range" },
		{ "limit request-bytes -1\n", 3, -EINVAL, "out of range" },
		{ "limit speed 3\n", 3, -EINVAL, "unknown limit" },
		{ "allow-syscall ptrace\ndeny-syscall ptrace\n", 4, -EEXIST, "duplicate syscall" },
		{ "allow-syscall Bad!\n", 3, -EINVAL, "invalid syscall name" },
		{ "deny-syscall\n", 3, -EINVAL, "usage" },
	};
	struct sbx_policy *p;
	struct fd_table before;
	char err[512];
	int fd;

	snprintf(share, sizeof(share), "%s", T("share"));
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, T("srv"), SBX_PERM_READ) < 0 ||
	    sbx_policy_set_limit(p, SBX_LIMIT_IN_FLIGHT, 5) < 0)
		tap_bail("policy");
	fd = open(T("share/a.conf"), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sbx_policy_add_fd(p, "existing", fd) < 0)
		tap_bail("add_fd");
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[1024], want[PATH_MAX + 32];
		int r;

		/* two good lines that open fds first: they must be undone */
		subst(body, sizeof(body), cases[i].text, share);
		snprintf(text, sizeof(text), "read %s\nfd early %s/a.conf\n%s", T("out"), share, body);
		write_policy("bad.policy", text, strlen(text));
		fd_snapshot(&before);
		r = sbx_policy_load_file(p, T("bad.policy"), err, sizeof(err));
		is_int(r, cases[i].err, "bad line %zu: '%.*s'", i, (int)strcspn(cases[i].text, "\n"),
		       cases[i].text);
		snprintf(want, sizeof(want), "%s:%d: ", T("bad.policy"), cases[i].line);
		if (!ok(strncmp(err, want, strlen(want)) == 0 && strstr(err, cases[i].reason),
			"  ...'FILE:%d: %s...'", cases[i].line, cases[i].reason))
			diag("  errbuf: %s", err);
		ok(fd_same(&before), "  ...no fd leaked");
	}
	is_int(nrules(p), 1, "after all errors: still one rule");
	is_int(nfds(p), 1, "  ...one named fd");
	is_int(sbx_policy_get(p, "early"), -ENOENT, "  ...the file's fd was not merged");
	DENY(p, T("out/x"), O_WRONLY | O_CREAT, 0600, -EACCES, "  ...nor its rule");
	is_int(policy_limit(p, SBX_LIMIT_IN_FLIGHT), 5, "  ...limits unchanged");

	/* a name the policy already has, from the API */
	snprintf(text, sizeof(text), "# x\nfd existing %s/a.conf\n", share);
	write_policy("dup.policy", text, strlen(text));
	fd_snapshot(&before);
	is_int(sbx_policy_load_file(p, T("dup.policy"), err, sizeof(err)), -EEXIST,
	       "fd name already in the policy");
	ok(strstr(err, "dup.policy:2: duplicate fd name 'existing'") != NULL, "  ...'%s'", err);
	ok(fd_same(&before), "  ...no fd leaked");

	/* an over-long line */
	memset(text, 'a', sizeof(text));
	memcpy(text, "# ok\nread /", 11);
	text[sizeof(text) - 1] = '\n';
	write_policy("long.policy", text, sizeof(text));
	is_int(sbx_policy_load_file(p, T("long.policy"), err, sizeof(err)), -EINVAL,
	       "over-long line");
	ok(strstr(err, "long.policy:2: line longer than") != NULL, "  ...'%s'", err);

	/* a NUL byte */
	write_policy("nul.policy", "# ok\n# ok\nread /\0tmp\n", 21);
	is_int(sbx_policy_load_file(p, T("nul.policy"), err, sizeof(err)), -EINVAL, "NUL in the file");
	ok(strstr(err, "nul.policy:3: NUL byte") != NULL, "  ...'%s'", err);

	/* no such file */
	is_int(sbx_policy_load_file(p, T("absent.policy"), err, sizeof(err)), -ENOENT, "missing file");
	ok(strstr(err, "absent.policy: No such file") != NULL, "  ...'%s'", err);

	/* errbuf optional, tiny errbuf truncated safely */
	is_int(sbx_policy_load_file(p, T("nul.policy"), NULL, 0), -EINVAL, "errbuf NULL");
	err[0] = 'x';
	err[3] = 'y';
	is_int(sbx_policy_load_file(p, T("nul.policy"), err, 3), -EINVAL, "errbuf of 3 bytes");
	ok(err[2] == '\0' && err[3] == 'y', "  ...truncated in bounds");
	is_int(sbx_policy_load_file(NULL, T("nul.policy"), err, sizeof(err)), -EINVAL, "NULL policy");
	is_int(sbx_policy_load_file(p, NULL, err, sizeof(err)), -EINVAL, "NULL file");
	is_int(nrules(p), 1, "policy still unchanged");
	sbx_policy_free(p);
}

/* Files that add nothing (empty, comments only) into a policy that has
 * nothing either: every array is still NULL when the merge runs (found by
 * fuzz/fuzz-policy-file: memcpy from NULL, UBSan). */
static void test_empty(void)
{
	struct sbx_policy *p = NULL;
	struct fd_table before;
	char err[256];

	fd_snapshot(&before);
	if (sbx_policy_new(&p) < 0)
		tap_bail("sbx_policy_new");
	write_policy("empty.policy", "", 0);
	write_policy("comments.policy", "# nothing\n\n\t \n", 14);
	is_int(sbx_policy_load_file(p, T("empty.policy"), err, sizeof(err)), 0,
	       "empty file into an empty policy");
	ok(err[0] == '\0', "  ...errbuf empty");
	is_int(sbx_policy_load_file(p, T("comments.policy"), err, sizeof(err)), 0,
	       "comments-only file into an empty policy");
	ok(nrules(p) == 0 && nfds(p) == 0 && policy_connect_count(p) == 0,
	   "  ...policy still empty");
	sbx_policy_free(p);
	ok(fd_same(&before), "  ...no fd leaked");
}

int main(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fd_table start;
	int ls;

	tap_start();
	tree_make();
	mkdir_t("share");
	mkdir_t("out");
	mkdir_t("srv");
	mkdir_t("bin");
	write_t("share/a.conf", "conf");
	write_t("out/scratch", "");
	if (mkfifo(T("fifo"), 0600) < 0)
		tap_bail("mkfifo");
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", T("svc.sock"));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(ls, 4) < 0)
		tap_bail("listener");
	fd_snapshot(&start);
	test_good(ls);
	test_bad();
	test_empty();
	ok(fd_same(&start), "nothing left open");
	close(ls);
	return tap_done();
}
