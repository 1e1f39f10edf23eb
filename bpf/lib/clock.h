/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Conntrack's clock: CLOCK_MONOTONIC as of the last tick, in ns. Timeouts
 * are whole seconds and last_seen is written at most once a second, so a
 * tick's resolution is plenty. Computed from jiffies (one inlined load)
 * with the scale and base the loader measured (struct veer_clock); same
 * base as CLOCK_MONOTONIC, which user space compares it with.
 */
#ifndef VEER_BPF_CLOCK_H
#define VEER_BPF_CLOCK_H

#include "maps.h"

static __always_inline __u64 flow_clock_ns(void)
{
	__u32 zero = 0;
	struct veer_clock *c = bpf_map_lookup_elem(&veer_clock_v1, &zero);

	if (c && c->tick_ns)
		return bpf_jiffies64() * c->tick_ns + c->base_ns;
	return bpf_ktime_get_coarse_ns();	/* before the loader's first sample */
}

#endif
