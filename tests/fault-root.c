/* A policy root changed under a loaded policy. A rule keeps the O_PATH fd
 * of its directory, opened when the rule was added, and every request is
 * resolved beneath that fd: the rule follows the directory object, never
 * the name. So:
 * - root removed and replaced by a symlink to /etc: requests under the old
 *   name resolve beneath the deleted directory: ENOENT, never /etc's
 *   content; creating there fails too; the root itself, if it opens, is
 *   the deleted directory, not /etc;
 * - root replaced by a new directory of the same name: the new one is not
 *   reached (ENOENT) until the policy is loaded again;
 * - root renamed: requests under the old name reach the renamed directory
 *   (the held fd follows it); the new name matches no rule: EACCES.
 * Requests go through the broker from a forked child; each case compares
 * the broker's fd table before and after. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/broker.h>
#include <sbx/client.h>
#include <sbx/policy.h>

#include "soak-util.h"
#include "tap.h"

static char base[PATH_MAX];
static char root[PATH_MAX + 16];

struct req {
	char path[PATH_MAX + 32];
	int flags;
};

struct res {
	int r;               /* 0 (fd received), or -errno */
	dev_t dev;
	ino_t ino;
	char head[16];       /* first bytes of a file */
};

#define MAX_REQ 8
static struct req reqs[MAX_REQ];
static int nreqs;

static int root_child(int sock, int keep, void *arg)
{
	struct sbx_client *c;

	(void)arg;
	if (sbx_client_new(sock, &c) < 0)
		return 10;
	for (int i = 0; i < nreqs; i++) {
		struct res out;
		struct stat st;
		int fd = sbx_client_open(c, reqs[i].path, reqs[i].flags, 0600);

		memset(&out, 0, sizeof(out));
		out.r = fd < 0 ? fd : 0;
		if (fd >= 0) {
			if (fstat(fd, &st) == 0) {
				out.dev = st.st_dev;
				out.ino = st.st_ino;
			}
			if (S_ISREG(st.st_mode) && (reqs[i].flags & O_ACCMODE) != O_WRONLY &&
			    read(fd, out.head, sizeof(out.head) - 1) < 0)
				out.r = -EIO;
			close(fd);
		}
		if (write(keep, &out, sizeof(out)) != sizeof(out))
			return 11;
	}
	sbx_client_free(c);
	return 0;
}

static void add_req(const char *rel, int flags)
{
	if (nreqs == MAX_REQ)
		tap_bail("too many requests");
	snprintf(reqs[nreqs].path, sizeof(reqs[nreqs].path), "%s/%s", base, rel);
	reqs[nreqs].flags = flags;
	nreqs++;
}

/* Serve the queued requests from a child; fills res[]. */
static void run(struct sbx_broker *b, struct res *res, const char *what)
{
	struct fd_table before;
	int pfd[2];
	pid_t pid;

	fd_snapshot(&before);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	pid = soak_fork(b, pfd[1], root_child, NULL, NULL);
	close(pfd[1]);
	if (sbx_broker_serve(b) < 0)
		tap_bail("serve");
	is_int(tap_reap(pid), 0, "%s: the child ran its %d requests", what, nreqs);
	for (int i = 0; i < nreqs; i++)
		if (read(pfd[0], &res[i], sizeof(res[i])) != sizeof(res[i]))
			tap_bail("short result");
	close(pfd[0]);
	ok(fd_same(&before), "%s: broker fd table restored", what);
	nreqs = 0;
}

static void make_root(const char *content)
{
	char f[PATH_MAX + 32];
	int fd;

	if (mkdir(root, 0755) < 0)
		tap_bail("mkdir %s", root);
	snprintf(f, sizeof(f), "%s/f", root);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		tap_bail("write %s", f);
	close(fd);
}

static void remove_root(void)
{
	char f[PATH_MAX + 32];
	struct stat st;

	if (lstat(root, &st) == 0 && S_ISLNK(st.st_mode)) {
		unlink(root);
		return;
	}
	snprintf(f, sizeof(f), "%s/f", root);
	unlink(f);
	rmdir(root);
}

static void setup(struct sbx_policy **p, struct sbx_broker **b, ino_t *ino)
{
	struct stat st;

	make_root("root\n");
	if (stat(root, &st) < 0)
		tap_bail("stat");
	*ino = st.st_ino;
	if (sbx_policy_new(p) < 0 ||
	    sbx_policy_add_path(*p, root, SBX_PERM_READ | SBX_PERM_WRITE | SBX_PERM_CREATE |
				SBX_PERM_DIR) < 0 ||
	    sbx_broker_new(*p, b) < 0)
		tap_bail("policy/broker");
}

static void teardown(struct sbx_policy *p, struct sbx_broker *b)
{
	sbx_broker_free(b);
	sbx_policy_free(p);
}

static void replaced_by_symlink(void)
{
	struct fd_table before;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct res res[MAX_REQ];
	struct stat etc;
	ino_t ino;

	fd_snapshot(&before);
	setup(&p, &b, &ino);
	add_req("root/f", O_RDONLY);
	run(b, res, "root intact");
	ok(res[0].r == 0 && !strcmp(res[0].head, "root\n"), "root intact: root/f served");

	/* rm -rf root; ln -s /etc root */
	remove_root();
	if (symlink("/etc", root) < 0 || stat("/etc", &etc) < 0)
		tap_bail("symlink");
	add_req("root/passwd", O_RDONLY);
	add_req("root/hostname", O_RDONLY);
	add_req("root/f", O_RDONLY);
	add_req("root/new", O_WRONLY | O_CREAT | O_EXCL);
	add_req("root", O_RDONLY | O_DIRECTORY);
	run(b, res, "root -> /etc");
	is_int(res[0].r, -ENOENT, "root -> /etc: root/passwd is ENOENT (the deleted directory)");
	is_int(res[1].r, -ENOENT, "root -> /etc: root/hostname is ENOENT");
	is_int(res[2].r, -ENOENT, "root -> /etc: the removed root/f is gone too");
	is_int(res[3].r, -ENOENT, "root -> /etc: nothing can be created in the deleted root");
	if (res[4].r == 0) {
		ok(res[4].ino == ino && res[4].ino != etc.st_ino,
		   "root -> /etc: the root itself opens as the deleted directory, not /etc");
	} else {
		ok(res[4].r == -ENOENT || res[4].r == -EACCES,
		   "root -> /etc: the root itself refused (%d)", res[4].r);
	}
	for (int i = 0; i < 4; i++)
		if (res[i].r == 0)
			diag("request %d reached content '%s'", i, res[i].head);
	teardown(p, b);
	remove_root();
	ok(fd_same(&before), "root -> /etc: fd table as before the case");
}

static void replaced_by_dir(void)
{
	struct fd_table before;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct res res[MAX_REQ];
	ino_t ino;

	fd_snapshot(&before);
	setup(&p, &b, &ino);
	remove_root();
	make_root("new\n");
	add_req("root/f", O_RDONLY);
	run(b, res, "root replaced by a new directory");
	is_int(res[0].r, -ENOENT,
	       "new root: root/f is ENOENT until the policy is loaded again");
	teardown(p, b);

	/* Loaded again: the new directory is the rule's. */
	if (sbx_policy_new(&p) < 0 || sbx_policy_add_path(p, root, SBX_PERM_READ) < 0 ||
	    sbx_broker_new(p, &b) < 0)
		tap_bail("policy/broker");
	add_req("root/f", O_RDONLY);
	run(b, res, "policy reloaded");
	ok(res[0].r == 0 && !strcmp(res[0].head, "new\n"), "policy reloaded: the new root/f served");
	teardown(p, b);
	remove_root();
	ok(fd_same(&before), "new root: fd table as before the case");
}

static void renamed(void)
{
	char moved[PATH_MAX + 32], movedf[PATH_MAX + 48];
	struct fd_table before;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct res res[MAX_REQ];
	ino_t ino;

	fd_snapshot(&before);
	setup(&p, &b, &ino);
	snprintf(moved, sizeof(moved), "%s/moved", base);
	snprintf(movedf, sizeof(movedf), "%s/f", moved);
	if (rename(root, moved) < 0)
		tap_bail("rename");
	add_req("root/f", O_RDONLY);
	add_req("moved/f", O_RDONLY);
	add_req("root", O_RDONLY | O_DIRECTORY);
	run(b, res, "root renamed");
	ok(res[0].r == 0 && !strcmp(res[0].head, "root\n"),
	   "renamed: root/f (old name) reaches the renamed directory: the held fd follows it");
	is_int(res[1].r, -EACCES, "renamed: moved/f (new name) matches no rule: EACCES");
	ok(res[2].r == 0 && res[2].ino == ino, "renamed: the old name opens the moved directory");
	teardown(p, b);
	unlink(movedf);
	rmdir(moved);
	ok(fd_same(&before), "renamed: fd table as before the case");
}

/* A directory under the root swapped for symlinks out of it after the load:
 * resolution stays beneath the held root fd (RESOLVE_BENEATH), so neither
 * an absolute nor a relative link reaches /etc. */
static void sub_swapped(void)
{
	char sub[PATH_MAX + 32], rel[PATH_MAX + 32], f[PATH_MAX + 48];
	struct fd_table before;
	struct sbx_policy *p;
	struct sbx_broker *b;
	struct res res[MAX_REQ];
	ino_t ino;

	fd_snapshot(&before);
	setup(&p, &b, &ino);
	snprintf(sub, sizeof(sub), "%s/sub", root);
	snprintf(rel, sizeof(rel), "%s/rel", root);
	snprintf(f, sizeof(f), "%s/f", sub);
	if (mkdir(sub, 0755) < 0 || mkdir(rel, 0755) < 0)
		tap_bail("mkdir");
	/* rm -rf root/sub; ln -s /etc root/sub; same with a relative link */
	if (rmdir(sub) < 0 || symlink("/etc", sub) < 0 || rmdir(rel) < 0 ||
	    symlink("../../../../../../../../etc", rel) < 0)
		tap_bail("symlink");
	add_req("root/sub/passwd", O_RDONLY);
	add_req("root/rel/passwd", O_RDONLY);
	add_req("root/sub", O_RDONLY | O_DIRECTORY);
	add_req("root/sub/new", O_WRONLY | O_CREAT | O_EXCL);
	run(b, res, "sub swapped for symlinks");
	for (int i = 0; i < 4; i++)
		ok(res[i].r == -EACCES || res[i].r == -EXDEV || res[i].r == -ELOOP,
		   "sub -> /etc: %s refused (%d), /etc not reached", reqs[i].path + strlen(base),
		   res[i].r);
	teardown(p, b);
	unlink(sub);
	unlink(rel);
	unlink(f);
	remove_root();
	ok(fd_same(&before), "sub swapped: fd table as before the case");
}

int main(void)
{
	struct fd_table start;

	tap_start();
	snprintf(base, sizeof(base), "/tmp/sbx-fault-root-XXXXXX");
	if (!mkdtemp(base))
		tap_bail("mkdtemp");
	snprintf(root, sizeof(root), "%s/root", base);
	fd_snapshot(&start);

	replaced_by_symlink();
	replaced_by_dir();
	renamed();
	sub_swapped();

	ok(fd_same(&start), "fd table as at the start");
	rmdir(base);
	return tap_done();
}
