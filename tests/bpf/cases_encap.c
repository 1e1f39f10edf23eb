// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPIP backends: encapsulation (IPv4-in-IPv4, IPv6-in-IPv6) towards the
 * gateway, MSS clamp on SYNs, ICMP / ICMPv6 when the tunnel MTU is
 * exceeded, and decapsulation on the gateway's side. Expected packets are
 * built here from scratch (outer header checksum included). */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cases.h"

/* fixtures_main's routed veth: node 10.200.9.1, gateway .11 with a
 * permanent neighbour; .12 is behind a route with MTU 300. */
#define ENODE4 "10.200.9.1"
#define ENODE6 "fd00:200:9::1"
#define EGW4 "10.200.9.11"
#define EGW6 "fd00:200:9::11"
#define SMALL4 "10.200.9.12"
#define SMALL6 "fd00:200:9::12"
#define UGW4 "10.200.6.1"		/* no route: the stack gets it */
#define UGW6 "fd00:200:6::1"
#define SMALL_MTU4 300
#define SMALL_MTU6 1280
#define PEER4 "10.200.7.1"		/* a remote node tunnelling to us */
#define PEER6 "fd00:200:7::1"

static const uint8_t NEIGH_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x09, 0x11 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Ethernet (of spec in) + outer header src->dst + the inner IP packet in. */
static size_t build_ipip(const struct pspec *in, const char *src, const char *dst,
			 uint8_t ttl, uint8_t *b, const uint8_t *dmac, const uint8_t *smac)
{
	uint8_t tmp[PKT_MAX + 64];
	size_t n = pkt_build(in, tmp), il = n - 14, hl = in->v6 ? 40 : 20;

	memcpy(b, tmp, 14);
	if (dmac)
		memcpy(b, dmac, 6);
	if (smac)
		memcpy(b + 6, smac, 6);
	memset(b + 14, 0, hl);
	if (in->v6) {
		b[14] = 0x60;
		put16(b + 18, il);
		b[20] = 41;
		b[21] = ttl;
		inet_pton(AF_INET6, src, b + 22);
		inet_pton(AF_INET6, dst, b + 38);
	} else {
		b[14] = 0x45;
		put16(b + 16, il + 20);
		put16(b + 20, 0x4000);
		b[22] = ttl;
		b[23] = 4;
		inet_pton(AF_INET, src, b + 26);
		inet_pton(AF_INET, dst, b + 30);
		put16(b + 24, ~pkt_fold(pkt_sum(b + 14, 20, 0)));
	}
	memcpy(b + 14 + hl, tmp + 14, il);
	return 14 + hl + il;
}

/* Give a built TCP packet an MSS option (doff 6) and a fresh checksum;
 * the spec's payload must be the 4 option bytes. */
static void make_mss_option(uint8_t *b, size_t len, int v6)
{
	size_t l3 = 14, l4 = l3 + (v6 ? 40 : 20), l4len = len - l4;
	uint32_t acc;

	b[l4 + 12] = 6 << 4;
	b[l4 + 16] = b[l4 + 17] = 0;
	if (v6) {
		acc = pkt_sum(b + l3 + 8, 32, 0);
	} else {
		acc = pkt_sum(b + l3 + 12, 8, 0);
	}
	acc += l4len + IPPROTO_TCP;
	put16(b + l4 + 16, ~pkt_fold(pkt_sum(b + l4, l4len, acc)));
}

static void setup_ipip(struct fx *f, int v6, const char *gw, const char *node)
{
	setup_svc(f, v6, IPPROTO_TCP);
	fx_remote_backend(f, BEA, gw, VPORT, VEER_BE_F_ENCAP_IPIP, node);
}

/* No route to the gateway: encapsulated all the same, handed to the
 * stack (XDP with the handled mark). */
static void encap_unrouted(struct fx *f, int v6)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_ACK), inner = in;
	uint8_t a[PKT_MAX], b[PKT_MAX + 64];
	size_t la = pkt_build(&in, a), lb;
	struct veer_flow k = fx_flow(&in);
	struct veer_ct ct;

	inner.ttl = 63;
	lb = build_ipip(&inner, v6 ? ENODE6 : ENODE4, v6 ? UGW6 : UGW4, 64, b, NULL, NULL);
	setup_ipip(f, v6, v6 ? UGW6 : UGW4, v6 ? ENODE6 : ENODE4);
	fx_step_raw(f, a, la, EXP(FX_PASS, &in /* any: rewritten */, VEER_R_PASS_FIB_FAIL), b, lb);
	if (FX_CHECK(f, fx_ct_get(f, f->ct, &k, &ct), "no conntrack entry"))
		FX_CHECK(f, ct.backend_id == BEA && ct.nat_port == 0, "entry");
	{
		struct pspec rep = from_be(v6, IPPROTO_TCP, v6 ? UGW6 : UGW4, F_ACK);
		struct veer_flow rk = fx_flow(&rep);
		struct veer_rnat rn;

		rep.sport = VPORT;
		rk = fx_flow(&rep);
		FX_CHECK(f, bpf_map_lookup_elem(f->rnat, &rk, &rn) != 0,
			 "IPIP flow has a reverse entry");
	}
}

static void case_encap4_unrouted(struct fx *f) { encap_unrouted(f, 0); }
static void case_encap6_unrouted(struct fx *f) { encap_unrouted(f, 1); }

/* Routed gateway: XDP redirects (MACs of the route), tc redirect_neigh. */
static void encap_routed(struct fx *f, int v6)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_ACK | F_PSH), inner;
	static const uint8_t pl[] = "GET / HTTP/1.1\r\n\r\n";
	uint8_t a[PKT_MAX], b[PKT_MAX + 64], mac[6];
	size_t la, lb;
	uint32_t oif;

	if (!fx_routed_iface(f, mac, &oif))
		return;
	in.payload = pl;
	in.payload_len = sizeof(pl) - 1;
	inner = in;
	inner.ttl = 63;
	la = pkt_build(&in, a);
	if (FX_XDP_RUN(f))
		lb = build_ipip(&inner, v6 ? ENODE6 : ENODE4, v6 ? EGW6 : EGW4, 64, b, NEIGH_MAC, mac);
	else
		lb = build_ipip(&inner, v6 ? ENODE6 : ENODE4, v6 ? EGW6 : EGW4, 64, b, NULL, NULL);
	setup_ipip(f, v6, v6 ? EGW6 : EGW4, v6 ? ENODE6 : ENODE4);
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	fx_step_raw(f, a, la, EXP(FX_REDIRECT, &in, VEER_R_FWD), b, lb);
	FX_CHECK(f, fx_be_stats(f, BEA).packets == 1, "backend packets");
}

static void case_encap4_routed(struct fx *f) { encap_routed(f, 0); }
static void case_encap6_routed(struct fx *f) { encap_routed(f, 1); }

/* A SYN into the tunnel: MSS lowered to route MTU - outer - IP - TCP. */
static void mss(struct fx *f, int v6)
{
	static const uint8_t opt[4] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
	uint16_t want = v6 ? 1500 - 100 : 1500 - 60;
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_SYN), inner;
	uint8_t a[PKT_MAX], b[PKT_MAX + 64], c[PKT_MAX], mac[6], clamped[4];
	size_t la, lb, lc;
	uint32_t oif;

	if (!fx_routed_iface(f, mac, &oif))
		return;
	in.payload = opt;
	in.payload_len = 4;
	la = pkt_build(&in, a);
	make_mss_option(a, la, v6);
	memcpy(clamped, opt, 4);
	put16(clamped + 2, want);
	inner = in;
	inner.ttl = 63;
	inner.payload = clamped;
	lc = pkt_build(&inner, c);
	make_mss_option(c, lc, v6);
	/* build_ipip wants a spec; wrap the finished inner bytes by hand. */
	lb = build_ipip(&inner, v6 ? ENODE6 : ENODE4, v6 ? EGW6 : EGW4, 64, b,
			FX_XDP_RUN(f) ? NEIGH_MAC : NULL, FX_XDP_RUN(f) ? mac : NULL);
	memcpy(b + 14 + (v6 ? 40 : 20), c + 14, lc - 14);
	setup_ipip(f, v6, v6 ? EGW6 : EGW4, v6 ? ENODE6 : ENODE4);
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	fx_step_raw(f, a, la, EXP(FX_REDIRECT, &in, VEER_R_FWD), b, lb);
}

static void case_mss4(struct fx *f) { mss(f, 0); }
static void case_mss6(struct fx *f) { mss(f, 1); }

/* Too big for the tunnel: ICMP frag needed / packet too big back to the
 * client from the node, quoting the IP header and 8 bytes. */
static void too_big(struct fx *f, int v6)
{
	static uint8_t pl[1400];
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_ACK | F_PSH);
	struct pspec err = {
		.v6 = v6, .proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
		.src = v6 ? ENODE6 : ENODE4, .dst = CLIENT(v6),
		.icmp_type = v6 ? 2 : 3, .icmp_code = v6 ? 0 : 4,
		.icmp_rest = v6 ? SMALL_MTU6 - 40 : SMALL_MTU4 - 20,
		.inner = &in, .swap_macs = 1,
	};
	uint32_t oif;
	uint8_t mac[6];

	if (!fx_routed_iface(f, mac, &oif))
		return;
	memset(pl, 'x', sizeof(pl));
	in.payload = pl;
	/* Over the route MTU once 20/40 bytes are added, within PKT_MAX. */
	in.payload_len = v6 ? 1280 - 40 - 20 - 40 + 1 : SMALL_MTU4 - 20 - 20 - 20 + 1;
	if (!FX_CHECK(f, 14 + (v6 ? 60 : 40) + in.payload_len <= PKT_MAX, "PKT_MAX too small"))
		return;
	if (system(v6 ? "ip -6 route replace " SMALL6 "/128 dev vfx0 mtu lock 1280" :
		   "ip route replace " SMALL4 "/32 dev vfx0 mtu lock 300")) {
		fx_fail(f, "route with a small MTU");
		return;
	}
	setup_ipip(f, v6, v6 ? SMALL6 : SMALL4, v6 ? ENODE6 : ENODE4);
	fx_step(f, &in, EXP(FX_XDP_RUN(f) ? FX_TX : FX_REDIRECT, &err, VEER_R_DROP_MTU));
	FX_CHECK(f, fx_be_stats(f, BEA).packets == 1, "backend packets");
}

static void case_too_big4(struct fx *f) { too_big(f, 0); }
static void case_too_big6(struct fx *f) { too_big(f, 1); }

/* The gateway side: IPIP to our own address around a packet for our VIP. */
static void decap(struct fx *f, int v6)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_SYN), out = dnat_of(&in, BEA_ADDR(v6));
	uint8_t a[PKT_MAX + 64], b[PKT_MAX];
	size_t la = build_ipip(&in, v6 ? PEER6 : PEER4, v6 ? ENODE6 : ENODE4, 63, a, NULL, NULL);
	size_t lb = pkt_build(&out, b);
	struct veer_flow k = fx_flow(&in);

	if (!fx_have_fwd_net) {
		f->skip = "no local address to tunnel to";
		return;
	}
	setup_svc(f, v6, IPPROTO_TCP);
	fx_step_raw(f, a, la, EXP2(FX_PASS, &in, VEER_R_PASS_FIB_FAIL, VEER_R_DECAP), b, lb);
	FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, NULL), "no half-open entry for the inner flow");
}

static void case_decap4(struct fx *f) { decap(f, 0); }
static void case_decap6(struct fx *f) { decap(f, 1); }

/* IPIP that is not ours to open: passes untouched. */
static void no_decap(struct fx *f, int v6, int transit)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_SYN);
	uint8_t a[PKT_MAX + 64];
	size_t la;

	if (!fx_have_fwd_net) {
		f->skip = "no routed veth";
		return;
	}
	if (!transit)
		in.dst = v6 ? "fd00:200:100::99" : "10.200.100.99";	/* not a VIP */
	la = build_ipip(&in, v6 ? PEER6 : PEER4, transit ? (v6 ? EGW6 : EGW4) : (v6 ? ENODE6 : ENODE4),
			63, a, NULL, NULL);
	setup_svc(f, v6, IPPROTO_TCP);
	fx_step_raw(f, a, la, EXP(FX_PASS, NULL, v6 ? VEER_R_PASS_IPV6_EXTHDR :
				  VEER_R_PASS_NOT_SERVICE), NULL, 0);
}

static void case_transit4(struct fx *f) { no_decap(f, 0, 1); }
static void case_transit6(struct fx *f) { no_decap(f, 1, 1); }
static void case_not_vip4(struct fx *f) { no_decap(f, 0, 0); }

const struct fx_case cases_encap[] = {
	{ "IPIP v4: encapsulated, no route -> stack", case_encap4_unrouted },
	{ "IPIP v6: encapsulated, no route -> stack", case_encap6_unrouted },
	{ "IPIP v4: encapsulated and redirected to the gateway", case_encap4_routed },
	{ "IPIP v6: encapsulated and redirected to the gateway", case_encap6_routed },
	{ "IPIP v4: SYN MSS clamped to route MTU - 60", case_mss4 },
	{ "IPIP v6: SYN MSS clamped to route MTU - 100", case_mss6 },
	{ "IPIP v4: too big for the tunnel -> ICMP frag needed (MTU - 20)", case_too_big4 },
	{ "IPIP v6: too big for the tunnel -> ICMPv6 packet too big (MTU - 40)", case_too_big6 },
	{ "IPIP v4 to this node for a VIP: decapsulated, served", case_decap4 },
	{ "IPIP v6 to this node for a VIP: decapsulated, served", case_decap6 },
	{ "IPIP v4 in transit: passed untouched", case_transit4 },
	{ "IPIP v6 in transit: passed untouched", case_transit6 },
	{ "IPIP v4 to this node, inner not a VIP: passed untouched", case_not_vip4 },
	{ NULL, NULL },
};
