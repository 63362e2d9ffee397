/* sbx_policy_open: rules, flags, types, longest match, symlinked grants. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "policy-util.h"
#include "privileged/policy-impl.h"

static bool have_dev; /* mknod worked: a real /dev/null twin in the tree */

static void build_tree(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *dirs[] = { "data", "data/sub", "database", "ro", "rw", "dev-no",
			       "dev-ok", "exe", "dirs", "dirs/inner", "target" };
	int s;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir_t(dirs[i]);
	write_t("data/a.txt", "A");
	write_t("data/sub/b.txt", "B");
	write_t("database/x.txt", "X");
	write_t("ro/f.txt", "keep");
	write_t("rw/old.txt", "old");
	write_t("exe/prog", "#!/bin/sh\n");
	write_t("dirs/file.txt", "F");
	write_t("target/real.txt", "REAL");
	write_t("target/other.txt", "OTHER");
	write_t("single.txt", "S");
	symlink_t("a.txt", "data/rel-link");
	symlink_t(T("target/real.txt"), "abs-link"); /* like /etc/localtime */
	symlink_t("data", "dir-link");               /* like /lib -> usr/lib */
	for (int i = 0; i < 2; i++) {
		const char *d = i ? "dev-ok" : "dev-no";
		char rel[64];

		snprintf(rel, sizeof(rel), "%s/fifo", d);
		if (mkfifo(T(rel), 0600) < 0)
			tap_bail("mkfifo: %s", strerror(errno));
		snprintf(rel, sizeof(rel), "%s/sock", d);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", T(rel));
		if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			tap_bail("bind: %s", strerror(errno));
		close(s);
		snprintf(rel, sizeof(rel), "%s/null", d);
		have_dev = mknod(T(rel), S_IFCHR | 0666, makedev(1, 3)) == 0;
	}
}

static struct sbx_policy *build_policy(void)
{
	struct sbx_policy *p;
	struct {
		const char *rel;
		unsigned perms;
	} rules[] = {
		{ "data", SBX_PERM_READ },
		{ "data/sub", SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE },
		{ "ro", SBX_PERM_READ },
		{ "rw", SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE },
		{ "dev-no", SBX_PERM_READ | SBX_PERM_WRITE },
		{ "dev-ok", SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_DEV },
		{ "exe", SBX_PERM_EXEC },
		{ "dirs", SBX_PERM_DIR },
		{ "abs-link", SBX_PERM_READ },
		{ "dir-link", SBX_PERM_READ },
		{ "single.txt", SBX_PERM_READ },
	};

	if (sbx_policy_new(&p) < 0)
		tap_bail("sbx_policy_new");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (sbx_policy_add_path(p, T(rules[i].rel), rules[i].perms) < 0)
			tap_bail("add_path %s", rules[i].rel);
	return p;
}

static void expect_content(int fd, const char *want, const char *what)
{
	char buf[64] = "";
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

	if (n >= 0)
		buf[n] = '\0';
	if (!ok(strcmp(buf, want) == 0, "%s: content is '%s'", what, want))
		diag("  got '%s'", buf);
}

static void test_basic(const struct sbx_policy *p)
{
	struct fd_table before;
	int fd, fl;

	fd_snapshot(&before);
	fd = grant(p, T("data/a.txt"), O_RDONLY, 0, "read rule grants O_RDONLY");
	expect_content(fd, "A", "data/a.txt");
	fl = fcntl(fd, F_GETFL);
	ok(fl >= 0 && !(fl & O_NONBLOCK), "O_NONBLOCK cleared again (not asked for)");
	close(fd);
	fd = grant(p, T("data/a.txt"), O_RDONLY | O_NONBLOCK, 0, "O_NONBLOCK asked for");
	fl = fcntl(fd, F_GETFL);
	ok(fl >= 0 && (fl & O_NONBLOCK), "O_NONBLOCK kept when asked for");
	close(fd);
	fd = grant(p, T("data/a.txt"), O_RDONLY, 0644, "mode ignored without O_CREAT");
	close(fd);
	fd = grant(p, T("data//./a.txt"), O_RDONLY, 0, "'//' and '.' normalised");
	close(fd);
	fd = grant(p, T("dir-link/sub/../a.txt"), O_RDONLY, 0, "'..' that stays beneath the rule");
	expect_content(fd, "A", "dir-link/sub/../a.txt");
	close(fd);
	fd = grant(p, T("data/rel-link"), O_RDONLY, 0, "relative symlink inside the tree");
	expect_content(fd, "A", "data/rel-link");
	close(fd);
	ok(fd_same(&before), "granted opens leave nothing behind once closed");
	DENY(p, T("data/rel-link"), O_RDONLY | O_NOFOLLOW, 0, -ELOOP, "O_NOFOLLOW on a symlink");
	/* The longest rule (data/sub) is the root: '..' out of it is refused
	 * even though data would grant the result (documented). */
	DENY(p, T("data/sub/../a.txt"), O_RDONLY, 0, -EACCES, "'..' out of the longest rule");
	DENY(p, T("data/none"), O_RDONLY, 0, -ENOENT, "missing file in a granted tree");
	DENY(p, "/sbx-no-such-root/x", O_RDONLY, 0, -EACCES, "no rule");
}

static void test_path_args(const struct sbx_policy *p)
{
	char *longp = malloc(PATH_MAX + 16);

	DENY(p, "data/a.txt", O_RDONLY, 0, -EINVAL, "relative path");
	DENY(p, "./a", O_RDONLY, 0, -EINVAL, "relative path with ./");
	DENY(p, "", O_RDONLY, 0, -ENOENT, "empty path");
	DENY(p, NULL, O_RDONLY, 0, -EINVAL, "NULL path");
	DENY(NULL, T("data/a.txt"), O_RDONLY, 0, -EINVAL, "NULL policy");
	memset(longp, 'a', PATH_MAX + 8);
	longp[0] = '/';
	longp[PATH_MAX + 8] = '\0';
	DENY(p, longp, O_RDONLY, 0, -ENAMETOOLONG, "path over PATH_MAX");
	longp[PATH_MAX] = '\0';
	DENY(p, longp, O_RDONLY, 0, -ENAMETOOLONG, "path of exactly PATH_MAX bytes");
	longp[PATH_MAX - 1] = '\0';
	DENY(p, longp, O_RDONLY, 0, -EACCES, "path of PATH_MAX-1 bytes: judged (no rule)");
	free(longp);
}

static void test_flags(const struct sbx_policy *p)
{
	struct stat st;

	DENY(p, T("ro/new"), O_WRONLY | O_CREAT, 0600, -EACCES, "O_CREAT on a read-only rule");
	DENY(p, T("ro/new"), O_RDONLY | O_CREAT, 0600, -EACCES, "O_RDONLY|O_CREAT on a read-only rule");
	ok(stat(T("ro/new"), &st) < 0 && errno == ENOENT, "  ...nothing was created");
	DENY(p, T("ro/f.txt"), O_WRONLY | O_TRUNC, 0, -EACCES, "O_WRONLY|O_TRUNC on a read-only rule");
	DENY(p, T("ro/f.txt"), O_RDONLY | O_TRUNC, 0, -EACCES, "O_RDONLY|O_TRUNC on a read-only rule");
	DENY(p, T("ro/f.txt"), O_RDONLY | O_APPEND, 0, -EACCES, "O_APPEND on a read-only rule");
	DENY(p, T("ro/f.txt"), O_RDWR, 0, -EACCES, "O_RDWR on a read-only rule");
	ok(stat(T("ro/f.txt"), &st) == 0 && st.st_size == 4, "  ...file not truncated");
	DENY(p, T("ro/f.txt"), O_PATH, 0, -EACCES, "O_PATH");
	DENY(p, T("ro/f.txt"), O_PATH | O_NOFOLLOW, 0, -EACCES, "O_PATH|O_NOFOLLOW");
	DENY(p, T("ro/f.txt"), O_RDONLY | O_NOATIME, 0, -EINVAL, "O_NOATIME (unknown)");
	DENY(p, T("ro/f.txt"), O_RDONLY | O_ASYNC, 0, -EINVAL, "O_ASYNC (unknown)");
	DENY(p, T("ro/f.txt"), O_RDONLY | 0x40000000, 0, -EINVAL, "bit 30 (unknown)");
	DENY(p, T("ro/f.txt"), (int)0x80000000u, 0, -EINVAL, "sign bit (unknown)");
	DENY(p, T("ro/f.txt"), O_ACCMODE, 0, -EINVAL, "access mode 3");
	DENY(p, T("rw"), O_TMPFILE | O_RDONLY, 0600, -EINVAL, "O_TMPFILE read-only");
	DENY(p, T("rw/x"), O_WRONLY | O_CREAT, 010000, -EINVAL, "mode beyond 07777");
	DENY(p, T("ro"), O_TMPFILE | O_RDWR, 0600, -EACCES, "O_TMPFILE on a read-only rule");
	DENY(p, T("ro/f.txt"), O_RDONLY | O_CREAT | O_EXCL | O_PATH, 0, -EACCES,
	     "O_PATH with other flags");
}

static void test_create(const struct sbx_policy *p)
{
	struct stat st;
	int fd;

	umask(022);
	fd = grant(p, T("rw/new.txt"), O_WRONLY | O_CREAT, 0600, "O_CREAT on a create rule");
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
	   "  ...a regular file with mode 0600");
	close(fd);
	DENY(p, T("rw/new.txt"), O_WRONLY | O_CREAT | O_EXCL, 0600, -EEXIST,
	     "O_CREAT|O_EXCL on an existing file");
	fd = grant(p, T("rw/old.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600,
		   "O_CREAT|O_TRUNC on an existing file opens it");
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "  ...truncated");
	close(fd);
	write_t("dev-no/plain.txt", "P");
	fd = grant(p, T("dev-no/plain.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0666,
		   "O_CREAT|O_TRUNC on an existing file under write without create (sh's >file)");
	close(fd);
	DENY(p, T("dev-no/brand-new.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0666, -EACCES,
	     "... but no new file without create");
	DENY(p, T("dev-no/plain.txt"), O_WRONLY | O_CREAT | O_EXCL, 0666, -EACCES,
	     "... and O_EXCL needs create even when the name exists");
	DENY(p, T("ro/f.txt"), O_WRONLY | O_CREAT, 0666, -EACCES,
	     "O_CREAT for writing an existing file under read-only: refused (write)");
	fd = grant(p, T("rw/new.txt"), O_RDWR | O_APPEND, 0, "O_RDWR|O_APPEND on a write rule");
	close(fd);
	fd = grant(p, T("data/sub/c.txt"), O_WRONLY | O_CREAT, 0644,
		   "longest rule: data/sub allows create under read-only data");
	close(fd);
	DENY(p, T("data/c.txt"), O_WRONLY | O_CREAT, 0644, -EACCES,
	     "longest rule: data itself does not");
	fd = sbx_policy_open(p, T("rw"), O_TMPFILE | O_RDWR, 0600);
	if (fd == -EOPNOTSUPP)
		skip(1, "O_TMPFILE not supported by this filesystem");
	else
		ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0,
		   "O_TMPFILE in a create rule gives an unlinked regular file");
	if (fd >= 0)
		close(fd);
	DENY(p, T("rw/../ro/evil"), O_WRONLY | O_CREAT, 0600, -EACCES,
	     "O_CREAT with '..' out of the create rule");
	ok(access(T("ro/evil"), F_OK) < 0, "  ...nothing was created");
	DENY(p, T("rw/old.txt"), O_WRONLY | O_CREAT | O_DIRECTORY, 0600, -EACCES,
	     "O_CREAT|O_DIRECTORY on a rule without dir");
}

static void test_match(const struct sbx_policy *p)
{
	int fd;

	DENY(p, T("database/x.txt"), O_RDONLY, 0, -EACCES,
	     "rule data does not match database (component boundary)");
	DENY(p, T("dat"), O_RDONLY, 0, -EACCES, "nor a prefix of its name");
	fd = grant(p, T("data/sub/b.txt"), O_WRONLY, 0, "longest rule: write under data/sub");
	close(fd);
	DENY(p, T("data/a.txt"), O_WRONLY, 0, -EACCES, "but not under data");
	fd = grant(p, T("single.txt"), O_RDONLY, 0, "single-file rule");
	expect_content(fd, "S", "single.txt");
	close(fd);
	DENY(p, T("single.txt/x"), O_RDONLY, 0, -ENOTDIR, "beneath a single-file rule");
	DENY(p, T("single.txt/"), O_RDONLY, 0, -ENOTDIR, "single-file rule with a trailing slash");
	DENY(p, T("data/a.txt/"), O_RDONLY, 0, -ENOTDIR, "file with a trailing slash");
	DENY(p, T("data/a.txt/."), O_RDONLY, 0, -ENOTDIR, "file followed by /.");
	DENY(p, T("single.txt"), O_WRONLY, 0, -EACCES, "single-file rule is read-only");
}

static void test_symlinked_grant(const struct sbx_policy *p)
{
	int fd;

	fd = grant(p, T("abs-link"), O_RDONLY, 0, "grant of an absolute symlink opens");
	expect_content(fd, "REAL", "abs-link");
	close(fd);
	fd = grant(p, T("target/real.txt"), O_RDONLY, 0, "its target is granted too");
	close(fd);
	DENY(p, T("target/other.txt"), O_RDONLY, 0, -EACCES, "but not the target's siblings");
	fd = grant(p, T("dir-link/a.txt"), O_RDONLY, 0, "grant of a symlinked directory");
	expect_content(fd, "A", "dir-link/a.txt");
	close(fd);
}

static void test_dirs(const struct sbx_policy *p)
{
	struct stat st;
	int fd;

	DENY(p, T("data"), O_RDONLY | O_DIRECTORY, 0, -EACCES, "O_DIRECTORY without dir");
	DENY(p, T("data/sub"), O_RDONLY, 0, -EACCES, "a directory without dir");
	DENY(p, T("data"), O_RDONLY, 0, -EACCES, "the rule's own directory without dir");
	fd = grant(p, T("dirs"), O_RDONLY | O_DIRECTORY, 0, "dir rule: the root itself");
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "  ...is a directory");
	close(fd);
	fd = grant(p, T("dirs/inner/"), O_RDONLY, 0, "dir rule: a subdirectory with '/'");
	close(fd);
	DENY(p, T("dirs/file.txt"), O_RDONLY, 0, -EACCES, "dir alone does not read files");
	DENY(p, T("dirs/file.txt"), O_RDONLY | O_DIRECTORY, 0, -ENOTDIR,
	     "O_DIRECTORY on a file");
	DENY(p, T("dirs/inner"), O_WRONLY, 0, -EACCES, "a directory for writing");
}

static void test_exec(const struct sbx_policy *p)
{
	int fd;

	fd = grant(p, T("exe/prog"), O_RDONLY, 0, "exec rule: O_RDONLY of a file");
	close(fd);
	DENY(p, T("exe/prog"), O_RDWR, 0, -EACCES, "exec rule: not O_RDWR");
	DENY(p, T("exe"), O_RDONLY | O_DIRECTORY, 0, -EACCES, "exec rule: not the directory");
}

static void test_special(const struct sbx_policy *p)
{
	struct pollfd pfd;
	int fd, fl;

	/* Each of these would block or have side effects if opened blindly;
	 * a hang here is the failure (no timing in the test itself). */
	DENY(p, T("dev-no/fifo"), O_RDONLY, 0, -EACCES, "FIFO without dev (no writer)");
	DENY(p, T("dev-no/fifo"), O_WRONLY, 0, -EACCES, "FIFO for writing without dev");
	DENY(p, T("dev-no/sock"), O_RDONLY, 0, -EACCES, "socket file without dev");
	if (have_dev)
		DENY(p, T("dev-no/null"), O_RDONLY, 0, -EACCES, "device without dev");
	else
		skip(2, "mknod failed: not root");
	fd = grant(p, T("dev-ok/fifo"), O_RDONLY, 0, "FIFO with dev, no writer: does not block");
	fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	ok(fl >= 0 && !(fl & O_NONBLOCK), "  ...returned in blocking mode as asked");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ok(fd >= 0 && poll(&pfd, 1, 0) >= 0, "  ...is a usable fd");
	if (fd >= 0)
		close(fd);
	DENY(p, T("dev-ok/fifo"), O_WRONLY, 0, -ENXIO, "FIFO for writing with no reader: ENXIO");
	DENY(p, T("dev-ok/sock"), O_RDONLY, 0, -ENXIO, "socket file with dev: ENXIO");
	if (have_dev) {
		char c;

		fd = grant(p, T("dev-ok/null"), O_RDWR, 0, "device with dev");
		ok(fd >= 0 && read(fd, &c, 1) == 0, "  ...reads like /dev/null");
		if (fd >= 0)
			close(fd);
	} else {
		skip(2, "mknod failed: not root");
	}
}

static void test_add_path(struct sbx_policy *p)
{
	struct fd_table before;

	fd_snapshot(&before);
	is_int(sbx_policy_add_path(p, "relative", SBX_PERM_READ), -EINVAL, "add_path: relative");
	is_int(sbx_policy_add_path(p, T("data/../ro"), SBX_PERM_READ), -EINVAL, "add_path: '..'");
	is_int(sbx_policy_add_path(p, "", SBX_PERM_READ), -ENOENT, "add_path: empty");
	is_int(sbx_policy_add_path(p, T("nonexistent"), SBX_PERM_READ), -ENOENT,
	       "add_path: missing path");
	is_int(sbx_policy_add_path(p, T("ro"), 0), -EINVAL, "add_path: no perms");
	is_int(sbx_policy_add_path(p, T("ro"), 1u << 12), -EINVAL, "add_path: unknown perm");
	is_int(sbx_policy_add_path(NULL, T("ro"), SBX_PERM_READ), -EINVAL, "add_path: NULL");
	ok(fd_same(&before), "add_path failures leak nothing");
	is_int(sbx_policy_add_path(p, T("ro//."), SBX_PERM_WRITE), 0,
	       "add_path: same rule again (normalised) adds perms");
	is_int(fd_count(), before.n, "  ...without a new fd");
}

int main(void)
{
	struct fd_table start;
	struct sbx_policy *p;

	tap_start();
	tree_make();
	build_tree();
	/* Twice: the kernel's openat2, then the user-space walk used where
	 * openat2 is missing (old kernels, valgrind). */
	for (int fallback = 0; fallback < 2; fallback++) {
		diag("resolver: %s", fallback ? "user-space walk" : "openat2");
		policy_force_fallback(fallback);
		fd_snapshot(&start);
		p = build_policy();
		test_basic(p);
		test_path_args(p);
		test_flags(p);
		test_create(p);
		test_match(p);
		test_symlinked_grant(p);
		test_dirs(p);
		test_exec(p);
		test_special(p);
		test_add_path(p);
		ok(sbx_policy_free(p) == NULL, "sbx_policy_free returns NULL");
		ok(fd_same(&start), "freeing the policy closes every rule fd");
	}
	ok(sbx_policy_free(NULL) == NULL, "sbx_policy_free(NULL)");
	return tap_done();
}
