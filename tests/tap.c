#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
