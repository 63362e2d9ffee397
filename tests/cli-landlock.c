/* What sandbox-run leaves out because a rule above covers it: a Landlock
 * rule beneath a directory rule with every right it has (the count -v
 * reports drops), and a default or program grant beneath a policy rule
 * with every perm it has (/usr/share/zoneinfo under /usr). What the worker
 * may do does not change, in either direction: a name that leaves the
 * covering rule (an absolute symlink) is still granted, and a program
 * under a rule without exec still gets its own grant. */
#include <sys/stat.h>

#include "cli-run.h"
#include "unprivileged/landlock.h"

static char dir[64], sub[96], prog[128], other[64], oprog[128], lnk[128];

/* The rule count of "sandbox-run: landlock: ABI N, M rules", or -1. */
static long rules_of(const struct cli_result *r)
{
	const char *s = strstr(r->err, "sandbox-run: landlock: ABI ");

	s = s ? strstr(s, ", ") : NULL;
	return s ? strtol(s + 2, NULL, 10) : -1;
}

static long count_rules(const char *const *args)
{
	const char *argv[16] = { "-v" };
	struct cli_result r;
	size_t n = 1;

	for (; *args && n < 14; args++)
		argv[n++] = *args;
	argv[n++] = "true";
	argv[n] = NULL;
	cli_run(&r, argv);
	if (r.status != 0)
		diag("%d %s", r.status, r.err);
	return r.status == 0 ? rules_of(&r) : -1;
}

static void copy_self(const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(cli_self(), O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);

	if (in < 0 || out < 0)
		tap_bail("copy to %s", to);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			tap_bail("copy to %s", to);
	if (n < 0 || close(out) < 0)
		tap_bail("copy to %s", to);
	close(in);
	chmod(to, 0755);
}

/* Default grants beneath /usr are covered by it; the worker still reads
 * them, and a by-name grant that leaves /usr (locale.alias is an absolute
 * symlink on Debian) still reaches its target. A program's own grant is
 * left out only when the rule above it has exec, and only when its path
 * stays beneath that rule. */
static void grant_cases(void)
{
	struct cli_result r;
	struct stat st;

	CLI(&r, "sh", "-c", "ls /usr/share/zoneinfo >/dev/null && ls /usr/lib/locale >/dev/null && echo ok");
	if (!ok(r.status == 0 && !strcmp(r.out, "ok\n"), "covered default grants: still readable"))
		diag("%d %s", r.status, r.err);
	if (lstat("/usr/share/locale/locale.alias", &st) == 0 && S_ISLNK(st.st_mode)) {
		CLI(&r, "head", "-c", "1", "/usr/share/locale/locale.alias");
		if (!ok(r.status == 0 && r.out[0], "a by-name grant leaving /usr: still granted"))
			diag("%d %s", r.status, r.err);
	} else {
		skip(1, "/usr/share/locale/locale.alias is no symlink here");
	}
	CLI(&r, "--rw", dir, prog, "helper", "exit", "7");
	if (!ok(r.status == 7, "a program under a rule without exec: granted on its own"))
		diag("%d %s", r.status, r.err);
	CLI(&r, "--ro", dir, lnk, "helper", "exit", "7");
	if (!ok(r.status == 7, "a program named by a symlink leaving the rule: its target granted"))
		diag("%d %s", r.status, r.err);
}

int main(int argc, char **argv)
{
	char made[128], made2[128];
	struct cli_result r;
	long base, a;
	int abi;

	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (access(cli_bin(), X_OK) < 0)
		tap_skip_all("no sandbox-run at %s", cli_bin());
	abi = sbx_landlock_abi();
	if (abi < 1)
		tap_skip_all("no Landlock here: %s", strerror(-abi));
	strcpy(dir, "/tmp/sbx-llr-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
		tap_bail("mkdtemp");
	snprintf(sub, sizeof(sub), "%s/b", dir);
	snprintf(prog, sizeof(prog), "%s/prog", sub);
	snprintf(made, sizeof(made), "%s/d", sub);
	snprintf(made2, sizeof(made2), "%s/d2", sub);
	if (mkdir(sub, 0777) < 0 || chmod(sub, 0777) < 0)
		tap_bail("mkdir %s", sub);
	copy_self(prog);
	strcpy(other, "/tmp/sbx-llo-XXXXXX");
	if (!mkdtemp(other) || chmod(other, 0755) < 0)
		tap_bail("mkdtemp");
	snprintf(oprog, sizeof(oprog), "%s/prog", other);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	copy_self(oprog);
	if (symlink(oprog, lnk) < 0)
		tap_bail("symlink %s", lnk);

	base = count_rules((const char *const[]){ NULL });
	ok(base > 0, "default runtime: %ld rules", base);
	is_int(count_rules((const char *const[]){ "--ro", "/usr/share/zoneinfo", NULL }), base,
	       "--ro beneath the /usr grant: no rule more");
	a = count_rules((const char *const[]){ "--ro", dir, NULL });
	is_int(a, base + 1, "--ro DIR: one rule more");
	is_int(count_rules((const char *const[]){ "--ro", dir, "--ro", sub, NULL }), a,
	       "--ro DIR --ro DIR/b: DIR/b adds no right, no rule");
	is_int(count_rules((const char *const[]){ "--ro", sub, "--ro", dir, NULL }), a,
	       "the same, given the other way round");
	is_int(count_rules((const char *const[]){ "--ro", dir, "--rw", sub, NULL }), a + 1,
	       "--ro DIR --rw DIR/b: DIR/b adds write rights, kept");

	/* The worker's own path syscalls meet Landlock (opens are brokered):
	 * execve of a program whose rule was left out, mkdir beneath a rule
	 * that was kept, and one beneath a rule that was left out. */
	CLI(&r, "--ro", dir, "--ro", sub, prog, "helper", "exit", "7");
	if (!ok(r.status == 7, "execve beneath a left-out rule: allowed by the directory above"))
		diag("%d %s", r.status, r.err);
	CLI(&r, "--ro", dir, "--rw", sub, "mkdir", made);
	if (!ok(r.status == 0 && access(made, F_OK) == 0, "--rw DIR/b kept: mkdir there works"))
		diag("%d %s", r.status, r.err);
	CLI(&r, "--ro", dir, "--ro", sub, "mkdir", made2);
	if (!ok(r.status != 0 && access(made2, F_OK) < 0 && errno == ENOENT,
		"--ro DIR/b left out: mkdir there still denied"))
		diag("%d %s", r.status, r.err);

	grant_cases();

	rmdir(made);
	rmdir(made2);
	unlink(lnk);
	unlink(oprog);
	rmdir(other);
	unlink(prog);
	rmdir(sub);
	rmdir(dir);
	return tap_done();
}
