/*
 * Kernel pseudo-filesystems are never brokered.
 *
 * The broker opens with its own credentials (usually root): a file under
 * /proc, /sys, cgroupfs, debugfs and the like opened for the worker is
 * opened as the broker, so /proc/1/environ, /proc/self/mem (the broker's
 * own memory), or a sysfs/cgroup knob would become reachable by anyone
 * granted "/" or "/proc". Such trees are refused as rules, and a request
 * whose resolution crosses into one from another rule is refused.
 */
#include <errno.h>
#include <linux/magic.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "policy-impl.h"

/* Not in every linux/magic.h this project builds against. */
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef EFIVARFS_MAGIC
#define EFIVARFS_MAGIC 0xde5e81e4
#endif
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSECTL_SUPER_MAGIC
#define FUSECTL_SUPER_MAGIC 0x65735543
#endif

static const unsigned long kernel_fs[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, SECURITYFS_MAGIC,
	TRACEFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,
	NSFS_MAGIC, EFIVARFS_MAGIC, PSTOREFS_MAGIC, CONFIGFS_MAGIC,
	SELINUX_MAGIC, SMACK_MAGIC, BINFMTFS_MAGIC, FUSECTL_SUPER_MAGIC,
};

static bool kernel_type(const struct statfs *sf)
{
	for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++)
		if ((unsigned long)sf->f_type == kernel_fs[i])
			return true;
	return false;
}

bool policy_is_kernel_fs(int fd)
{
	struct statfs sf;

	/* Unknown is refused: a decision must not hinge on a failed call. */
	return fstatfs(fd, &sf) < 0 || kernel_type(&sf);
}

int policy_root_check(int fd, bool *nodev)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0 || kernel_type(&sf))
		return -EPERM;
	*nodev = (sf.f_flags & ST_NODEV) != 0;
	return 0;
}
