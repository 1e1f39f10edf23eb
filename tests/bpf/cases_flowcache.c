// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The established-flow cache (bpf/lib/flowcache.h). To see whether a packet
 * was served from the cache, a case removes the flow's conntrack entry
 * behind the datapath's back (nothing real does that without bumping the
 * generation): served from the cache, the packet goes to the cached
 * backend and conntrack stays empty; through conntrack, the flow is picked
 * up again as a new mid-stream flow (the table says A) and gets an entry.
 * Replies the same way with their reverse entry: from the cache, a reply
 * is still translated; through veer_rnat_v1 it is no reply any more.
 * The runner is pinned to one CPU, so a step sees the previous step's
 * per-CPU entries.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cases.h"
#include "dpmaps.h"

static uint32_t flow_gen(struct fx *f)
{
	uint32_t zero = 0, gen = 0;

	bpf_map_lookup_elem(f->flowgen, &zero, &gen);
	return gen;
}

/* The flow's slot on every CPU (free() it), or NULL after a failure. */
static struct veer_flow_cache *read_slots(struct fx *f, const struct veer_flow *k)
{
	return fx_percpu_read(f, f->flowc, veer_flowc_index(k), sizeof(struct veer_flow_cache));
}

/* Does an entry of this generation in cache fd (f->flowc, f->replyc) hold
 * packet s's flow (to backend *be) on any CPU? (Older ones are left from
 * earlier cases.) */
static bool cached_in(struct fx *f, int fd, const struct pspec *s, uint32_t *be)
{
	struct veer_flow k = fx_flow(s);
	uint32_t slot = fd == f->flowc ? veer_flowc_index(&k) : veer_replyc_index(&k);
	struct veer_flow_cache *all = fx_percpu_read(f, fd, slot, sizeof(*all));
	uint32_t gen = flow_gen(f);
	bool found = false;
	int i;

	for (i = 0; all && i < f->ncpu && !found; i++) {
		found = all[i].gen == gen && !memcmp(&all[i].flow, &k, sizeof(k));
		if (found && be)
			*be = all[i].backend_id;
	}
	free(all);
	return found;
}

static bool cached(struct fx *f, const struct pspec *s, uint32_t *be)
{
	return cached_in(f, f->flowc, s, be);
}

/* Age flow k's entries by ns on every CPU. */
static void age_slots(struct fx *f, const struct pspec *s, uint64_t ns)
{
	struct veer_flow k = fx_flow(s);
	uint32_t slot = veer_flowc_index(&k);
	struct veer_flow_cache *all = read_slots(f, &k);
	int i;

	for (i = 0; all && i < f->ncpu; i++)
		all[i].filled_ns -= ns;
	if (!all || bpf_map_update_elem(f->flowc, &slot, all, BPF_ANY))
		fx_fail(f, "age the flow cache");
	free(all);
}

/* An established flow to B (the table says A) of a service with
 * svc_flags, its first packet seen. */
static void cached_flow_to_b(struct fx *f, const struct pspec *in, uint32_t svc_flags)
{
	struct veer_flow k = fx_flow(in);
	struct veer_ct c;
	struct pspec out = dnat_of(in, in->v6 ? BE6B : BE4B);
	uint32_t be = 0;

	setup_svc(f, in->v6, in->proto);
	fx_svc(f, VIP(in->v6), VPORT, in->proto, SVC, svc_flags, TABLE_M);
	memset(&c, 0, sizeof(c));
	c.backend_id = BEB;
	c.svc_id = SVC;
	c.state = in->proto == IPPROTO_UDP ? VEER_CT_UDP : VEER_CT_ESTABLISHED;
	c.last_seen_ns = c.created_ns = fx_now_ns();
	fx_ct_put(f, f->ct, &k, &c);
	fx_step(f, in, FWD_OUT(&out));
	FX_CHECK(f, cached(f, in, &be) && be == BEB, "first packet did not fill the cache");
}

/* Served from the cache while conntrack is gone; a flush (generation)
 * ends that. */
static void check_hit_then_flush(struct fx *f, const struct pspec *in)
{
	struct veer_flow k = fx_flow(in);
	struct pspec to_b = dnat_of(in, in->v6 ? BE6B : BE4B);
	struct pspec to_a = dnat_of(in, in->v6 ? BE6A : BE4A);

	cached_flow_to_b(f, in, 0);
	FX_CHECK(f, !bpf_map_delete_elem(f->ct, &k), "remove the conntrack entry");
	fx_step(f, in, FWD_OUT(&to_b));
	FX_CHECK(f, !fx_ct_get(f, f->ct, &k, NULL), "second packet went through conntrack");
	FX_CHECK(f, fx_svc_stats(f, SVC).packets == 2 && fx_be_stats(f, BEB).packets == 2,
		 "a cached packet is counted like any other");
	FX_CHECK(f, !dp_gen_bump(f->flowgen), "bump the generation");
	fx_step(f, in, FWD_OUT(&to_a));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, NULL), "after the bump: not picked up again");
	FX_CHECK(f, fx_svc_stats(f, SVC).new_flows == 1, "new flows %llu",
		 (unsigned long long)fx_svc_stats(f, SVC).new_flows);
}

static void case_hit_tcp4(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK | F_PSH);

	check_hit_then_flush(f, &in);
}

static void case_hit_udp6(struct fx *f)
{
	struct pspec in = to_vip(1, IPPROTO_UDP, 0);

	check_hit_then_flush(f, &in);
}

/* An entry older than VEER_FLOWC_LIFETIME_NS sends the packet to
 * conntrack, which keeps last_seen and expiry decided there. */
static void case_lifetime(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), to_a = dnat_of(&in, BE4A);
	struct veer_flow k = fx_flow(&in);

	cached_flow_to_b(f, &in, 0);
	age_slots(f, &in, VEER_FLOWC_LIFETIME_NS + 1000000);
	FX_CHECK(f, !bpf_map_delete_elem(f->ct, &k), "remove the conntrack entry");
	fx_step(f, &in, FWD_OUT(&to_a));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, NULL), "an old entry was used");
}

/* B fails: the packet re-picks A (the cached entry says B, B may not keep
 * it). B comes back: the flow stays on A. Without the re-pick's
 * generation bump, another CPU's (here: this CPU's) entry for B would
 * still be young and B keepable again. */
static void case_repick_invalidates(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), to_a = dnat_of(&in, BE4A);
	uint32_t gen;

	cached_flow_to_b(f, &in, 0);
	gen = flow_gen(f);
	fx_backend_state(f, BEB, VEER_BE_DOWN);
	fx_step(f, &in, EXP2(FX_PASS, &to_a, VEER_R_PASS_FIB_FAIL, VEER_R_REPICK));
	FX_CHECK(f, flow_gen(f) == gen + 1, "re-pick did not bump the generation");
	fx_backend_state(f, BEB, VEER_BE_ACTIVE);
	fx_step(f, &in, FWD_OUT(&to_a));
	fx_step(f, &in, FWD_OUT(&to_a));
}

/* FIN and RST change conntrack state: never served from the cache. */
static void case_fin_not_cached(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), fin = to_vip(0, IPPROTO_TCP, F_ACK | F_FIN);
	struct pspec to_b = dnat_of(&fin, BE4B);
	struct veer_flow k = fx_flow(&in);
	struct veer_ct c;

	cached_flow_to_b(f, &in, 0);
	fx_step(f, &fin, FWD_OUT(&to_b));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.state == VEER_CT_CLOSING,
		 "FIN did not reach conntrack");
}

/* A reused client port: a plain SYN opens a half-open flow to A while the
 * old connection (to B) is cached; A's SYN-ACK promotes over B's entry and
 * must invalidate the cache, or the client's next packet goes to B. */
static void case_port_reuse(struct fx *f)
{
	struct pspec ack = to_vip(0, IPPROTO_TCP, F_ACK), syn = to_vip(0, IPPROTO_TCP, F_SYN);
	struct pspec sa = from_be(0, IPPROTO_TCP, BE4A, F_SYN | F_ACK);
	struct pspec o_syn = dnat_of(&syn, BE4A), o_sa = rnat_of(&sa), to_a = dnat_of(&ack, BE4A);
	uint32_t gen;

	cached_flow_to_b(f, &ack, VEER_SVC_F_PLAIN);
	gen = flow_gen(f);
	fx_step(f, &syn, FWD_OUT(&o_syn));
	fx_step(f, &sa, FWD_OUT(&o_sa));
	FX_CHECK(f, flow_gen(f) == gen + 1, "promotion over B's entry did not bump");
	fx_step(f, &ack, FWD_OUT(&to_a));
}

/* Full NAT and IPIP flows keep a source port or go elsewhere: not cached. */
static void case_full_nat_not_cached(struct fx *f)
{
	struct veer_config c = { .hash_seed = SEED, .snat_port_lo = 20000, .snat_port_hi = 20000 };
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out = in;

	setup_svc(f, 0, IPPROTO_TCP);
	fx_cfg_set(f, &c);
	fx_remote_backend(f, BEA, "10.200.6.1", 80, VEER_BE_F_NAT_FULL, "10.200.5.1");
	out.src = "10.200.5.1";
	out.sport = 20000;
	out.dst = "10.200.6.1";
	out.dport = 80;
	fx_step(f, &in, FWD_OUT(&out));
	fx_step(f, &in, FWD_OUT(&out));
	FX_CHECK(f, !cached(f, &in, NULL), "a full-NAT flow was cached");
}

/* conntrack.flow_cache: false (VEER_CFG_F_NO_FLOW_CACHE). */
static void case_off(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_UDP, 0), out = dnat_of(&in, BE4A);

	setup_svc(f, 0, IPPROTO_UDP);
	fx_cfg(f, SEED, VEER_CFG_F_NO_FLOW_CACHE, 0);
	fx_step(f, &in, FWD_OUT(&out));
	fx_step(f, &in, FWD_OUT(&out));
	FX_CHECK(f, !cached(f, &in, NULL), "cached with the cache off");
}

/* The service's id now names another VIP (veerd bumps the generation when
 * a service moves): the cached flow to the old VIP is not forwarded. */
static void case_service_moved(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK);
	struct veer_flow fl = fx_flow(&in);
	struct veer_svc_key k = { .vip = fl.dst, .port = fl.dport, .proto = IPPROTO_TCP,
				  .family = fl.family };

	cached_flow_to_b(f, &in, 0);
	FX_CHECK(f, !bpf_map_delete_elem(f->svc, &k), "remove the service");
	fx_svc(f, "10.200.100.2", VPORT, IPPROTO_TCP, SVC, 0, TABLE_M);
	fx_step(f, &in, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

/* An established flow to A whose backend's reply was seen once. */
static void cached_reply(struct fx *f, int v6, uint8_t proto, const struct pspec *reply)
{
	struct pspec in = to_vip(v6, proto, proto == IPPROTO_TCP ? F_ACK : 0);
	struct pspec out = dnat_of(&in, BEA_ADDR(v6)), back = rnat_of(reply);
	uint32_t be = 0;

	setup_svc(f, v6, proto);
	fx_step(f, &in, FWD_OUT(&out));		/* picked up: conntrack + reverse entry */
	fx_step(f, reply, FWD_OUT(&back));
	FX_CHECK(f, cached_in(f, f->replyc, reply, &be) && be == BEA,
		 "the reply did not fill the reply cache");
}

/* A reply served from the cache while its reverse entry is gone; a flush
 * (generation) ends that. */
static void check_reply_hit(struct fx *f, int v6, uint8_t proto)
{
	struct pspec reply = from_be(v6, proto, BEA_ADDR(v6), proto == IPPROTO_TCP ? F_ACK : 0);
	struct pspec back = rnat_of(&reply);
	struct veer_flow rk = fx_flow(&reply);

	cached_reply(f, v6, proto, &reply);
	FX_CHECK(f, !bpf_map_delete_elem(f->rnat, &rk), "remove the reverse entry");
	fx_step(f, &reply, FWD_OUT(&back));
	FX_CHECK(f, fx_be_stats(f, BEA).reply_packets == 2, "a cached reply is counted");
	FX_CHECK(f, !dp_gen_bump(f->flowgen), "bump the generation");
	fx_step(f, &reply, EXP(FX_PASS, NULL, VEER_R_PASS_NOT_SERVICE));
}

static void case_reply_hit_tcp6(struct fx *f)
{
	check_reply_hit(f, 1, IPPROTO_TCP);
}

static void case_reply_hit_udp4(struct fx *f)
{
	check_reply_hit(f, 0, IPPROTO_UDP);
}

/* The backend's FIN closes the flow in conntrack: never from the cache. */
static void case_reply_fin(struct fx *f)
{
	struct pspec reply = from_be(0, IPPROTO_TCP, BE4A, F_ACK);
	struct pspec fin = from_be(0, IPPROTO_TCP, BE4A, F_ACK | F_FIN), back = rnat_of(&fin);
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK);
	struct veer_flow k = fx_flow(&in);
	struct veer_ct c;

	cached_reply(f, 0, IPPROTO_TCP, &reply);
	fx_step(f, &fin, FWD_OUT(&back));
	FX_CHECK(f, fx_ct_get(f, f->ct, &k, &c) && c.state == VEER_CT_CLOSING,
		 "the backend's FIN did not reach conntrack");
}

/* The client's port is reused towards another VIP served by the same
 * backend address (a second service): the new flow's SYN-ACK writes the
 * reverse entry over the cached one and must invalidate it, or the
 * backend's next reply leaves with the old VIP. */
static void case_reply_tuple_reused(struct fx *f)
{
	struct pspec reply = from_be(0, IPPROTO_TCP, BE4A, F_ACK);
	struct pspec syn = to_vip(0, IPPROTO_TCP, F_SYN), sa = from_be(0, IPPROTO_TCP, BE4A,
									 F_SYN | F_ACK);
	struct pspec o_syn, o_sa = sa, back1 = rnat_of(&reply), back2 = reply;
	uint32_t gen;

	cached_reply(f, 0, IPPROTO_TCP, &reply);
	fx_svc(f, "10.200.100.2", VPORT, IPPROTO_TCP, 2, VEER_SVC_F_PLAIN, TABLE_M);
	fx_backend(f, 3, BE4A, BPORT, 2, VEER_BE_ACTIVE);
	fx_table_fill(f, 2, TABLE_M, 3);
	fx_step(f, &reply, FWD_OUT(&back1));	/* cached again (fx_svc bumped) */
	FX_CHECK(f, cached_in(f, f->replyc, &reply, NULL), "reply not cached");
	syn.dst = "10.200.100.2";
	o_syn = dnat_of(&syn, BE4A);
	gen = flow_gen(f);
	fx_step(f, &syn, FWD_OUT(&o_syn));
	o_sa.src = "10.200.100.2";
	o_sa.sport = VPORT;
	fx_step(f, &sa, FWD_OUT(&o_sa));
	FX_CHECK(f, flow_gen(f) == gen + 1, "reverse entry written over: no new generation");
	back2.src = "10.200.100.2";
	back2.sport = VPORT;
	fx_step(f, &reply, FWD_OUT(&back2));
}

const struct fx_case cases_flowcache[] = {
	{ "TCP/IPv4 established flow served from the flow cache until a flush", case_hit_tcp4 },
	{ "UDP/IPv6 flow served from the flow cache until a flush", case_hit_udp6 },
	{ "flow cache entry past its lifetime: conntrack decides", case_lifetime },
	{ "re-pick invalidates cached flows: back on its feet, B does not get them back",
	  case_repick_invalidates },
	{ "FIN goes to conntrack, not the flow cache", case_fin_not_cached },
	{ "reused port: SYN-ACK promotion over the cached flow invalidates it", case_port_reuse },
	{ "full-NAT flows are not cached", case_full_nat_not_cached },
	{ "flow cache off: nothing cached", case_off },
	{ "cached flow to a VIP its service no longer has: not forwarded", case_service_moved },
	{ "TCP/IPv6 reply served from the reply cache until a flush", case_reply_hit_tcp6 },
	{ "UDP/IPv4 reply served from the reply cache until a flush", case_reply_hit_udp4 },
	{ "backend's FIN goes to conntrack, not the reply cache", case_reply_fin },
	{ "reply tuple reused towards another VIP: the cached reply is invalidated",
	  case_reply_tuple_reused },
	{ NULL, NULL },
};
