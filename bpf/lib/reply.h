/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Replies from backends: found by their tuple in veer_rnat_v1 (or, for the
 * answer to a forwarded SYN, its half-open slot or veer_rnsyn_v1, synq.h);
 * the source becomes VIP:vport
 * again. The answer to a SYN promotes the flow (SYN-ACK) or is a passive
 * failure signal (RST).
 *
 * Replies to full-NAT flows arrive at the node's address and allocated
 * port (src = gateway, dst = snat:nport) and are found in veer_snat_v1:
 * the source becomes VIP:vport and the destination client:cport.
 */
#ifndef VEER_BPF_REPLY_H
#define VEER_BPF_REPLY_H

#include "conntrack.h"
#include "events.h"
#include "fwd.h"
#include "nat.h"
#include "snat.h"
#include "synq.h"

/* Forget the half-open state the reply answered: slot q, or the pair. */
static __always_inline void reply_half_open_drop(struct pkt *p, const struct veer_flow *cf,
						 struct veer_syn_slot *q)
{
	if (q) {
		synq_free(q);
		return;
	}
	bpf_map_delete_elem(&veer_ctsyn_v1, cf);
	bpf_map_delete_elem(&veer_rnsyn_v1, &p->flow);
}

/* The backend answered a forwarded SYN, whose half-open state is in slot
 * q or (q NULL) in veer_ctsyn_v1. */
static __always_inline void reply_to_syn(struct pkt *p, const struct veer_rnat *rn,
					 struct veer_syn_slot *q, __u64 now)
{
	struct veer_flow cf;
	struct veer_ct *hs, *old;
	struct veer_ct v = {}, qv;

	flow_of_rnat(&cf, rn, p->flow.proto, p->flow.family);
	hs = NULL;
	if (q) {
		veer_syn_slot_ct(q, &qv);
		hs = &qv;
	}
	if (p->tcp_flags & TCP_RST) {
		if (!q)
			hs = bpf_map_lookup_elem(&veer_ctsyn_v1, &cf);
		emit_event(VEER_EV_RST_ON_SYN, &cf, rn->backend_id, VEER_BACKEND_NONE,
			   hs ? hs->svc_id : VEER_BACKEND_NONE);
		be_count_fail(rn->backend_id);
		reply_half_open_drop(p, &cf, q);
		return;
	}
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK))
		return;
	if (!q)
		hs = bpf_map_lookup_elem(&veer_ctsyn_v1, &cf);
	if (hs) {
		v = *hs;
	} else {	/* half-open entry aged out: rebuild it */
		struct veer_backend *be;
		__u32 id = rn->backend_id;

		be = bpf_map_lookup_elem(&veer_be_v1, &id);
		v.svc_id = be ? be->svc_id : VEER_BACKEND_NONE;
		v.backend_id = id;
		v.created_ns = now;
	}
	v.state = VEER_CT_ESTABLISHED;
	v.syn_count = 0;
	v.last_seen_ns = now;
	/* A reused client port may have left an entry towards another backend
	 * (lb.h: plain SYNs do not look): its reverse entry goes too. The
	 * insert says whether there is one, which saves a (cold) lookup of
	 * the largest map on every handshake. */
	if (bpf_map_update_elem(&veer_ct_v1, &cf, &v, BPF_NOEXIST)) {
		old = bpf_map_lookup_elem(&veer_ct_v1, &cf);
		if (old && old->backend_id != v.backend_id)
			rnat_forget(&veer_rnat_v1, &cf, old->backend_id);
		bpf_map_update_elem(&veer_ct_v1, &cf, &v, BPF_ANY);
		flowc_invalidate();	/* the old flow may be cached */
	}
	rnat_put(&veer_rnat_v1, &p->flow, rn);
	reply_half_open_drop(p, &cf, q);
}

/* FIN or RST from the backend on an established flow. */
static __always_inline void reply_closing(struct pkt *p, const struct veer_rnat *rn, __u64 now)
{
	struct veer_flow cf;
	struct veer_ct *ct;

	flow_of_rnat(&cf, rn, p->flow.proto, p->flow.family);
	ct = bpf_map_lookup_elem(&veer_ct_v1, &cf);
	if (ct && ct->state == VEER_CT_ESTABLISHED) {
		ct->state = VEER_CT_CLOSING;
		ct->last_seen_ns = now;
	}
}

/* The gateway answered a full-NAT flow's SYN: promote it, or (RST) the
 * failure signal, and the port goes back. */
static __always_inline void snat_reply_to_syn(struct pkt *p, const struct veer_rnat *rn,
					      const struct veer_flow *cf, __u64 now)
{
	struct veer_ct *hs = bpf_map_lookup_elem(&veer_ctsyn_v1, cf);
	struct veer_ct v;

	if (!hs || hs->backend_id != rn->backend_id || hs->nat_port != p->flow.dport)
		return;
	if (p->tcp_flags & TCP_RST) {
		emit_event(VEER_EV_RST_ON_SYN, cf, rn->backend_id, VEER_BACKEND_NONE, hs->svc_id);
		be_count_fail(rn->backend_id);
		bpf_map_delete_elem(&veer_ctsyn_v1, cf);
		bpf_map_delete_elem(&veer_snat_v1, &p->flow);
		return;
	}
	v = *hs;
	v.state = VEER_CT_ESTABLISHED;
	v.syn_count = 0;
	v.last_seen_ns = now;
	flowc_map_put(&veer_ct_v1, cf, &v);
	bpf_map_delete_elem(&veer_ctsyn_v1, cf);
}

/* A reply found in a reverse map: copied out (the entry may be deleted
 * on the way) and counted. Non-zero: XDP leaves it to tc (partial csum). */
static __always_inline int reply_take(void *ctx, enum vkind k, struct pkt *p,
				      const struct veer_rnat *found, struct veer_rnat *rn)
{
	struct veer_be_stats *bs;

	if (k == VK_XDP && l4_csum_looks_partial(ctx, k, p)) {
		p->reason = VEER_R_XDP_DEFER_CSUM;
		return -1;
	}
	*rn = *found;
	bs = be_stats(rn->backend_id);
	if (bs) {
		bs->reply_packets++;
		bs->reply_bytes += p->len;
	}
	return 0;
}

static __always_inline int snat_reply(void *ctx, enum vkind k, struct pkt *p,
				      struct veer_rnat *found, __u64 now)
{
	struct veer_flow cf;
	struct veer_rnat rn;

	if (reply_take(ctx, k, p, found, &rn))
		return V_PASS;
	flow_of_rnat(&cf, &rn, p->flow.proto, p->flow.family);
	if (p->flow.proto == IPPROTO_TCP) {
		if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) ||
		    (p->tcp_flags & TCP_RST))
			snat_reply_to_syn(p, &rn, &cf, now);
		if (p->tcp_flags & (TCP_FIN | TCP_RST))
			reply_closing(p, &rn, now);
	}
	if (nat_rewrite(ctx, k, p, NAT_SRC, &rn.vip, rn.vport) ||
	    nat_rewrite(ctx, k, p, NAT_DST, &rn.client, rn.cport))
		return V_DROP;
	return fwd_packet(ctx, k, p, VEER_R_FWD_REPLY, VEER_BACKEND_NONE, now);
}

static __always_inline int reply_packet(void *ctx, enum vkind k, struct pkt *p)
{
	int tcp = p->flow.proto == IPPROTO_TCP, half_open = 0;
	struct veer_rnat *found = NULL, rn, qrn;
	struct veer_config *cfg = cfg_get();
	struct veer_flow_cache *rc = NULL;
	struct veer_syn_slot *q = NULL;
	__u32 gen = 0;
	__u64 now = 0;	/* read once, only for a packet that may be a reply */

	/* A reply that changes no state: the reply cache (flowcache.h). */
	if (cfg && flowc_may_serve(p, cfg)) {
		now = flow_clock_ns();
		gen = flowc_gen();	/* before veer_rnat_v1 */
		rc = replyc_slot(p);
		if (flowc_hit(rc, p, now, gen)) {
			replyc_rnat(rc, p, &qrn);
			found = &qrn;
		}
	}
	/* Only a SYN-ACK or a RST can answer a SYN, and for those the
	 * half-open state wins: an established entry with the same reply
	 * tuple is a stale flow from a reused client port to another VIP of
	 * the same backend. Other packets skip those lookups. */
	if (tcp && (p->tcp_flags & (TCP_SYN | TCP_RST))) {
		now = flow_clock_ns();
		if (cfg)
			q = synq_reverse(&p->flow, cfg, now, &qrn);
		found = q ? &qrn : bpf_map_lookup_elem(&veer_rnsyn_v1, &p->flow);
		half_open = found != NULL;
	}
	if (!found) {
		found = bpf_map_lookup_elem(&veer_rnat_v1, &p->flow);
		if (found && rc)
			replyc_fill(rc, p, found, now, gen);
	}
	if (!found) {
		found = snat_reply_lookup(&p->flow);
		if (found)
			return snat_reply(ctx, k, p, found, now ?: flow_clock_ns());
		p->reason = VEER_R_PASS_NOT_SERVICE;
		return V_PASS;
	}
	if (!now)
		now = flow_clock_ns();
	if (reply_take(ctx, k, p, found, &rn))
		return V_PASS;
	if (half_open)
		reply_to_syn(p, &rn, q, now);
	else if (tcp && (p->tcp_flags & (TCP_FIN | TCP_RST)))
		reply_closing(p, &rn, now);

	if (nat_rewrite(ctx, k, p, NAT_SRC, &rn.vip, rn.vport))
		return V_DROP;
	return fwd_packet(ctx, k, p, VEER_R_FWD_REPLY, VEER_BACKEND_NONE, now);
}

#endif
