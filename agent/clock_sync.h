/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Measure how jiffies map to CLOCK_MONOTONIC and give the datapath its
 * conntrack clock (struct veer_clock in include/veer_abi.h). */
#ifndef VEER_CLOCK_SYNC_H
#define VEER_CLOCK_SYNC_H

#include <stddef.h>
#include "veer_abi.h"

/* The kernel's tick from two samples several ticks apart, snapped to an
 * HZ Linux builds with. 0, or -1 with err filled when the samples do not
 * tell (jiffies stood still, no known HZ fits). */
int clock_tick(const struct veer_clock_sample *a, const struct veer_clock_sample *b,
	       __u64 *tick_ns, char *err, size_t errlen);
/* CLOCK_MONOTONIC at jiffies 0 (mod 2^64): the earliest of n samples
 * (taken right after jiffies moved), i.e. as of a jiffies increment. */
__u64 clock_base(const struct veer_clock_sample *s, size_t n, __u64 tick_ns);

/* Sample with the loaded object's veer_clock_sample program and write
 * veer_clock_v1. 0, or a negative errno with err filled. */
int clock_sync(int sample_prog_fd, int clock_map_fd, char *err, size_t errlen);

#endif
