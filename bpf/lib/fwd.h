/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Forwarding a rewritten packet. XDP redirects only where the frame is
 * known to be delivered (VEER_IF_F_XDP_TX_OK, set by veerd), else hands the
 * rewritten packet to the stack; tc uses bpf_redirect_neigh. With no route
 * the packet goes to the stack, which routes it or answers with ICMP.
 */
#ifndef VEER_BPF_FWD_H
#define VEER_BPF_FWD_H

#include "csum.h"
#include "stats.h"
#include "parse.h"

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
		__u16 old, new;

		if ((void *)(ip + 1) > end || ip->ttl <= 1)
			return -1;
		old = *(__u16 *)&ip->ttl;	/* ttl and protocol share a word */
		ip->ttl--;
		new = *(__u16 *)&ip->ttl;
		ip->check = csum_apply(ip->check, csum_diff16(old, new));
	}
	return 0;
}

static __always_inline void fib_params(struct bpf_fib_lookup *f, void *ctx,
				       enum vkind k, const struct pkt *p)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->ifindex = ctx_ifindex(ctx, k);
	f->l4_protocol = p->flow.proto;
	f->sport = p->flow.sport;
	f->dport = p->flow.dport;
	if (p->v6) {
		f->family = AF_INET6;
		f->tot_len = p->l4_len + 40;
		__builtin_memcpy(f->ipv6_src, &p->flow.src, 16);
		__builtin_memcpy(f->ipv6_dst, &p->flow.dst, 16);
	} else {
		f->family = AF_INET;
		f->tot_len = p->l4_len + 20;
		f->ipv4_src = p->flow.src.v4;
		f->ipv4_dst = p->flow.dst.v4;
	}
	/* A GSO skb (tc) is longer than the MTU by design: no length, so the
	 * kernel checks its segments against the egress instead. */
	if (k == VK_TC && ((struct __sk_buff *)ctx)->gso_size)
		f->tot_len = 0;
}

static __always_inline int fwd_xdp(void *ctx, struct pkt *p, __u32 ok_reason)
{
	struct bpf_fib_lookup f;
	struct veer_iface *ifc;
	struct ethhdr *eth;
	void *data, *end;
	__u32 oif;
	long rc;

	fib_params(&f, ctx, VK_XDP, p);
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		p->reason = VEER_R_PASS_FIB_FAIL;
		goto to_stack;
	}
	oif = f.ifindex;
	ifc = bpf_map_lookup_elem(&veer_if_v1, &oif);
	if (!ifc || !(ifc->flags & VEER_IF_F_XDP_TX_OK) ||
	    !bpf_map_lookup_elem(&veer_tx_v1, &oif)) {
		p->reason = VEER_R_XDP_PASS_STACK;
		goto to_stack;
	}
	if (ttl_dec(ctx, VK_XDP, p)) {
		p->reason = VEER_R_DROP_TTL;
		return V_DROP;
	}
	data = ctx_data(ctx, VK_XDP);
	end = ctx_data_end(ctx, VK_XDP);
	eth = data;
	if ((void *)(eth + 1) > end)
		return V_DROP;
	__builtin_memcpy(eth->h_dest, f.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f.smac, ETH_ALEN);
	p->reason = ok_reason;
	if (bpf_redirect_map(&veer_tx_v1, oif, 0) == XDP_REDIRECT)
		return V_REDIRECT;
	p->reason = VEER_R_PASS_FIB_FAIL;	/* target vanished meanwhile */
	return V_DROP;
to_stack:
	ctx_mark_handled(ctx, VK_XDP);
	return V_PASS;
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

static __always_inline int fwd_tc(void *ctx, struct pkt *p, __u32 ok_reason)
{
	struct bpf_fib_lookup f;
	long rc;

	fib_params(&f, ctx, VK_TC, p);
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), BPF_FIB_LOOKUP_SKIP_NEIGH);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
		p->reason = VEER_R_PASS_FIB_FAIL;
		return V_PASS;
	}
	if (ttl_dec(ctx, VK_TC, p)) {
		p->reason = VEER_R_DROP_TTL;
		return V_DROP;
	}
	return redirect_to_next_hop(&f, p, ok_reason);
}

/* Forward the rewritten packet; ok_reason is counted when it leaves. */
static __always_inline int fwd_packet(void *ctx, enum vkind k, struct pkt *p,
				      __u32 ok_reason)
{
	if (k == VK_XDP)
		return fwd_xdp(ctx, p, ok_reason);
	return fwd_tc(ctx, p, ok_reason);
}

#endif
