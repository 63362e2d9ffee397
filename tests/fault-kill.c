/* Faults by death. (1) Children SIGKILLed at random points of their
 * requests (before the first, while requests flow, after sending without
 * reading the reply, while flooding): the broker keeps serving a bystander
 * child whose every reply is checked, and its fd table returns to the
 * baseline after each kill. The points come from a seeded PRNG (the seed
 * is printed; SBX_SEED replays it). (2) The parent killed: a worker started
 * by sandbox-run, and one started by sbx_spawn, die when their parent is
 * SIGKILLed (PR_SET_PDEATHSIG); this test is their subreaper and reaps
 * them within a generous bound (10 s: a bound, not a timing check). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "privileged/spawn.h"
#include "soak-util.h"
#include "tap.h"

extern char **environ;

#define BYST_TYPE (SBX_REQ_CUSTOM_MIN + 1)
#define ECHO_TYPE (SBX_REQ_CUSTOM_MIN + 2)

static char dir[PATH_MAX];
static char file[PATH_MAX + 16];
static bool stop_bystander;
static unsigned long byst_served;

struct byst {
	uint32_t seq;
	uint32_t stop;
};

static int byst_handler(struct sbx_call *call, void *ud)
{
	struct byst r;

	(void)ud;
	if (call->len != sizeof(uint32_t))
		return -EBADMSG;
	memcpy(&r.seq, call->data, sizeof(r.seq));
	r.stop = stop_bystander;
	memcpy(call->reply, &r, sizeof(r));
	call->reply_len = sizeof(r);
	byst_served++;
	return 0;
}

static int echo_handler(struct sbx_call *call, void *ud)
{
	(void)ud;
	if (call->len > SBX_MSG_MAX)
		return -EBADMSG;
	memcpy(call->reply, call->data, call->len);
	call->reply_len = call->len;
	return 0;
}

/* The bystander: sequence numbers checked, until the broker says stop. */
static int bystander(int sock, int keep, void *arg)
{
	struct sbx_client *c;
	struct byst r;
	size_t len;

	(void)keep;
	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	for (uint32_t seq = 1;; seq++) {
		if (sbx_client_call(c, BYST_TYPE, &seq, sizeof(seq), NULL, 0, &r, sizeof(r),
				    &len, NULL, 0, NULL) < 0)
			return 11;
		if (len != sizeof(r) || r.seq != seq)
			return 12;
		if (r.stop)
			break;
	}
	sbx_client_free(c);
	return 0;
}

enum victim_kind { V_IDLE, V_FLOW, V_NO_READ, V_FLOOD, V_NKINDS };
static const char *const kind_name[] = { "idle", "flowing", "unread reply", "flood" };

/* A victim: requests until killed (bounded anyway). Its PRNG state was
 * inherited from the parent at fork, so each victim differs. */
static int victim(int sock, int keep, void *arg)
{
	enum victim_kind k = (enum victim_kind)(intptr_t)arg;
	struct sbx_client *c;
	uint32_t seq = 0;

	(void)keep;
	signal(SIGPIPE, SIG_IGN);
	if (k == V_IDLE)
		for (;;)
			pause();
	if (k == V_NO_READ || k == V_FLOOD) {
		unsigned n = k == V_NO_READ ? 1 : 64;

		for (unsigned i = 0; i < n; i++)
			if (sbx_msg_send(sock, ECHO_TYPE, i + 1, &seq, sizeof(seq), NULL, 0) < 0)
				break;
		for (;;)
			pause();
	}
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	for (unsigned i = 0; i < 100000; i++) {
		int fd;

		switch (soak_rand(3)) {
		case 0:
			fd = sbx_client_open(c, file, O_RDONLY, 0);
			if (fd >= 0)
				close(fd);
			break;
		case 1:
			fd = sbx_client_get(c, "null");
			if (fd >= 0)
				close(fd);
			break;
		default:
			seq++;
			sbx_client_call(c, ECHO_TYPE, &seq, sizeof(seq), NULL, 0, NULL, 0, NULL,
					NULL, 0, NULL);
		}
	}
	sbx_client_free(c);
	return 0;
}

/* Dispatch until the broker serves exactly n children (bounded). */
static bool settle(struct sbx_broker *b, int n)
{
	for (int i = 0; i < 1000000 && sbx_broker_children(b) != n; i++)
		if (sbx_broker_dispatch(b, 100) < 0)
			return false;
	return sbx_broker_children(b) == n;
}

static void random_kills(void)
{
	unsigned rounds = soak_under_valgrind() ? 40 : 400;
	unsigned restored = 0, settled = 0, by_kind[V_NKINDS] = { 0 };
	unsigned long served_during = 0;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct fd_table base, start;
	pid_t byst;

	fd_snapshot(&start);
	p = soak_policy(dir);
	if (sbx_broker_new(p, &b) < 0 ||
	    sbx_broker_register(b, BYST_TYPE, 0, byst_handler, NULL) < 0 ||
	    sbx_broker_register(b, ECHO_TYPE, 0, echo_handler, NULL) < 0)
		tap_bail("broker");
	byst = soak_fork(b, -1, bystander, NULL, NULL);
	fd_snapshot(&base);
	soak_seed("random kills");
	for (unsigned i = 0; i < rounds; i++) {
		enum victim_kind k = (enum victim_kind)soak_rand(V_NKINDS);
		unsigned spins = soak_rand(40);
		unsigned long served = byst_served;
		pid_t v;

		by_kind[k]++;
		v = soak_fork(b, -1, victim, (void *)(intptr_t)k, NULL);
		for (unsigned j = 0; j < spins; j++) {
			if (sbx_broker_dispatch(b, 100) < 0)
				break;
			if (soak_rand(4) == 0)
				sched_yield();
		}
		kill(v, SIGKILL);
		if (settle(b, 1))
			settled++;
		else
			diag("round %u (%s): the killed child is still served", i, kind_name[k]);
		tap_reap(v);
		if (fd_same(&base))
			restored++;
		else
			diag("round %u (%s): fd table differs after the kill", i, kind_name[k]);
		served_during += byst_served - served;
	}
	is_int(settled, rounds, "random kills: the broker dropped each of %u killed children "
	       "(idle %u, flowing %u, unread reply %u, flood %u)", rounds, by_kind[V_IDLE],
	       by_kind[V_FLOW], by_kind[V_NO_READ], by_kind[V_FLOOD]);
	is_int(restored, rounds, "random kills: fd table back to the baseline after every kill");
	ok(served_during > 0, "random kills: the bystander was served meanwhile (%lu requests)",
	   served_during);
	stop_bystander = true;
	ok(settle(b, 0), "random kills: the bystander was told to stop and left");
	is_int(tap_reap(byst), 0, "random kills: the bystander saw every reply, in order");
	sbx_broker_free(b);
	sbx_policy_free(p);
	ok(fd_same(&start), "random kills: fd table as before the case");
}

/* ---- the parent killed ---- */

struct proc_arg {
	pid_t parent;
	const char *comm;
	pid_t found;
};

static bool read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

/* A child of a->parent named a->comm (any of its threads). */
static bool find_child(void *arg)
{
	struct proc_arg *a = arg;
	char path[64], buf[4096], comm[32];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)a->parent);
	d = opendir(path);
	if (!d)
		return false;
	while (!a->found && (e = readdir(d))) {
		char cpath[384];
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "%s/%s/children", path, e->d_name);
		fd = open(cpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		for (char *s = strtok(buf, " \n"); s; s = strtok(NULL, " \n")) {
			pid_t c = (pid_t)atoi(s);

			if (read_comm(c, comm, sizeof(comm)) && !strcmp(comm, a->comm)) {
				a->found = c;
				break;
			}
		}
	}
	closedir(d);
	return a->found != 0;
}

struct reap_arg {
	pid_t pid;
	int status;
	bool done;
};

static bool reaped(void *arg)
{
	struct reap_arg *a = arg;
	int st;
	pid_t r = waitpid(a->pid, &st, WNOHANG);

	if (r == a->pid) {
		a->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		a->done = true;
	}
	return a->done;
}

/* The worker of a SIGKILLed parent must go, and come to us (subreaper). */
static void check_orphan_dies(const char *what, pid_t worker, bool brokered)
{
	struct reap_arg ra = { .pid = worker };

	ok(soak_wait_for(reaped, &ra), "%s: the worker died after its parent was SIGKILLed", what);
	if (ra.done && brokered)
		/* The parent's exit closes its fds (the seccomp listener among
		 * them) before the death signal is sent: a worker blocked in a
		 * brokered open gets ENOSYS and may exit on its own first (the
		 * dynamic loader: 127). Either way it is gone. */
		ok(ra.status == 128 + SIGKILL || ra.status < 128,
		   "%s: the worker was killed by SIGKILL (pdeathsig) or exited when its "
		   "supervisor vanished (status %d)", what, ra.status);
	else if (ra.done)
		is_int(ra.status, 128 + SIGKILL, "%s: the worker was killed by SIGKILL (pdeathsig)",
		       what);
	else {
		kill(worker, SIGKILL);
		tap_reap(worker);
		skip(1, "worker did not die");
	}
}

static void sandbox_run_killed(void)
{
	char exe[PATH_MAX];
	struct fd_table before;
	struct proc_arg a = { .comm = "sleep" };
	pid_t sr;

	snprintf(exe, sizeof(exe), "%s/sandbox-run", tap_build_dir());
	if (access(exe, X_OK) < 0) {
		skip(4, "%s not built", exe);
		return;
	}
	fd_snapshot(&before);
	sr = fork();
	if (sr < 0)
		tap_bail("fork");
	if (sr == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(98);
		execl(exe, "sandbox-run", "--", "/bin/sleep", "1000", (char *)NULL);
		_exit(127);
	}
	a.parent = sr;
	if (!soak_wait_for(find_child, &a)) {
		kill(sr, SIGKILL);
		tap_reap(sr);
		ok(0, "sandbox-run: its worker (sleep) appeared");
		skip(3, "no worker");
		return;
	}
	ok(1, "sandbox-run: its worker (sleep, pid %d) appeared", (int)a.found);
	kill(sr, SIGKILL);
	tap_reap(sr);
	check_orphan_dies("sandbox-run", a.found, true);
	ok(fd_same(&before), "sandbox-run killed: fd table unchanged");
}

static bool no_child_left(void *arg)
{
	unsigned *reaped_n = arg;
	pid_t r;

	while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
		++*reaped_n;
	return r < 0 && errno == ECHILD;
}

/* sandbox-run SIGKILLed at seeded random points of its start-up (before,
 * during and after the worker's exec): no descendant may survive it. We
 * are the subreaper: every orphan comes to us, and all must be gone. */
static void sandbox_run_killed_early(void)
{
	unsigned rounds = soak_under_valgrind() ? 10 : 40, clean = 0, orphans = 0;
	char exe[PATH_MAX];
	struct fd_table before;

	snprintf(exe, sizeof(exe), "%s/sandbox-run", tap_build_dir());
	if (access(exe, X_OK) < 0) {
		skip(2, "%s not built", exe);
		return;
	}
	fd_snapshot(&before);
	for (unsigned i = 0; i < rounds; i++) {
		struct timespec ts = { 0, (long)soak_rand(4000) * 1000 };
		pid_t sr = fork();

		if (sr < 0)
			tap_bail("fork");
		if (sr == 0) {
			int null = open("/dev/null", O_RDWR);

			if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
			    dup2(null, 2) < 0)
				_exit(98);
			execl(exe, "sandbox-run", "--", "/bin/sleep", "1000", (char *)NULL);
			_exit(127);
		}
		nanosleep(&ts, NULL);
		kill(sr, SIGKILL);
		tap_reap(sr);
		if (soak_wait_for(no_child_left, &orphans)) {
			clean++;
			continue;
		}
		diag("round %u (after %ld us): a descendant of sandbox-run survived it", i,
		     ts.tv_nsec / 1000);
		{
			struct proc_arg a = { .parent = getpid(), .comm = "sleep" };

			if (find_child(&a)) {
				kill(a.found, SIGKILL);
				tap_reap(a.found);
			}
		}
	}
	is_int(clean, rounds, "sandbox-run SIGKILLed at %u random points of its start-up: "
	       "no descendant survived (%u orphans reaped)", rounds, orphans);
	ok(fd_same(&before), "sandbox-run killed early: fd table unchanged");
}

static void spawn_parent_killed(void)
{
	struct fd_table before;
	struct proc_arg a = { .comm = "sleep" };
	int pfd[2];
	pid_t mid, worker = 0;

	fd_snapshot(&before);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	mid = fork();
	if (mid < 0)
		tap_bail("fork");
	if (mid == 0) {
		char *argv[] = { "sleep", "1000", NULL };
		struct sbx_spawn_desc d = {
			.path = "/bin/sleep",
			.argv = argv,
			.envp = environ,
			.chan_fd = -1,
			.landlock_fd = -1,
		};
		struct sbx_spawned sp;
		struct spawn_error err;

		close(pfd[0]);
		if (sbx_spawn(&d, &sp, &err) < 0)
			_exit(10);
		if (write(pfd[1], &sp.pid, sizeof(sp.pid)) != sizeof(sp.pid))
			_exit(11);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], &worker, sizeof(worker)) != sizeof(worker)) {
		close(pfd[0]);
		ok(0, "sbx_spawn: the intermediate parent started a worker (exit %d)",
		   tap_reap(mid));
		skip(3, "no worker");
		return;
	}
	close(pfd[0]);
	a.parent = mid;
	ok(soak_wait_for(find_child, &a) && a.found == worker,
	   "sbx_spawn: worker %d running sleep under its parent", (int)worker);
	kill(mid, SIGKILL);
	tap_reap(mid);
	check_orphan_dies("sbx_spawn", worker, false);
	ok(fd_same(&before), "parent killed: fd table unchanged");
}

int main(void)
{
	tap_start();
	soak_tree("fault-kill", dir, sizeof(dir), file, sizeof(file));

	random_kills();

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		tap_bail("PR_SET_CHILD_SUBREAPER");
	sandbox_run_killed();
	sandbox_run_killed_early();
	spawn_parent_killed();

	unlink(file);
	rmdir(dir);
	return tap_done();
}
