/* Escape attempts under the default profile (what sandbox-run gives an
 * unmodified program): caps dropped, no_new_privs, the precompiled filter
 * installed in the forked child, as spawn does. */
#include "escape-probes.h"
#include "unprivileged/caps.h"

static struct sbx_bpf *bpf_errno, *bpf_kill;

static int confine_default(bool root_drop, int action, char *why, size_t len)
{
	int r;

	r = root_drop ? sbx_caps_drop(NOBODY, NOBODY, true) : sbx_caps_drop((uid_t)-1, (gid_t)-1, false);
	if (r < 0) {
		snprintf(why, len, "caps: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(why, len, "no_new_privs: %s", strerror(errno));
		return -errno;
	}
	r = sbx_filter_install(action == SBX_ACTION_KILL ? bpf_kill : bpf_errno, NULL);
	if (r < 0)
		snprintf(why, len, "seccomp: %s", strerror(-r));
	return r;
}

/* allow_net: INET stream/dgram and NETLINK_ROUTE pass, raw never. */
static struct sbx_bpf *bpf_net;

static int confine_net(bool root_drop, int action, char *why, size_t len)
{
	(void)action;
	if (sbx_caps_drop(NOBODY, NOBODY, root_drop) < 0 && root_drop)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	snprintf(why, len, "seccomp");
	return sbx_filter_install(bpf_net, NULL);
}

static long p_net_stream(void)
{
	long fd = try_syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0);

	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? 0 : fd;
}

static long p_net_route(void)
{
	long fd = try_syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* ROUTE */, 0, 0, 0);

	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? 0 : fd;
}

static long p_net_audit(void) { return try_syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 9 /* AUDIT */, 0, 0, 0); }

static const struct probe net_probes[] = {
	{ "allow_net: socket(AF_INET, SOCK_STREAM)", p_net_stream, E_VAL, E_NA, 0 },
	{ "allow_net: socket(NETLINK_ROUTE)", p_net_route, E_VAL, E_NA, 0 },
	{ "allow_net: socket(AF_INET, SOCK_RAW) still denied", p_raw, E_DENY, E_NA, 0 },
	{ "allow_net: socket(AF_PACKET) still denied", p_packet, E_DENY, E_NA, 0 },
	{ "allow_net: socket(NETLINK_AUDIT) still denied", p_net_audit, E_DENY, E_NA, 0 },
};

static void run_matrix(const struct probe *list, size_t n, bool root_drop, int action,
		       confine_fn fn)
{
	const char *who = root_drop ? "root->nobody" : "user";
	const char *act = action == SBX_ACTION_KILL ? "kill" : "errno";

	for (size_t i = 0; i < n; i++) {
		const struct probe *p = &list[i];
		struct probe_result r;

		if (p->def == E_NA)
			continue;
		if (p->fn == p_suid && !suid_path) {
			skip(1, "no setuid-root copy of id (needs root and a suid-capable /tmp)");
			continue;
		}
		run_probe(p, root_drop, action, -1, fn, &r);
		if (r.why[0])
			tap_bail("%s: probe child could not confine itself: %s", p->name, r.why);
		if (!ok(judge(p, p->def, action, &r), "default/%s/%s: %s", act, who, p->name))
			probe_diag(p->name, &r);
	}
}

int main(void)
{
	struct sbx_filter_spec spec = { .profile = SBX_PROFILE_DEFAULT, .chan_fd = -1 };
	char dir[64] = "";
	struct fd_table before;
	int r;

	tap_start();
	if (under_valgrind())
		tap_skip_all("installs seccomp filters that valgrind's own syscalls violate");
	fd_snapshot(&before);
	spec.action = SBX_ACTION_ERRNO;
	if ((r = sbx_filter_compile(&spec, &bpf_errno)) < 0)
		tap_bail("compile: %s", strerror(-r));
	spec.action = SBX_ACTION_KILL;
	if ((r = sbx_filter_compile(&spec, &bpf_kill)) < 0)
		tap_bail("compile: %s", strerror(-r));
	spec.action = SBX_ACTION_ERRNO;
	spec.allow_net = true;
	if ((r = sbx_filter_compile(&spec, &bpf_net)) < 0)
		tap_bail("compile: %s", strerror(-r));

	suid_path = make_suid_copy(dir, sizeof(dir));
	if (suid_path && !suid_copy_works(suid_path)) {
		diag("setuid copy does not raise euid even unconfined: probe skipped");
		unlink(suid_path);
		rmdir(dir);
		suid_path = NULL;
	}

	for (int root_drop = 0; root_drop <= 1; root_drop++) {
		if (root_drop && !tap_is_root()) {
			skip(1, "root->nobody runs need root");
			continue;
		}
		run_matrix(probes, NPROBES, root_drop, SBX_ACTION_ERRNO, confine_default);
		run_matrix(probes, NPROBES, root_drop, SBX_ACTION_KILL, confine_default);
	}
	run_matrix(net_probes, sizeof(net_probes) / sizeof(net_probes[0]), tap_is_root(),
		   SBX_ACTION_ERRNO, confine_net);

	if (suid_path) {
		unlink(suid_path);
		rmdir(dir);
	}
	sbx_bpf_free(bpf_errno);
	sbx_bpf_free(bpf_kill);
	sbx_bpf_free(bpf_net);
	ok(fd_same(&before), "no fd leaked by the harness");
	return tap_done();
}
