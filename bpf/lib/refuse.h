/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Panic "refuse": turn a client's SYN into the RST|ACK a closed port would
 * send (RFC 9293 3.10.7.1: seq 0, ack = SYN's seq + its length), trimmed to
 * bare headers, sent back out of the ingress interface.
 */
#ifndef VEER_BPF_REFUSE_H
#define VEER_BPF_REFUSE_H

#include "csum.h"
#include "parse.h"

#define RST_TTL 64

/* Swap MACs, addresses and ports; set up the RST header. Returns the L4
 * checksum parts (pseudo header, TCP header) or -1. */
static __always_inline int rst_build(void *ctx, enum vkind k, const struct pkt *p,
				     __u32 *pseudo, __u32 *hdr)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	struct ethhdr *eth = data;
	__u8 *t = data + L4_OFF(p->v6);
	__u8 mac[ETH_ALEN];
	__u32 seq, seglen, *w;
	__u8 doff;

	if ((void *)(t + 20) > end)
		return -1;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	if (p->v6) {
		struct ipv6hdr *ip6 = data + L3_OFF;

		if ((void *)(ip6 + 1) > end)
			return -1;
		__builtin_memcpy(&ip6->saddr, &p->flow.dst, 16);
		__builtin_memcpy(&ip6->daddr, &p->flow.src, 16);
		ip6->payload_len = bpf_htons(20);
		ip6->hop_limit = RST_TTL;
	} else {
		struct iphdr *ip = data + L3_OFF;

		if ((void *)(ip + 1) > end)
			return -1;
		ip->saddr = p->flow.dst.v4;
		ip->daddr = p->flow.src.v4;
		ip->tot_len = bpf_htons(40);
		ip->ttl = RST_TTL;
		ip->check = 0;
		ip->check = csum_iphdr(ip);
	}
	/* A SYN occupies one sequence number, plus any data it carries. */
	doff = t[12] >> 4;
	seglen = 1 + p->l4_len - doff * 4;
	seq = bpf_ntohl(*(__be32 *)(t + 4));
	*(__be16 *)t = p->flow.dport;
	*(__be16 *)(t + 2) = p->flow.sport;
	*(__be32 *)(t + 4) = 0;
	*(__be32 *)(t + 8) = bpf_htonl(seq + seglen);
	t[12] = 5 << 4;
	t[13] = TCP_RST | TCP_ACK;
	*(__u32 *)(t + 14) = 0;		/* window 0, checksum 0 */
	*(__u16 *)(t + 18) = 0;		/* urgent pointer */

	*pseudo = csum_pseudo(&p->flow.dst, &p->flow.src, p->v6, 20, IPPROTO_TCP);
	w = (__u32 *)t;
	*hdr = csum_add(csum_add(csum_add(w[0], w[1]), csum_add(w[2], w[3])), w[4]);
	return 0;
}

/* V_TX (XDP) / V_REDIRECT (tc), or V_DROP if the packet can't be reused. */
static __always_inline int refuse_syn(void *ctx, enum vkind k, struct pkt *p)
{
	__u32 new_len = L4_OFF(p->v6) + 20, pseudo, hdr;

	if (rst_build(ctx, k, p, &pseudo, &hdr))
		return V_DROP;

	if (k == VK_XDP) {
		void *data, *end;
		__u16 *csum;

		data = ctx_data(ctx, k);
		end = ctx_data_end(ctx, k);
		csum = data + L4_OFF(p->v6) + 16;
		if ((void *)(csum + 1) > end)
			return V_DROP;
		*csum = ~csum_fold(csum_add(pseudo, hdr));
		if (p->len > new_len &&
		    bpf_xdp_adjust_tail(ctx, (int)new_len - (int)p->len))
			return V_DROP;
		return V_TX;
	} else {
		struct __sk_buff *skb = ctx;
		__u32 off = L4_OFF(p->v6) + 16;
		__u64 v6f = p->v6 ? BPF_F_IPV6 : 0;

		if (p->len > new_len && bpf_skb_change_tail(skb, new_len, 0))
			return V_DROP;
		/* Field 0, then add the pseudo part (as a partial checksum
		 * wants it) and the header part (which a partial checksum
		 * leaves to the device): right for both kinds. */
		if (bpf_l4_csum_replace(skb, off, 0, pseudo, BPF_F_PSEUDO_HDR | v6f) < 0)
			bpf_l4_csum_replace(skb, off, 0, pseudo, BPF_F_PSEUDO_HDR);
		bpf_l4_csum_replace(skb, off, 0, hdr, 0);
		if (bpf_redirect(skb->ifindex, 0) == TC_ACT_REDIRECT)
			return V_REDIRECT;
		return V_DROP;
	}
}

#endif
