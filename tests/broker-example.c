/* The privsep example drives the broker end to end: wc-privsep counts like
 * wc, through a confined worker that asks for each file by name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static int run(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n;
	int st;

	if (!f)
		tap_bail("popen");
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int main(void)
{
	char exe[4096], cmd[8192], out[4096], want[512];
	char f1[] = "/tmp/sbx-wc-XXXXXX";
	struct fd_table before;
	int fd;

	snprintf(exe, sizeof(exe), "%s/examples/wc-privsep", tap_build_dir());
	if (access(exe, X_OK) < 0)
		tap_skip_all("%s not built", exe);
	tap_start();
	fd_snapshot(&before);
	fd = mkstemp(f1);
	if (fd < 0 || write(fd, "hello world\nfoo  bar baz\n", 25) != 25)
		tap_bail("mkstemp");
	close(fd);

	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' 2>/dev/null", exe, f1, f1);
	is_int(run(cmd, out, sizeof(out)), 0, "two files: exit 0");
	snprintf(want, sizeof(want),
		 "      2       5      25 %s\n      2       5      25 %s\n      4      10      50 total\n",
		 f1, f1);
	ok(!strcmp(out, want), "two files: counts and total like wc");
	if (strcmp(out, want))
		diag("got:\n%s", out);

	snprintf(cmd, sizeof(cmd), "'%s' /nonexistent-sbx '%s' 2>&1", exe, f1);
	is_int(run(cmd, out, sizeof(out)), 1, "a missing file: exit 1");
	ok(strstr(out, "/nonexistent-sbx: No such file or directory") &&
	   strstr(out, "      2       5      25 "), "a missing file: reported, the other counted");
	snprintf(cmd, sizeof(cmd), "'%s' 2>/dev/null", exe);
	is_int(run(cmd, out, sizeof(out)), 2, "no argument: usage, exit 2");
	unlink(f1);
	ok(fd_same(&before), "fd table unchanged");
	return tap_done();
}
