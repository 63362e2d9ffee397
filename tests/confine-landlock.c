/* Landlock rulesets: ABI detection, a ruleset allowing one dir denies
 * another, rights by perm, ENOSYS reported cleanly, and sbx_confine's
 * deny-all ruleset. */
#include <seccomp.h>

#include "escape-probes.h"
#include "sbx/confine.h"
#include "sbx/policy.h"
#include "unprivileged/landlock.h"

static char dir_a[64], dir_b[64];

static void mk(const char *dir, const char *name)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x\n", 2) != 2)
		tap_bail("create %s", p);
	close(fd);
}

static int try_open(const char *dir, const char *name, int flags)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static bool become_nobody(void)
{
	return setgroups(0, NULL) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
	       setresuid(NOBODY, NOBODY, NOBODY) == 0;
}

/* Child: grant perms on dir A, then report the opens as a bit set of
 * outcomes compared by the parent. */
struct ll_case {
	unsigned perms;
	bool as_nobody;
};

static int child_rules(void *ud)
{
	const struct ll_case *c = ud;
	struct sbx_landlock *l;
	int fd, res = 0;

	if (c->as_nobody && !become_nobody())
		return 100;
	if (sbx_landlock_new(0, &l) < 0)
		return 101;
	fd = open(dir_a, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0 || sbx_landlock_add(l, fd, c->perms) < 0)
		return 102;
	close(fd);
	if (sbx_landlock_restrict(l) < 0)
		return 103;
	sbx_landlock_free(l);
	/* bit 0: read in A ok; 1: read in B denied (EACCES); 2: write in A ok;
	 * 3: create in A ok; 4: list A ok */
	if (try_open(dir_a, "f", O_RDONLY) == 0)
		res |= 1;
	if (try_open(dir_b, "f", O_RDONLY) == -EACCES)
		res |= 2;
	if (try_open(dir_a, "f", O_WRONLY) == 0)
		res |= 4;
	if (try_open(dir_a, c->as_nobody ? "new-nobody" : "new-root", O_WRONLY | O_CREAT) == 0)
		res |= 8;
	if (try_open(dir_a, ".", O_RDONLY | O_DIRECTORY) == 0)
		res |= 16;
	return res;
}


static int child_restrict_badfd(void *ud)
{
	(void)ud;
	return sbx_landlock_restrict_fd(-1) == -EBADF ? 0 : 1;
}

static int child_enosys(void *ud)
{
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
	struct sbx_landlock *l = NULL;

	(void)ud;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (!c || seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_create_ruleset), 0) < 0 ||
	    seccomp_load(c) < 0)
		return 9;
	seccomp_release(c);
	if (sbx_landlock_abi() != -ENOSYS)
		return 1;
	if (sbx_landlock_new(0, &l) != -ENOSYS || l)
		return 2;
	return 0;
}

/* sbx_confine with Landlock: openat allowed by seccomp (extra allow), but
 * every path is denied by the empty ruleset: EACCES, not EPERM. */
static int child_confine_ll(void *ud)
{
	const char *allow[] = { "openat" };
	struct sbx_confine_opts o = { .flags = SBX_CONFINE_LANDLOCK_REQUIRE, .chan_fd = -1,
				      .allow = allow, .nallow = 1 };
	int r;

	(void)ud;
	if (geteuid() == 0 && !become_nobody())
		return 100;
	if ((r = sbx_confine(&o)) < 0)
		return 101;
	r = try_open(dir_a, "f", O_RDONLY);
	if (r != -EACCES)
		return 1;
	r = try_open("/etc", "passwd", O_RDONLY);
	return r == -EACCES ? 0 : 2;
}

int main(void)
{
	struct sbx_landlock *l = (struct sbx_landlock *)dir_a;
	struct fd_table before;
	char desc[512];
	int abi, fd, r;

	tap_start();
	abi = sbx_landlock_abi();
	if (abi < 0)
		tap_skip_all("no Landlock here: %s", strerror(-abi));
	fd_snapshot(&before);
	ok(abi >= 1, "ABI %d", abi);

	is_int(sbx_landlock_new(-1, &l), -EINVAL, "negative ABI: -EINVAL");
	ok(l == (struct sbx_landlock *)dir_a, "*ret untouched");
	is_int(sbx_landlock_new(0, &l), 0, "new ruleset");
	is_int(sbx_landlock_get_abi(l), abi > 7 ? 7 : abi, "built for the kernel's ABI");
	ok((sbx_landlock_handled(l) & 0x1fff) == 0x1fff, "handles every ABI 1 right");
	if (abi >= 3)
		ok(sbx_landlock_handled(l) & (1ULL << 14), "ABI >= 3: truncate handled");
	else
		skip(1, "ABI < 3");
	if (abi >= 5)
		ok(sbx_landlock_handled(l) & (1ULL << 15), "ABI >= 5: ioctl_dev handled");
	else
		skip(1, "ABI < 5");
	is_int(sbx_landlock_add(l, -1, SBX_PERM_READ), -EBADF, "add on a bad fd: -EBADF");
	is_int(sbx_landlock_add(l, 0, 1u << 20), -EINVAL, "unknown perm bits: -EINVAL");
	is_int(sbx_landlock_add(NULL, 0, SBX_PERM_READ), -EINVAL, "NULL ruleset: -EINVAL");
	fd = open("/etc/passwd", O_PATH | O_CLOEXEC);
	is_int(sbx_landlock_add(l, fd, SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_CREATE), 0,
	       "dir perms on a file: only the file rights are kept");
	close(fd);
	r = sbx_landlock_describe(l, desc, sizeof(desc));
	ok(r > 0 && strstr(desc, "landlock ABI") && strstr(desc, "read_file") && strstr(desc, "1 rule"),
	   "describe: %s", desc);
	r = sbx_landlock_describe(l, desc, 8);
	ok(r > 8 && strlen(desc) == 7, "describe truncates and returns the length wanted");
	ok(sbx_landlock_fd(l) >= 0 && fd_is_cloexec(sbx_landlock_fd(l)), "ruleset fd is close-on-exec");
	is_int(tap_in_child(child_restrict_badfd, NULL), 0, "restrict_fd on a bad fd: -EBADF");
	ok(sbx_landlock_free(l) == NULL && sbx_landlock_free(NULL) == NULL, "free, NULL-safe");
	ok(fd_same(&before), "no fd left");

	snprintf(dir_a, sizeof(dir_a), "/tmp/sbx-ll-a-XXXXXX");
	snprintf(dir_b, sizeof(dir_b), "/tmp/sbx-ll-b-XXXXXX");
	if (!mkdtemp(dir_a) || !mkdtemp(dir_b) || chmod(dir_a, 0777) < 0 || chmod(dir_b, 0755) < 0)
		tap_bail("mkdtemp");
	mk(dir_a, "f");
	mk(dir_b, "f");
	chmod(dir_a, 0777);
	{
		char p[128];
		snprintf(p, sizeof(p), "%s/f", dir_a);
		chmod(p, 0666);
	}

	for (int nobody = 0; nobody <= 1; nobody++) {
		const char *who = nobody ? "nobody" : (tap_is_root() ? "root" : "user");
		struct ll_case c = { SBX_PERM_READ, nobody };

		if (nobody && !tap_is_root()) {
			skip(3, "needs root to become nobody");
			continue;
		}
		is_int(tap_in_child(child_rules, &c), 1 | 2, "%s: read on A: read A, not B, no write, no create, no listing", who);
		c.perms = SBX_PERM_READ | SBX_PERM_DIR;
		is_int(tap_in_child(child_rules, &c), 1 | 2 | 16, "%s: read+dir on A: and list A", who);
		c.perms = SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE;
		is_int(tap_in_child(child_rules, &c), 1 | 2 | 4 | 8, "%s: read+write+create on A", who);
	}
	is_int(tap_in_child(child_enosys, NULL), 0, "landlock_create_ruleset hidden (ENOSYS): reported as -ENOSYS");
	if (under_valgrind())
		skip(1, "installs a seccomp filter");
	else
		is_int(tap_in_child(child_confine_ll, NULL), 0, "sbx_confine with Landlock: every path EACCES");

	{
		char p[160];
		const char *names[] = { "f", "new-root", "new-nobody", "new-user" };
		for (unsigned i = 0; i < 4; i++) {
			snprintf(p, sizeof(p), "%s/%s", dir_a, names[i]);
			unlink(p);
		}
		snprintf(p, sizeof(p), "%s/f", dir_b);
		unlink(p);
		rmdir(dir_a);
		rmdir(dir_b);
	}
	ok(fd_same(&before), "no fd leaked");
	return tap_done();
}
