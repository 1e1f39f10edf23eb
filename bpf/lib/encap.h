/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPIP backends (VEER_BE_F_ENCAP_IPIP): the client's packet, unchanged but
 * for its TTL, is put in an outer header of the same family (IPv4-in-IPv4,
 * protocol 4; IPv6-in-IPv6, next header 41) from the node (backend.snat)
 * to the gateway (backend.addr). The gateway's veer decapsulates it and
 * serves the VIP from its own backends, which answer the client directly.
 *
 *  - MTU: the outer packet is checked against the route to the gateway
 *    (bpf_fib_lookup with its length). Too big: an ICMP fragmentation
 *    needed (next-hop MTU = route MTU - 20) / ICMPv6 packet too big
 *    (MTU - 40) goes back to the client from the node address, quoting
 *    the packet's IP header and 8 bytes: VEER_R_DROP_MTU.
 *  - MSS: a SYN going into the tunnel has its MSS option lowered to what
 *    fits the route MTU less the outer header.
 *  - Decap: an IPIP packet the node would not forward (its outer
 *    destination is local) whose inner packet is for a VIP of this node
 *    loses its outer header before anything else looks at it; the inner
 *    packet then takes the ordinary service path. VEER_R_DECAP is an
 *    event counter, counted besides the inner packet's verdict.
 */
#ifndef VEER_BPF_ENCAP_H
#define VEER_BPF_ENCAP_H

#include "csum.h"
#include "events.h"
#include "fwd.h"
#include "service.h"

#define IPPROTO_IPIP_ 4
#define IPPROTO_IPV6_ 41
#define ENC_HLEN(v6) ((v6) ? 40 : 20)
#define ENC_TTL 64
#define ICMP_QUOTE_L4 8		/* bytes of L4 header quoted */
#define ICMP_FRAG_NEEDED_TYPE 3
#define ICMP_FRAG_NEEDED_CODE 4
#define ICMPV6_PKT_TOOBIG_TYPE 2

#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#endif

/* ---- MTU exceeded: ICMP back to the client ---- */

/*
 * Turn the packet into the ICMP error: trim it to Ethernet + IP header +
 * 8 bytes (the quote), open room for the new IP and ICMP headers between
 * Ethernet and the quote, swap MACs, write the headers, send it back out
 * of the ingress interface. The checksums are computed from scratch.
 */
static __always_inline int encap_too_big(void *ctx, enum vkind k, struct pkt *p,
					 const struct veer_addr *node, __u32 mtu)
{
	int v6 = p->v6;
	__u32 ihl = v6 ? 40 : 20;
	__u32 quote = ihl + ICMP_QUOTE_L4;
	__u32 grow = ihl + 8;	/* new IP header + ICMP header */
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	void *data, *end;
	struct ethhdr *eth;
	__u8 *ic;
	__u32 sum;

	p->reason = VEER_R_DROP_MTU;
	data = ctx_data(ctx, k);
	end = ctx_data_end(ctx, k);
	eth = data;
	if ((void *)(eth + 1) > end)
		return V_DROP;
	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);

	if (k == VK_XDP) {
		if (p->len > ETH_HLEN + quote &&
		    bpf_xdp_adjust_tail(ctx, (int)(ETH_HLEN + quote) - (int)p->len))
			return V_DROP;
		if (bpf_xdp_adjust_head(ctx, -(int)grow))
			return V_DROP;
	} else {
		struct __sk_buff *skb = ctx;

		if (p->len > ETH_HLEN + quote && bpf_skb_change_tail(skb, ETH_HLEN + quote, 0))
			return V_DROP;
		if (bpf_skb_adjust_room(skb, grow, BPF_ADJ_ROOM_MAC, 0))
			return V_DROP;
	}
	data = ctx_data(ctx, k);
	end = ctx_data_end(ctx, k);
	eth = data;
	if ((void *)(eth + 1) > end)
		return V_DROP;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	eth->h_proto = bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6) {
		struct ipv6hdr *ip6 = data + L3_OFF;

		ic = data + L3_OFF + 40;
		if ((void *)(ic + 8 + 48) > end)
			return V_DROP;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(8 + 48);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = ENC_TTL;
		__builtin_memcpy(&ip6->saddr, node, 16);
		__builtin_memcpy(&ip6->daddr, &p->flow.src, 16);
		ic[0] = ICMPV6_PKT_TOOBIG_TYPE;
		ic[1] = 0;
		*(__u16 *)(ic + 2) = 0;
		*(__be32 *)(ic + 4) = bpf_htonl(mtu - 40);
		sum = csum_pseudo(node, &p->flow.src, 1, 8 + 48, IPPROTO_ICMPV6);
		sum = csum_add(sum, bpf_csum_diff(NULL, 0, (__be32 *)ic, 8 + 48, 0));
		*(__u16 *)(ic + 2) = ~csum_fold(sum);
	} else {
		struct iphdr *ip = data + L3_OFF;

		ic = data + L3_OFF + 20;
		if ((void *)(ic + 8 + 28) > end)
			return V_DROP;
		*(__u16 *)ip = bpf_htons(0x4500);
		ip->tot_len = bpf_htons(20 + 8 + 28);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);	/* DF, as Linux sends its errors */
		ip->ttl = ENC_TTL;
		ip->protocol = IPPROTO_ICMP;
		ip->saddr = node->v4;
		ip->daddr = p->flow.src.v4;
		ip->check = 0;
		ip->check = csum_iphdr(ip);
		ic[0] = ICMP_FRAG_NEEDED_TYPE;
		ic[1] = ICMP_FRAG_NEEDED_CODE;
		*(__u16 *)(ic + 2) = 0;
		*(__be16 *)(ic + 4) = 0;
		*(__be16 *)(ic + 6) = bpf_htons((__u16)(mtu - 20));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ic, 8 + 28, 0);
		*(__u16 *)(ic + 2) = ~csum_fold(sum);
	}
	if (k == VK_XDP)
		return V_TX;
	if (bpf_redirect(((struct __sk_buff *)ctx)->ifindex, 0) == TC_ACT_REDIRECT)
		return V_REDIRECT;
	return V_DROP;
}

/* ---- MSS clamp on SYNs into the tunnel ---- */

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_MAX_OPTS 12

static __always_inline void mss_clamp(void *ctx, enum vkind k, struct pkt *p, __u32 max_mss)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	__u8 *t = data + L4_OFF(p->v6);
	__u32 optlen, off = 0;
	int i;

	if ((void *)(t + 20) > end)
		return;
	optlen = (t[12] >> 4) * 4 - 20;
	for (i = 0; i < TCP_MAX_OPTS; i++) {
		__u8 *o;
		__u16 old, new;

		if (off >= optlen || off > 40)
			return;
		o = t + 20 + off;
		if ((void *)(o + 1) > end)
			return;
		if (o[0] == TCP_OPT_EOL)
			return;
		if (o[0] == TCP_OPT_NOP) {
			off++;
			continue;
		}
		if ((void *)(o + 4) > end)
			return;
		if (o[1] < 2)
			return;
		if (o[0] != TCP_OPT_MSS || o[1] != 4) {
			off += o[1];
			continue;
		}
		if (off + 4 > optlen)
			return;
		old = *(__u16 *)(o + 2);
		if (bpf_ntohs(old) <= max_mss)
			return;
		new = bpf_htons((__u16)max_mss);
		*(__u16 *)(o + 2) = new;
		if (k == VK_XDP) {
			__u16 *csum = (__u16 *)(t + 16);

			*csum = csum_apply(*csum, csum_diff16(old, new));
		} else {
			/* Not a pseudo-header field: a partial checksum does
			 * not cover it yet, a full one does. */
			bpf_l4_csum_replace(ctx, L4_OFF(p->v6) + 16, old, new, 2);
		}
		return;
	}
}

/* ---- Encapsulation ---- */

/* Length the route to the gateway must carry: the outer packet, or for a
 * GSO skb in tc one outer segment. */
static __always_inline __u32 encap_check_len(void *ctx, enum vkind k, const struct pkt *p)
{
	__u32 ihl = p->v6 ? 40 : 20, len = p->l4_len + ihl;

	if (k == VK_TC) {
		struct __sk_buff *skb = ctx;
		__u32 gso = skb->gso_size;

		if (gso && p->flow.proto == IPPROTO_TCP) {
			void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
			__u8 *t = data + L4_OFF(p->v6);

			if ((void *)(t + 20) <= end && gso + ihl + (t[12] >> 4) * 4 < len)
				len = gso + ihl + (t[12] >> 4) * 4;
		}
	}
	return len + ENC_HLEN(p->v6);
}

/* Push the outer header in front of the IP packet. */
static __always_inline int encap_push(void *ctx, enum vkind k, struct pkt *p,
				      const struct veer_backend *be)
{
	int v6 = p->v6;
	__u32 hl = ENC_HLEN(v6), inner_len = p->l4_len + hl;
	void *data, *end;
	__u8 tos;

	data = ctx_data(ctx, k);
	end = ctx_data_end(ctx, k);
	if (data + L3_OFF + 2 > end)
		return -1;
	/* The inner TOS / traffic class, carried to the outer header. */
	if (v6)
		tos = (bpf_ntohs(*(__be16 *)(data + L3_OFF)) >> 4) & 0xff;
	else
		tos = ((__u8 *)data)[L3_OFF + 1];

	if (k == VK_XDP) {
		struct ethhdr *neth, *oeth;

		if (bpf_xdp_adjust_head(ctx, -(int)hl))
			return -1;
		data = ctx_data(ctx, k);
		end = ctx_data_end(ctx, k);
		neth = data;
		oeth = data + hl;
		if ((void *)(oeth + 1) > end)
			return -1;
		__builtin_memcpy(neth, oeth, ETH_HLEN);
	} else {
		__u64 fl = v6 ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 : BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;

		if (bpf_skb_adjust_room(ctx, hl, BPF_ADJ_ROOM_MAC, fl))
			return -1;
		data = ctx_data(ctx, k);
		end = ctx_data_end(ctx, k);
	}
	if (v6) {
		struct ipv6hdr *ip6 = data + L3_OFF;

		if ((void *)(ip6 + 1) > end)
			return -1;
		*(__be32 *)ip6 = bpf_htonl(0x60000000 | ((__u32)tos << 20));
		ip6->payload_len = bpf_htons(inner_len);
		ip6->nexthdr = IPPROTO_IPV6_;
		ip6->hop_limit = ENC_TTL;
		__builtin_memcpy(&ip6->saddr, &be->snat, 16);
		__builtin_memcpy(&ip6->daddr, &be->addr, 16);
	} else {
		struct iphdr *ip = data + L3_OFF;

		if ((void *)(ip + 1) > end)
			return -1;
		*(__u16 *)ip = bpf_htons(0x4500 | tos);
		ip->tot_len = bpf_htons(inner_len + 20);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);	/* DF: PMTU discovery is ours */
		ip->ttl = ENC_TTL;
		ip->protocol = IPPROTO_IPIP_;
		ip->saddr = be->snat.v4;
		ip->daddr = be->addr.v4;
		ip->check = 0;
		ip->check = csum_iphdr(ip);
	}
	return 0;
}

static __always_inline void encap_fib_params(struct bpf_fib_lookup *f, void *ctx, enum vkind k,
					     const struct pkt *p, const struct veer_backend *be,
					     __u32 tot_len)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->ifindex = ctx_ifindex(ctx, k);
	f->tot_len = tot_len;
	if (p->v6) {
		f->family = AF_INET6;
		f->l4_protocol = IPPROTO_IPV6_;
		__builtin_memcpy(f->ipv6_src, &be->snat, 16);
		__builtin_memcpy(f->ipv6_dst, &be->addr, 16);
	} else {
		f->family = AF_INET;
		f->l4_protocol = IPPROTO_IPIP_;
		f->ipv4_src = be->snat.v4;
		f->ipv4_dst = be->addr.v4;
	}
}

/* A service packet for an IPIP backend: MTU check, inner TTL, MSS clamp,
 * encapsulate, forward along the route to the gateway. */
static __always_inline int encap_packet(void *ctx, enum vkind k, struct pkt *p,
					const struct veer_backend *be)
{
	struct bpf_fib_lookup f;
	struct veer_addr node = be->snat;
	__u32 fl = k == VK_TC ? BPF_FIB_LOOKUP_SKIP_NEIGH : 0;
	long rc;

	encap_fib_params(&f, ctx, k, p, be, encap_check_len(ctx, k, p));
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), fl);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return encap_too_big(ctx, k, p, &node, f.mtu_result);
	if (ttl_dec(ctx, k, p)) {
		p->reason = VEER_R_DROP_TTL;
		return V_DROP;
	}
	if (p->flow.proto == IPPROTO_TCP && (p->tcp_flags & TCP_SYN) &&
	    (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH)) {
		struct bpf_fib_lookup m;

		/* Ask for the route MTU: only a too-long lookup returns it. */
		encap_fib_params(&m, ctx, k, p, be, 0xffff);
		if (bpf_fib_lookup(ctx, &m, sizeof(m), fl) == BPF_FIB_LKUP_RET_FRAG_NEEDED &&
		    m.mtu_result > 2 * ENC_HLEN(p->v6) + 20 + 64)
			mss_clamp(ctx, k, p, m.mtu_result - 2 * ENC_HLEN(p->v6) - 20);
	}
	if (encap_push(ctx, k, p, be))
		return V_DROP;

	if (k == VK_XDP) {
		if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return xdp_to_stack(ctx, p, VEER_R_PASS_FIB_FAIL);
		if (!fib_xdp_flags(f.ifindex))
			return xdp_to_stack(ctx, p, VEER_R_XDP_PASS_STACK);
		return fwd_send(ctx, k, p, f.ifindex, f.dmac, f.smac, VEER_R_FWD);
	} else {
		if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
			p->reason = VEER_R_PASS_FIB_FAIL;
			return V_PASS;
		}
		return redirect_to_next_hop(&f, p, VEER_R_FWD);
	}
}

/* ---- Decapsulation ---- */

/* Would the node forward a packet to dst (then it is not ours to open)? */
static __always_inline int decap_transit(void *ctx, enum vkind k, int v6,
					 const void *src, const void *dst)
{
	struct bpf_fib_lookup f;
	long rc;

	__builtin_memset(&f, 0, sizeof(f));
	f.ifindex = ctx_ifindex(ctx, k);
	if (v6) {
		f.family = AF_INET6;
		__builtin_memcpy(f.ipv6_src, src, 16);
		__builtin_memcpy(f.ipv6_dst, dst, 16);
	} else {
		f.family = AF_INET;
		f.ipv4_src = *(const __u32 *)src;
		f.ipv4_dst = *(const __u32 *)dst;
	}
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), k == VK_TC ? BPF_FIB_LOOKUP_SKIP_NEIGH : 0);
	return rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH ||
	       rc == BPF_FIB_LKUP_RET_FRAG_NEEDED;
}

/* Strip an IPIP header addressed to this node around a packet for one of
 * its VIPs. Called before parsing; leaves anything else untouched. */
static __always_inline void decap_ipip(void *ctx, enum vkind k)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	struct ethhdr *eth = data;
	struct veer_svc_key sk;	/* zeroed only for IPIP: this runs on every packet */
	__u8 saddr[16], daddr[16];
	__u32 hl;
	int v6;

	if ((void *)(eth + 1) > end)
		return;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + L3_OFF, *in = data + L3_OFF + 20;
		__u8 *l4 = data + L3_OFF + 40;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_IPIP_)
			return;
		if (*(__u8 *)ip != 0x45 || (ip->frag_off & bpf_htons(0x3fff)))
			return;
		if ((void *)(l4 + 4) > end || *(__u8 *)in != 0x45 ||
		    (in->frag_off & bpf_htons(0x3fff)) ||
		    (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP))
			return;
		v6 = 0;
		hl = 20;
		__builtin_memset(&sk, 0, sizeof(sk));
		sk.vip.v4 = in->daddr;
		sk.port = *(__be16 *)(l4 + 2);
		sk.proto = in->protocol;
		sk.family = VEER_AF_INET;
		__builtin_memcpy(saddr, &ip->saddr, 4);
		__builtin_memcpy(daddr, &ip->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + L3_OFF, *in = data + L3_OFF + 40;
		__u8 *l4 = data + L3_OFF + 80;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_IPV6_)
			return;
		if ((void *)(l4 + 4) > end || in->version != 6 ||
		    (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP))
			return;
		v6 = 1;
		hl = 40;
		__builtin_memset(&sk, 0, sizeof(sk));
		__builtin_memcpy(&sk.vip, &in->daddr, 16);
		sk.port = *(__be16 *)(l4 + 2);
		sk.proto = in->nexthdr;
		sk.family = VEER_AF_INET6;
		__builtin_memcpy(saddr, &ip6->saddr, 16);
		__builtin_memcpy(daddr, &ip6->daddr, 16);
	} else {
		return;
	}
	if (!bpf_map_lookup_elem(&veer_svc_v1, &sk))
		return;
	if (decap_transit(ctx, k, v6, saddr, daddr))
		return;

	if (k == VK_XDP) {
		struct ethhdr *neth;

		data = ctx_data(ctx, k);
		end = ctx_data_end(ctx, k);
		eth = data;
		neth = data + hl;
		if ((void *)(neth + 1) > end)
			return;
		__builtin_memcpy(neth, eth, ETH_HLEN);
		if (bpf_xdp_adjust_head(ctx, (int)hl))
			return;
	} else {
		__u64 fl = v6 ? BPF_F_ADJ_ROOM_DECAP_L3_IPV6 : BPF_F_ADJ_ROOM_DECAP_L3_IPV4;

		if (bpf_skb_adjust_room(ctx, -(int)hl, BPF_ADJ_ROOM_MAC, fl) &&
		    bpf_skb_adjust_room(ctx, -(int)hl, BPF_ADJ_ROOM_MAC, 0))
			return;
	}
	count_reason(VEER_R_DECAP);	/* an event counter, besides the verdict */
}

#endif
