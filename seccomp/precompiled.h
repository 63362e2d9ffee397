/* Internal to seccomp/: filter programs compiled at build time by
 * gen-precompiled (the generated precompiled.c), or none
 * (precompiled-none.c: the generator itself, cross and fuzz builds). */
#ifndef SBX_SECCOMP_PRECOMPILED_H
#define SBX_SECCOMP_PRECOMPILED_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

/* One program and the spec that made it: a default-profile spec without
 * extra allow/deny names (chan_fd does not matter to that profile). */
struct sbx_precompiled {
	int profile;
	int action;
	bool notify_open;
	bool trace_denied;
	bool allow_net;
	bool notify;                /* the program has notify actions */
	unsigned short len;
	const struct sock_filter *insns;
};

extern const struct sbx_precompiled sbx_precompiled[];
extern const size_t sbx_nprecompiled;
/* The libseccomp (major, minor, micro) that compiled them: another one at
 * run time may compile the same spec differently (a syscall it newly
 * knows), so the table is then not used. */
extern const unsigned sbx_precompiled_libseccomp[3];

#endif
