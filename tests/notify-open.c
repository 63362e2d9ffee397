/* Brokered opens through seccomp user notification: a forked worker under a
 * real notify filter, served by notify_handle_one in this process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "notify-worker.h"
#include "tap.h"

static char root[256];
static struct sbx_policy *pol;

static void put(const char *rel, const char *content)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		tap_bail("write %s", p);
	close(fd);
}

static void mk(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, 0755) < 0)
		tap_bail("mkdir %s", p);
}

static void setup(void)
{
	char p[PATH_MAX];

	snprintf(root, sizeof(root), "/tmp/sbx-notify-XXXXXX");
	if (!mkdtemp(root))
		tap_bail("mkdtemp");
	mk("granted");
	mk("granted/sub");
	mk("secret");
	mk("rw");
	/* same lengths: the TOCTOU flip keeps a valid string at every moment */
	put("granted/a", "granted-a");
	put("granted/sub/b", "granted-b");
	put("secret/s", "SECRET");
	put("secret/ss", "SECRET");
	if (sbx_policy_new(&pol) < 0)
		tap_bail("sbx_policy_new");
	snprintf(p, sizeof(p), "%s/granted", root);
	if (sbx_policy_add_path(pol, p, SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("add granted");
	snprintf(p, sizeof(p), "%s/rw", root);
	if (sbx_policy_add_path(pol, p, SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE | SBX_PERM_DIR) < 0)
		tap_bail("add rw");
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	sbx_policy_free(pol);
}

/* ---- worker side (runs under the filter; no TAP output) ---- */

struct op {
	const char *path;    /* relative to root unless absolute */
	int flags;
	mode_t mode;
	const char *chdir_to; /* relative to root, before the open */
	const char *dir;      /* openat: dirfd opened from this (relative to root) */
	int dir_flags;
	uid_t uid;            /* nonzero: the worker switches to uid/gid uid first */
	mode_t umask;         /* with uid: the worker's umask */
};

static void read_into(int fd, struct wresult *r)
{
	ssize_t n = pread(fd, r->data, sizeof(r->data) - 1, 0);

	if (n >= 0)
		r->data[n] = 0;
}

static int do_op(int sock, void *arg)
{
	const struct op *o = arg;
	struct wresult r = { 0 };
	char p[PATH_MAX];
	int dfd = AT_FDCWD, fd;

	if (o->uid) {
		umask(o->umask);
		if (setresgid(o->uid, o->uid, o->uid) < 0 || setresuid(o->uid, o->uid, o->uid) < 0)
			return 8;
	}
	if (o->chdir_to) {
		snprintf(p, sizeof(p), "%s/%s", root, o->chdir_to);
		if (chdir(p) < 0)
			return 4;
	}
	if (o->dir) {
		snprintf(p, sizeof(p), "%s/%s", root, o->dir);
		dfd = open(p, o->dir_flags ? o->dir_flags : O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			r.err = 1000 + errno;
			worker_reply(sock, &r);
			return 0;
		}
	}
	if (o->path[0] == '/' || o->chdir_to || o->dir)
		snprintf(p, sizeof(p), "%s", o->path);
	else
		snprintf(p, sizeof(p), "%s/%s", root, o->path);
	fd = openat(dfd, p, o->flags, o->mode);
	if (fd < 0) {
		r.err = errno;
	} else {
		struct stat st;
		int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

		read_into(fd, &r);
		r.n = (fl & O_ACCMODE) | ((fdfl & FD_CLOEXEC) ? 0x100 : 0);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			r.n |= 0x200;
		if (o->flags & O_CREAT) {
			if (write(fd, "made", 4) != 4)
				r.err = 2000 + errno;
		}
		close(fd);
	}
	worker_reply(sock, &r);
	return 0;
}

/* ---- parent side ---- */

static struct wresult run(int (*fn)(int, void *), void *arg, const char *what, long *handled)
{
	struct fd_table before;
	struct notify_ctx *ctx;
	struct worker w;
	struct wresult res;
	long h;
	int st;

	fd_snapshot(&before);
	worker_start(&w, fn, arg);
	if (notify_ctx_new(pol, w.listener, w.pid, NULL, &ctx) < 0)
		tap_bail("notify_ctx_new");
	w.listener = -1;
	h = worker_serve(&w, ctx);
	if (handled)
		*handled = h;
	if (h < 0)
		diag("%s: handler error %ld", what, h);
	st = worker_finish(&w, &res);
	notify_ctx_free(ctx);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		diag("%s: worker status 0x%x", what, st);
	if (!fd_same(&before))
		res.err = -999; /* a leak fails the case */
	return res;
}

static struct wresult run_op(const struct op *o, const char *what)
{
	return run(do_op, (void *)o, what, NULL);
}

static void test_basic(void)
{
	struct op o = { .path = "granted/a", .flags = O_RDONLY };
	struct wresult r;

	r = run_op(&o, "granted");
	ok(r.err == 0 && strcmp(r.data, "granted-a") == 0, "open of a granted file works (%d, '%s')", r.err, r.data);
	ok(!(r.n & 0x100), "no O_CLOEXEC asked: the injected fd is inheritable");

	o.flags = O_RDONLY | O_CLOEXEC;
	r = run_op(&o, "cloexec");
	ok(r.err == 0 && (r.n & 0x100), "O_CLOEXEC asked: the injected fd is close-on-exec");

	o.path = "secret/s";
	o.flags = O_RDONLY;
	r = run_op(&o, "secret");
	is_int(r.err, EACCES, "open of a file under no rule: EACCES");

	o.path = "/etc/passwd";
	r = run_op(&o, "passwd");
	is_int(r.err, EACCES, "open of /etc/passwd: EACCES");

	o.path = "granted/nope";
	r = run_op(&o, "missing");
	is_int(r.err, ENOENT, "missing file under a rule: ENOENT");

	o.path = "granted/a";
	o.flags = O_WRONLY;
	r = run_op(&o, "write ro");
	is_int(r.err, EACCES, "O_WRONLY under a read-only rule: EACCES");

	o.path = "/etc/ld.so.preload";
	o.flags = O_RDONLY;
	r = run_op(&o, "preload");
	is_int(r.err, ENOENT, "/etc/ld.so.preload is answered ENOENT quietly");
}

static void test_dirs(void)
{
	struct op o = { .path = "a", .flags = O_RDONLY, .dir = "granted" };
	struct wresult r;

	r = run_op(&o, "openat dirfd");
	ok(r.err == 0 && strcmp(r.data, "granted-a") == 0, "openat from a granted dirfd works (%d)", r.err);

	o.path = "sub/b";
	r = run_op(&o, "openat dirfd sub");
	ok(r.err == 0 && strcmp(r.data, "granted-b") == 0, "openat of a nested path from a dirfd (%d)", r.err);

	o.path = "../secret/s";
	r = run_op(&o, "openat dotdot");
	ok(r.err != 0 && strcmp(r.data, "SECRET") != 0, "openat ../secret from a granted dirfd is refused (%d)", r.err);

	o.path = "x";
	o.dir = "granted/a";
	o.dir_flags = O_RDONLY | O_CLOEXEC;
	r = run_op(&o, "openat file dirfd");
	is_int(r.err, ENOTDIR, "a dirfd that is not a directory: ENOTDIR");

	memset(&o, 0, sizeof(o));
	o.path = "a";
	o.chdir_to = "granted";
	r = run_op(&o, "chdir");
	ok(r.err == 0 && strcmp(r.data, "granted-a") == 0, "relative open after chdir into a granted dir (%d)", r.err);

	o.path = "../secret/s";
	r = run_op(&o, "chdir dotdot");
	ok(r.err != 0, "relative ../secret after chdir is refused (%d)", r.err);

	o.chdir_to = "secret";
	o.path = "s";
	r = run_op(&o, "chdir secret");
	is_int(r.err, EACCES, "relative open in an ungranted cwd: EACCES");

	memset(&o, 0, sizeof(o));
	o.path = "granted";
	o.flags = O_RDONLY | O_DIRECTORY;
	r = run_op(&o, "dir");
	ok(r.err == 0 && (r.n & 0x200), "a granted directory opens with O_DIRECTORY (%d)", r.err);
}

static void test_create(void)
{
	struct op o = { .path = "rw/new", .flags = O_CREAT | O_WRONLY | O_EXCL, .mode = 0600 };
	char p[PATH_MAX], buf[16] = "";
	struct stat st;
	struct wresult r;
	int fd;

	r = run_op(&o, "create");
	snprintf(p, sizeof(p), "%s/rw/new", root);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	ok(r.err == 0 && strcmp(buf, "made") == 0, "O_CREAT under a write+create rule works (%d)", r.err);
	if (stat(p, &st) < 0)
		st.st_mode = 0;
	ok((st.st_mode & 0777) == 0600, "created with the mode asked (0%o)", st.st_mode & 0777);

	if (!tap_is_root()) {
		skip(3, "needs root to run a worker as another uid");
	} else {
		o.path = "rw/theirs";
		o.flags = O_CREAT | O_WRONLY;
		o.mode = 0666;
		o.uid = 65534;
		o.umask = 027;
		r = run_op(&o, "create as uid");
		snprintf(p, sizeof(p), "%s/rw/theirs", root);
		if (stat(p, &st) < 0)
			memset(&st, 0, sizeof(st));
		ok(r.err == 0 && st.st_uid == 65534 && st.st_gid == 65534,
		   "a file created for a worker of another uid is owned by it (%d, uid %u)", r.err,
		   (unsigned)st.st_uid);
		ok((st.st_mode & 0777) == 0640, "the worker's umask applies (0%o)", st.st_mode & 0777);
		o.path = "rw/new"; /* exists, root's: O_CREAT without O_EXCL leaves the owner */
		r = run_op(&o, "reopen as uid");
		snprintf(p, sizeof(p), "%s/rw/new", root);
		if (stat(p, &st) < 0)
			memset(&st, 0, sizeof(st));
		ok(r.err == 0 && st.st_uid == 0, "an existing file keeps its owner (%d, uid %u)", r.err,
		   (unsigned)st.st_uid);
		o.uid = 0;
		o.flags = O_CREAT | O_WRONLY | O_EXCL;
		o.mode = 0600;
	}

	o.path = "granted/new";
	r = run_op(&o, "create ro");
	snprintf(p, sizeof(p), "%s/granted/new", root);
	ok(r.err != 0 && access(p, F_OK) < 0, "O_CREAT under a read-only rule is refused (%d)", r.err);

	o.path = "secret/new";
	r = run_op(&o, "create secret");
	snprintf(p, sizeof(p), "%s/secret/new", root);
	ok(r.err == EACCES && access(p, F_OK) < 0, "O_CREAT under no rule: EACCES (%d)", r.err);
}

static void test_opath(void)
{
	struct op o = { .path = "granted/a", .flags = O_PATH };
	struct wresult r;

	r = run_op(&o, "O_PATH");
	ok(r.err == 0 && (r.n & O_ACCMODE) == O_RDONLY && strcmp(r.data, "granted-a") == 0,
	   "O_PATH on a granted file is served as O_RDONLY (%d)", r.err);
	o.path = "granted";
	o.flags = O_PATH | O_DIRECTORY;
	r = run_op(&o, "O_PATH dir");
	ok(r.err == 0 && (r.n & 0x200), "O_PATH|O_DIRECTORY on a granted dir works (%d)", r.err);
	o.path = "secret/s";
	o.flags = O_PATH;
	r = run_op(&o, "O_PATH secret");
	is_int(r.err, EACCES, "O_PATH on an ungranted file: EACCES");
}

/* openat2 with a struct open_how of the given size */
struct how_op {
	const char *path;
	struct open_how how;
	size_t size;
	unsigned char tail;  /* byte put after the struct (size > 24) */
};

static int do_openat2(int sock, void *arg)
{
	const struct how_op *o = arg;
	unsigned char buf[8192] = { 0 };
	struct wresult r = { 0 };
	char p[PATH_MAX];
	long fd;

	memcpy(buf, &o->how, sizeof(o->how));
	buf[sizeof(o->how)] = o->tail;
	snprintf(p, sizeof(p), "%s/%s", root, o->path);
	fd = syscall(SYS_openat2, AT_FDCWD, p, buf, o->size);
	if (fd < 0) {
		r.err = errno;
	} else {
		read_into((int)fd, &r);
		close((int)fd);
	}
	worker_reply(sock, &r);
	return 0;
}

static void test_openat2(void)
{
	struct how_op o = { .path = "granted/a", .how = { .flags = O_RDONLY }, .size = 24 };
	struct wresult r;

	r = run(do_openat2, &o, "openat2", NULL);
	ok(r.err == 0 && strcmp(r.data, "granted-a") == 0, "openat2 of a granted file works (%d)", r.err);
	o.size = 32;
	r = run(do_openat2, &o, "openat2 32", NULL);
	ok(r.err == 0, "openat2 with a larger zero-extended struct works (%d)", r.err);
	o.tail = 1;
	r = run(do_openat2, &o, "openat2 tail", NULL);
	is_int(r.err, E2BIG, "openat2 with nonzero bytes past the known struct: E2BIG");
	o.tail = 0;
	o.size = 8192;
	r = run(do_openat2, &o, "openat2 big", NULL);
	is_int(r.err, E2BIG, "openat2 with a struct larger than a page: E2BIG");
	o.size = 16;
	r = run(do_openat2, &o, "openat2 small", NULL);
	is_int(r.err, EINVAL, "openat2 with a struct smaller than VER0: EINVAL");
	o.size = 24;
	o.how.mode = 0644;
	r = run(do_openat2, &o, "openat2 mode", NULL);
	is_int(r.err, EINVAL, "openat2 with a mode but no O_CREAT: EINVAL");
	o.how.mode = 0;
	o.how.flags = 1ull << 40;
	r = run(do_openat2, &o, "openat2 flags", NULL);
	is_int(r.err, EINVAL, "openat2 with unknown flag bits: EINVAL");
	o.how.flags = O_RDONLY;
	o.path = "secret/s";
	r = run(do_openat2, &o, "openat2 secret", NULL);
	is_int(r.err, EACCES, "openat2 of an ungranted file: EACCES");
}

/* ---- hostile path buffers ---- */

static int do_prot_none(int sock, void *arg)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct wresult r = { 0 };
	char *m = mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int which = *(int *)arg;
	char *path;

	if (m == MAP_FAILED || mprotect(m + ps, (size_t)ps, PROT_NONE) < 0)
		return 5;
	if (which == 0) {
		/* "/tmp/aaaa..." running into the PROT_NONE page, no NUL */
		memset(m, 'a', (size_t)ps);
		path = m + ps / 2; /* the kernel's own copy would fault too */
		path[0] = '/';
	} else {
		path = m + ps; /* entirely unreadable */
	}
	if (open(path, O_RDONLY) < 0)
		r.err = errno;
	worker_reply(sock, &r);
	return 0;
}

static int do_too_long(int sock, void *arg)
{
	static char p[PATH_MAX + 64];
	struct wresult r = { 0 };

	(void)arg;
	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	for (size_t i = 100; i < sizeof(p) - 1; i += 100)
		p[i] = '/';
	if (open(p, O_RDONLY) < 0)
		r.err = errno;
	worker_reply(sock, &r);
	return 0;
}

static int do_empty(int sock, void *arg)
{
	struct wresult r = { 0 };

	(void)arg;
	if (open("", O_RDONLY) < 0)
		r.err = errno;
	worker_reply(sock, &r);
	return 0;
}

static void test_hostile_paths(void)
{
	struct wresult r;
	int which;

	which = 0;
	r = run(do_prot_none, &which, "prot_none tail", NULL);
	is_int(r.err, EFAULT, "a path running into a PROT_NONE page: EFAULT");
	which = 1;
	r = run(do_prot_none, &which, "prot_none", NULL);
	is_int(r.err, EFAULT, "a path in a PROT_NONE page: EFAULT");
	r = run(do_too_long, NULL, "too long", NULL);
	is_int(r.err, ENAMETOOLONG, "no NUL within PATH_MAX: ENAMETOOLONG");
	r = run(do_empty, NULL, "empty", NULL);
	is_int(r.err, ENOENT, "an empty path: ENOENT");
}

/* ---- TOCTOU: another thread flips the path while the parent reads it ---- */

static char flip_path[PATH_MAX];
static char flip_a[PATH_MAX], flip_b[PATH_MAX];
static volatile int flip_stop;

static void *flipper(void *arg)
{
	size_t n = strlen(flip_a);

	(void)arg;
	while (!flip_stop) {
		for (size_t i = 0; i < n; i++)
			((volatile char *)flip_path)[i] = flip_a[i];
		for (size_t i = 0; i < n; i++)
			((volatile char *)flip_path)[i] = flip_b[i];
	}
	return NULL;
}

static int do_toctou(int sock, void *arg)
{
	struct wresult r = { 0 };
	pthread_t t;
	int i, got = 0, leaked = 0;

	(void)arg;
	snprintf(flip_a, sizeof(flip_a), "%s/granted/a", root);
	snprintf(flip_b, sizeof(flip_b), "%s/secret/ss", root);
	/* same length so the buffer is always NUL-terminated */
	if (strlen(flip_a) != strlen(flip_b))
		return 6;
	memcpy(flip_path, flip_a, strlen(flip_a) + 1);
	if (pthread_create(&t, NULL, flipper, NULL) != 0)
		return 7;
	for (i = 0; i < 2000; i++) {
		char buf[32] = "";
		int fd = open(flip_path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		if (strcmp(buf, "granted-a") == 0)
			got++;
		else
			leaked++;
		close(fd);
	}
	flip_stop = 1;
	pthread_join(t, NULL);
	r.n = got;
	r.err = leaked;
	worker_reply(sock, &r);
	return 0;
}

static void test_toctou(void)
{
	struct wresult r = run(do_toctou, NULL, "toctou", NULL);

	ok(r.err == 0, "TOCTOU flipper: the worker never got the forbidden file (%d leaked)", r.err);
	ok(r.n > 0, "TOCTOU flipper: the granted file was served (%d of 2000)", r.n);
}

/* ---- fd accounting over many opens ---- */

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static int do_many(int sock, void *arg)
{
	struct wresult r = { 0 };
	char p[PATH_MAX];
	int before = count_fds(), i, ok_n = 0;

	(void)arg;
	snprintf(p, sizeof(p), "%s/granted/a", root);
	for (i = 0; i < 10000; i++) {
		int fd = open(p, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ok_n++;
			close(fd);
		}
	}
	r.n = ok_n;
	r.err = count_fds() - before;
	worker_reply(sock, &r);
	return 0;
}

static void test_many(void)
{
	int before = fd_count();
	long handled = 0;
	struct wresult r = run(do_many, NULL, "many", &handled);

	ok(r.n == 10000 && handled == 10000, "10,000 brokered opens all served (%d, %ld handled)", r.n, handled);
	is_int(r.err, 0, "no fd leaked in the worker after 10,000 opens");
	is_int(fd_count() - before, 0, "no fd leaked in the supervisor after 10,000 opens");
}

/* ---- a worker that dies while its request is pending ---- */

static pid_t victim;
static int victim_pidfd = -1;

static void kill_victim(pid_t pid, const char *path, int flags, int err, void *ud)
{
	struct pollfd p = { .fd = victim_pidfd, .events = POLLIN };

	(void)path; (void)flags; (void)err; (void)ud;
	if (pid != victim)
		return;
	kill(victim, SIGKILL);
	poll(&p, 1, 5000); /* dead before the answer goes out */
}

static int do_open_one(int sock, void *arg)
{
	struct wresult r = { 0 };
	char p[PATH_MAX];
	int fd;

	(void)arg;
	snprintf(p, sizeof(p), "%s/granted/a", root);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		r.err = errno;
	else
		read_into(fd, &r);
	worker_reply(sock, &r);
	return 0;
}

static void test_dying_worker(void)
{
	struct notify_opts opts = { .on_open = kill_victim };
	struct fd_table before;
	struct notify_ctx *ctx;
	struct worker w;
	struct wresult r;
	long h;
	int st;

	fd_snapshot(&before);
	worker_start(&w, do_open_one, NULL);
	victim = w.pid;
	victim_pidfd = w.pidfd;
	if (notify_ctx_new(pol, w.listener, w.pid, &opts, &ctx) < 0)
		tap_bail("notify_ctx_new");
	w.listener = -1;
	h = worker_serve(&w, ctx);
	st = worker_finish(&w, &r);
	ok(h >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "a worker killed while its open was pending: handler carried on (%ld)", h);
	{
		struct pollfd p = { .fd = notify_ctx_fd(ctx), .events = POLLIN };

		ok(poll(&p, 1, 1000) == 1 && (p.revents & POLLHUP) && notify_handle_one(ctx) >= 0,
		   "its listener reports POLLHUP and RECV reports nothing to do");
	}
	notify_ctx_free(ctx);
	ok(fd_same(&before), "no fd left behind by the dropped notification");

	r = run(do_open_one, NULL, "after death", NULL);
	ok(r.err == 0 && strcmp(r.data, "granted-a") == 0, "the next worker is served");
}

/* ---- traced denials ---- */

static int do_sockets(int sock, void *arg)
{
	struct wresult r = { 0 };
	int a, b;

	(void)arg;
	a = socket(AF_INET, SOCK_STREAM, 0);
	r.err = a < 0 ? errno : 0;
	b = socket(AF_INET6, SOCK_DGRAM, 0);
	r.n = b < 0 ? errno : 0;
	worker_reply(sock, &r);
	return 0;
}

static int denial_calls;
static char denial_name[64];
static unsigned long long denial_arg0;

static void on_denial(const struct notify_denial *d, void *ud)
{
	(void)ud;
	denial_calls++;
	snprintf(denial_name, sizeof(denial_name), "%s", d->name);
	denial_arg0 = d->args[0];
}

static void test_denials(void)
{
	struct notify_report *rep;
	struct notify_opts opts = { .on_denial = on_denial };
	struct fd_table before;
	struct notify_ctx *ctx;
	struct worker w;
	struct wresult r;
	char buf[1024] = "";
	int pfd[2];
	ssize_t n;

	if (notify_report_new(&rep) < 0)
		tap_bail("report");
	opts.report = rep;
	worker_extra_notify[0] = __NR_socket;
	worker_extra_notify[1] = -1;
	fd_snapshot(&before);
	worker_start(&w, do_sockets, NULL);
	if (notify_ctx_new(pol, w.listener, w.pid, &opts, &ctx) < 0)
		tap_bail("notify_ctx_new");
	w.listener = -1;
	worker_serve(&w, ctx);
	worker_finish(&w, &r);
	notify_ctx_free(ctx);
	ok(r.err == EPERM && r.n == EPERM, "denied socket() calls fail with EPERM (%d, %d)", r.err, r.n);
	ok(denial_calls == 1 && strcmp(denial_name, "socket") == 0 && denial_arg0 == AF_INET,
	   "reported once, by name, with its arguments (%d, %s)", denial_calls, denial_name);
	is_int(notify_report_count(rep), 1, "summary: one distinct syscall");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	ok(notify_report_write(rep, pfd[1], "sandbox-run: ") == 0, "summary written");
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	ok(strstr(buf, "socket (2)") && strstr(buf, "--allow-syscall socket") &&
	   strstr(buf, "\nallow-syscall socket\n"), "summary carries the count, the option and the policy line");
	if (!strstr(buf, "--allow-syscall socket"))
		diag("summary: %s", buf);

	/* a configured errno */
	opts.deny_errno = EACCES;
	worker_start(&w, do_sockets, NULL);
	if (notify_ctx_new(pol, w.listener, w.pid, &opts, &ctx) < 0)
		tap_bail("notify_ctx_new");
	w.listener = -1;
	worker_serve(&w, ctx);
	worker_finish(&w, &r);
	notify_ctx_free(ctx);
	ok(r.err == EACCES && denial_calls == 1, "the configured errno is answered, no second report");
	notify_report_free(rep);
	worker_extra_notify[0] = -1;
	ok(fd_same(&before), "denial handling leaks no fd");
}

int main(void)
{
	if (getenv("SBX_UNDER_VALGRIND"))
		tap_skip_all("valgrind does not implement seccomp(2) (syscall 317), which the workers install");
	if (seccomp_api_get() < 5)
		tap_skip_all("seccomp user notification with ADDFD not available (api %u)", seccomp_api_get());
	tap_start();
	setup();
	test_basic();
	test_dirs();
	test_create();
	test_opath();
	test_openat2();
	test_hostile_paths();
	test_toctou();
	test_many();
	test_dying_worker();
	test_denials();
	cleanup();
	return tap_done();
}
