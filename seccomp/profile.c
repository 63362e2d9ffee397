/* The syscall lists of the profiles. What is absent is denied; the argument
 * rules (clone, unshare, ioctl, personality, socket, socketpair, recvmsg,
 * sendmsg, newfstatat, tgkill) live in filter.c. doc/confine.md explains
 * each group. Keep both in step. */
#include <stddef.h>

#include "seccomp/profile.h"

/* default: unmodified programs. Left out on purpose (denied): mount,
 * umount2, pivot_root, chroot, open_tree, move_mount, fsopen, fsconfig,
 * fsmount, fspick, mount_setattr; init_module, finit_module, delete_module,
 * create_module, query_module, get_kernel_syms; reboot, kexec_load,
 * kexec_file_load; ptrace, process_vm_readv, process_vm_writev,
 * process_madvise, process_mrelease, kcmp, pidfd_getfd; keyctl, add_key,
 * request_key; bpf, perf_event_open, userfaultfd, fanotify_init,
 * fanotify_mark; io_uring_setup, io_uring_enter, io_uring_register;
 * open_by_handle_at, name_to_handle_at; setns (unshare and clone by
 * argument, clone3 -> ENOSYS); swapon, swapoff; settimeofday,
 * clock_settime, adjtimex, clock_adjtime; acct, quotactl, quotactl_fd,
 * syslog, lookup_dcookie, nfsservctl, uselib, vhangup, iopl, ioperm,
 * modify_ldt, sethostname, setdomainname, _sysctl, migrate_pages,
 * move_pages; the never-implemented ones (afs_syscall, tuxcall, security,
 * vserver, getpmsg, putpmsg, epoll_ctl_old, epoll_wait_old); anything
 * newer than this list. */
const char *const sbx_profile_default_allow[] = {
	/* files by fd, and by name (Landlock and the broker confine names) */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "close", "close_range", "lseek",
	"stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
	"ustat", "sysfs", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
	"rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link",
	"linkat", "unlink", "unlinkat", "symlink", "symlinkat", "chmod", "fchmod",
	"fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "umask",
	"mknod", "mknodat", "truncate", "ftruncate", "fallocate", "fsync",
	"fdatasync", "sync", "syncfs", "sync_file_range", "flock", "fcntl",
	"dup", "dup2", "dup3", "pipe", "pipe2", "utime", "utimes", "utimensat",
	"futimesat", "setxattr", "lsetxattr", "fsetxattr", "getxattr",
	"lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
	"removexattr", "lremovexattr", "fremovexattr", "readahead", "fadvise64",
	"sendfile", "splice", "tee", "vmsplice", "copy_file_range", "cachestat",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"memfd_create", "memfd_secret",
	/* polling and event fds */
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd",
	"eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
	"timerfd_gettime",
	/* asynchronous I/O (not io_uring) */
	"io_setup", "io_destroy", "io_getevents", "io_pgetevents", "io_submit",
	"io_cancel",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "msync", "mincore",
	"madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
	"remap_file_pages", "mbind", "set_mempolicy", "get_mempolicy",
	"set_mempolicy_home_node", "pkey_mprotect", "pkey_alloc", "pkey_free",
	"map_shadow_stack", "membarrier",
	/* processes, threads, signals */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4",
	"waitid", "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
	"rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "pause",
	"restart_syscall", "pidfd_open", "pidfd_send_signal", "set_tid_address",
	"set_robust_list", "get_robust_list", "rseq", "arch_prctl", "prctl",
	"set_thread_area", "get_thread_area", "futex", "futex_waitv",
	"futex_wake", "futex_wait", "futex_requeue", "seccomp",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	"capget", "capset",
	/* identity (no capabilities are left: these cannot gain anything) */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid",
	"setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
	"setgroups", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
	/* scheduling and resources */
	"sched_yield", "sched_setparam", "sched_getparam", "sched_setscheduler",
	"sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
	"sched_rr_get_interval", "sched_setaffinity", "sched_getaffinity",
	"sched_setattr", "sched_getattr", "getpriority", "setpriority",
	"ioprio_get", "ioprio_set", "getrlimit", "setrlimit", "prlimit64",
	"getrusage", "times", "getcpu", "sysinfo", "uname",
	/* time (reading it; setting it is denied) */
	"time", "gettimeofday", "clock_gettime", "clock_getres",
	"clock_nanosleep", "nanosleep", "alarm", "getitimer", "setitimer",
	"timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
	"timer_delete", "getrandom",
	/* sockets (socket and socketpair by argument) */
	"connect", "accept", "accept4", "bind", "listen", "shutdown",
	"getsockname", "getpeername", "setsockopt", "getsockopt", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	/* System V and POSIX IPC */
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
	"semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink",
	"mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
	NULL,
};

/* strict: a worker that computes on fds it was handed. Nothing here turns a
 * name into an fd; recvmsg/sendmsg (on the channel only), newfstatat (with
 * AT_EMPTY_PATH: glibc's fstat) and tgkill (on itself: abort) are added by
 * argument in filter.c. mmap is allowed whole (PROT_EXEC included). */
const char *const sbx_profile_strict_allow[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "close", "fstat", "lseek", "fcntl",
	"dup", "dup3", "ftruncate", "fsync", "fdatasync",
	"poll", "ppoll", "recvfrom", "sendto", "shutdown",
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"futex", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack",
	"restart_syscall", "exit", "exit_group", "sched_yield",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "getrlimit",
	NULL,
};

const char *const sbx_profile_open_calls[] = {
	"open", "openat", "openat2", "creat", NULL,
};
