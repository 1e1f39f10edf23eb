/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the replay driver (replay.bpf.c) and the benchmark. */
#ifndef VEER_BENCH_REPLAY_H
#define VEER_BENCH_REPLAY_H

#define REPLAY_FRAMES 64	/* per call: a NAPI poll's budget */
#define REPLAY_LEN    54	/* Ethernet + IPv4 + TCP without options */
#define REPLAY_MISSED 99	/* no verdict of XDP or tc: the tail call failed */

#endif
