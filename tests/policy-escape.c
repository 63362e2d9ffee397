/* Path traversal against sbx_policy_open: every way out of a granted tree
 * must fail, and leave the fd table as it was. */
#include "policy-util.h"
#include "privileged/policy-impl.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

static void build_tree(void)
{
	mkdir_t("jail");
	mkdir_t("jail/deep");
	mkdir_t("outside");
	write_t("jail/ok.txt", "ok");
	write_t("outside/secret.txt", "secret");
	symlink_t(T("outside/secret.txt"), "jail/abs");
	symlink_t("/etc/passwd", "jail/abs-etc");
	symlink_t("../outside/secret.txt", "jail/rel");
	symlink_t("../../outside/secret.txt", "jail/deep/rel2");
	symlink_t("..", "jail/up");
	symlink_t("ok.txt", "jail/inner");
	symlink_t("/proc/self/root", "jail/procroot");
	symlink_t("loop2", "jail/loop1");
	symlink_t("loop1", "jail/loop2");
}

static void test_tree(const struct sbx_policy *p)
{
	int fd;

	fd = grant(p, T("jail/ok.txt"), O_RDONLY, 0, "control: a file in the jail");
	close(fd);
	fd = grant(p, T("jail/inner"), O_RDONLY, 0, "control: a relative symlink inside");
	close(fd);
	fd = grant(p, T("jail/deep/../ok.txt"), O_RDONLY, 0, "control: '..' that stays inside");
	close(fd);
	DENY(p, T("jail/../outside/secret.txt"), O_RDONLY, 0, -EACCES, "'..' out of the rule");
	DENY(p, T("jail/deep/../../outside/secret.txt"), O_RDONLY, 0, -EACCES,
	     "'..' twice out of the rule");
	DENY(p, T("jail/../../../../../../etc/passwd"), O_RDONLY, 0, -EACCES,
	     "'..' up to / and down to /etc/passwd");
	DENY(p, T("jail/abs"), O_RDONLY, 0, -EACCES, "absolute symlink to outside");
	DENY(p, T("jail/abs-etc"), O_RDONLY, 0, -EACCES, "absolute symlink to /etc/passwd");
	DENY(p, T("jail/rel"), O_RDONLY, 0, -EACCES, "relative symlink that climbs out");
	DENY(p, T("jail/deep/rel2"), O_RDONLY, 0, -EACCES, "relative symlink two levels out");
	DENY(p, T("jail/up/outside/secret.txt"), O_RDONLY, 0, -EACCES,
	     "symlink to '..' used as a directory");
	DENY(p, T("jail/procroot/etc/passwd"), O_RDONLY, 0, -EACCES,
	     "symlink to /proc/self/root");
	DENY(p, T("jail/loop1"), O_RDONLY, 0, -ELOOP, "symlink loop");
	DENY(p, T("jail/rel"), O_WRONLY | O_CREAT, 0600, -EACCES,
	     "O_CREAT through a climbing symlink (no create perm)");
}

static void test_create_escape(void)
{
	struct sbx_policy *p;

	if (sbx_policy_new(&p) < 0 ||
	    sbx_policy_add_path(p, T("jail"), SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE) < 0)
		tap_bail("policy");
	DENY(p, T("jail/../outside/new"), O_WRONLY | O_CREAT, 0600, -EACCES,
	     "create rule: O_CREAT with '..' out");
	ok(access(T("outside/new"), F_OK) < 0, "  ...nothing created outside");
	DENY(p, T("jail/rel"), O_WRONLY | O_TRUNC, 0, -EACCES,
	     "create rule: O_TRUNC through a climbing symlink");
	DENY(p, T("jail/up/outside/new2"), O_WRONLY | O_CREAT, 0600, -EACCES,
	     "create rule: O_CREAT beneath a symlink to '..'");
	ok(access(T("outside/new2"), F_OK) < 0, "  ...nothing created outside");
	DENY(p, T("jail/abs"), O_WRONLY | O_CREAT, 0600, -EACCES,
	     "create rule: O_CREAT through an absolute symlink");
	sbx_policy_free(p);
}

static void test_proc(int outside_fd)
{
	struct sbx_policy *p;
	char path[128];
	int fd;

	/* /proc cannot be a rule (test_kernel_fs); reach it from "/": magic
	 * links fail in resolution (ELOOP) before the kernel-fs check. */
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, "/", SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("policy");
	fd = sbx_policy_open(p, "/proc/self/status", O_RDONLY, 0);
	is_int(fd, -EACCES, "control: /proc/self/status under '/' is refused (kernel fs)");
	if (fd >= 0)
		close(fd);
	DENY(p, "/proc/self/root/etc/passwd", O_RDONLY, 0, -ELOOP, "/proc/self/root");
	DENY(p, "/proc/thread-self/root/etc/passwd", O_RDONLY, 0, -ELOOP, "/proc/thread-self/root");
	{
		struct fd_table t;
		int r;

		/* ELOOP, or EACCES when ptrace access to pid 1 is refused */
		fd_snapshot(&t);
		r = sbx_policy_open(p, "/proc/1/root/etc/passwd", O_RDONLY, 0);
		if (r >= 0)
			close(r);
		ok(r == -ELOOP || r == -EACCES, "/proc/1/root (got %d)", r);
		ok(fd_same(&t), "  ...and no fd leaked");
	}
	DENY(p, "/proc/self/cwd", O_RDONLY | O_DIRECTORY, 0, -ELOOP, "/proc/self/cwd");
	DENY(p, "/proc/self/exe", O_RDONLY, 0, -ELOOP, "/proc/self/exe");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", outside_fd);
	DENY(p, path, O_RDONLY, 0, -ELOOP, "magic link /proc/self/fd/N to a file outside");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), outside_fd);
	DENY(p, path, O_RDONLY, 0, -ELOOP, "magic link /proc/PID/fd/N");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/../fd/%d", outside_fd);
	DENY(p, path, O_RDONLY, 0, -ELOOP, "magic link reached through '..'");
	DENY(p, "/proc/self/root", O_RDONLY | O_DIRECTORY, 0, -ELOOP, "/proc/self/root itself");
	sbx_policy_free(p);
}

/* Kernel pseudo-filesystems: the broker would open them as itself. */
static void test_kernel_fs(void)
{
	struct fd_table before;
	struct sbx_policy *p;
	int fd;

	fd_snapshot(&before);
	if (sbx_policy_new(&p) < 0)
		tap_bail("policy");
	is_int(sbx_policy_add_path(p, "/proc", SBX_PERM_READ), -EPERM, "kernel fs: /proc refused as a rule");
	is_int(sbx_policy_add_path(p, "/proc/self", SBX_PERM_READ), -EPERM,
	       "kernel fs: /proc/self refused as a rule");
	is_int(sbx_policy_add_path(p, "/sys", SBX_PERM_READ), -EPERM, "kernel fs: /sys refused as a rule");
	if (sbx_policy_add_path(p, "/", SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("add /");
	fd = sbx_policy_open(p, "/etc/hostname", O_RDONLY, 0);
	ok(fd >= 0 || fd == -ENOENT, "kernel fs: '/' still grants /etc/hostname (%d)", fd);
	if (fd >= 0)
		close(fd);
	is_int(sbx_policy_open(p, "/proc/self/status", O_RDONLY, 0), -EACCES,
	       "kernel fs: '/' does not reach the broker's /proc/self/status");
	is_int(sbx_policy_open(p, "/proc/1/environ", O_RDONLY, 0), -EACCES,
	       "kernel fs: ... nor /proc/1/environ");
	is_int(sbx_policy_open(p, "/proc/self/mem", O_RDONLY, 0), -EACCES,
	       "kernel fs: ... nor the broker's memory");
	is_int(sbx_policy_open(p, "/proc", O_RDONLY | O_DIRECTORY, 0), -EACCES,
	       "kernel fs: ... nor /proc itself");
	is_int(sbx_policy_open(p, "/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY, 0), -EACCES,
	       "kernel fs: ... nor sysfs");
	{
		/* cgroup v1 or v2, wherever this machine mounts it */
		char mnt[256] = "", type[32], line[512], cg[300];
		FILE *f = fopen("/proc/self/mounts", "re");

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %255s %31s", mnt, type) == 2 &&
			    (!strcmp(type, "cgroup2") || !strcmp(type, "cgroup")))
				break;
			else
				mnt[0] = 0;
		if (f)
			fclose(f);
		snprintf(cg, sizeof(cg), "%s/cgroup.procs", mnt);
		if (!mnt[0])
			skip(1, "no cgroup filesystem mounted");
		else
			is_int(sbx_policy_open(p, cg, O_RDONLY, 0), -EACCES,
			       "kernel fs: ... nor cgroupfs (%s)", cg);
	}
	sbx_policy_free(p);
	ok(fd_same(&before), "kernel fs: nothing leaked");
}

/*
 * The one-phase path (policy-open.c): the jail on a nodev tmpfs, mounted in
 * a private mount namespace so the host sees nothing. The escapes above are
 * run again there, plus what only that path decides itself: a FIFO, a
 * device node, the blocking mode handed back, and mount crossings (a
 * mount without nodev, procfs) that must fall back to the probe.
 */
static void test_nodev_objects(const struct sbx_policy *p)
{
	struct fd_table t;
	int fd;

	fd_snapshot(&t);
	ok(p->nrules == 1 && p->rules[0].nodev, "nodev: the rule knows its mount is nodev");
	fd = sbx_policy_open(p, T("jail/ok.txt"), O_RDONLY, 0);
	ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	   "nodev: a file, handed back blocking as asked");
	if (fd >= 0)
		close(fd);
	fd = sbx_policy_open(p, T("jail/ok.txt"), O_RDONLY | O_NONBLOCK, 0);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "nodev: ... non-blocking when asked");
	if (fd >= 0)
		close(fd);
	fd = sbx_policy_open(p, T("jail/deep"), O_RDONLY | O_DIRECTORY, 0);
	ok(fd >= 0, "nodev: a directory (dir granted)");
	if (fd >= 0)
		close(fd);
	DENY(p, T("jail/fifo"), O_RDONLY, 0, -EACCES, "nodev: a FIFO, read (no block)");
	DENY(p, T("jail/fifo"), O_WRONLY, 0, -EACCES, "nodev: a FIFO, write (rule is read-only)");
	DENY(p, T("jail/null"), O_RDONLY, 0, -EACCES, "nodev: a device node");
	DENY(p, T("jail/nothere"), O_RDONLY, 0, -ENOENT, "nodev: a missing file");
	DENY(p, T("jail/ok.txt/"), O_RDONLY, 0, -ENOTDIR, "nodev: a file named as a directory");
	DENY(p, T("jail/inner"), O_RDONLY | O_NOFOLLOW, 0, -ELOOP, "nodev: O_NOFOLLOW on a symlink");
	fd = sbx_policy_open(p, T("jail/sub/in-sub.txt"), O_RDONLY, 0);
	ok(fd >= 0, "nodev: a file across a mount without nodev (probe path) (%d)", fd);
	if (fd >= 0)
		close(fd);
	DENY(p, T("jail/sub/null"), O_RDONLY, 0, -EACCES, "nodev: ... a device node there");
	DENY(p, T("jail/proc/self/status"), O_RDONLY, 0, -EACCES, "nodev: procfs mounted inside");
	ok(fd_same(&t), "nodev: nothing leaked");
}

static bool nodev_jail(void)
{
	if (geteuid() != 0)
		return false;
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	if (mount("sbx-nodev", T(""), "tmpfs", MS_NODEV | MS_NOSUID, "mode=0755") < 0)
		return false;
	build_tree();
	write_t("outside/secret.txt", "secret");
	mkdir_t("jail/sub");
	mkdir_t("jail/proc");
	if (mkfifo(T("jail/fifo"), 0644) < 0 || mknod(T("jail/null"), S_IFCHR | 0666, makedev(1, 3)) < 0 ||
	    mount("sbx-dev", T("jail/sub"), "tmpfs", 0, "mode=0755") < 0)
		tap_bail("nodev tree: %s", strerror(errno));
	write_t("jail/sub/in-sub.txt", "x");
	if (mknod(T("jail/sub/null"), S_IFCHR | 0666, makedev(1, 3)) < 0 ||
	    mount("proc", T("jail/proc"), "proc", 0, NULL) < 0)
		tap_bail("nodev tree: %s", strerror(errno));
	return true;
}

static void nodev_pass(void)
{
	struct fd_table start;
	struct sbx_policy *p;

	diag("resolver: openat2, the jail on a nodev mount (one phase)");
	policy_force_fallback(false);
	if (!nodev_jail()) {
		skip(48, "needs root and a private mount namespace (%s)", strerror(errno));
		return;
	}
	fd_snapshot(&start);
	if (sbx_policy_new(&p) < 0 ||
	    sbx_policy_add_path(p, T("jail"), SBX_PERM_READ | SBX_PERM_DIR) < 0)
		tap_bail("policy");
	test_tree(p);
	test_nodev_objects(p);
	sbx_policy_free(p);
	ok(fd_same(&start), "nodev: nothing left open");
	/* leave the scratch tree (under the mount) for the exit cleanup */
	umount2(T("jail/proc"), MNT_DETACH);
	umount2(T("jail/sub"), MNT_DETACH);
	umount2(T(""), MNT_DETACH);
}

int main(void)
{
	struct fd_table start;
	struct sbx_policy *p;
	int outside_fd;

	tap_start();
	tree_make();
	build_tree();
	outside_fd = open(T("outside/secret.txt"), O_RDONLY | O_CLOEXEC);
	if (outside_fd < 0)
		tap_bail("open outside");
	/* Twice: the kernel's openat2, then the user-space walk used where
	 * openat2 is missing (old kernels, valgrind). */
	for (int fallback = 0; fallback < 2; fallback++) {
		diag("resolver: %s", fallback ? "user-space walk" : "openat2");
		policy_force_fallback(fallback);
		fd_snapshot(&start);
		if (sbx_policy_new(&p) < 0 ||
		    sbx_policy_add_path(p, T("jail"), SBX_PERM_READ | SBX_PERM_DIR) < 0)
			tap_bail("policy");
		test_tree(p);
		sbx_policy_free(p);
		test_create_escape();
		test_proc(outside_fd);
		test_kernel_fs();
		ok(fd_same(&start), "nothing left open");
	}
	close(outside_fd);
	nodev_pass();
	return tap_done();
}
