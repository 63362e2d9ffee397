/* sandbox-run as root: --user changes uid/gid and drops the groups, no
 * capability is left, a setuid binary inside gains nothing, the worker can
 * neither signal (other uid) nor ptrace (seccomp) its parent. Plus the
 * fallbacks when the kernel hides Landlock or close_range (an outer seccomp
 * filter returning ENOSYS), and the pid namespace. */
#include <sys/stat.h>

#include "cli-run.h"

static char dir[64];

#define CAPS_ZERO "eff=00 prm=00 inh=00 bnd=0 amb=0 nnp=1 seccomp=2\n"

static void user_cases(void)
{
	struct cli_result r;

	CLI(&r, "--user", "nobody", cli_self(), "helper", "ids");
	if (!ok(r.status == 0 && !strcmp(r.out, "uid=65534 euid=65534 groups=0\n"),
		"--user nobody: uid changed, no supplementary groups"))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--user", "nobody", cli_self(), "helper", "caps");
	if (!ok(r.status == 0 && !strcmp(r.out, CAPS_ZERO),
		"--user nobody: every capability set zero, no_new_privs, seccomp filter"))
		diag("%s", r.out);
	CLI(&r, cli_self(), "helper", "caps");
	if (!ok(r.status == 0 && !strcmp(r.out, CAPS_ZERO), "root without --user: capabilities zero too"))
		diag("%s", r.out);
	CLI(&r, "--unshare-user", "--user", "nobody", cli_self(), "helper", "ids");
	if (!ok(r.status == 0 && !strcmp(r.out, "uid=65534 euid=65534 groups=0\n"),
		"--unshare-user --user nobody: maps written by the parent, uid changed inside"))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--unshare-user", cli_self(), "helper", "caps");
	if (!ok(r.status == 0 && !strcmp(r.out, CAPS_ZERO), "--unshare-user: no capability inside"))
		diag("%s", r.out);
	CLI(&r, "--user", "no-such-user-sbx", "true");
	ok(r.status == 125 && strstr(r.err, "sandbox-run: --user: unknown user"),
	   "--user unknown: 125 naming the option");
	{
		struct cli_env e = { .as_uid = 65534, .extra_fd = -1 };

		CLI_ENV(&r, &e, "--user", "nobody", "true");
		ok(r.status == 125 && strstr(r.err, "sandbox-run: --user: only root"),
		   "--user as an ordinary user: a clear error");
	}
	CLI(&r, "--user", "nobody", cli_self(), "helper", "parent");
	if (!ok(!strcmp(r.out, "kill=-1/1 ptrace=-1/1\n"),
		"worker cannot signal (EPERM: other uid) nor ptrace (EPERM: seccomp) its parent"))
		diag("%s", r.out);
	CLI(&r, cli_self(), "helper", "parent");
	if (!ok(strstr(r.out, "ptrace=-1/1\n") != NULL, "without --user ptrace is still denied"))
		diag("%s", r.out);
	/* Same uid: only Landlock's signal scope (ABI 6) stops the kill. */
	CLI(&r, "-v", cli_self(), "helper", "parent");
	if (strstr(r.err, "landlock: ABI ") && atoi(strstr(r.err, "landlock: ABI ") + 14) >= 6) {
		if (!ok(!strcmp(r.out, "kill=-1/1 ptrace=-1/1\n"),
			"without --user, Landlock ABI >= 6 scopes signals: kill of the parent EPERM"))
			diag("%s", r.out);
	} else {
		skip(1, "Landlock ABI < 6: a same-uid worker can signal its parent (use --user)");
	}
}

/* A root-owned setuid copy of this program, run as nobody: no_new_privs
 * means the exec gives nothing. */
static void setuid_case(void)
{
	char copy[128], cmd[4096 + 512];
	struct cli_result r;

	snprintf(copy, sizeof(copy), "%s/suid-helper", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chown 0:0 '%s' && chmod 4755 '%s'", cli_self(),
		 copy, copy, copy);
	if (system(cmd) != 0) {
		skip(2, "cannot make a setuid copy");
		return;
	}
	CLI(&r, "--user", "nobody", "--ro", dir, copy, "helper", "ids");
	if (!ok(r.status == 0 && !strcmp(r.out, "uid=65534 euid=65534 groups=0\n"),
		"setuid-root binary exec'd by the worker: euid stays 65534"))
		diag("%s / %s", r.out, r.err);
	CLI(&r, "--user", "nobody", "--ro", dir, "sh", "-c", "exec \"$0\" helper ids", copy);
	ok(r.status == 0 && !strcmp(r.out, "uid=65534 euid=65534 groups=0\n"),
	   "and exec'd by a shell inside: still 65534");
	unlink(copy);
}

static void fallback_cases(void)
{
	struct cli_env e = { .extra_fd = -1 };
	struct cli_result r;
	int p[2];

	e.hide_landlock = true;
	CLI_ENV(&r, &e, "-v", "--landlock=auto", "sh", "-c", "echo ran");
	ok(r.status == 0 && !strcmp(r.out, "ran\n"), "Landlock hidden, --landlock=auto: still runs");
	if (!ok(strstr(r.err, "landlock: off") != NULL, "and -v says Landlock off"))
		diag("%s", r.err);
	CLI_ENV(&r, &e, "--landlock=require", "true");
	ok(r.status == 125 && strstr(r.err, "sandbox-run: landlock:"),
	   "Landlock hidden, --landlock=require: 125 naming Landlock");

	e.hide_landlock = false;
	e.hide_close_range = true;
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	e.extra_fd = p[0];
	CLI_ENV(&r, &e, "-v", cli_self(), "helper", "fds");
	close(p[0]);
	close(p[1]);
	if (!ok(r.status == 0 && !strcmp(r.out, "0 1 2 3 \n"),
		"close_range hidden: an inherited fd is still closed (fallback loop)"))
		diag("%s / %s", r.out, r.err);
	ok(strstr(r.err, "close_range no") != NULL, "and -v reports close_range missing");
}

static void pidns_case(void)
{
	struct cli_result r;

	CLI(&r, "--unshare-pid", cli_self(), "helper", "env");
	ok(r.status == 0 && !strcmp(r.out, "fds=- names=- pid=- sbx=3\n"),
	   "--unshare-pid: worker runs");
	CLI(&r, "--unshare-pid", "sh", "-c", "echo $$");
	ok(r.status == 0 && !strcmp(r.out, "1\n"), "--unshare-pid: the worker is pid 1");
	CLI(&r, "--unshare-all", "--timeout", "1", "sleep", "30");
	ok(r.status == 124, "--unshare-all with --timeout: 124 (pid 1 killed)");
}

int main(int argc, char **argv)
{
	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (access(cli_bin(), X_OK) < 0)
		tap_skip_all("no sandbox-run at %s", cli_bin());
	fallback_cases();
	pidns_case();
	if (!tap_is_root()) {
		skip(12, "needs root (--user, setuid copies, uid switching)");
		return tap_done();
	}
	strcpy(dir, "/tmp/sbx-root-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	chmod(dir, 0755);
	user_cases();
	setuid_case();
	rmdir(dir);
	return tap_done();
}
