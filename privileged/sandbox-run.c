/* sandbox-run: run an unmodified program confined (DESIGN.md). This file
 * builds what the spawn needs: the policy, the fds to pass, the Landlock
 * ruleset, the seccomp program; then spawns and runs the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/policy.h>

#include "privileged/notify.h"
#include "privileged/policy-internal.h"
#include "privileged/sandbox-run.h"
#include "seccomp/filter.h"
#include "unprivileged/landlock.h"

extern char **environ;

/* The read-only runtime every dynamically linked program needs, on top of
 * notify_grants (loader, libraries, locales, time zones, devices), which
 * build_policy adds after these, less what these cover. */
static const struct run_path runtime_paths[] = {
	{ "/usr", SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_EXEC },
	{ "/bin", SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_EXEC },
	{ "/sbin", SBX_PERM_READ | SBX_PERM_DIR | SBX_PERM_EXEC },
	{ "/etc/ld.so.conf", SBX_PERM_READ },
	{ "/etc/ld.so.conf.d", SBX_PERM_READ | SBX_PERM_DIR },
};

static const char no_lookup[] = "is not a numeric address or localhost (sandbox-run "
				"does no name lookups)";

struct run {
	struct run_opts o;
	struct sbx_policy *policy;
	struct sbx_landlock *landlock;
	int landlock_fd;
	struct sbx_bpf *bpf;
	struct sbx_filter_spec spec;
	const char **allow, **deny;
	size_t nallow, ndeny;
	const char **owned;             /* strings read from --seccomp=FILE */
	size_t nowned;
	char *path;                     /* resolved program */
	struct spawn_fd *fds;           /* names borrowed from o */
	size_t nfds;
	char **envp;
	size_t nenvp;
	struct run_layers layers;
	int audit_fd;
};

static bool push_str(const char ***arr, size_t *n, const char *s)
{
	const char **a = realloc(*arr, (*n + 1) * sizeof(*a));

	if (!a)
		return false;
	a[(*n)++] = s;
	*arr = a;
	return true;
}

static int add_fd(struct run *r, const char *name, int fd)
{
	struct spawn_fd *a = realloc(r->fds, (r->nfds + 1) * sizeof(*a));

	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	a[r->nfds].name = name;
	a[r->nfds].fd = fd;
	r->fds = a;
	r->nfds++;
	return 0;
}

/* After a connect target failed: say when it was a host name we refused. */
static void hint_refused(const char *opt)
{
	const char *h = run_refused_host();

	if (h)
		run_errx("%s: '%s' %s", opt, h, no_lookup);
}

/* path lies strictly beneath dir (both absolute and normalised). */
static bool path_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return path[1] != '\0';
	return !strncmp(path, dir, n) && path[n] == '/';
}


/* An absolute path with no "//", "." or ".." component, no trailing '/'
 * (what the policy's normalisation leaves as is). */
static bool plain_path(const char *path)
{
	size_t n = strlen(path);

	return path[0] == '/' && n > 1 && path[n - 1] != '/' && !strstr(path, "//") &&
	       !strstr(path, "/.");
}

static int build_policy(struct run *r)
{
	char errbuf[512];
	int e;

	e = sbx_policy_new(&r->policy);
	if (e < 0)
		return run_err("policy", -e), -1;
	for (size_t i = 0; i < r->o.npolicy_files; i++) {
		errbuf[0] = '\0';
		e = sbx_policy_load_file(r->policy, r->o.policy_files[i], errbuf, sizeof(errbuf));
		if (e < 0) {
			run_errx("--policy: %s", errbuf[0] ? errbuf : strerror(-e));
			return hint_refused("--policy"), -1;
		}
	}
	for (size_t i = 0; i < r->o.npaths; i++) {
		const struct run_path *p = &r->o.paths[i];

		e = sbx_policy_add_path(r->policy, p->path, p->perms);
		if (e < 0) {
			run_errx("%s: %s: %s", p->perms & SBX_PERM_WRITE ? "--rw" : "--ro", p->path,
				 strerror(-e));
			return -1;
		}
	}
	for (size_t i = 0; i < r->o.nconnects; i++) {
		e = sbx_policy_add_connect(r->policy, r->o.connects[i].name, r->o.connects[i].value);
		if (e < 0) {
			run_errx("--connect: %s=%s: %s", r->o.connects[i].name,
				 r->o.connects[i].value, strerror(-e));
			return hint_refused("--connect"), -1;
		}
	}
	/* /usr and the rest of the runtime first: the default grants beneath
	 * it (notify_default_grants' list) are then covered, not granted, one
	 * beneath-open each instead of a grant's opens, /proc reads and fds.
	 * A covered read-only grant (zoneinfo, locales, gconv) is then decided
	 * by /usr's perms and gets its exec too, as the rest of /usr has:
	 * default grants mean to add, not to fence off. Landlock rights are a
	 * union along the path and do not change. */
	for (size_t i = 0; !r->o.no_default_grants &&
			   i < sizeof(runtime_paths) / sizeof(runtime_paths[0]); i++) {
		/* Absent here (ENOENT, ENOTDIR) is fine: no access() first. */
		e = sbx_policy_add_path(r->policy, runtime_paths[i].path, runtime_paths[i].perms);
		if (e < 0 && e != -ENOENT && e != -ENOTDIR)
			return run_errx("runtime grants: %s: %s", runtime_paths[i].path,
					strerror(-e)), -1;
	}
	for (const struct notify_grant *g = notify_grants; !r->o.no_default_grants && g->path; g++) {
		if (policy_covers(r->policy, g->path, g->perms))
			continue;
		e = sbx_policy_add_path(r->policy, g->path, g->perms);
		/* Absent here, or already granted by the user (as notify_default_grants). */
		if (e < 0 && e != -ENOENT && e != -ENOTDIR && e != -EEXIST)
			return run_errx("runtime grants: %s: %s", g->path, strerror(-e)), -1;
	}
	/* The program itself may be run (and read by the loader): nothing to
	 * add when a rule above it grants that already (/usr/bin/...). */
	if (r->path && !(plain_path(r->path) &&
			 policy_covers(r->policy, r->path, SBX_PERM_READ | SBX_PERM_EXEC))) {
		char *abs = realpath(r->path, NULL);

		e = abs ? sbx_policy_add_path(r->policy, abs, SBX_PERM_READ | SBX_PERM_EXEC) : -errno;
		free(abs);
		if (e < 0)
			return run_errx("%s: %s", r->path, strerror(-e)), -1;
	}
	return 0;
}

/* HOST:PORT of --listen tcp: ([v6] in brackets; empty HOST: every address). */
static int listen_addr(const char *name, const char *spec, struct run_addr *ret)
{
	char host[256];
	const char *port = strrchr(spec, ':');
	struct run_addr a[2];
	unsigned long p;
	char *end;
	size_t hl;

	if (!port || (hl = (size_t)(port - spec)) >= sizeof(host))
		return run_errx("--listen: %s: expected tcp:HOST:PORT, got 'tcp:%s'", name, spec), -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	errno = 0;
	p = strtoul(port + 1, &end, 10);
	if (port[1] < '0' || port[1] > '9' || *end || errno || p > 65535)
		return run_errx("--listen: %s: port '%s' is not a number (0 to 65535)", name,
				port + 1), -1;
	if (run_resolve(host, (unsigned)p, AF_UNSPEC, false, a) == 0)
		return run_errx("--listen: %s: '%s' %s", name, host, no_lookup), -1;
	*ret = a[0];
	return 0;
}

static int open_listen(const char *name, const char *addr)
{
	int fd = -1, e = 0;

	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(addr + 5) >= sizeof(sun.sun_path) || !addr[5])
			return run_errx("--listen: %s: bad unix path '%s'", name, addr + 5), -1;
		strcpy(sun.sun_path, addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 128) < 0)
			e = errno;
	} else {
		struct run_addr a;
		int one = 1;

		if (listen_addr(name, addr + 4, &a) < 0)
			return -1;
		fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 || listen(fd, 128) < 0)
			e = errno;
	}
	if (e) {
		if (fd >= 0)
			close(fd);
		return run_errx("--listen: %s: %s", addr, strerror(e)), -1;
	}
	return fd;
}

/* Tell -v / --json-status-fd where a --listen socket really is. */
static void report_listen(const char *name, int fd)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], addr[sizeof(struct sockaddr_un) + 8];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		snprintf(addr, sizeof(addr), "unix:%.*s", (int)sizeof(sun->sun_path), sun->sun_path);
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		if (!inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)))
			return;
		snprintf(addr, sizeof(addr), "tcp:%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (!inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)))
			return;
		snprintf(addr, sizeof(addr), "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		return;
	}
	status_listen(name, addr);
}

static int policy_fd_cb(const char *name, int fd, void *ud)
{
	int c = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (c < 0)
		return -errno;
	return add_fd(ud, name, c);
}

static int build_fds(struct run *r)
{
	int e;

	for (size_t i = 0; i < r->o.nfds; i++) {
		const struct run_named *n = &r->o.fds[i];
		int fd = open(n->value, n->rw ? O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY
					      : O_RDONLY | O_CLOEXEC | O_NOCTTY, 0666);

		if (fd < 0)
			return run_errx("--fd: %s: %s", n->value, strerror(errno)), -1;
		if (add_fd(r, n->name, fd) < 0)
			return run_err("--fd", ENOMEM), -1;
	}
	for (size_t i = 0; i < r->o.nlistens; i++) {
		int fd = open_listen(r->o.listens[i].name, r->o.listens[i].value);

		if (fd < 0)
			return -1;
		report_listen(r->o.listens[i].name, fd);
		if (add_fd(r, r->o.listens[i].name, fd) < 0)
			return run_err("--listen", ENOMEM), -1;
	}
	e = policy_foreach_fd(r->policy, policy_fd_cb, r);
	if (e < 0)
		return run_err("--policy: fd", -e), -1;
	return 0;
}

struct ll_rules {
	struct ll_rule { const char *path; int fd; unsigned perms; uint64_t rights; } *a;
	size_t n;
	const struct sbx_landlock *l;
};

static int landlock_cb(const char *path, int root_fd, unsigned perms, void *ud)
{
	struct ll_rules *lr = ud;
	struct ll_rule *a = realloc(lr->a, (lr->n + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	a[lr->n] = (struct ll_rule){ path, root_fd, perms, sbx_landlock_rights(lr->l, perms) };
	lr->a = a;
	lr->n++;
	return 0;
}

/*
 * A rule adds nothing to the ruleset when another rule holds every right
 * of it on a directory above it (the default runtime: /usr/lib, the
 * locales, zoneinfo and the program beneath the /usr grant). Leaving it out
 * can only narrow what Landlock allows, never widen it: a Landlock rule
 * grants its rights on its directory and everything beneath. The paths are
 * the policy's rule paths. A canonical one (no symlink in it) lies beneath
 * another rule's path only if that one is canonical too, so the other rule
 * really is on an ancestor directory. A symlink's name rule (/lib,
 * /usr/share/locale/locale.alias) may sit beneath a rule its target does
 * not: the policy also holds the target's own rule, with every right of the
 * name's, so leaving the name's out drops nothing either.
 */
static bool rule_covered(const struct ll_rules *lr, size_t i)
{
	const struct ll_rule *x = &lr->a[i];

	for (size_t j = 0; j < lr->n; j++) {
		const struct ll_rule *d = &lr->a[j];

		if (j == i || (x->rights & ~d->rights))
			continue;
		if (path_beneath(x->path, d->path) || (!strcmp(x->path, d->path) && j < i))
			return true;
	}
	return false;
}

static int build_landlock(struct run *r)
{
	int abi, e;

	r->layers.landlock_why = "--landlock=off";
	if (r->o.landlock == RUN_LANDLOCK_OFF)
		return 0;
	abi = r->layers.kernel.landlock_abi;
	if (abi <= 0) {
		r->layers.landlock_why = "not supported by the kernel";
		if (r->o.landlock == RUN_LANDLOCK_REQUIRE)
			return run_errx("landlock: required but not available"), -1;
		return 0;
	}
	e = sbx_landlock_new(abi, &r->landlock);
	if (e == 0) {
		struct ll_rules lr = { .l = r->landlock };

		e = policy_foreach_path(r->policy, landlock_cb, &lr);
		for (size_t i = 0; e == 0 && i < lr.n; i++) {
			if (rule_covered(&lr, i))
				continue;
			e = sbx_landlock_add(r->landlock, lr.a[i].fd, lr.a[i].perms);
			if (e == 0)
				r->layers.landlock_rules++;
		}
		free(lr.a);
	}
	if (e < 0) {
		if (r->o.landlock == RUN_LANDLOCK_REQUIRE || !r->landlock)
			return run_err("landlock", -e), -1;
		return run_err("landlock: rule", -e), -1;
	}
	r->layers.landlock_abi = sbx_landlock_get_abi(r->landlock);
	r->landlock_fd = sbx_landlock_fd(r->landlock);
	if (r->landlock_fd < 0)
		return run_err("landlock: ruleset fd", -r->landlock_fd), -1;
	return 0;
}

static int read_seccomp_file(struct run *r, const char *file)
{
	char line[256];
	FILE *f = fopen(file, "re");
	unsigned n = 0;

	/* One syscall name per line ("!name" denies), '#' starts a comment;
	 * the names are checked by the filter compiler. */

	if (!f)
		return run_errx("--seccomp: %s: %s", file, strerror(errno)), -1;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;
		bool deny = false;

		n++;
		s += strspn(s, " \t");
		end = s + strcspn(s, " \t\r\n#");
		*end = '\0';
		if (!*s)
			continue;
		if (*s == '!') {
			deny = true;
			s++;
		}
		s = strdup(s);
		if (!s || !push_str(&r->owned, &r->nowned, s)) {
			free(s);
			fclose(f);
			return run_err("--seccomp", ENOMEM), -1;
		}
		if (!(deny ? push_str(&r->deny, &r->ndeny, s) : push_str(&r->allow, &r->nallow, s))) {
			fclose(f);
			return run_err("--seccomp", ENOMEM), -1;
		}
	}
	(void)n;
	fclose(f);
	return 0;
}

static int policy_syscall_cb(const char *name, bool allow, void *ud)
{
	struct run *r = ud;

	return (allow ? push_str(&r->allow, &r->nallow, name)
		      : push_str(&r->deny, &r->ndeny, name)) ? 0 : -ENOMEM;
}

static int build_filter(struct run *r, bool dump_only)
{
	static const char *const action_names[] = { "errno", "kill", "log" };
	static char errbuf[256];
	int e;

	for (size_t i = 0; i < r->o.nallow; i++)
		if (!push_str(&r->allow, &r->nallow, r->o.allow[i]))
			return run_err("seccomp", ENOMEM), -1;
	for (size_t i = 0; i < r->o.ndeny; i++)
		if (!push_str(&r->deny, &r->ndeny, r->o.deny[i]))
			return run_err("seccomp", ENOMEM), -1;
	if (r->o.seccomp_file && read_seccomp_file(r, r->o.seccomp_file) < 0)
		return -1;
	if (r->policy && policy_foreach_syscall(r->policy, policy_syscall_cb, r) < 0)
		return run_err("seccomp", ENOMEM), -1;
	/* The strict profile has no execve (sbx_confine's use); sandbox-run
	 * needs one to start the worker, which must then be statically linked
	 * (strict has no open for a loader either: see sandbox-run(1)). */
	if (r->o.profile == SBX_PROFILE_STRICT && !push_str(&r->allow, &r->nallow, "execve"))
		return run_err("seccomp", ENOMEM), -1;
	r->spec = (struct sbx_filter_spec){
		.profile = r->o.profile,
		.action = r->o.action,
		.chan_fd = (int)(3 + r->nfds),
		/* Network is something handed over (--listen, --connect), not
		 * taken: inet sockets only when asked for. */
		.allow_net = r->o.allow_net,
		.allow = r->allow,
		.nallow = r->nallow,
		.deny = r->deny,
		.ndeny = r->ndeny,
		.errbuf = errbuf,
		.errlen = sizeof(errbuf),
	};
	/* Unmodified programs' opens are brokered through seccomp notify
	 * (decided by the same policy as broker requests; doc/notify.md), with
	 * Landlock, when available, as a second layer for the other path
	 * syscalls. --trace-denied and --seccomp-action=log route denials
	 * through the same listener, which names each one. */
	if (r->o.profile == SBX_PROFILE_DEFAULT && r->layers.kernel.seccomp_notify) {
		r->spec.notify_open = true;
		r->spec.trace_denied = r->o.trace_denied || r->o.action == SBX_ACTION_LOG;
	}
	if (r->o.trace_denied && !r->spec.trace_denied && !dump_only)
		return run_errx("--trace-denied: needs the default profile and seccomp user "
				"notification"), -1;
	if (!r->landlock && !r->spec.notify_open && r->o.landlock != RUN_LANDLOCK_OFF &&
	    r->o.profile == SBX_PROFILE_DEFAULT && !dump_only)
		return run_errx("landlock: not available and no seccomp notify to broker opens "
				"(--landlock=off runs without filesystem confinement)"), -1;
	r->layers.profile = r->o.seccomp_file ? "default+file"
			    : r->o.profile == SBX_PROFILE_STRICT ? "strict" : "default";
	r->layers.action = action_names[r->o.action];
	r->layers.opens_brokered = r->spec.notify_open;
	if (dump_only) {
		e = sbx_filter_dump(&r->spec, STDOUT_FILENO);
		if (e < 0)
			return run_errx("--dump-seccomp: %s", errbuf[0] ? errbuf : strerror(-e)), -1;
		return 0;
	}
	errbuf[0] = '\0';
	e = sbx_filter_compile(&r->spec, &r->bpf);
	if (e < 0)
		return run_errx("seccomp: %s", errbuf[0] ? errbuf : strerror(-e)), -1;
	r->layers.bpf_len = sbx_bpf_len(r->bpf);
	return 0;
}

static int build_env(struct run *r)
{
	char **base = r->o.clearenv ? NULL : environ;
	size_t n = 0;

	for (char **e = base; e && *e; e++)
		n++;
	r->envp = calloc(n + r->o.nenv + 1, sizeof(char *));
	if (!r->envp)
		return run_err("--env", ENOMEM), -1;
	r->nenvp = 0;
	for (size_t i = 0; i < n; i++) {
		size_t klen = strcspn(base[i], "=");
		bool over = false;

		for (size_t j = 0; j < r->o.nenv; j++)
			if (!strncmp(r->o.env[j], base[i], klen + 1))
				over = true;
		if (!over)
			r->envp[r->nenvp++] = base[i];
	}
	for (size_t j = 0; j < r->o.nenv; j++) {
		size_t klen = strcspn(r->o.env[j], "=");
		bool later = false;

		for (size_t k = j + 1; k < r->o.nenv; k++)
			if (!strncmp(r->o.env[k], r->o.env[j], klen + 1))
				later = true;
		if (!later)
			r->envp[r->nenvp++] = (char *)r->o.env[j];
	}
	return 0;
}

static int resolve_user(struct run *r, struct sbx_spawn_desc *d)
{
	d->uid = geteuid();
	d->gid = getegid();
	if (!r->o.user)
		return 0;
	if (geteuid() != 0)
		return run_errx("--user: only root can change the user (running as uid %u)",
				(unsigned)geteuid()), -1;
	if (run_lookup_user(r->o.user, &d->uid, &d->gid) < 0)
		return -1;
	d->change_id = true;
	return 0;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->nfds; i++)
		close(r->fds[i].fd);
	free(r->fds);
	free(r->path);
	free(r->allow);
	free(r->deny);
	for (size_t i = 0; i < r->nowned; i++)
		free((char *)r->owned[i]);
	free(r->owned);
	free(r->envp);
	sbx_bpf_free(r->bpf);
	sbx_landlock_free(r->landlock);
	sbx_policy_free(r->policy);
	if (r->audit_fd >= 0)
		close(r->audit_fd);
	run_opts_free(&r->o);
}

/* Everything before the spawn. Returns 0, or the exit status on failure. */
static int setup(struct run *r, struct sbx_spawn_desc *d)
{
	int e;

	if (r->o.json_fd >= 0 && fcntl(r->o.json_fd, F_GETFD) < 0)
		return run_errx("--json-status-fd: %d: %s", r->o.json_fd, strerror(errno)),
		       RUN_EXIT_FAILURE;
	if (r->o.dump_seccomp) {
		if (build_filter(r, true) < 0)
			return RUN_EXIT_FAILURE;
		return -1; /* done: exit 0 */
	}
	if (resolve_user(r, d) < 0)
		return RUN_EXIT_FAILURE;
	if (r->o.ns && geteuid() != 0) {
		if (!r->layers.kernel.userns)
			return run_errx("--unshare-*: needs root or unprivileged user namespaces"),
			       RUN_EXIT_FAILURE;
		r->o.ns |= SPAWN_NS_USER;
	}
	r->path = spawn_find_program(r->o.argv[0], getenv("PATH"));
	if (!r->path) {
		e = errno;
		run_errx("%s: %s", r->o.argv[0], strerror(e));
		return e == ENOMEM ? RUN_EXIT_FAILURE : spawn_exec_status(e);
	}
	if (build_policy(r) < 0 || build_fds(r) < 0 || build_landlock(r) < 0 ||
	    build_filter(r, false) < 0 || build_env(r) < 0)
		return RUN_EXIT_FAILURE;
	if (r->o.audit) {
		r->audit_fd = open(r->o.audit, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (r->audit_fd < 0)
			return run_errx("--audit: %s: %s", r->o.audit, strerror(errno)), RUN_EXIT_FAILURE;
	}
	d->path = r->path;
	d->argv = r->o.argv;
	d->envp = r->envp;
	d->fds = r->fds;
	d->nfds = r->nfds;
	d->ns = r->o.ns;
	d->rlimits = r->o.rlimits;
	d->nrlimits = r->o.nrlimits;
	d->chdir = r->o.chdir;
	d->landlock_fd = r->landlock ? r->landlock_fd : -1;
	d->filter = r->bpf;
	r->layers.ns = d->ns;
	r->layers.uid = d->uid;
	r->layers.gid = d->gid;
	r->layers.id_changed = d->change_id;
	r->layers.caps_dropped = true;
	return 0;
}

static void on_denial(const struct notify_denial *nd, void *ud)
{
	const struct run *r = ud;

	/* Once per syscall: enough to write the policy, no flood. */
	fprintf(stderr, "sandbox-run: %s: %s(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx) by pid %d\n",
		r->o.action == SBX_ACTION_LOG ? "logged" : "denied", nd->name,
		(unsigned long long)nd->args[0], (unsigned long long)nd->args[1],
		(unsigned long long)nd->args[2], (unsigned long long)nd->args[3],
		(unsigned long long)nd->args[4], (unsigned long long)nd->args[5], (int)nd->pid);
	status_denial(nd->pid, nd->name, nd->count);
}

static int run_worker(struct run *r, struct sbx_spawn_desc *d)
{
	struct sbx_broker *b = NULL;
	struct sbx_spawned sp;
	struct spawn_error se;
	struct notify_report *report = NULL;
	struct notify_opts no = { .on_denial = on_denial, .ud = r, .deny_errno = EPERM,
				  .log_only = r->o.action == SBX_ACTION_LOG };
	int chan[2], sigfd, e, status;

	e = sbx_socketpair(chan);
	if (e < 0)
		return run_err("socketpair", -e), RUN_EXIT_FAILURE;
	d->chan_fd = chan[1];
	if ((e = sbx_broker_new(r->policy, &b)) < 0 ||
	    (r->audit_fd >= 0 && (e = sbx_broker_set_audit_fd(b, r->audit_fd)) < 0)) {
		close(chan[0]);
		close(chan[1]);
		sbx_broker_free(b);
		return run_err("broker", -e), RUN_EXIT_FAILURE;
	}
	sigfd = loop_block_signals();
	if (sigfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		run_err("signals", sigfd < 0 ? -sigfd : errno);
		if (sigfd >= 0)
			close(sigfd);
		close(chan[0]);
		close(chan[1]);
		sbx_broker_free(b);
		return RUN_EXIT_FAILURE;
	}
	status_setup(&r->layers);
	e = sbx_spawn(d, &sp, &se);
	close(chan[1]);
	for (size_t i = 0; i < r->nfds; i++)
		close(r->fds[i].fd);
	r->nfds = 0;
	if (e < 0) {
		close(chan[0]);
		close(sigfd);
		sbx_broker_free(b);
		if (se.step == SPAWN_STEP_EXEC) {
			char what[512];

			snprintf(what, sizeof(what), "execve %s", d->path);
			status_error(what, se.err);
			return spawn_exec_status(se.err);
		}
		status_error(spawn_step_name(se.step), se.err);
		return RUN_EXIT_FAILURE;
	}
	status_started(sp.pid);
	e = sbx_broker_add_child(b, chan[0], sp.pid);
	if (e == 0 && sp.listener >= 0 && (e = notify_report_new(&report)) == 0) {
		no.report = report;
		e = notify_attach(b, sp.listener, sp.pid, &no);
		sp.listener = -1;
	}
	if (e < 0) {
		if (sp.listener >= 0)
			close(sp.listener);
		run_err("broker", -e);
		loop_kill_descendants(sp.pid);
		status = RUN_EXIT_FAILURE;
	} else {
		struct loop_args la = { .pid = sp.pid, .pidfd = sp.pidfd, .sigfd = sigfd,
					.broker = b, .timeout = r->o.timeout };

		status = loop_run(&la);
	}
	if (sp.pidfd >= 0)
		close(sp.pidfd);
	close(sigfd);
	/* Frees the listeners of tasks still exiting too (EPOLLHUP). */
	sbx_broker_free(b);
	if (r->spec.trace_denied)
		notify_report_write(report, STDERR_FILENO, "sandbox-run: ");
	notify_report_free(report);
	return status;
}

int main(int argc, char **argv)
{
	struct sbx_spawn_desc d;
	struct run r;
	int status;

	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	r.audit_fd = -1;
	d.chan_fd = -1;
	d.landlock_fd = -1;
	status = run_parse(argc, argv, &r.o);
	if (status != 0) {
		run_opts_free(&r.o);
		return status > 0 ? 0 : RUN_EXIT_FAILURE;
	}
	/* A reader of --json-status-fd or stderr that went away must not kill
	 * the broker (the worker gets default dispositions back). */
	signal(SIGPIPE, SIG_IGN);
	status_init(r.o.verbose, r.o.json_fd);
	/* Only what this run needs: every start pays for it. */
	spawn_probe(&r.layers.kernel, (r.o.verbose ? SPAWN_PROBE_INFO : 0) |
		    (r.o.ns && geteuid() != 0 ? SPAWN_PROBE_USERNS : 0));
	status = setup(&r, &d);
	if (status == 0)
		status = run_worker(&r, &d);
	else if (status < 0)
		status = 0;
	run_free(&r);
	return status;
}
