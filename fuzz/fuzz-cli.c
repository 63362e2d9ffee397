/*
 * libFuzzer target: sandbox-run's option parser, run_parse() then
 * run_opts_free(), on an argv split from the input at NUL bytes (argv[0] is
 * "sandbox-run"; each word is its own exact-size heap string, so ASan sees
 * a read past one). run_parse prints and returns (it never exits), so no
 * fork is needed: stdout and stderr are swapped for in-memory streams
 * during the call (the sanitizers write to fd 2 directly, unaffected).
 *
 * Invariants checked on every input:
 * - the return is -1, 0 or 1; -1 printed one "sandbox-run: ...\n"
 *   message (the words it quotes may hold newlines) on stderr, nothing on
 *   stdout; 1 (--help, --version) printed on
 *   stdout only; 0 printed nothing;
 * - outputs are bounded: an error line is at most 512 bytes plus twice the
 *   input, the help text at most 8 KiB;
 * - on 0: the program argv points into the given argv, is non-empty unless
 *   --dump-seccomp, every --ro/--rw path is absolute, the --fd/--listen/
 *   --connect names are non-empty, of [A-Za-z0-9_.-] and unique per option,
 *   at most RUN_MAX_RLIMITS rlimits with soft <= hard, json_fd -1 or >= 3,
 *   timeout 0 or 1..1000000, every --env has a '=' after its first byte;
 * - run_opts_free leaves the options empty (json_fd -1); LeakSanitizer
 *   checks that it freed everything, on every return path.
 * getopt keeps hidden state (the position inside a clustered "-vh"): it is
 * reset after each input (optind = 0) so inputs do not leak into each other.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "fuzz-util.h"
#include "privileged/sandbox-run.h"

#define MAX_WORDS 512
#define KEEP 1024

struct sink {
	size_t total;
	size_t lines;
	char keep[KEEP];   /* the first KEEP bytes */
};

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct sink *s = cookie;

	for (size_t i = 0; i < n; i++) {
		if (s->total + i < KEEP)
			s->keep[s->total + i] = buf[i];
		if (buf[i] == '\n')
			s->lines++;
	}
	s->total += n;
	return (ssize_t)n;
}

static FILE *sink_open(struct sink *s)
{
	cookie_io_functions_t io = { .write = sink_write };
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopencookie(s, "w", io);
	if (!f)
		abort();
	return f;
}

static bool name_ok(const char *n)
{
	if (!*n)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '_' || *n == '-' || *n == '.'))
			return false;
	return true;
}

static void check_named(const struct run_named *v, size_t n, size_t argc)
{
	fuzz_assert(n <= argc);
	for (size_t i = 0; i < n; i++) {
		fuzz_assert(v[i].name && v[i].value && name_ok(v[i].name));
		for (size_t j = 0; j < i; j++)
			fuzz_assert(strcmp(v[i].name, v[j].name) != 0);
	}
}

static void check_opts(const struct run_opts *o, char **argv, int argc)
{
	fuzz_assert(o->argv >= argv + 1 && o->argv <= argv + argc);
	fuzz_assert(o->argv[0] || o->dump_seccomp);
	fuzz_assert(o->npaths <= (size_t)argc);
	for (size_t i = 0; i < o->npaths; i++)
		fuzz_assert(o->paths[i].path[0] == '/' && o->paths[i].perms);
	check_named(o->fds, o->nfds, (size_t)argc);
	check_named(o->listens, o->nlistens, (size_t)argc);
	check_named(o->connects, o->nconnects, (size_t)argc);
	fuzz_assert(o->nrlimits <= RUN_MAX_RLIMITS);
	for (size_t i = 0; i < o->nrlimits; i++)
		fuzz_assert(o->rlimits[i].lim.rlim_cur <= o->rlimits[i].lim.rlim_max);
	fuzz_assert(o->json_fd == -1 || o->json_fd >= 3);
	fuzz_assert(o->timeout <= 1000000);
	for (size_t i = 0; i < o->nenv; i++)
		fuzz_assert(o->env[i][0] != '=' && strchr(o->env[i], '='));
	fuzz_assert(o->nallow <= (size_t)argc && o->ndeny <= (size_t)argc &&
		    o->npolicy_files <= (size_t)argc && o->nenv <= (size_t)argc);
	fuzz_assert(o->landlock >= RUN_LANDLOCK_AUTO && o->landlock <= RUN_LANDLOCK_OFF);
}

/* Forget getopt's position inside the previous input's words. */
static void reset_getopt(void)
{
	static char arg0[] = "x";
	char *argv[] = { arg0, NULL };

	optind = 0;
	opterr = 0;
	(void)getopt_long(1, argv, "", NULL, NULL);
	optind = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char arg0[] = "sandbox-run";
	char *argv[MAX_WORDS + 2];
	struct sink out, err;
	FILE *save_out = stdout, *save_err = stderr;
	struct run_opts o;
	int argc = 1, r;
	size_t off = 0;

	argv[0] = arg0;
	while (off < size && argc <= MAX_WORDS) {
		const uint8_t *nul = memchr(data + off, 0, size - off);
		size_t n = nul ? (size_t)(nul - (data + off)) : size - off;

		argv[argc] = malloc(n + 1);
		if (!argv[argc])
			abort();
		memcpy(argv[argc], data + off, n);
		argv[argc++][n] = 0;
		off += n + 1;
	}
	argv[argc] = NULL;

	stdout = sink_open(&out);
	stderr = sink_open(&err);
	r = run_parse(argc, argv, &o);
	fclose(stdout);
	fclose(stderr);
	stdout = save_out;
	stderr = save_err;

	if (r == -1) {
		fuzz_assert(out.total == 0 && err.lines >= 1 && err.total <= 512 + 2 * size);
		fuzz_assert(strncmp(err.keep, "sandbox-run: ", 13) == 0);
		fuzz_assert(err.total > KEEP || err.keep[err.total - 1] == '\n');
	} else if (r == 1) {
		fuzz_assert(err.total == 0 && out.total > 0 && out.total <= 8192);
	} else if (r == 0) {
		fuzz_assert(out.total == 0 && err.total == 0);
		check_opts(&o, argv, argc);
	} else {
		fuzz_fail("run_parse returned %d", r);
	}
	run_opts_free(&o);
	fuzz_assert(o.argv == NULL && o.nfds == 0 && o.npaths == 0 && o.json_fd == -1);
	reset_getopt();
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	return 0;
}
