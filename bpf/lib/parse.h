/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing with a bounds check before every access. Only what the
 * datapath translates is parsed: Ethernet, then IPv4 without options or
 * IPv6 without extension headers, then TCP, UDP or ICMP(v6). So the L4
 * offset is a constant per family, which keeps the verifier simple.
 * Everything else is decided here by the rules in docs/datapath.md.
 */
#ifndef VEER_BPF_PARSE_H
#define VEER_BPF_PARSE_H

#include "ctx.h"

#define L3_OFF ETH_HLEN
#define L4_OFF_V4 (ETH_HLEN + 20)
#define L4_OFF_V6 (ETH_HLEN + 40)
#define L4_OFF(v6) ((v6) ? L4_OFF_V6 : L4_OFF_V4)

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8

struct pkt {
	struct veer_flow flow;	/* the tuple as seen on the wire */
	__u32 len;		/* frame length, for byte counters */
	__u16 l4_len;		/* L4 header + payload per the IP length */
	__u8 tcp_flags;
	__u8 v6;		/* 1: IPv6 */
	__u32 reason;		/* enum veer_reason of the verdict */
	__u32 iif;		/* ingress ifindex */
} __attribute__((aligned(8)));	/* flow compares in 8-byte words (flowcache.h) */

static __always_inline int parse_fail(struct pkt *p, __u32 reason, int v)
{
	p->reason = reason;
	return v;
}

static __always_inline int parse_l4(void *ctx, enum vkind k, struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	void *l4 = data + L4_OFF(p->v6);

	if (p->flow.proto == IPPROTO_TCP) {
		__u8 *t = l4;
		__u8 doff;

		if (l4 + 20 > end)
			return parse_fail(p, VEER_R_DROP_TRUNCATED, V_PASS);
		doff = t[12] >> 4;
		if (doff < 5 || doff * 4 > p->l4_len)
			return parse_fail(p, VEER_R_DROP_BAD_L4, V_DROP);
		p->flow.sport = *(__be16 *)t;
		p->flow.dport = *(__be16 *)(t + 2);
		p->tcp_flags = t[13];
	} else if (p->flow.proto == IPPROTO_UDP) {
		__u8 *u = l4;
		__u16 ulen;

		if (l4 + 8 > end)
			return parse_fail(p, VEER_R_DROP_TRUNCATED, V_PASS);
		ulen = bpf_ntohs(*(__be16 *)(u + 4));
		if (ulen < 8)
			return parse_fail(p, VEER_R_DROP_UDP_ZERO_LEN, V_DROP);
		if (ulen > p->l4_len)
			return parse_fail(p, VEER_R_DROP_BAD_LEN, V_DROP);
		p->flow.sport = *(__be16 *)u;
		p->flow.dport = *(__be16 *)(u + 2);
	} else {	/* ICMP / ICMPv6: icmp.h reads the rest */
		if (l4 + 8 > end)
			return parse_fail(p, VEER_R_DROP_TRUNCATED, V_PASS);
	}
	return V_CONT;
}

static __always_inline int parse_ipv4(void *ctx, enum vkind k, struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	struct iphdr *ip = data + L3_OFF;
	__u32 l3len = p->len - L3_OFF;
	__u16 tot;

	if ((void *)(ip + 1) > end)
		return parse_fail(p, VEER_R_DROP_TRUNCATED, V_PASS);
	if (ip->version != 4)
		return parse_fail(p, VEER_R_PASS_NOT_IP, V_PASS);
	if (ip->ihl < 5 || ip->ihl * 4 > l3len)
		return parse_fail(p, VEER_R_DROP_BAD_IHL, V_DROP);
	tot = bpf_ntohs(ip->tot_len);
	if (tot < ip->ihl * 4 || tot > l3len)
		return parse_fail(p, VEER_R_DROP_BAD_LEN, V_DROP);
	if (ip->ihl != 5)
		return parse_fail(p, VEER_R_PASS_IP_OPTIONS, V_PASS);
	if (ip->frag_off & bpf_htons(0x3fff))	/* MF or an offset */
		return parse_fail(p, VEER_R_DROP_FRAGMENT, V_PASS);
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
	    ip->protocol != IPPROTO_ICMP)
		return parse_fail(p, VEER_R_PASS_NOT_SERVICE, V_PASS);
	p->flow.family = VEER_AF_INET;
	p->flow.proto = ip->protocol;
	p->flow.src.v4 = ip->saddr;
	p->flow.dst.v4 = ip->daddr;
	p->l4_len = tot - 20;
	return parse_l4(ctx, k, p);
}

static __always_inline int parse_ipv6(void *ctx, enum vkind k, struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	struct ipv6hdr *ip6 = data + L3_OFF;
	__u32 l3len = p->len - L3_OFF;
	__u16 plen;

	if ((void *)(ip6 + 1) > end)
		return parse_fail(p, VEER_R_DROP_TRUNCATED, V_PASS);
	if (ip6->version != 6)
		return parse_fail(p, VEER_R_PASS_NOT_IP, V_PASS);
	plen = bpf_ntohs(ip6->payload_len);
	if ((__u32)plen + 40 > l3len)
		return parse_fail(p, VEER_R_DROP_BAD_LEN, V_DROP);
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP &&
	    ip6->nexthdr != IPPROTO_ICMPV6)
		return parse_fail(p, VEER_R_PASS_IPV6_EXTHDR, V_PASS);
	p->v6 = 1;
	p->flow.family = VEER_AF_INET6;
	p->flow.proto = ip6->nexthdr;
	__builtin_memcpy(&p->flow.src, &ip6->saddr, 16);
	__builtin_memcpy(&p->flow.dst, &ip6->daddr, 16);
	p->l4_len = plen;
	return parse_l4(ctx, k, p);
}

/* V_CONT with p filled, or a verdict with p->reason set. */
static __always_inline int parse_pkt(void *ctx, enum vkind k, struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return parse_fail(p, VEER_R_PASS_NOT_IP, V_PASS);
	p->len = ctx_len(ctx, k);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(ctx, k, p);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(ctx, k, p);
	if (eth->h_proto == bpf_htons(ETH_P_8021Q_) ||
	    eth->h_proto == bpf_htons(ETH_P_8021AD_))
		return parse_fail(p, VEER_R_PASS_VLAN, V_PASS);
	return parse_fail(p, VEER_R_PASS_NOT_IP, V_PASS);
}

#endif
