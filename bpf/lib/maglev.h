/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend choice: veer_flow_hash (include/veer_abi.h) of the client-side
 * tuple and the configured seed, modulo the size of the service's Maglev
 * table. The same seed gives the same slot on every node.
 */
#ifndef VEER_BPF_MAGLEV_H
#define VEER_BPF_MAGLEV_H

#include "service.h"

#define MAGLEV_TRIES 4		/* slots tried when a slot's backend can't take it */

static __always_inline void *maglev_table(const struct veer_svc *svc)
{
	__u32 slot_key = VEER_MAGLEV_SLOT(svc->id, svc->flags);

	if (!svc->table_size)
		return NULL;
	return bpf_map_lookup_elem(&veer_maglev_v2, &slot_key);
}

/* The backend id in slot hash(f, seed + perturb) of table (size m), or
 * VEER_BACKEND_NONE. */
static __always_inline __u32 maglev_slot(void *table, __u32 m, const struct veer_flow *f,
					 __u32 seed)
{
	__u32 idx = veer_flow_hash(f, seed) % m;
	__u32 *slot = bpf_map_lookup_elem(table, &idx);

	return slot ? *slot : VEER_BACKEND_NONE;
}

/*
 * The plain choice's slot (perturbation 0) for flow f, read ahead: the
 * slot is a likely cache miss, and a SYN's other one (its half-open slot)
 * is read right after, so the two overlap instead of queueing (a SYN's
 * largest costs, measured). Hand it to maglev_pick as `first`. -1 if the
 * service has no table.
 */
static __always_inline int maglev_first(const struct veer_svc *svc, const struct veer_flow *f,
					__u32 seed, __u32 *first)
{
	void *table = maglev_table(svc);

	if (!table)
		return -1;
	*first = maglev_slot(table, svc->table_size, f, seed);
	return 0;
}

/*
 * Pick a backend for flow f: slot hash(f, seed + perturb) of the table.
 * perturb 0 is the plain Maglev choice; a re-steer passes another value.
 * A slot whose backend can't take a new flow (table not yet updated) or is
 * skip_id moves to the next perturbation, a bounded number of times. An
 * empty slot or a missing table means no backend. first: perturbation
 * 0's slot as maglev_first read it, or NULL.
 */
static __always_inline __u32 maglev_pick(const struct veer_svc *svc,
					 const struct veer_flow *f, __u32 seed,
					 __u32 perturb, __u32 skip_id,
					 struct veer_backend **out, const __u32 *first)
{
	void *table = maglev_table(svc);
	int i;

	if (!table)
		return VEER_BACKEND_NONE;
	for (i = 0; i < MAGLEV_TRIES; i++) {
		__u32 id;
		struct veer_backend *be;

		if (i == 0 && first)
			id = *first;
		else
			id = maglev_slot(table, svc->table_size, f,
					 seed + (perturb + i) * VEER_MAGLEV_PERTURB);
		if (id == VEER_BACKEND_NONE)
			return VEER_BACKEND_NONE;
		if (id == skip_id)
			continue;
		be = be_takes_new(id, svc->id, f->family);
		if (be) {
			*out = be;
			return id;
		}
	}
	return VEER_BACKEND_NONE;
}

#endif
