/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Half-open slots (veer_synq_v1, struct veer_syn_slot in veer_abi.h).
 *
 * A new TCP flow of a plain-DNAT service used to cost its first SYN two
 * LRU inserts (veer_ctsyn_v1 and veer_rnsyn_v1: ~600 ns of a ~850 ns SYN
 * on a node with 1M flows) and its SYN-ACK two deletes. Here its state is
 * one 64-byte slot of an array, at an index both directions can compute
 * from the client's address and port: the SYN from its source, the
 * SYN-ACK from its destination. One cache line, no hash, no lock.
 *
 * A slot is free when its stamp is 0 or older than the SYN timeout; a SYN
 * claims it by compare-and-swap of the stamp, so two CPUs never both own
 * it. A SYN whose slot another live flow holds, or that loses the race,
 * goes to the LRU pair as before: a collision costs speed, never a flow.
 * The promotion (SYN-ACK, or the client's first non-SYN) frees the slot.
 *
 * Only plain-DNAT services use slots (no full-NAT port, no IPIP: every
 * answer to the SYN passes this node), so a pure SYN of such a service
 * looks at its slot and, only when another flow holds it, at
 * veer_ctsyn_v1. A flow whose first SYN found its slot taken and whose
 * retransmission finds it free starts over in the slot: the same Maglev
 * pick, one failure signal fewer.
 */
#ifndef VEER_BPF_SYNQ_H
#define VEER_BPF_SYNQ_H

#include "conntrack.h"

/* 64-bit compare-and-swap: *p becomes new if it is old; returns what *p
 * was. The instruction (BPF_STX | BPF_DW | BPF_ATOMIC, imm BPF_CMPXCHG,
 * dst r1, src r2, r0 compared) is written as bytes: clang 14 emits
 * atomics only with -mcpu=v3, whose code for this object takes the
 * verifier past its instruction limit. */
static __always_inline __u64 cas64(__u64 *p, __u64 old, __u64 new)
{
	register __u64 r0 asm("r0") = old;
	register __u64 *r1 asm("r1") = p;
	register __u64 r2 asm("r2") = new;

	asm volatile(".byte 0xdb, 0x21, 0x00, 0x00, 0xf1, 0x00, 0x00, 0x00"
		     : "+r"(r0) : "r"(r1), "r"(r2) : "memory");
	return r0;
}

static __always_inline struct veer_syn_slot *synq_slot(const struct veer_addr *client,
						       __be16 cport)
{
	__u32 i = veer_synq_index(client, cport);

	return bpf_map_lookup_elem(&veer_synq_v1, &i);
}

/* Held by a flow whose SYN is younger than the SYN timeout. */
static __always_inline int synq_live(const struct veer_syn_slot *q, __u64 now,
				     const struct veer_config *cfg)
{
	return q->stamp_ns &&
	       (now <= q->stamp_ns ||
		now - q->stamp_ns <= ct_timeout_ns(VEER_CT_SYN_SENT, cfg, 0));
}

/* Held for client flow f (src = client, dst = VIP)? */
static __always_inline int synq_is_flow(const struct veer_syn_slot *q,
					const struct veer_flow *f)
{
	return q->cport == f->sport && q->vport == f->dport && q->family == f->family &&
	       addr_eq(&q->client, &f->src) && addr_eq(&q->vip, &f->dst);
}

/* Claim slot q (seen free with stamp `seen`) for flow f: 0, or -1 if
 * another CPU took it first. */
static __always_inline int synq_claim(struct veer_syn_slot *q, __u64 seen,
				      const struct veer_flow *f, __u32 be_id,
				      __u32 svc_id, __u64 now)
{
	if (!now || cas64(&q->stamp_ns, seen, now) != seen)
		return -1;
	veer_syn_slot_fill(q, f, be_id, svc_id, 1, now);
	return 0;
}

static __always_inline void synq_free(struct veer_syn_slot *q)
{
	q->stamp_ns = 0;
}

/* The half-open slot a reply (src = backend, dst = client) answers, as a
 * reverse entry in *rn: NULL if none. The slot's backend must still exist
 * and be the reply's source. */
static __always_inline struct veer_syn_slot *synq_reverse(const struct veer_flow *r,
							  const struct veer_config *cfg,
							  __u64 now, struct veer_rnat *rn)
{
	struct veer_syn_slot *q = synq_slot(&r->dst, r->dport);
	struct veer_backend *be;
	__u32 id;

	if (!q || !synq_live(q, now, cfg) || q->cport != r->dport ||
	    q->family != r->family || !addr_eq(&q->client, &r->dst))
		return NULL;
	id = q->backend_id;
	be = bpf_map_lookup_elem(&veer_be_v1, &id);
	if (!be || be->state == VEER_BE_UNUSED || be->port != r->sport ||
	    !addr_eq(&be->addr, &r->src))
		return NULL;
	rn->vip = q->vip;
	rn->client = q->client;
	rn->vport = q->vport;
	rn->cport = q->cport;
	rn->backend_id = id;
	return q;
}

#endif
