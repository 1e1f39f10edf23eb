// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Half-open slots (veer_synq_v1, bpf/lib/synq.h): a plain-DNAT service's
 * SYN keeps its state in the client's slot, not in the LRU pair; the
 * SYN-ACK, a retransmission and the client's first ACK find it there (a
 * RST: cases_signals.c, an ICMP error: cases_icmp.c); a slot another live flow holds sends the SYN
 * to the LRU pair; an expired one is taken over. */
#include <string.h>
#include "cases.h"

static void setup_plain(struct fx *f, int v6)
{
	setup_svc(f, v6, IPPROTO_TCP);
	fx_svc(f, VIP(v6), VPORT, IPPROTO_TCP, SVC, VEER_SVC_F_PLAIN, TABLE_M);
}

static bool in_lru_pair(struct fx *f, const struct pspec *syn, const char *be_addr)
{
	struct pspec sa = from_be(syn->v6, IPPROTO_TCP, be_addr, F_SYN | F_ACK);
	struct veer_flow k = fx_flow(syn), rk = fx_flow(&sa);

	return fx_ct_get(f, f->ctsyn, &k, NULL) || fx_ct_get(f, f->rnsyn, &rk, NULL);
}

/* SYN: slot filled, nothing in the LRU pair; SYN-ACK: translated, flow
 * promoted to conntrack and reverse NAT, slot freed. */
static void handshake(struct fx *f, int v6)
{
	struct pspec syn = to_vip(v6, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BEA_ADDR(v6));
	struct pspec sa = from_be(v6, IPPROTO_TCP, BEA_ADDR(v6), F_SYN | F_ACK);
	struct pspec o2 = rnat_of(&sa);
	struct veer_flow k = fx_flow(&syn), rk = fx_flow(&sa);
	struct veer_syn_slot q;
	struct veer_ct c;

	setup_plain(f, v6);
	fx_step(f, &syn, FWD_OUT(&o1));
	if (FX_CHECK(f, fx_synq_get(f, &k, &q), "no half-open slot"))
		FX_CHECK(f, q.backend_id == BEA && q.svc_id == SVC && q.syn_count == 1 &&
			 q.created_ns == q.stamp_ns, "slot be %u svc %u syns %u",
			 q.backend_id, q.svc_id, q.syn_count);
	FX_CHECK(f, !in_lru_pair(f, &syn, BEA_ADDR(v6)), "also in the LRU pair");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "new_flows");
	fx_step(f, &sa, FWD_OUT(&o2));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.backend_id == BEA &&
		 c.state == VEER_CT_ESTABLISHED && c.created_ns == q.created_ns,
		 "not promoted by the SYN-ACK");
	FX_CHECK(f, fx_ct_get(f, f->rnat, &rk, NULL), "no reverse entry");
	FX_CHECK(f, !fx_synq_get(f, &k, NULL), "slot not freed");
}

static void case_handshake4(struct fx *f) { handshake(f, 0); }
static void case_handshake6(struct fx *f) { handshake(f, 1); }

/* A retransmitted SYN is found in the slot: failure signal, syn_count 2;
 * with re-steer on it moves to B, whose SYN-ACK promotes. */
static void case_retrans_resteer(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN);
	struct pspec o1 = dnat_of(&syn, BE4A), o2 = dnat_of(&syn, BE4B);
	struct pspec sa_a = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK);
	struct pspec sa_b = from_be(0, IPPROTO_TCP, BE4B, F_SYN | F_ACK), o3 = rnat_of(&sa_b);
	uint32_t mixed[TABLE_M] = { BEA, BEB, BEB, BEB, BEB, BEB, BEB };
	struct veer_flow k = fx_flow(&syn);
	struct veer_syn_slot q;
	struct veer_ct c;

	setup_plain(f, 0);
	fx_cfg(f, SEED, 0, 1);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_table(f, SVC, TABLE_M, mixed);
	fx_step(f, &syn, FWD_OUT(&o2));
	FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA, "signal names the failing backend");
	FX_EVENTS(f, VEER_EV_SYN_RETRANS);
	FX_CHECK(f, fx_be_stats(f, BEA).fail_signals == 1, "fail_signals");
	FX_CHECK(f, fx_synq_get(f, &k, &q) && q.backend_id == BEB && q.syn_count == 2,
		 "slot not moved to B with 2 SYNs");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "retransmission counted as new flow");
	fx_step(f, &sa_a, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));	/* late answer from A */
	fx_step(f, &sa_b, FWD_OUT(&o3));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.backend_id == BEB, "not promoted to B");
}

/* The client's first non-SYN promotes from the slot (its SYN-ACK not seen
 * here). */
static void case_client_ack_promotes(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct pspec ack = to_vip(0, IPPROTO_TCP, F_ACK), o2 = dnat_of(&ack, BE4A);
	uint32_t all_b[TABLE_M] = { BEB, BEB, BEB, BEB, BEB, BEB, BEB };
	struct veer_flow k = fx_flow(&syn);
	struct veer_ct c;

	setup_plain(f, 0);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_table(f, SVC, TABLE_M, all_b);	/* a fresh pick would say B */
	fx_step(f, &ack, FWD_OUT(&o2));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.backend_id == BEA &&
		 c.state == VEER_CT_ESTABLISHED, "not promoted to A");
	FX_CHECK(f, !fx_synq_get(f, &k, NULL), "slot not freed");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "new_flows");
}

/* Client flow k's slot held by another client's live flow. */
static void hold_slot(struct fx *f, const struct veer_flow *k, uint64_t age_ns)
{
	struct veer_syn_slot *q = &f->synq_mem[veer_synq_index(&k->src, k->sport)];
	struct veer_flow other = *k;

	other.src.v6[3] ^= 0x01000000;	/* another client */
	memset(q, 0, sizeof(*q));
	q->stamp_ns = fx_now_ns() - age_ns;
	veer_syn_slot_fill(q, &other, BEB, SVC, 1, q->stamp_ns);
}

/* The slot is another live flow's: the SYN goes to the LRU pair, which its
 * SYN-ACK finds; the other flow's slot is left alone. */
static void case_collision(struct fx *f)
{
	struct pspec syn = to_vip(1, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE6A);
	struct pspec sa = from_be(1, IPPROTO_TCP, BE6A, F_SYN | F_ACK), o2 = rnat_of(&sa);
	struct veer_flow k = fx_flow(&syn);
	struct veer_syn_slot *q = &f->synq_mem[veer_synq_index(&k.src, k.sport)], before;
	struct veer_ct c;

	setup_plain(f, 1);
	hold_slot(f, &k, 0);
	before = *q;
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, in_lru_pair(f, &syn, BE6A), "not in the LRU pair");
	FX_CHECK(f, !memcmp(q, &before, sizeof(before)), "the other flow's slot was changed");
	fx_step(f, &sa, FWD_OUT(&o2));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.backend_id == BEA, "not promoted");
	FX_CHECK(f, !in_lru_pair(f, &syn, BE6A), "LRU pair not cleared");
}

/* A slot whose flow is older than the SYN timeout is free: taken over. */
static void case_expired_taken(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct veer_flow k = fx_flow(&syn);
	struct veer_syn_slot q;

	setup_plain(f, 0);
	hold_slot(f, &k, 31 * 1000000000ull);	/* default SYN timeout 30 s */
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, fx_synq_get(f, &k, &q) && q.backend_id == BEA && q.syn_count == 1,
		 "expired slot not taken over");
	FX_CHECK(f, !in_lru_pair(f, &syn, BE4A), "went to the LRU pair");
}

/* A SYN-ACK from a backend removed since the SYN: the slot does not
 * translate it. */
static void case_removed_backend(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK);

	setup_plain(f, 0);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_backend_state(f, BEA, VEER_BE_UNUSED);
	fx_step(f, &sa, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

/* A service not flagged plain DNAT (a backend with full NAT or IPIP)
 * keeps half-open flows in the LRU pair (no room for a source port in a
 * slot, and IPIP answers never come back through this node). */
static void case_not_plain(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct veer_flow k = fx_flow(&syn);

	setup_svc(f, 0, IPPROTO_TCP);
	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, !fx_synq_get(f, &k, NULL), "slot used by a non-plain service");
	FX_CHECK(f, in_lru_pair(f, &syn, BE4A), "not in the LRU pair");
}

/* A plain SYN reads its Maglev slot ahead (maglev_first); when that
 * slot's backend can't take new flows (B draining) the pick moves on to
 * the next perturbation's slot (A), computed here with the shared hash. */
static void case_first_slot_draining(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN);
	struct pspec to_a = dnat_of(&syn, BE4A), to_b = dnat_of(&syn, BE4B);
	struct veer_flow k = fx_flow(&syn);
	uint32_t slots[TABLE_M], i0, i1, j;

	setup_plain(f, 0);
	i0 = veer_flow_hash(&k, SEED) % TABLE_M;
	i1 = veer_flow_hash(&k, SEED + VEER_MAGLEV_PERTURB) % TABLE_M;
	if (!FX_CHECK(f, i0 != i1, "both perturbations land on slot %u: pick another port", i0))
		return;
	for (j = 0; j < TABLE_M; j++)
		slots[j] = j == i1 ? BEA : BEB;
	fx_table(f, SVC, TABLE_M, slots);
	fx_step(f, &syn, FWD_OUT(&to_b));	/* slot i0: B */
	memset(f->synq_mem, 0, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot));
	fx_backend_state(f, BEB, VEER_BE_DRAINING);
	fx_step(f, &syn, FWD_OUT(&to_a));	/* B takes no new flow: slot i1, A */
}

const struct fx_case cases_synq[] = {
	{ "half-open slot: TCP/IPv4 SYN in its slot, SYN-ACK promotes and frees it",
	  case_handshake4 },
	{ "half-open slot: TCP/IPv6 SYN in its slot, SYN-ACK promotes and frees it",
	  case_handshake6 },
	{ "half-open slot: retransmission signalled, re-steered, B's SYN-ACK promotes",
	  case_retrans_resteer },
	{ "half-open slot: client's first ACK promotes to the SYN's backend",
	  case_client_ack_promotes },
	{ "half-open slot: held by another live flow, the SYN uses the LRU pair",
	  case_collision },
	{ "half-open slot: an expired holder is taken over", case_expired_taken },
	{ "half-open slot: SYN-ACK from a removed backend not translated",
	  case_removed_backend },
	{ "half-open slot: a service that is not plain DNAT uses the LRU pair", case_not_plain },
	{ "plain SYN: Maglev slot read ahead names a draining backend, next slot taken",
	  case_first_slot_draining },
	{ NULL, NULL },
};
