/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The established-flow caches (struct veer_flow_cache in veer_abi.h): per
 * CPU, direct-mapped by the client's address and port. A packet of a busy
 * plain-DNAT flow takes its backend from veer_flowc_v1 instead of
 * conntrack's hash lookup, and a backend's reply its VIP side from
 * veer_replyc_v1 instead of veer_rnat_v1's: the largest cost left on
 * those paths (~30 ns measured: hashing a 40-byte key, the bucket walk,
 * and calls that each pay the CPU's return mitigation) against an
 * inlined array lookup and a compare.
 *
 * Conntrack stays the truth. An entry is a copy made right after the flow
 * passed conntrack's checks (a reply: was found in veer_rnat_v1), and it
 * serves only:
 *  - for packets that change no conntrack state: UDP, or TCP without SYN,
 *    FIN or RST (those always go to conntrack);
 *  - while younger than VEER_FLOWC_LIFETIME_NS: conntrack is read again
 *    several times a second per busy flow, which keeps its last_seen (and
 *    its LRU position) current and decides expiry, as before;
 *  - while its gen equals veer_flowgen_v1, read before the lookup that
 *    filled it: every change that could give the flow another backend,
 *    service or VIP bumps it (the datapath: a re-pick, a deleted entry, a
 *    conntrack or reverse entry written over another; veerd: a flush,
 *    which every service removal does, a service moved to another VIP),
 *    and an entry filled across such a change is stale at birth;
 *  - and, for client packets as on the conntrack path, while its backend
 *    may keep flows (state, service, family: checked per packet by the
 *    caller, so a backend that fails loses its flows at the next packet).
 *    Replies are translated by their entry whatever the backend's state,
 *    as by veer_rnat_v1.
 * An entry that does not serve is overwritten by the next fill: the cache
 * costs a miss a compare, never a flow.
 */
#ifndef VEER_BPF_FLOWCACHE_H
#define VEER_BPF_FLOWCACHE_H

#include "maps.h"
#include "parse.h"

static __always_inline __u32 *flowc_gen_ptr(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&veer_flowgen_v1, &zero);
}

static __always_inline __u32 flowc_gen(void)
{
	__u32 *g = flowc_gen_ptr();

	return g ? *g : 0;
}

/* A flow may have moved or gone: every CPU's entries become stale. */
static __always_inline void flowc_invalidate(void)
{
	__u32 *g = flowc_gen_ptr();

	if (g)
		__sync_fetch_and_add(g, 1);
}

/* Write key -> val into map; written over an entry, it changed a flow a
 * CPU may have cached: a new generation then. The insert tells, so a new
 * entry costs nothing more. */
static __always_inline void flowc_map_put(void *map, const void *key, const void *val)
{
	if (bpf_map_update_elem(map, key, val, BPF_NOEXIST)) {
		bpf_map_update_elem(map, key, val, BPF_ANY);
		flowc_invalidate();
	}
}

/* May this packet be served from the caches: they are on (cfg) and it
 * changes no state? */
static __always_inline int flowc_may_serve(const struct pkt *p, const struct veer_config *cfg)
{
	if (cfg->flags & VEER_CFG_F_NO_FLOW_CACHE)
		return 0;
	return p->flow.proto == IPPROTO_UDP ||
	       !(p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST));
}

static __always_inline struct veer_flow_cache *flowc_slot(const struct pkt *p)
{
	__u32 i = veer_flowc_index(&p->flow);

	return bpf_map_lookup_elem(&veer_flowc_v1, &i);
}

static __always_inline struct veer_flow_cache *replyc_slot(const struct pkt *p)
{
	__u32 i = veer_replyc_index(&p->flow);

	return bpf_map_lookup_elem(&veer_replyc_v1, &i);
}

/* Both flows 8-byte aligned: a map value, and struct pkt's. */
static __always_inline int flow_eq(const struct veer_flow *a, const struct veer_flow *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* Does slot c hold p's flow, young and of generation gen? */
static __always_inline int flowc_hit(const struct veer_flow_cache *c, const struct pkt *p,
				     __u64 now, __u32 gen)
{
	return c && now - c->filled_ns < VEER_FLOWC_LIFETIME_NS && c->gen == gen &&
	       flow_eq(&c->flow, &p->flow);
}

static __always_inline void flowc_fill(struct veer_flow_cache *c, const struct pkt *p,
				       __u32 be_id, __u32 svc_id, __u64 now, __u32 gen)
{
	c->flow = p->flow;
	c->filled_ns = now;
	c->backend_id = be_id;
	c->svc_id = svc_id;
	c->gen = gen;
}

/* A reply's entry: what its reverse entry rn says. */
static __always_inline void replyc_fill(struct veer_flow_cache *c, const struct pkt *p,
					const struct veer_rnat *rn, __u64 now, __u32 gen)
{
	flowc_fill(c, p, rn->backend_id, 0, now, gen);
	c->vip = rn->vip;
	c->vport = rn->vport;
}

/* The reverse entry a reply's cache entry stands for. */
static __always_inline void replyc_rnat(const struct veer_flow_cache *c, const struct pkt *p,
					struct veer_rnat *rn)
{
	rn->vip = c->vip;
	rn->client = p->flow.dst;
	rn->vport = c->vport;
	rn->cport = p->flow.dport;
	rn->backend_id = c->backend_id;
}

#endif
