// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Passive failure signals: RST answering a SYN, unanswered SYN resent
 * (and its re-steer). */
#include <string.h>
#include "cases.h"

/* plain: a plain-DNAT service, whose half-open flow is in a slot. */
static void rst_on_syn(struct fx *f, int v6, int plain)
{
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BEA_ADDR(v6));
	struct pspec rst = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_RST | F_ACK);
	struct pspec o2 = rnat_of(&rst);
	struct veer_flow k = fx_flow(&syn), rk = fx_flow(&rst);

	setup_svc(f, v6, IPPROTO_TCP);
	if (plain)
		fx_svc(f, VIP(v6), VPORT, IPPROTO_TCP, SVC, VEER_SVC_F_PLAIN, TABLE_M);
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, fx_synq_get(f, &k, NULL) == !!plain, "half-open slot used: want %d", plain);
	fx_step(f, &rst, FWD_OUT(&o2));
	FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA && f->ev[0].svc_id == SVC,
		 "event fields");
	FX_EVENTS(f, VEER_EV_RST_ON_SYN);
	FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail_signals");
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL) && !fx_ct_get(f, f->rnsyn, &rk, NULL) &&
		 !fx_ct_get(f, f->ct, &k, NULL) && !fx_synq_get(f, &k, NULL),
		 "refused flow left state");
}

static void case_rst_on_syn4(struct fx *f) { rst_on_syn(f, 0, 0); }
static void case_rst_on_syn6(struct fx *f) { rst_on_syn(f, 1, 0); }
static void case_rst_on_syn6_slot(struct fx *f) { rst_on_syn(f, 1, 1); }

static void case_syn_retrans(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct veer_flow k = fx_flow(&syn);
	struct veer_ct c;

	setup_svc(f, 0, IPPROTO_TCP);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_EVENTS(f, VEER_EV_SYN_RETRANS);
	FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail_signals");
	if (FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, &c), "half-open entry gone"))
		FX_CHECK(f, c.syn_count == 2 && c.backend_id == BEA, "syn_count %u be %u",
			 c.syn_count, c.backend_id);
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "retransmission counted as new flow");
}

/* With syn_retry_resteer the retransmission goes to another backend, the
 * half-open reverse entry follows, and that backend's SYN-ACK promotes. */
static void resteer(struct fx *f, int v6)
{
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN);
	struct pspec o1 = dnat_of(&syn, BEA_ADDR(v6)), o2 = dnat_of(&syn, BEB_ADDR(v6));
	struct pspec sa_a = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_SYN | F_ACK);
	struct pspec sa_b = from_be(v6, IPPROTO_TCP, BEB_ADDR(v6), F_SYN | F_ACK);
	struct pspec o3 = rnat_of(&sa_b);
	uint32_t mixed[TABLE_M] = { BEA, BEB, BEB, BEB, BEB, BEB, BEB };
	struct veer_flow k = fx_flow(&syn), ra = fx_flow(&sa_a), rb = fx_flow(&sa_b);
	struct veer_ct c;

	setup_svc(f, v6, IPPROTO_TCP);
	fx_cfg(f, SEED, 0, 1);
	fx_step(f, &syn, FWD_OUT(&o1));		/* table: all A */
	fx_table(f, SVC, TABLE_M, mixed);
	fx_step(f, &syn, FWD_OUT(&o2));
	FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA, "signal names the failing backend");
	FX_EVENTS(f, VEER_EV_SYN_RETRANS);
	FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, &c) && c.backend_id == BEB, "half-open not moved");
	FX_CHECK(f, !fx_ct_get(f, f->rnsyn, &ra, NULL) && fx_ct_get(f, f->rnsyn, &rb, NULL),
		 "half-open reverse entry not moved");
	FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail_signals");
	fx_step(f, &sa_a, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));	/* late answer from A */
	fx_step(f, &sa_b, FWD_OUT(&o3));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.backend_id == BEB &&
		 c.state == VEER_CT_ESTABLISHED, "not promoted on B's SYN-ACK");
}

static void case_resteer4(struct fx *f) { resteer(f, 0); }
static void case_resteer6(struct fx *f) { resteer(f, 1); }

const struct fx_case cases_signals[] = {
	{ "TCP/IPv4 RST answering a SYN: signal, forwarded, state dropped", case_rst_on_syn4 },
	{ "TCP/IPv6 RST answering a SYN: signal, forwarded, state dropped", case_rst_on_syn6 },
	{ "TCP/IPv6 RST answering a SYN in a half-open slot: signal, forwarded, slot freed",
	  case_rst_on_syn6_slot },
	{ "TCP/IPv4 SYN resent unanswered: signal, same backend", case_syn_retrans },
	{ "TCP/IPv4 SYN resent with re-steer: other backend, SYN-ACK promotes", case_resteer4 },
	{ "TCP/IPv6 SYN resent with re-steer: other backend, SYN-ACK promotes", case_resteer6 },
	{ NULL, NULL },
};
