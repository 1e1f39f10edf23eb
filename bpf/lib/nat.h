/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Address and port rewrites of TCP/UDP packets with incremental checksum
 * updates.
 *
 * XDP updates the L4 checksum itself, assuming it is a full checksum; the
 * callers first defer CHECKSUM_PARTIAL-looking packets to tc (see
 * l4_csum_looks_partial). tc writes the fields directly and lets
 * bpf_l4_csum_replace fix the L4 checksum: the address part with
 * BPF_F_PSEUDO_HDR (right for full and partial checksums, and it keeps
 * skb->csum of CHECKSUM_COMPLETE packets right), the port part without
 * (a partial checksum does not cover the ports yet). The IPv4 header
 * checksum is never partial and is updated directly by both.
 */
#ifndef VEER_BPF_NAT_H
#define VEER_BPF_NAT_H

#include "csum.h"
#include "parse.h"

enum nat_side { NAT_SRC = 0, NAT_DST = 1 };

static __always_inline __u32 l4_csum_off(const struct pkt *p)
{
	return L4_OFF(p->v6) + (p->flow.proto == IPPROTO_TCP ? 16 : 6);
}

/* XDP cannot see skb->ip_summed; a local sender's CHECKSUM_PARTIAL packet
 * holds exactly the folded pseudo-header sum in its L4 checksum field. */
static __always_inline int l4_csum_looks_partial(void *ctx, enum vkind k,
						 const struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	__u8 *l4 = data + L4_OFF(p->v6);
	__u16 check, len = p->l4_len;

	if (p->flow.proto == IPPROTO_TCP) {
		if ((void *)(l4 + 20) > end)
			return 0;
		check = *(__u16 *)(l4 + 16);
	} else {
		if ((void *)(l4 + 8) > end)
			return 0;
		check = *(__u16 *)(l4 + 6);
		len = bpf_ntohs(*(__be16 *)(l4 + 4));
		if (!check)
			return 0;
	}
	return check == csum_fold(csum_pseudo(&p->flow.src, &p->flow.dst, p->v6,
					      len, p->flow.proto));
}

static __always_inline void l4_csum_update_tc(struct __sk_buff *skb, const struct pkt *p,
					      __u32 addr_diff, __u32 port_diff)
{
	__u32 off = l4_csum_off(p);
	__u64 f = p->flow.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (p->v6) {
		/* BPF_F_IPV6 keeps CHECKSUM_COMPLETE right (kernels >= 6.16
		 * and backports); older ones reject it: retry without. */
		if (bpf_l4_csum_replace(skb, off, 0, addr_diff,
					f | BPF_F_PSEUDO_HDR | BPF_F_IPV6) < 0)
			bpf_l4_csum_replace(skb, off, 0, addr_diff, f | BPF_F_PSEUDO_HDR);
	} else {
		bpf_l4_csum_replace(skb, off, 0, addr_diff, f | BPF_F_PSEUDO_HDR);
	}
	bpf_l4_csum_replace(skb, off, 0, port_diff, f);
}

/* Rewrite the source or destination address and port; p->flow follows.
 * Returns 0, or -1 if the headers are not there (cannot happen after
 * parse_pkt; the check is for the verifier). */
static __always_inline int nat_rewrite(void *ctx, enum vkind k, struct pkt *p,
				       enum nat_side side,
				       const struct veer_addr *addr, __be16 port)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	__u8 *l3 = data + L3_OFF, *l4 = data + L4_OFF(p->v6);
	struct veer_addr *old_addr = side == NAT_DST ? &p->flow.dst : &p->flow.src;
	__be16 *old_port = side == NAT_DST ? &p->flow.dport : &p->flow.sport;
	__u32 addr_diff, port_diff;
	__u16 *csum;

	if ((void *)(l4 + 8) > end)
		return -1;

	addr_diff = csum_diff_addr(old_addr, addr, p->v6);
	port_diff = csum_diff16(*old_port, port);

	if (p->v6) {
		struct ipv6hdr *ip6 = (void *)l3;

		if ((void *)(ip6 + 1) > end)
			return -1;
		if (side == NAT_DST)
			__builtin_memcpy(&ip6->daddr, addr, 16);
		else
			__builtin_memcpy(&ip6->saddr, addr, 16);
	} else {
		struct iphdr *ip = (void *)l3;

		if ((void *)(ip + 1) > end)
			return -1;
		if (side == NAT_DST)
			ip->daddr = addr->v4;
		else
			ip->saddr = addr->v4;
		ip->check = csum_apply(ip->check, addr_diff);
	}
	if (side == NAT_DST)
		*(__be16 *)(l4 + 2) = port;
	else
		*(__be16 *)l4 = port;

	if (k == VK_XDP) {
		csum = (__u16 *)(l4 + (p->flow.proto == IPPROTO_TCP ? 16 : 6));
		if ((void *)(csum + 1) > end)
			return -1;
		if (p->flow.proto == IPPROTO_UDP && !*csum) {
			/* UDP over IPv4 without checksum stays without; over
			 * IPv6 a zero is invalid anyway and left alone. */
		} else {
			__u16 c = csum_apply(*csum, csum_add(addr_diff, port_diff));

			if (p->flow.proto == IPPROTO_UDP && !c)
				c = 0xffff;
			*csum = c;
		}
	} else {
		l4_csum_update_tc(ctx, p, addr_diff, port_diff);
	}
	*old_addr = *addr;
	*old_port = port;
	return 0;
}

#endif
