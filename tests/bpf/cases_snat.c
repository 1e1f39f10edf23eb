// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Full NAT backends: source becomes the node address and an allocated
 * port claimed in veer_snat_v1, destination the gateway; replies are
 * translated back; collisions, exhaustion and release. */
#include <arpa/inet.h>
#include <string.h>
#include "cases.h"

#define NODE4 "10.200.5.1"
#define NODE6 "fd00:200:5::1"
#define GW4 "10.200.6.1"
#define GW6 "fd00:200:6::1"
#define GWPORT 80
#define NLO 20000

#define NODE(v6) ((v6) ? NODE6 : NODE4)
#define GW(v6) ((v6) ? GW6 : GW4)

static void pton(const char *txt, struct veer_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, txt, &a->v4) != 1)
		inet_pton(AF_INET6, txt, a->b);
}

void fx_remote_backend(struct fx *f, uint32_t id, const char *addr, uint16_t port,
		       uint8_t flags, const char *node)
{
	struct veer_backend b;

	if (bpf_map_lookup_elem(f->be, &id, &b)) {
		fx_fail(f, "lookup backend %u", id);
		return;
	}
	pton(addr, &b.addr);
	pton(node, &b.snat);
	b.port = htons(port);
	b.flags = flags;
	if (bpf_map_update_elem(f->be, &id, &b, BPF_ANY))
		fx_fail(f, "update backend %u", id);
}

static void setup_fullnat(struct fx *f, int v6, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct veer_config c = { .hash_seed = SEED, .snat_port_lo = lo, .snat_port_hi = hi };

	setup_svc(f, v6, proto);
	fx_cfg_set(f, &c);
	fx_remote_backend(f, BEA, GW(v6), GWPORT, VEER_BE_F_NAT_FULL, NODE(v6));
}

/* Client packet after full NAT with source port nport. */
static struct pspec to_gw(const struct pspec *in, uint16_t nport)
{
	struct pspec s = *in;

	s.src = NODE(in->v6);
	s.sport = nport;
	s.dst = GW(in->v6);
	s.dport = GWPORT;
	return s;
}

/* The gateway's answer to the flow that got nport. */
static struct pspec from_gw(int v6, uint8_t proto, uint16_t nport, uint8_t flags)
{
	struct pspec s = from_be(v6, proto, GW(v6), flags);

	s.sport = GWPORT;
	s.dst = NODE(v6);
	s.dport = nport;
	return s;
}

/* That answer as the client gets it. */
static struct pspec to_client(const struct pspec *rep)
{
	struct pspec s = *rep;

	s.src = VIP(rep->v6);
	s.sport = VPORT;
	s.dst = CLIENT(rep->v6);
	s.dport = CPORT;
	return s;
}

static bool snat_get(struct fx *f, const struct pspec *reply, struct veer_rnat *v)
{
	struct veer_flow k = fx_flow(reply);

	return bpf_map_lookup_elem(f->snat, &k, v) == 0;
}

static int snat_count(struct fx *f)
{
	struct veer_flow k, n;
	int c = 0, more = !bpf_map_get_next_key(f->snat, NULL, &n);

	while (more && c < 100000) {
		k = n;
		c++;
		more = !bpf_map_get_next_key(f->snat, &k, &n);
	}
	return c;
}

static void fullnat_flow(struct fx *f, int v6)
{
	static const uint8_t req[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t resp[] = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN), o1 = to_gw(&syn, NLO);
	struct pspec sa = from_gw(v6, IPPROTO_TCP, NLO, F_SYN | F_ACK), o2 = to_client(&sa);
	struct pspec data = to_vip(v6, IPPROTO_TCP, F_ACK | F_PSH), o3;
	struct pspec rdata = from_gw(v6, IPPROTO_TCP, NLO, F_ACK | F_PSH), o4;
	struct pspec fin = to_vip(v6, IPPROTO_TCP, F_ACK | F_FIN), o5 = to_gw(&fin, NLO);
	struct veer_flow k = fx_flow(&syn);
	struct veer_rnat rn;
	struct veer_addr a;
	struct veer_ct ct;

	data.payload = req;
	data.payload_len = sizeof(req) - 1;
	rdata.payload = resp;
	rdata.payload_len = sizeof(resp) - 1;
	o3 = to_gw(&data, NLO);
	o4 = to_client(&rdata);
	/* One port only, so the allocation is known: NLO. */
	setup_fullnat(f, v6, IPPROTO_TCP, NLO, NLO);
	fx_step(f, &syn, FWD_OUT(&o1));
	if (FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, &ct), "no half-open entry"))
		FX_CHECK(f, ct.nat_port == htons(NLO) && ct.backend_id == BEA &&
			 ct.state == VEER_CT_SYN_SENT, "half-open nat_port %u", ntohs(ct.nat_port));
	if (FX_CHECK(f, snat_get(f, &sa, &rn), "no port claim in veer_snat_v1")) {
		pton(CLIENT(v6), &a);
		FX_CHECK(f, !memcmp(&rn.client, &a, 16) && rn.cport == htons(CPORT) &&
			 rn.vport == htons(VPORT) && rn.backend_id == BEA, "claim value");
	}
	FX_CHECK(f, snat_count(f) == 1, "claims: %d", snat_count(f));
	{
		struct pspec plain = from_be(v6, IPPROTO_TCP, GW(v6), F_SYN | F_ACK);
		struct veer_flow rk = fx_flow(&plain);

		FX_CHECK(f, bpf_map_lookup_elem(f->rnsyn, &rk, &rn) != 0,
			 "full NAT flow has a plain reverse entry");
	}
	fx_step(f, &sa, FWD_OUT(&o2));
	if (FX_CHECK(f, fx_ct_get(f, f->ct, &k, &ct), "SYN-ACK did not promote"))
		FX_CHECK(f, ct.state == VEER_CT_ESTABLISHED && ct.nat_port == htons(NLO),
			 "promoted state %u port %u", ct.state, ntohs(ct.nat_port));
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "half-open entry left");
	fx_step(f, &data, FWD_OUT(&o3));
	fx_step(f, &rdata, FWD_OUT(&o4));
	fx_step(f, &fin, FWD_OUT(&o5));
	if (fx_ct_get(f, f->ct, &k, &ct))
		FX_CHECK(f, ct.state == VEER_CT_CLOSING, "FIN: state %u", ct.state);
	FX_CHECK(f, fx_be_stats(f, BEA).reply_packets == 2, "reply packets");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "one flow");
	FX_NO_EVENTS(f);

	/* The close timeout passes; the client reuses its port: the old
	 * claim is released and the one port of the range is free again. */
	if (fx_ct_get(f, f->ct, &k, &ct)) {
		ct.last_seen_ns = fx_now_ns() - 11ull * 1000000000ull;
		fx_ct_put(f, f->ct, &k, &ct);
	}
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, snat_count(f) == 1, "claims after reuse: %d", snat_count(f));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 2, "second flow");
}

static void case_fullnat4(struct fx *f) { fullnat_flow(f, 0); }
static void case_fullnat6(struct fx *f) { fullnat_flow(f, 1); }

static void fullnat_udp(struct fx *f, int v6)
{
	static const uint8_t q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00";
	struct pspec in = to_vip(v6, IPPROTO_UDP, 0), o1;
	struct pspec rep = from_gw(v6, IPPROTO_UDP, NLO, 0), o2;
	struct veer_flow k = fx_flow(&in);
	struct veer_ct ct;

	in.payload = rep.payload = q;
	in.payload_len = rep.payload_len = sizeof(q) - 1;
	o1 = to_gw(&in, NLO);
	o2 = to_client(&rep);
	setup_fullnat(f, v6, IPPROTO_UDP, NLO, NLO);
	fx_step(f, &in, FWD_OUT(&o1));
	if (FX_CHECK(f, fx_ct_get(f, f->ct, &k, &ct), "no UDP entry"))
		FX_CHECK(f, ct.state == VEER_CT_UDP && ct.nat_port == htons(NLO), "UDP entry");
	fx_step(f, &rep, FWD_OUT(&o2));
	fx_step(f, &in, FWD_OUT(&o1));
}

static void case_fullnat4_udp(struct fx *f) { fullnat_udp(f, 0); }

/* Run a packet without checking it (to learn a flow's first port). */
static void run_quiet(struct fx *f, const struct pspec *in)
{
	uint8_t a[PKT_MAX], out[PKT_MAX + 64];
	struct __sk_buff skb;
	size_t n = pkt_build(in, a);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = a, .data_size_in = n,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (f->prog == FX_TC) {
		memset(&skb, 0, sizeof(skb));
		skb.ifindex = skb.ingress_ifindex = 1;
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(f->prog_fd[f->prog], &o))
		fx_fail(f, "test_run");
}

/* The port a flow gets when it is alone, then its state is removed. */
static int first_port(struct fx *f, int v6, uint16_t cport)
{
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN);
	struct veer_flow k;
	struct veer_ct ct;
	int port;

	syn.sport = cport;
	k = fx_flow(&syn);
	run_quiet(f, &syn);
	if (!fx_ct_get(f, f->ctsyn, &k, &ct))
		return -1;
	port = ntohs(ct.nat_port);
	{
		struct pspec r = from_gw(v6, IPPROTO_TCP, port, F_SYN | F_ACK);
		struct veer_flow rk = fx_flow(&r);

		bpf_map_delete_elem(f->snat, &rk);
	}
	bpf_map_delete_elem(f->ctsyn, &k);
	return port;
}

/* Two flows whose first candidate is the same port: the second probes
 * on and gets the next port of the range. */
static void collision(struct fx *f, int v6)
{
	int port[9], a = -1, b = -1, i, j;
	struct pspec s1 = to_vip(v6, IPPROTO_TCP, F_SYN), s2, o1, o2;
	int p2;

	setup_fullnat(f, v6, IPPROTO_TCP, NLO, NLO + 7);
	/* Nine flows, eight ports: two share a first candidate. */
	for (i = 0; i < 9 && a < 0; i++) {
		port[i] = first_port(f, v6, CPORT + i);
		if (!FX_CHECK(f, port[i] >= NLO && port[i] <= NLO + 7, "port %d out of range", port[i]))
			return;
		for (j = 0; j < i; j++)
			if (port[j] == port[i]) {
				a = j;
				b = i;
				break;
			}
	}
	if (!FX_CHECK(f, a >= 0, "no two flows share a first port"))
		return;
	FX_CHECK(f, snat_count(f) == 0, "probing left claims");
	s1.sport = CPORT + a;
	s2 = s1;
	s2.sport = CPORT + b;
	p2 = NLO + (port[a] - NLO + 1) % 8;
	o1 = to_gw(&s1, port[a]);
	o2 = to_gw(&s2, p2);
	fx_step(f, &s1, FWD_OUT(&o1));
	fx_step(f, &s2, FWD_OUT(&o2));
	FX_CHECK(f, snat_count(f) == 2, "claims: %d", snat_count(f));
	{
		struct pspec r1 = from_gw(v6, IPPROTO_TCP, port[a], F_SYN | F_ACK), c1;
		struct pspec r2 = from_gw(v6, IPPROTO_TCP, p2, F_SYN | F_ACK), c2;

		r1.dport = port[a];
		c1 = to_client(&r1);
		c1.dport = CPORT + a;
		c2 = to_client(&r2);
		c2.dport = CPORT + b;
		fx_step(f, &r1, FWD_OUT(&c1));
		fx_step(f, &r2, FWD_OUT(&c2));
	}
	FX_NO_EVENTS(f);
}

static void case_collision4(struct fx *f) { collision(f, 0); }
static void case_collision6(struct fx *f) { collision(f, 1); }

/* A range of one port: the second flow finds nothing free. */
static void exhausted(struct fx *f, int v6)
{
	struct pspec s1 = to_vip(v6, IPPROTO_TCP, F_SYN), s2 = s1, o1 = to_gw(&s1, NLO);
	struct veer_flow k2;

	s2.sport = CPORT + 1;
	k2 = fx_flow(&s2);
	setup_fullnat(f, v6, IPPROTO_TCP, NLO, NLO);
	fx_step(f, &s1, FWD_OUT(&o1));
	fx_step(f, &s2, EXP(FX_DROP, NULL, VEER_R_DROP_SNAT_EXHAUSTED));
	FX_EVENTS(f, VEER_EV_SNAT_EXHAUSTED);
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k2, NULL) && !fx_ct_get(f, f->ct, &k2, NULL),
		 "state kept for a dropped flow");
	FX_CHECK(f, snat_count(f) == 1, "claims: %d", snat_count(f));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "new flows");
	/* The first flow still works; its retransmitted SYN keeps its port. */
	fx_step(f, &s1, FWD_OUT(&o1));
	FX_EVENTS(f, VEER_EV_SYN_RETRANS);
}

static void case_exhausted4(struct fx *f) { exhausted(f, 0); }
static void case_exhausted6(struct fx *f) { exhausted(f, 1); }

/* The gateway refuses the SYN: failure signal, the claim is released. */
static void case_rst_on_syn4(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = to_gw(&syn, NLO);
	struct pspec rst = from_gw(0, IPPROTO_TCP, NLO, F_RST | F_ACK), o2 = to_client(&rst);

	setup_fullnat(f, 0, IPPROTO_TCP, NLO, NLO);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &rst, FWD_OUT(&o2));
	FX_EVENTS(f, VEER_EV_RST_ON_SYN);
	FX_CHECK(f, snat_count(f) == 0, "claim kept after RST on SYN");
	FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail signal");
}

/* A backend re-pick moves the flow: the old claim goes, none is leaked. */
static void case_repick_releases4(struct fx *f)
{
	struct pspec ack = to_vip(0, IPPROTO_TCP, F_ACK), o1 = to_gw(&ack, NLO), o2;

	setup_fullnat(f, 0, IPPROTO_TCP, NLO, NLO);
	fx_step(f, &ack, FWD_OUT(&o1));
	FX_CHECK(f, snat_count(f) == 1, "claims: %d", snat_count(f));
	fx_backend_state(f, BEA, VEER_BE_DOWN);
	fx_table_fill(f, SVC, TABLE_M, BEB);
	o2 = dnat_of(&ack, BEB_ADDR(0));
	fx_step(f, &ack, EXP2(FX_PASS, &o2, VEER_R_PASS_FIB_FAIL, VEER_R_REPICK));
	FX_EVENTS(f, VEER_EV_REPICK);
	FX_CHECK(f, snat_count(f) == 0, "claim kept after re-pick");
}

/* A reply whose port is in the range but claimed by nobody passes. */
static void case_unknown_port4(struct fx *f)
{
	struct pspec r = from_gw(0, IPPROTO_TCP, NLO + 5, F_ACK);

	setup_fullnat(f, 0, IPPROTO_TCP, NLO, NLO + 7);
	fx_step(f, &r, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

/* An ICMP error about a full-NAT flow comes to the node's SNAT address and
 * quotes (node:nport -> gateway); the client gets it quoting
 * (client:cport -> VIP:vport), from the VIP if the gateway sent it.
 * router: from a router on the gateway's path (frag-needed / too big),
 * else the gateway's own unreachable (a failure signal). */
static void fullnat_icmp(struct fx *f, int v6, int router)
{
	static const uint8_t pl[16] = "0123456789abcdef";
	uint8_t iproto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	struct pspec flow = to_vip(v6, IPPROTO_TCP, F_ACK | F_PSH), sent, quoted, out;
	struct pspec err = {
		.v6 = v6, .proto = iproto, .src = router ? (v6 ? RTR6 : RTR4) : GW(v6),
		.dst = NODE(v6), .swap_macs = 1, .ttl = 60,
		.icmp_type = router ? (v6 ? 2 : 3) : (v6 ? 1 : 3),
		.icmp_code = router ? (v6 ? 0 : 4) : (v6 ? 4 : 3),
		.icmp_rest = router ? (v6 ? 1280 : 1400) : 0,
	};

	flow.payload = pl;
	flow.payload_len = sizeof(pl);
	sent = to_gw(&flow, NLO);
	quoted = flow;
	err.inner = &sent;
	out = err;
	out.dst = CLIENT(v6);
	out.inner = &quoted;
	out.inner_l4csum_from = &sent;	/* the quote's own L4 checksum is not fixed */
	if (!router)
		out.src = VIP(v6);
	setup_fullnat(f, v6, IPPROTO_TCP, NLO, NLO);
	fx_step(f, &flow, FWD_OUT(&sent));
	fx_step(f, &err, FWD_OUT(&out));
	if (router) {
		FX_NO_EVENTS(f);
	} else {
		FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA, "event fields");
		FX_EVENTS(f, VEER_EV_ICMP_UNREACH);
	}
}

static void case_icmp_router4(struct fx *f) { fullnat_icmp(f, 0, 1); }
static void case_icmp_router6(struct fx *f) { fullnat_icmp(f, 1, 1); }
static void case_icmp_gateway4(struct fx *f) { fullnat_icmp(f, 0, 0); }
static void case_icmp_gateway6(struct fx *f) { fullnat_icmp(f, 1, 0); }

const struct fx_case cases_snat[] = {
	{ "full NAT TCP/IPv4: SNAT+DNAT to gateway, claim, reply back, release on reuse", case_fullnat4 },
	{ "full NAT TCP/IPv6: SNAT+DNAT to gateway, claim, reply back, release on reuse", case_fullnat6 },
	{ "full NAT UDP/IPv4 both ways", case_fullnat4_udp },
	{ "full NAT IPv4: first-candidate collision gets the next port", case_collision4 },
	{ "full NAT IPv6: first-candidate collision gets the next port", case_collision6 },
	{ "full NAT IPv4: range exhausted -> drop, SNAT_EXHAUSTED event", case_exhausted4 },
	{ "full NAT IPv6: range exhausted -> drop, SNAT_EXHAUSTED event", case_exhausted6 },
	{ "full NAT: gateway RST on SYN releases the port", case_rst_on_syn4 },
	{ "full NAT: re-pick to a plain backend releases the port", case_repick_releases4 },
	{ "full NAT: reply to an unclaimed port passes", case_unknown_port4 },
	{ "full NAT: ICMP frag-needed from a router: quote back to client -> VIP, to the client",
	  case_icmp_router4 },
	{ "full NAT: ICMPv6 too big from a router: quote back to client -> VIP, to the client",
	  case_icmp_router6 },
	{ "full NAT: ICMP unreachable from the gateway: from the VIP, event", case_icmp_gateway4 },
	{ "full NAT: ICMPv6 unreachable from the gateway: from the VIP, event", case_icmp_gateway6 },
	{ NULL, NULL },
};
