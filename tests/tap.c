#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static int tap_n, tap_failed, tap_late_plan;
static const char *tap_pfx;

void tap_prefix(const char *prefix)
{
	tap_pfx = prefix;
}

void tap_plan(int n)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("1..%d\n", n);
}

void tap_start(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tap_late_plan = 1;
}

void tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	if (tap_pfx)
		printf("%s: ", tap_pfx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

void skip(int n, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "# ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", strerror(e));
	exit(255);
}

int tap_done(void)
{
	if (tap_late_plan)
		printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

void fd_snapshot(struct fd_table *t)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		tap_bail("opendir /proc/self/fd");
	t->n = 0;
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		if (t->n < (int)(sizeof(t->fd) / sizeof(t->fd[0])))
			t->fd[t->n++] = fd;
	}
	closedir(d);
}

static int has(const struct fd_table *t, int fd)
{
	for (int i = 0; i < t->n; i++)
		if (t->fd[i] == fd)
			return 1;
	return 0;
}

bool fd_same(const struct fd_table *t)
{
	struct fd_table now;
	bool same = true;

	fd_snapshot(&now);
	for (int i = 0; i < now.n; i++)
		if (!has(t, now.fd[i])) {
			char p[64], tgt[PATH_MAX];
			ssize_t k;

			snprintf(p, sizeof(p), "/proc/self/fd/%d", now.fd[i]);
			k = readlink(p, tgt, sizeof(tgt) - 1);
			tgt[k < 0 ? 0 : k] = 0;
			diag("  leaked fd %d -> %s", now.fd[i], tgt);
			same = false;
		}
	for (int i = 0; i < t->n; i++)
		if (!has(&now, t->fd[i])) {
			diag("  fd %d was closed", t->fd[i]);
			same = false;
		}
	return same;
}

int fd_count(void)
{
	struct fd_table t;

	fd_snapshot(&t);
	return t.n;
}

bool fd_is_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC);
}

int tap_in_child(int (*fn)(void *), void *ud)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		tap_bail("fork");
	if (pid == 0)
		_exit(fn(ud));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid");
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

bool tap_is_root(void)
{
	return geteuid() == 0;
}

const char *tap_build_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("SBX_BUILD_DIR");
	char *slash;
	ssize_t n;

	if (env && *env)
		return env;
	if (dir[0])
		return dir;
	/* Tests live in <build>/tests/. */
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n < 0)
		tap_bail("readlink /proc/self/exe");
	dir[n] = 0;
	for (int i = 0; i < 2; i++) {
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
	}
	return dir;
}

static char stage_dir[64];
static pid_t stage_owner;

static void stage_cleanup(void)
{
	char cmd[128];

	if (stage_dir[0] && getpid() == stage_owner) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", stage_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", stage_dir);
	}
}

static bool public_path(const char *path)
{
	char p[PATH_MAX];
	struct stat st;
	char *slash;

	if (stat(path, &st) < 0 || !(st.st_mode & S_IXOTH))
		return false;
	snprintf(p, sizeof(p), "%s", path);
	while ((slash = strrchr(p, '/')) && slash != p) {
		*slash = '\0';
		if (stat(p, &st) < 0 || !(st.st_mode & S_IXOTH))
			return false;
	}
	return true;
}

const char *tap_public_copy(const char *path)
{
	static char copies[8][PATH_MAX];
	static int ncopies;
	char *out, buf[65536];
	const char *base;
	int in, fd;
	ssize_t n;

	if (public_path(path))
		return path;
	for (int i = 0; i < ncopies; i++) {
		base = strrchr(path, '/');
		if (!strcmp(strrchr(copies[i], '/'), base ? base : path))
			return copies[i];
	}
	if (ncopies == 8)
		tap_bail("tap_public_copy: too many copies");
	if (!stage_dir[0]) {
		snprintf(stage_dir, sizeof(stage_dir), "/tmp/sbx-stage-XXXXXX");
		if (!mkdtemp(stage_dir) || chmod(stage_dir, 0755) < 0)
			tap_bail("staging dir");
		stage_owner = getpid();
		atexit(stage_cleanup);
	}
	base = strrchr(path, '/');
	out = copies[ncopies];
	snprintf(out, PATH_MAX, "%s/%s", stage_dir, base ? base + 1 : path);
	in = open(path, O_RDONLY | O_CLOEXEC);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (in < 0 || fd < 0)
		tap_bail("copy %s", path);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			tap_bail("copy %s", path);
	close(in);
	if (n < 0 || close(fd) < 0)
		tap_bail("copy %s", path);
	ncopies++;
	return out;
}

const char *tap_source_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("SBX_SOURCE_DIR");

	if (env && *env)
		return env;
	if (!dir[0]) {
		/* meson writes the source root into the build dir's info. */
		snprintf(dir, sizeof(dir), "%s", SBX_SOURCE_ROOT);
	}
	return dir;
}

int tap_reap(int pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid %d: %s", pid, strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
