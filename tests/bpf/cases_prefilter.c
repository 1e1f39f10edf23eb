// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The prefilter (veer_ports_v1, veer_vips_v1): with it on, service packets and
 * replies are translated as before, a packet on neither a service port
 * nor a backend port passes untouched without a lookup, and with it off
 * (a map veerd has not written) nothing is filtered. */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cases.h"

#define OTHER_PORT 81

/* A TCP service for packet s's destination written straight into the map:
 * its prefilter bits are left clear. */
static void svc_direct(struct fx *f, const struct pspec *s)
{
	struct veer_flow fl = fx_flow(s);
	struct veer_svc_key k;
	struct veer_svc v = { .id = SVC, .table_size = TABLE_M };

	memset(&k, 0, sizeof(k));
	k.vip = fl.dst;
	k.port = fl.dport;
	k.proto = IPPROTO_TCP;
	k.family = fl.family;
	FX_CHECK(f, !bpf_map_update_elem(f->svc, &k, &v, BPF_ANY), "write service");
}

/* A service on another port, its port bit left clear. */
static void svc_without_bit(struct fx *f, int v6, uint16_t port)
{
	struct pspec s = to_vip(v6, IPPROTO_TCP, 0);

	s.dport = port;
	svc_direct(f, &s);
}

/* Handshake and data both ways, TCP and UDP, v4 and v6, filter on. */
static void translated(struct fx *f, int v6, uint8_t proto)
{
	uint8_t syn = proto == IPPROTO_TCP ? F_SYN : 0;
	uint8_t synack = proto == IPPROTO_TCP ? F_SYN | F_ACK : 0;
	struct pspec in = to_vip(v6, proto, syn), out = dnat_of(&in, BEA_ADDR(v6));
	struct pspec rep = from_be(v6, proto, BEA_ADDR(v6), synack), rout = rnat_of(&rep);

	setup_svc(f, v6, proto);
	fx_prefilter(f, 1);
	fx_step(f, &in, FWD_OUT(&out));
	fx_step(f, &rep, FWD_OUT(&rout));
}

static void case_tcp4(struct fx *f) { translated(f, 0, IPPROTO_TCP); }
static void case_udp6(struct fx *f) { translated(f, 1, IPPROTO_UDP); }

/* Neither port known: passes untouched, even to a VIP. */
static void case_other_port(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK);

	setup_svc(f, 0, IPPROTO_TCP);
	fx_prefilter(f, 1);
	in.dport = OTHER_PORT;
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
	FX_CHECK(f, fx_svc_stats(f, SVC).packets == 0, "counted by the service");
}

/* The filter decides before the lookup: a service whose port bit is
 * clear is not looked up (why veerd sets the bit first). */
static void case_bit_first(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_SYN);

	setup_svc(f, 0, IPPROTO_TCP);
	svc_without_bit(f, 0, OTHER_PORT);
	fx_prefilter(f, 1);
	in.dport = OTHER_PORT;
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

/* A service port, but an address whose VIP bit is clear: not looked up
 * (neither conntrack nor services), even though a service is there. */
static void case_vip_bit_first(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK);
	struct veer_flow fl;

	setup_svc(f, 0, IPPROTO_TCP);
	in.dst = "10.200.100.2";
	fl = fx_flow(&in);
	FX_CHECK(f, veer_vip_bit(&fl.dst) != veer_vip_bit(&(struct veer_addr){ .v4 = inet_addr(VIP4) }),
		 "the two VIPs share a bit: pick another address");
	svc_direct(f, &in);
	fx_prefilter(f, 1);
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
	FX_CHECK(f, fx_svc_stats(f, SVC).packets == 0, "counted by the service");
}

/* Filter off: the same service is found and translated. */
static void case_off(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_SYN), out;

	setup_svc(f, 0, IPPROTO_TCP);
	svc_without_bit(f, 0, OTHER_PORT);
	fx_prefilter(f, 0);
	in.dport = OTHER_PORT;
	out = dnat_of(&in, BEA_ADDR(0));
	fx_step(f, &in, FWD_OUT(&out));
}

/* A reply needs only its source port known: the client's port is no
 * service port. */
static void case_reply_by_sport(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_SYN), out = dnat_of(&in, BEA_ADDR(0));
	struct pspec rep = from_be(0, IPPROTO_TCP, BEA_ADDR(0), F_SYN | F_ACK);
	struct pspec rout = rnat_of(&rep), ack = to_vip(0, IPPROTO_TCP, F_ACK);
	struct pspec aout = dnat_of(&ack, BEA_ADDR(0));

	setup_svc(f, 0, IPPROTO_TCP);
	fx_prefilter(f, 1);
	fx_step(f, &in, FWD_OUT(&out));
	fx_step(f, &rep, FWD_OUT(&rout));
	fx_step(f, &ack, FWD_OUT(&aout));
}

const struct fx_case cases_prefilter[] = {
	{ "prefilter on: TCP/IPv4 SYN and SYN-ACK translated", case_tcp4 },
	{ "prefilter on: UDP/IPv6 both ways translated", case_udp6 },
	{ "prefilter on: VIP on a port no service uses passes untouched", case_other_port },
	{ "prefilter on: service whose port bit is clear is not looked up", case_bit_first },
	{ "prefilter on: service whose VIP bit is clear is not looked up", case_vip_bit_first },
	{ "prefilter off: nothing filtered", case_off },
	{ "prefilter on: reply recognised by its source port, flow completes", case_reply_by_sport },
	{ NULL, NULL },
};
