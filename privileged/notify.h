/* Internal: seccomp user notification served by the privileged side.
 *
 * An unmodified worker's open/openat/openat2/creat trap with SCMP_ACT_NOTIFY;
 * the parent reads the path out of the worker's memory, decides with
 * sbx_policy_open (the same engine as explicit broker requests), opens the
 * file itself and injects the fd with SECCOMP_IOCTL_NOTIF_ADDFD
 * (ADDFD_FLAG_SEND), or answers -errno. Any other notified syscall is a
 * traced denial (filter spec.trace_denied): reported once per syscall and
 * answered -EPERM (or the configured errno). See doc/notify.md.
 * Not part of libsbx's ABI. */
#ifndef SBX_NOTIFY_H
#define SBX_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbx_broker;
struct sbx_policy;

/* One denied syscall, as reported to notify_opts.on_denial. */
struct notify_denial {
	pid_t pid;              /* thread that made the call (our pid namespace) */
	int nr;                 /* syscall number (native arch) */
	const char *name;       /* its name, or "syscall_<nr>" when unknown */
	uint64_t args[6];
	unsigned long count;    /* times this syscall was denied so far (1 = first) */
};

/* Per-syscall summary of the denials, shared by every listener of one run
 * (the listener may outlive the summary's reader: the caller owns it). */
struct notify_report;

struct notify_opts {
	/* errno answered to a traced denial; 0 means EPERM. */
	int deny_errno;
	/* --seccomp-action=log: report the denial, then let the syscall run
	 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE). Never used for a path decision:
	 * opens are always decided by the policy. */
	bool log_only;
	/* Called once per syscall number, the first time it is denied (and not
	 * again for later denials of the same syscall). May be NULL. */
	void (*on_denial)(const struct notify_denial *d, void *ud);
	void *ud;
	/* Summary to count denials in (borrowed; must outlive the listener).
	 * May be NULL: then the "once per syscall" memory is per listener. */
	struct notify_report *report;
	/* Called for every open decision (err 0 = granted, else the positive
	 * errno answered; path as resolved, NULL when unreadable), with
	 * open_ud. notify_attach sets it to the broker's audit when NULL. */
	void (*on_open)(pid_t pid, const char *path, int flags, int err, void *open_ud);
	void *open_ud;
};

/* A served listener. */
struct notify_ctx;

/* Take the listener fd (CONSUMED on every path, errors included) of a filter
 * installed by the worker pid, served against policy p (borrowed: must
 * outlive the ctx). o is copied (NULL: defaults).
 * Returns 0 and sets *ret, or -ENOMEM, -EINVAL (bad args), -errno of
 * seccomp(SECCOMP_GET_NOTIF_SIZES). */
int notify_ctx_new(const struct sbx_policy *p, int listener, pid_t pid,
		   const struct notify_opts *o, struct notify_ctx **ret);
/* Close the listener and free. NULL-safe; returns NULL. */
struct notify_ctx *notify_ctx_free(struct notify_ctx *ctx);
/* The listener fd (borrowed), to poll for POLLIN (a notification) and
 * POLLHUP (every task using the filter is gone). */
int notify_ctx_fd(const struct notify_ctx *ctx);

/* Receive one notification (blocks if none is pending: call when the fd
 * polls readable) and answer it.
 * Returns 1 when a notification was handled (answered, or dropped because
 * its thread died meanwhile), 0 when there was nothing to receive
 * (NOTIF_RECV gave ENOENT: a notification vanished, or the filter has no
 * users left; poll tells which), or -errno of the ioctl for anything else
 * (the caller should drop the listener). */
int notify_handle_one(struct notify_ctx *ctx);

/* Blocking loop for tests and simple supervisors: poll and handle until the
 * listener hangs up (all tasks using the filter gone).
 * Returns 0 at hang-up, or -errno of poll/notify_handle_one. */
int notify_serve(struct notify_ctx *ctx);

/* Register the listener (CONSUMED on every path) with the broker's poll loop
 * (broker_watch), served against broker_policy(b). On POLLHUP the listener
 * is unwatched and closed, and so it is when the broker is freed first.
 * o is copied (NULL: defaults); o->report stays borrowed.
 * Returns 0, or -ENOMEM, -EINVAL, or -errno of broker_watch. */
int notify_attach(struct sbx_broker *b, int listener, pid_t pid, const struct notify_opts *o);

/* The summary of denials. */
int notify_report_new(struct notify_report **ret);
struct notify_report *notify_report_free(struct notify_report *r);
/* Count one denial of nr. Returns the count after this one (1 = first), or
 * -ENOMEM. */
long notify_report_add(struct notify_report *r, int nr);
/* Number of distinct syscalls denied. */
unsigned notify_report_count(const struct notify_report *r);
/* Write the paste-back summary to fd (borrowed): one line of
 * `--allow-syscall NAME` options and a policy-file section of
 * `allow-syscall NAME` lines, each prefixed by prefix (e.g. "sandbox-run: ").
 * Nothing is written when nothing was denied.
 * Returns 0, or -errno of write(2). */
int notify_report_write(const struct notify_report *r, int fd, const char *prefix);

/* Name of syscall nr on the native architecture, written to buf (always
 * NUL-terminated; "syscall_<nr>" when unknown). Returns buf. */
const char *notify_syscall_name(int nr, char *buf, size_t len);

/* The built-in runtime grant (privileged/notify-grants.c): read-only rules
 * the dynamic loader, libc, locales, time zones and the harmless devices
 * need. Paths absent on this system are skipped.
 * Returns 0, or -errno of the first sbx_policy_add_path that failed for
 * another reason than a missing path. */
int notify_default_grants(struct sbx_policy *p);
/* The list itself (NULL-terminated arrays of path and perms), for --help. */
struct notify_grant {
	const char *path;
	unsigned perms;
};
extern const struct notify_grant notify_grants[];
/* True for the paths answered ENOENT without asking the policy
 * (/etc/ld.so.preload: a preload list is never honoured in the sandbox). */
bool notify_quiet_enoent(const char *path);

#endif
