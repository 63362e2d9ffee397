/* sandbox-run: command line. Every error names the option and the reason. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <seccomp.h>

#include <sbx/policy.h>

#include "privileged/notify.h"
#include "privileged/sandbox-run.h"
#include "seccomp/filter.h"

void run_err(const char *what, int err)
{
	fprintf(stderr, "sandbox-run: %s: %s\n", what, strerror(err));
}

void run_errx(const char *fmt, ...)
{
	va_list ap;

	fputs("sandbox-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above
	va_end(ap);
	fputc('\n', stderr);
}

static const char usage[] =
	"usage: sandbox-run [options] [--] program [args...]\n"
	"files:   --ro PATH  --rw PATH  --policy FILE  --landlock=auto|require|off\n"
	"fds:     --fd NAME=PATH[:rw]  --listen NAME=tcp:HOST:PORT|unix:PATH\n"
	"         --connect NAME=ADDR (brokered)  --audit FILE\n"
	"seccomp: --seccomp=default|strict|FILE  --allow-syscall NAME\n"
	"         --deny-syscall NAME  --seccomp-action=errno|kill|log  --dump-seccomp\n"
"         --trace-denied (name each denied syscall; summary at exit)\n"
"         --no-default-grants (no built-in read-only runtime, listed below)\n"
	"network: none by default (only --listen/--connect fds); --allow-net lets\n"
	"         the worker make inet sockets (host network unless --unshare-net)\n"
	"process: --user USER (root)  --unshare-net|pid|user|all  --timeout SECS\n"
	"         --rlimit NAME=N[:M]  --env K=V  --clearenv  --chdir DIR\n"
	"output:  -v  --json-status-fd FD  --help  --version\n"
	"exit: the program's status, 128+N on signal N, 124 timeout,\n"
	"      125 sandbox-run failed, 126 not executable, 127 not found\n"
	"see sandbox-run(1)\n";

enum {
	OPT_RO = 256, OPT_RW, OPT_FD, OPT_LISTEN, OPT_CONNECT, OPT_USER, OPT_UNSHARE_NET,
	OPT_UNSHARE_ALL, OPT_LANDLOCK, OPT_SECCOMP, OPT_ALLOW, OPT_DENY, OPT_ACTION,
	OPT_DUMP, OPT_POLICY, OPT_TIMEOUT, OPT_RLIMIT, OPT_ENV, OPT_CLEARENV, OPT_CHDIR,
	OPT_AUDIT, OPT_JSON, OPT_VERSION, OPT_UNSHARE_USER, OPT_UNSHARE_PID,
	OPT_TRACE_DENIED, OPT_NO_DEFAULT_GRANTS, OPT_ALLOW_NET,
};

static const struct option longopts[] = {
	{ "ro", required_argument, NULL, OPT_RO },
	{ "rw", required_argument, NULL, OPT_RW },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "unshare-net", no_argument, NULL, OPT_UNSHARE_NET },
	{ "allow-net", no_argument, NULL, OPT_ALLOW_NET },
	{ "unshare-user", no_argument, NULL, OPT_UNSHARE_USER },
	{ "unshare-pid", no_argument, NULL, OPT_UNSHARE_PID },
	{ "unshare-all", no_argument, NULL, OPT_UNSHARE_ALL },
	{ "landlock", required_argument, NULL, OPT_LANDLOCK },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "allow-syscall", required_argument, NULL, OPT_ALLOW },
	{ "deny-syscall", required_argument, NULL, OPT_DENY },
	{ "seccomp-action", required_argument, NULL, OPT_ACTION },
	{ "dump-seccomp", no_argument, NULL, OPT_DUMP },
	{ "trace-denied", no_argument, NULL, OPT_TRACE_DENIED },
	{ "no-default-grants", no_argument, NULL, OPT_NO_DEFAULT_GRANTS },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "rlimit", required_argument, NULL, OPT_RLIMIT },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "clearenv", no_argument, NULL, OPT_CLEARENV },
	{ "chdir", required_argument, NULL, OPT_CHDIR },
	{ "audit", required_argument, NULL, OPT_AUDIT },
	{ "json-status-fd", required_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE }, { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC }, { "stack", RLIMIT_STACK }, { "memlock", RLIMIT_MEMLOCK },
	{ "locks", RLIMIT_LOCKS }, { "sigpending", RLIMIT_SIGPENDING },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE }, { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },
};

/* Append one element to a growing array; returns false when out of memory. */
static bool push(void *arrp, size_t *n, const void *elem, size_t size)
{
	void **arr = arrp;
	char *a = realloc(*arr, (*n + 1) * size);

	if (!a)
		return false;
	memcpy(a + *n * size, elem, size);
	*arr = a;
	(*n)++;
	return true;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	/* strtoul would skip blanks and take a sign after them: " -5". */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v <= max;
}

static bool parse_rlim(const char *s, rlim_t *v)
{
	unsigned long n;

	if (!strcmp(s, "unlimited") || !strcmp(s, "infinity")) {
		*v = RLIM_INFINITY;
		return true;
	}
	if (!parse_ulong(s, ULONG_MAX - 1, &n))
		return false;
	*v = n;
	return true;
}

static int opt_rlimit(struct run_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[16], soft[32];
	struct spawn_rlimit rl;
	const char *colon;
	size_t i, nlen;

	if (!eq)
		return run_errx("--rlimit: expected NAME=N, got '%s'", arg), -1;
	nlen = (size_t)(eq - arg);
	if (nlen >= sizeof(name))
		nlen = sizeof(name) - 1;
	memcpy(name, arg, nlen);
	name[nlen] = '\0';
	for (i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (!strcmp(name, rlimit_names[i].name))
			break;
	if (i == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
		return run_errx("--rlimit: unknown limit '%s'", name), -1;
	rl.resource = rlimit_names[i].res;
	colon = strchr(eq + 1, ':');
	if (colon) {
		size_t slen = (size_t)(colon - eq - 1);

		if (slen >= sizeof(soft) || (memcpy(soft, eq + 1, slen), soft[slen] = '\0',
		    !parse_rlim(soft, &rl.lim.rlim_cur)) || !parse_rlim(colon + 1, &rl.lim.rlim_max))
			return run_errx("--rlimit: bad value '%s' for %s", eq + 1, name), -1;
		if (rl.lim.rlim_cur > rl.lim.rlim_max)
			return run_errx("--rlimit: soft limit above hard limit for %s", name), -1;
	} else {
		if (!parse_rlim(eq + 1, &rl.lim.rlim_cur))
			return run_errx("--rlimit: bad value '%s' for %s", eq + 1, name), -1;
		rl.lim.rlim_max = rl.lim.rlim_cur;
	}
	if (o->nrlimits == RUN_MAX_RLIMITS)
		return run_errx("--rlimit: more than %d limits", RUN_MAX_RLIMITS), -1;
	o->rlimits[o->nrlimits++] = rl;
	return 0;
}

static bool name_ok(const char *name)
{
	/* The policy's rule for names (64 bytes), so --fd and --policy agree. */
	if (!*name || strlen(name) > 64)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return false;
	return true;
}

/* NAME=VALUE for --fd/--listen/--connect. */
static int opt_named(const char *opt, const char *arg, struct run_named **arr, size_t *n,
		     bool rw_suffix)
{
	const char *eq = strchr(arg, '=');
	struct run_named e = { 0 };

	if (!eq || eq == arg || !eq[1])
		return run_errx("%s: expected NAME=VALUE, got '%s'", opt, arg), -1;
	e.name = strndup(arg, (size_t)(eq - arg));
	e.value = strdup(eq + 1);
	if (!e.name || !e.value)
		goto nomem;
	if (!name_ok(e.name)) {
		run_errx("%s: bad name '%s' (1 to 64 letters, digits, _ - .)", opt, e.name);
		goto fail;
	}
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*arr)[i].name, e.name)) {
			run_errx("%s: name '%s' given twice", opt, e.name);
			goto fail;
		}
	if (rw_suffix) {
		size_t l = strlen(e.value);

		if (l > 3 && !strcmp(e.value + l - 3, ":rw")) {
			e.rw = true;
			e.value[l - 3] = '\0';
		}
	}
	if (!push(arr, n, &e, sizeof(e)))
		goto nomem;
	return 0;
nomem:
	run_err(opt, ENOMEM);
fail:
	free(e.name);
	free(e.value);
	return -1;
}

static int opt_path(struct run_opts *o, const char *opt, const char *arg, unsigned perms)
{
	struct run_path p = { arg, perms };

	if (arg[0] != '/')
		return run_errx("%s: '%s' is not an absolute path", opt, arg), -1;
	if (!push(&o->paths, &o->npaths, &p, sizeof(p)))
		return run_err(opt, ENOMEM), -1;
	return 0;
}

static int opt_str(const char *opt, const char *arg, const char ***arr, size_t *n)
{
	if (!push(arr, n, &arg, sizeof(arg)))
		return run_err(opt, ENOMEM), -1;
	return 0;
}

static int parse_one(struct run_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_RO:
		return opt_path(o, "--ro", arg, SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_EXEC);
	case OPT_RW:
		return opt_path(o, "--rw", arg,
				SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE | SBX_PERM_DIR);
	case OPT_FD:
		return opt_named("--fd", arg, &o->fds, &o->nfds, true);
	case OPT_LISTEN:
		if (strncmp(strchrnul(arg, '=') + (strchr(arg, '=') != NULL), "tcp:", 4) != 0 &&
		    strncmp(strchrnul(arg, '=') + (strchr(arg, '=') != NULL), "unix:", 5) != 0)
			return run_errx("--listen: expected NAME=tcp:HOST:PORT or NAME=unix:PATH, got '%s'", arg), -1;
		return opt_named("--listen", arg, &o->listens, &o->nlistens, false);
	case OPT_CONNECT:
		return opt_named("--connect", arg, &o->connects, &o->nconnects, false);
	case OPT_USER:
		o->user = arg;
		return 0;
	case OPT_UNSHARE_NET:
		o->ns |= SPAWN_NS_NET;
		return 0;
	case OPT_ALLOW_NET:
		o->allow_net = true;
		return 0;
	case OPT_UNSHARE_USER:
		o->ns |= SPAWN_NS_USER;
		return 0;
	case OPT_UNSHARE_PID:
		o->ns |= SPAWN_NS_PID;
		return 0;
	case OPT_UNSHARE_ALL:
		o->ns |= SPAWN_NS_NET | SPAWN_NS_IPC | SPAWN_NS_UTS | SPAWN_NS_PID | SPAWN_NS_MOUNT;
		return 0;
	case OPT_LANDLOCK:
		if (!strcmp(arg, "auto"))
			o->landlock = RUN_LANDLOCK_AUTO;
		else if (!strcmp(arg, "require"))
			o->landlock = RUN_LANDLOCK_REQUIRE;
		else if (!strcmp(arg, "off"))
			o->landlock = RUN_LANDLOCK_OFF;
		else
			return run_errx("--landlock: expected auto, require or off, got '%s'", arg), -1;
		return 0;
	case OPT_SECCOMP:
		o->seccomp_file = NULL;
		if (!strcmp(arg, "default"))
			o->profile = SBX_PROFILE_DEFAULT;
		else if (!strcmp(arg, "strict"))
			o->profile = SBX_PROFILE_STRICT;
		else if (arg[0] == '/' || arg[0] == '.')
			o->seccomp_file = arg;
		else
			return run_errx("--seccomp: expected default, strict or a FILE path "
					"(starting with / or .), got '%s'", arg), -1;
		return 0;
	case OPT_ALLOW:
		if (seccomp_syscall_resolve_name(arg) == __NR_SCMP_ERROR)
			return run_errx("--allow-syscall: unknown syscall '%s'", arg), -1;
		return opt_str("--allow-syscall", arg, &o->allow, &o->nallow);
	case OPT_DENY:
		if (seccomp_syscall_resolve_name(arg) == __NR_SCMP_ERROR)
			return run_errx("--deny-syscall: unknown syscall '%s'", arg), -1;
		return opt_str("--deny-syscall", arg, &o->deny, &o->ndeny);
	case OPT_ACTION:
		if (!strcmp(arg, "errno"))
			o->action = SBX_ACTION_ERRNO;
		else if (!strcmp(arg, "kill"))
			o->action = SBX_ACTION_KILL;
		else if (!strcmp(arg, "log"))
			o->action = SBX_ACTION_LOG;
		else
			return run_errx("--seccomp-action: expected errno, kill or log, got '%s'", arg), -1;
		return 0;
	case OPT_DUMP:
		o->dump_seccomp = true;
		return 0;
	case OPT_TRACE_DENIED:
		o->trace_denied = true;
		return 0;
	case OPT_NO_DEFAULT_GRANTS:
		o->no_default_grants = true;
		return 0;
	case OPT_POLICY:
		return opt_str("--policy", arg, &o->policy_files, &o->npolicy_files);
	case OPT_TIMEOUT:
		if (!parse_ulong(arg, 1000000, &v) || v == 0)
			return run_errx("--timeout: expected whole seconds (1..1000000), got '%s'", arg), -1;
		o->timeout = (unsigned)v;
		return 0;
	case OPT_RLIMIT:
		return opt_rlimit(o, arg);
	case OPT_ENV:
		if (!strchr(arg, '=') || arg[0] == '=')
			return run_errx("--env: expected K=V, got '%s'", arg), -1;
		return opt_str("--env", arg, &o->env, &o->nenv);
	case OPT_CLEARENV:
		o->clearenv = true;
		return 0;
	case OPT_CHDIR:
		o->chdir = arg;
		return 0;
	case OPT_AUDIT:
		o->audit = arg;
		return 0;
	case OPT_JSON:
		if (!parse_ulong(arg, INT_MAX, &v) || v < 3)
			return run_errx("--json-status-fd: expected an open fd >= 3, got '%s'", arg), -1;
		o->json_fd = (int)v;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	default:
		return -1;
	}
}

/* The built-in runtime grant (privileged/notify-grants.c and sandbox-run's
 * own), wrapped to 80 columns so --help stays about one screen. */
static void print_grants(void)
{
	static const char extra[] = "/usr /bin /sbin /etc/ld.so.conf /etc/ld.so.conf.d (+exec)";
	size_t col = 0;

	fputs("default grants, read-only (--no-default-grants drops them):\n", stdout);
	for (const struct notify_grant *g = notify_grants; g->path; g++) {
		size_t len = strlen(g->path) + (g->perms & SBX_PERM_WRITE ? 5 : 0);

		if (col && col + 1 + len > 78) {
			fputc('\n', stdout);
			col = 0;
		}
		col += (size_t)printf("%s%s%s", col ? " " : "  ", g->path,
				      g->perms & SBX_PERM_WRITE ? " (rw)" : "");
	}
	if (col && col + 1 + strlen(extra) > 78) {
		fputc('\n', stdout);
		col = 0;
	}
	printf("%s%s\n", col ? " " : "  ", extra);
}

int run_parse(int argc, char **argv, struct run_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->json_fd = -1;
	opterr = 0;
	/* 0, not 1: glibc then also forgets its position inside a cluster of
	 * short options from a previous call (a reused parser, the fuzzer). */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			/* The built-in runtime grant (privileged/notify-grants.c). */
			print_grants();
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("sandbox-run %s\n", SBX_VERSION);
			return 1;
		}
		if (c == '?') {
			if (optopt > 0 && optopt < 128)
				run_errx("-%c: unknown option (see --help)", optopt);
			else
				run_errx("%s: unknown option (see --help)", argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			run_errx("%s: missing value", argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg) < 0)
			return -1;
	}
	o->argv = argv + optind;
	if (!o->argv[0] && !o->dump_seccomp) {
		run_errx("no program given (see --help)");
		return -1;
	}
	return 0;
}

void run_opts_free(struct run_opts *o)
{
	struct run_named *lists[] = { o->fds, o->listens, o->connects };
	const size_t ns[] = { o->nfds, o->nlistens, o->nconnects };

	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < ns[l]; i++) {
			free(lists[l][i].name);
			free(lists[l][i].value);
		}
		free(lists[l]);
	}
	free(o->paths);
	free(o->policy_files);
	free(o->allow);
	free(o->deny);
	free(o->env);
	memset(o, 0, sizeof(*o));
	o->json_fd = -1;
}
