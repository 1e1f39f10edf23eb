// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath's conntrack clock is jiffies * tick_ns + base_ns: reading
 * jiffies costs one load, the coarse-clock helper ~30 ns a packet. Neither
 * number is visible to user space, so they are measured: a tiny program
 * reads jiffies and CLOCK_MONOTONIC at once. Two samples 100 ms apart give
 * the jiffies rate, snapped to an HZ Linux builds with (so the scale is
 * exact: jiffies advance by exactly one tick of monotonic time each). The
 * base is the smallest "monotonic minus jiffies' worth" of samples taken
 * right after jiffies moved: sampling in a loop until they do puts the
 * first new sample within a sampling call (~1 us) of the increment. (The
 * smallest over samples at random phases is off by tick / samples.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "clock_sync.h"

#define NSEC_PER_SEC 1000000000ULL
#define RATE_GAP_NS 100000000L	/* between the two rate samples */
#define EDGES 3			/* jiffies increments sampled for the base */
#define EDGE_WAIT_NS 100000000ull	/* give up waiting for one after this */

/* The CONFIG_HZ choices of x86-64 and arm64. Far enough apart (20% at
 * least) for a 100 ms measurement, a jiffy or two off, to tell them. */
static const unsigned int known_hz[] = { 100, 250, 300, 1000 };

int clock_tick(const struct veer_clock_sample *a, const struct veer_clock_sample *b,
	       __u64 *tick_ns, char *err, size_t errlen)
{
	double hz, best_err = 1e9;
	unsigned int best = 0;
	size_t i;

	if (b->jiffies <= a->jiffies || b->mono_ns <= a->mono_ns) {
		snprintf(err, errlen, "jiffies did not advance (%llu -> %llu in %llu ns)",
			 (unsigned long long)a->jiffies, (unsigned long long)b->jiffies,
			 (unsigned long long)(b->mono_ns - a->mono_ns));
		return -1;
	}
	hz = (double)(b->jiffies - a->jiffies) * NSEC_PER_SEC / (double)(b->mono_ns - a->mono_ns);
	for (i = 0; i < sizeof(known_hz) / sizeof(known_hz[0]); i++) {
		double e = hz > known_hz[i] ? hz / known_hz[i] : known_hz[i] / hz;

		if (e < best_err) {
			best_err = e;
			best = known_hz[i];
		}
	}
	if (best_err > 1.15) {
		snprintf(err, errlen, "measured %.1f ticks a second: no known HZ", hz);
		return -1;
	}
	*tick_ns = (NSEC_PER_SEC + best / 2) / best;	/* the kernel's TICK_NSEC */
	return 0;
}

__u64 clock_base(const struct veer_clock_sample *s, size_t n, __u64 tick_ns)
{
	__u64 base = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		/* Unsigned: the base wraps (jiffies start near 2^32). */
		__u64 b = s[i].mono_ns - s[i].jiffies * tick_ns;

		if (!i || (__s64)(b - base) < 0)
			base = b;
	}
	return base;
}

static int clock_sample(int prog_fd, struct veer_clock_sample *s)
{
	/* A syscall program's context is copied back into ctx_in. */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = s, .ctx_size_in = sizeof(*s));

	memset(s, 0, sizeof(*s));
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	return 0;
}

/* The datapath reads the entry while it is written: the base goes in
 * first with tick 0 (the helper's clock still), then the scale. On a
 * reload the base moves by less than a tick: either value is right. */
static int clock_write(int map_fd, const struct veer_clock *c)
{
	struct veer_clock half;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(map_fd, &zero, &half))
		return -errno;
	half.base_ns = c->base_ns;
	if (!half.tick_ns && bpf_map_update_elem(map_fd, &zero, &half, BPF_ANY))
		return -errno;
	if (bpf_map_update_elem(map_fd, &zero, c, BPF_ANY))
		return -errno;
	return 0;
}

/* The first sample after jiffies next move. */
static int clock_edge(int prog_fd, struct veer_clock_sample *out)
{
	struct veer_clock_sample first, s;
	int ret = clock_sample(prog_fd, &first);

	while (!ret) {
		ret = clock_sample(prog_fd, &s);
		if (!ret && s.jiffies != first.jiffies) {
			*out = s;
			return 0;
		}
		if (!ret && s.mono_ns - first.mono_ns > EDGE_WAIT_NS)
			ret = -ETIMEDOUT;
	}
	return ret;
}

int clock_sync(int sample_prog_fd, int clock_map_fd, char *err, size_t errlen)
{
	struct timespec gap = { 0, RATE_GAP_NS };
	struct veer_clock_sample rate[2], edge[EDGES];
	struct veer_clock c;
	int i, ret;

	ret = clock_sample(sample_prog_fd, &rate[0]);
	if (!ret) {
		nanosleep(&gap, NULL);
		ret = clock_sample(sample_prog_fd, &rate[1]);
	}
	for (i = 0; i < EDGES && !ret; i++)
		ret = clock_edge(sample_prog_fd, &edge[i]);
	if (ret) {
		snprintf(err, errlen, "run the clock sampling program: %s", strerror(-ret));
		return ret;
	}
	if (clock_tick(&rate[0], &rate[1], &c.tick_ns, err, errlen))
		return -ERANGE;
	c.base_ns = clock_base(edge, EDGES, c.tick_ns);
	ret = clock_write(clock_map_fd, &c);
	if (ret)
		snprintf(err, errlen, "%s: %s", VEER_MAP_CLOCK, strerror(-ret));
	return ret;
}
