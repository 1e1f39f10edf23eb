/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service packets: conntrack decides the backend (or Maglev for a new
 * flow), then DNAT and forward.
 *
 * Every packet but a pure SYN looks in conntrack first: an established
 * flow whose entry checks out (its service, found by id in
 * veer_svcmeta_v1, still has this VIP; not expired; its backend may keep
 * it) goes straight to the rewrite, without the service hash lookup
 * (lb_fast). Anything else looks the service up and takes lb_choose.
 *
 * TCP: a pure SYN without state opens a half-open entry, in its slot
 * (synq.h: plain-DNAT services) or in ctsyn/rnsyn, so a SYN flood can only
 * take slots and evict other half-open flows. The flow is promoted
 * to ct/rnat on the backend's SYN-ACK (reply.h) or on the client's first
 * non-SYN packet. A non-SYN packet without state (node restart, eviction)
 * is picked up again by Maglev, which gives the same backend.
 *
 * In a plain-DNAT service (VEER_SVC_F_PLAIN) a pure SYN does not look in
 * veer_ct_v1 at all: that lookup misses for every new flow, in the largest
 * and coldest map, and was the biggest single cost of a SYN. An entry a
 * reused client port left there is settled when the backend's SYN-ACK
 * (which always passes this node in plain DNAT, before the client's next
 * packet) promotes the flow over it (reply_to_syn).
 *
 * Full NAT backends (snat.h) also hold a source port: claimed with the
 * backend choice, kept in veer_ct.nat_port, released when the flow leaves
 * the backend or its conntrack entry ends. Their reverse entry is the
 * claim in veer_snat_v1, not veer_rnat_v1. IPIP backends (encap.h) keep
 * no reverse entry: their replies do not come back through this node.
 */
#ifndef VEER_BPF_LB_H
#define VEER_BPF_LB_H

#include "conntrack.h"
#include "encap.h"
#include "events.h"
#include "flowcache.h"
#include "fwd.h"
#include "maglev.h"
#include "nat.h"
#include "refuse.h"
#include "snat.h"
#include "synq.h"

struct lb_state {
	struct veer_svc *svc;	/* NULL on the fast path (lb_fast) */
	__u32 svc_id;
	struct veer_config *cfg;
	struct veer_backend *be;
	__u64 now;
	__u32 be_id;
	__be16 nat_port;	/* full NAT: the flow's source port */
	struct veer_syn_slot *q;	/* a free half-open slot for a new SYN */
	__u64 q_seen;		/* its stamp when seen free */
	__u32 mg0;		/* a plain SYN's Maglev slot, read ahead */
	__u8 has_mg0;
	__u8 claim_q;		/* claim q once the packet is on its way */
};

static __always_inline int be_full_nat(const struct veer_backend *be)
{
	return (be->flags & (VEER_BE_F_NAT_FULL | VEER_BE_F_ENCAP_IPIP)) == VEER_BE_F_NAT_FULL;
}

/* No source port left for a new full-NAT flow. */
static __always_inline int lb_exhausted(struct pkt *p, struct lb_state *s)
{
	p->reason = VEER_R_DROP_SNAT_EXHAUSTED;
	emit_event(VEER_EV_SNAT_EXHAUSTED, &p->flow, s->be_id, VEER_BACKEND_NONE, s->svc_id);
	return V_DROP;
}

/* The source port of the flow on s->be: 0 if it needs none or has one
 * (s->nat_port), -1 if none is free. */
static __always_inline int lb_claim(struct pkt *p, struct lb_state *s)
{
	if (!be_full_nat(s->be) || s->nat_port)
		return 0;
	s->nat_port = snat_claim(&p->flow, s->be, s->be_id, s->cfg);
	return s->nat_port ? 0 : -1;
}

/* Store the flow in a (conntrack, reverse) pair; full NAT and IPIP flows
 * have no entry in the reverse map (see above). */
static __always_inline void lb_store(void *ct_map, void *r_map, struct pkt *p,
				     struct lb_state *s, __u8 state, __u8 syns, __u64 created)
{
	struct veer_ct v = {
		.last_seen_ns = s->now,
		.created_ns = created,
		.backend_id = s->be_id,
		.svc_id = s->svc_id,
		.state = state,
		.syn_count = syns,
		.nat_port = s->nat_port,
	};

	if (be_plain(s->be)) {
		ct_store(ct_map, r_map, &p->flow, s->be_id, s->be, s->svc_id, state, syns,
			 created, s->now);
		return;
	}
	bpf_map_update_elem(ct_map, &p->flow, &v, BPF_ANY);
}

static __always_inline int lb_no_backend(struct pkt *p, struct lb_state *s)
{
	struct veer_svc_stats *ss = svc_stats(s->svc_id);

	if (ss)
		ss->no_backend++;
	p->reason = VEER_R_DROP_NO_BACKEND;
	return V_DROP;
}

/* Re-pick for a flow whose backend can no longer keep it. */
static __always_inline int lb_repick(struct pkt *p, struct lb_state *s, __u32 old_id)
{
	struct veer_svc_stats *ss;

	s->be_id = maglev_pick(s->svc, &p->flow, s->cfg->hash_seed, 0, old_id, &s->be, NULL);
	if (s->be_id == VEER_BACKEND_NONE)
		return -1;
	flowc_invalidate();	/* another CPU may have its old backend cached */
	ss = svc_stats(s->svc_id);
	if (ss)
		ss->repicks++;
	count_reason(VEER_R_REPICK);	/* an event counter, besides the verdict */
	emit_event(VEER_EV_REPICK, &p->flow, s->be_id, old_id, s->svc_id);
	return 0;
}

static __always_inline void lb_new_flow_stats(struct pkt *p, struct lb_state *s)
{
	struct veer_svc_stats *ss = svc_stats(s->svc_id);
	struct veer_be_stats *bs = be_stats(s->be_id);

	if (ss)
		ss->new_flows++;
	if (bs)
		bs->new_flows++;
	if (s->cfg->flags & VEER_CFG_F_FLOW_EVENTS)
		emit_event(VEER_EV_NEW_FLOW, &p->flow, s->be_id, VEER_BACKEND_NONE, s->svc_id);
}

/* A flow without (valid) state. */
static __always_inline int lb_new(void *ctx, enum vkind k, struct pkt *p,
				  struct lb_state *s)
{
	int tcp = p->flow.proto == IPPROTO_TCP;
	int syn = tcp && (p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	struct veer_svc_stats *ss;
	__u8 state;

	if (s->svc->flags & VEER_SVC_F_REFUSE) {
		ss = svc_stats(s->svc_id);
		if (ss)
			ss->refused++;
		p->reason = VEER_R_REFUSED;
		if (syn)
			return refuse_syn(ctx, k, p);
		return V_DROP;
	}
	if (s->svc->flags & VEER_SVC_F_EMPTY)
		return lb_no_backend(p, s);
	s->be_id = maglev_pick(s->svc, &p->flow, s->cfg->hash_seed, 0,
			       VEER_BACKEND_NONE, &s->be, s->has_mg0 ? &s->mg0 : NULL);
	if (s->be_id == VEER_BACKEND_NONE)
		return lb_no_backend(p, s);
	if (be_full_nat(s->be)) {
		/* A stray RST has no port to go out with. */
		if (tcp && (p->tcp_flags & TCP_RST) && !syn) {
			p->reason = VEER_R_DROP_NO_BACKEND;
			return V_DROP;
		}
		if (lb_claim(p, s))
			return lb_exhausted(p, s);
	}
	lb_new_flow_stats(p, s);

	if (syn) {
		/* A plain backend's flow in its free slot (lb_claim_slot), else
		 * the LRU pair. */
		if (s->q && be_plain(s->be))
			s->claim_q = 1;
		else
			lb_store(&veer_ctsyn_v1, &veer_rnsyn_v1, p, s, VEER_CT_SYN_SENT, 1, s->now);
		return V_CONT;
	}
	if (tcp && (p->tcp_flags & TCP_RST))
		return V_CONT;	/* forward a stray RST, keep no state for it */
	if (!tcp)
		state = VEER_CT_UDP;
	else if (p->tcp_flags & TCP_FIN)
		state = VEER_CT_CLOSING;
	else
		state = VEER_CT_ESTABLISHED;
	lb_store(&veer_ct_v1, &veer_rnat_v1, p, s, state, 0, s->now);
	return V_CONT;
}

/* The flow keeps its backend s->be, which its entry ct names; its
 * full-NAT source port follows the backend's mode. */
static __always_inline int lb_keep(struct pkt *p, struct lb_state *s, struct veer_ct *ct)
{
	s->be_id = ct->backend_id;
	s->nat_port = ct->nat_port;
	if (!be_full_nat(s->be)) {
		snat_release_ct(&p->flow, ct);	/* backend no longer full NAT */
		s->nat_port = 0;
	} else if (!s->nat_port) {	/* backend turned full NAT */
		if (lb_claim(p, s))
			return lb_exhausted(p, s);
		ct->nat_port = s->nat_port;
	}
	return V_CONT;
}

/* What the packet tells conntrack: a FIN or RST closes, else it is seen. */
static __always_inline void lb_ct_seen(struct pkt *p, struct lb_state *s, struct veer_ct *ct)
{
	if ((p->tcp_flags & (TCP_FIN | TCP_RST)) && ct->state == VEER_CT_ESTABLISHED) {
		ct->state = VEER_CT_CLOSING;
		ct->last_seen_ns = s->now;
	} else {
		ct_touch(ct, s->now);
	}
}

/* An established (or UDP) flow found in veer_ct_v1. */
static __always_inline int lb_established(struct pkt *p, struct lb_state *s,
					  struct veer_ct *ct)
{
	__u32 old_id = ct->backend_id;
	int v;

	s->be = NULL;
	if (ct->svc_id == s->svc_id)
		s->be = be_keepable(old_id, s->svc_id, p->flow.family);
	if (s->be) {
		v = lb_keep(p, s, ct);
		if (v != V_CONT)
			return v;
	} else {
		if (lb_repick(p, s, old_id))
			return lb_no_backend(p, s);
		rnat_forget(&veer_rnat_v1, &p->flow, old_id);
		snat_release_ct(&p->flow, ct);
		if (lb_claim(p, s)) {
			bpf_map_delete_elem(&veer_ct_v1, &p->flow);
			return lb_exhausted(p, s);
		}
		lb_store(&veer_ct_v1, &veer_rnat_v1, p, s, ct->state, 0, ct->created_ns);
		ct = bpf_map_lookup_elem(&veer_ct_v1, &p->flow);
		if (!ct)
			return V_CONT;
	}
	lb_ct_seen(p, s, ct);
	return V_CONT;
}

/* Forget a half-open flow's state: its slot, or its LRU pair. */
static __always_inline void lb_half_open_drop(struct pkt *p, struct veer_syn_slot *q,
					      __u32 old_id)
{
	if (q) {
		synq_free(q);
		return;
	}
	rnat_forget(&veer_rnsyn_v1, &p->flow, old_id);
	bpf_map_delete_elem(&veer_ctsyn_v1, &p->flow);
}

/* A TCP flow with half-open state hs (SYN forwarded, no answer seen), kept
 * in slot q or (q NULL) in veer_ctsyn_v1. */
static __always_inline int lb_half_open(struct pkt *p, struct lb_state *s,
					const struct veer_ct *hs, struct veer_syn_slot *q)
{
	int syn = (p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	__u32 old_id = hs->backend_id;
	struct veer_ct v = *hs;
	int moved = 0;

	s->be = NULL;
	if (v.svc_id == s->svc_id)
		s->be = be_keepable(old_id, s->svc_id, p->flow.family);
	s->be_id = old_id;
	s->nat_port = v.nat_port;

	if (syn) {
		/* The client retransmits: the backend never answered. */
		emit_event(VEER_EV_SYN_RETRANS, &p->flow, old_id, VEER_BACKEND_NONE, s->svc_id);
		be_count_fail(old_id);
		if (v.syn_count < 255)
			v.syn_count++;
		if (s->be && s->cfg->syn_retry_resteer) {
			struct veer_backend *nbe = NULL;
			__u32 nid;

			/* Re-steer: the client's own retransmission is the retry. */
			nid = maglev_pick(s->svc, &p->flow, s->cfg->hash_seed,
					  v.syn_count, old_id, &nbe, NULL);
			if (nid != VEER_BACKEND_NONE) {
				s->be_id = nid;
				s->be = nbe;
				moved = 1;
			}
		}
	}
	if (!s->be) {
		if (lb_repick(p, s, old_id))
			return lb_no_backend(p, s);
		moved = 1;
	}
	if (moved) {
		/* The old backend's port goes back; the new one gets its own. */
		snat_release(&p->flow, old_id, v.nat_port);
		s->nat_port = 0;
	}
	if (!be_full_nat(s->be) && s->nat_port) {
		snat_release(&p->flow, s->be_id, s->nat_port);
		s->nat_port = 0;
	}
	if (lb_claim(p, s)) {
		lb_half_open_drop(p, q, old_id);
		return lb_exhausted(p, s);
	}
	if (syn && q) {
		q->stamp_ns = s->now;
		q->backend_id = s->be_id;
		q->syn_count = v.syn_count;
		return V_CONT;
	}
	if (syn) {
		if (moved)
			rnat_forget(&veer_rnsyn_v1, &p->flow, old_id);
		lb_store(&veer_ctsyn_v1, &veer_rnsyn_v1, p, s, VEER_CT_SYN_SENT, v.syn_count,
			 v.created_ns);
		return V_CONT;
	}
	/* The client's first non-SYN: the handshake is done, promote. */
	lb_half_open_drop(p, q, old_id);
	lb_store(&veer_ct_v1, &veer_rnat_v1, p, s,
		 (p->tcp_flags & (TCP_FIN | TCP_RST)) ? VEER_CT_CLOSING : VEER_CT_ESTABLISHED,
		 0, v.created_ns);
	return V_CONT;
}

/* The half-open state of a TCP flow without an established entry: its
 * slot (plain-DNAT services), else veer_ctsyn_v1; copied to *v, with the
 * slot in *q. 0 if there is none. A pure SYN whose slot is free skips
 * veer_ctsyn_v1 (synq.h) and leaves the slot in s->q for lb_new. */
static __always_inline int lb_find_half_open(struct pkt *p, struct lb_state *s, int syn,
					     struct veer_ct *v, struct veer_syn_slot **q)
{
	struct veer_syn_slot *slot = NULL;
	struct veer_ct *ct;

	*q = NULL;
	if (s->svc->flags & VEER_SVC_F_PLAIN)
		slot = synq_slot(&p->flow.src, p->flow.sport);
	if (slot && synq_live(slot, s->now, s->cfg)) {
		if (synq_is_flow(slot, &p->flow)) {
			veer_syn_slot_ct(slot, v);
			*q = slot;
			return 1;
		}
	} else if (slot && syn) {
		s->q = slot;
		s->q_seen = slot->stamp_ns;
		return 0;
	}
	ct = bpf_map_lookup_elem(&veer_ctsyn_v1, &p->flow);
	if (!ct)
		return 0;
	if (ct_expired(ct, s->now, s->cfg, 0)) {
		snat_release_ct(&p->flow, ct);
		return 0;
	}
	*v = *ct;
	return 1;
}

/* Choose the backend of a service packet: V_CONT with s->be set, or a
 * verdict. ct: the packet's entry in veer_ct_v1 if the caller looked
 * (every packet but a pure SYN), else NULL. */
static __always_inline int lb_choose(void *ctx, enum vkind k, struct pkt *p,
				     struct lb_state *s, struct veer_ct *ct)
{
	int tcp = p->flow.proto == IPPROTO_TCP;
	int syn = tcp && (p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	__u32 udp_s = s->svc->udp_timeout_s;

	if (syn && !(s->svc->flags & VEER_SVC_F_PLAIN))
		ct = bpf_map_lookup_elem(&veer_ct_v1, &p->flow);
	if (ct && !ct_expired(ct, s->now, s->cfg, udp_s)) {
		if (!(syn && ct->state == VEER_CT_CLOSING))
			return lb_established(p, s, ct);
		/* A new SYN on a closed flow: the port is reused. */
		rnat_forget(&veer_rnat_v1, &p->flow, ct->backend_id);
		snat_release_ct(&p->flow, ct);
		bpf_map_delete_elem(&veer_ct_v1, &p->flow);
		flowc_invalidate();
	} else if (ct) {
		snat_release_ct(&p->flow, ct);	/* expired: its port goes back */
		flowc_invalidate();	/* and the entry is replaced */
	}
	if (tcp) {
		struct veer_syn_slot *q;
		struct veer_ct hs;

		/* Its Maglev slot's read overlaps the half-open slot's. */
		if (syn && (s->svc->flags & VEER_SVC_F_PLAIN))
			s->has_mg0 = !maglev_first(s->svc, &p->flow, s->cfg->hash_seed, &s->mg0);
		if (lb_find_half_open(p, s, syn, &hs, &q))
			return lb_half_open(p, s, &hs, q);
	}
	return lb_new(ctx, k, p, s);
}

/* The fast path of an established flow: its entry, its service found by
 * id (no hash lookup by VIP), not expired, its backend keeping it. NULL
 * with s->be NULL when any of that fails: lb_choose decides then. */
static __always_inline struct veer_ct *lb_fast(struct pkt *p, struct lb_state *s,
					       struct veer_ct *ct)
{
	struct veer_svc_meta *m;

	if (!ct)
		return NULL;
	m = svc_by_id(p, ct->svc_id);
	if (!m || ct_expired(ct, s->now, s->cfg, m->udp_timeout_s))
		return NULL;
	s->be = be_keepable(ct->backend_id, ct->svc_id, p->flow.family);
	if (!s->be)
		return NULL;
	s->svc_id = ct->svc_id;
	return ct;
}

/* The backend of an established flow from the flow cache (flowcache.h):
 * 1 with s->be set if slot c holds the flow and its backend may still
 * keep it, as lb_fast checks it. The service is not looked at: one that
 * loses its VIP (removed, moved) bumps the cache's generation. */
static __always_inline int lb_cached(struct pkt *p, struct lb_state *s,
				     const struct veer_flow_cache *c, __u32 gen)
{
	struct veer_backend *be;

	if (!flowc_hit(c, p, s->now, gen))
		return 0;
	be = be_keepable(c->backend_id, c->svc_id, p->flow.family);
	if (!be || !be_plain(be))
		return 0;
	s->be = be;
	s->be_id = c->backend_id;
	s->svc_id = c->svc_id;
	return 1;
}

/* A new SYN's half-open slot, claimed last: the compare-and-swap is a
 * full barrier on x86, so issued where lb_new decides it would hold the
 * rest of the packet's work until the slot's (likely cold) line arrives;
 * issued after the rewrite and the route, it finds the line there (read
 * by lb_find_half_open). A lost race stores flow f (as the client sent
 * it) in the LRU pair, as a held slot does. */
static __always_inline void lb_claim_slot(struct lb_state *s, const struct veer_flow *f)
{
	if (synq_claim(s->q, s->q_seen, f, s->be_id, s->svc_id, s->now))
		ct_store(&veer_ctsyn_v1, &veer_rnsyn_v1, f, s->be_id, s->be, s->svc_id,
			 VEER_CT_SYN_SENT, 1, s->now, s->now);
}

/* A packet to a service port: V_NOT_SVC if it is not for a service,
 * else its verdict. */
static __always_inline int svc_packet(void *ctx, enum vkind k, struct pkt *p)
{
	int syn = p->flow.proto == IPPROTO_TCP &&
		  (p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	struct lb_state s = {};
	struct veer_svc_stats *ss;
	struct veer_be_stats *bs;
	struct veer_ct *ct = NULL, *fast = NULL;
	struct veer_flow_cache *fc = NULL;
	__u32 gen = 0;
	int v, cached = 0;

	s.cfg = cfg_get();
	if (!s.cfg)
		return V_NOT_SVC;
	s.now = flow_clock_ns();
	if (flowc_may_serve(p, s.cfg)) {
		gen = flowc_gen();	/* before conntrack: see flowcache.h */
		fc = flowc_slot(p);
		cached = lb_cached(p, &s, fc, gen);
	}
	/* Every packet but a pure SYN looks in conntrack first: an
	 * established flow then needs no service lookup (lb.h, top). */
	if (!cached) {
		if (!syn)
			ct = bpf_map_lookup_elem(&veer_ct_v1, &p->flow);
		fast = lb_fast(p, &s, ct);
		if (!fast) {
			s.svc = svc_lookup(p);
			if (!s.svc)
				return V_NOT_SVC;
			s.svc_id = s.svc->id;
		}
	}
	/* Before any state changes: tc will see this packet again. */
	if (k == VK_XDP && l4_csum_looks_partial(ctx, k, p)) {
		p->reason = VEER_R_XDP_DEFER_CSUM;
		return V_PASS;
	}
	ss = svc_stats(s.svc_id);
	if (ss) {
		ss->packets++;
		ss->bytes += p->len;
	}
	if (cached) {
		v = V_CONT;
	} else if (fast) {
		v = lb_keep(p, &s, fast);
		if (v == V_CONT) {
			lb_ct_seen(p, &s, fast);
			if (fc && be_plain(s.be) && (fast->state == VEER_CT_ESTABLISHED ||
						     fast->state == VEER_CT_UDP))
				flowc_fill(fc, p, s.be_id, s.svc_id, s.now, gen);
		}
	} else {
		v = lb_choose(ctx, k, p, &s, ct);
	}
	if (v != V_CONT)
		return v;
	if (!s.be)
		return V_DROP;
	bs = be_stats(s.be_id);
	if (bs) {
		bs->packets++;
		bs->bytes += p->len;
	}
	if (s.be->flags & VEER_BE_F_ENCAP_IPIP)
		return encap_packet(ctx, k, p, s.be);
	if (s.claim_q) {	/* a plain backend: only the destination changes */
		struct veer_flow sent = p->flow;

		if (nat_rewrite(ctx, k, p, NAT_DST, &s.be->addr, s.be->port))
			v = V_DROP;
		else
			v = fwd_packet(ctx, k, p, VEER_R_FWD, s.be_id, s.now);
		lb_claim_slot(&s, &sent);
		return v;
	}
	if (nat_rewrite(ctx, k, p, NAT_DST, &s.be->addr, s.be->port))
		return V_DROP;
	if (be_full_nat(s.be) && nat_rewrite(ctx, k, p, NAT_SRC, &s.be->snat, s.nat_port))
		return V_DROP;
	return fwd_packet(ctx, k, p, VEER_R_FWD, s.be_id, s.now);
}

#endif
