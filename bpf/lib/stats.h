/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-CPU counters: reasons, services, backends. Plain increments: each
 * CPU owns its slot, user space sums them. */
#ifndef VEER_BPF_STATS_H
#define VEER_BPF_STATS_H

#include "maps.h"

static __always_inline void count_reason(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&veer_drop_v1, &reason);

	if (c)
		*c += 1;
}

static __always_inline struct veer_svc_stats *svc_stats(__u32 svc_id)
{
	return bpf_map_lookup_elem(&veer_svcst_v1, &svc_id);
}

static __always_inline struct veer_be_stats *be_stats(__u32 be_id)
{
	return bpf_map_lookup_elem(&veer_best_v1, &be_id);
}

static __always_inline void be_count_fail(__u32 be_id)
{
	struct veer_be_stats *s = be_stats(be_id);

	if (s)
		s->fail_signals++;
}

#endif
