/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* User space's view of the datapath's half-open slots (veer_synq_v1,
 * bpf/lib/synq.h): read as conntrack entries, cleared by flush. */
#ifndef VEER_SYNQ_SLOTS_H
#define VEER_SYNQ_SLOTS_H

#include <stdint.h>
#include "veer_abi.h"

/* Called per held slot with the flow (struct veer_flow) and its half-open
 * entry (struct veer_ct): the shape of a conntrack map walk's callback, so
 * one function can serve both. For a walk: return 0 to go on, > 0 to
 * stop, < 0 to fail; for a clear: non-zero to free the slot. */
typedef int (*synq_fn)(const void *flow, const void *ct, void *arg);

/* Visit every held slot (stamp set; an expired one too, as the LRU maps
 * keep expired entries until evicted). Returns 0, fn's value, or -errno. */
int synq_walk(int fd, synq_fn fn, void *arg);
/* Free every held slot for which match returns true (a flow's SYN-ACK then
 * finds no state, as after deleting its veer_rnsyn_v1 entry). Returns
 * how many, or -errno. */
int synq_clear(int fd, synq_fn match, void *arg);

#endif
