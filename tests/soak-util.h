/* Helpers shared by the soak and fault tests: reaping, RSS, a seeded PRNG,
 * bounded polling (a bound, never a timing assertion). */
#ifndef SBX_SOAK_UTIL_H
#define SBX_SOAK_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/policy.h>
#include <sbx/proto.h>

#include "tap.h"

static inline bool soak_under_valgrind(void)
{
	const char *v = getenv("SBX_UNDER_VALGRIND");

	return v && *v && strcmp(v, "0") != 0;
}

/* Built with AddressSanitizer: RSS figures include its quarantine. */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifndef SOAK_ASAN
#define SOAK_ASAN 0
#endif


/* Resident set size of this process in KiB (from /proc/self/statm). */
static inline long soak_rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		tap_bail("statm");
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		tap_bail("statm parse");
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* xorshift64*: reproducible from the printed seed. */
static uint64_t soak_rng_state = 1;

static inline void soak_seed(const char *test)
{
	const char *s = getenv("SBX_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);

	if (!seed)
		seed = 1;
	soak_rng_state = seed;
	diag("%s: PRNG seed %llu (rerun with SBX_SEED=%llu)", test,
	     (unsigned long long)seed, (unsigned long long)seed);
}

static inline uint32_t soak_rand(uint32_t n)
{
	uint64_t x = soak_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	soak_rng_state = x;
	return n ? (uint32_t)((x * 2685821657736338717ull) >> 32) % n : 0;
}

/* Wait for a condition with a generous bound (10 s): not a timing
 * assertion, only a guard against hanging forever. cond returns true when
 * met. Returns true if met within the bound. */
static inline bool soak_wait_for(bool (*cond)(void *), void *arg)
{
	struct timespec ts = { 0, 1000000 };    /* 1 ms between looks */

	for (int i = 0; i < 10000; i++) {
		if (cond(arg))
			return true;
		nanosleep(&ts, NULL);
	}
	return cond(arg);
}

/* A child's body: sock is its channel (fd 3); keep (fd 4 when the caller
 * passed one, else -1). Returns the child's exit code. */
typedef int (*soak_child_fn)(int sock, int keep, void *arg);

/* Forks a child holding only stdio, its channel end at fd 3 and keep_fd
 * (>= 0) at fd 4; it exits with fn's result (_exit: no sanitizer exit
 * checks of a forked copy). The broker's end goes to b (when b is NULL it
 * is returned in *ret_sock). */
static inline pid_t soak_fork(struct sbx_broker *b, int keep_fd, soak_child_fn fn, void *arg,
			      int *ret_sock)
{
	int sv[2];
	pid_t pid;

	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		if (keep_fd >= 0 && keep_fd != 4) {
			if (sv[1] == 4 && (sv[1] = dup(sv[1])) < 0)
				_exit(98);
			if (dup2(keep_fd, 4) < 0)
				_exit(98);
		}
		if (sv[1] != 3 && dup2(sv[1], 3) < 0)
			_exit(98);
		close_range(keep_fd >= 0 ? 5 : 4, ~0u, 0);
		_exit(fn(3, keep_fd >= 0 ? 4 : -1, arg));
	}
	close(sv[1]);
	if (!b) {
		*ret_sock = sv[0];
		return pid;
	}
	if (sbx_broker_add_child(b, sv[0], pid) < 0)
		tap_bail("add_child");
	return pid;
}

/* The fault tests' fixture: a fresh /tmp/sbx-<tag>-XXXXXX holding one file
 * "f" ("x\n"); dir and file receive the paths (PATH_MAX and more bytes). */
static inline void soak_tree(const char *tag, char *dir, size_t dlen, char *file, size_t flen)
{
	int fd;

	snprintf(dir, dlen, "/tmp/sbx-%s-XXXXXX", tag);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	snprintf(file, flen, "%s/f", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x\n", 2) != 2)
		tap_bail("write %s", file);
	close(fd);
}

/* A policy granting dir read-only, with /dev/null as the named fd "null". */
static inline struct sbx_policy *soak_policy(const char *dir)
{
	struct sbx_policy *p;
	int fd;

	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, dir, SBX_PERM_READ) < 0)
		tap_bail("policy");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sbx_policy_add_fd(p, "null", fd) < 0)
		tap_bail("policy fd");
	close(fd);
	return p;
}

#endif
