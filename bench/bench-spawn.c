/* bench-spawn: the cost of starting a confined /bin/true.
 *   plain    fork + execve /bin/true
 *   sbx      sandbox-run /bin/true (default profile: seccomp with notify-
 *            brokered opens, Landlock, caps dropped, no_new_privs)
 *   bwrap    bwrap --ro-bind / / /bin/true
 * all in the same run, pinned to one CPU, interleaved round by round so
 * drift hits every variant alike. Usage: bench-spawn [iterations] [cpu]
 * (sandbox-run is looked up next to this program's build dir, or $SANDBOX_RUN). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run argv once with stdio on /dev/null; returns the elapsed seconds, or
 * -1 when it did not exit 0. */
static double run_once(char *const argv[])
{
	double t0 = now();
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now() - t0;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	int cpu = argc > 2 ? atoi(argv[2]) : 0;
	char sbx[PATH_MAX], self[PATH_MAX];
	const char *env = getenv("SANDBOX_RUN");
	cpu_set_t set;
	ssize_t n;

	if (iters <= 0)
		iters = 200;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return perror("readlink"), 1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0'; /* <build>/bench */
	*strrchr(self, '/') = '\0'; /* <build> */
	if (env)
		snprintf(sbx, sizeof(sbx), "%s", env);
	else if (strlen(self) + sizeof("/sandbox-run") <= sizeof(sbx))
		strcat(strcpy(sbx, self), "/sandbox-run");
	else
		return fprintf(stderr, "bench-spawn: path too long\n"), 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("sched_setaffinity (unpinned)");

	{
		char *plain[] = { "/bin/true", NULL };
		char *sb[] = { sbx, "/bin/true", NULL };
		char *bw[] = { "/usr/bin/bwrap", "--ro-bind", "/", "/", "/bin/true", NULL };
		struct { const char *name; char **argv; double total; int ok; } v[] = {
			{ "fork+exec /bin/true", plain, 0, 0 },
			{ "sandbox-run /bin/true", sb, 0, 0 },
			{ "bwrap --ro-bind / / /bin/true", bw, 0, 0 },
		};
		size_t nv = sizeof(v) / sizeof(v[0]);

		for (size_t j = 0; j < nv; j++) /* warm up, and check each works */
			if (run_once(v[j].argv) < 0) {
				fprintf(stderr, "bench-spawn: %s failed; skipped\n", v[j].name);
				v[j].ok = -1;
			}
		for (int i = 0; i < iters; i++)
			for (size_t j = 0; j < nv; j++) {
				double t;

				if (v[j].ok < 0)
					continue;
				t = run_once(v[j].argv);
				if (t >= 0) {
					v[j].total += t;
					v[j].ok++;
				}
			}
		printf("bench-spawn: %d iterations, pinned to CPU %d\n", iters, cpu);
		for (size_t j = 0; j < nv; j++)
			if (v[j].ok > 0)
				printf("  %-32s %8.3f ms/run\n", v[j].name, v[j].total / v[j].ok * 1e3);
		if (v[1].ok > 0 && v[2].ok > 0)
			printf("  sandbox-run / bwrap            %8.2fx\n",
			       (v[1].total / v[1].ok) / (v[2].total / v[2].ok));
		if (v[1].ok > 0 && v[0].ok > 0)
			printf("  sandbox-run / fork+exec        %8.2fx\n",
			       (v[1].total / v[1].ok) / (v[0].total / v[0].ok));
	}
	return 0;
}
