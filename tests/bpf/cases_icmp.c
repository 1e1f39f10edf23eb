// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ICMP/ICMPv6 errors about service flows are translated back to the VIP. */
#include <string.h>
#include "cases.h"

struct icmp_case {
	int v6;
	uint8_t proto;		/* of the flow */
	uint8_t type, code;
	uint32_t rest;
	int from_backend;	/* sent by the backend itself, else a router */
	int unreach_event;
	int plain;		/* plain-DNAT service: a SYN's state is in its slot */
};

static void icmp_error(struct fx *f, const struct icmp_case *ic)
{
	static const uint8_t pl[16] = "0123456789abcdef";
	int v6 = ic->v6;
	uint8_t iproto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	struct pspec flow = to_vip(v6, ic->proto, ic->proto == IPPROTO_TCP ? F_SYN : 0);
	struct pspec sent = dnat_of(&flow, BEA_ADDR(v6));
	struct pspec err = {
		.v6 = v6, .proto = iproto, .src = ic->from_backend ? BEA_ADDR(v6) : (v6 ? RTR6 : RTR4),
		.dst = CLIENT(v6), .icmp_type = ic->type, .icmp_code = ic->code,
		.icmp_rest = ic->rest, .inner = &sent, .swap_macs = 1, .ttl = 60,
	};
	struct pspec quoted = flow, out = err;

	flow.payload = sent.payload = quoted.payload = pl;
	flow.payload_len = sent.payload_len = quoted.payload_len = sizeof(pl);
	sent = dnat_of(&flow, BEA_ADDR(v6));
	quoted = flow;
	out.inner = &quoted;
	out.inner_l4csum_from = &sent;	/* the quote's own L4 checksum is not fixed */
	if (ic->from_backend)
		out.src = VIP(v6);
	setup_svc(f, v6, ic->proto);
	if (ic->plain)
		fx_svc(f, VIP(v6), VPORT, ic->proto, SVC, VEER_SVC_F_PLAIN, TABLE_M);
	{
		struct pspec o = dnat_of(&flow, BEA_ADDR(v6));

		fx_step(f, &flow, FWD_OUT(&o));
	}
	fx_step(f, &err, FWD_OUT(&out));
	if (ic->unreach_event) {
		FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA && f->ev[0].svc_id == SVC,
			 "event fields");
		FX_EVENTS(f, VEER_EV_ICMP_UNREACH);
		FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail_signals");
	} else {
		FX_NO_EVENTS(f);
	}
}

static void case_frag_needed4(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 0, IPPROTO_TCP, 3, 4, 1400, 0, 0, 0 });
}

static void case_port_unreach4(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 0, IPPROTO_UDP, 3, 3, 0, 1, 1, 0 });
}

static void case_time_exceeded4(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 0, IPPROTO_UDP, 11, 0, 0, 0, 0, 0 });
}

static void case_too_big6(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 1, IPPROTO_TCP, 2, 0, 1280, 0, 0, 0 });
}

static void case_unreach6(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 1, IPPROTO_UDP, 1, 4, 0, 1, 1, 0 });
}

static void case_unreach_syn_slot4(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 0, IPPROTO_TCP, 3, 1, 0, 1, 1, 1 });
}

static void case_too_big_syn_slot6(struct fx *f)
{
	icmp_error(f, &(struct icmp_case){ 1, IPPROTO_TCP, 2, 0, 1280, 0, 0, 1 });
}

static void case_unknown_flow(struct fx *f)
{
	struct pspec flow = to_vip(0, IPPROTO_UDP, 0), sent = dnat_of(&flow, BE4A);
	struct pspec err = { .proto = IPPROTO_ICMP, .src = RTR4, .dst = C4, .icmp_type = 3,
			     .icmp_code = 4, .icmp_rest = 1400, .inner = &sent };

	setup_svc(f, 0, IPPROTO_UDP);
	fx_step(f, &err, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

static void case_short_quote6(struct fx *f)
{
	struct pspec flow = to_vip(1, IPPROTO_UDP, 0), sent = dnat_of(&flow, BE6A);
	struct pspec err = { .v6 = 1, .proto = IPPROTO_ICMPV6, .src = RTR6, .dst = C6,
			     .icmp_type = 2, .icmp_rest = 1280, .inner = &sent };
	uint8_t b[PKT_MAX];
	size_t n = pkt_build(&err, b);

	setup_svc(f, 1, IPPROTO_UDP);
	n -= 4;			/* cut the quoted UDP header short */
	b[14 + 5] -= 4;		/* and keep the IPv6 length consistent */
	fx_step_raw(f, b, n, EXP(FX_PASS, NULL, VEER_R_DROP_TRUNCATED), NULL, 0);
}

const struct fx_case cases_icmp[] = {
	{ "ICMP frag-needed from a router on the backend's path: quote translated", case_frag_needed4 },
	{ "ICMP port unreachable from the backend: translated, source VIP, event", case_port_unreach4 },
	{ "ICMP time exceeded about a UDP flow: translated", case_time_exceeded4 },
	{ "ICMPv6 packet too big from a router: quote translated", case_too_big6 },
	{ "ICMPv6 unreachable from the backend: translated, source VIP, event", case_unreach6 },
	{ "ICMP unreachable from the backend about a SYN in its half-open slot: translated, event",
	  case_unreach_syn_slot4 },
	{ "ICMPv6 packet too big about a SYN in its half-open slot: translated",
	  case_too_big_syn_slot6 },
	{ "ICMP error about an unknown flow passes", case_unknown_flow },
	{ "ICMPv6 error with a short quote passes", case_short_quote6 },
	{ NULL, NULL },
};
