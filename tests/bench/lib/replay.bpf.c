// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark driver: a batch of distinct packets in one test_run call.
 *
 * test_run reuses one buffer for all `repeat` iterations, so a new flow
 * cannot stay new in place. This program writes frame number `next` of a
 * table the benchmark filled (all frames REPLAY_LEN bytes) over the
 * buffer, then tail-calls the measured program (slot 0 of its target map): the
 * measured program sees a different new flow on every iteration, back to
 * back as a NAPI poll would hand them over, instead of one packet per
 * system call (on a VM without PCID each call starts with a flushed TLB).
 * The floor runs the same copy and tail call into the empty program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "replay.h"

/* One per program type: a program array takes programs of one type. */
struct replay_target {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};
struct replay_target replay_xdp_target SEC(".maps");
struct replay_target replay_tc_target SEC(".maps");

__u8 frames[REPLAY_FRAMES][REPLAY_LEN];
__u32 next;

/* Frame `next` over [data, end), then the program in target's slot 0;
 * REPLAY_MISSED if the buffer is too short or the tail call fails. */
static __always_inline int replay_run(void *ctx, void *data, void *end, void *target)
{
	__u32 i = next++ % REPLAY_FRAMES;

	if (data + REPLAY_LEN > end)
		return REPLAY_MISSED;
	__builtin_memcpy(data, frames[i], REPLAY_LEN);
	bpf_tail_call(ctx, target, 0);
	return REPLAY_MISSED;
}

SEC("xdp")
int replay_xdp(struct xdp_md *ctx)
{
	return replay_run(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end,
			  &replay_xdp_target);
}

SEC("tc")
int replay_tc(struct __sk_buff *skb)
{
	return replay_run(skb, (void *)(long)skb->data, (void *)(long)skb->data_end,
			  &replay_tc_target);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
