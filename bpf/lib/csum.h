/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One's complement arithmetic for incremental checksum updates (RFC 1624).
 * Words are summed as they lie in memory, so results are stored back
 * without byte swaps. A "diff" is the sum of ~old + new over every changed
 * word; csum_apply() folds a diff into a stored checksum. Sums of several
 * words accumulate in 64 bits and fold once: BPF has no add-with-carry,
 * and a carry test per word is a branch per word.
 */
#ifndef VEER_BPF_CSUM_H
#define VEER_BPF_CSUM_H

#include "common.h"

/* A 64-bit sum of 32-bit words to a 32-bit one's complement sum. */
static __always_inline __u32 csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (__u32)s;
}

static __always_inline __u32 csum_add(__u32 a, __u32 b)
{
	__u64 s = (__u64)a + b;

	return (__u32)s + (__u32)(s >> 32);	/* cannot carry again */
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
	__u64 d = (__u64)(__u32)~old->v6[0] + new->v6[0];

	if (v6)
		d += (__u64)(__u32)~old->v6[1] + new->v6[1] +
		     (__u64)(__u32)~old->v6[2] + new->v6[2] +
		     (__u64)(__u32)~old->v6[3] + new->v6[3];
	return csum_fold64(d);
}

/* HC' = ~(~HC + diff): the stored checksum after the change. */
static __always_inline __u16 csum_apply(__u16 check, __u32 diff)
{
	return ~csum_fold(csum_add((__u16)~check, diff));
}

/* An IPv4 header checksum after its TTL drops by one: +0x0100 in network
 * order with the end-around carry, which a single fold settles. */
static __always_inline __u16 csum_ttl_dec(__u16 check)
{
	__u32 c = (__u32)check + bpf_htons(0x0100);

	return (__u16)((c & 0xffff) + (c >> 16));
}

/* Sum of the TCP/UDP pseudo header (v4 and v6 alike: addresses, length,
 * protocol). A CHECKSUM_PARTIAL packet holds exactly its fold. */
static __always_inline __u32 csum_pseudo(const struct veer_addr *s,
					 const struct veer_addr *d, int v6,
					 __u16 l4_len, __u8 proto)
{
	__u64 sum = (__u64)s->v6[0] + d->v6[0] + bpf_htons(l4_len) +
		    bpf_htons((__u16)proto);

	if (v6)
		sum += (__u64)s->v6[1] + s->v6[2] + s->v6[3] +
		       d->v6[1] + d->v6[2] + d->v6[3];
	return csum_fold64(sum);
}

/* Full checksum of a 20-byte IPv4 header (its check field read as is). */
static __always_inline __u16 csum_iphdr(const struct iphdr *ip)
{
	const __u32 *w = (const __u32 *)ip;

	return ~csum_fold(csum_fold64((__u64)w[0] + w[1] + w[2] + w[3] + w[4]));
}

#endif
