/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One's complement arithmetic for incremental checksum updates (RFC 1624).
 * Words are summed as they lie in memory, so results are stored back
 * without byte swaps. A "diff" is the sum of ~old + new over every changed
 * word; csum_apply() folds a diff into a stored checksum.
 */
#ifndef VEER_BPF_CSUM_H
#define VEER_BPF_CSUM_H

#include "common.h"

static __always_inline __u32 csum_add(__u32 a, __u32 b)
{
	a += b;
	return a + (a < b);
}

/* Fold to 16 bits, not complemented. */
static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u32 csum_diff32(__u32 old, __u32 new)
{
	return csum_add(~old, new);
}

static __always_inline __u32 csum_diff16(__u16 old, __u16 new)
{
	return (__u16)~old + (__u32)new;
}

static __always_inline __u32 csum_diff_addr(const struct veer_addr *old,
					    const struct veer_addr *new, int v6)
{
	__u32 d = csum_diff32(old->v6[0], new->v6[0]);

	if (v6) {
		d = csum_add(d, csum_diff32(old->v6[1], new->v6[1]));
		d = csum_add(d, csum_diff32(old->v6[2], new->v6[2]));
		d = csum_add(d, csum_diff32(old->v6[3], new->v6[3]));
	}
	return d;
}

/* HC' = ~(~HC + diff): the stored checksum after the change. */
static __always_inline __u16 csum_apply(__u16 check, __u32 diff)
{
	return ~csum_fold(csum_add((__u16)~check, diff));
}

/* Sum of the TCP/UDP pseudo header (v4 and v6 alike: addresses, length,
 * protocol). A CHECKSUM_PARTIAL packet holds exactly its fold. */
static __always_inline __u32 csum_pseudo(const struct veer_addr *s,
					 const struct veer_addr *d, int v6,
					 __u16 l4_len, __u8 proto)
{
	__u32 sum = csum_add(s->v6[0], d->v6[0]);

	if (v6) {
		sum = csum_add(sum, s->v6[1]);
		sum = csum_add(sum, s->v6[2]);
		sum = csum_add(sum, s->v6[3]);
		sum = csum_add(sum, d->v6[1]);
		sum = csum_add(sum, d->v6[2]);
		sum = csum_add(sum, d->v6[3]);
	}
	sum = csum_add(sum, bpf_htons(l4_len));
	return csum_add(sum, bpf_htons((__u16)proto));
}

/* Full checksum of a 20-byte IPv4 header (its check field read as is). */
static __always_inline __u16 csum_iphdr(const struct iphdr *ip)
{
	const __u32 *w = (const __u32 *)ip;
	__u32 s = 0;

	s = csum_add(s, w[0]);
	s = csum_add(s, w[1]);
	s = csum_add(s, w[2]);
	s = csum_add(s, w[3]);
	s = csum_add(s, w[4]);
	return ~csum_fold(s);
}

#endif
