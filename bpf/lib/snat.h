/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Full NAT (VEER_BE_F_NAT_FULL): the source of a flow becomes the node's
 * address (veer_backend.snat) and a source port allocated from
 * [cfg.snat_port_lo, cfg.snat_port_hi], as well as the destination the
 * backend (gateway).
 *
 * A port is allocated by claiming the reply tuple the gateway will send
 * (src = gateway:port, dst = snat:nport, proto) in veer_snat_v1 with
 * BPF_NOEXIST: the map is the allocator, so two flows can never hold the
 * same tuple, on any CPU. veer_snat_v1 is a plain hash (not LRU): a live
 * mapping is never evicted behind a flow's back. Candidates: the flow hash
 * (salted seed) picks the first port, then linear probing, SNAT_TRIES
 * ports at most; none free means the flow is dropped
 * (VEER_R_DROP_SNAT_EXHAUSTED, VEER_EV_SNAT_EXHAUSTED).
 *
 * The claimed entry is also the reverse entry: its value (struct
 * veer_rnat) says which client:cport / VIP:vport a reply goes back to.
 * The conntrack entry of the flow keeps the port in veer_ct.nat_port.
 *
 * Release: the datapath deletes the entry when it finds the flow's
 * conntrack entry expired or replaced (port reuse on a closed flow), or
 * re-picked to another backend, and on a RST answering a SYN; veerd's
 * sweep (agent/snat_gc.c) deletes entries whose flow is gone from
 * conntrack (LRU eviction, idle expiry of a flow that sends nothing).
 */
#ifndef VEER_BPF_SNAT_H
#define VEER_BPF_SNAT_H

#include "conntrack.h"
#include "maglev.h"

#define SNAT_TRIES 32		/* candidate ports per new flow */
#define SNAT_DEF_LO 32768
#define SNAT_DEF_HI 60999
#define SNAT_SALT 0x736e6174u	/* "snat": port hash independent of the Maglev pick */

static __always_inline void snat_range(const struct veer_config *cfg, __u32 *lo, __u32 *n)
{
	__u32 l = cfg->snat_port_lo, h = cfg->snat_port_hi;

	if (!l || h < l) {
		l = SNAT_DEF_LO;
		h = SNAT_DEF_HI;
	}
	*lo = l;
	*n = h - l + 1;
}

/* The reply tuple of client flow f through full-NAT backend be. */
static __always_inline void snat_key(struct veer_flow *k, const struct veer_flow *f,
				     const struct veer_backend *be, __be16 nport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->src = be->addr;
	k->sport = be->port;
	k->dst = be->snat;
	k->dport = nport;
	k->proto = f->proto;
	k->family = f->family;
}

static __always_inline void snat_value(struct veer_rnat *v, const struct veer_flow *f,
				       __u32 be_id)
{
	v->vip = f->dst;
	v->client = f->src;
	v->vport = f->dport;
	v->cport = f->sport;
	v->backend_id = be_id;
}

/* The entry belongs to client flow f (and backend be_id). */
static __always_inline int snat_owned(const struct veer_rnat *v, const struct veer_flow *f,
				      __u32 be_id)
{
	return v->backend_id == be_id && v->cport == f->sport && v->vport == f->dport &&
	       addr_eq(&v->client, &f->src) && addr_eq(&v->vip, &f->dst);
}

/* Claim a source port for flow f towards be: the port (network order), or
 * 0 if every candidate is taken. A candidate already held by this very
 * flow (its conntrack entry was lost) is taken back. */
static __always_inline __be16 snat_claim(const struct veer_flow *f,
					 const struct veer_backend *be, __u32 be_id,
					 const struct veer_config *cfg)
{
	struct veer_flow k;
	struct veer_rnat v;
	struct veer_rnat *cur;
	__u32 lo, n, idx, i;

	snat_range(cfg, &lo, &n);
	snat_value(&v, f, be_id);
	snat_key(&k, f, be, 0);
	idx = veer_flow_hash(f, cfg->hash_seed ^ SNAT_SALT) % n;
	for (i = 0; i < SNAT_TRIES; i++) {
		if (i >= n)
			break;
		k.dport = bpf_htons((__u16)(lo + idx));
		if (!bpf_map_update_elem(&veer_snat_v1, &k, &v, BPF_NOEXIST))
			return k.dport;
		cur = bpf_map_lookup_elem(&veer_snat_v1, &k);
		if (cur && snat_owned(cur, f, be_id))
			return k.dport;
		if (++idx >= n)
			idx = 0;
	}
	return 0;
}

/* Give back the port of client flow f (held with backend be_id), if the
 * entry is still this flow's. */
static __always_inline void snat_release(const struct veer_flow *f, __u32 be_id, __be16 nport)
{
	struct veer_backend *be;
	struct veer_rnat *cur;
	struct veer_flow k;

	if (!nport)
		return;
	be = bpf_map_lookup_elem(&veer_be_v1, &be_id);
	if (!be)
		return;
	snat_key(&k, f, be, nport);
	cur = bpf_map_lookup_elem(&veer_snat_v1, &k);
	if (cur && snat_owned(cur, f, be_id))
		bpf_map_delete_elem(&veer_snat_v1, &k);
}

/* Release the port a conntrack entry holds, once: the entry forgets it. */
static __always_inline void snat_release_ct(const struct veer_flow *f, struct veer_ct *ct)
{
	if (!ct->nat_port)
		return;
	snat_release(f, ct->backend_id, ct->nat_port);
	ct->nat_port = 0;
}

/* A reply to a full-NAT flow: (gateway -> snat:nport) with nport in the
 * configured range. The range check spares other packets the lookup. */
static __always_inline struct veer_rnat *snat_reply_lookup(const struct veer_flow *rk)
{
	__u32 zero = 0, lo, n, port;
	struct veer_config *cfg = bpf_map_lookup_elem(&veer_cfg_v1, &zero);

	if (!cfg)
		return NULL;
	snat_range(cfg, &lo, &n);
	port = bpf_ntohs(rk->dport);
	if (port < lo || port - lo >= n)
		return NULL;
	return bpf_map_lookup_elem(&veer_snat_v1, rk);
}

#endif
