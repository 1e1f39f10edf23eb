// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Panic refuse (RST for TCP SYNs, drop for the rest) and services with no
 * usable backend. */
#include <string.h>
#include "cases.h"

static void refuse_setup(struct fx *f, int v6, uint8_t proto)
{
	setup_svc(f, v6, proto);
	fx_svc(f, VIP(v6), VPORT, proto, SVC, VEER_SVC_F_REFUSE, TABLE_M);
}

/* The RST|ACK a closed port answers a SYN (with `data` payload bytes) with. */
static struct pspec rst_for(const struct pspec *syn, uint16_t data)
{
	struct pspec r = *syn;

	r.src = syn->dst;
	r.dst = syn->src;
	r.sport = syn->dport;
	r.dport = syn->sport;
	r.flags = F_RST | F_ACK;
	r.seq = 0;
	r.ack = syn->seq + 1 + data;
	r.window = 0;
	r.ttl = 64;
	r.payload = NULL;
	r.payload_len = 0;
	r.swap_macs = 1;
	return r;
}

static void refuse_syn(struct fx *f, int v6, uint16_t data)
{
	static const uint8_t pl[10] = "fastopen!";
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN), rst;
	struct veer_flow k = fx_flow(&syn);

	syn.ttl = 57;
	syn.payload = pl;
	syn.payload_len = data;
	rst = rst_for(&syn, data);
	refuse_setup(f, v6, IPPROTO_TCP);
	fx_step(f, &syn, EXP(FX_TX, &rst, VEER_R_REFUSED));
	FX_CHECK(f, fx_svc_stats(f, SVC).refused == 1, "svc refused");
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "refused SYN left state");
	FX_NO_EVENTS(f);
}

static void case_refuse4(struct fx *f) { refuse_syn(f, 0, 0); }
static void case_refuse6_data(struct fx *f) { refuse_syn(f, 1, 10); }

static void case_refuse_udp(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0);

	refuse_setup(f, 0, IPPROTO_UDP);
	fx_step(f, &in, EXP(FX_DROP, NULL, VEER_R_REFUSED));
	FX_CHECK(f, fx_svc_stats(f, SVC).refused == 1, "svc refused");
}

static void case_refuse_ack6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_TCP, F_ACK);

	refuse_setup(f, 1, IPPROTO_TCP);
	fx_step(f, &in, EXP(FX_DROP, NULL, VEER_R_REFUSED));
}

/* Flows that exist keep going while their backend is usable. */
static void case_refuse_keeps_flows(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out = dnat_of(&in, BE4A);

	setup_svc(f, 0, IPPROTO_UDP);
	fx_step(f, &in, FWD_OUT(&out));
	fx_svc(f, VIP4, VPORT, IPPROTO_UDP, SVC, VEER_SVC_F_REFUSE, TABLE_M);
	fx_step(f, &in, FWD_OUT(&out));
}

static void no_backend(struct fx *f, const struct pspec *in)
{
	fx_step(f, in, EXP(FX_DROP, NULL, VEER_R_DROP_NO_BACKEND));
	FX_CHECK(f, fx_svc_stats(f, SVC).no_backend == 1, "svc no_backend");
}

static void case_empty6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_TCP, F_SYN);

	setup_svc(f, 1, IPPROTO_TCP);
	fx_svc(f, VIP6, VPORT, IPPROTO_TCP, SVC, VEER_SVC_F_EMPTY, TABLE_M);
	no_backend(f, &in);
}

static void case_empty_slot(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0);

	setup_svc(f, 0, IPPROTO_UDP);
	fx_table_fill(f, SVC, TABLE_M, VEER_BACKEND_NONE);
	no_backend(f, &in);
}

static void case_no_table(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_SYN);
	uint32_t id = VEER_MAGLEV_SLOT(SVC, 0);

	setup_svc(f, 0, IPPROTO_TCP);
	bpf_map_delete_elem(f->maglev, &id);
	no_backend(f, &in);
}

/* Backend of the slot down and the table not updated yet: no new flow
 * goes to it. */
static void case_slot_down6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_UDP, 0);

	setup_svc(f, 1, IPPROTO_UDP);
	fx_backend_state(f, BEA, VEER_BE_DOWN);
	no_backend(f, &in);
}

const struct fx_case cases_refuse[] = {
	{ "TCP/IPv4 SYN to a refusing service: RST|ACK back", case_refuse4 },
	{ "TCP/IPv6 SYN with data to a refusing service: RST|ACK, trimmed", case_refuse6_data },
	{ "UDP to a refusing service dropped", case_refuse_udp },
	{ "TCP/IPv6 non-SYN without state to a refusing service dropped", case_refuse_ack6 },
	{ "refusing service keeps existing flows", case_refuse_keeps_flows },
	{ "TCP/IPv6 service flagged empty: dropped", case_empty6 },
	{ "UDP/IPv4 empty Maglev slot: dropped", case_empty_slot },
	{ "TCP/IPv4 service without a table: dropped", case_no_table },
	{ "UDP/IPv6 slot's backend down, table stale: dropped", case_slot_down6 },
	{ NULL, NULL },
};
