/* A compact BPF program for a recorded rule list (see compact.h): a binary
 * search over runs of syscall numbers that share an action, with argument
 * checks only at the numbers that have conditional rules. */
#include <errno.h>
#include <linux/audit.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp/compact.h"

#define X32_BIT 0x40000000u
#define OFF_NR 0
#define OFF_ARCH 4
#define OFF_ARG_LO(i) (16 + 8 * (i))
#define OFF_ARG_HI(i) (16 + 8 * (i) + 4)
#define FAIL 0xff                   /* placeholder: to the end of the block */

int sbx_rules_add(struct sbx_rules *rs, const struct sbx_rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct sbx_rule *a = realloc(rs->r, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		rs->r = a;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

void sbx_rules_free(struct sbx_rules *rs)
{
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

struct prog {
	struct sock_filter *i;
	size_t n, cap;
	bool oom;
};

static void put(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct sock_filter *a = p->oom ? NULL : realloc(p->i, cap * sizeof(*a));

		if (!a) {
			p->oom = true;
			return;
		}
		p->i = a;
		p->cap = cap;
	}
	p->i[p->n++] = (struct sock_filter){ code, jt, jf, k };
}

/* Point every FAIL jump of the block [start, p->n) past its end. */
static int close_block(struct prog *p, size_t start)
{
	size_t end = p->n;

	if (end - start > 250)
		return -ENOTSUP;
	for (size_t j = start; j < end; j++) {
		struct sock_filter *f = &p->i[j];

		if (BPF_CLASS(f->code) != BPF_JMP || BPF_OP(f->code) == BPF_JA)
			continue;
		if (f->jt == FAIL)
			f->jt = (uint8_t)(end - j - 1);
		if (f->jf == FAIL)
			f->jf = (uint8_t)(end - j - 1);
	}
	return 0;
}

/* One 32-bit half: (word & mask) == datum, else FAIL. */
static bool put_half(struct prog *p, uint32_t off, uint32_t mask, uint32_t datum)
{
	if (mask == 0)
		return datum == 0;      /* always, or never */
	put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, off);
	if (mask != 0xffffffffu)
		put(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
	put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, FAIL, datum);
	return true;
}

/* A rule as a block: its checks, each jumping past the block when it
 * fails, then the rule's action. A rule that can never hold emits nothing. */
static int put_rule(struct prog *p, const struct sbx_rule *r)
{
	size_t start = p->n;

	if (r->kind == SBX_RULE_EXCEPT32) {
		put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG_LO(r->arg));
		for (unsigned v = 0; v < r->nvalues; v++)
			put(p, BPF_JMP | BPF_JEQ | BPF_K, FAIL, 0, r->values[v]);
	} else {
		for (unsigned c = 0; c < r->ncmp; c++) {
			const struct sbx_rule_cmp *m = &r->cmp[c];
			uint64_t mask = m->op == SBX_CMP_EQ ? ~0ull : m->mask;

			if (!put_half(p, OFF_ARG_HI(m->arg), (uint32_t)(mask >> 32),
				      (uint32_t)(m->datum >> 32)) ||
			    !put_half(p, OFF_ARG_LO(m->arg), (uint32_t)mask, (uint32_t)m->datum)) {
				p->n = start;   /* never holds */
				return 0;
			}
		}
	}
	put(p, BPF_RET | BPF_K, 0, 0, r->action);
	return close_block(p, start);
}

static bool rule_ok(const struct sbx_rule *r)
{
	if (r->nr < 0 || (uint32_t)r->nr >= X32_BIT)
		return false;
	if (r->kind == SBX_RULE_EXCEPT32)
		return r->arg < 6 && r->nvalues <= SBX_RULE_MAX_EXCEPT;
	if (r->kind != SBX_RULE_ARGS || r->ncmp > SBX_RULE_MAX_CMP)
		return false;
	for (unsigned c = 0; c < r->ncmp; c++)
		if (r->cmp[c].arg >= 6 ||
		    (r->cmp[c].op != SBX_CMP_EQ && r->cmp[c].op != SBX_CMP_MASKED_EQ))
			return false;
	return true;
}

/* A run of syscall numbers [lo, next segment's lo) with one outcome:
 * ret action, or the leaf code for one number with conditional rules. */
struct seg {
	uint32_t lo;
	bool cond;
	uint32_t action;
	size_t leaf, leaf_len;      /* cond: its code in the leaves program */
};

static int cmp_nr(const void *a, const void *b)
{
	const struct sbx_rule *x = a, *y = b;

	return (x->nr > y->nr) - (x->nr < y->nr);
}

static size_t seg_size(const struct seg *s)
{
	return s->cond ? s->leaf_len : 1;
}

static size_t tree_size(const struct seg *s, size_t l, size_t r)
{
	size_t m, left;

	if (l == r)
		return seg_size(&s[l]);
	m = l + (r - l + 1) / 2;
	left = tree_size(s, l, m - 1);
	return 1 + (left > 255) + left + tree_size(s, m, r);
}

static void put_tree(struct prog *p, const struct seg *s, size_t l, size_t r,
		     const struct prog *leaves)
{
	size_t m, left;

	if (l == r) {
		if (!s[l].cond) {
			put(p, BPF_RET | BPF_K, 0, 0, s[l].action);
			return;
		}
		for (size_t j = 0; j < s[l].leaf_len; j++) {
			const struct sock_filter *f = &leaves->i[s[l].leaf + j];

			put(p, f->code, f->jt, f->jf, f->k);
		}
		return;
	}
	m = l + (r - l + 1) / 2;
	left = tree_size(s, l, m - 1);
	if (left > 255) {
		put(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, s[m].lo);
		put(p, BPF_JMP | BPF_JA, 0, 0, (uint32_t)left);
	} else {
		put(p, BPF_JMP | BPF_JGE | BPF_K, (uint8_t)left, 0, s[m].lo);
	}
	put_tree(p, s, l, m - 1, leaves);
	put_tree(p, s, m, r, leaves);
}

/* Segments and leaf code from the rules sorted by number. */
static int build_segs(const struct sbx_rule *r, size_t n, uint32_t defact, struct seg *segs,
		      size_t *ret_nsegs, struct prog *leaves)
{
	uint32_t next = 0;
	size_t ns = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool uncond = false;
		struct seg s = { .lo = (uint32_t)r[i].nr, .action = r[i].action };

		for (; j < n && r[j].nr == r[i].nr; j++) {
			if (r[j].action != r[i].action)
				return -ENOTSUP;
			if (r[j].kind == SBX_RULE_ARGS && r[j].ncmp == 0)
				uncond = true;
		}
		if (!uncond) {
			int e;

			s.cond = true;
			s.leaf = leaves->n;
			for (size_t k = i; k < j; k++)
				if ((e = put_rule(leaves, &r[k])) < 0)
					return e;
			put(leaves, BPF_RET | BPF_K, 0, 0, defact);
			s.leaf_len = leaves->n - s.leaf;
		}
		/* the gap before it: default */
		if (s.lo > next) {
			if (ns && !segs[ns - 1].cond && segs[ns - 1].action == defact)
				;
			else
				segs[ns++] = (struct seg){ .lo = next, .action = defact };
		}
		if (!s.cond && ns && !segs[ns - 1].cond && segs[ns - 1].action == s.action)
			;               /* extends the previous run */
		else
			segs[ns++] = s;
		next = s.lo + 1;
		i = j;
	}
	if (!(ns && !segs[ns - 1].cond && segs[ns - 1].action == defact))
		segs[ns++] = (struct seg){ .lo = next, .action = defact };
	*ret_nsegs = ns;
	return leaves->oom ? -ENOMEM : 0;
}

int sbx_compact_emit(const struct sbx_rules *rs, struct sock_filter **ret, size_t *ret_len)
{
	struct prog p = { 0 }, leaves = { 0 };
	struct sbx_rule *r = NULL;
	struct seg *segs = NULL;
	size_t nsegs = 0;
	int e;

#if !defined(__x86_64__) || defined(__ILP32__)
	(void)rs;
	(void)ret;
	(void)ret_len;
	return -ENOTSUP;
#else
	if (!rs || !ret || !ret_len || rs->unsupported)
		return -ENOTSUP;
	for (size_t i = 0; i < rs->n; i++)
		if (!rule_ok(&rs->r[i]))
			return -ENOTSUP;
	r = malloc((rs->n ? rs->n : 1) * sizeof(*r));
	segs = malloc((2 * rs->n + 2) * sizeof(*segs));
	if (!r || !segs) {
		e = -ENOMEM;
		goto out;
	}
	if (rs->n)
		memcpy(r, rs->r, rs->n * sizeof(*r));
	/* stable enough: rules of one number keep no meaningful order (or-ed) */
	qsort(r, rs->n, sizeof(*r), cmp_nr);
	if ((e = build_segs(r, rs->n, rs->defact, segs, &nsegs, &leaves)) < 0)
		goto out;
	/* Other arches kill; x32 numbers (and anything above, but -1) too. */
	put(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARCH);
	put(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	put(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	put(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_NR);
	put(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 2, X32_BIT);
	put(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0xffffffffu);
	put(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	put_tree(&p, segs, 0, nsegs - 1, &leaves);
	if (p.oom) {
		e = -ENOMEM;
		goto out;
	}
	if (p.n > BPF_MAXINSNS) {
		e = -E2BIG;
		goto out;
	}
	*ret = p.i;
	*ret_len = p.n;
	p.i = NULL;
	e = 0;
out:
	free(p.i);
	free(leaves.i);
	free(segs);
	free(r);
	return e;
#endif
}
