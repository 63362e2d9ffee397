/* sbx_spawn directly: fds placed at 3.. when the sources sit on the target
 * numbers in every order, the channel after them, the step and errno of a
 * failing step, bad descriptions refused, and the caller's fd table
 * unchanged on every path. The worker is this program in "helper" mode. */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>

#include "cli-run.h"
#include <sbx/proto.h>

#include "privileged/spawn.h"

/* Helper: print "dev:ino " of fds 3..3+n. */
static int helper_inodes(int n)
{
	for (int fd = 3; fd < 3 + n; fd++) {
		struct stat st;

		if (fstat(fd, &st) < 0)
			printf("- ");
		else
			printf("%lu:%lu ", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	}
	printf("\n");
	return 0;
}

/* The signals signals_case changes in the caller: caught, ignored (two
 * real-time), blocked. Only these are checked in the worker: a sanitizer
 * runtime installs handlers of its own (SIGSEGV, SIGBUS, ...). */
#define CASE_SIGNALS { SIGUSR1, SIGHUP, SIGRTMIN + 3, SIGRTMAX }
#define CASE_BLOCKED { SIGUSR2, SIGRTMIN + 4 }

/* Helper: which of those are not at SIG_DFL, which are blocked. */
static int helper_signals(void)
{
	const int sigs[] = CASE_SIGNALS, blocked[] = CASE_BLOCKED;
	sigset_t mask;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	printf("not default:");
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
			printf(" %d", sigs[i]);
	}
	printf("; blocked:");
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		if (sigismember(&mask, blocked[i]) != 0)
			printf(" %d", blocked[i]);
	printf("\n");
	return 0;
}

static char *const base_env[] = { "PATH=/usr/bin:/bin", "LISTEN_FDS=7", NULL };

/* Run the helper with d (argv/path filled here), capture stdout. */
static int spawn_capture(struct sbx_spawn_desc *d, char *const argv[], char *out, size_t len,
			 struct spawn_error *err)
{
	struct sbx_spawned sp;
	int p[2], r, st;
	ssize_t n;
	size_t got = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe2");
	d->path = cli_self();
	d->argv = argv;
	d->envp = base_env;
	/* stdout of the worker: our pipe, placed at 1 by a dup around the call. */
	{
		int saved = dup(1);

		dup2(p[1], 1);
		r = sbx_spawn(d, &sp, err);
		dup2(saved, 1);
		close(saved);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	if (r < 0)
		return r;
	waitpid(sp.pid, &st, 0);
	if (sp.pidfd >= 0)
		close(sp.pidfd);
	if (sp.listener >= 0)
		close(sp.listener);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ino_of(int fd, char *buf, size_t len)
{
	struct stat st;

	fstat(fd, &st);
	snprintf(buf + strlen(buf), len - strlen(buf), "%lu:%lu ", (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino);
}

/* Put three distinct files on fds 3, 4, 5 and the channel on 6, then ask
 * for them in the order perm[]: sources collide with targets. */
static void overlap_case(const int perm[3], const char *label)
{
	static const char *const files[] = { "/dev/null", "/etc/passwd", "/" };
	struct spawn_fd fds[3];
	struct sbx_spawn_desc d;
	struct fd_table before;
	struct spawn_error err;
	char out[512], want[512] = "", nstr[8];
	char *argv[] = { (char *)"helper", (char *)"helper", (char *)"inodes", nstr, NULL };
	int opened[4], sv[2];

	fd_snapshot(&before);
	/* Claim 3..6 in order (lowest free numbers). */
	for (int i = 0; i < 3; i++) {
		opened[i] = open(files[i], O_RDONLY | O_CLOEXEC);
		if (opened[i] < 0)
			tap_bail("open %s", files[i]);
	}
	if (sbx_socketpair(sv) < 0)
		tap_bail("socketpair");
	for (int i = 0; i < 3; i++) {
		fds[i].name = i == 0 ? "a" : i == 1 ? "b" : "c";
		fds[i].fd = opened[perm[i]];
		ino_of(opened[perm[i]], want, sizeof(want));
	}
	ino_of(sv[1], want, sizeof(want));
	strcat(want, "\n");
	memset(&d, 0, sizeof(d));
	d.fds = fds;
	d.nfds = 3;
	d.chan_fd = sv[1];
	d.landlock_fd = -1;
	snprintf(nstr, sizeof(nstr), "4");
	is_int(spawn_capture(&d, argv, out, sizeof(out), &err), 0, "%s: worker ran", label);
	if (!ok(!strcmp(out, want), "%s: fds 3,4,5 and the channel at 6 are the right files", label))
		diag("got %s want %s", out, want);
	for (int i = 0; i < 3; i++)
		close(opened[i]);
	close(sv[0]);
	close(sv[1]);
	ok(fd_same(&before), "%s: caller's fd table unchanged", label);
}

static void error_cases(void)
{
	struct sbx_spawn_desc d;
	struct spawn_error err;
	struct sbx_spawned sp;
	struct fd_table before;
	struct spawn_fd bad = { "a:b", 0 };
	char out[256];
	char *argv[] = { (char *)"helper", (char *)"helper", (char *)"exit", (char *)"0", NULL };

	fd_snapshot(&before);
	memset(&d, 0, sizeof(d));
	d.chan_fd = -1;
	d.landlock_fd = -1;
	d.chdir = "/nonexistent-sbx";
	is_int(spawn_capture(&d, argv, out, sizeof(out), &err), -ENOENT, "chdir failure: -ENOENT");
	ok(err.step == SPAWN_STEP_CHDIR && err.err == ENOENT, "reported as step %s, errno %d",
	   spawn_step_name(err.step), err.err);
	ok(fd_same(&before), "no fd left after a failed step");

	d.chdir = NULL;
	d.path = "/nonexistent-sbx/prog";
	d.argv = argv;
	d.envp = base_env;
	is_int(sbx_spawn(&d, &sp, &err), -ENOENT, "execve failure: -ENOENT");
	ok(err.step == SPAWN_STEP_EXEC && spawn_exec_status(err.err) == 127,
	   "step execve, exit status 127");
	d.path = "/etc/passwd";
	is_int(sbx_spawn(&d, &sp, &err), -EACCES, "not executable: -EACCES");
	is_int(spawn_exec_status(err.err), 126, "exit status 126");

	d.path = "relative";
	is_int(sbx_spawn(&d, &sp, &err), -EINVAL, "a path without '/' is refused");
	d.path = cli_self();
	d.fds = &bad;
	d.nfds = 1;
	is_int(sbx_spawn(&d, &sp, &err), -EINVAL, "a name with ':' is refused");
	d.nfds = 0;
	d.landlock_fd = 1;
	is_int(sbx_spawn(&d, &sp, &err), -EINVAL, "a landlock fd below 3 is refused");
	is_int(sbx_spawn(NULL, &sp, &err), -EINVAL, "NULL description");
	ok(fd_same(&before), "fd table unchanged after the refusals");
}

static void *idle_thread(void *arg)
{
	int *stop = arg;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

static unsigned task_uid(pid_t tid)
{
	char path[64], line[256];
	unsigned r = ~0u, e = ~0u;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2)
			break;
	if (f)
		fclose(f);
	return r == e ? r : ~0u;
}

/* A uid change in the worker started from a multithreaded caller: the
 * child may share the caller's memory (vfork-style), so it must not use
 * libc's set*id wrappers, which signal every thread of the caller. */
static void setid_threads_case(void)
{
	struct sbx_spawn_desc d;
	struct spawn_error err;
	char out[256];
	char *argv[] = { (char *)"helper", (char *)"helper", (char *)"ids", NULL };
	pthread_t th;
	int stop = 0;

	if (!tap_is_root()) {
		skip(3, "uid change needs root");
		return;
	}
	if (pthread_create(&th, NULL, idle_thread, &stop) != 0)
		tap_bail("pthread_create");
	memset(&d, 0, sizeof(d));
	d.chan_fd = -1;
	d.landlock_fd = -1;
	d.change_id = true;
	d.uid = 65534;
	d.gid = 65534;
	is_int(spawn_capture(&d, argv, out, sizeof(out), &err), 0, "uid change from a threaded caller: worker ran");
	out[strcspn(out, "\n")] = '\0';
	ok(strstr(out, "uid=65534 euid=65534 groups=0") != NULL, "  ...as 65534, no groups (%s)", out);
	{
		DIR *dir = opendir("/proc/self/task");
		struct dirent *e;
		int all_root = dir != NULL;

		while (dir && (e = readdir(dir)))
			if (e->d_name[0] != '.' && task_uid(atoi(e->d_name)) != 0)
				all_root = 0;
		if (dir)
			closedir(dir);
		ok(all_root && getuid() == 0, "  ...and every thread of the caller is still uid 0");
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
}

static void on_usr1(int s)
{
	(void)s;
}

/* Signals the caller caught, ignored (its own or inherited) or blocked are
 * all back to default, unblocked, in the worker, real-time ones too
 * (the child resets only what /proc/self/status says is not SIG_DFL). */
static void signals_case(void)
{
	struct sigaction catch = { .sa_handler = on_usr1 }, ign = { .sa_handler = SIG_IGN };
	struct sigaction old[4];
	const int sigs[4] = CASE_SIGNALS, blocked[2] = CASE_BLOCKED;
	char *argv[] = { (char *)"helper", (char *)"helper", (char *)"signals", NULL };
	struct sbx_spawn_desc d;
	struct spawn_error err;
	sigset_t block, oldmask;
	char out[512];

	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], i == 0 ? &catch : &ign, &old[i]);
	sigemptyset(&block);
	for (int i = 0; i < 2; i++)
		sigaddset(&block, blocked[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	memset(&d, 0, sizeof(d));
	d.chan_fd = -1;
	d.landlock_fd = -1;
	is_int(spawn_capture(&d, argv, out, sizeof(out), &err), 0, "signals: worker ran");
	if (!ok(!strcmp(out, "not default:; blocked:\n"),
		"caught, ignored (real-time too) and blocked signals: all default in the worker"))
		diag("%s", out);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
}

static void misc_cases(void)
{
	char *p = spawn_find_program("sh", "/nonexistent-sbx:/usr/bin:/bin");

	ok(p && !strcmp(p, "/usr/bin/sh"), "PATH search skips a missing dir");
	free(p);
	p = spawn_find_program("no-such-prog-sbx", "/usr/bin");
	ok(!p && errno == ENOENT, "not found: ENOENT");
	p = spawn_find_program("passwd", "/etc:/nonexistent-sbx");
	ok(!p && errno == EACCES, "found but not executable: EACCES");
	is_int(strcmp(spawn_step_name(SPAWN_STEP_LANDLOCK), "landlock"), 0, "step names");
}

int main(int argc, char **argv)
{
	static const int perms[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 }, { 2, 0, 1 } };

	if (argc > 3 && !strcmp(argv[1], "helper") && !strcmp(argv[2], "inodes"))
	{
		int rc = helper_inodes(atoi(argv[3]));

		fflush(stdout);
		_exit(rc); /* no sanitizer exit-time checks inside the sandbox */
	}
	if (argc > 2 && !strcmp(argv[1], "helper") && !strcmp(argv[2], "signals")) {
		int rc = helper_signals();

		fflush(stdout);
		_exit(rc);
	}
	CLI_HELPER_MAIN(argc, argv);
	tap_start();
	if (getenv("SBX_UNDER_VALGRIND"))
		diag("the workers are forked children: valgrind follows only this process");
	for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		char label[32];

		snprintf(label, sizeof(label), "order %d%d%d", perms[i][0], perms[i][1], perms[i][2]);
		overlap_case(perms[i], label);
	}
	error_cases();
	setid_threads_case();
	signals_case();
	misc_cases();
	return tap_done();
}
