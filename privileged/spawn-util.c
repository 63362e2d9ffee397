/* spawn helpers run in the parent: step names, PATH search, kernel probe. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileged/spawn.h"
#include "unprivileged/landlock.h"

static const char *const step_names[SPAWN_STEP_MAX] = {
	[SPAWN_STEP_NONE] = "spawn",
	[SPAWN_STEP_CLONE] = "clone",
	[SPAWN_STEP_SETSID] = "setsid",
	[SPAWN_STEP_PDEATHSIG] = "PR_SET_PDEATHSIG",
	[SPAWN_STEP_PARENT] = "parent check",
	[SPAWN_STEP_FDS] = "fd layout",
	[SPAWN_STEP_USERNS] = "user namespace",
	[SPAWN_STEP_RLIMIT] = "setrlimit",
	[SPAWN_STEP_CHDIR] = "chdir",
	[SPAWN_STEP_CAPS] = "capabilities",
	[SPAWN_STEP_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
	[SPAWN_STEP_LANDLOCK] = "landlock",
	[SPAWN_STEP_SECCOMP] = "seccomp",
	[SPAWN_STEP_EXEC] = "execve",
};

const char *spawn_step_name(enum spawn_step s)
{
	if ((unsigned)s >= SPAWN_STEP_MAX)
		return "spawn";
	return step_names[s];
}

int spawn_exec_status(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ELOOP ? 127 : 126;
}

static bool is_exec_file(const char *path, int *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*err = ENOENT; /* unreadable PATH entries are skipped, like a shell */
		return false;
	}
	if (S_ISDIR(st.st_mode) || access(path, X_OK) < 0) {
		*err = EACCES;
		return false;
	}
	return true;
}

char *spawn_find_program(const char *file, const char *path)
{
	char defpath[256];
	int err = ENOENT, e;
	char *r;

	if (!file || !*file) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(file, '/'))
		return strdup(file);
	if (!path) {
		size_t n = confstr(_CS_PATH, defpath, sizeof(defpath));

		if (n == 0 || n > sizeof(defpath))
			strcpy(defpath, "/usr/bin:/bin");
		path = defpath;
	}
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);

		if (asprintf(&r, "%.*s%s%s", (int)dlen, dlen ? p : ".", "/", file) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		if (is_exec_file(r, &e))
			return r;
		free(r);
		if (e == EACCES)
			err = EACCES; /* found, not executable: what execvp reports */
		if (!*end)
			break;
		p = end;
	}
	errno = err;
	return NULL;
}

static bool read_int_file(const char *path, long *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*v = strtol(buf, NULL, 10);
	return true;
}

void spawn_probe(struct spawn_features *f, unsigned what)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	unsigned action = SECCOMP_RET_USER_NOTIF;
	long v;
	int fd, abi;

	memset(f, 0, sizeof(*f));
	if (what & SPAWN_PROBE_INFO) {
		/* close_range on an empty range: 0 when the syscall exists. */
		f->close_range = syscall(SYS_close_range, ~0U, ~0U, 0) == 0;
		/* clone3 with a NULL argument: EFAULT/EINVAL when it exists. */
		f->clone3 = syscall(SYS_clone3, NULL, 0) < 0 && errno != ENOSYS;
		fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
		f->openat2 = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (what & (SPAWN_PROBE_USERNS | SPAWN_PROBE_INFO)) {
		f->userns = true;
		if (read_int_file("/proc/sys/kernel/unprivileged_userns_clone", &v) && v == 0)
			f->userns = false;
		if (read_int_file("/proc/sys/user/max_user_namespaces", &v) && v == 0)
			f->userns = false;
	}
	f->seccomp_notify = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
	abi = sbx_landlock_abi();
	f->landlock_abi = abi > 0 ? abi : 0;
}
