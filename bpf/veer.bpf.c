// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * veer's datapath: the XDP and the tc ingress entries. Both run the same
 * code (bpf/lib/, specialised per context at compile time): parse, then
 * an ICMP error about a flow, a service packet, or a backend's reply; all
 * else passes untouched. See docs/datapath.md.
 */
#include "lib/common.h"
#include "lib/ctx.h"
#include "lib/parse.h"
#include "lib/service.h"
#include "lib/prefilter.h"
#include "lib/encap.h"
#include "lib/lb.h"
#include "lib/reply.h"
#include "lib/icmp.h"
#include "lib/stats.h"

static __always_inline int veer_run(void *ctx, enum vkind k)
{
	struct pkt p = { .iif = ctx_ifindex(ctx, k) };
	int v, pf;

	ctx_pull_headers(ctx, k);
	decap_ipip(ctx, k);	/* IPIP to this node for a VIP: the inner packet */
	v = parse_pkt(ctx, k, &p);
	if (v == V_CONT) {
		if (p.flow.proto == IPPROTO_ICMP || p.flow.proto == IPPROTO_ICMPV6) {
			v = icmp_packet(ctx, k, &p);
		} else {
			pf = ports_maybe(&p);
			v = pf & PF_SVC ? svc_packet(ctx, k, &p) : V_NOT_SVC;
			if (v != V_NOT_SVC) {
				/* decided */
			} else if (pf & PF_REPLY) {
				v = reply_packet(ctx, k, &p);
			} else {
				p.reason = VEER_R_PASS_NOT_SERVICE;
				v = V_PASS;
			}
		}
	}
	count_reason(p.reason);
	return v;
}

SEC("xdp")
int veer_xdp(struct xdp_md *ctx)
{
	switch (veer_run(ctx, VK_XDP)) {
	case V_PASS:
		return XDP_PASS;
	case V_TX:
		return XDP_TX;
	case V_REDIRECT:
		return XDP_REDIRECT;
	default:
		return XDP_DROP;
	}
}

SEC("tc")
int veer_tc_ingress(struct __sk_buff *skb)
{
	/* Already translated by veer's XDP program and passed to the stack. */
	if (ctx_is_marked(skb, VK_TC))
		return TC_ACT_OK;
	switch (veer_run(skb, VK_TC)) {
	case V_PASS:
		return TC_ACT_OK;
	case V_TX:
	case V_REDIRECT:
		return TC_ACT_REDIRECT;
	default:
		return TC_ACT_SHOT;
	}
}

/* Run by the loader (test_run), never attached: jiffies and the monotonic
 * clock side by side, from which it derives struct veer_clock. */
SEC("syscall")
int veer_clock_sample(struct veer_clock_sample *s)
{
	s->jiffies = bpf_jiffies64();
	s->mono_ns = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
