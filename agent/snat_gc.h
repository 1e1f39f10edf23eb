/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Sweep of veer_snat_v1 (full NAT port claims): a claim whose flow is gone
 * from conntrack (veer_ct_v1 / veer_ctsyn_v1: absent, expired, or holding
 * another port or backend) is deleted once it has been found so on two
 * sweeps in a row, so a flow being set up (claim written, conntrack entry
 * a moment later) is never touched. veerd runs it from its 1 s
 * housekeeping timer; the state it works on is in the pinned maps, so a
 * restarted veerd goes on where the last one stopped.
 */
#ifndef VEER_SNAT_GC_H
#define VEER_SNAT_GC_H

#include <stddef.h>
#include <stdint.h>
#include "dpmaps.h"

struct snat_gc_stats {
	uint64_t scanned;	/* claims looked at, this sweep */
	uint64_t orphans;	/* found without a flow, this sweep */
	uint64_t released;	/* deleted, this sweep */
	uint64_t released_total;
};

/* One sweep over at most `budget` claims (0: all), at monotonic time
 * now_ns (the clock of bpf_ktime_get_ns). */
void snat_gc_sweep_maps(const struct dp_maps *m, uint64_t now_ns, size_t budget,
			struct snat_gc_stats *st);

struct agent;
/* From veerd's housekeeping timer. */
void snat_gc_sweep(struct agent *a);

#endif
