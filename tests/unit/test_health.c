// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "health.h"

#define MS 1000ull	/* µs per ms */
#define S  1000000ull	/* µs per s */

static struct health_params params(bool probes)
{
	return (struct health_params){
		.probes = probes, .rise = 2, .fall = 2, .eject_after = 3,
		.base_ejection_us = 1 * S, .max_ejection_us = 60 * S, .max_ejected_pct = 50,
	};
}

static const struct health_tier_view big_tier = { .backends = 10, .ejected = 0 };

static void assert_reason_has(const struct health_transition *tr, const char *want)
{
	if (!strstr(tr->reason, want))
		fail_msg("reason \"%s\" lacks \"%s\"", tr->reason, want);
}

/* Feed n RST-on-SYN signals; returns the last result. */
static enum health_signal_result rsts(struct health *h, const struct health_params *p,
				      int n, uint64_t now, struct health_transition *tr)
{
	enum health_signal_result r = HEALTH_SIGNAL_IGNORED;

	for (int i = 0; i < n; i++)
		r = health_passive(h, p, VEER_EV_RST_ON_SYN, &big_tier, now, tr);
	return r;
}

static void make_healthy(struct health *h, const struct health_params *p, uint64_t now)
{
	health_init(h, now);
	for (uint32_t i = 0; i < p->rise; i++)
		health_probe_ok(h, p, 100, now, NULL);
	assert_int_equal(health_state(h), VEER_H_HEALTHY);
}

static void test_unknown_is_usable(void **state)
{
	struct health h;

	(void)state;
	health_init(&h, 5);
	assert_int_equal(health_state(&h), VEER_H_UNKNOWN);
	assert_true(health_usable(&h));
	assert_true(health_keeps_flows(&h));
	assert_int_equal(health_datapath_state(&h), VEER_BE_ACTIVE);
	assert_string_equal(h.reason, "not probed yet");
	assert_int_equal(health_next_deadline(&h), 0);
}

static void test_rise(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	p.rise = 3;
	health_init(&h, 0);
	assert_false(health_probe_ok(&h, &p, 120, 1 * S, &tr));
	assert_false(health_probe_ok(&h, &p, 120, 2 * S, &tr));
	assert_true(health_probe_ok(&h, &p, 250, 3 * S, &tr));
	assert_int_equal(tr.from, VEER_H_UNKNOWN);
	assert_int_equal(tr.to, VEER_H_HEALTHY);
	assert_int_equal(tr.at_us, 3 * S);
	assert_reason_has(&tr, "3 consecutive probe successes");
	assert_int_equal(h.latency_us, 250);
	assert_false(health_probe_ok(&h, &p, 120, 4 * S, &tr));
}

static void test_fall(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	assert_false(health_probe_fail(&h, &p, "timeout", 1 * S, &tr));
	assert_int_equal(h.fail_streak, 1);
	assert_true(health_probe_fail(&h, &p, "connect: Connection refused", 2 * S, &tr));
	assert_int_equal(tr.from, VEER_H_HEALTHY);
	assert_int_equal(tr.to, VEER_H_UNHEALTHY);
	assert_reason_has(&tr, "2 consecutive probe failures: connect: Connection refused");
	assert_false(health_usable(&h));
	assert_false(health_keeps_flows(&h));
	assert_int_equal(health_datapath_state(&h), VEER_BE_DOWN);
	/* Back up after `rise` successes. */
	assert_false(health_probe_ok(&h, &p, 90, 3 * S, &tr));
	assert_true(health_probe_ok(&h, &p, 90, 4 * S, &tr));
	assert_int_equal(tr.from, VEER_H_UNHEALTHY);
	assert_int_equal(tr.to, VEER_H_HEALTHY);
}

/* A fresh start: one failure keeps UNKNOWN (usable), `fall` mark it down. */
static void test_unknown_first_failures(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	health_init(&h, 0);
	assert_false(health_probe_fail(&h, &p, "timeout", 1, &tr));
	assert_true(health_usable(&h));
	assert_true(health_probe_fail(&h, &p, "timeout", 2, &tr));
	assert_int_equal(tr.from, VEER_H_UNKNOWN);
	assert_int_equal(tr.to, VEER_H_UNHEALTHY);
}

/* Alternating results never complete a streak: no transition at all. */
static void test_flap_holds_state(void **state)
{
	struct health_params p = params(true);
	struct health h;
	int transitions = 0;

	(void)state;
	make_healthy(&h, &p, 0);
	for (int i = 0; i < 50; i++) {
		uint64_t t = (uint64_t)i * 300 * MS;

		transitions += i % 2 ? health_probe_ok(&h, &p, 100, t, NULL)
				     : health_probe_fail(&h, &p, "timeout", t, NULL);
	}
	assert_int_equal(transitions, 0);
	assert_int_equal(health_state(&h), VEER_H_HEALTHY);
	/* ok ok fail fail ok ok ...: every pair completes a streak. */
	for (int i = 0; i < 8; i++) {
		uint64_t t = 20 * S + (uint64_t)i * S;

		transitions += (i / 2) % 2 ? health_probe_ok(&h, &p, 100, t, NULL)
					   : health_probe_fail(&h, &p, "timeout", t, NULL);
	}
	assert_int_equal(transitions, 4);
}

static void test_ejection_and_signal_reset(void **state)
{
	struct health_params p = params(false);
	struct health_transition tr;
	struct health h;

	(void)state;
	health_init(&h, 0);
	assert_int_equal(rsts(&h, &p, 2, 1, &tr), HEALTH_SIGNAL_COUNTED);
	/* A probe success between signals restarts the count. */
	health_probe_ok(&h, &p, 100, 2, NULL);
	assert_int_equal(rsts(&h, &p, 2, 3, &tr), HEALTH_SIGNAL_COUNTED);
	assert_int_equal(health_state(&h), VEER_H_UNKNOWN);
	assert_int_equal(rsts(&h, &p, 1, 10 * S, &tr), HEALTH_SIGNAL_EJECTED);
	assert_int_equal(tr.to, VEER_H_EJECTED);
	assert_string_equal(tr.reason, "3 consecutive RST on SYN; ejected 1000 ms");
	assert_int_equal(health_datapath_state(&h), VEER_BE_DOWN);
	assert_false(health_keeps_flows(&h));
	assert_int_equal(health_next_deadline(&h), 11 * S);
	/* More signals while ejected change nothing. */
	assert_int_equal(rsts(&h, &p, 5, 10 * S + 1, &tr), HEALTH_SIGNAL_IGNORED);
	assert_false(health_tick(&h, &p, 11 * S - 1, &tr));
	/* No probes: the clock re-admits. */
	assert_true(health_tick(&h, &p, 11 * S, &tr));
	assert_int_equal(tr.from, VEER_H_EJECTED);
	assert_int_equal(tr.to, VEER_H_UNKNOWN);
	assert_true(health_usable(&h));
	assert_int_equal(health_next_deadline(&h), 0);
}

/* Eject, let the time run out, return `quiet` µs later; the duration. */
static uint64_t eject_cycle(struct health *h, const struct health_params *p, uint64_t *now,
			    uint64_t quiet)
{
	uint64_t duration;

	assert_int_equal(rsts(h, p, 3, *now, NULL), HEALTH_SIGNAL_EJECTED);
	duration = health_next_deadline(h) - *now;
	*now += duration;
	assert_true(health_tick(h, p, *now, NULL));
	*now += quiet;
	return duration;
}

static void test_ejection_growth_and_cap(void **state)
{
	static const uint64_t want_s[] = { 1, 2, 4, 8, 10, 10 };
	struct health_params p = params(false);
	struct health h;
	uint64_t now = 0;

	(void)state;
	p.max_ejection_us = 10 * S;
	health_init(&h, 0);
	for (size_t i = 0; i < sizeof(want_s) / sizeof(want_s[0]); i++)
		assert_int_equal(eject_cycle(&h, &p, &now, 1 * S), want_s[i] * S);
	assert_int_equal(h.ejections, 6);
	/* Three max-ejection times of quiet: the level decays by three. */
	now += 30 * S;
	assert_int_equal(eject_cycle(&h, &p, &now, 0), 8 * S);
	/* A long quiet period forgets the past entirely. */
	now += 3600 * S;
	assert_int_equal(eject_cycle(&h, &p, &now, 0), 1 * S);
	assert_int_equal(h.ejections, 8);
}

static void test_ejection_share_cap(void **state)
{
	struct health_params p = params(false);
	struct health_tier_view half = { .backends = 4, .ejected = 2 };
	struct health_tier_view one_out = { .backends = 4, .ejected = 1 };
	struct health_tier_view alone = { .backends = 1, .ejected = 0 };
	struct health_transition tr;
	struct health h;

	(void)state;
	health_init(&h, 0);
	for (int i = 0; i < 2; i++)
		health_passive(&h, &p, VEER_EV_SYN_RETRANS, &half, 1, &tr);
	/* 3 of 4 ejected would exceed 50%: refused, state unchanged. */
	assert_int_equal(health_passive(&h, &p, VEER_EV_SYN_RETRANS, &half, 2, &tr),
			 HEALTH_SIGNAL_REFUSED);
	assert_int_equal(health_state(&h), VEER_H_UNKNOWN);
	assert_int_equal(h.ejections, 0);
	/* A lone backend is never ejected at 50%. */
	assert_int_equal(health_passive(&h, &p, VEER_EV_SYN_RETRANS, &alone, 3, &tr),
			 HEALTH_SIGNAL_REFUSED);
	/* Once the tier has room, the next signal ejects. */
	assert_int_equal(health_passive(&h, &p, VEER_EV_SYN_RETRANS, &one_out, 4, &tr),
			 HEALTH_SIGNAL_EJECTED);
	assert_reason_has(&tr, "5 consecutive SYN retransmit");
	/* 100% allows even the last one. */
	health_init(&h, 0);
	p.max_ejected_pct = 100;
	for (int i = 0; i < 3; i++)
		health_passive(&h, &p, VEER_EV_ICMP_UNREACH, &alone, 5, &tr);
	assert_int_equal(health_state(&h), VEER_H_EJECTED);
}

/* With probes, `rise` successes since the ejection began re-admit. */
static void test_readmission_probes_during_ejection(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	rsts(&h, &p, 3, 10 * S, NULL);
	assert_int_equal(health_state(&h), VEER_H_EJECTED);
	/* Successes during the ejection count but do not cut it short. */
	assert_false(health_probe_ok(&h, &p, 100, 10 * S + 300 * MS, &tr));
	assert_false(health_probe_ok(&h, &p, 100, 10 * S + 600 * MS, &tr));
	assert_true(health_tick(&h, &p, 11 * S, &tr));
	assert_int_equal(tr.to, VEER_H_HEALTHY);
	assert_reason_has(&tr, "ejection over; 2 probe successes");
}

static void test_readmission_waits_for_probes(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	rsts(&h, &p, 3, 10 * S, NULL);
	/* The time is over, but no probe has vouched for it yet. */
	assert_false(health_tick(&h, &p, 11 * S, &tr));
	assert_int_equal(health_state(&h), VEER_H_EJECTED);
	assert_int_equal(health_next_deadline(&h), 0);
	assert_false(health_probe_ok(&h, &p, 100, 12 * S, &tr));
	assert_true(health_probe_ok(&h, &p, 100, 13 * S, &tr));
	assert_int_equal(tr.from, VEER_H_EJECTED);
	assert_int_equal(tr.to, VEER_H_HEALTHY);
	assert_int_equal(tr.at_us, 13 * S);
}

static void test_ejected_then_probes_fail(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	rsts(&h, &p, 3, 10 * S, NULL);
	/* `fall` failures inside the ejection: still EJECTED until it ends. */
	assert_false(health_probe_fail(&h, &p, "HTTP 503", 10 * S + 100 * MS, &tr));
	assert_false(health_probe_fail(&h, &p, "HTTP 503", 10 * S + 200 * MS, &tr));
	assert_true(health_tick(&h, &p, 11 * S, &tr));
	assert_int_equal(tr.to, VEER_H_UNHEALTHY);
	assert_string_equal(tr.reason, "ejection over; probes failing: HTTP 503");
	/* Signals on an unhealthy backend are not counted. */
	assert_int_equal(rsts(&h, &p, 3, 12 * S, &tr), HEALTH_SIGNAL_IGNORED);
	assert_int_equal(h.ejections, 1);
}

static void test_drain_undrain(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	assert_true(health_drain(&h, true, 1 * S, &tr));
	assert_int_equal(tr.to, VEER_H_DRAINING);
	assert_string_equal(tr.reason, "drain requested");
	assert_false(health_usable(&h));
	assert_true(health_keeps_flows(&h));
	assert_int_equal(health_datapath_state(&h), VEER_BE_DRAINING);
	/* Successful probes do not undo a drain. */
	assert_false(health_probe_ok(&h, &p, 100, 2 * S, &tr));
	assert_int_equal(health_state(&h), VEER_H_DRAINING);
	assert_true(health_drain(&h, false, 3 * S, &tr));
	assert_int_equal(tr.from, VEER_H_DRAINING);
	assert_int_equal(tr.to, VEER_H_HEALTHY);
	assert_string_equal(tr.reason, "undrain requested");
}

/* A drained backend that dies reads UNHEALTHY (its flows re-pick), and on
 * recovery returns to DRAINING, not to service. */
static void test_drain_survives_failure(void **state)
{
	struct health_params p = params(true);
	struct health_transition tr;
	struct health h;

	(void)state;
	make_healthy(&h, &p, 0);
	health_drain(&h, true, 1 * S, NULL);
	health_probe_fail(&h, &p, "timeout", 2 * S, NULL);
	assert_true(health_probe_fail(&h, &p, "timeout", 3 * S, &tr));
	assert_int_equal(tr.from, VEER_H_DRAINING);
	assert_int_equal(tr.to, VEER_H_UNHEALTHY);
	assert_int_equal(health_datapath_state(&h), VEER_BE_DOWN);
	health_probe_ok(&h, &p, 100, 4 * S, NULL);
	assert_true(health_probe_ok(&h, &p, 100, 5 * S, &tr));
	assert_int_equal(tr.to, VEER_H_DRAINING);
	/* Draining an unhealthy backend is recorded but changes no state. */
	health_drain(&h, false, 6 * S, NULL);
	health_probe_fail(&h, &p, "timeout", 7 * S, NULL);
	health_probe_fail(&h, &p, "timeout", 8 * S, NULL);
	assert_false(health_drain(&h, true, 9 * S, &tr));
	assert_int_equal(health_state(&h), VEER_H_UNHEALTHY);
}

static void test_reason_texts(void **state)
{
	struct health_params p = params(false);
	struct health_transition tr;
	struct health h;
	char long_error[200];

	(void)state;
	health_init(&h, 0);
	assert_int_equal(health_passive(&h, &p, VEER_EV_NEW_FLOW, &big_tier, 1, &tr),
			 HEALTH_SIGNAL_IGNORED);
	health_passive(&h, &p, VEER_EV_RST_ON_SYN, &big_tier, 1, &tr);
	health_passive(&h, &p, VEER_EV_ICMP_UNREACH, &big_tier, 1, &tr);
	health_passive(&h, &p, VEER_EV_RST_ON_SYN, &big_tier, 1, &tr);
	assert_string_equal(tr.reason, "3 consecutive passive failures; ejected 1000 ms");
	/* A long probe error is cut to fit veer_health.reason. */
	p = params(true);
	health_init(&h, 0);
	memset(long_error, 'x', sizeof(long_error) - 1);
	long_error[sizeof(long_error) - 1] = '\0';
	health_probe_fail(&h, &p, long_error, 1, NULL);
	assert_true(health_probe_fail(&h, &p, long_error, 2, &tr));
	assert_int_equal(strlen(tr.reason), VEER_REASON_LEN - 1);
	/* Passive ejection off. */
	p.eject_after = 0;
	health_init(&h, 0);
	assert_int_equal(rsts(&h, &p, 10, 1, &tr), HEALTH_SIGNAL_IGNORED);
}

static void test_export(void **state)
{
	struct health_params p = params(true);
	struct veer_health out;
	struct health h;

	(void)state;
	health_init(&h, 0);
	health_probe_ok(&h, &p, 321, 1 * S, NULL);
	health_probe_ok(&h, &p, 321, 2 * S, NULL);
	health_probe_fail(&h, &p, "timeout", 3 * S, NULL);
	health_export(&h, 5 * S, 1000000000000ull, &out);
	assert_int_equal(out.state, VEER_H_HEALTHY);
	assert_int_equal(out.latency_us, 321);
	assert_int_equal(out.fail_streak, 1);
	assert_int_equal(out.ejections, 0);
	/* The transition was 3 s before "now". */
	assert_int_equal(out.since_ns, 1000000000000ull - 3000000000ull);
	assert_string_equal(out.reason, "2 consecutive probe successes, 321 us");
	assert_string_equal(health_state_name(out.state), "healthy");
}

static void test_params_from_cfg(void **state)
{
	struct cfg_probe probe = { .type = PROBE_NONE, .rise = 0, .fall = 3 };
	struct cfg_outlier o = { .consecutive = 3, .base_ejection_ms = 2000,
				 .max_ejection_ms = 500, .max_ejected_pct = 50 };
	struct health_params p;

	(void)state;
	health_params_from_cfg(&p, &probe, &o);
	assert_false(p.probes);
	assert_int_equal(p.rise, 1);
	assert_int_equal(p.fall, 3);
	assert_int_equal(p.base_ejection_us, 2 * S);
	assert_int_equal(p.max_ejection_us, 2 * S);
	probe.type = PROBE_HTTP;
	health_params_from_cfg(&p, &probe, &o);
	assert_true(p.probes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_is_usable),
		cmocka_unit_test(test_rise),
		cmocka_unit_test(test_fall),
		cmocka_unit_test(test_unknown_first_failures),
		cmocka_unit_test(test_flap_holds_state),
		cmocka_unit_test(test_ejection_and_signal_reset),
		cmocka_unit_test(test_ejection_growth_and_cap),
		cmocka_unit_test(test_ejection_share_cap),
		cmocka_unit_test(test_readmission_probes_during_ejection),
		cmocka_unit_test(test_readmission_waits_for_probes),
		cmocka_unit_test(test_ejected_then_probes_fail),
		cmocka_unit_test(test_drain_undrain),
		cmocka_unit_test(test_drain_survives_failure),
		cmocka_unit_test(test_reason_texts),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_params_from_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
