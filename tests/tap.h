/* A tiny TAP producer for sbx's tests, plus fd-table checks. */
#ifndef SBX_TAP_H
#define SBX_TAP_H

#include <stdbool.h>

/* Set stdout unbuffered (a fork must not duplicate TAP lines) and print the plan. */
void tap_plan(int n);
/* Plan decided at the end ("1..N" printed by tap_done). */
void tap_start(void);
/* Skip the whole file: prints "1..0 # SKIP reason" and exits 0. */
void tap_skip_all(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put "prefix: " before every test name from now on (NULL: none). */
void tap_prefix(const char *prefix);
void skip(int n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Wait for child pid (retrying EINTR; bails on any other error): its exit
 * code, or 128 + the signal that killed it. */
int tap_reap(int pid);
/* Prints the trailing plan if tap_start() was used; returns the exit code. */
int tap_done(void);

#define is_int(got, want, ...)                                                \
	do {                                                                  \
		long long g_ = (got), w_ = (want);                            \
		if (!ok(g_ == w_, __VA_ARGS__))                               \
			diag("  got %lld, want %lld", g_, w_);                \
	} while (0)

/* Snapshot of the open fds of this process (from /proc/self/fd). */
struct fd_table {
	int n;
	int fd[1024];
};
void fd_snapshot(struct fd_table *t);
/* True when the current table equals t; prints the difference otherwise. */
bool fd_same(const struct fd_table *t);
/* Number of open fds right now. */
int fd_count(void);
/* True when fd is open and close-on-exec. */
bool fd_is_cloexec(int fd);

/* Run fn(ud) in a forked child; its exit status, or 128+N if killed by N. */
int tap_in_child(int (*fn)(void *), void *ud);

/* Running as uid 0 with CAP_SYS_ADMIN in the initial user namespace. */
bool tap_is_root(void);
/* Directory holding the built project (meson build root), from SBX_BUILD_DIR
 * or derived from this test's own path. */
const char *tap_build_dir(void);
/* path itself when every directory above it is searchable by others and it
 * is executable by others; otherwise a copy in a 0755 staging directory
 * under /tmp (removed at exit), so an ordinary user (the uid 65534 runs)
 * can execute it from a checkout in a private directory. */
const char *tap_public_copy(const char *path);
/* Directory holding the source tree, from SBX_SOURCE_DIR or the build dir's
 * meson info. */
const char *tap_source_dir(void);

#endif
