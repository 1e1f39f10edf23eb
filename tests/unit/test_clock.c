// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The conntrack clock's calibration: HZ from the jiffies rate, the base
 * from samples at several phases of a tick. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "clock_sync.h"

#define J0 4294892296ull	/* jiffies near boot at HZ 250: 2^32 - 300 * 250 */

/* A sample at monotonic time mono of a kernel whose jiffies increment at
 * base + jiffies * tick. */
static struct veer_clock_sample at(uint64_t tick, uint64_t base, uint64_t mono)
{
	struct veer_clock_sample s = { .mono_ns = mono };

	s.jiffies = (mono - base) / tick;
	return s;
}

static uint64_t tick_of(uint64_t jiffies, uint64_t ns)
{
	struct veer_clock_sample a = { J0, 5000000000ull }, b = { J0 + jiffies, 5000000000ull + ns };
	char err[128] = "";
	uint64_t t = 0;

	if (clock_tick(&a, &b, (__u64 *)&t, err, sizeof(err)))
		return 0;
	return t;
}

static void test_tick_snaps_to_hz(void **state)
{
	(void)state;
	assert_int_equal(tick_of(12, 50000000), 4000000);	/* 240/s: HZ 250 */
	assert_int_equal(tick_of(27, 100000000), 4000000);	/* 270/s */
	assert_int_equal(tick_of(100, 100100000), 1000000);	/* HZ 1000 */
	assert_int_equal(tick_of(9, 100000000), 10000000);	/* HZ 100, one jiffy late */
	assert_int_equal(tick_of(31, 100000000), 3333333);	/* HZ 300: TICK_NSEC rounded */
}

static void test_tick_rejects_nonsense(void **state)
{
	struct veer_clock_sample a = { J0, 1000 }, b = { J0, 50001000 };
	char err[128] = "";
	__u64 t = 77;

	(void)state;
	assert_int_equal(clock_tick(&a, &b, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "did not advance"));
	assert_int_equal(t, 77);
	assert_int_equal(tick_of(60, 100000000), 0);	/* 600/s: between 300 and 1000 */
	assert_int_equal(tick_of(5, 0), 0);		/* no time passed */
}

static void test_base_is_the_tick_edge(void **state)
{
	const uint64_t tick = 4000000, base = 123456789;
	struct veer_clock_sample s[5];
	uint64_t mono = base + 1000 * tick;	/* at an increment */
	int i;

	(void)state;
	/* Samples 1.3 ms apart: phases 0.2, 1.5, 2.8, 0.1, 1.4 ms into a tick. */
	for (i = 0; i < 5; i++)
		s[i] = at(tick, base, mono + 200000 + i * 1300000ull);
	assert_int_equal(clock_base(s, 5, tick), base + 100000);
	/* One sample right at an increment: exact. */
	s[2] = at(tick, base, mono + 4 * tick);
	assert_int_equal(clock_base(s, 5, tick), base);
}

static void test_base_wraps(void **state)
{
	const uint64_t tick = 4000000;
	/* Early after boot jiffies * tick exceeds monotonic: the base is
	 * "negative", and the datapath's unsigned sum wraps back. */
	struct veer_clock_sample s[2] = { { J0, 30000000000ull }, { J0 + 1, 30004000000ull } };
	uint64_t b = clock_base(s, 2, tick);

	(void)state;
	assert_true(b > (1ull << 63));
	assert_int_equal(s[1].jiffies * tick + b, 30004000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tick_snaps_to_hz),
		cmocka_unit_test(test_tick_rejects_nonsense),
		cmocka_unit_test(test_base_is_the_tick_edge),
		cmocka_unit_test(test_base_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
