/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Datapath benchmark helpers (tests/bench/lib/): a namespace with a routed
 * veth so FIB lookups succeed, the loaded datapath with a full-size
 * conntrack, map filling at scale, and the per-CPU counters that prove
 * every timed iteration took the path it was meant to.
 */
#ifndef VEER_BENCH_H
#define VEER_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "veer_abi.h"

/* Addresses (all inside the benchmark's own network namespace). */
#define B_VIP      "10.200.100.1"	/* the measured service */
#define B_CLIENT   "10.200.1.10"
#define B_OTHER    "10.99.0.1"		/* not a service */
#define B_VPORT    80
#define B_UDPPORT  53
#define B_BPORT    8080
#define B_SVC      1			/* measured service id */
#define B_BE_SELF  2001			/* backend = the VIP itself, see bpf_bench.c */
#define B_FILL_BE0 3000			/* first backend id of the filler services */
#define B_M        16381		/* measured service's Maglev size */
#define B_FILL_M   251			/* filler services' Maglev size */
#define B_CT_FILL  1000000		/* conntrack entries pre-filled */
#define B_FILLERS  9999			/* filler services: 10 000 with the measured one */

struct bench {
	int xdp, tc;			/* program fds */
	int xdp_empty, tc_empty;	/* the floor: return PASS / OK */
	int replay_xdp, replay_tc;	/* the replay driver (lib/replay.bpf.c) */
	int cfg, svc, be, maglev, ct, rnat, ctsyn, svcst, drops, ifc, tx, ports, meta, vips, synq;
	struct veer_syn_slot *synq_mem;	/* veer_synq_v1, mmap */
	int flowgen;			/* veer_flowgen_v1 */
	int ncpu;
	uint32_t in_ifindex;		/* packets "arrive" here */
	uint32_t out_ifindex;		/* the route to backends and VIPs */
	uint32_t n_fill;		/* filler services installed */
	uint32_t inner_flags;		/* map flags of a Maglev inner table */
};

/* Enter a new network namespace and build the routed veth. */
int bench_netns(struct bench *b);
/* Load the datapath (conntrack 1M) and the two empty programs. */
int bench_load(struct bench *b);
void bench_unload(struct bench *b);

/* The measured service (id B_SVC, proto) with n backends 1..n and a
 * Maglev table over them, plus the backend B_BE_SELF (the VIP itself). */
int bench_measured_svc(struct bench *b, uint8_t proto, uint32_t n_be);
/* Filler services 2..B_FILLERS+1 (VIPs in 10.202/16, M=B_FILL_M, one
 * backend each). */
int bench_fill_services(struct bench *b);
/* Pre-fill conntrack and reverse NAT with B_CT_FILL flows of the fillers. */
int bench_fill_ct(struct bench *b);
/* The reverse entry of the client's flow from port cport on B_BE_SELF: its
 * replies come from the VIP itself and are rewritten to the same bytes. */
int bench_put_reply(struct bench *b, uint16_t cport);
/* A conntrack entry for one flow of the measured service, on B_BE_SELF. */
int bench_put_flow(struct bench *b, const struct veer_flow *f, uint8_t state);
/* Turn the datapath's established-flow cache on or off (as
 * conntrack.flow_cache does). */
int bench_flow_cache(struct bench *b, int on);

/* Every half-open slot free, or (taken) held by another client's live
 * flow, as under a SYN flood that has taken them all. */
void bench_synq_fill(struct bench *b, int taken);
/* The backend a half-open flow went to: its slot, else veer_ctsyn_v1. */
int bench_half_open_backend(struct bench *b, const struct veer_flow *k, uint32_t *be_id);

/* The replay driver (lib/replay.bpf.c): a batch of distinct frames in
 * one test_run call, each handed to prog_fd by a tail call. Load it after
 * bench_netns; point it at a program (tc: a tc one); give it up to REPLAY_FRAMES frames
 * of REPLAY_LEN bytes, run from the first on the next call. */
int bench_replay_load(struct bench *b);
void bench_replay_unload(void);
int bench_replay_target(int tc, int prog_fd);
int bench_replay_frames(uint8_t (*pkts)[128], const size_t *lens, uint32_t n);

/* Counters summed over CPUs. */
void bench_reasons(struct bench *b, uint64_t *out /* [VEER_R__COUNT] */);
struct veer_svc_stats bench_svc_stats(struct bench *b, uint32_t id);

uint64_t bench_now_ns(void);
void bench_addr(const char *txt, struct veer_addr *a);

#endif
