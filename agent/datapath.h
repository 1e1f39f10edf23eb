/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Loading the BPF object and attaching it to interfaces. Maps are pinned by
 * name under the state directory, so a restarted or upgraded veerd reuses
 * them (and the flows in them); XDP links are pinned there too and tc
 * filters live in the kernel, so the datapath keeps forwarding while no
 * veerd runs.
 */
#ifndef VEER_DATAPATH_H
#define VEER_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

struct veer_bpf;

struct dp_opts {
	const char *state_dir;	/* NULL: do not pin (tests, benchmarks) */
	uint32_t ct_size;	/* conntrack entries, 0: VEER_CT_DEFAULT_SIZE */
};

/* Open, size, pin-or-reuse and load. Returns NULL and fills err. */
struct veer_bpf *dp_open_load(const struct dp_opts *o, char *err, size_t errlen);
void dp_close(struct veer_bpf *skel);

enum dp_mode { DP_MODE_XDP = 0, DP_MODE_TC = 1 };

/* Attach to one interface (idempotent: replaces veer's own programs
 * atomically when they are already there). */
int dp_attach(struct veer_bpf *skel, const char *state_dir, int ifindex,
	      const char *ifname, enum dp_mode mode, char *err, size_t errlen);
int dp_detach(const char *state_dir, int ifindex, const char *ifname);
/* Remove every attachment recorded under state_dir and every pin. */
int dp_teardown(const char *state_dir);

#endif
