/* Landlock ABI 6 scopes: a worker under sbx's ruleset cannot signal its
 * parent (the broker) nor connect to an abstract unix socket made outside
 * its domain; both work from an unconfined control child. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "unprivileged/landlock.h"

static struct sockaddr_un addr;
static socklen_t addrlen;

/* Bit 0: kill(parent, 0) failed with EPERM; bit 1: connect refused EPERM. */
static int probe(int confine)
{
	struct sbx_landlock *l;
	int s, r = 0;

	if (confine) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sbx_landlock_new(0, &l) < 0 || sbx_landlock_restrict(l) < 0)
			return 100;
	}
	if (kill(getppid(), 0) < 0 && errno == EPERM)
		r |= 1;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0 && connect(s, (struct sockaddr *)&addr, addrlen) < 0 && errno == EPERM)
		r |= 2;
	return r;
}

static int run(int confine)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		tap_bail("fork");
	if (pid == 0)
		_exit(probe(confine));
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	struct fd_table before;
	int abi = sbx_landlock_abi(), srv, r;

	if (getenv("SBX_UNDER_VALGRIND"))
		tap_skip_all("valgrind does not know the Landlock syscalls");
	if (abi < 6)
		tap_skip_all("Landlock ABI %d < 6: no scopes on this kernel", abi);
	tap_start();
	fd_snapshot(&before);
	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "sbx-scope-%d", (int)getpid());
	addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	if (srv < 0 || bind(srv, (struct sockaddr *)&addr, addrlen) < 0 || listen(srv, 4) < 0)
		tap_bail("abstract socket");
	r = run(0);
	is_int(r, 0, "control: an unconfined child can signal its parent and connect");
	r = run(1);
	ok(r != 100, "confined child set up its ruleset");
	ok(r >= 0 && r != 100 && (r & 1), "confined: kill(parent, 0) refused with EPERM");
	ok(r >= 0 && r != 100 && (r & 2), "confined: connect to an outside abstract socket refused");
	close(srv);
	ok(fd_same(&before), "no fd leaked");
	return tap_done();
}
