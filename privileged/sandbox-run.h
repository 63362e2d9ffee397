/* Internal to the sandbox-run executable: options, status output, run loop. */
#ifndef SBX_SANDBOX_RUN_H
#define SBX_SANDBOX_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "privileged/spawn.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1.0"
#endif

#define RUN_EXIT_TIMEOUT 124
#define RUN_EXIT_FAILURE 125

enum run_landlock { RUN_LANDLOCK_AUTO, RUN_LANDLOCK_REQUIRE, RUN_LANDLOCK_OFF };

struct run_path { const char *path; unsigned perms; };
struct run_named { char *name; char *value; bool rw; };   /* --fd, --listen, --connect */

#define RUN_MAX_RLIMITS 16

struct run_opts {
	char **argv;                    /* program and its arguments (borrowed) */
	struct run_path *paths; size_t npaths;
	struct run_named *fds; size_t nfds;
	struct run_named *listens; size_t nlistens;
	struct run_named *connects; size_t nconnects;
	const char **policy_files; size_t npolicy_files;
	const char *user;
	unsigned ns;
	int landlock;                   /* enum run_landlock */
	int profile;                    /* SBX_PROFILE_* */
	const char *seccomp_file;       /* --seccomp=FILE */
	const char **allow; size_t nallow;
	const char **deny; size_t ndeny;
	int action;                     /* SBX_ACTION_* */
	bool dump_seccomp;
	unsigned timeout;               /* seconds, 0 none */
	struct spawn_rlimit rlimits[RUN_MAX_RLIMITS]; size_t nrlimits;
	const char **env; size_t nenv;  /* K=V */
	bool clearenv;
	const char *chdir;
	const char *audit;
	int verbose;
	int json_fd;                    /* -1 none */
	bool trace_denied;              /* --trace-denied: name each denied syscall (notify) */
	bool no_default_grants;         /* --no-default-grants: no built-in runtime grant */
	bool allow_net;                 /* --allow-net: socket(AF_INET/AF_INET6) allowed */
};

/* Parse argv into o. Returns 0, 1 when --help/--version was printed (exit 0),
 * or -1 after printing "sandbox-run: --opt: reason" (exit 125). */
int run_parse(int argc, char **argv, struct run_opts *o);
void run_opts_free(struct run_opts *o);

/* Print "sandbox-run: what: strerror(err)" (err positive) to stderr. */
void run_err(const char *what, int err);
void run_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Names without a name service (sandbox-run-names.c): no NSS module is
 * loaded into sandbox-run. USER is a name in /etc/passwd or a decimal uid
 * (its /etc/passwd group, else the gid of the same number). Returns 0 with
 * *ret_uid and *ret_gid set, or -1 after printing "sandbox-run: --user: ...". */
int run_lookup_user(const char *user, uid_t *ret_uid, gid_t *ret_gid);

struct run_addr { struct sockaddr_storage ss; socklen_t len; };
/* HOST: a numeric IPv4 or IPv6 address (IPv6 may carry %scope), "localhost"
 * (127.0.0.1 then ::1; refused with numeric_only), or empty or NULL (the
 * wildcard: 0.0.0.0 then ::). family: AF_UNSPEC, AF_INET or AF_INET6 keeps
 * only that family. port in host order. Returns how many of ret[2] were
 * filled, or 0 when HOST is not one of these (then, unless numeric_only,
 * run_refused_host() returns it). */
int run_resolve(const char *host, unsigned port, int family, bool numeric_only,
		struct run_addr ret[2]);
/* The last host run_resolve refused (truncated to 63 bytes), or NULL. */
const char *run_refused_host(void);

/* What was applied, for -v and --json-status-fd (sandbox-run-status.c). */
struct run_layers {
	const char *profile;            /* "default", "strict", "default+FILE" */
	const char *action;
	size_t bpf_len;
	bool opens_brokered;            /* seccomp notify serves open() */
	int landlock_abi;               /* 0: off */
	const char *landlock_why;       /* why off */
	size_t landlock_rules;
	unsigned ns;
	uid_t uid; gid_t gid; bool id_changed;
	bool caps_dropped;
	struct spawn_features kernel;
};

void status_init(int verbose, int json_fd);
void status_setup(const struct run_layers *l);
void status_started(pid_t pid);
/* A --listen socket, with the address really bound (port 0 resolved). */
void status_listen(const char *name, const char *addr);
void status_error(const char *step, int err);
void status_timeout(unsigned secs);
/* code >= 0: exited with code; else killed by signal -code. */
void status_exit(int code, int sig);
/* Hook for the notify work: one denied syscall. */
void status_denial(pid_t pid, const char *syscall_name, unsigned long count);

/* The run loop (sandbox-run-loop.c). */
struct sbx_broker;
struct loop_args {
	pid_t pid;
	int pidfd;
	int sigfd;
	struct sbx_broker *broker;      /* may be NULL */
	unsigned timeout;
};
/* Block the forwarded signals and SIGCHLD; returns a signalfd or -errno. */
int loop_block_signals(void);
/* Serve until the worker exits; returns sandbox-run's exit status. */
int loop_run(const struct loop_args *a);
/* SIGKILL and reap every remaining child (we are the subreaper). */
void loop_kill_descendants(pid_t worker);

#endif
