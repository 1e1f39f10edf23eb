// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The replay driver (replay.bpf.c): loaded, kept in the kernel's XDP
 * dispatcher, pointed at a measured program, fed a batch of frames.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "replay.h"
#include "replay.skel.h"

static struct replay_bpf *replay;

int bench_replay_load(struct bench *b)
{
	uint32_t ifindex = if_nametoindex("vb2");

	replay = replay_bpf__open_and_load();
	if (!replay) {
		fprintf(stderr, "load the replay driver: %s\n", strerror(errno));
		return -1;
	}
	b->replay_xdp = bpf_program__fd(replay->progs.replay_xdp);
	b->replay_tc = bpf_program__fd(replay->progs.replay_tc);
	/* In the dispatcher for good, like the measured programs (see
	 * bench_load): attached to a veth no traffic crosses. */
	if (!ifindex || bpf_xdp_attach(ifindex, b->replay_xdp, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "attach the replay driver to vb2: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void bench_replay_unload(void)
{
	replay_bpf__destroy(replay);
	replay = NULL;
}

int bench_replay_target(int tc, int prog_fd)
{
	struct bpf_map *m = tc ? replay->maps.replay_tc_target : replay->maps.replay_xdp_target;
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(m), &zero, &prog_fd, BPF_ANY);
}

int bench_replay_frames(uint8_t (*pkts)[128], const size_t *lens, uint32_t n)
{
	uint32_t i;

	if (n > REPLAY_FRAMES)
		return -1;
	for (i = 0; i < n; i++) {
		if (lens[i] != REPLAY_LEN)
			return -1;
		memcpy(replay->bss->frames[i], pkts[i], REPLAY_LEN);
	}
	replay->bss->next = 0;
	return 0;
}
