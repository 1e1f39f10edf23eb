/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ICMP and ICMPv6 errors about a service flow, sent towards the client by
 * the backend or a router on the backend's path. The quoted packet is the
 * one veer forwarded (src = client, dst = backend); it is translated back
 * to dst = VIP:vport so the client's stack matches it to its socket (PMTU
 * discovery through the VIP). If the backend itself sent the error, the
 * outer source becomes the VIP too, so the backend's address never leaks.
 *
 * A full-NAT flow's error comes to the node's SNAT address and quotes
 * (snat:nport -> gateway): found in veer_snat_v1, its quoted source
 * becomes client:cport and its outer destination the client as well.
 *
 * Checksums, incrementally: the quoted IPv4 header's own checksum absorbs
 * its address change, so the ICMP checksum only sees the port change; the
 * quoted IPv6 header has no checksum, so ICMPv6 sees address and port, and
 * the outer source through its pseudo header. The quoted TCP/UDP checksum
 * is left as it was (nobody verifies a quote). Errors are never
 * CHECKSUM_PARTIAL, so XDP and tc update them the same way.
 */
#ifndef VEER_BPF_ICMP_H
#define VEER_BPF_ICMP_H

#include "csum.h"
#include "events.h"
#include "fwd.h"
#include "service.h"
#include "snat.h"
#include "synq.h"

#define ICMP_DEST_UNREACH_ 3
#define ICMP_FRAG_NEEDED_ 4
#define ICMP_TIME_EXCEEDED_ 11
#define ICMPV6_DEST_UNREACH_ 1
#define ICMPV6_PKT_TOOBIG_ 2
#define ICMPV6_TIME_EXCEED_ 3

#define ICMP_HLEN 8
#define QUOTE_L3_OFF(v6) (L4_OFF(v6) + ICMP_HLEN)
#define QUOTE_L4_OFF(v6) (QUOTE_L3_OFF(v6) + ((v6) ? 40 : 20))

static __always_inline int icmp_is_error(__u8 type, int v6)
{
	if (v6)
		return type == ICMPV6_DEST_UNREACH_ || type == ICMPV6_PKT_TOOBIG_ ||
		       type == ICMPV6_TIME_EXCEED_;
	return type == ICMP_DEST_UNREACH_ || type == ICMP_TIME_EXCEEDED_;
}

/* An unreachable that says the backend's path is broken (not a PMTU
 * message): a passive failure signal. */
static __always_inline int icmp_is_unreach(__u8 type, __u8 code, int v6)
{
	if (v6)
		return type == ICMPV6_DEST_UNREACH_;
	return type == ICMP_DEST_UNREACH_ && code != ICMP_FRAG_NEEDED_;
}

/* Full NAT: the quoted source (snat:nport, rk's destination) becomes
 * client:cport and so does the outer destination (the same SNAT address).
 * The ICMP checksum diff grows by what it covers: the quoted port, and on
 * IPv6 the quoted address and the pseudo header's destination. Non-zero
 * if the headers are not there. */
static __always_inline int icmp_fullnat_client(void *data, void *end, int v6,
					       const struct veer_flow *rk,
					       const struct veer_rnat *rn, __u32 *diff,
					       struct pkt *p)
{
	__u8 *q3 = data + QUOTE_L3_OFF(v6), *q4 = data + QUOTE_L4_OFF(v6);
	__u32 addr_diff = csum_diff_addr(&rk->dst, &rn->client, v6);

	if ((void *)(q4 + 8) > end)
		return -1;
	*diff = csum_add(*diff, csum_diff16(rk->dport, rn->cport));
	*(__be16 *)q4 = rn->cport;
	if (v6) {
		struct ipv6hdr *q = (void *)q3, *ip6 = data + L3_OFF;

		if ((void *)(ip6 + 1) > end || (void *)(q + 1) > end)
			return -1;
		__builtin_memcpy(&q->saddr, &rn->client, 16);
		__builtin_memcpy(&ip6->daddr, &rn->client, 16);
		/* quoted source, and the outer destination in the pseudo header */
		*diff = csum_add(*diff, csum_add(addr_diff, addr_diff));
	} else {
		struct iphdr *q = (void *)q3, *ip = data + L3_OFF;

		if ((void *)(ip + 1) > end || (void *)(q + 1) > end)
			return -1;
		q->saddr = rn->client.v4;
		q->check = csum_apply(q->check, addr_diff);
		ip->daddr = rn->client.v4;
		ip->check = csum_apply(ip->check, addr_diff);
	}
	p->flow.dst = rn->client;
	return 0;
}

static __always_inline int icmp_packet(void *ctx, enum vkind k, struct pkt *p)
{
	void *data = ctx_data(ctx, k), *end = ctx_data_end(ctx, k);
	int v6 = p->v6;
	__u8 *ic = data + L4_OFF(v6);
	__u8 *q3 = data + QUOTE_L3_OFF(v6);
	__u8 *q4 = data + QUOTE_L4_OFF(v6);
	struct veer_flow rk = {};
	struct veer_rnat *found, rn;
	struct veer_config *cfg;
	struct veer_addr backend;
	__u32 diff = 0, addr_diff;
	__u64 now = 0;
	__u8 type, code;

	p->reason = VEER_R_PASS_NOT_SERVICE;
	if ((void *)(ic + ICMP_HLEN) > end)
		return V_PASS;
	type = ic[0];
	code = ic[1];
	if (!icmp_is_error(type, v6))
		return V_PASS;
	if ((void *)(q4 + 8) > end) {
		p->reason = VEER_R_DROP_TRUNCATED;
		return V_PASS;
	}
	/* The reply tuple of the quoted packet: src = backend, dst = client. */
	rk.family = p->flow.family;
	if (v6) {
		struct ipv6hdr *q = (void *)q3;

		if (q->nexthdr != IPPROTO_TCP && q->nexthdr != IPPROTO_UDP)
			return V_PASS;
		rk.proto = q->nexthdr;
		__builtin_memcpy(&rk.src, &q->daddr, 16);
		__builtin_memcpy(&rk.dst, &q->saddr, 16);
	} else {
		struct iphdr *q = (void *)q3;

		if (q->version != 4 || q->ihl != 5 ||
		    (q->protocol != IPPROTO_TCP && q->protocol != IPPROTO_UDP))
			return V_PASS;
		rk.proto = q->protocol;
		rk.src.v4 = q->daddr;
		rk.dst.v4 = q->saddr;
	}
	rk.sport = *(__be16 *)(q4 + 2);
	rk.dport = *(__be16 *)q4;
	found = bpf_map_lookup_elem(&veer_rnat_v1, &rk);
	cfg = found || rk.proto != IPPROTO_TCP ? NULL : cfg_get();
	if (cfg)
		now = flow_clock_ns();
	if (cfg && synq_reverse(&rk, cfg, now, &rn)) {
		/* about a SYN whose state is in a half-open slot (synq.h) */
	} else {
		if (!found)
			found = bpf_map_lookup_elem(&veer_rnsyn_v1, &rk);
		if (!found) {
			found = snat_reply_lookup(&rk);
			if (!found)
				return V_PASS;
			rn = *found;
			if (icmp_fullnat_client(data, end, v6, &rk, &rn, &diff, p))
				return V_PASS;
		} else {
			rn = *found;
		}
	}
	backend = rk.src;

	/* Quoted destination back to VIP:vport. */
	addr_diff = csum_diff_addr(&backend, &rn.vip, v6);
	diff = csum_add(diff, csum_diff16(rk.sport, rn.vport));
	*(__be16 *)(q4 + 2) = rn.vport;
	if (v6) {
		struct ipv6hdr *q = (void *)q3;

		__builtin_memcpy(&q->daddr, &rn.vip, 16);
		diff = csum_add(diff, addr_diff);
	} else {
		struct iphdr *q = (void *)q3;

		q->daddr = rn.vip.v4;
		q->check = csum_apply(q->check, addr_diff);
	}
	/* Sent by the backend itself: the VIP answers instead. */
	if (addr_eq(&p->flow.src, &backend)) {
		if (v6) {
			struct ipv6hdr *ip6 = data + L3_OFF;

			if ((void *)(ip6 + 1) > end)
				return V_PASS;
			__builtin_memcpy(&ip6->saddr, &rn.vip, 16);
			diff = csum_add(diff, addr_diff);	/* pseudo header */
		} else {
			struct iphdr *ip = data + L3_OFF;

			if ((void *)(ip + 1) > end)
				return V_PASS;
			ip->saddr = rn.vip.v4;
			ip->check = csum_apply(ip->check, addr_diff);
		}
		p->flow.src = rn.vip;
	}
	*(__u16 *)(ic + 2) = csum_apply(*(__u16 *)(ic + 2), diff);

	if (icmp_is_unreach(type, code, v6)) {
		struct veer_flow cf = {
			.src = rn.client, .dst = rn.vip,
			.sport = rn.cport, .dport = rn.vport,
			.proto = rk.proto, .family = rk.family,
		};
		struct veer_backend *be;
		__u32 id = rn.backend_id;

		be = bpf_map_lookup_elem(&veer_be_v1, &id);
		emit_event(VEER_EV_ICMP_UNREACH, &cf, id, VEER_BACKEND_NONE,
			   be ? be->svc_id : VEER_BACKEND_NONE);
		be_count_fail(id);
	}
	return fwd_packet(ctx, k, p, VEER_R_FWD_ICMP, VEER_BACKEND_NONE, now ?: flow_clock_ns());
}

#endif
