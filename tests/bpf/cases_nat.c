// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* DNAT of service packets and reverse NAT of replies, TCP and UDP over
 * IPv4 and IPv6, with the checksum rules. */
#include <string.h>
#include "cases.h"

static bool in_map(struct fx *f, int fd, const struct pspec *s)
{
	struct veer_flow k = fx_flow(s);

	return fx_ct_get(f, fd, &k, NULL);
}

static void new_syn(struct fx *f, int v6, int events)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_SYN), out = dnat_of(&in, BEA_ADDR(v6));
	struct pspec rep = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_SYN | F_ACK);
	struct veer_flow k = fx_flow(&in);
	struct veer_svc_stats ss;
	struct veer_be_stats bs;
	struct veer_ct ct;

	setup_svc(f, v6, IPPROTO_TCP);
	if (events)
		fx_cfg(f, SEED, VEER_CFG_F_FLOW_EVENTS, 0);
	fx_step(f, &in, FWD_OUT(&out));
	if (events)
		FX_EVENTS(f, VEER_EV_NEW_FLOW);
	else
		FX_NO_EVENTS(f);
	if (FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, &ct), "no half-open entry"))
		FX_CHECK(f, ct.backend_id == BEA && ct.state == VEER_CT_SYN_SENT &&
			 ct.svc_id == SVC && ct.syn_count == 1,
			 "half-open entry be %u state %u", ct.backend_id, ct.state);
	FX_CHECK(f, !fx_ct_get(f, f->ct, &k, NULL), "SYN went into the established table");
	FX_CHECK(f, in_map(f, f->rnsyn, &rep), "no half-open reverse entry");
	ss = fx_svc_stats(f, SVC);
	bs = fx_be_stats(f, BEA);
	FX_CHECK(f, ss.packets == 1 && ss.new_flows == 1 && ss.bytes == 14 + (v6 ? 60 : 40),
		 "svc stats %llu pkts %llu new", (unsigned long long)ss.packets,
		 (unsigned long long)ss.new_flows);
	FX_CHECK(f, bs.packets == 1 && bs.new_flows == 1, "backend stats");
}

static void case_syn4(struct fx *f) { new_syn(f, 0, 0); }
static void case_syn6_events(struct fx *f) { new_syn(f, 1, 1); }

static void handshake(struct fx *f, int v6)
{
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN);
	struct pspec sa = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_SYN | F_ACK);
	struct pspec ack = to_vip(v6, IPPROTO_TCP, F_ACK);
	static const uint8_t req[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t resp[] = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
	struct pspec data = to_vip(v6, IPPROTO_TCP, F_ACK | F_PSH);
	struct pspec rdata = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_ACK | F_PSH);
	struct veer_flow k = fx_flow(&syn);
	struct pspec o1 = dnat_of(&syn, BEA_ADDR(v6)), o2 = rnat_of(&sa);
	struct pspec o3 = dnat_of(&ack, BEA_ADDR(v6)), o4, o5;
	struct veer_ct ct;

	data.payload = req;
	data.payload_len = sizeof(req) - 1;
	rdata.payload = resp;
	rdata.payload_len = sizeof(resp) - 1;
	o4 = dnat_of(&data, BEA_ADDR(v6));
	o5 = rnat_of(&rdata);
	setup_svc(f, v6, IPPROTO_TCP);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &sa, EXP(FX_PASS, &o2, VEER_R_PASS_FIB_FAIL));
	if (FX_CHECK(f, fx_ct_get(f, f->ct, &k, &ct), "SYN-ACK did not promote"))
		FX_CHECK(f, ct.state == VEER_CT_ESTABLISHED && ct.backend_id == BEA,
			 "promoted entry state %u", ct.state);
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "half-open entry left behind");
	FX_CHECK(f, in_map(f, f->rnat, &sa) && !in_map(f, f->rnsyn, &sa), "reverse entry not moved");
	fx_step(f, &ack, FWD_OUT(&o3));
	fx_step(f, &data, FWD_OUT(&o4));
	fx_step(f, &rdata, FWD_OUT(&o5));
	FX_CHECK(f, fx_be_stats(f, BEA).reply_packets == 2, "reply packets");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "one flow");
	FX_NO_EVENTS(f);
}

static void case_handshake4(struct fx *f) { handshake(f, 0); }
static void case_handshake6(struct fx *f) { handshake(f, 1); }

static void udp_flow(struct fx *f, int v6, enum pkt_csum cs)
{
	static const uint8_t q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00";
	struct pspec in = to_vip(v6, IPPROTO_UDP, 0);
	struct pspec rep = from_be(v6, IPPROTO_UDP, BEA_ADDR(v6), 0);
	struct pspec o1, o2;
	struct veer_flow k = fx_flow(&in);
	struct veer_ct ct;

	in.payload = rep.payload = q;
	in.payload_len = rep.payload_len = sizeof(q) - 1;
	in.csum = rep.csum = cs;
	o1 = dnat_of(&in, BEA_ADDR(v6));
	o2 = rnat_of(&rep);
	setup_svc(f, v6, IPPROTO_UDP);
	fx_step(f, &in, FWD_OUT(&o1));
	if (FX_CHECK(f, fx_ct_get(f, f->ct, &k, &ct), "no UDP conntrack entry"))
		FX_CHECK(f, ct.state == VEER_CT_UDP && ct.backend_id == BEA, "UDP entry");
	fx_step(f, &rep, FWD_OUT(&o2));
	fx_step(f, &in, FWD_OUT(&o1));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "one flow");
}

static void case_udp4(struct fx *f) { udp_flow(f, 0, PKT_CSUM_FULL); }
static void case_udp6(struct fx *f) { udp_flow(f, 1, PKT_CSUM_FULL); }
static void case_udp4_nocsum(struct fx *f) { udp_flow(f, 0, PKT_CSUM_ZERO); }

/* Two payload bytes chosen so that the spec's checksum field (as built)
 * satisfies want(field); returns false if none does. */
static bool tune_payload(struct pspec *s, uint8_t *pl, bool (*want)(uint16_t, uint16_t),
			 uint16_t arg)
{
	uint8_t b[PKT_MAX];
	size_t off = pkt_l4_off(s) + (s->proto == IPPROTO_TCP ? 16 : 6);
	uint32_t x;

	for (x = 0; x < 0x10000; x++) {
		pl[0] = x >> 8;
		pl[1] = x & 0xff;
		pkt_build(s, b);
		if (want((uint16_t)(b[off] << 8 | b[off + 1]), arg))
			return true;
	}
	return false;
}

static bool is_ffff(uint16_t c, uint16_t arg)
{
	(void)arg;
	return c == 0xffff;
}

/* IPv6 UDP: a checksum that computes to 0 is sent as 0xffff. */
static void case_udp6_csum_ffff(struct fx *f)
{
	static uint8_t pl[8] = { 0, 0, 'v', 'e', 'e', 'r', '6', '!' };
	struct pspec in = to_vip(1, IPPROTO_UDP, 0), out;

	in.payload = pl;
	in.payload_len = sizeof(pl);
	out = dnat_of(&in, BE6A);
	if (!FX_CHECK(f, tune_payload(&out, pl, is_ffff, 0), "no payload gives 0xffff"))
		return;
	setup_svc(f, 1, IPPROTO_UDP);
	fx_step(f, &in, FWD_OUT(&out));
}

static bool is_eq(uint16_t c, uint16_t arg)
{
	return c == arg;
}

/* A full checksum equal to the pseudo-header sum looks partial: XDP leaves
 * it to tc, tc translates it (test_run skbs are CHECKSUM_NONE). */
static void lookalike(struct fx *f, int v6, uint8_t proto)
{
	static uint8_t pl[10] = { 0, 0, 'l', 'o', 'o', 'k', 'a', 'l', 'i', 'k' };
	struct pspec in = to_vip(v6, proto, proto == IPPROTO_TCP ? F_ACK : 0), part, out;
	uint8_t b[PKT_MAX];
	size_t off = pkt_l4_off(&in) + (proto == IPPROTO_TCP ? 16 : 6);
	uint16_t pseudo;

	in.payload = pl;
	in.payload_len = sizeof(pl);
	part = in;
	part.csum = PKT_CSUM_PARTIAL;
	pkt_build(&part, b);
	pseudo = b[off] << 8 | b[off + 1];
	if (!FX_CHECK(f, tune_payload(&in, pl, is_eq, pseudo), "no look-alike payload"))
		return;
	out = dnat_of(&in, BEA_ADDR(v6));
	setup_svc(f, v6, proto);
	if (FX_XDP_RUN(f)) {
		struct veer_flow k = fx_flow(&in);

		fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_XDP_DEFER_CSUM));
		FX_CHECK(f, !fx_ct_get(f, f->ct, &k, NULL) && !fx_ct_get(f, f->ctsyn, &k, NULL),
			 "XDP created state for a deferred packet");
		FX_CHECK(f, fx_svc_stats(f, SVC).packets == 0, "XDP counted a deferred packet");
	} else {
		fx_step(f, &in, FWD_OUT(&out));
	}
}

static void case_lookalike4_tcp(struct fx *f) { lookalike(f, 0, IPPROTO_TCP); }
static void case_lookalike6_udp(struct fx *f) { lookalike(f, 1, IPPROTO_UDP); }

/* A real CHECKSUM_PARTIAL packet, as a local socket sends it over a veth:
 * XDP defers it. test_run cannot make partial skbs for tc. */
static void partial(struct fx *f, int v6, int reply)
{
	struct pspec in = reply ? from_be(v6, IPPROTO_UDP, BEA_ADDR(v6), 0)
				: to_vip(v6, IPPROTO_TCP, F_SYN);

	if (!FX_XDP_RUN(f)) {
		f->skip = "test_run cannot build CHECKSUM_PARTIAL skbs (covered end to end)";
		return;
	}
	in.csum = PKT_CSUM_PARTIAL;
	setup_svc(f, v6, reply ? IPPROTO_UDP : IPPROTO_TCP);
	if (reply) {
		struct pspec c = to_vip(v6, IPPROTO_UDP, 0), o = dnat_of(&c, BEA_ADDR(v6));

		fx_step(f, &c, FWD_OUT(&o));
	}
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_XDP_DEFER_CSUM));
}

static void case_partial4(struct fx *f) { partial(f, 0, 0); }
static void case_partial6_reply(struct fx *f) { partial(f, 1, 1); }

const struct fx_case cases_nat[] = {
	{ "TCP/IPv4 SYN: DNAT, half-open entry", case_syn4 },
	{ "TCP/IPv6 SYN: DNAT, half-open entry, NEW_FLOW event", case_syn6_events },
	{ "TCP/IPv4 handshake and data both ways", case_handshake4 },
	{ "TCP/IPv6 handshake and data both ways", case_handshake6 },
	{ "UDP/IPv4 DNAT and reply", case_udp4 },
	{ "UDP/IPv6 DNAT and reply", case_udp6 },
	{ "UDP/IPv4 zero checksum stays zero", case_udp4_nocsum },
	{ "UDP/IPv6 checksum computing to 0 is sent as 0xffff", case_udp6_csum_ffff },
	{ "TCP/IPv4 full checksum equal to pseudo sum: XDP defers, tc translates", case_lookalike4_tcp },
	{ "UDP/IPv6 full checksum equal to pseudo sum: XDP defers, tc translates", case_lookalike6_udp },
	{ "TCP/IPv4 CHECKSUM_PARTIAL: XDP defers to tc", case_partial4 },
	{ "UDP/IPv6 CHECKSUM_PARTIAL reply: XDP defers to tc", case_partial6_reply },
	{ NULL, NULL },
};
