/* sandbox-run: what the user is told. -v lines on stderr, and JSON lines on
 * --json-status-fd (one object per event, each with an "event" key). One
 * function per event so other parts (seccomp notify denials) add lines
 * without touching the run loop. Write errors are ignored: reporting never
 * changes the worker's fate. */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privileged/sandbox-run.h"

static int st_verbose;
static int st_json = -1;

void status_init(int verbose, int json_fd)
{
	st_verbose = verbose;
	st_json = json_fd;
}

static void json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void json(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (st_json < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(st_json, buf, (size_t)n);
}

/* Names from sandbox-run's own tables only: no escaping needed. */
static const char *ns_list(unsigned ns, char *buf, size_t len)
{
	static const char *const names[] = { "user", "net", "ipc", "uts", "pid", "mount" };
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 6; i++)
		if (ns & (1u << i))
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "," : "", names[i]);
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void status_setup(const struct run_layers *l)
{
	char ns[64];

	ns_list(l->ns, ns, sizeof(ns));
	if (st_verbose) {
		const struct spawn_features *k = &l->kernel;

		fprintf(stderr, "sandbox-run: kernel: landlock ABI %d, close_range %s, openat2 %s, "
			"clone3 %s, user namespaces %s, seccomp notify %s\n",
			k->landlock_abi, yes_no(k->close_range), yes_no(k->openat2), yes_no(k->clone3),
			yes_no(k->userns), yes_no(k->seccomp_notify));
		fprintf(stderr, "sandbox-run: seccomp: %s profile, %zu instructions, denied -> %s%s\n",
			l->profile, l->bpf_len, l->action,
			l->opens_brokered ? ", opens brokered (seccomp notify)" : "");
		if (l->landlock_abi)
			fprintf(stderr, "sandbox-run: landlock: ABI %d, %zu rules\n",
				l->landlock_abi, l->landlock_rules);
		else
			fprintf(stderr, "sandbox-run: landlock: off (%s)\n", l->landlock_why);
		fprintf(stderr, "sandbox-run: namespaces: %s\n", ns);
		fprintf(stderr, "sandbox-run: uid %u gid %u%s; capabilities %s; no_new_privs yes\n",
			(unsigned)l->uid, (unsigned)l->gid,
			l->id_changed ? " (changed, supplementary groups dropped)" : " (unchanged)",
			l->caps_dropped ? "none" : "kept");
	}
	json("{\"event\":\"setup\",\"seccomp\":\"%s\",\"seccomp_action\":\"%s\","
	     "\"bpf_len\":%zu,\"opens_brokered\":%s,\"landlock_abi\":%d,\"landlock_rules\":%zu,"
	     "\"namespaces\":\"%s\",\"uid\":%u,\"gid\":%u,\"caps\":\"%s\",\"no_new_privs\":true}",
	     l->profile, l->action, l->bpf_len, l->opens_brokered ? "true" : "false",
	     l->landlock_abi, l->landlock_rules, ns, (unsigned)l->uid, (unsigned)l->gid,
	     l->caps_dropped ? "none" : "kept");
}

void status_listen(const char *name, const char *addr)
{
	if (st_verbose)
		fprintf(stderr, "sandbox-run: listening: %s on %s\n", name, addr);
	/* name is checked ([A-Za-z0-9_.-]); addr is numeric or a path we
	 * bound: escape the two characters JSON cares about. */
	if (st_json >= 0) {
		char esc[300];
		size_t o = 0;

		for (const char *c = addr; *c && o < sizeof(esc) - 3; c++) {
			if (*c == '"' || *c == '\\')
				esc[o++] = '\\';
			esc[o++] = (unsigned char)*c < 0x20 ? '?' : *c;
		}
		esc[o] = '\0';
		json("{\"event\":\"listen\",\"name\":\"%s\",\"addr\":\"%s\"}", name, esc);
	}
}

void status_started(pid_t pid)
{
	if (st_verbose)
		fprintf(stderr, "sandbox-run: worker pid %d\n", (int)pid);
	json("{\"event\":\"started\",\"pid\":%d}", (int)pid);
}

void status_error(const char *step, int err)
{
	fprintf(stderr, "sandbox-run: %s: %s\n", step, strerror(err));
	json("{\"event\":\"error\",\"step\":\"%s\",\"errno\":%d,\"message\":\"%s\"}", step, err,
	     strerror(err));
}

void status_timeout(unsigned secs)
{
	fprintf(stderr, "sandbox-run: timeout: worker killed after %u s\n", secs);
	json("{\"event\":\"timeout\",\"seconds\":%u}", secs);
}

void status_exit(int code, int sig)
{
	if (sig == SIGSYS) {
		/* Only the signal reaches us; the kernel's audit log names the call. */
		fprintf(stderr, "sandbox-run: worker killed by seccomp (SIGSYS): a denied system "
			"call under --seccomp-action=kill (--trace-denied names it)\n");
		json("{\"event\":\"exit\",\"signal\":%d,\"seccomp\":true}", sig);
	} else if (sig) {
		if (st_verbose)
			fprintf(stderr, "sandbox-run: worker killed by signal %d (%s)\n", sig,
				strsignal(sig));
		json("{\"event\":\"exit\",\"signal\":%d}", sig);
	} else {
		if (st_verbose)
			fprintf(stderr, "sandbox-run: worker exited with status %d\n", code);
		json("{\"event\":\"exit\",\"code\":%d}", code);
	}
}

void status_denial(pid_t pid, const char *syscall_name, unsigned long count)
{
	json("{\"event\":\"denied\",\"pid\":%d,\"syscall\":\"%s\",\"count\":%lu}", (int)pid,
	     syscall_name, count);
}
