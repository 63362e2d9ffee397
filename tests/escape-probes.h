/* The escape matrix shared by escape-default.c and escape-strict.c: every
 * probe is a real attempt, made from a forked child after it checked it is
 * confined, with arguments that fail harmlessly if the call gets through. */
#ifndef SBX_ESCAPE_PROBES_H
#define SBX_ESCAPE_PROBES_H

#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <grp.h>
#include <sched.h>

#include "sbx/proto.h"
#include "seccomp/filter.h"
#include "try-syscall.h"

#define NOBODY 65534

/* Fixed fd numbers inside the probe child. */
#define FD_RESULT 10
#define FD_STATUS 11
#define FD_CHAN   12

/* Expectations. */
enum {
	E_NA = 0,       /* not run under this profile */
	E_DENY,         /* EPERM with the errno action, SIGSYS with kill */
	E_KILL,         /* SIGSYS whatever the action (bad arch) */
	E_REFUSED,      /* EPERM or SIGSYS (x32) */
	E_VAL,          /* returned exactly want, under both actions */
	E_NONNEG,       /* returned >= 0, under both actions */
};

struct probe {
	const char *name;
	long (*fn)(void);
	int def;        /* expectation under the default profile */
	int strict;     /* ... under the strict profile */
	long want;      /* for E_VAL */
};

static const char *suid_path;   /* setuid-root copy of id(1), or NULL */

static __attribute__((unused)) long p_open(void) { return try_syscall(SYS_open, BAD_PTR, O_RDONLY, 0, 0, 0, 0); }
static __attribute__((unused)) long p_openat(void) { return try_syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY, 0, 0, 0); }
static __attribute__((unused)) long p_openat2(void) { return try_syscall(SYS_openat2, AT_FDCWD, BAD_PTR, BAD_PTR, 24, 0, 0); }
static __attribute__((unused)) long p_creat(void) { return try_syscall(SYS_creat, BAD_PTR, 0600, 0, 0, 0, 0); }
static __attribute__((unused)) long p_memfd(void) { return try_syscall(SYS_memfd_create, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_execve(void) { return try_syscall(SYS_execve, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_inet(void) { return try_syscall(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0); }
static __attribute__((unused)) long p_inet6(void) { return try_syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0, 0, 0, 0); }
static __attribute__((unused)) long p_inet_hi(void) { return try_syscall(SYS_socket, (1L << 32) | AF_INET, SOCK_STREAM, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unix_hi(void) { return try_syscall(SYS_socket, (1L << 32) | AF_UNIX, SOCK_STREAM, 0, 0, 0, 0); }
static __attribute__((unused)) long p_packet(void) { return try_syscall(SYS_socket, 17 /* AF_PACKET */, SOCK_RAW, 0, 0, 0, 0); }
static __attribute__((unused)) long p_raw(void) { return try_syscall(SYS_socket, AF_INET, SOCK_RAW, 1, 0, 0, 0); }
static __attribute__((unused)) long p_netlink(void) { return try_syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unix(void) { return try_syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0); }
static __attribute__((unused)) long p_ptrace(void) { return try_syscall(SYS_ptrace, 16 /* ATTACH */, NO_PID, 0, 0, 0, 0); }
static __attribute__((unused)) long p_vm_writev(void) { return try_syscall(SYS_process_vm_writev, getpid(), BAD_PTR, 1, BAD_PTR, 1, 0); }
static __attribute__((unused)) long p_vm_readv(void) { return try_syscall(SYS_process_vm_readv, getpid(), BAD_PTR, 1, BAD_PTR, 1, 0); }
static __attribute__((unused)) long p_mount(void) { return try_syscall(SYS_mount, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_umount(void) { return try_syscall(SYS_umount2, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_pivot(void) { return try_syscall(SYS_pivot_root, BAD_PTR, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_chroot(void) { return try_syscall(SYS_chroot, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_fsopen(void) { return try_syscall(SYS_fsopen, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unshare_user(void) { return try_syscall(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unshare_net(void) { return try_syscall(SYS_unshare, CLONE_NEWNET, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unshare_time(void) { return try_syscall(SYS_unshare, 0x80 /* CLONE_NEWTIME */, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_unshare_files(void) { return try_syscall(SYS_unshare, CLONE_FILES, 0, 0, 0, 0, 0); }
/* CLONE_NEWUSER with CLONE_FS is EINVAL if it ever gets through. */
static __attribute__((unused)) long p_clone_ns(void) { return try_syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_clone_newns(void) { return try_syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_clone3(void) { return try_syscall(SYS_clone3, BAD_PTR, 88, 0, 0, 0, 0); }
static __attribute__((unused)) long p_setns(void) { return try_syscall(SYS_setns, BAD_FD, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_bpf(void) { return try_syscall(SYS_bpf, 0, BAD_PTR, 8, 0, 0, 0); }
static __attribute__((unused)) long p_perf(void) { return try_syscall(SYS_perf_event_open, BAD_PTR, 0, -1, -1, 0, 0); }
static __attribute__((unused)) long p_uffd(void) { return try_syscall(SYS_userfaultfd, 1 | 2, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_uring(void) { return try_syscall(SYS_io_uring_setup, 1, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_keyctl(void) { return try_syscall(SYS_keyctl, KEYCTL_DESCRIBE, NO_PID, BAD_PTR, 10, 0, 0); }
static __attribute__((unused)) long p_add_key(void) { return try_syscall(SYS_add_key, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_request_key(void) { return try_syscall(SYS_request_key, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_obha(void) { return try_syscall(SYS_open_by_handle_at, BAD_FD, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_nthat(void) { return try_syscall(SYS_name_to_handle_at, AT_FDCWD, BAD_PTR, BAD_PTR, BAD_PTR, 0, 0); }
static __attribute__((unused)) long p_kexec(void) { return try_syscall(SYS_kexec_load, 0, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_kexec_file(void) { return try_syscall(SYS_kexec_file_load, BAD_FD, BAD_FD, 0, 0, 0, 0); }
static __attribute__((unused)) long p_init_module(void) { return try_syscall(SYS_init_module, BAD_PTR, 0, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_finit_module(void) { return try_syscall(SYS_finit_module, BAD_FD, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_delete_module(void) { return try_syscall(SYS_delete_module, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_reboot(void) { return try_syscall(SYS_reboot, 0, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_swapon(void) { return try_syscall(SYS_swapon, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_settime(void) { return try_syscall(SYS_settimeofday, BAD_PTR, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_clock_settime(void) { return try_syscall(SYS_clock_settime, 0, BAD_PTR, 0, 0, 0, 0); }
static __attribute__((unused)) long p_adjtimex(void) { return try_syscall(SYS_adjtimex, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_acct(void) { return try_syscall(SYS_acct, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_syslog(void) { return try_syscall(SYS_syslog, 3, BAD_PTR, 10, 0, 0, 0); }
static __attribute__((unused)) long p_pers32(void) { return try_syscall(SYS_personality, 0x0008 /* PER_LINUX32 */, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_pers_q(void) { return try_syscall(SYS_personality, 0xffffffffL, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_kcmp(void) { return try_syscall(SYS_kcmp, getpid(), getpid(), 0, BAD_FD, BAD_FD, 0); }
static __attribute__((unused)) long p_pidfd_getfd(void) { return try_syscall(SYS_pidfd_getfd, BAD_FD, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_iopl(void) { return try_syscall(SYS_iopl, 3, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_ioperm(void) { return try_syscall(SYS_ioperm, 0x80, 1, 1, 0, 0, 0); }
static __attribute__((unused)) long p_uselib(void) { return try_syscall(SYS_uselib, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_vhangup(void) { return try_syscall(SYS_vhangup, 0, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_quotactl(void) { return try_syscall(SYS_quotactl, 0, BAD_PTR, 0, BAD_PTR, 0, 0); }
static __attribute__((unused)) long p_modify_ldt(void) { return try_syscall(SYS_modify_ldt, 0, BAD_PTR, 0, 0, 0, 0); }
/* fd 0 is /dev/null in the probe child: a TIOCSTI that got through would
 * fail with ENOTTY, never type into a terminal. */
static __attribute__((unused)) long p_tiocsti0(void) { return try_syscall(SYS_ioctl, 0, TIOCSTI, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_tiocsti(void) { return try_syscall(SYS_ioctl, BAD_FD, TIOCSTI, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_tiocsti_hi(void) { return try_syscall(SYS_ioctl, BAD_FD, (1L << 32) | TIOCSTI, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_tioclinux(void) { return try_syscall(SYS_ioctl, BAD_FD, TIOCLINUX, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_tcgets(void) { return try_syscall(SYS_ioctl, BAD_FD, TCGETS, BAD_PTR, 0, 0, 0); }
static __attribute__((unused)) long p_fionread(void) { return try_syscall(SYS_ioctl, BAD_FD, FIONREAD, BAD_PTR, 0, 0, 0); }

/* i386 getpid through int 0x80: the arch check must kill. */
static __attribute__((unused)) long p_int80(void)
{
#if defined(__x86_64__)
	long r = 20;

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return r;
#else
	return -ENOSYS;
#endif
}

/* x32 getpid (nr | 0x40000000): refused or killed, never run. */
static __attribute__((unused)) long p_x32(void) { return try_syscall(0x40000000L | 39, 0, 0, 0, 0, 0, 0); }

static __attribute__((unused)) long p_setuid0(void)
{
	long r = try_syscall(SYS_setuid, 0, 0, 0, 0, 0, 0);

	return r == 0 || geteuid() == 0 ? 1000 : r;
}

static __attribute__((unused)) long p_nnp_prctl(void) { return try_syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0); }

/* 1 when the status file shows no_new_privs and no capabilities (CapBnd is
 * left alone by an unprivileged drop: checked only after a root drop). */
static __attribute__((unused)) long p_caps_status(void)
{
	char buf[4096];

	if (read_status(FD_STATUS, buf, sizeof(buf)) < 0)
		return -EIO;
	if (status_field(buf, "NoNewPrivs:", 10) != 1)
		return 2;
	if (status_field(buf, "CapEff:", 16) || status_field(buf, "CapPrm:", 16) ||
	    status_field(buf, "CapInh:", 16) || status_field(buf, "CapAmb:", 16))
		return 3;
	if (status_field(buf, "Uid:", 10) != NOBODY)
		return 4;
	return 1;
}

static __attribute__((unused)) long p_bnd_status(void)
{
	char buf[4096];

	if (read_status(FD_STATUS, buf, sizeof(buf)) < 0)
		return -EIO;
	return status_field(buf, "CapBnd:", 16) == 0 ? 1 : 0;
}

/* Number of open fds besides 0-2 and the harness's own. */
static __attribute__((unused)) long p_fds(void)
{
	long extra = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fd <= 2 || fd == FD_RESULT || fd == FD_STATUS || fd == FD_CHAN)
			continue;
		if (fcntl(fd, F_GETFD) >= 0)
			extra++;
	}
	return extra;
}

/* Run the setuid-root id(1) copy: the euid it reports (never 0 here). */
static __attribute__((unused)) long p_suid(void)
{
	char out[32] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (!suid_path)
		return -ENOENT;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[] = { (char *)"id", (char *)"-u", NULL };
		char *envp[] = { NULL };

		dup2(p[1], 1);
		execve(suid_path, argv, envp);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -ECHILD;
	out[n] = '\0';
	return strtol(out, NULL, 10);
}

/* Strict: fds enter only by recvmsg on the channel, close-on-exec. */
static __attribute__((unused)) long p_recv_chan(void)
{
	struct sbx_msg *m = malloc(sizeof(*m));
	long r;

	if (!m)
		return -ENOMEM;
	r = sbx_msg_recv(FD_CHAN, m, 1);
	if (r == 1)
		r = m->nfds == 1 && fd_is_cloexec(m->fds[0]) ? 1 : -EBADMSG;
	sbx_msg_clear(m);
	free(m);
	return r;
}

static __attribute__((unused)) long recv_raw(int fd, int flags)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cb;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.b, .msg_controllen = sizeof(cb.b) };

	return try_syscall(SYS_recvmsg, fd, (long)&mh, flags | MSG_DONTWAIT, 0, 0, 0);
}

static __attribute__((unused)) long p_recv_nocloexec(void) { return recv_raw(FD_CHAN, 0); }
static __attribute__((unused)) long p_recv_other(void) { return recv_raw(FD_STATUS, MSG_CMSG_CLOEXEC); }
static __attribute__((unused)) long p_recvmmsg(void) { return try_syscall(SYS_recvmmsg, FD_CHAN, BAD_PTR, 1, MSG_CMSG_CLOEXEC, 0, 0); }
static __attribute__((unused)) long p_send_chan(void) { return sbx_msg_send(FD_CHAN, 7, 1, "x", 1, NULL, 0); }
static __attribute__((unused)) long p_send_other(void)
{
	struct iovec iov = { (void *)"x", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	return try_syscall(SYS_sendmsg, FD_STATUS, (long)&mh, MSG_NOSIGNAL, 0, 0, 0);
}
static __attribute__((unused)) long p_socketpair(void) { return try_syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BAD_PTR, 0, 0); }
static __attribute__((unused)) long p_pipe(void) { return try_syscall(SYS_pipe2, BAD_PTR, 0, 0, 0, 0, 0); }
static __attribute__((unused)) long p_accept(void) { return try_syscall(SYS_accept4, FD_CHAN, 0, 0, SOCK_CLOEXEC, 0, 0); }

static const struct probe probes[] = {
	{ "open",                   p_open,          E_VAL,  E_DENY, -EFAULT },
	{ "openat",                 p_openat,        E_VAL,  E_DENY, -EFAULT },
	{ "openat2",                p_openat2,       E_VAL,  E_DENY, -EFAULT },
	{ "creat",                  p_creat,         E_VAL,  E_DENY, -EFAULT },
	{ "memfd_create",           p_memfd,         E_VAL,  E_DENY, -EFAULT },
	{ "execve",                 p_execve,        E_VAL,  E_DENY, -EFAULT },
	{ "socket(AF_INET) no net", p_inet,          E_DENY, E_DENY, 0 },
	{ "socket(AF_INET6) no net", p_inet6,        E_DENY, E_DENY, 0 },
	{ "socket(AF_INET|1<<32)",  p_inet_hi,       E_DENY, E_DENY, 0 },
	{ "socket(AF_UNIX|1<<32)",  p_unix_hi,       E_DENY, E_DENY, 0 },
	{ "socket(AF_PACKET)",      p_packet,        E_DENY, E_DENY, 0 },
	{ "socket(AF_INET, SOCK_RAW)", p_raw,        E_DENY, E_DENY, 0 },
	{ "socket(AF_NETLINK) no net", p_netlink,    E_DENY, E_DENY, 0 },
	{ "socket(AF_UNIX)",        p_unix,          E_NONNEG, E_DENY, 0 },
	{ "socketpair",             p_socketpair,    E_VAL,  E_DENY, -EFAULT },
	{ "pipe2",                  p_pipe,          E_VAL,  E_DENY, -EFAULT },
	{ "accept4 on the channel", p_accept,        E_NA,   E_DENY, 0 },
	{ "ptrace",                 p_ptrace,        E_DENY, E_DENY, 0 },
	{ "process_vm_writev",      p_vm_writev,     E_DENY, E_DENY, 0 },
	{ "process_vm_readv",       p_vm_readv,      E_DENY, E_DENY, 0 },
	{ "mount",                  p_mount,         E_DENY, E_DENY, 0 },
	{ "umount2",                p_umount,        E_DENY, E_DENY, 0 },
	{ "pivot_root",             p_pivot,         E_DENY, E_DENY, 0 },
	{ "chroot",                 p_chroot,        E_DENY, E_DENY, 0 },
	{ "fsopen",                 p_fsopen,        E_DENY, E_DENY, 0 },
	{ "unshare(CLONE_NEWUSER)", p_unshare_user,  E_DENY, E_DENY, 0 },
	{ "unshare(CLONE_NEWNET)",  p_unshare_net,   E_DENY, E_DENY, 0 },
	{ "unshare(CLONE_NEWTIME)", p_unshare_time,  E_DENY, E_DENY, 0 },
	{ "unshare(CLONE_FILES)",   p_unshare_files, E_VAL,  E_DENY, 0 },
	{ "clone(CLONE_NEWUSER)",   p_clone_ns,      E_DENY, E_DENY, 0 },
	{ "clone(CLONE_NEWNS)",     p_clone_newns,   E_DENY, E_DENY, 0 },
	{ "clone3 -> ENOSYS",       p_clone3,        E_VAL,  E_DENY, -ENOSYS },
	{ "setns",                  p_setns,         E_DENY, E_DENY, 0 },
	{ "bpf",                    p_bpf,           E_DENY, E_DENY, 0 },
	{ "perf_event_open",        p_perf,          E_DENY, E_DENY, 0 },
	{ "userfaultfd",            p_uffd,          E_DENY, E_DENY, 0 },
	{ "io_uring_setup",         p_uring,         E_DENY, E_DENY, 0 },
	{ "keyctl",                 p_keyctl,        E_DENY, E_DENY, 0 },
	{ "add_key",                p_add_key,       E_DENY, E_DENY, 0 },
	{ "request_key",            p_request_key,   E_DENY, E_DENY, 0 },
	{ "open_by_handle_at",      p_obha,          E_DENY, E_DENY, 0 },
	{ "name_to_handle_at",      p_nthat,         E_DENY, E_DENY, 0 },
	{ "kexec_load",             p_kexec,         E_DENY, E_DENY, 0 },
	{ "kexec_file_load",        p_kexec_file,    E_DENY, E_DENY, 0 },
	{ "init_module",            p_init_module,   E_DENY, E_DENY, 0 },
	{ "finit_module",           p_finit_module,  E_DENY, E_DENY, 0 },
	{ "delete_module",          p_delete_module, E_DENY, E_DENY, 0 },
	{ "reboot",                 p_reboot,        E_DENY, E_DENY, 0 },
	{ "swapon",                 p_swapon,        E_DENY, E_DENY, 0 },
	{ "settimeofday",           p_settime,       E_DENY, E_DENY, 0 },
	{ "clock_settime",          p_clock_settime, E_DENY, E_DENY, 0 },
	{ "adjtimex",               p_adjtimex,      E_DENY, E_DENY, 0 },
	{ "acct",                   p_acct,          E_DENY, E_DENY, 0 },
	{ "syslog",                 p_syslog,        E_DENY, E_DENY, 0 },
	{ "quotactl",               p_quotactl,      E_DENY, E_DENY, 0 },
	{ "personality(PER_LINUX32)", p_pers32,      E_DENY, E_DENY, 0 },
	{ "personality(query)",     p_pers_q,        E_NONNEG, E_DENY, 0 },
	{ "kcmp",                   p_kcmp,          E_DENY, E_DENY, 0 },
	{ "pidfd_getfd",            p_pidfd_getfd,   E_DENY, E_DENY, 0 },
	{ "iopl",                   p_iopl,          E_DENY, E_DENY, 0 },
	{ "ioperm",                 p_ioperm,        E_DENY, E_DENY, 0 },
	{ "modify_ldt",             p_modify_ldt,    E_DENY, E_DENY, 0 },
	{ "uselib",                 p_uselib,        E_DENY, E_DENY, 0 },
	{ "vhangup",                p_vhangup,       E_DENY, E_DENY, 0 },
	{ "ioctl(0, TIOCSTI)",      p_tiocsti0,      E_DENY, E_DENY, 0 },
	{ "ioctl(bad fd, TIOCSTI)", p_tiocsti,       E_DENY, E_DENY, 0 },
	{ "ioctl(TIOCSTI|1<<32)",   p_tiocsti_hi,    E_DENY, E_DENY, 0 },
	{ "ioctl(TIOCLINUX)",       p_tioclinux,     E_DENY, E_DENY, 0 },
	{ "ioctl(TCGETS) passes",   p_tcgets,        E_VAL,  E_DENY, -EBADF },
	{ "ioctl(FIONREAD) passes", p_fionread,      E_VAL,  E_DENY, -EBADF },
	{ "int 0x80 (i386) kills",  p_int80,         E_KILL, E_KILL, 0 },
	{ "x32 syscall number",     p_x32,           E_REFUSED, E_REFUSED, 0 },
	{ "setuid(0) after drop",   p_setuid0,       E_VAL,  E_DENY, -EPERM },
	{ "PR_GET_NO_NEW_PRIVS",    p_nnp_prctl,     E_VAL,  E_DENY, 1 },
	{ "status: nnp, no caps, uid nobody", p_caps_status, E_VAL, E_VAL, 1 },
	{ "no fds beyond the granted ones", p_fds,   E_VAL,  E_VAL, 0 },
	{ "setuid-root binary keeps euid", p_suid,   E_VAL,  E_NA, NOBODY },
	{ "recvmsg(chan, MSG_CMSG_CLOEXEC) gets an fd", p_recv_chan, E_NA, E_VAL, 1 },
	{ "recvmsg(chan) without MSG_CMSG_CLOEXEC", p_recv_nocloexec, E_NA, E_DENY, 0 },
	{ "recvmsg on another fd",  p_recv_other,    E_NA,   E_DENY, 0 },
	{ "recvmmsg",               p_recvmmsg,      E_NA,   E_DENY, 0 },
	{ "sendmsg(chan)",          p_send_chan,     E_NA,   E_VAL, 0 },
	{ "sendmsg on another fd",  p_send_other,    E_NA,   E_DENY, 0 },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* How the probe child confines itself: returns 0 or -errno, with why. */
typedef int (*confine_fn)(bool root_drop, int action, char *why, size_t len);

/* Fork a child that becomes nobody (root_drop: by the confinement step
 * itself; otherwise plainly, before confining, as an ordinary user would
 * be), sets its fds to FD_*, confines itself, checks it is confined, and
 * runs p. chan: the child's end of the channel, or -1. */
static __attribute__((unused)) void run_probe(const struct probe *p, bool root_drop, int action, int chan,
		      confine_fn confine, struct probe_result *res)
{
	int rp[2];
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0)
		tap_bail("pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		char why[128] = "";
		int st, nul;

		if (dup2(rp[1], FD_RESULT) < 0 || (chan >= 0 && dup2(chan, FD_CHAN) < 0))
			_exit(4);
		st = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (st < 0 || nul < 0 || dup2(st, FD_STATUS) < 0 || dup2(nul, 0) < 0)
			_exit(4);
		if (chan < 0)
			close_range(FD_CHAN, FD_CHAN, 0);
		close_range(3, FD_RESULT - 1, 0);
		close_range(FD_CHAN + 1, ~0U, 0);
		if (!root_drop && geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		     setresuid(NOBODY, NOBODY, NOBODY) < 0)) {
			probe_report(FD_RESULT, -errno, "becoming nobody");
			_exit(0);
		}
		if (confine(root_drop, action, why, sizeof(why)) < 0) {
			probe_report(FD_RESULT, -1, why[0] ? why : "confining");
			_exit(0);
		}
		if (!confined_check(FD_STATUS)) {
			probe_report(FD_RESULT, -1, "not confined: refusing to probe");
			_exit(0);
		}
		probe_report(FD_RESULT, p->fn(), NULL);
		_exit(0);
	}
	close(rp[1]);
	probe_collect(pid, rp[0], res);
}

/* Judge one result against expectation e. */
static __attribute__((unused)) bool judge(const struct probe *p, int e, int action, const struct probe_result *r)
{
	switch (e) {
	case E_DENY:
		if (action == SBX_ACTION_KILL)
			return r->sig == SIGSYS;
		return r->ran && !r->sig && r->value == -EPERM;
	case E_KILL:
		return r->sig == SIGSYS;
	case E_REFUSED:
		return r->sig == SIGSYS || (r->ran && r->value == -EPERM);
	case E_VAL:
		return r->ran && !r->sig && r->value == p->want;
	case E_NONNEG:
		return r->ran && !r->sig && r->value >= 0;
	}
	return false;
}

/* Make a setuid-root copy of id(1) in a fresh 0755 directory; NULL when
 * impossible (not root, nosuid mount). The caller removes it. */
static __attribute__((unused)) char *make_suid_copy(char *dir, size_t len)
{
	static char path[256];
	char buf[65536];
	int in, out;
	ssize_t n;

	snprintf(dir, len, "/tmp/sbx-escape-XXXXXX");
	if (geteuid() != 0 || !mkdtemp(dir) || chmod(dir, 0755) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/id", dir);
	in = open("/usr/bin/id", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (in < 0 || out < 0)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto fail;
	if (n < 0 || fchown(out, 0, 0) < 0 || fchmod(out, 04755) < 0)
		goto fail;
	close(in);
	close(out);
	return path;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	unlink(path);
	rmdir(dir);
	return NULL;
}

/* Unconfined control: as nobody, the copy does give euid 0 (else the probe
 * would prove nothing). */
static __attribute__((unused)) bool suid_copy_works(const char *path)
{
	struct probe_result r;
	int rp[2];
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(1);
		suid_path = path;
		probe_report(rp[1], p_suid(), NULL);
		_exit(0);
	}
	close(rp[1]);
	probe_collect(pid, rp[0], &r);
	return r.ran && r.value == 0;
}

#endif
