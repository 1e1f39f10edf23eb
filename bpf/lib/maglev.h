/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend choice: a jhash-style hash (Jenkins' lookup3 mixing) of the
 * client-side tuple and the configured seed, modulo the size of the
 * service's Maglev table. The same seed gives the same slot on every node.
 */
#ifndef VEER_BPF_MAGLEV_H
#define VEER_BPF_MAGLEV_H

#include "service.h"

#define MAGLEV_TRIES 4		/* slots tried when a slot's backend can't take it */
#define HASH_PERTURB 0x9e3779b9u

static __always_inline __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define LK3_MIX(a, b, c) do {					\
	a -= c; a ^= rol32(c, 4);  c += b;			\
	b -= a; b ^= rol32(a, 6);  a += c;			\
	c -= b; c ^= rol32(b, 8);  b += a;			\
	a -= c; a ^= rol32(c, 16); c += b;			\
	b -= a; b ^= rol32(a, 19); a += c;			\
	c -= b; c ^= rol32(b, 4);  b += a;			\
} while (0)

#define LK3_FINAL(a, b, c) do {					\
	c ^= b; c -= rol32(b, 14);				\
	a ^= c; a -= rol32(c, 11);				\
	b ^= a; b -= rol32(a, 25);				\
	c ^= b; c -= rol32(b, 16);				\
	a ^= c; a -= rol32(c, 4);				\
	b ^= a; b -= rol32(a, 14);				\
	c ^= b; c -= rol32(b, 24);				\
} while (0)

/* Ten words: both addresses, the ports, protocol and family. */
static __always_inline __u32 flow_hash(const struct veer_flow *f, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (10 << 2) + seed;
	a += f->src.v6[0]; b += f->src.v6[1]; c += f->src.v6[2];
	LK3_MIX(a, b, c);
	a += f->src.v6[3]; b += f->dst.v6[0]; c += f->dst.v6[1];
	LK3_MIX(a, b, c);
	a += f->dst.v6[2]; b += f->dst.v6[3];
	c += ((__u32)f->sport << 16) | f->dport;
	LK3_MIX(a, b, c);
	a += ((__u32)f->family << 8) | f->proto;
	LK3_FINAL(a, b, c);
	return c;
}

/*
 * Pick a backend for flow f: slot hash(f, seed + perturb) of the table.
 * perturb 0 is the plain Maglev choice; a re-steer passes another value.
 * A slot whose backend can't take a new flow (table not yet updated) or is
 * skip_id moves to the next perturbation, a bounded number of times. An
 * empty slot or a missing table means no backend.
 */
static __always_inline __u32 maglev_pick(const struct veer_svc *svc,
					 const struct veer_flow *f, __u32 seed,
					 __u32 perturb, __u32 skip_id,
					 struct veer_backend **out)
{
	__u32 slot_key = VEER_MAGLEV_SLOT(svc->id, svc->flags), m = svc->table_size;
	void *table;
	int i;

	if (!m)
		return VEER_BACKEND_NONE;
	table = bpf_map_lookup_elem(&veer_maglev_v2, &slot_key);
	if (!table)
		return VEER_BACKEND_NONE;
	for (i = 0; i < MAGLEV_TRIES; i++) {
		__u32 idx = flow_hash(f, seed + (perturb + i) * HASH_PERTURB) % m;
		__u32 *slot = bpf_map_lookup_elem(table, &idx);
		struct veer_backend *be;

		if (!slot || *slot == VEER_BACKEND_NONE)
			return VEER_BACKEND_NONE;
		if (*slot == skip_id)
			continue;
		be = be_takes_new(*slot, svc->id, f->family);
		if (be) {
			*out = be;
			return *slot;
		}
	}
	return VEER_BACKEND_NONE;
}

#endif
