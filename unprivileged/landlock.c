/* Landlock rulesets, best effort: the rights handled follow the ABI the
 * kernel reports, the attribute struct is sized by that ABI. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sbx/policy.h"
#include "unprivileged/landlock.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/* Our own copy of the uapi: the 6.1 header stops at ABI 2. */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE      (1ULL << 0)
#define LL_FS_WRITE_FILE   (1ULL << 1)
#define LL_FS_READ_FILE    (1ULL << 2)
#define LL_FS_READ_DIR     (1ULL << 3)
#define LL_FS_REMOVE_DIR   (1ULL << 4)
#define LL_FS_REMOVE_FILE  (1ULL << 5)
#define LL_FS_MAKE_CHAR    (1ULL << 6)
#define LL_FS_MAKE_DIR     (1ULL << 7)
#define LL_FS_MAKE_REG     (1ULL << 8)
#define LL_FS_MAKE_SOCK    (1ULL << 9)
#define LL_FS_MAKE_FIFO    (1ULL << 10)
#define LL_FS_MAKE_BLOCK   (1ULL << 11)
#define LL_FS_MAKE_SYM     (1ULL << 12)
#define LL_FS_REFER        (1ULL << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE     (1ULL << 14)     /* ABI 3 */
#define LL_FS_IOCTL_DEV    (1ULL << 15)     /* ABI 5 */

#define LL_MAX_ABI 7

/* Rights that make sense on a file (a rule on a non-directory). */
#define LL_FS_FILE (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | \
		    LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {                    /* ABI 1-3: 8 bytes, 4-5: 16, 6+: 24 */
	uint64_t handled_access_fs;
	uint64_t handled_access_net;        /* ABI 4 */ // cppcheck-suppress unusedStructMember ; kernel ABI layout
	uint64_t scoped;                    /* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct sbx_landlock {
	int fd;
	int abi;
	uint64_t handled;
	unsigned nrules;
};

int sbx_landlock_abi(void)
{
	long r = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return r < 0 ? -errno : (int)r;
}

static uint64_t handled_for(int abi)
{
	uint64_t h = (LL_FS_MAKE_SYM << 1) - 1;     /* ABI 1: bits 0..12 */

	if (abi >= 2)
		h |= LL_FS_REFER;
	if (abi >= 3)
		h |= LL_FS_TRUNCATE;
	if (abi >= 5)
		h |= LL_FS_IOCTL_DEV;
	return h;
}

int sbx_landlock_new(int abi, struct sbx_landlock **ret)
{
	struct ll_ruleset_attr attr = { 0 };
	struct sbx_landlock *l;
	size_t size;
	long fd;

	if (abi < 0 || !ret)
		return -EINVAL;
	if (abi == 0 && (abi = sbx_landlock_abi()) < 0)
		return abi;
	if (abi > LL_MAX_ABI)
		abi = LL_MAX_ABI;
	attr.handled_access_fs = handled_for(abi);
	/* ABI 6 scopes: the worker can neither signal processes outside its
	 * domain (its broker among them) nor connect to abstract unix sockets
	 * made outside it (host services that no path rule would stop). */
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	/* The kernel refuses a struct larger than it knows unless the tail is
	 * zero; size it by ABI anyway, so an older kernel sees its own size. */
	size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
	fd = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -errno;
	l = calloc(1, sizeof(*l));
	if (!l) {
		close((int)fd);
		return -ENOMEM;
	}
	/* Landlock ruleset fds are close-on-exec already. */
	l->fd = (int)fd;
	l->abi = abi;
	l->handled = attr.handled_access_fs;
	*ret = l;
	return 0;
}

/* SBX_PERM_* to Landlock rights; doc/confine.md has the table. */
static uint64_t rights_for(unsigned perms)
{
	uint64_t r = 0;

	if (perms & SBX_PERM_READ)
		r |= LL_FS_READ_FILE;
	if (perms & SBX_PERM_DIR)
		r |= LL_FS_READ_DIR;
	if (perms & SBX_PERM_WRITE)
		r |= LL_FS_WRITE_FILE | LL_FS_TRUNCATE;
	if (perms & SBX_PERM_CREATE)
		r |= LL_FS_MAKE_REG | LL_FS_MAKE_DIR | LL_FS_MAKE_SYM |
		     LL_FS_REMOVE_FILE | LL_FS_REMOVE_DIR | LL_FS_REFER;
	if (perms & SBX_PERM_EXEC)
		r |= LL_FS_EXECUTE | LL_FS_READ_FILE;
	if (perms & SBX_PERM_DEV) {
		r |= LL_FS_IOCTL_DEV;
		if (perms & SBX_PERM_CREATE)
			r |= LL_FS_MAKE_FIFO | LL_FS_MAKE_SOCK;
	}
	return r;
}

#define KNOWN_PERMS (SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE | \
		     SBX_PERM_DIR | SBX_PERM_EXEC | SBX_PERM_DEV)

uint64_t sbx_landlock_rights(const struct sbx_landlock *l, unsigned perms)
{
	return l && !(perms & ~KNOWN_PERMS) ? rights_for(perms) & l->handled : 0;
}

static int add_rule(const struct sbx_landlock *l, struct ll_path_beneath_attr *pb)
{
	return syscall(__NR_landlock_add_rule, l->fd, LL_RULE_PATH_BENEATH, pb, 0) < 0 ? -errno : 0;
}

int sbx_landlock_add(struct sbx_landlock *l, int path_fd, unsigned perms)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	int r;

	if (!l || (perms & ~KNOWN_PERMS))
		return -EINVAL;
	pb.allowed_access = rights_for(perms) & l->handled;
	if (pb.allowed_access == 0)
		return 0;       /* nothing this ABI can grant there */
	pb.parent_fd = path_fd;
	/* The kernel refuses (EINVAL) rights that only make sense on a
	 * directory for anything else: only then look at what path_fd is
	 * and keep the file rights. A directory, or file rights alone, need
	 * no fstat (one syscall less per rule). */
	r = add_rule(l, &pb);
	if (r == -EINVAL && (pb.allowed_access & ~LL_FS_FILE)) {
		if (fstat(path_fd, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EINVAL;
		pb.allowed_access &= LL_FS_FILE;
		if (pb.allowed_access == 0)
			return 0;
		r = add_rule(l, &pb);
	}
	if (r < 0)
		return r;
	l->nrules++;
	return 0;
}

int sbx_landlock_enforce_fd(int ruleset_fd)
{
	return syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0 ? -errno : 0;
}

int sbx_landlock_restrict_fd(int ruleset_fd)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return sbx_landlock_enforce_fd(ruleset_fd);
}

int sbx_landlock_restrict(struct sbx_landlock *l)
{
	if (!l)
		return -EINVAL;
	return sbx_landlock_restrict_fd(l->fd);
}

int sbx_landlock_fd(const struct sbx_landlock *l)
{
	return l ? l->fd : -EINVAL;
}

int sbx_landlock_get_abi(const struct sbx_landlock *l)
{
	return l ? l->abi : -EINVAL;
}

uint64_t sbx_landlock_handled(const struct sbx_landlock *l)
{
	return l ? l->handled : 0;
}

int sbx_landlock_describe(const struct sbx_landlock *l, char *buf, size_t len)
{
	static const char *const names[] = {
		"execute", "write_file", "read_file", "read_dir", "remove_dir",
		"remove_file", "make_char", "make_dir", "make_reg", "make_sock",
		"make_fifo", "make_block", "make_sym", "refer", "truncate", "ioctl_dev",
	};
	size_t off;
	int n;

	if (!l || (!buf && len))
		return -EINVAL;
	n = snprintf(buf, len, "landlock ABI %d, handles", l->abi);
	if (n < 0)
		return -EINVAL;
	off = (size_t)n;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(l->handled & (1ULL << i)))
			continue;
		n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
			     " %s", names[i]);
		off += (size_t)n;
	}
	n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
		     "; %sscoped%s; %u rule%s", l->abi >= 6 ? "" : "not ",
		     l->abi >= 6 ? " (signals, abstract unix sockets)" : "",
		     l->nrules, l->nrules == 1 ? "" : "s");
	off += (size_t)n;
	return (int)off;
}

struct sbx_landlock *sbx_landlock_free(struct sbx_landlock *l)
{
	if (l) {
		close(l->fd);
		free(l);
	}
	return NULL;
}
