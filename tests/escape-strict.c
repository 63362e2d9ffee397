/* Escape attempts under the strict profile, confined with sbx_confine() as a
 * privsep worker would: fds only by recvmsg on the channel. */
#include "escape-probes.h"
#include "sbx/confine.h"

static int confine_strict(bool root_drop, int action, char *why, size_t len)
{
	struct sbx_confine_opts o = {
		.flags = root_drop ? SBX_CONFINE_SETID : 0,
		.uid = NOBODY, .gid = NOBODY,
		.chan_fd = FD_CHAN,
		.action = action == SBX_ACTION_KILL ? SBX_CONFINE_ACT_KILL : SBX_CONFINE_ACT_ERRNO,
		.errbuf = why, .errlen = len,
	};

	return sbx_confine(&o);
}

int main(void)
{
	struct fd_table before;

	tap_start();
	if (under_valgrind())
		tap_skip_all("installs seccomp filters that valgrind's own syscalls violate");
	fd_snapshot(&before);

	for (int root_drop = 0; root_drop <= 1; root_drop++) {
		const char *who = root_drop ? "root->nobody" : "user";

		if (root_drop && !tap_is_root()) {
			skip(1, "root->nobody runs need root");
			continue;
		}
		for (int action = SBX_ACTION_ERRNO; action <= SBX_ACTION_KILL; action++) {
			const char *act = action == SBX_ACTION_KILL ? "kill" : "errno";

			for (size_t i = 0; i < NPROBES; i++) {
				const struct probe *p = &probes[i];
				struct probe_result r;
				int sv[2], nul;

				if (p->strict == E_NA)
					continue;
				/* a fresh channel with one message and one fd queued */
				if (sbx_socketpair(sv) < 0 ||
				    (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
					tap_bail("setup: %s", strerror(errno));
				if (sbx_msg_send(sv[0], 1, 1, "fd", 2, &nul, 1) < 0)
					tap_bail("send");
				close(nul);
				run_probe(p, root_drop, action, sv[1], confine_strict, &r);
				close(sv[0]);
				close(sv[1]);
				if (r.why[0])
					tap_bail("%s: probe child could not confine itself: %s", p->name, r.why);
				if (!ok(judge(p, p->strict, action, &r), "strict/%s/%s: %s", act, who, p->name))
					probe_diag(p->name, &r);
			}
		}
		if (root_drop) {
			struct probe bnd = { "bounding set empty after a root drop", p_bnd_status, E_NA, E_VAL, 1 };
			struct probe_result r;

			run_probe(&bnd, true, SBX_ACTION_ERRNO, -1, confine_strict, &r);
			if (!ok(judge(&bnd, E_VAL, SBX_ACTION_ERRNO, &r), "strict/%s: CapBnd is 0", who))
				probe_diag(bnd.name, &r);
		}
	}
	ok(fd_same(&before), "no fd leaked by the harness");
	return tap_done();
}
