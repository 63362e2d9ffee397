/*
 * libFuzzer target: sbx_policy_load_file on the input, written to a file.
 *
 * The policy lines can name a small real tree created once, at a fixed
 * place so the seeds (fuzz/corpus/policy-file/) reach real files:
 *   /tmp/sbx-fuzz-policy/{file, sub/, sub/f, link -> sub, abs -> .../file,
 *                         dangling -> nowhere, fifo}
 * and the abstract socket address "unix:@sbx-fuzz-policy". Each input is
 * loaded into a policy that already holds a rule, a named fd ("pre") and a
 * connect target ("pre"), so duplicates and merges are reached.
 *
 * Host names are never resolved: this file interposes getaddrinfo() with a
 * numeric-only version (a fuzzer must not send DNS queries), and inputs
 * naming the few devices whose open has an effect are skipped (see skip[]).
 *
 * Invariants checked on every input:
 * - failure: the policy is unchanged (same rules with the same perms, same
 *   named fds, syscalls, connect count and limits), the return is a
 *   negative errno, errbuf is NUL-terminated within errlen, the bytes past
 *   errlen are untouched, and it reads "FILE:LINE: ..." (always for a bad
 *   line, -EINVAL) or "FILE: ..."; a LINE named is between 1 and the
 *   number of lines of the input;
 * - success: errbuf is empty, nothing of the policy was lost;
 * - no fd leak: after sbx_policy_free the fd table is as before the policy
 *   was made, on success and on failure (LeakSanitizer checks memory).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sbx/policy.h>

#include "fuzz-util.h"
#include "privileged/policy-internal.h"

#define TREE "/tmp/sbx-fuzz-policy"
#define ERRLEN 200

/* Devices whose mere open has an effect (watchdog arms, snapshot prepares
 * hibernation), also reachable as /dev/char/MAJ:MIN: inputs naming them are
 * skipped. Everything else a line can open is harmless to open and close. */
static const char *const skip[] = { "watchdog", "snapshot", "char/" };

static char file[64];   /* the policy file the input is written to */
static int file_fd = -1;

/* Numeric hosts only: never a DNS query from a fuzzer. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct addrinfo h = { 0 };

	if (!real)
		real = (int (*)(const char *, const char *, const struct addrinfo *,
				struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
	if (!real)
		abort();
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

static void make_tree(void)
{
	int fd;

	if (mkdir(TREE, 0755) < 0 && errno != EEXIST)
		abort();
	if (mkdir(TREE "/sub", 0755) < 0 && errno != EEXIST)
		abort();
	fd = open(TREE "/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	fd = open(TREE "/sub/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	(void)symlink("sub", TREE "/link");
	(void)symlink(TREE "/file", TREE "/abs");
	(void)symlink(TREE "/nowhere", TREE "/dangling");
	(void)mkfifo(TREE "/fifo", 0644);
}

static void init(void)
{
	char dir[] = "/tmp/sbx-fuzz-policy-file.XXXXXX";

	make_tree();
	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/policy", dir);
	file_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (file_fd < 0)
		abort();
}

/* A digest of everything a policy holds that the iterators show. */
struct digest {
	size_t nrules, nfds, nsys;
	unsigned long sum;          /* over paths, perms, names */
	unsigned long nconns;
	unsigned long limits[2];
};

static unsigned long mix(unsigned long h, const char *s, unsigned long v)
{
	for (; *s; s++)
		h = h * 131 + (unsigned char)*s;
	return h * 31 + v;
}

static int dig_path(const char *path, int root_fd, unsigned perms, void *ud)
{
	struct digest *d = ud;

	fuzz_assert(path[0] == '/' && root_fd >= 0);
	fuzz_assert(perms != 0);
	d->nrules++;
	d->sum = mix(d->sum, path, perms);
	return 0;
}

static int dig_fd(const char *name, int fd, void *ud)
{
	struct digest *d = ud;

	fuzz_assert(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	d->nfds++;
	d->sum = mix(d->sum, name, 1);
	return 0;
}

static int dig_sys(const char *name, bool allow, void *ud)
{
	struct digest *d = ud;

	d->nsys++;
	d->sum = mix(d->sum, name, allow);
	return 0;
}

static void digest(const struct sbx_policy *p, struct digest *d)
{
	memset(d, 0, sizeof(*d));
	fuzz_assert(policy_foreach_path(p, dig_path, d) == 0);
	fuzz_assert(policy_foreach_fd(p, dig_fd, d) == 0);
	fuzz_assert(policy_foreach_syscall(p, dig_sys, d) == 0);
	d->nconns = policy_connect_count(p);
	d->limits[0] = policy_limit(p, SBX_LIMIT_REQUEST_BYTES);
	d->limits[1] = policy_limit(p, SBX_LIMIT_IN_FLIGHT);
}

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = 0;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	return n + (size && data[size - 1] != '\n');
}

static void check_errbuf(const char *errbuf, int r, const uint8_t *data, size_t size)
{
	size_t flen = strlen(file);
	const char *e = memchr(errbuf, 0, ERRLEN);
	unsigned long line;
	char *end;

	fuzz_assert(e != NULL);
	for (size_t i = ERRLEN; i < ERRLEN + 16; i++)
		fuzz_assert(errbuf[i] == 0x5a);
	if (strncmp(errbuf, file, flen) != 0 || errbuf[flen] != ':')
		fuzz_fail("errbuf does not name the file: '%s'", errbuf);
	/* "FILE:LINE: reason" (a bad line, always for -EINVAL; duplicates) or
	 * "FILE: reason"; a line named must be one of the input's. */
	line = strtoul(errbuf + flen + 1, &end, 10);
	if (errbuf[flen + 1] < '0' || errbuf[flen + 1] > '9' || *end != ':') {
		if (r == -EINVAL)
			fuzz_fail("-EINVAL without a line: '%s'", errbuf);
		return;
	}
	if (line < 1 || line > count_lines(data, size))
		fuzz_fail("errbuf names line %lu of %u: '%s'", line, count_lines(data, size),
			  errbuf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest before, after;
	char errbuf[ERRLEN + 16];
	struct sbx_policy *p;
	int fds0, nullfd, r;

	if (file_fd < 0)
		init();
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (memmem(data, size, skip[i], strlen(skip[i])))
			return 0;
	if (ftruncate(file_fd, 0) < 0 || pwrite(file_fd, data, size, 0) != (ssize_t)size)
		abort();

	fds0 = fuzz_count_fds();
	if (sbx_policy_new(&p) < 0)
		abort();
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0 || sbx_policy_add_path(p, TREE "/sub", SBX_PERM_READ) < 0 ||
	    sbx_policy_add_fd(p, "pre", nullfd) < 0 ||
	    sbx_policy_add_connect(p, "pre", "unix:@sbx-fuzz-policy") < 0)
		abort();
	close(nullfd);
	digest(p, &before);

	memset(errbuf, 0x5a, sizeof(errbuf));
	r = sbx_policy_load_file(p, file, errbuf, ERRLEN);
	digest(p, &after);
	if (r < 0) {
		fuzz_assert(r > -4096);
		check_errbuf(errbuf, r, data, size);
		if (memcmp(&before, &after, sizeof(before)) != 0)
			fuzz_fail("failed load (%d: %s) changed the policy", r, errbuf);
	} else {
		fuzz_assert(r == 0 && errbuf[0] == 0);
		fuzz_assert(after.nrules >= before.nrules && after.nfds >= before.nfds &&
			    after.nsys >= before.nsys && after.nconns >= before.nconns);
	}
	sbx_policy_free(p);
	if (fuzz_count_fds() != fds0)
		fuzz_fail("fd leak: %d fds before the policy, %d after its free (load %d)",
			  fds0, fuzz_count_fds(), r);
	return 0;
}
