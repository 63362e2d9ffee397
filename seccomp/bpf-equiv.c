/* A classic-BPF interpreter with seccomp's view of the data, and a check
 * that two filter programs decide alike (see compact.h). Used at build time
 * by gen-precompiled and by the tests; nothing here runs on a start. */
#include <errno.h>
#include <linux/audit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp/compact.h"

bool sbx_bpf_run(const struct sock_filter *f, size_t n, const struct seccomp_data *d,
		 uint32_t *ret, bool *touched)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	const unsigned char *data = (const unsigned char *)d;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
		size_t off = 0;
		bool cond = false;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t v;

			switch (i->code) {
			case BPF_LD | BPF_W | BPF_ABS:
				if (i->k % 4 || i->k > sizeof(*d) - 4)
					return false;
				if (i->k >= 8 && touched)
					*touched = true;
				memcpy(&v, data + i->k, 4);
				break;
			case BPF_LD | BPF_W | BPF_LEN:
			case BPF_LDX | BPF_W | BPF_LEN:
				v = sizeof(*d);
				break;
			case BPF_LD | BPF_IMM:
			case BPF_LDX | BPF_IMM:
				v = i->k;
				break;
			case BPF_LD | BPF_MEM:
			case BPF_LDX | BPF_MEM:
				if (i->k >= BPF_MEMWORDS)
					return false;
				v = mem[i->k];
				break;
			default:
				return false;
			}
			if (BPF_CLASS(i->code) == BPF_LD)
				a = v;
			else
				x = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (i->k >= BPF_MEMWORDS)
				return false;
			mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			case BPF_MUL: a *= src; break;
			case BPF_DIV: if (!src) { *ret = 0; return true; } a /= src; break;
			case BPF_MOD: if (!src) { *ret = 0; return true; } a %= src; break;
			case BPF_OR: a |= src; break;
			case BPF_AND: a &= src; break;
			case BPF_XOR: a ^= src; break;
			case BPF_LSH: a = src >= 32 ? 0 : a << src; break;
			case BPF_RSH: a = src >= 32 ? 0 : a >> src; break;
			case BPF_NEG: a = -a; break;
			default: return false;
			}
			break;
		case BPF_JMP:
			switch (BPF_OP(i->code)) {
			case BPF_JA: off = i->k; break;
			case BPF_JEQ: cond = a == src; break;
			case BPF_JGT: cond = a > src; break;
			case BPF_JGE: cond = a >= src; break;
			case BPF_JSET: cond = (a & src) != 0; break;
			default: return false;
			}
			if (BPF_OP(i->code) != BPF_JA)
				off = cond ? i->jt : i->jf;
			if (off >= n - pc - 1)
				return false;   /* out of the program */
			pc += off;
			break;
		case BPF_RET:
			*ret = BPF_RVAL(i->code) == BPF_A ? a : i->k;
			return BPF_RVAL(i->code) == BPF_A || BPF_RVAL(i->code) == BPF_K;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else if (BPF_MISCOP(i->code) == BPF_TXA)
				a = x;
			else
				return false;
			break;
		default:
			return false;
		}
	}
	return false;                   /* fell off the end */
}

struct consts {
	uint32_t v[1024];
	size_t n;
};

static void add_const(struct consts *c, uint32_t v)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] == v)
			return;
	if (c->n < sizeof(c->v) / sizeof(c->v[0]))
		c->v[c->n++] = v;
}

/* Constants either program compares or masks an argument with: those of
 * the instructions reached while the accumulator may hold a word of the
 * arguments or the instruction pointer (a forward pass over the jumps,
 * which only go forward in classic BPF). They are what argument probes
 * are built from; syscall numbers compared in the dispatch are not. */
static void collect(struct consts *c, const struct sock_filter *f, size_t n)
{
	unsigned char *st = calloc(n + 1, 1);   /* bit 0 reached, bit 1 A may be an argument */

	if (!st)
		return;
	st[0] = 1;
	for (size_t i = 0; i < n; i++) {
		uint16_t cl = BPF_CLASS(f[i].code);
		unsigned char s = st[i];

		if (!(s & 1))
			continue;
		if (cl == BPF_LD) {
			bool arg = f[i].code != (BPF_LD | BPF_W | BPF_ABS) || f[i].k >= 8;

			if (f[i].code == (BPF_LD | BPF_IMM))
				add_const(c, f[i].k);
			s = (unsigned char)(1 | (arg ? 2 : 0));
		} else if (cl == BPF_LDX || cl == BPF_MISC) {
			s |= 2;                 /* X may carry anything into A */
		} else if ((s & 2) && ((cl == BPF_JMP && BPF_OP(f[i].code) != BPF_JA) ||
				       (cl == BPF_ALU && BPF_SRC(f[i].code) == BPF_K))) {
			add_const(c, f[i].k);
		}
		if (cl == BPF_RET)
			continue;
		if (cl == BPF_JMP) {
			size_t t1 = i + 1 + (BPF_OP(f[i].code) == BPF_JA ? f[i].k : f[i].jt);
			size_t t2 = i + 1 + (BPF_OP(f[i].code) == BPF_JA ? f[i].k : f[i].jf);

			if (t1 < n)
				st[t1] |= s;
			if (t2 < n)
				st[t2] |= s;
		} else if (i + 1 < n) {
			st[i + 1] |= s;
		}
	}
	free(st);
}

struct pair {
	const struct sock_filter *a, *b;
	size_t na, nb;
	char *why;
	size_t whylen;
	unsigned long runs;
};

/* Run both; returns 0 when they agree, sets *touched when either read
 * past nr/arch. */
static int one(struct pair *p, const struct seccomp_data *d, bool *touched)
{
	uint32_t ra = 0, rb = 0;
	bool ta = false, tb = false;

	p->runs++;
	if (!sbx_bpf_run(p->a, p->na, d, &ra, &ta) || !sbx_bpf_run(p->b, p->nb, d, &rb, &tb)) {
		snprintf(p->why, p->whylen, "a program misbehaves at nr %d arch %#x", d->nr,
			 d->arch);
		return -EINVAL;
	}
	if (touched)
		*touched = ta || tb;
	if (ra != rb) {
		snprintf(p->why, p->whylen,
			 "nr %d arch %#x args %#llx %#llx %#llx %#llx %#llx %#llx: %#x vs %#x",
			 d->nr, d->arch, (unsigned long long)d->args[0],
			 (unsigned long long)d->args[1], (unsigned long long)d->args[2],
			 (unsigned long long)d->args[3], (unsigned long long)d->args[4],
			 (unsigned long long)d->args[5], ra, rb);
		return -EDOM;
	}
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Argument values for a sweep: every constant, its neighbours and each of
 * its bits flipped, under a few upper halves. */
static uint64_t *arg_values(const struct consts *c, size_t *ret_n)
{
	static const uint32_t his[] = { 0, 1, 0x80000000u, 0xffffffffu };
	size_t cap = (c->n * 35 + 4) * 4, n = 0;
	uint64_t *v = malloc(cap * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t h = 0; h < 4; h++) {
		for (size_t i = 0; i < c->n; i++) {
			uint32_t k = c->v[i];

			v[n++] = (uint64_t)his[h] << 32 | k;
			v[n++] = (uint64_t)his[h] << 32 | (uint32_t)(k + 1);
			v[n++] = (uint64_t)his[h] << 32 | (uint32_t)(k - 1);
			for (int b = 0; b < 32; b++)
				v[n++] = (uint64_t)his[h] << 32 | (k ^ (1u << b));
		}
		v[n++] = (uint64_t)his[h] << 32;
		v[n++] = (uint64_t)his[h] << 32 | 0xffffffffu;
		v[n++] = (uint64_t)his[h] << 32 | 1;
		v[n++] = (uint64_t)his[h] << 32 | 0x80000000u;
	}
	*ret_n = n;
	return v;
}

static int sweep(struct pair *p, int nr, const uint64_t *vals, size_t nvals,
		 const struct consts *c)
{
	struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };
	int e;

	for (unsigned i = 0; i < 6; i++)
		for (size_t j = 0; j < nvals; j++) {
			memset(d.args, 0, sizeof(d.args));
			d.args[i] = vals[j];
			if ((e = one(p, &d, NULL)) < 0)
				return e;
		}
	/* pairs of the first three arguments, over the bare constants */
	for (unsigned i = 0; i < 3; i++)
		for (unsigned k = i + 1; k < 3; k++)
			for (size_t x = 0; x < c->n + 1; x++)
				for (size_t y = 0; y < c->n + 1; y++) {
					memset(d.args, 0, sizeof(d.args));
					d.args[i] = x < c->n ? c->v[x] : ~0ull;
					d.args[k] = y < c->n ? c->v[y] : ~0ull;
					if ((e = one(p, &d, NULL)) < 0)
						return e;
				}
	return 0;
}

int sbx_bpf_equiv(const struct sock_filter *a, size_t na, const struct sock_filter *b,
		  size_t nb, char *why, size_t whylen)
{
	static const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386,
					   AUDIT_ARCH_X86_64 ^ 1, AUDIT_ARCH_AARCH64, 0,
					   0xffffffffu };
	static const uint32_t edges[] = { 0x3fffffffu, 0x7fffffffu, 0x80000000u, 0xbfffffffu,
					  0xc0000000u, 0xfffffffeu, 0xffffffffu };
	char dummy[8];
	struct pair p = { a, b, na, nb, why ? why : dummy, why ? whylen : sizeof(dummy), 0 };
	struct consts *c = calloc(1, sizeof(*c));
	uint64_t *vals = NULL, seed = 0x9e3779b97f4a7c15ull;
	size_t nvals = 0;
	int e = 0;

	if (!c)
		return -ENOMEM;
	if (!a || !b || !na || !nb) {
		e = -EINVAL;
		goto out;
	}
	collect(c, a, na);
	collect(c, b, nb);
	vals = arg_values(c, &nvals);
	if (!vals) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t ai = 0; ai < sizeof(arches) / sizeof(arches[0]); ai++) {
		for (uint32_t k = 0; k < 1100 + 700 + sizeof(edges) / sizeof(edges[0]); k++) {
			struct seccomp_data d = { .arch = arches[ai] };
			bool touched = false;

			/* 0..1099, the x32 range 0x40000000.., then the edges */
			d.nr = (int)(k < 1100 ? k : k < 1800 ? 0x40000000u + (k - 1100)
							   : edges[k - 1800]);
			if ((e = one(&p, &d, &touched)) < 0)
				goto out;
			if (touched && (e = sweep(&p, d.nr, vals, nvals, c)) < 0)
				goto out;
		}
	}
	for (int r = 0; r < 50000; r++) {
		struct seccomp_data d = { .arch = AUDIT_ARCH_X86_64 };

		d.nr = (int)(xorshift(&seed) % 512);
		for (int i = 0; i < 6; i++) {
			uint64_t s = xorshift(&seed);

			d.args[i] = s & 1 ? vals[(s >> 1) % nvals] : xorshift(&seed);
		}
		if ((e = one(&p, &d, NULL)) < 0)
			goto out;
	}
out:
	free(vals);
	free(c);
	return e;
}
