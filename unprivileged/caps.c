/* Dropping identity and capabilities with libcap-ng. */
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "unprivileged/caps.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int sbx_caps_drop(uid_t uid, gid_t gid, bool change_id)
{
	int r;

	if (change_id && (uid == (uid_t)-1 || gid == (gid_t)-1))
		return -EINVAL;
	/* Ambient first: it is cleared by any drop of permitted anyway, but an
	 * explicit clear also works when nothing else can be dropped. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	capng_clear(CAPNG_SELECT_ALL);
	if (change_id) {
		/* setresgid, setgroups(0), setresuid, then the (empty) sets and
		 * the bounding set cleared. */
		r = capng_change_id((int)uid, (int)gid,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
		if (r < 0)
			return -EPERM;
		/* libcap-ng keeps the saved ids equal; make sure no way back. */
		if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
			return -EPERM;
	} else {
		/* Without CAP_SETPCAP the bounding set stays (no_new_privs, set by
		 * the caller, keeps it from mattering); drop what we can. */
		if (capng_apply(CAPNG_SELECT_ALL) < 0 && capng_apply(CAPNG_SELECT_CAPS) < 0)
			return -EPERM;
	}
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return -EPERM;
	return 0;
}

/* Parse "CapXxx:\t<hex>" lines of /proc/self/status. */
int sbx_caps_all_clear(bool bnd_too)
{
	static const char *const keys[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
	char buf[4096];
	ssize_t n;
	size_t got = 0;
	int fd, seen = 0;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(buf, keys[i]);
		unsigned long long v;

		if (!p)
			continue;       /* CapAmb is absent before 4.3 */
		seen++;
		v = strtoull(p + strlen(keys[i]), NULL, 16);
		if (v != 0 && !(i == 3 && !bnd_too))
			return 0;
	}
	return seen >= 4 ? 1 : -EIO;
}
