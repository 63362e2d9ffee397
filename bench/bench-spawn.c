/* bench-spawn: the cost of starting a confined /bin/true.
 *   plain    fork + execve /bin/true
 *   sbx      sandbox-run /bin/true (default profile: seccomp with notify-
 *            brokered opens, Landlock, caps dropped, no_new_privs)
 *   bwrap    bwrap --ro-bind / / /bin/true
 *   base     (only with $SANDBOX_RUN_BASE, a colon-separated list of up to
 *            8 sandbox-run builds) other versions, compared in the same run
 * all in the same run, pinned to one CPU, interleaved round by round so
 * drift hits every variant alike. Prints the median and the mean of each,
 * and the ratios of the medians (the machine is shared: the median shrugs
 * off the runs another process's burst lands on).
 * Usage: bench-spawn [iterations] [cpu]
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct variant {
	const char *name;
	char **argv;
	double *t;
	int ok;
	double median, mean;
};

static void ratio(const struct variant *a, const struct variant *b)
{
	if (a->ok > 0 && b->ok > 0)
		printf("  %-14.14s / %-15.15s %8.2fx  (means %.2fx)\n",
		       strrchr(a->name, '/') ? "that build" : a->name,
		       strrchr(b->name, '/') ? "that build" : b->name,
		       a->median / b->median, a->mean / b->mean);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	int cpu = argc > 2 ? atoi(argv[2]) : 0;
	char sbx[PATH_MAX], self[PATH_MAX];
	const char *env = getenv("SANDBOX_RUN"), *base = getenv("SANDBOX_RUN_BASE");
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
		char *bs[8][3], *list = base ? strdup(base) : NULL, *save = NULL;
		struct variant v[3 + 8] = {
			{ "fork+exec", plain, NULL, 0, 0, 0 },
			{ "sandbox-run", sb, NULL, 0, 0, 0 },
			{ "bwrap", bw, NULL, 0, 0, 0 },
		};
		size_t nv = 3;

		for (char *t = list ? strtok_r(list, ":", &save) : NULL; t && nv < 3 + 8;
		     t = strtok_r(NULL, ":", &save)) {
			bs[nv - 3][0] = t;
			bs[nv - 3][1] = "/bin/true";
			bs[nv - 3][2] = NULL;
			v[nv].name = t;
			v[nv].argv = bs[nv - 3];
			nv++;
		}

		for (size_t j = 0; j < nv; j++) { /* warm up, and check each works */
			v[j].t = calloc((size_t)iters, sizeof(double));
			if (!v[j].t)
				return perror("calloc"), 1;
			if (run_once(v[j].argv) < 0) {
				fprintf(stderr, "bench-spawn: %s failed; skipped\n", v[j].name);
				v[j].ok = -1;
			}
		}
		for (int i = 0; i < iters; i++)
			for (size_t j = 0; j < nv; j++) {
				double t;

				if (v[j].ok < 0)
					continue;
				t = run_once(v[j].argv);
				if (t >= 0)
					v[j].t[v[j].ok++] = t;
			}
		printf("bench-spawn: %d iterations, pinned to CPU %d, interleaved\n", iters, cpu);
		printf("  %-32s %10s %10s\n", "", "median", "mean");
		for (size_t j = 0; j < nv; j++) {
			double sum = 0;

			if (v[j].ok <= 0)
				continue;
			for (int i = 0; i < v[j].ok; i++)
				sum += v[j].t[i];
			qsort(v[j].t, (size_t)v[j].ok, sizeof(double), cmp_double);
			v[j].median = v[j].t[v[j].ok / 2];
			v[j].mean = sum / v[j].ok;
			printf("  %-32s %7.3f ms %7.3f ms\n",
			       j == 0 ? "fork+exec /bin/true" : j == 1 ? "sandbox-run /bin/true" :
			       j == 2 ? "bwrap --ro-bind / / /bin/true" : v[j].name,
			       v[j].median * 1e3, v[j].mean * 1e3);
		}
		ratio(&v[1], &v[2]);
		ratio(&v[1], &v[0]);
		ratio(&v[2], &v[0]);
		for (size_t j = 3; j < nv; j++) {
			printf("  %s:\n", v[j].name);
			ratio(&v[j], &v[2]);
			ratio(&v[1], &v[j]);
		}
		for (size_t j = 0; j < nv; j++)
			free(v[j].t);
		free(list);
	}
	return 0;
}
