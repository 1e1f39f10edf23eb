/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tiered failover for one service, after Envoy's priority levels. Pure:
 * backends' tiers, weights and usability in, the effective weight of each
 * backend in the service's Maglev table out.
 *
 * Rules:
 * - Health of tier t = usable weight / configured weight of t, scaled by
 *   the overprovisioning factor 100 / min_healthy_pct and capped at 100%.
 *   With the default 70 (factor ~1.43, Envoy's is 1.4) a tier at 70%
 *   healthy or more takes all the traffic it is offered; one of 3 equal
 *   backends down (66.7%) leaves tier 0 with 95.2% and spills 4.8% onward.
 * - Tiers are filled in order: tier t gets min(health_t, what lower tiers
 *   left). If the healths sum to less than 100%, each tier gets
 *   health_t / sum instead (no traffic is lost for want of a tier).
 *   Within a tier, a tier's share is split over its usable backends by
 *   weight; those become the Maglev weights.
 * - Hysteresis: a tier's health in force drops at once (degradation is
 *   immediate) but rises only after the higher value has held for
 *   failback_delay_ms, and then to the lowest value seen over that time.
 *   So a backend flapping faster than the delay shifts traffic once, on
 *   its first failure, and fails back once it has stayed up. The first
 *   decision and leaving panic take the current health at once: there is
 *   nothing to fail back from.
 * - Panic: no usable backend anywhere. PANIC_USE_ALL puts every backend of
 *   every tier in the table with its configured weight (Envoy's panic
 *   routing); PANIC_REFUSE leaves the table empty and sets refuse, so the
 *   datapath answers new flows with RST instead of a blackhole.
 */
#ifndef VEER_TIER_H
#define VEER_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define TIER_MAX  8		/* tiers 0..7, as the config allows */
#define TIER_NONE UINT32_MAX	/* no tier takes new flows */
#define TIER_PPM  1000000u	/* shares in parts per million */

struct tier_backend {
	uint32_t tier;		/* < TIER_MAX */
	uint32_t weight;	/* configured; 0: never in the table */
	bool usable;		/* health allows new flows */
};

/* Kept by the caller between decisions of one service; zero it for a new
 * service. Opaque outside tier.c. */
struct tier_state {
	bool valid;
	bool panic;
	uint32_t active_tier;
	uint32_t held_ppm[TIER_MAX];		/* health in force */
	bool rising[TIER_MAX];			/* higher health waiting out the delay */
	uint32_t rising_min_ppm[TIER_MAX];	/* lowest seen while waiting */
	uint64_t rising_since_us[TIER_MAX];
};

struct tier_decision {
	uint32_t active_tier;		/* lowest tier taking new flows, or TIER_NONE */
	uint32_t load_ppm[TIER_MAX];	/* share of new flows per tier; 0s in panic */
	uint32_t health_ppm[TIER_MAX];	/* current, overprovisioned, before hysteresis */
	bool panic;			/* nothing usable: the panic rule is in force */
	bool panic_changed;
	bool refuse;			/* PANIC_REFUSE in force: VEER_SVC_F_REFUSE */
	bool empty;			/* no backend in the table: VEER_SVC_F_EMPTY */
	bool shifted;			/* active tier changed (never on the first call) */
	uint32_t shift_from, shift_to;
	uint64_t next_check_us;		/* call again then (a failback is due); 0: none */
};

/* Decide the table of one service. eff_weight[i] receives backend i's
 * Maglev weight (0: left out). Returns 0, or -EINVAL (a tier out of range)
 * with st untouched. */
int tier_decide(const struct tier_backend *b, size_t n, const struct cfg_failover *cfg,
		struct tier_state *st, uint64_t now_us, uint32_t *eff_weight,
		struct tier_decision *d);

#endif
