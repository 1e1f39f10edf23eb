/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Conntrack primitives: timeouts, entry and reverse-entry construction,
 * store and delete. Established flows live in veer_ct_v1/veer_rnat_v1,
 * half-open TCP flows in veer_ctsyn_v1/veer_rnsyn_v1 (see lb.h for when a
 * flow moves from one pair to the other).
 */
#ifndef VEER_BPF_CONNTRACK_H
#define VEER_BPF_CONNTRACK_H

#include "maps.h"
#include "clock.h"
#include "flowcache.h"

/* Defaults when the config leaves a timeout at 0. */
#define CT_DEF_SYN_S   30
#define CT_DEF_EST_S   3600
#define CT_DEF_CLOSE_S 10
#define CT_DEF_UDP_S   30

static __always_inline __u64 ct_timeout_ns(__u8 state, const struct veer_config *cfg,
					   __u32 svc_udp_s)
{
	__u32 s;

	switch (state) {
	case VEER_CT_SYN_SENT:
		s = cfg->tcp_syn_timeout_s ?: CT_DEF_SYN_S;
		break;
	case VEER_CT_ESTABLISHED:
		s = cfg->tcp_est_timeout_s ?: CT_DEF_EST_S;
		break;
	case VEER_CT_CLOSING:
		s = cfg->tcp_close_timeout_s ?: CT_DEF_CLOSE_S;
		break;
	default:
		s = svc_udp_s ?: (cfg->udp_timeout_s ?: CT_DEF_UDP_S);
		break;
	}
	return (__u64)s * NSEC_PER_SEC;
}

static __always_inline int ct_expired(const struct veer_ct *ct, __u64 now,
				      const struct veer_config *cfg, __u32 svc_udp_s)
{
	/* A stamp ahead of the coarse clock (written from a finer one, or by
	 * another CPU a tick later) is fresh, not 584 years old. */
	return now > ct->last_seen_ns &&
	       now - ct->last_seen_ns > ct_timeout_ns(ct->state, cfg, svc_udp_s);
}

/* Write last_seen at most once a second: no cache line dirtied per packet. */
static __always_inline void ct_touch(struct veer_ct *ct, __u64 now)
{
	if (now > ct->last_seen_ns + NSEC_PER_SEC)
		ct->last_seen_ns = now;
}

/* The reply of client flow f as it will arrive from backend be, and what
 * it is rewritten to. */
static __always_inline void rnat_make(struct veer_flow *rk, struct veer_rnat *rv,
				      const struct veer_flow *f,
				      const struct veer_backend *be, __u32 be_id)
{
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->src = be->addr;
	rk->dst = f->src;
	rk->sport = be->port;
	rk->dport = f->sport;
	rk->proto = f->proto;
	rk->family = f->family;
	rv->vip = f->dst;
	rv->client = f->src;
	rv->vport = f->dport;
	rv->cport = f->sport;
	rv->backend_id = be_id;
}

/* The client-side flow a reverse entry belongs to. */
static __always_inline void flow_of_rnat(struct veer_flow *f, const struct veer_rnat *rv,
					 __u8 proto, __u8 family)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->src = rv->client;
	f->dst = rv->vip;
	f->sport = rv->cport;
	f->dport = rv->vport;
	f->proto = proto;
	f->family = family;
}

/* Write reverse entry rk -> rv into r_map. One written over another in
 * veer_rnat_v1 (a reused client port's reply tuple, towards another VIP)
 * may be in a CPU's reply cache (flowc_map_put); the half-open pair's
 * never is. */
static __always_inline void rnat_put(void *r_map, const struct veer_flow *rk,
				     const struct veer_rnat *rv)
{
	if (r_map == (void *)&veer_rnat_v1)
		flowc_map_put(r_map, rk, rv);
	else
		bpf_map_update_elem(r_map, rk, rv, BPF_ANY);
}

/* Store flow f -> backend in a (conntrack, reverse) pair of maps. */
static __always_inline void ct_store(void *ct_map, void *r_map, const struct veer_flow *f,
				     __u32 be_id, const struct veer_backend *be,
				     __u32 svc_id, __u8 state, __u8 syns,
				     __u64 created, __u64 now)
{
	struct veer_ct v = {
		.last_seen_ns = now,
		.created_ns = created,
		.backend_id = be_id,
		.svc_id = svc_id,
		.state = state,
		.syn_count = syns,
	};
	struct veer_flow rk;
	struct veer_rnat rv;

	bpf_map_update_elem(ct_map, f, &v, BPF_ANY);
	rnat_make(&rk, &rv, f, be, be_id);
	rnat_put(r_map, &rk, &rv);
}

/* Delete the reverse entry of f towards backend be_id (best effort: a
 * removed backend's address may be gone; the LRU ages such entries out). */
static __always_inline void rnat_forget(void *r_map, const struct veer_flow *f, __u32 be_id)
{
	struct veer_backend *be = bpf_map_lookup_elem(&veer_be_v1, &be_id);
	struct veer_flow rk;
	struct veer_rnat rv;

	if (!be)
		return;
	rnat_make(&rk, &rv, f, be, be_id);
	bpf_map_delete_elem(r_map, &rk);
}

#endif
