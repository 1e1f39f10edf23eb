// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "tier.h"

struct tier_weights {
	uint64_t total[TIER_MAX];	/* configured weight per tier */
	uint64_t usable[TIER_MAX];	/* of it, on usable backends */
};

static void tally(const struct tier_backend *b, size_t n, struct tier_weights *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		w->total[b[i].tier] += b[i].weight;
		if (b[i].usable)
			w->usable[b[i].tier] += b[i].weight;
	}
}

/* usable/total scaled by 100/min_healthy_pct, capped at 100%. */
static uint32_t overprovisioned_ppm(uint64_t usable, uint64_t total, uint32_t min_pct)
{
	uint64_t ppm;

	if (!usable || !total)
		return 0;
	if (!min_pct)
		return TIER_PPM;	/* any usable weight is enough */
	if (min_pct > 100)
		min_pct = 100;
	ppm = usable * TIER_PPM * 100 / (total * min_pct);
	return ppm < TIER_PPM ? (uint32_t)ppm : TIER_PPM;
}

static uint64_t sum_ppm(const uint32_t *ppm)
{
	uint64_t sum = 0;

	for (int t = 0; t < TIER_MAX; t++)
		sum += ppm[t];
	return sum;
}

/* Losses count at once; a gain only once it has held for the delay, and
 * then only as far as the lowest value seen while it held. */
static void hold_tier(struct tier_state *st, int t, uint32_t cur, uint64_t delay_us,
		      uint64_t now_us)
{
	if (cur <= st->held_ppm[t]) {
		st->held_ppm[t] = cur;
		st->rising[t] = false;
		return;
	}
	if (!st->rising[t]) {
		st->rising[t] = true;
		st->rising_since_us[t] = now_us;
		st->rising_min_ppm[t] = cur;
	} else if (cur < st->rising_min_ppm[t]) {
		st->rising_min_ppm[t] = cur;
	}
	if (now_us - st->rising_since_us[t] < delay_us)
		return;
	st->held_ppm[t] = st->rising_min_ppm[t];
	st->rising[t] = cur > st->held_ppm[t];
	st->rising_since_us[t] = now_us;
	st->rising_min_ppm[t] = cur;
}

static void hold_health(struct tier_state *st, const uint32_t *cur, uint64_t delay_us,
			uint64_t now_us)
{
	/* First decision, or leaving panic: nothing to fail back from. */
	if (!st->valid || sum_ppm(st->held_ppm) == 0) {
		memcpy(st->held_ppm, cur, sizeof(st->held_ppm));
		memset(st->rising, 0, sizeof(st->rising));
		return;
	}
	for (int t = 0; t < TIER_MAX; t++)
		hold_tier(st, t, cur[t], delay_us, now_us);
}

static uint64_t next_check(const struct tier_state *st, uint64_t delay_us)
{
	uint64_t next = 0;

	for (int t = 0; t < TIER_MAX; t++) {
		uint64_t due = st->rising_since_us[t] + delay_us;

		if (st->rising[t] && (!next || due < next))
			next = due;
	}
	return next;
}

/* Fill tiers in order; if their healths fall short of 100%, share out in
 * proportion to health so that all traffic still lands somewhere. */
static void distribute(const uint32_t *held, uint32_t *load)
{
	uint64_t sum = sum_ppm(held), given = 0;
	int first = -1;

	memset(load, 0, TIER_MAX * sizeof(*load));
	if (!sum)
		return;
	for (int t = 0; t < TIER_MAX; t++) {
		if (sum >= TIER_PPM)
			load[t] = held[t] < TIER_PPM - given ? held[t] : (uint32_t)(TIER_PPM - given);
		else
			load[t] = (uint32_t)((uint64_t)held[t] * TIER_PPM / sum);
		given += load[t];
		if (load[t] && first < 0)
			first = t;
	}
	load[first] += (uint32_t)(TIER_PPM - given);	/* rounding remainder */
}

static uint32_t lowest_loaded_tier(const uint32_t *load)
{
	for (uint32_t t = 0; t < TIER_MAX; t++)
		if (load[t])
			return t;
	return TIER_NONE;
}

/* Tier t's share split over its usable backends by weight. The scale
 * (share ppm × 1000 per unit of the tier's weight) keeps ratios exact
 * enough for any table size and fits in 32 bits. */
static void weigh_backends(const struct tier_backend *b, size_t n,
			   const struct tier_weights *w, const uint32_t *load,
			   uint32_t *eff_weight)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t t = b[i].tier;
		uint64_t eff;

		eff_weight[i] = 0;
		if (!b[i].usable || !b[i].weight || !load[t] || !w->usable[t])
			continue;
		eff = (uint64_t)load[t] * b[i].weight * 1000 / w->usable[t];
		eff_weight[i] = eff ? (uint32_t)eff : 1;
	}
}

/* Nothing usable: every backend at its configured weight, or none. */
static uint32_t weigh_panic(const struct tier_backend *b, size_t n, bool use_all,
			    uint32_t *eff_weight)
{
	uint32_t lowest = TIER_NONE;

	for (size_t i = 0; i < n; i++) {
		eff_weight[i] = use_all ? b[i].weight : 0;
		if (eff_weight[i] && b[i].tier < lowest)
			lowest = b[i].tier;
	}
	return lowest;
}

static bool any_weight(const uint32_t *eff_weight, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (eff_weight[i])
			return true;
	return false;
}

static void record_shift(struct tier_state *st, struct tier_decision *d)
{
	d->shift_from = st->valid ? st->active_tier : d->active_tier;
	d->shift_to = d->active_tier;
	d->shifted = d->shift_from != d->shift_to;
	d->panic_changed = st->valid && st->panic != d->panic;
	st->active_tier = d->active_tier;
	st->panic = d->panic;
	st->valid = true;
}

int tier_decide(const struct tier_backend *b, size_t n, const struct cfg_failover *cfg,
		struct tier_state *st, uint64_t now_us, uint32_t *eff_weight,
		struct tier_decision *d)
{
	uint64_t delay_us = (uint64_t)cfg->failback_delay_ms * 1000;
	struct tier_weights w;

	for (size_t i = 0; i < n; i++)
		if (b[i].tier >= TIER_MAX)
			return -EINVAL;
	memset(d, 0, sizeof(*d));
	tally(b, n, &w);
	for (int t = 0; t < TIER_MAX; t++)
		d->health_ppm[t] = overprovisioned_ppm(w.usable[t], w.total[t],
						       cfg->min_healthy_pct);
	hold_health(st, d->health_ppm, delay_us, now_us);
	d->next_check_us = next_check(st, delay_us);
	distribute(st->held_ppm, d->load_ppm);
	d->panic = sum_ppm(d->load_ppm) == 0;
	if (d->panic) {
		d->refuse = cfg->panic == PANIC_REFUSE;
		d->active_tier = weigh_panic(b, n, !d->refuse, eff_weight);
	} else {
		weigh_backends(b, n, &w, d->load_ppm, eff_weight);
		d->active_tier = lowest_loaded_tier(d->load_ppm);
	}
	d->empty = !any_weight(eff_weight, n);
	record_shift(st, d);
	return 0;
}
