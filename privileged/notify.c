/* Seccomp user notification: the supervisor side of unmodified workers'
 * opens, and traced denials. One notification in, one answer out:
 *   - open/openat/openat2/creat: path and arguments read from the worker,
 *     decided by sbx_policy_open, the fd injected with NOTIF_ADDFD + SEND
 *     (or -errno answered). Never SECCOMP_USER_NOTIF_FLAG_CONTINUE here: a
 *     continued open would re-read the path from the worker's memory after
 *     our check (the TOCTOU the kernel documentation warns about).
 *   - anything else: a denial, counted, reported once per syscall, answered
 *     with the configured errno (or continued in log-only mode).
 * A notification whose thread died meanwhile (ENOENT from the ioctls, or
 * NOTIF_ID_VALID failing) is dropped without an answer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "notify-impl.h"

#ifndef O_LARGEFILE
#define O_LARGEFILE 0
#endif

/* The open flags the kernel knows (its VALID_OPEN_FLAGS): open/openat drop
 * any other bit silently, openat2 refuses them with EINVAL. */
#define NOTIFY_VALID_OPEN_FLAGS                                               \
	(O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |   \
	 O_APPEND | O_NDELAY | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE |       \
	 O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE |  \
	 O_SYNC)
#define NOTIFY_RESOLVE_KNOWN                                                  \
	(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |          \
	 RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED)

struct notify_ctx {
	const struct sbx_policy *policy;
	int fd;
	pid_t pid;
	uint32_t arch;
	struct notify_opts o;
	struct notify_report *own_report;  /* when o.report was NULL */
	struct seccomp_notif *req;
	size_t req_size;
	struct seccomp_notif_resp *resp;
	size_t resp_size;
};

int notify_ctx_new(const struct sbx_policy *p, int listener, pid_t pid,
		   const struct notify_opts *o, struct notify_ctx **ret)
{
	struct seccomp_notif_sizes sz;
	struct notify_ctx *ctx;
	int r;

	if (listener < 0 || !ret) {
		if (listener >= 0)
			close(listener);
		return -EINVAL;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		r = -errno;
		close(listener);
		return r;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(listener);
		return -ENOMEM;
	}
	ctx->policy = p;
	ctx->fd = listener;
	ctx->pid = pid;
	ctx->arch = seccomp_arch_native();
	if (o)
		ctx->o = *o;
	/* The kernel may know a larger struct than our headers: size by it. */
	ctx->req_size = sz.seccomp_notif > sizeof(*ctx->req) ? sz.seccomp_notif : sizeof(*ctx->req);
	ctx->resp_size = sz.seccomp_notif_resp > sizeof(*ctx->resp) ? sz.seccomp_notif_resp
								     : sizeof(*ctx->resp);
	ctx->req = calloc(1, ctx->req_size);
	ctx->resp = calloc(1, ctx->resp_size);
	if (!ctx->req || !ctx->resp) {
		notify_ctx_free(ctx);
		return -ENOMEM;
	}
	if (!ctx->o.report) {
		r = notify_report_new(&ctx->own_report);
		if (r < 0) {
			notify_ctx_free(ctx);
			return r;
		}
		ctx->o.report = ctx->own_report;
	}
	*ret = ctx;
	return 0;
}

struct notify_ctx *notify_ctx_free(struct notify_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (ctx->fd >= 0)
		close(ctx->fd);
	notify_report_free(ctx->own_report);
	free(ctx->req);
	free(ctx->resp);
	free(ctx);
	return NULL;
}

int notify_ctx_fd(const struct notify_ctx *ctx)
{
	return ctx ? ctx->fd : -EINVAL;
}

/* Answer with val/error/flags. A vanished notification (ENOENT) is not an
 * error: its thread is gone and nobody waits for the answer. */
static int answer(struct notify_ctx *ctx, uint64_t id, int err, uint32_t flags)
{
	memset(ctx->resp, 0, ctx->resp_size);
	ctx->resp->id = id;
	ctx->resp->error = err ? -err : 0;
	ctx->resp->val = 0;
	ctx->resp->flags = flags;
	for (;;) {
		if (ioctl(ctx->fd, SECCOMP_IOCTL_NOTIF_SEND, ctx->resp) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return errno == ENOENT ? 0 : -errno;
	}
}

/* Inject fd (consumed: closed on every path) as the syscall's result. */
static int answer_fd(struct notify_ctx *ctx, uint64_t id, int fd, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)fd,
		.newfd = 0,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r, err;

	do
		r = ioctl(ctx->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	while (r < 0 && errno == EINTR);
	err = r < 0 ? errno : 0;
	close(fd);
	if (r >= 0 || err == ENOENT)
		return 0;
	/* Not installed (the worker's table is full: EMFILE, or it hit its
	 * RLIMIT_NOFILE): the call is still waiting, fail it. */
	return answer(ctx, id, err, 0);
}

static bool still_valid(struct notify_ctx *ctx, uint64_t id)
{
	uint64_t v = id;

	return ioctl(ctx->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &v) == 0;
}

struct open_call {
	int dirfd;
	uint64_t path_addr;
	int flags;
	mode_t mode;
	uint64_t resolve;
	bool is_openat2;
};

/* Decode the four open syscalls the way the kernel's build_open_how does. */
static int decode_open(struct notify_ctx *ctx, const struct seccomp_data *d, struct open_call *c)
{
	memset(c, 0, sizeof(*c));
	c->dirfd = AT_FDCWD;
	switch (d->nr) {
	case __NR_open:
		c->path_addr = d->args[0];
		c->flags = (int)d->args[1] | O_LARGEFILE;
		c->mode = (mode_t)d->args[2];
		break;
	case __NR_creat:
		c->path_addr = d->args[0];
		c->flags = O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE;
		c->mode = (mode_t)d->args[1];
		break;
	case __NR_openat:
		c->dirfd = (int)d->args[0];
		c->path_addr = d->args[1];
		c->flags = (int)d->args[2] | O_LARGEFILE;
		c->mode = (mode_t)d->args[3];
		break;
	case __NR_openat2: {
		struct open_how how;
		int r;

		c->is_openat2 = true;
		c->dirfd = (int)d->args[0];
		c->path_addr = d->args[1];
		r = notify_read_how(ctx->req->pid, d->args[2], d->args[3], &how);
		if (r < 0)
			return r;
		/* openat2 refuses what open ignores. */
		if (how.flags & ~(uint64_t)(unsigned)NOTIFY_VALID_OPEN_FLAGS)
			return -EINVAL;
		if (how.resolve & ~(uint64_t)NOTIFY_RESOLVE_KNOWN)
			return -EINVAL;
		if (how.mode & ~(uint64_t)07777)
			return -EINVAL;
		if (how.mode && !(how.flags & (O_CREAT | __O_TMPFILE)))
			return -EINVAL;
		if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
			return -EINVAL;
		c->flags = (int)how.flags;
		c->mode = (mode_t)how.mode;
		c->resolve = how.resolve;
		return 0;
	}
	default:
		return -ENOSYS;
	}
	/* open/openat: unknown bits are dropped, mode only counts when creating. */
	c->flags &= NOTIFY_VALID_OPEN_FLAGS;
	if (!(c->flags & (O_CREAT | __O_TMPFILE)))
		c->mode = 0;
	c->mode &= 07777;
	return 0;
}

/* What openat2's resolve flags ask for that rule resolution cannot promise
 * by itself. The policy always resolves with RESOLVE_NO_MAGICLINKS beneath
 * the rule; BENEATH/IN_ROOT are checked lexically against the dirfd (no
 * ".." component; BENEATH refuses absolute paths, IN_ROOT reads them
 * relative to dirfd). NO_SYMLINKS and NO_XDEV cannot be promised from a
 * path name: refused with ENOSYS so the caller falls back to openat. */
static int check_resolve(struct open_call *c, char *path)
{
	uint64_t r = c->resolve;

	if (!r || r == RESOLVE_NO_MAGICLINKS)
		return 0;
	if (r & RESOLVE_CACHED)
		return -EAGAIN; /* "not in the cache": callers retry without it */
	if (r & (RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV))
		return -ENOSYS;
	if (r & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {
		const char *s;

		if (path[0] == '/') {
			if (r & RESOLVE_BENEATH)
				return -EXDEV;
			while (*path == '/')
				memmove(path, path + 1, strlen(path));
			if (!*path)
				memcpy(path, ".", 2);
		}
		for (s = path; *s; ) {
			size_t n = strcspn(s, "/");

			if (n == 2 && s[0] == '.' && s[1] == '.')
				return -EXDEV;
			s += n;
			while (*s == '/')
				s++;
		}
	}
	return 0;
}

/* Open under the policy; when the worker runs with other filesystem ids
 * than we do, a file we create is given to them (as the kernel would have
 * created it for them). mode already has the worker's umask applied. */
static int policy_open_as(struct notify_ctx *ctx, const char *path, int flags, mode_t mode,
			  const struct notify_creds *cr)
{
	int tries, fd;

	if (!cr || (cr->fsuid == geteuid() && cr->fsgid == getegid()))
		return sbx_policy_open(ctx->policy, path, flags, mode);
	if ((flags & __O_TMPFILE) == __O_TMPFILE || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
		fd = sbx_policy_open(ctx->policy, path, flags, mode);
		goto created;
	}
	if (!(flags & O_CREAT))
		return sbx_policy_open(ctx->policy, path, flags, mode);
	/* O_CREAT without O_EXCL: learn whether we created it. */
	for (tries = 0; tries < 4; tries++) {
		fd = sbx_policy_open(ctx->policy, path, flags & ~O_CREAT, 0);
		if (fd != -ENOENT)
			return fd;
		fd = sbx_policy_open(ctx->policy, path, flags | O_EXCL, mode);
		if (fd != -EEXIST)
			goto created;
	}
	return -EAGAIN;
created:
	if (fd >= 0 && fchown(fd, cr->fsuid, cr->fsgid) < 0) {
		/* Leave no root-owned file behind that the worker asked for. */
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void handle_open(struct notify_ctx *ctx)
{
	const struct seccomp_data *d = &ctx->req->data;
	pid_t pid = ctx->req->pid;
	uint64_t id = ctx->req->id;
	struct notify_creds cr, *crp = NULL;
	struct open_call c;
	char path[PATH_MAX], base[PATH_MAX], full[PATH_MAX];
	const char *name = NULL;
	bool cloexec;
	int r, flags;

	r = decode_open(ctx, d, &c);
	if (r == 0) {
		r = notify_read_path(pid, c.path_addr, path);
		if (r == 0)
			r = -ENOENT; /* "" (open has no AT_EMPTY_PATH) */
	}
	if (r > 0)
		r = check_resolve(&c, path);
	if (r == 0) {
		name = path;
		if (path[0] != '/') {
			r = notify_base_dir(pid, c.dirfd, base, sizeof(base));
			if (r >= 0)
				r = notify_join(base, path, full);
			if (r >= 0)
				name = full;
		}
	}
	if (r >= 0 && (c.flags & (O_CREAT | __O_TMPFILE))) {
		r = notify_proc_creds(pid, &cr);
		if (r == 0) {
			c.mode &= ~(mode_t)cr.umask;
			crp = &cr;
		}
	}
	/* Every read of the worker is done: only now is it known that pid
	 * was the thread that asked (not a recycled pid) and still waits. */
	if (r == -ESRCH || !still_valid(ctx, id))
		return;
	if (r < 0)
		goto refuse;

	cloexec = c.flags & O_CLOEXEC;
	flags = c.flags;
	if (flags & O_PATH) {
		/* ADDFD cannot inject O_PATH files (EBADF): serve a real read-only,
		 * non-blocking open instead, which the policy grants only where
		 * the rule allows reading (files) or listing (directories). */
		flags = O_RDONLY | O_NONBLOCK | (flags & (O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW));
	}
	if (notify_quiet_enoent(name)) {
		r = -ENOENT;
		goto refuse;
	}
	if (!ctx->policy) {
		r = -EACCES;
		goto refuse;
	}
	r = policy_open_as(ctx, name, flags, c.mode, crp);
	if (r < 0)
		goto refuse;
	if (ctx->o.on_open)
		ctx->o.on_open(pid, name, c.flags, 0, ctx->o.open_ud);
	answer_fd(ctx, id, r, cloexec);
	return;
refuse:
	if (ctx->o.on_open)
		ctx->o.on_open(pid, name, c.flags, -r, ctx->o.open_ud);
	answer(ctx, id, -r, 0);
}

static void handle_denied(struct notify_ctx *ctx)
{
	const struct seccomp_data *d = &ctx->req->data;
	char name[64];
	long n;
	int i;

	n = notify_report_add(ctx->o.report, d->nr);
	if (n == 1 && ctx->o.on_denial) {
		struct notify_denial den = {
			.pid = ctx->req->pid,
			.nr = d->nr,
			.name = notify_syscall_name(d->nr, name, sizeof(name)),
			.count = 1,
		};

		for (i = 0; i < 6; i++)
			den.args[i] = d->args[i];
		ctx->o.on_denial(&den, ctx->o.ud);
	}
	if (ctx->o.log_only)
		answer(ctx, ctx->req->id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else
		answer(ctx, ctx->req->id, ctx->o.deny_errno > 0 ? ctx->o.deny_errno : EPERM, 0);
}

int notify_handle_one(struct notify_ctx *ctx)
{
	const struct seccomp_data *d;

	if (!ctx || ctx->fd < 0)
		return -EINVAL;
	for (;;) {
		/* NOTIF_RECV wants a zeroed buffer (EINVAL otherwise). */
		memset(ctx->req, 0, ctx->req_size);
		if (ioctl(ctx->fd, SECCOMP_IOCTL_NOTIF_RECV, ctx->req) == 0)
			break;
		if (errno == EINTR)
			continue;
		return errno == ENOENT ? 0 : -errno;
	}
	d = &ctx->req->data;
	if (d->arch != ctx->arch || ctx->req->pid <= 0) {
		/* The filter kills foreign arches; answer safely regardless. */
		answer(ctx, ctx->req->id, ENOSYS, 0);
		return 1;
	}
	switch (d->nr) {
	case __NR_open:
	case __NR_creat:
	case __NR_openat:
	case __NR_openat2:
		handle_open(ctx);
		break;
	default:
		handle_denied(ctx);
		break;
	}
	return 1;
}

int notify_serve(struct notify_ctx *ctx)
{
	if (!ctx || ctx->fd < 0)
		return -EINVAL;
	for (;;) {
		struct pollfd p = { .fd = ctx->fd, .events = POLLIN };
		int r = poll(&p, 1, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p.revents & POLLIN) {
			r = notify_handle_one(ctx);
			if (r < 0)
				return r;
			continue;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			return 0;
	}
}
