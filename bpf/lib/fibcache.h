/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The forwarding cache (struct veer_fib_cache in veer_abi.h): per CPU, one
 * slot per backend id modulo VEER_FIBC_SLOTS, and for packets to clients
 * (replies, ICMP errors) one per hash of the destination address. A hit
 * saves the FIB lookup (and XDP's two interface lookups) on every packet
 * after a destination's first. What a FIB lookup would check per packet
 * and a hit must check itself: the ingress interface and the packet's
 * length against the MTU.
 */
#ifndef VEER_BPF_FIBCACHE_H
#define VEER_BPF_FIBCACHE_H

#include "maps.h"

static __always_inline __u32 fibc_gen(void)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&veer_fibgen_v1, &zero);

	return g ? *g : 0;
}

/* The slot for backend be_id, or (VEER_BACKEND_NONE) for address dst; NULL
 * if it holds another destination's hop and *mine is 0. With mine set the
 * slot is returned whoever holds it, to be overwritten. */
static __always_inline struct veer_fib_cache *fibc_slot(__u32 be_id, const struct veer_addr *dst,
							 int mine)
{
	struct veer_fib_rcache *r;
	struct veer_fib_cache *c;
	__u32 slot;

	if (be_id != VEER_BACKEND_NONE) {
		slot = be_id & (VEER_FIBC_SLOTS - 1);
		c = bpf_map_lookup_elem(&veer_fibc_v1, &slot);
		return c && (mine || c->backend_id == be_id) ? c : NULL;
	}
	slot = veer_fibr_index(dst);
	r = bpf_map_lookup_elem(&veer_fibr_v1, &slot);
	if (!r)
		return NULL;
	if (mine) {
		r->dst = *dst;
		return &r->hop;
	}
	return addr_eq(&r->dst, dst) ? &r->hop : NULL;
}

/* The cached hop to backend be_id, or to dst for a packet to a client
 * (VEER_BACKEND_NONE), for a packet from iif of IP length ip_len (0: not
 * checked, a GSO skb); NULL if there is none. */
static __always_inline const struct veer_fib_cache *
fibc_get(__u32 be_id, const struct veer_addr *dst, __u32 iif, __u32 ip_len, __u64 now)
{
	struct veer_fib_cache *c = fibc_slot(be_id, dst, 0);

	if (!c || c->iif != iif || now >= c->expires_ns || c->gen != fibc_gen() ||
	    ip_len > c->mtu)
		return NULL;
	return c;
}

/* Remember a successful lookup f (its dmac/smac/ifindex) for be_id or
 * dst; mtu is the egress's, from a lookup with an oversized length. */
static __always_inline void fibc_put(__u32 be_id, const struct veer_addr *dst, __u32 iif,
				     const struct bpf_fib_lookup *f, __u16 mtu, __u8 flags,
				     __u64 now)
{
	struct veer_fib_cache *c = fibc_slot(be_id, dst, 1);

	if (!c)
		return;
	c->expires_ns = now + VEER_FIBC_LIFETIME_NS;
	c->gen = fibc_gen();
	c->backend_id = be_id;
	c->iif = iif;
	c->oif = f->ifindex;
	c->mtu = mtu;
	c->flags = flags;
	__builtin_memcpy(c->dmac, f->dmac, ETH_ALEN);
	__builtin_memcpy(c->smac, f->smac, ETH_ALEN);
}

#endif
