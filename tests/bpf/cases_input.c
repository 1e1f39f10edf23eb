// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bad and foreign input: passed or dropped by the stated rule, counted,
 * never changed (docs/datapath.md, "Bad input"). */
#include <string.h>
#include "cases.h"

/* Build a packet to the VIP, let `poke` damage it, expect it untouched. */
static void run_raw(struct fx *f, const struct pspec *s, void (*poke)(uint8_t *, size_t *),
		    enum fx_verdict v, int reason)
{
	uint8_t b[PKT_MAX];
	size_t n = pkt_build(s, b);

	if (poke)
		poke(b, &n);
	fx_step_raw(f, b, n, EXP(v, NULL, reason), NULL, 0);
	FX_NO_EVENTS(f);
}

static void arp(uint8_t *b, size_t *n)
{
	b[12] = 0x08;
	b[13] = 0x06;
	*n = 42;
}

static void case_arp(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, arp, FX_PASS, VEER_R_PASS_NOT_IP);
}

/* Insert an 802.1Q tag after the MACs. */
static void vlan(uint8_t *b, size_t *n)
{
	memmove(b + 16, b + 12, *n - 12);
	b[12] = 0x81;
	b[13] = 0x00;
	b[14] = 0x00;
	b[15] = 0x64;
	*n += 4;
}

static void case_vlan(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, vlan, FX_PASS, VEER_R_PASS_VLAN);
}

static void cut_ip4(uint8_t *b, size_t *n)
{
	(void)b;
	*n = 14 + 12;
}

static void case_trunc_ip4(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	if (f->prog == FX_TC) {
		f->skip = "test_run refuses skbs shorter than their IP header";
		return;
	}
	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, cut_ip4, FX_PASS, VEER_R_DROP_TRUNCATED);
}

static void cut_ip6(uint8_t *b, size_t *n)
{
	(void)b;
	*n = 14 + 30;
}

static void case_trunc_ip6(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_UDP, 0);

	if (f->prog == FX_TC) {
		f->skip = "test_run refuses skbs shorter than their IP header";
		return;
	}
	setup_svc(f, 1, IPPROTO_UDP);
	run_raw(f, &s, cut_ip6, FX_PASS, VEER_R_DROP_TRUNCATED);
}

static void ihl4(uint8_t *b, size_t *n)
{
	(void)n;
	b[14] = 0x44;
}

static void case_bad_ihl(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, ihl4, FX_DROP, VEER_R_DROP_BAD_IHL);
}

static void totlen_big(uint8_t *b, size_t *n)
{
	(void)n;
	b[16] = 0x01;	/* total length 256+ in a 54-byte frame */
}

static void case_bad_totlen(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, totlen_big, FX_DROP, VEER_R_DROP_BAD_LEN);
}

static void plen_big(uint8_t *b, size_t *n)
{
	(void)n;
	b[18] = 0x02;	/* payload length 512+ */
}

static void case_bad_plen6(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_TCP, F_SYN);

	setup_svc(f, 1, IPPROTO_TCP);
	run_raw(f, &s, plen_big, FX_DROP, VEER_R_DROP_BAD_LEN);
}

/* IHL 6 with a NOP option word; lengths kept consistent. */
static void options(uint8_t *b, size_t *n)
{
	memmove(b + 38, b + 34, *n - 34);
	memset(b + 34, 1, 4);
	b[14] = 0x46;
	b[17] += 4;
	*n += 4;
}

static void case_ip_options(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, options, FX_PASS, VEER_R_PASS_IP_OPTIONS);
}

static void more_frags(uint8_t *b, size_t *n)
{
	(void)n;
	b[20] = 0x20;	/* MF */
}

static void case_fragment(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_UDP, 0);

	setup_svc(f, 0, IPPROTO_UDP);
	run_raw(f, &s, more_frags, FX_PASS, VEER_R_DROP_FRAGMENT);
}

/* Next header 0 (hop-by-hop) in front of the UDP header. */
static void hbh(uint8_t *b, size_t *n)
{
	memmove(b + 62, b + 54, *n - 54);
	memset(b + 54, 0, 8);
	b[54] = IPPROTO_UDP;	/* HBH: next header UDP, length 0, PadN */
	b[56] = 1;
	b[57] = 4;
	b[20] = 0;
	b[19] += 8;
	*n += 8;
}

static void case_ipv6_exthdr(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_UDP, 0);

	setup_svc(f, 1, IPPROTO_UDP);
	run_raw(f, &s, hbh, FX_PASS, VEER_R_PASS_IPV6_EXTHDR);
}

/* TCP header cut to 10 bytes, IP length consistent with it. */
static void short_tcp(uint8_t *b, size_t *n)
{
	b[17] = 30;
	b[24] = 0;
	b[25] = 0;
	*n = 14 + 30;
}

static void case_trunc_l4(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, short_tcp, FX_PASS, VEER_R_DROP_TRUNCATED);
}

static void doff4_v4(uint8_t *b, size_t *n)
{
	(void)n;
	b[34 + 12] = 4 << 4;
}

static void doff4_v6(uint8_t *b, size_t *n)
{
	(void)n;
	b[54 + 12] = 4 << 4;
}

static void case_tcp_doff4(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_ACK);

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, doff4_v4, FX_DROP, VEER_R_DROP_BAD_L4);
}

static void case_tcp6_doff4(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_TCP, F_ACK);

	setup_svc(f, 1, IPPROTO_TCP);
	run_raw(f, &s, doff4_v6, FX_DROP, VEER_R_DROP_BAD_L4);
}

static void ulen4(uint8_t *b, size_t *n)
{
	(void)n;
	b[34 + 5] = 4;
}

static void ulen6(uint8_t *b, size_t *n)
{
	(void)n;
	b[54 + 5] = 7;
}

static void case_udp_len_short(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_UDP, 0);

	setup_svc(f, 0, IPPROTO_UDP);
	run_raw(f, &s, ulen4, FX_DROP, VEER_R_DROP_UDP_ZERO_LEN);
}

static void case_udp6_len_short(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_UDP, 0);

	setup_svc(f, 1, IPPROTO_UDP);
	run_raw(f, &s, ulen6, FX_DROP, VEER_R_DROP_UDP_ZERO_LEN);
}

static void ulen_big(uint8_t *b, size_t *n)
{
	(void)n;
	b[34 + 4] = 1;	/* 256+ bytes claimed in a 20-byte IP payload */
}

static void case_udp_len_long(struct fx *f)
{
	static const uint8_t pl[12] = "hello, veer";
	struct pspec s = to_vip(0, IPPROTO_UDP, 0);

	s.payload = pl;
	s.payload_len = sizeof(pl);
	setup_svc(f, 0, IPPROTO_UDP);
	run_raw(f, &s, ulen_big, FX_DROP, VEER_R_DROP_BAD_LEN);
}

static void case_not_service4(struct fx *f)
{
	struct pspec s = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	s.dst = "10.200.100.2";
	run_raw(f, &s, NULL, FX_PASS, VEER_R_PASS_NOT_SERVICE);
	s.dst = VIP4;
	s.dport = 81;	/* VIP, other port */
	run_raw(f, &s, NULL, FX_PASS, VEER_R_PASS_NOT_SERVICE);
}

static void case_not_service6(struct fx *f)
{
	struct pspec s = to_vip(1, IPPROTO_UDP, 0);

	setup_svc(f, 1, IPPROTO_TCP);	/* TCP service: UDP to it is not */
	run_raw(f, &s, NULL, FX_PASS, VEER_R_PASS_NOT_SERVICE);
}

static void case_icmp_echo(struct fx *f)
{
	struct pspec s = { .proto = IPPROTO_ICMP, .src = C4, .dst = VIP4,
			   .icmp_type = 8, .icmp_rest = 0x00010001 };
	struct pspec s6 = { .v6 = 1, .proto = IPPROTO_ICMPV6, .src = C6, .dst = VIP6,
			    .icmp_type = 128, .icmp_rest = 0x00010001 };

	setup_svc(f, 0, IPPROTO_TCP);
	run_raw(f, &s, NULL, FX_PASS, VEER_R_PASS_NOT_SERVICE);
	run_raw(f, &s6, NULL, FX_PASS, VEER_R_PASS_NOT_SERVICE);
}

/* Ethernet padding after a short IP packet is not a length error. */
static void case_eth_padding(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out;
	uint8_t a[PKT_MAX], b[PKT_MAX];
	size_t la, lb;

	setup_svc(f, 0, IPPROTO_UDP);
	out = dnat_of(&in, BE4A);
	la = pkt_build(&in, a);
	lb = pkt_build(&out, b);
	memset(a + la, 0, 60 - la);
	memset(b + lb, 0, 60 - lb);
	fx_step_raw(f, a, 60, FWD_OUT(NULL), b, 60);
}

const struct fx_case cases_input[] = {
	{ "non-IP (ARP) passes", case_arp },
	{ "VLAN-tagged frame passes", case_vlan },
	{ "truncated IPv4 header passes", case_trunc_ip4 },
	{ "truncated IPv6 header passes", case_trunc_ip6 },
	{ "IPv4 IHL < 5 dropped", case_bad_ihl },
	{ "IPv4 total length beyond frame dropped", case_bad_totlen },
	{ "IPv6 payload length beyond frame dropped", case_bad_plen6 },
	{ "IPv4 options pass to the stack", case_ip_options },
	{ "IPv4 fragment passes to the stack", case_fragment },
	{ "IPv6 extension header passes to the stack", case_ipv6_exthdr },
	{ "truncated TCP header passes", case_trunc_l4 },
	{ "TCP doff < 5 dropped (IPv4)", case_tcp_doff4 },
	{ "TCP doff < 5 dropped (IPv6)", case_tcp6_doff4 },
	{ "UDP length < 8 dropped (IPv4)", case_udp_len_short },
	{ "UDP length < 8 dropped (IPv6)", case_udp6_len_short },
	{ "UDP length beyond IP payload dropped", case_udp_len_long },
	{ "IPv4 not for a VIP passes", case_not_service4 },
	{ "IPv6 not for a VIP passes", case_not_service6 },
	{ "ICMP echo to a VIP passes", case_icmp_echo },
	{ "Ethernet padding is kept and not an error", case_eth_padding },
	{ NULL, NULL },
};
