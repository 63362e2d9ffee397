/* Seccomp filters: built with libseccomp (before fork), exported as BPF,
 * installed with a raw seccomp(2) (async-signal-safe, in the child). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "seccomp/filter.h"
#include "seccomp/precompiled.h"
#include "seccomp/profile.h"

/* The 6.1 uapi headers may lack it (kernel 5.19+). */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Namespace flags clone(2) accepts; CLONE_NEWTIME shares its bit with the
 * exit signal there and is refused by unshare's mask only. */
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
		  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

struct sbx_bpf {
	bool notify;
	unsigned short len;
	struct sock_filter insns[];
};

static void set_err(const struct sbx_filter_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(const struct sbx_filter_spec *spec, const char *fmt, ...)
{
	va_list ap;

	if (!spec->errbuf || spec->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(spec->errbuf, spec->errlen, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above
	va_end(ap);
}

struct build {
	const struct sbx_filter_spec *spec;
	scmp_filter_ctx ctx;
	uint32_t defact;
	int deny_nr[64];            /* resolved spec->deny */
	size_t ndeny;
};

static bool is_denied(const struct build *b, int nr)
{
	for (size_t i = 0; i < b->ndeny; i++)
		if (b->deny_nr[i] == nr)
			return true;
	return false;
}

/* Add one rule unless the syscall is denied by name or the action is the
 * default one (libseccomp refuses those with -EACCES: they are redundant). */
static int add(struct build *b, uint32_t act, int nr, unsigned n, const struct scmp_arg_cmp *c)
{
	int r;

	if (nr < 0 || is_denied(b, nr) || act == b->defact)
		return 0;
	r = seccomp_rule_add_array(b->ctx, act, nr, n, c);
	return r;
}

/* libseccomp's SCMP_An() macros leave datum_b out of their compound
 * literal for two-operand comparisons (clang's -Wmissing-field-initializers);
 * the same struct, every field named. For SCMP_CMP_MASKED_EQ a is the mask
 * and b the value, as in the macros. */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
				   scmp_datum_t b)
{
	struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };

	return c;
}

static int add_name(struct build *b, uint32_t act, const char *name, unsigned n,
		    const struct scmp_arg_cmp *c)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;               /* unknown to this libseccomp: stays denied */
	return add(b, act, nr, n, c);
}

static int add_list(struct build *b, uint32_t act, const char *const *names)
{
	for (; *names; names++) {
		int r = add_name(b, act, *names, 0, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Allow nr when the low 32 bits of argument arg are none of excl[] (the
 * kernel reads that argument as a 32-bit int, so the upper half must not
 * matter: TIOCSTI | 1 << 32 is TIOCSTI). libseccomp cannot mix an
 * unconditional allow with conditional denials of one syscall, so the
 * complement is spelled out as masked equalities: recursing from bit 31,
 * every prefix no excluded value shares becomes one allow rule.
 */
static int allow_except32(struct build *b, int nr, unsigned arg, const uint32_t *excl,
			  size_t n, uint32_t mask, uint32_t val, int bit)
{
	uint32_t sub[8];
	size_t m;

	if (n == 0) {
		struct scmp_arg_cmp c = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, val);
		return add(b, SCMP_ACT_ALLOW, nr, mask ? 1 : 0, &c);
	}
	if (bit < 0)
		return 0;               /* exactly an excluded value */
	for (uint32_t v = 0; v <= 1; v++) {
		int r;

		m = 0;
		for (size_t i = 0; i < n; i++)
			if (((excl[i] >> bit) & 1) == v)
				sub[m++] = excl[i];
		r = allow_except32(b, nr, arg, sub, m, mask | (1u << bit),
				   val | (v << bit), bit - 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_default(struct build *b)
{
	const struct sbx_filter_spec *s = b->spec;
	static const uint32_t bad_ioctls[] = { TIOCSTI, TIOCLINUX };
	struct scmp_arg_cmp c[2];
	int r, nr;

	if ((r = add_list(b, SCMP_ACT_ALLOW, sbx_profile_default_allow)) < 0)
		return r;
	if ((r = add_list(b, s->notify_open ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW,
			  sbx_profile_open_calls)) < 0)
		return r;

	/* clone without namespace flags; clone3 hides its flags in memory:
	 * ENOSYS makes libc fall back to clone. unshare(CLONE_FILES|CLONE_FS...)
	 * stays allowed. */
	c[0] = arg_cmp(0, SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "clone", 1, c)) < 0)
		return r;
	c[0] = arg_cmp(0, SCMP_CMP_MASKED_EQ, NS_FLAGS | CLONE_NEWTIME, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "unshare", 1, c)) < 0)
		return r;
	if ((r = add_name(b, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL)) < 0)
		return r;

	/* ioctl: all but TIOCSTI (typing into the terminal) and TIOCLINUX. */
	nr = seccomp_syscall_resolve_name("ioctl");
	if (nr >= 0 && !is_denied(b, nr) && b->defact != SCMP_ACT_ALLOW) {
		r = allow_except32(b, nr, 1, bad_ioctls, 2, 0, 0, 31);
		if (r < 0)
			return r;
	}

	/* personality: PER_LINUX, and the 0xffffffff query. */
	c[0] = arg_cmp(0, SCMP_CMP_EQ, 0, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "personality", 1, c)) < 0)
		return r;
	c[0] = arg_cmp(0, SCMP_CMP_EQ, 0xffffffffu, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "personality", 1, c)) < 0)
		return r;

	/* sockets: AF_UNIX always; AF_INET/AF_INET6 stream and datagram (never
	 * SOCK_RAW) and NETLINK_ROUTE only with allow_net; AF_PACKET never.
	 * Equality on the whole 64-bit argument: junk in the upper half is
	 * refused, never let through. */
	c[0] = arg_cmp(0, SCMP_CMP_EQ, AF_UNIX, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "socket", 1, c)) < 0 ||
	    (r = add_name(b, SCMP_ACT_ALLOW, "socketpair", 1, c)) < 0)
		return r;
	if (s->allow_net) {
		static const int fams[] = { AF_INET, AF_INET6 };
		static const int types[] = { SOCK_STREAM, SOCK_DGRAM };

		for (size_t i = 0; i < 2; i++)
			for (size_t j = 0; j < 2; j++) {
				c[0] = arg_cmp(0, SCMP_CMP_EQ, fams[i], 0);
				c[1] = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xf, types[j]);
				if ((r = add_name(b, SCMP_ACT_ALLOW, "socket", 2, c)) < 0)
					return r;
			}
		c[0] = arg_cmp(0, SCMP_CMP_EQ, AF_NETLINK, 0);
		c[1] = arg_cmp(2, SCMP_CMP_EQ, NETLINK_ROUTE, 0);
		if ((r = add_name(b, SCMP_ACT_ALLOW, "socket", 2, c)) < 0)
			return r;
	}
	return 0;
}

static int add_strict(struct build *b, pid_t self)
{
	const struct sbx_filter_spec *s = b->spec;
	struct scmp_arg_cmp c[2];
	int r;

	if ((r = add_list(b, SCMP_ACT_ALLOW, sbx_profile_strict_allow)) < 0)
		return r;
	/* glibc's fstat is newfstatat(fd, "", st, AT_EMPTY_PATH). */
	c[0] = arg_cmp(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "newfstatat", 1, c)) < 0)
		return r;
	/* getrlimit as prlimit64(0, res, NULL, old): reading only. */
	c[0] = arg_cmp(2, SCMP_CMP_EQ, 0, 0);
	if ((r = add_name(b, SCMP_ACT_ALLOW, "prlimit64", 1, c)) < 0)
		return r;
	if (s->chan_fd >= 0) {
		/* fds enter only here, and only close-on-exec. */
		c[0] = arg_cmp(0, SCMP_CMP_EQ, (uint64_t)s->chan_fd, 0);
		c[1] = arg_cmp(2, SCMP_CMP_MASKED_EQ, MSG_CMSG_CLOEXEC, MSG_CMSG_CLOEXEC);
		if ((r = add_name(b, SCMP_ACT_ALLOW, "recvmsg", 2, c)) < 0)
			return r;
		if ((r = add_name(b, SCMP_ACT_ALLOW, "sendmsg", 1, c)) < 0)
			return r;
		/* sbx_msg_recv checks SO_TYPE */
		if ((r = add_name(b, SCMP_ACT_ALLOW, "getsockopt", 1, c)) < 0)
			return r;
	}
	if (self > 0) {
		/* abort(): signals to itself only. */
		c[0] = arg_cmp(0, SCMP_CMP_EQ, (uint64_t)self, 0);
		if ((r = add_name(b, SCMP_ACT_ALLOW, "tgkill", 1, c)) < 0 ||
		    (r = add_name(b, SCMP_ACT_ALLOW, "kill", 1, c)) < 0)
			return r;
	}
	return 0;
}

static int resolve(const struct sbx_filter_spec *s, const char *name, int *ret)
{
	int nr;

	if (!name) {
		set_err(s, "NULL syscall name");
		return -EINVAL;
	}
	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0) {
		set_err(s, "unknown syscall: %s", name);
		return -EINVAL;
	}
	*ret = nr;
	return 0;
}

/* Build the libseccomp context for spec; self > 0 adds the strict profile's
 * signals-to-itself rule. */
static int build_ctx(const struct sbx_filter_spec *s, pid_t self, scmp_filter_ctx *ret)
{
	struct build b = { .spec = s };
	int r = -EINVAL;

	if (!s || !ret)
		return -EINVAL;
	if (s->profile != SBX_PROFILE_DEFAULT && s->profile != SBX_PROFILE_STRICT) {
		set_err(s, "unknown seccomp profile %d", s->profile);
		return -EINVAL;
	}
	switch (s->action) {
	case SBX_ACTION_ERRNO: b.defact = SCMP_ACT_ERRNO(EPERM); break;
	case SBX_ACTION_KILL: b.defact = SCMP_ACT_KILL_PROCESS; break;
	case SBX_ACTION_LOG: b.defact = SCMP_ACT_LOG; break;
	default:
		set_err(s, "unknown seccomp action %d", s->action);
		return -EINVAL;
	}
	if (s->trace_denied)
		b.defact = SCMP_ACT_NOTIFY;
	if ((s->nallow && !s->allow) || (s->ndeny && !s->deny) ||
	    s->ndeny > sizeof(b.deny_nr) / sizeof(b.deny_nr[0])) {
		set_err(s, "bad allow/deny lists");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->ndeny; i++)
		if ((r = resolve(s, s->deny[i], &b.deny_nr[b.ndeny++])) < 0)
			return r;
	for (size_t i = 0; i < s->nallow; i++) {
		int nr;
		if ((r = resolve(s, s->allow[i], &nr)) < 0)
			return r;
	}

	/* libseccomp probes the kernel for its API level and refuses
	 * KILL_PROCESS and NOTIFY when the probe fails (seccomp(2) hidden by an
	 * outer filter, valgrind). We only build and export here; the kernel
	 * judges the program when it is installed, so claim level 5. */
	if (seccomp_api_get() < 5)
		seccomp_api_set(5);
	b.ctx = seccomp_init(b.defact);
	if (!b.ctx)
		return -ENOMEM;
	/* Native arch only: i386 (int 0x80) and x32 numbers kill. */
	if ((r = seccomp_attr_set(b.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (r = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto fail;
	r = s->profile == SBX_PROFILE_STRICT ? add_strict(&b, self) : add_default(&b);
	if (r < 0)
		goto fail;
	/* Extra allows come last and win over the profile's argument rules
	 * (libseccomp keeps the unconditional rule). A name both allowed and
	 * denied stays denied. */
	for (size_t i = 0; i < s->nallow; i++) {
		int nr = seccomp_syscall_resolve_name(s->allow[i]);
		if ((r = add(&b, SCMP_ACT_ALLOW, nr, 0, NULL)) < 0)
			goto fail;
	}
	*ret = b.ctx;
	return 0;
fail:
	set_err(s, "libseccomp: %s", strerror(-r));
	seccomp_release(b.ctx);
	return r;
}

static int export_ctx(scmp_filter_ctx ctx, bool notify, struct sbx_bpf **ret)
{
	struct sbx_bpf *bpf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, r;

	/* libseccomp 2.5.4 exports to an fd only; read it back. A pipe could
	 * fill up (a user over pipe-user-pages-soft gets one page), so a memfd,
	 * or an unnamed temporary file where memfd_create is missing. */
	fd = memfd_create("sbx-bpf", MFD_CLOEXEC);
	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -E2BIG;
		goto out;
	}
	bpf = calloc(1, sizeof(*bpf) + (size_t)st.st_size);
	if (!bpf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, (char *)bpf->insns + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	bpf->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	bpf->notify = notify;
	*ret = bpf;
	bpf = NULL;
	r = 0;
out:
	free(bpf);
	close(fd);
	return r;
}

static int compile(const struct sbx_filter_spec *spec, pid_t self, struct sbx_bpf **ret)
{
	scmp_filter_ctx ctx;
	int r;

	if (!ret)
		return -EINVAL;
	if ((r = build_ctx(spec, self, &ctx)) < 0)
		return r;
	r = export_ctx(ctx, spec->trace_denied ||
		       (spec->notify_open && spec->profile == SBX_PROFILE_DEFAULT), ret);
	if (r < 0)
		set_err(spec, "exporting the filter: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}

/* The build-time program for spec, or NULL. Exact match only: every field
 * that changes what add_default builds (chan_fd does not) is compared, and
 * the running libseccomp must be the one that built the table. */
static const struct sbx_precompiled *find_precompiled(const struct sbx_filter_spec *s)
{
	const struct scmp_version *v;

	if (!s || s->profile != SBX_PROFILE_DEFAULT || s->nallow || s->ndeny ||
	    sbx_nprecompiled == 0)
		return NULL;
	v = seccomp_version();
	if (!v || v->major != sbx_precompiled_libseccomp[0] ||
	    v->minor != sbx_precompiled_libseccomp[1] ||
	    v->micro != sbx_precompiled_libseccomp[2])
		return NULL;
	for (size_t i = 0; i < sbx_nprecompiled; i++) {
		const struct sbx_precompiled *p = &sbx_precompiled[i];

		if (p->profile == s->profile && p->action == s->action &&
		    p->notify_open == s->notify_open && p->trace_denied == s->trace_denied &&
		    p->allow_net == s->allow_net)
			return p;
	}
	return NULL;
}

int sbx_filter_compile(const struct sbx_filter_spec *spec, struct sbx_bpf **ret)
{
	const struct sbx_precompiled *p = find_precompiled(spec);

	if (p && ret)
		return sbx_bpf_import(p->insns, p->len, p->notify, ret);
	return compile(spec, 0, ret);
}

int sbx_filter_compile_libseccomp(const struct sbx_filter_spec *spec, struct sbx_bpf **ret)
{
	return compile(spec, 0, ret);
}

int sbx_filter_compile_self(const struct sbx_filter_spec *spec, struct sbx_bpf **ret)
{
	return compile(spec, getpid(), ret);
}

struct sbx_bpf *sbx_bpf_free(struct sbx_bpf *bpf)
{
	free(bpf);
	return NULL;
}

int sbx_bpf_export(const struct sbx_bpf *bpf, const struct sock_filter **ret_insns,
		   size_t *ret_len, bool *ret_notify)
{
	if (!bpf || !ret_insns || !ret_len)
		return -EINVAL;
	*ret_insns = bpf->insns;
	*ret_len = bpf->len;
	if (ret_notify)
		*ret_notify = bpf->notify;
	return 0;
}

int sbx_bpf_import(const struct sock_filter *insns, size_t len, bool notify,
		   struct sbx_bpf **ret)
{
	struct sbx_bpf *bpf;

	if (!insns || !ret || len == 0 || len > BPF_MAXINSNS)
		return -EINVAL;
	bpf = malloc(sizeof(*bpf) + len * sizeof(*insns));
	if (!bpf)
		return -ENOMEM;
	bpf->notify = notify;
	bpf->len = (unsigned short)len;
	memcpy(bpf->insns, insns, len * sizeof(*insns));
	*ret = bpf;
	return 0;
}

bool sbx_bpf_has_notify(const struct sbx_bpf *bpf)
{
	return bpf && bpf->notify;
}

size_t sbx_bpf_len(const struct sbx_bpf *bpf)
{
	return bpf ? bpf->len : 0;
}

int sbx_filter_install(const struct sbx_bpf *bpf, int *ret_listener)
{
	struct sock_fprog prog;
	unsigned long flags = 0;
	long r;

	if (!bpf || (bpf->notify && !ret_listener))
		return -EINVAL;
	prog.len = bpf->len;
	prog.filter = (struct sock_filter *)bpf->insns;
	if (bpf->notify)
		flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	for (;;) {
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
		if (r >= 0)
			break;
		if (errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
			/* kernel before 5.19 */
			flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
			continue;
		}
		if (errno == ENOSYS && flags == 0) {
			/* seccomp(2) missing or hidden: the older prctl does the same
			 * for a filter without a listener. */
			if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
				break;
		}
		return -errno;
	}
	if (ret_listener)
		*ret_listener = bpf->notify ? (int)r : -1;
	return 0;
}

int sbx_filter_dump(const struct sbx_filter_spec *spec, int fd)
{
	scmp_filter_ctx ctx;
	int r;

	if ((r = build_ctx(spec, 0, &ctx)) < 0)
		return r;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}
