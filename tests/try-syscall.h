/* Escape-test helpers: probe a syscall in a confined child, with bad fds or
 * pointers so that a call seccomp lets through fails harmlessly (EBADF,
 * EFAULT, ...) and is told apart from a refusal (EPERM) or a kill (SIGSYS). */
#ifndef SBX_TRY_SYSCALL_H
#define SBX_TRY_SYSCALL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define BAD_PTR ((long)1)          /* never mapped: EFAULT */
#define BAD_FD  ((long)-1)         /* EBADF */
#define NO_PID  ((long)0x3ffffff0) /* no such process: ESRCH */

/* Run syscall nr; returns its result (>= 0) or -errno. */
static inline long try_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long r;

	errno = 0;
	r = syscall(nr, a0, a1, a2, a3, a4, a5);
	return r < 0 ? -errno : r;
}

/* What came back from a probe run in a confined child. */
struct probe_result {
	bool ran;       /* the child reported a value */
	long value;     /* the probe's return: >= 0 or -errno */
	int sig;        /* the child died of this signal (SIGSYS: seccomp kill) */
	int status;     /* exit status when it exited */
	char why[96];   /* child's setup failure, if any */
};

/* Parse "Key:\t<value>" from a /proc status text; -1 when absent. */
static inline long long status_field(const char *text, const char *key, int base)
{
	const char *p = strstr(text, key);

	if (!p)
		return -1;
	return strtoll(p + strlen(key), NULL, base);
}

/* Read /proc/self/status through an fd opened before confinement (the
 * strict profile refuses open and prctl). Returns bytes or -errno. */
static inline int read_status(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/*
 * True when the process is confined: Seccomp 2, NoNewPrivs 1, CapEff 0.
 * Escape probes run only after this said yes.
 */
static inline bool confined_check(int status_fd)
{
	char buf[4096];

	if (read_status(status_fd, buf, sizeof(buf)) < 0)
		return false;
	return status_field(buf, "Seccomp:", 10) == 2 &&
	       status_field(buf, "NoNewPrivs:", 10) == 1 &&
	       status_field(buf, "CapEff:", 16) == 0;
}

/* Child side: report a value, or a setup failure, on the result pipe. */
static inline void probe_report(int fd, long value, const char *why)
{
	struct { long value; char why[96]; } m = { value, "" };

	if (why)
		snprintf(m.why, sizeof(m.why), "%s", why);
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(3);
}

/* Parent side: collect what the child at pid wrote on fd (then closed). */
static inline void probe_collect(pid_t pid, int fd, struct probe_result *r)
{
	struct { long value; char why[96]; } m;
	ssize_t n;
	int st;

	memset(r, 0, sizeof(*r));
	do
		n = read(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == (ssize_t)sizeof(m)) {
		m.why[sizeof(m.why) - 1] = '\0';
		if (m.why[0])
			snprintf(r->why, sizeof(r->why), "%s", m.why);
		else
			r->ran = true;
		r->value = m.value;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st))
		r->sig = WTERMSIG(st);
	else
		r->status = WEXITSTATUS(st);
}

static inline bool under_valgrind(void)
{
	const char *v = getenv("SBX_UNDER_VALGRIND");

	return v && *v && strcmp(v, "0") != 0;
}

/* Describe a result for diagnostics. */
static inline void probe_diag(const char *what, const struct probe_result *r)
{
	if (r->sig)
		diag("  %s: killed by signal %d", what, r->sig);
	else if (!r->ran)
		diag("  %s: no result (%s), exit %d", what, r->why[0] ? r->why : "-", r->status);
	else if (r->value < 0)
		diag("  %s: %s", what, strerror((int)-r->value));
	else
		diag("  %s: returned %ld", what, r->value);
}

#endif
