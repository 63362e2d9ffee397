/* sbx_confine: a forked privsep worker confines itself for good. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "proto/export.h"
#include "sbx/confine.h"
#include "seccomp/filter.h"
#include "unprivileged/caps.h"
#include "unprivileged/landlock.h"

#define KNOWN_FLAGS (SBX_CONFINE_SETID | SBX_CONFINE_LANDLOCK | SBX_CONFINE_LANDLOCK_REQUIRE)

static int fail(const struct sbx_confine_opts *o, int r, const char *step)
{
	if (o->errbuf && o->errlen) {
		size_t n = strlen(o->errbuf);

		/* keep a reason already written by the filter builder */
		if (n == 0)
			snprintf(o->errbuf, o->errlen, "%s: %s", step, strerror(-r));
	}
	return r;
}

SBX_EXPORT int sbx_confine(const struct sbx_confine_opts *opts)
{
	struct sbx_filter_spec spec = { 0 };
	struct sbx_landlock *ll = NULL;
	struct sbx_bpf *bpf = NULL;
	int r;

	if (!opts)
		return -EINVAL;
	if (opts->errbuf && opts->errlen)
		opts->errbuf[0] = '\0';
	if ((opts->flags & ~KNOWN_FLAGS) || opts->chan_fd < -1 ||
	    (opts->action != SBX_CONFINE_ACT_ERRNO && opts->action != SBX_CONFINE_ACT_KILL) ||
	    (opts->nallow && !opts->allow))
		return fail(opts, -EINVAL, "options");

	/* 1. Build everything that allocates while nothing is confined yet. */
	spec.profile = SBX_PROFILE_STRICT;
	spec.action = opts->action == SBX_CONFINE_ACT_KILL ? SBX_ACTION_KILL : SBX_ACTION_ERRNO;
	spec.chan_fd = opts->chan_fd;
	spec.allow = opts->allow;
	spec.nallow = opts->nallow;
	spec.errbuf = opts->errbuf;
	spec.errlen = opts->errlen;
	if ((r = sbx_filter_compile_self(&spec, &bpf)) < 0)
		return fail(opts, r, "seccomp filter");
	if (opts->flags & (SBX_CONFINE_LANDLOCK | SBX_CONFINE_LANDLOCK_REQUIRE)) {
		r = sbx_landlock_new(0, &ll);
		if (r < 0 && (opts->flags & SBX_CONFINE_LANDLOCK_REQUIRE)) {
			sbx_bpf_free(bpf);
			return fail(opts, r, "landlock");
		}
	}

	/* 2-3. Identity and capabilities. */
	if ((r = sbx_caps_drop(opts->uid, opts->gid, opts->flags & SBX_CONFINE_SETID)) < 0) {
		r = fail(opts, r, "capabilities");
		goto out;
	}
	/* 4. no_new_privs: setuid binaries and file caps give nothing now. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = fail(opts, -errno, "no_new_privs");
		goto out;
	}
	/* 5. Landlock: an empty ruleset handling every right denies all
	 * filesystem access by path. */
	if (ll && (r = sbx_landlock_restrict(ll)) < 0) {
		r = fail(opts, r, "landlock");
		goto out;
	}
	/* 6. seccomp last: the steps above need syscalls it refuses. */
	if ((r = sbx_filter_install(bpf, NULL)) < 0)
		r = fail(opts, r, "seccomp");
out:
	sbx_landlock_free(ll);
	sbx_bpf_free(bpf);
	return r;
}
