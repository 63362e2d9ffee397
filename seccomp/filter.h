/* Internal: seccomp filters built with libseccomp in the parent, installed
 * with a raw seccomp(2) in a forked child (or by sbx_confine in-process). */
#ifndef SBX_SECCOMP_FILTER_H
#define SBX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

/* Profiles. */
enum {
	SBX_PROFILE_DEFAULT = 0,    /* unmodified programs: broad allow-list */
	SBX_PROFILE_STRICT = 1,     /* sbx-aware workers: fds only by recvmsg on chan_fd */
};

/* What a denied syscall gets. */
enum {
	SBX_ACTION_ERRNO = 0,       /* fails with EPERM (the default) */
	SBX_ACTION_KILL = 1,        /* SCMP_ACT_KILL_PROCESS */
	SBX_ACTION_LOG = 2,         /* allowed, logged by the kernel (audit) */
};

struct sbx_filter_spec {
	int profile;                /* SBX_PROFILE_* */
	int action;                 /* SBX_ACTION_* */
	int chan_fd;                /* strict: the only fd recvmsg/sendmsg may use, -1 none */
	bool notify_open;           /* default: open/openat/openat2/creat -> SCMP_ACT_NOTIFY */
	bool trace_denied;          /* denied syscalls -> SCMP_ACT_NOTIFY (supervisor answers EPERM) */
	bool allow_net;             /* socket(AF_INET/AF_INET6) allowed */
	const char *const *allow;   /* extra syscalls allowed, by name */
	size_t nallow;
	const char *const *deny;    /* extra syscalls denied (with action), by name */
	size_t ndeny;
	char *errbuf;               /* optional: why compile failed (names the syscall) */
	size_t errlen;
};

/* A compiled BPF program (struct sock_fprog + its instructions). */
struct sbx_bpf;

/*
 * Build the filter described by spec with libseccomp (native arch only,
 * other arches and x32 numbers kill the process) and export it as BPF.
 * Not async-signal-safe: call it before fork. *ret is set on success only.
 * Returns 0, or -EINVAL (bad profile/action, unknown syscall name: errbuf
 * names it), -ENOMEM, or another -errno from libseccomp.
 */
int sbx_filter_compile(const struct sbx_filter_spec *spec, struct sbx_bpf **ret);

/* The same for the calling process itself (sbx_confine): the strict
 * profile then also lets it signal itself (tgkill/kill on its own pid, for
 * abort()). Returns as sbx_filter_compile. */
int sbx_filter_compile_self(const struct sbx_filter_spec *spec, struct sbx_bpf **ret);

/*
 * As sbx_filter_compile, but always with libseccomp: never the programs
 * precompiled at build time (seccomp/gen-precompiled.c, and the test that
 * checks them). sbx_filter_compile returns a copy of a precompiled program
 * when spec matches one exactly and the running libseccomp is the one that
 * built it; this is the slow path it falls back to.
 * Returns as sbx_filter_compile.
 */
int sbx_filter_compile_libseccomp(const struct sbx_filter_spec *spec, struct sbx_bpf **ret);

/*
 * The instructions of a compiled program: *ret_insns points into bpf
 * (valid until it is freed), *ret_len is their number; *ret_notify (may be
 * NULL) tells whether it has notify actions.
 * Returns 0, or -EINVAL (NULL bpf or out-pointer).
 */
int sbx_bpf_export(const struct sbx_bpf *bpf, const struct sock_filter **ret_insns,
		   size_t *ret_len, bool *ret_notify);

/*
 * A program from len instructions (copied; insns borrowed), e.g. one
 * exported before. notify must say whether it has SCMP_ACT_NOTIFY actions
 * (sbx_filter_install then asks for a listener). The program is not
 * verified here: the kernel checks it when it is installed.
 * Returns 0, or -EINVAL (NULL pointer, len 0 or above BPF_MAXINSNS),
 * -ENOMEM.
 */
int sbx_bpf_import(const struct sock_filter *insns, size_t len, bool notify,
		   struct sbx_bpf **ret);

/* Free a compiled program. NULL-safe, returns NULL. */
struct sbx_bpf *sbx_bpf_free(struct sbx_bpf *bpf);

/* True when the program has SCMP_ACT_NOTIFY actions (install returns a listener). */
bool sbx_bpf_has_notify(const struct sbx_bpf *bpf);

/* Number of BPF instructions (for reports and benchmarks). */
size_t sbx_bpf_len(const struct sbx_bpf *bpf);

/*
 * Install bpf on the calling thread with a raw seccomp(2). Async-signal-safe:
 * for a forked child before execve. The caller must have set
 * PR_SET_NO_NEW_PRIVS (or hold CAP_SYS_ADMIN). When the program has notify
 * actions, SECCOMP_FILTER_FLAG_NEW_LISTENER is used (with
 * WAIT_KILLABLE_RECV when the kernel accepts it) and *ret_listener receives
 * the listener fd (close-on-exec; pass it to the supervisor, then close it);
 * otherwise *ret_listener is set to -1. ret_listener may be NULL only for a
 * program without notify actions.
 * Returns 0, or -EINVAL (NULL bpf, or notify without ret_listener),
 * -ENOSYS (no seccomp(2), e.g. denied by an outer filter), -EACCES (no
 * no_new_privs and no CAP_SYS_ADMIN), or another -errno from seccomp(2).
 */
int sbx_filter_install(const struct sbx_bpf *bpf, int *ret_listener);

/*
 * Write the filter described by spec as libseccomp's PFC text to fd
 * (borrowed). Returns 0, or the same errors as sbx_filter_compile, or
 * -errno from writing.
 */
int sbx_filter_dump(const struct sbx_filter_spec *spec, int fd);

/* Name of native syscall nr, or NULL when unknown. The string is static. */
const char *sbx_syscall_name(int nr);

#endif
