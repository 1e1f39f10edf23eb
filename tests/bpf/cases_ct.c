// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Conntrack: flows keep their backend while it may keep them, re-pick
 * when it can't, expire by timeout, close on FIN/RST, and a SYN flood only
 * evicts half-open flows. */
#include <string.h>
#include <bpf/bpf.h>
#include "cases.h"

static struct veer_ct ct_entry(uint32_t be, uint8_t state, uint64_t age_ns)
{
	struct veer_ct c;
	uint64_t now = fx_now_ns();

	memset(&c, 0, sizeof(c));
	c.backend_id = be;
	c.svc_id = SVC;
	c.state = state;
	c.last_seen_ns = now - age_ns;
	c.created_ns = now - age_ns;
	return c;
}

static void put_flow(struct fx *f, const struct pspec *s, uint32_t be, uint8_t state,
		     uint64_t age_ns)
{
	struct veer_flow k = fx_flow(s);
	struct veer_ct c = ct_entry(be, state, age_ns);

	fx_ct_put(f, f->ct, &k, &c);
}

static uint32_t ct_backend(struct fx *f, int fd, const struct pspec *s)
{
	struct veer_flow k = fx_flow(s);
	struct veer_ct c;

	return fx_ct_get(f, fd, &k, &c) ? c.backend_id : VEER_BACKEND_NONE;
}

/* Table changed under an established flow: it stays on its backend. */
static void case_keeps_backend(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out = dnat_of(&in, BE4B);

	setup_svc(f, 0, IPPROTO_TCP);
	put_flow(f, &in, BEB, VEER_CT_ESTABLISHED, 0);
	fx_step(f, &in, FWD_OUT(&out));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 0, "counted as new");
	FX_NO_EVENTS(f);
}

/* The established fast path finds a flow's service by the id in its entry:
 * an id now used by a service on another VIP (the flow's own service gone)
 * must not send the flow to that service's backend. */
static void case_svc_id_reused(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK);
	struct veer_flow fl = fx_flow(&in);
	struct veer_svc_key k = { .vip = fl.dst, .port = fl.dport, .proto = IPPROTO_TCP,
				  .family = fl.family };

	setup_svc(f, 0, IPPROTO_TCP);
	put_flow(f, &in, BEB, VEER_CT_ESTABLISHED, 0);
	FX_CHECK(f, !bpf_map_delete_elem(f->svc, &k), "remove the service");
	fx_svc(f, "10.200.100.2", VPORT, IPPROTO_TCP, SVC, 0, TABLE_M);
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
	FX_CHECK(f, fx_svc_stats(f, SVC).packets == 0, "counted by the other service");
}

/* Backend B goes down mid-flow: the next packet re-picks A, and the
 * reverse entry follows. */
static void case_repick_down(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), ack = to_vip(0, IPPROTO_TCP, F_ACK);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4B, F_SYN | F_ACK);
	struct pspec sa_a = from_be(0, IPPROTO_TCP, BE4A, F_ACK);
	struct pspec o1 = dnat_of(&syn, BE4B), o2 = rnat_of(&sa), o3 = dnat_of(&ack, BE4A);
	struct pspec o4 = rnat_of(&sa_a);

	setup_svc(f, 0, IPPROTO_TCP);
	fx_table_fill(f, SVC, TABLE_M, BEB);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &sa, FWD_OUT(&o2));
	fx_backend_state(f, BEB, VEER_BE_DOWN);
	fx_table_fill(f, SVC, TABLE_M, BEA);
	fx_step(f, &ack, EXP2(FX_PASS, &o3, VEER_R_PASS_FIB_FAIL, VEER_R_REPICK));
	FX_CHECK(f, f->nev == 1 && f->ev[0].backend_id == BEA && f->ev[0].old_backend_id == BEB &&
		 f->ev[0].svc_id == SVC, "re-pick event fields");
	FX_EVENTS(f, VEER_EV_REPICK);
	FX_CHECK(f, ct_backend(f, f->ct, &ack) == BEA, "conntrack not moved to A");
	FX_CHECK(f, fx_svc_stats(f, SVC).repicks == 1, "svc repicks");
	/* B's reverse entry is gone, A's answers. */
	fx_step(f, &sa, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
	fx_step(f, &sa_a, FWD_OUT(&o4));
}

/* Backend removed (slot UNUSED): UDP/IPv6 flow re-picked. */
static void case_repick_removed6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_UDP, 0), out = dnat_of(&in, BE6A);
	struct veer_backend zero;
	uint32_t id = BEB;

	setup_svc(f, 1, IPPROTO_UDP);
	put_flow(f, &in, BEB, VEER_CT_UDP, 0);
	memset(&zero, 0, sizeof(zero));
	bpf_map_update_elem(f->be, &id, &zero, BPF_ANY);
	fx_step(f, &in, EXP2(FX_PASS, &out, VEER_R_PASS_FIB_FAIL, VEER_R_REPICK));
	FX_EVENTS(f, VEER_EV_REPICK);
	FX_CHECK(f, ct_backend(f, f->ct, &in) == BEA, "not re-picked to A");
}

/* Backend now belongs to another service: re-picked. */
static void case_repick_moved(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out = dnat_of(&in, BE4A);

	setup_svc(f, 0, IPPROTO_UDP);
	put_flow(f, &in, BEB, VEER_CT_UDP, 0);
	fx_backend(f, BEB, BE4B, BPORT, 7, VEER_BE_ACTIVE);
	fx_step(f, &in, EXP2(FX_PASS, &out, VEER_R_PASS_FIB_FAIL, VEER_R_REPICK));
	FX_EVENTS(f, VEER_EV_REPICK);
	FX_CHECK(f, fx_svc_stats(f, SVC).repicks == 1, "svc repicks");
}

/* A draining backend keeps its flows but takes no new ones. */
static void case_draining6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_TCP, F_ACK), out = dnat_of(&in, BE6A);
	struct pspec other = in;

	other.sport = CPORT + 1;
	setup_svc(f, 1, IPPROTO_TCP);
	fx_backend_state(f, BEA, VEER_BE_DRAINING);
	put_flow(f, &in, BEA, VEER_CT_ESTABLISHED, 0);
	fx_step(f, &in, FWD_OUT(&out));
	fx_step(f, &other, EXP(FX_DROP, NULL, VEER_R_DROP_NO_BACKEND));
	FX_CHECK(f, fx_svc_stats(f, SVC).no_backend == 1, "no_backend");
	FX_NO_EVENTS(f);
}

/* An idle established entry past its timeout is a miss: Maglev again. */
static void case_expired(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out = dnat_of(&in, BE4A);
	struct veer_config c = { .hash_seed = SEED, .tcp_est_timeout_s = 100 };

	setup_svc(f, 0, IPPROTO_TCP);
	fx_cfg_set(f, &c);
	put_flow(f, &in, BEB, VEER_CT_ESTABLISHED, 101ull * 1000000000);
	fx_step(f, &in, FWD_OUT(&out));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1 && fx_svc_stats(f, SVC).repicks == 0,
		 "expired entry not treated as a new flow");
	FX_CHECK(f, ct_backend(f, f->ct, &in) == BEA, "entry not replaced");
}

/* A service's own UDP timeout overrides the global one. */
static void case_udp_timeout(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0);
	struct pspec to_b = dnat_of(&in, BE4B), to_a = dnat_of(&in, BE4A);
	struct veer_config c = { .hash_seed = SEED, .udp_timeout_s = 30 };

	setup_svc(f, 0, IPPROTO_UDP);
	fx_cfg_set(f, &c);
	put_flow(f, &in, BEB, VEER_CT_UDP, 5ull * 1000000000);
	fx_step(f, &in, FWD_OUT(&to_b));	/* 5 s < 30 s */
	fx_svc_udp_timeout(f, VIP4, VPORT, 2);
	put_flow(f, &in, BEB, VEER_CT_UDP, 5ull * 1000000000);
	fx_step(f, &in, FWD_OUT(&to_a));	/* 5 s > 2 s */
}

/* last_seen is written at most once a second. */
static void case_touch(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out = dnat_of(&in, BE4A);
	struct veer_flow k = fx_flow(&in);
	struct veer_ct before = ct_entry(BEA, VEER_CT_UDP, 300000000ull), after;

	setup_svc(f, 0, IPPROTO_UDP);
	fx_ct_put(f, f->ct, &k, &before);
	fx_step(f, &in, FWD_OUT(&out));
	fx_ct_get(f, f->ct, &k, &after);
	FX_CHECK(f, after.last_seen_ns == before.last_seen_ns, "refreshed a 0.3 s old entry");
	before = ct_entry(BEA, VEER_CT_UDP, 2000000000ull);
	fx_ct_put(f, f->ct, &k, &before);
	fx_step(f, &in, FWD_OUT(&out));
	fx_ct_get(f, f->ct, &k, &after);
	FX_CHECK(f, after.last_seen_ns > before.last_seen_ns, "did not refresh a 2 s old entry");
}

/* Conntrack's clock is jiffies scaled by what the loader measured: it must
 * read CLOCK_MONOTONIC as of the last tick, or every timeout is off. */
static void case_clock(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out = dnat_of(&in, BE4A);
	struct veer_flow k = fx_flow(&in);
	struct veer_ct old = ct_entry(BEA, VEER_CT_UDP, 2000000000ull), after;
	struct veer_clock clk;
	uint32_t zero = 0;
	uint64_t t0, t1;

	FX_CHECK(f, !bpf_map_lookup_elem(f->clock, &zero, &clk) && clk.tick_ns >= 800000 &&
		 clk.tick_ns <= 41666667, "clock not calibrated (tick %llu ns)",
		 (unsigned long long)clk.tick_ns);
	setup_svc(f, 0, IPPROTO_UDP);
	fx_ct_put(f, f->ct, &k, &old);
	t0 = fx_now_ns();
	fx_step(f, &in, FWD_OUT(&out));
	t1 = fx_now_ns();
	fx_ct_get(f, f->ct, &k, &after);
	/* A tick late at most, plus a tick of slack for the measured base. */
	FX_CHECK(f, after.last_seen_ns + 2 * clk.tick_ns >= t0 && after.last_seen_ns <= t1,
		 "last_seen %lld ns from the packet's time (tick %llu ns)",
		 (long long)(after.last_seen_ns - t0), (unsigned long long)clk.tick_ns);
}

static uint8_t ct_state(struct fx *f, const struct pspec *s)
{
	struct veer_flow k = fx_flow(s);
	struct veer_ct c;

	return fx_ct_get(f, f->ct, &k, &c) ? c.state : 0;
}

/* FIN from the client, RST from the backend: CLOSING. */
static void case_closing6(struct fx *f)
{
	struct pspec fin = to_vip(1, IPPROTO_TCP, F_FIN | F_ACK), o1 = dnat_of(&fin, BE6A);
	struct pspec rst = from_be(1, IPPROTO_TCP, BE6A, F_RST | F_ACK), o2 = rnat_of(&rst);
	struct pspec syn = to_vip(1, IPPROTO_TCP, F_SYN), o3 = dnat_of(&syn, BE6A);
	struct veer_flow k = fx_flow(&syn);
	struct veer_ct c;

	setup_svc(f, 1, IPPROTO_TCP);
	put_flow(f, &fin, BEA, VEER_CT_ESTABLISHED, 0);
	fx_step(f, &fin, FWD_OUT(&o1));
	FX_CHECK(f, ct_state(f, &fin) == VEER_CT_CLOSING, "FIN: state %u", ct_state(f, &fin));
	put_flow(f, &fin, BEA, VEER_CT_ESTABLISHED, 0);
	{	/* the reverse entry, as a promoted flow has it */
		struct veer_flow rk = fx_flow(&rst);
		struct veer_rnat rv;

		memset(&rv, 0, sizeof(rv));
		rv.vip = k.dst;
		rv.client = k.src;
		rv.vport = k.dport;
		rv.cport = k.sport;
		rv.backend_id = BEA;
		bpf_map_update_elem(f->rnat, &rk, &rv, BPF_ANY);
	}
	fx_step(f, &rst, FWD_OUT(&o2));
	FX_CHECK(f, ct_state(f, &fin) == VEER_CT_CLOSING, "RST: state %u", ct_state(f, &fin));
	/* A new SYN on the closed flow (port reuse) starts a half-open one. */
	fx_step(f, &syn, FWD_OUT(&o3));
	FX_CHECK(f, fx_ct_get(f, f->ctsyn, &k, &c) && !fx_ct_get(f, f->ct, &k, NULL),
		 "SYN on a closed flow did not start over");
}

/* Client's first non-SYN promotes a half-open flow (SYN-ACK not seen). */
static void case_promote_by_client(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), ack = to_vip(0, IPPROTO_TCP, F_ACK);
	struct pspec o1 = dnat_of(&syn, BE4A), o2 = dnat_of(&ack, BE4A);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK);
	struct veer_flow k = fx_flow(&syn), rk = fx_flow(&sa);

	setup_svc(f, 0, IPPROTO_TCP);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &ack, FWD_OUT(&o2));
	FX_CHECK(f, ct_state(f, &ack) == VEER_CT_ESTABLISHED, "not promoted");
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "half-open left");
	FX_CHECK(f, !fx_ct_get(f, f->rnsyn, &rk, NULL) && fx_ct_get(f, f->rnat, &rk, NULL),
		 "reverse entry not moved");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "one flow");
}

/* A SYN-ACK answers the half-open flow even when an established entry
 * with the same reply tuple is left from a reused client port to another
 * VIP of the same backend. */
static void case_synack_prefers_half_open(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK), o2 = rnat_of(&sa);
	struct veer_flow rk = fx_flow(&sa), k = fx_flow(&syn);
	struct veer_rnat stale;

	setup_svc(f, 0, IPPROTO_TCP);
	memset(&stale, 0, sizeof(stale));
	stale.vip = k.dst;
	stale.vip.v4 ^= htonl(0x01);	/* another VIP */
	stale.vport = htons(8081);
	stale.client = k.src;
	stale.cport = k.sport;
	stale.backend_id = BEA;
	bpf_map_update_elem(f->rnat, &rk, &stale, BPF_ANY);
	fx_step(f, &syn, FWD_OUT(&o1));
	fx_step(f, &sa, FWD_OUT(&o2));
	FX_CHECK(f, ct_state(f, &syn) == VEER_CT_ESTABLISHED, "not promoted by the SYN-ACK");
}

/* The reverse entry a promoted flow to backend be has. */
static void put_rnat(struct fx *f, const struct pspec *reply, const struct veer_flow *k,
		     uint32_t be)
{
	struct veer_flow rk = fx_flow(reply);
	struct veer_rnat rv;

	memset(&rv, 0, sizeof(rv));
	rv.vip = k->dst;
	rv.client = k->src;
	rv.vport = k->dport;
	rv.cport = k->sport;
	rv.backend_id = be;
	FX_CHECK(f, !bpf_map_update_elem(f->rnat, &rk, &rv, BPF_ANY), "put reverse entry");
}

/* A service with full NAT or IPIP backends: a SYN on a tuple that has an
 * established entry keeps that entry's backend (B, the table says A). */
static void case_syn_on_established(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), out = dnat_of(&syn, BE4B);
	struct veer_flow k = fx_flow(&syn);

	setup_svc(f, 0, IPPROTO_TCP);
	put_flow(f, &syn, BEB, VEER_CT_ESTABLISHED, 0);
	fx_step(f, &syn, FWD_OUT(&out));
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "went half-open");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 0, "counted as new");
}

/* A plain-DNAT service: a SYN does not look at the established entry a
 * reused port left (to B); it opens a half-open flow to A, and A's SYN-ACK
 * promotes it over the stale entry, whose reverse entry goes too. */
static void case_plain_syn_over_stale(struct fx *f)
{
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), o1 = dnat_of(&syn, BE4A);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK), o2 = rnat_of(&sa);
	struct pspec b_reply = from_be(0, IPPROTO_TCP, BE4B, F_ACK);
	struct veer_flow k = fx_flow(&syn), rk_b = fx_flow(&b_reply), rk_a = fx_flow(&sa);
	struct veer_syn_slot q;

	setup_svc(f, 0, IPPROTO_TCP);
	fx_svc(f, VIP4, VPORT, IPPROTO_TCP, SVC, VEER_SVC_F_PLAIN, TABLE_M);
	put_flow(f, &syn, BEB, VEER_CT_ESTABLISHED, 0);
	put_rnat(f, &b_reply, &k, BEB);

	fx_step(f, &syn, FWD_OUT(&o1));
	FX_CHECK(f, fx_synq_get(f, &k, &q) && q.backend_id == BEA, "no half-open flow to A");
	FX_CHECK(f, ct_backend(f, f->ct, &syn) == BEB, "the SYN touched the established map");
	fx_step(f, &sa, FWD_OUT(&o2));
	FX_CHECK(f, ct_backend(f, f->ct, &syn) == BEA && ct_state(f, &syn) == VEER_CT_ESTABLISHED,
		 "SYN-ACK did not promote over the stale entry");
	FX_CHECK(f, !fx_ct_get(f, f->rnat, &rk_b, NULL), "B's reverse entry left");
	FX_CHECK(f, fx_ct_get(f, f->rnat, &rk_a, NULL), "A's reverse entry missing");
	FX_CHECK(f, !fx_synq_get(f, &k, NULL), "half-open slot not freed");
}

/* A mid-stream packet without state is picked up (same Maglev choice). */
static void case_midstream6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_TCP, F_ACK), out = dnat_of(&in, BE6A);
	struct veer_flow k = fx_flow(&in);

	setup_svc(f, 1, IPPROTO_TCP);
	fx_step(f, &in, FWD_OUT(&out));
	FX_CHECK(f, ct_state(f, &in) == VEER_CT_ESTABLISHED, "not tracked as established");
	FX_CHECK(f, !fx_ct_get(f, f->ctsyn, &k, NULL), "put in half-open table");
}

/* 70000 SYNs (more than the half-open table holds) leave established
 * flows alone. */
static void case_syn_flood(struct fx *f)
{
	struct pspec est = to_vip(0, IPPROTO_TCP, F_ACK), out = dnat_of(&est, BE4B);
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN);
	uint8_t b[PKT_MAX], o[PKT_MAX];
	size_t n = pkt_build(&syn, b);
	uint32_t i;

	setup_svc(f, 0, IPPROTO_TCP);
	put_flow(f, &est, BEB, VEER_CT_ESTABLISHED, 0);
	for (i = 0; i < 70000; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b, .data_size_in = n,
			    .data_out = o, .data_size_out = sizeof(o), .repeat = 1);

		b[26 + 2] = 100 + (i >> 16);	/* source 10.200.x.y */
		b[26 + 3] = (i >> 8) & 0xff;
		b[34] = i & 0xff;		/* source port */
		if (bpf_prog_test_run_opts(f->prog_fd[f->prog], &t)) {
			fx_fail(f, "test_run failed");
			return;
		}
	}
	fx_events(f, f->nev, NULL);	/* none expected; just clear */
	FX_CHECK(f, ct_backend(f, f->ct, &est) == BEB, "established flow evicted by the flood");
	fx_step(f, &est, FWD_OUT(&out));
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 70000, "new flows %llu",
		 (unsigned long long)fx_svc_stats(f, SVC).new_flows);
}

const struct fx_case cases_ct[] = {
	{ "established flow keeps its backend when the table changes", case_keeps_backend },
	{ "established flow whose service id now names another VIP: not forwarded",
	  case_svc_id_reused },
	{ "TCP/IPv4 backend down: re-picked, reverse entry moved", case_repick_down },
	{ "UDP/IPv6 backend removed: re-picked", case_repick_removed6 },
	{ "UDP/IPv4 backend moved to another service: re-picked", case_repick_moved },
	{ "TCP/IPv6 draining backend keeps flows, takes no new ones", case_draining6 },
	{ "expired established entry is a miss", case_expired },
	{ "service UDP timeout overrides the global one", case_udp_timeout },
	{ "last_seen refreshed at most once a second", case_touch },
	{ "conntrack clock reads CLOCK_MONOTONIC within a tick", case_clock },
	{ "TCP/IPv6 FIN and RST close, new SYN starts over", case_closing6 },
	{ "TCP/IPv4 client's first non-SYN promotes a half-open flow", case_promote_by_client },
	{ "TCP/IPv4 SYN-ACK answers the half-open flow, not a stale one", case_synack_prefers_half_open },
	{ "TCP/IPv6 mid-stream packet without state is picked up", case_midstream6 },
	{ "SYN on an established tuple keeps its backend (NAT/IPIP service)",
	  case_syn_on_established },
	{ "plain DNAT: SYN skips a stale entry, its SYN-ACK promotes over it",
	  case_plain_syn_over_stale },
	{ "SYN flood evicts only half-open flows", case_syn_flood },
	{ NULL, NULL },
};
