// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "maglev.h"
#include "tier.h"

#define MS 1000ull
#define MAX_B 32

static const struct cfg_failover defaults = {
	.min_healthy_pct = 70, .failback_delay_ms = 1000, .panic = PANIC_USE_ALL,
};

/* One service: backends, the state carried between decisions, the last
 * decision and its weights. */
struct svc {
	struct tier_backend b[MAX_B];
	size_t n;
	struct cfg_failover cfg;
	struct tier_state st;
	struct tier_decision d;
	uint32_t eff[MAX_B];
};

static void svc_init(struct svc *s, const struct cfg_failover *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
}

/* Add count backends of a tier and weight, all usable; returns the first index. */
static size_t add(struct svc *s, uint32_t tier, uint32_t weight, size_t count)
{
	size_t first = s->n;

	for (size_t i = 0; i < count; i++)
		s->b[s->n++] = (struct tier_backend){ .tier = tier, .weight = weight, .usable = true };
	return first;
}

static void set_usable(struct svc *s, size_t first, size_t count, bool usable)
{
	for (size_t i = first; i < first + count; i++)
		s->b[i].usable = usable;
}

static void decide(struct svc *s, uint64_t now_us)
{
	assert_int_equal(tier_decide(s->b, s->n, &s->cfg, &s->st, now_us, s->eff, &s->d), 0);
}

static uint64_t tier_weight(const struct svc *s, uint32_t tier)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].tier == tier)
			sum += s->eff[i];
	return sum;
}

static void test_all_healthy_tier0_only(void **state)
{
	struct svc s;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 3);
	add(&s, 1, 1, 3);
	add(&s, 2, 1, 2);
	decide(&s, 0);
	assert_int_equal(s.d.active_tier, 0);
	assert_int_equal(s.d.load_ppm[0], TIER_PPM);
	assert_int_equal(tier_weight(&s, 1), 0);
	assert_int_equal(tier_weight(&s, 2), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(s.eff[i], s.eff[0]);
	assert_true(s.eff[0] > 0);
	assert_false(s.d.panic || s.d.refuse || s.d.empty || s.d.shifted);
}

/* 2 of 3 usable = 66.7%; × 100/70 = 95.238%; 4.762% spills to tier 1. */
static void test_one_of_three_down(void **state)
{
	struct cfg_failover strict = defaults;
	struct svc s;

	(void)state;
	strict.min_healthy_pct = 100;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 3);
	add(&s, 1, 1, 3);
	decide(&s, 0);
	s.b[1].usable = false;
	decide(&s, 1 * MS);
	assert_int_equal(s.d.active_tier, 0);
	assert_false(s.d.shifted);
	assert_int_equal(s.d.health_ppm[0], 952380);
	assert_int_equal(s.d.load_ppm[0], 952380);
	assert_int_equal(s.d.load_ppm[1], 47620);
	assert_int_equal(s.eff[1], 0);
	assert_int_equal(s.eff[0], 952380ull * 1000 / 2);
	assert_int_equal(s.eff[3], 47620ull * 1000 / 3);
	/* Without a tier to spill to, tier 0 keeps everything. */
	svc_init(&s, &defaults);
	add(&s, 0, 1, 3);
	s.b[2].usable = false;
	decide(&s, 0);
	assert_int_equal(s.d.load_ppm[0], TIER_PPM);
	/* min_healthy_pct 100: no overprovisioning, 1/3 spills. */
	svc_init(&s, &strict);
	add(&s, 0, 1, 3);
	add(&s, 1, 1, 3);
	s.b[0].usable = false;
	decide(&s, 0);
	assert_int_equal(s.d.load_ppm[0], 666666);
	assert_int_equal(s.d.load_ppm[1], 333334);
}

static void test_tier0_down_moves_all(void **state)
{
	struct svc s;
	size_t t0, t1;

	(void)state;
	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 3);
	t1 = add(&s, 1, 1, 2);
	add(&s, 2, 1, 2);
	decide(&s, 0);
	set_usable(&s, t0, 3, false);
	decide(&s, 1 * MS);
	assert_true(s.d.shifted);
	assert_int_equal(s.d.shift_from, 0);
	assert_int_equal(s.d.shift_to, 1);
	assert_int_equal(s.d.load_ppm[1], TIER_PPM);
	assert_int_equal(tier_weight(&s, 0), 0);
	assert_int_equal(tier_weight(&s, 2), 0);
	/* Tier 1 gone as well: tier 2 takes everything, at once. */
	set_usable(&s, t1, 2, false);
	decide(&s, 2 * MS);
	assert_true(s.d.shifted);
	assert_int_equal(s.d.shift_to, 2);
	assert_int_equal(s.d.load_ppm[2], TIER_PPM);
	assert_false(s.d.panic);
}

/* Tier 0 at 50% (→ 71.43%) spills 28.57%; both degraded tiers fill in
 * order; healths short of 100% share out in proportion. */
static void test_proportional_spill(void **state)
{
	struct svc s;
	size_t t0, t1;

	(void)state;
	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 10);
	t1 = add(&s, 1, 1, 10);
	add(&s, 2, 1, 10);
	set_usable(&s, t0, 5, false);
	decide(&s, 0);
	assert_int_equal(s.d.load_ppm[0], 714285);
	assert_int_equal(s.d.load_ppm[1], 285715);
	assert_int_equal(s.d.active_tier, 0);

	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 10);
	t1 = add(&s, 1, 1, 10);
	add(&s, 2, 1, 10);
	set_usable(&s, t0, 7, false);	/* 30% → 42.86% */
	set_usable(&s, t1, 5, false);	/* 50% → 71.43%, capped by what is left */
	decide(&s, 0);
	assert_int_equal(s.d.load_ppm[0], 428571);
	assert_int_equal(s.d.load_ppm[1], 571429);
	assert_int_equal(s.d.load_ppm[2], 0);

	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 10);
	t1 = add(&s, 1, 1, 10);
	set_usable(&s, t0, 8, false);	/* 20% → 28.57% */
	set_usable(&s, t1, 8, false);	/* same: half each */
	decide(&s, 0);
	assert_int_equal(s.d.load_ppm[0], 500000);
	assert_int_equal(s.d.load_ppm[1], 500000);
}

/* The spill as Maglev sees it: tier 1's slots match its share. */
static void test_spill_through_maglev(void **state)
{
	enum { M = 16381 };
	struct maglev_backend mb[MAX_B];
	uint32_t table[M], ids[MAX_B], counts[MAX_B];
	uint32_t tier1_slots = 0;
	struct svc s;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 10);
	add(&s, 1, 1, 10);
	set_usable(&s, 0, 5, false);
	decide(&s, 0);
	memset(mb, 0, sizeof(mb));
	for (size_t i = 0; i < s.n; i++) {
		mb[i].id = ids[i] = (uint32_t)i;
		mb[i].weight = s.eff[i];
		mb[i].family = VEER_AF_INET;
		mb[i].port = 80;
		mb[i].addr.b[0] = 10;
		mb[i].addr.b[3] = (uint8_t)i;
	}
	assert_int_equal(maglev_build(mb, s.n, M, 1, table), 0);
	assert_int_equal(maglev_shares(table, M, ids, s.n, counts), 0);
	for (size_t i = 10; i < 20; i++)
		tier1_slots += counts[i];
	/* 28.57% of 16381 = 4680 slots. */
	assert_in_range(tier1_slots, 4680 - 50, 4680 + 50);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(counts[i], 0);
}

static void test_failback_waits(void **state)
{
	struct svc s;
	size_t t0;

	(void)state;
	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 2);
	add(&s, 1, 1, 2);
	decide(&s, 0);
	set_usable(&s, t0, 2, false);
	decide(&s, 10 * MS);
	assert_int_equal(s.d.active_tier, 1);
	set_usable(&s, t0, 2, true);
	decide(&s, 1000 * MS);
	assert_int_equal(s.d.active_tier, 1);
	assert_false(s.d.shifted);
	assert_int_equal(s.d.health_ppm[0], TIER_PPM);
	assert_int_equal(s.d.next_check_us, 2000 * MS);
	decide(&s, 1999 * MS);
	assert_int_equal(s.d.active_tier, 1);
	decide(&s, 2000 * MS);
	assert_true(s.d.shifted);
	assert_int_equal(s.d.shift_from, 1);
	assert_int_equal(s.d.shift_to, 0);
	assert_int_equal(s.d.load_ppm[0], TIER_PPM);
	assert_int_equal(s.d.next_check_us, 0);
	/* Degradation again: immediate. */
	s.b[t0].usable = false;
	s.b[t0 + 1].usable = false;
	decide(&s, 2001 * MS);
	assert_true(s.d.shifted);
	assert_int_equal(s.d.active_tier, 1);
}

/* Recovering in steps: the tier gets the lowest health it kept over the
 * whole delay, not the latest. */
static void test_failback_takes_lowest_held(void **state)
{
	struct svc s;
	size_t t0;

	(void)state;
	svc_init(&s, &defaults);
	t0 = add(&s, 0, 1, 10);
	add(&s, 1, 1, 10);
	set_usable(&s, t0, 10, false);
	decide(&s, 0);
	set_usable(&s, t0, 5, true);		/* 50% → 714285 */
	decide(&s, 100 * MS);
	set_usable(&s, t0, 10, true);		/* 100% */
	decide(&s, 600 * MS);
	decide(&s, 1100 * MS);
	assert_int_equal(s.d.load_ppm[0], 714285);
	assert_true(s.d.shifted);
	/* The full recovery needs its own delay from the step that applied. */
	assert_int_equal(s.d.next_check_us, 2100 * MS);
	decide(&s, 2100 * MS);
	assert_int_equal(s.d.load_ppm[0], TIER_PPM);
}

/* A lone tier-0 backend flapping every 300 ms for 3 s: one shift (the
 * first failure), then one failback after it stays up for the delay. */
static void test_flapping_one_shift(void **state)
{
	struct svc s;
	int shifts = 0;
	uint64_t t;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 1);
	add(&s, 1, 1, 2);
	decide(&s, 0);
	for (t = 300; t <= 3000; t += 300) {
		s.b[0].usable = (t / 300) % 2 == 0;
		decide(&s, t * MS);
		shifts += s.d.shifted;
	}
	assert_int_equal(shifts, 1);
	assert_true(s.b[0].usable);	/* ends up at t = 3000 */
	assert_int_equal(s.d.active_tier, 1);
	for (t = 3100; t <= 5000; t += 100) {
		decide(&s, t * MS);
		shifts += s.d.shifted;
	}
	assert_int_equal(shifts, 2);
	assert_int_equal(s.d.active_tier, 0);
}

/* One of three tier-0 backends flapping: tier 0 stays active and the
 * spill changes once, not on every flap. */
static void test_flapping_member_stable_loads(void **state)
{
	struct svc s;
	int load_changes = 0, shifts = 0;
	uint32_t last;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 3);
	add(&s, 1, 1, 3);
	decide(&s, 0);
	last = s.d.load_ppm[0];
	for (uint64_t t = 300; t <= 3000; t += 300) {
		s.b[2].usable = (t / 300) % 2 == 0;
		decide(&s, t * MS);
		shifts += s.d.shifted;
		load_changes += s.d.load_ppm[0] != last;
		last = s.d.load_ppm[0];
	}
	assert_int_equal(shifts, 0);
	assert_int_equal(load_changes, 1);
	assert_int_equal(s.d.active_tier, 0);
}

static void test_panic_use_all(void **state)
{
	struct svc s;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 2, 2);
	add(&s, 1, 5, 2);
	decide(&s, 0);
	set_usable(&s, 0, 4, false);
	decide(&s, 1 * MS);
	assert_true(s.d.panic);
	assert_true(s.d.panic_changed);
	assert_false(s.d.refuse);
	assert_false(s.d.empty);
	assert_int_equal(s.d.active_tier, 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(s.eff[i], s.b[i].weight);
	/* Leaving panic takes no failback delay. */
	s.b[3].usable = true;
	decide(&s, 2 * MS);
	assert_false(s.d.panic);
	assert_true(s.d.panic_changed);
	assert_int_equal(s.d.active_tier, 1);
	assert_int_equal(s.d.load_ppm[1], TIER_PPM);
	assert_int_equal(s.eff[2], 0);
	assert_true(s.eff[3] > 0);
}

static void test_panic_refuse(void **state)
{
	struct cfg_failover cfg = defaults;
	struct svc s;

	(void)state;
	cfg.panic = PANIC_REFUSE;
	svc_init(&s, &cfg);
	add(&s, 0, 1, 2);
	add(&s, 1, 1, 1);
	set_usable(&s, 0, 3, false);
	decide(&s, 0);
	assert_true(s.d.panic);
	assert_true(s.d.refuse);
	assert_true(s.d.empty);
	assert_int_equal(s.d.active_tier, TIER_NONE);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(s.eff[i], 0);
	/* No backends at all: empty, and panic by definition. */
	svc_init(&s, &defaults);
	decide(&s, 0);
	assert_true(s.d.panic);
	assert_true(s.d.empty);
	assert_false(s.d.refuse);
	assert_int_equal(s.d.active_tier, TIER_NONE);
}

/* Weights: shares within a tier, and a tier's health, go by weight. */
static void test_weights(void **state)
{
	struct svc s;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 1);
	add(&s, 0, 2, 1);
	add(&s, 0, 3, 1);
	add(&s, 1, 1, 1);
	decide(&s, 0);
	assert_int_equal(s.eff[0], 1000000ull * 1000 * 1 / 6);
	assert_int_equal(s.eff[1], 1000000ull * 1000 * 2 / 6);
	assert_int_equal(s.eff[2], 1000000ull * 1000 * 3 / 6);
	/* Weight 3 of 6 down: 50% → 71.43%; the weight-1 and weight-2
	 * backends share it 1:2. */
	s.b[2].usable = false;
	decide(&s, 1 * MS);
	assert_int_equal(s.d.load_ppm[0], 714285);
	assert_int_equal(s.d.load_ppm[1], 285715);
	assert_int_equal(s.eff[0], 714285ull * 1000 / 3);
	assert_int_equal(s.eff[1], 714285ull * 1000 * 2 / 3);
	assert_int_equal(s.eff[3], 285715ull * 1000);
}

static void test_bad_tier_rejected(void **state)
{
	struct svc s;

	(void)state;
	svc_init(&s, &defaults);
	add(&s, 0, 1, 1);
	add(&s, TIER_MAX, 1, 1);
	assert_int_equal(tier_decide(s.b, s.n, &s.cfg, &s.st, 0, s.eff, &s.d), -EINVAL);
	assert_false(s.st.valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_healthy_tier0_only),
		cmocka_unit_test(test_one_of_three_down),
		cmocka_unit_test(test_tier0_down_moves_all),
		cmocka_unit_test(test_proportional_spill),
		cmocka_unit_test(test_spill_through_maglev),
		cmocka_unit_test(test_failback_waits),
		cmocka_unit_test(test_failback_takes_lowest_held),
		cmocka_unit_test(test_flapping_one_shift),
		cmocka_unit_test(test_flapping_member_stable_loads),
		cmocka_unit_test(test_panic_use_all),
		cmocka_unit_test(test_panic_refuse),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_bad_tier_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
