/* The built-in runtime grant: what the dynamic loader, libc, locales and
 * time zones need so an unmodified program starts and behaves as outside
 * (LANG=C.UTF-8 makes `cat` probe the locale tree: without it programs
 * quietly change behaviour). Read-only; sandbox-run --no-default-grants
 * leaves it out. Interpreters' libraries beyond /usr/lib (python's stdlib
 * lives there already) come only through the user's own --ro rules. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "notify.h"

#define RX (SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_EXEC)
#define RO (SBX_PERM_READ | SBX_PERM_DIR)

const struct notify_grant notify_grants[] = {
	/* loader cache and libraries (/lib, /lib64 are symlinks to /usr on
	 * merged-/usr systems: the policy also grants their targets) */
	{ "/etc/ld.so.cache", SBX_PERM_READ },
	{ "/lib", RX },
	{ "/lib64", RX },
	{ "/usr/lib", RX },
	{ "/usr/lib64", RX },
	{ "/usr/lib/x86_64-linux-gnu", RX },
	{ "/usr/lib/x86_64-linux-gnu/gconv", RO },
	/* locales */
	{ "/usr/lib/locale", RO },
	{ "/usr/share/locale", RO },
	{ "/etc/locale.alias", SBX_PERM_READ },
	/* an absolute symlink to /etc/locale.alias: granted by name so the
	 * policy resolves it (a link escaping /usr/share/locale is refused) */
	{ "/usr/share/locale/locale.alias", SBX_PERM_READ },
	/* time zones (/etc/localtime is an absolute symlink on Debian) */
	{ "/etc/localtime", SBX_PERM_READ },
	{ "/usr/share/zoneinfo", RO },
	/* harmless devices */
	{ "/dev/null", SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_DEV },
	{ "/dev/zero", SBX_PERM_READ | SBX_PERM_DEV },
	{ "/dev/urandom", SBX_PERM_READ | SBX_PERM_DEV },
	{ "/dev/random", SBX_PERM_READ | SBX_PERM_DEV },
	{ NULL, 0 },
};

int notify_default_grants(struct sbx_policy *p)
{
	const struct notify_grant *g;

	if (!p)
		return -EINVAL;
	for (g = notify_grants; g->path; g++) {
		int r;

		r = sbx_policy_add_path(p, g->path, g->perms);
		/* Absent here (ENOENT/ENOTDIR), or already granted by the user. */
		if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EEXIST)
			return r;
	}
	return 0;
}

bool notify_quiet_enoent(const char *path)
{
	return path && strcmp(path, "/etc/ld.so.preload") == 0;
}
