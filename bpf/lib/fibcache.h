/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The forwarding cache (struct veer_fib_cache in veer_abi.h): per CPU, one
 * slot per backend id modulo VEER_FIBC_SLOTS. A hit saves the FIB lookup
 * (and XDP's two interface lookups) on every packet after a backend's
 * first. What a FIB lookup would check per packet and a hit must check
 * itself: the ingress interface and the packet's length against the MTU.
 */
#ifndef VEER_BPF_FIBCACHE_H
#define VEER_BPF_FIBCACHE_H

#include "maps.h"

static __always_inline __u32 fibc_gen(void)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&veer_fibgen_v1, &zero);

	return g ? *g : 0;
}

static __always_inline struct veer_fib_cache *fibc_slot(__u32 be_id)
{
	__u32 slot = be_id & (VEER_FIBC_SLOTS - 1);

	return bpf_map_lookup_elem(&veer_fibc_v1, &slot);
}

/* The cached hop to backend be_id for a packet from iif of IP length
 * ip_len (0: not checked, a GSO skb), or NULL. */
static __always_inline const struct veer_fib_cache *
fibc_get(__u32 be_id, __u32 iif, __u32 ip_len, __u64 now)
{
	struct veer_fib_cache *c;

	if (be_id == VEER_BACKEND_NONE)
		return NULL;
	c = fibc_slot(be_id);
	if (!c || c->backend_id != be_id || c->iif != iif || now >= c->expires_ns ||
	    c->gen != fibc_gen() || ip_len > c->mtu)
		return NULL;
	return c;
}

/* Remember a successful lookup f (its dmac/smac/ifindex) for be_id; mtu
 * is the egress's, from a lookup with an oversized length. */
static __always_inline void fibc_put(__u32 be_id, __u32 iif, const struct bpf_fib_lookup *f,
				     __u16 mtu, __u8 flags, __u64 now)
{
	struct veer_fib_cache *c;

	if (be_id == VEER_BACKEND_NONE)
		return;
	c = fibc_slot(be_id);
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
