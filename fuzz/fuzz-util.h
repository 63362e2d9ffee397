/* Helpers shared by the libFuzzer targets (header only, each target is one
 * translation unit). An invariant that does not hold calls fuzz_fail(),
 * which names it on stderr and aborts: libFuzzer saves the input. */
#ifndef SBX_FUZZ_UTIL_H
#define SBX_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                        \
	do {                                                                  \
		fprintf(stderr, "fuzz invariant (%s:%d): ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                 \
		fputc('\n', stderr);                                          \
		abort();                                                      \
	} while (0)

#define fuzz_assert(cond)                                                     \
	do {                                                                  \
		if (!(cond))                                                  \
			fuzz_fail("%s", #cond);                               \
	} while (0)

/* Entries of /proc/self/fd ("." and ".." included: only differences
 * matter). The directory's own fd is counted the same way each time. */
static inline int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

/* Little-endian reads from a byte cursor; short input reads as zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline unsigned fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline unsigned fuzz_u16(struct fuzz_in *in)
{
	unsigned lo = fuzz_u8(in);

	return lo | fuzz_u8(in) << 8;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_u8(in) << (8 * i);
	return v;
}

#endif
