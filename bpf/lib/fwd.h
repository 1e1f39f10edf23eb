/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Forwarding a rewritten packet. XDP redirects only where the frame is
 * known to be delivered (VEER_IF_F_XDP_TX_OK, set by veerd), else hands the
 * rewritten packet to the stack; tc redirects with the neighbour's MAC, or
 * through bpf_redirect_neigh while the neighbour is unresolved. With no
 * route the packet goes to the stack, which routes it or answers with
 * ICMP. Packets to a backend go through the forwarding cache (fibcache.h).
 */
#ifndef VEER_BPF_FWD_H
#define VEER_BPF_FWD_H

#include "csum.h"
#include "stats.h"
#include "parse.h"
#include "fibcache.h"

/* Decrement TTL / hop limit; -1 if it would reach 0. */
static __always_inline int ttl_dec(void *ctx, enum vkind k, const struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);

	if (p->v6) {
		struct ipv6hdr *ip6 = data + L3_OFF;

		if ((void *)(ip6 + 1) > end || ip6->hop_limit <= 1)
			return -1;
		ip6->hop_limit--;
	} else {
		struct iphdr *ip = data + L3_OFF;
		__u8 ttl;

		if ((void *)(ip + 1) > end)
			return -1;
		ttl = ip->ttl;
		if (ttl <= 1)
			return -1;
		ip->ttl = ttl - 1;
		/* The TTL is the high byte of its checksum word: one less
		 * raises the checksum by 0x0100 (RFC 1624). Computed, not
		 * re-read: a load of the word just written in part stalls
		 * on store forwarding (measured, 5 ns a packet). */
		ip->check = csum_ttl_dec(ip->check);
	}
	return 0;
}

/* The IP packet's length as the FIB checks it against the MTU; 0 for a
 * GSO skb (tc), which is longer than the MTU by design: the kernel checks
 * its segments against the egress instead. */
static __always_inline __u16 fwd_ip_len(void *ctx, enum vkind k, const struct pkt *p)
{
	if (k == VK_TC && ((struct __sk_buff *)ctx)->gso_size)
		return 0;
	return p->l4_len + (p->v6 ? 40 : 20);
}

static __always_inline void fib_params(struct bpf_fib_lookup *f, void *ctx,
				       enum vkind k, const struct pkt *p)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->ifindex = p->iif;
	f->l4_protocol = p->flow.proto;
	f->sport = p->flow.sport;
	f->dport = p->flow.dport;
	if (p->v6) {
		f->family = AF_INET6;
		__builtin_memcpy(f->ipv6_src, &p->flow.src, 16);
		__builtin_memcpy(f->ipv6_dst, &p->flow.dst, 16);
	} else {
		f->family = AF_INET;
		f->ipv4_src = p->flow.src.v4;
		f->ipv4_dst = p->flow.dst.v4;
	}
	f->tot_len = fwd_ip_len(ctx, k, p);
}

/* The egress MTU for the cache: a lookup with the largest length answers
 * FRAG_NEEDED with it (lo and the like take anything). */
static __always_inline __u16 fib_mtu(void *ctx, const struct bpf_fib_lookup *ok)
{
	struct bpf_fib_lookup m = *ok;

	m.tot_len = 0xffff;
	if (bpf_fib_lookup(ctx, &m, sizeof(m), BPF_FIB_LOOKUP_SKIP_NEIGH) ==
	    BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return m.mtu_result;
	return 0xffff;
}

/* Out of oif to a known neighbour, TTL already done: MACs written here,
 * then XDP's devmap redirect or tc's plain redirect. */
static __always_inline int fwd_send(void *ctx, enum vkind k, struct pkt *p, __u32 oif,
				    const __u8 *dmac, const __u8 *smac, __u32 ok_reason)
{
	struct ethhdr *eth = ctx_data(ctx, k);

	if ((void *)(eth + 1) > ctx_data_end(ctx, k))
		return V_DROP;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	p->reason = ok_reason;
	if (k == VK_TC)
		return bpf_redirect(oif, 0) == TC_ACT_REDIRECT ? V_REDIRECT : V_DROP;
	if (bpf_redirect_map(&veer_tx_v1, oif, 0) == XDP_REDIRECT)
		return V_REDIRECT;
	p->reason = VEER_R_PASS_FIB_FAIL;	/* target vanished meanwhile */
	return V_DROP;
}

/* The same for a forwarded packet: a TTL / hop limit less first. */
static __always_inline int fwd_out(void *ctx, enum vkind k, struct pkt *p, __u32 oif,
				   const __u8 *dmac, const __u8 *smac, __u32 ok_reason)
{
	if (ttl_dec(ctx, k, p)) {
		p->reason = VEER_R_DROP_TTL;
		return V_DROP;
	}
	return fwd_send(ctx, k, p, oif, dmac, smac, ok_reason);
}

static __always_inline int xdp_to_stack(void *ctx, struct pkt *p, __u32 reason)
{
	p->reason = reason;
	ctx_mark_handled(ctx, VK_XDP);
	return V_PASS;
}

/* Cache flags for egress oif: may XDP redirect out of it (veerd's
 * VEER_IF_F_XDP_TX_OK, and in the devmap)? Computed by tc as well, as
 * both programs share the slots. */
static __always_inline __u8 fib_xdp_flags(__u32 oif)
{
	struct veer_iface *ifc = bpf_map_lookup_elem(&veer_if_v1, &oif);

	if (ifc && (ifc->flags & VEER_IF_F_XDP_TX_OK) && bpf_map_lookup_elem(&veer_tx_v1, &oif))
		return VEER_FIBC_F_XDP_TX;
	return 0;
}

/* be_id: the backend the packet goes to (its cache slot), or
 * VEER_BACKEND_NONE for a packet to a client (cached by address). */
static __always_inline int fwd_xdp(void *ctx, struct pkt *p, __u32 ok_reason,
				   __u32 be_id, __u64 now)
{
	__u32 iif = p->iif;
	const struct veer_fib_cache *c;
	struct bpf_fib_lookup f;
	__u8 flags;
	__u32 oif;

	c = fibc_get(be_id, &p->flow.dst, iif, fwd_ip_len(ctx, VK_XDP, p), now);
	if (c) {
		if (!(c->flags & VEER_FIBC_F_XDP_TX))
			return xdp_to_stack(ctx, p, VEER_R_XDP_PASS_STACK);
		return fwd_out(ctx, VK_XDP, p, c->oif, c->dmac, c->smac, ok_reason);
	}
	fib_params(&f, ctx, VK_XDP, p);
	if (bpf_fib_lookup(ctx, &f, sizeof(f), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return xdp_to_stack(ctx, p, VEER_R_PASS_FIB_FAIL);
	oif = f.ifindex;
	flags = fib_xdp_flags(oif);
	fibc_put(be_id, &p->flow.dst, iif, &f, fib_mtu(ctx, &f), flags, now);
	if (!flags)
		return xdp_to_stack(ctx, p, VEER_R_XDP_PASS_STACK);
	return fwd_out(ctx, VK_XDP, p, oif, f.dmac, f.smac, ok_reason);
}

/* tc: out of the FIB's interface to the next hop the lookup left in f
 * (gateway or destination); the kernel resolves its neighbour. */
static __always_inline int redirect_to_next_hop(const struct bpf_fib_lookup *f, struct pkt *p,
						__u32 ok_reason)
{
	struct bpf_redir_neigh nh;

	__builtin_memset(&nh, 0, sizeof(nh));
	nh.nh_family = f->family;
	if (f->family == AF_INET6)
		__builtin_memcpy(nh.ipv6_nh, f->ipv6_dst, 16);
	else
		nh.ipv4_nh = f->ipv4_dst;
	p->reason = ok_reason;
	if (bpf_redirect_neigh(f->ifindex, &nh, sizeof(nh), 0) == TC_ACT_REDIRECT)
		return V_REDIRECT;
	p->reason = VEER_R_PASS_FIB_FAIL;
	return V_PASS;
}

static __always_inline int fwd_tc(void *ctx, struct pkt *p, __u32 ok_reason,
				  __u32 be_id, __u64 now)
{
	__u32 iif = p->iif;
	const struct veer_fib_cache *c;
	struct bpf_fib_lookup f;
	long rc;

	c = fibc_get(be_id, &p->flow.dst, iif, fwd_ip_len(ctx, VK_TC, p), now);
	if (c)
		return fwd_out(ctx, VK_TC, p, c->oif, c->dmac, c->smac, ok_reason);
	fib_params(&f, ctx, VK_TC, p);
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		fibc_put(be_id, &p->flow.dst, iif, &f, fib_mtu(ctx, &f),
			 fib_xdp_flags(f.ifindex), now);
		return fwd_out(ctx, VK_TC, p, f.ifindex, f.dmac, f.smac, ok_reason);
	}
	if (rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
		p->reason = VEER_R_PASS_FIB_FAIL;
		return V_PASS;
	}
	if (ttl_dec(ctx, VK_TC, p)) {
		p->reason = VEER_R_DROP_TTL;
		return V_DROP;
	}
	return redirect_to_next_hop(&f, p, ok_reason);
}

/* Forward the rewritten packet; ok_reason is counted when it leaves.
 * be_id/now: see fwd_xdp. */
static __always_inline int fwd_packet(void *ctx, enum vkind k, struct pkt *p,
				      __u32 ok_reason, __u32 be_id, __u64 now)
{
	if (k == VK_XDP)
		return fwd_xdp(ctx, p, ok_reason, be_id, now);
	return fwd_tc(ctx, p, ok_reason, be_id, now);
}

#endif
