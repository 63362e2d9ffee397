/* Internal to seccomp/: the rules of a filter as libseccomp was given them,
 * a compact BPF emitter for those rules, and a BPF interpreter that checks
 * two programs decide every syscall alike.
 *
 * Why: the kernel's cost of installing a filter (check, conversion to eBPF,
 * JIT) grows with its length, and libseccomp spends ~1.5 instructions per
 * syscall named (~500 for the default profile) where runs of consecutive
 * syscall numbers with one action need one comparison. The emitter is used
 * at build time only (gen-precompiled), and what it emits is used only when
 * sbx_bpf_equiv finds it equivalent to libseccomp's program for the same
 * spec. */
#ifndef SBX_SECCOMP_COMPACT_H
#define SBX_SECCOMP_COMPACT_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_RULE_MAX_CMP 6
#define SBX_RULE_MAX_EXCEPT 8

enum { SBX_CMP_EQ, SBX_CMP_MASKED_EQ };

struct sbx_rule_cmp {
	unsigned arg;
	int op;                     /* SBX_CMP_* */
	uint64_t mask;              /* MASKED_EQ: (arg & mask) == datum */
	uint64_t datum;
};

enum {
	SBX_RULE_ARGS,              /* all of cmp[0..ncmp) hold (none: always) */
	SBX_RULE_EXCEPT32,          /* the low 32 bits of arg are none of values[] */
};

struct sbx_rule {
	int nr;
	uint32_t action;            /* SECCOMP_RET_* with data (= libseccomp's SCMP_ACT_*) */
	int kind;                   /* SBX_RULE_* */
	unsigned ncmp;
	struct sbx_rule_cmp cmp[SBX_RULE_MAX_CMP];
	unsigned arg;               /* EXCEPT32 */
	unsigned nvalues;
	uint32_t values[SBX_RULE_MAX_EXCEPT];
};

/* The rules of one filter, in the order they were added. A rule the
 * emitter cannot express sets unsupported (the caller keeps libseccomp's
 * program). */
struct sbx_rules {
	struct sbx_rule *r;
	size_t n, cap;
	bool unsupported;
	uint32_t defact;            /* action when no rule matches */
};

/* Append a copy of r. Returns 0 or -ENOMEM. */
int sbx_rules_add(struct sbx_rules *rs, const struct sbx_rule *r);
void sbx_rules_free(struct sbx_rules *rs);

/*
 * A program for rs on the native architecture (x86_64 only): other
 * architectures and x32 numbers (>= 0x40000000, but -1) get
 * SECCOMP_RET_KILL_PROCESS, as libseccomp's programs with
 * SCMP_FLTATR_ACT_BADARCH = KILL_PROCESS; rules for one syscall are or-ed,
 * an unconditional rule wins over conditional ones. *ret (malloc'ed) and
 * *ret_len set on success only. Returns 0, or -ENOTSUP (unsupported rules,
 * mixed actions on one syscall, another architecture), -E2BIG (over
 * BPF_MAXINSNS), -ENOMEM.
 */
int sbx_compact_emit(const struct sbx_rules *rs, struct sock_filter **ret, size_t *ret_len);

/*
 * Run a classic BPF program as seccomp would over d. *ret gets what it
 * returns; *touched (may be NULL) is set when it read anything past nr and
 * arch (instruction pointer, arguments). Returns false when the program
 * misbehaves (bad opcode or load, jump out of range, no return).
 */
bool sbx_bpf_run(const struct sock_filter *f, size_t n, const struct seccomp_data *d,
		 uint32_t *ret, bool *touched);

/*
 * Check that programs a and b return the same for: every syscall number
 * below 1100, x32 numbers, -1 and other edges, on x86_64, i386 and other
 * arches; for the numbers where either reads arguments, each argument
 * swept over values built from every constant the programs compare or mask
 * with (each bit flipped, neighbours, upper halves), pairs of the first
 * three arguments, and seeded random vectors. Deterministic. Returns 0 when
 * they agree, -EDOM (why says where they differ) or -EINVAL (one misbehaves).
 */
int sbx_bpf_equiv(const struct sock_filter *a, size_t na, const struct sock_filter *b,
		  size_t nb, char *why, size_t whylen);

#endif
