/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veer's pinned maps as veerctl reads them: opened by name under the state
 * directory, checked against the layout this veerctl was built for, walked
 * in batches, per-CPU values summed. Open failures are reported here, in
 * words that say what to do, so callers only return EXIT_ERR.
 */
#ifndef VEERCTL_MAPS_H
#define VEERCTL_MAPS_H

#include <stddef.h>
#include <stdint.h>

enum vmap {
	VMAP_CFG, VMAP_SVC, VMAP_BE, VMAP_MAGLEV, VMAP_CT, VMAP_CT_SYN,
	VMAP_RNAT, VMAP_RNAT_SYN, VMAP_SNAT, VMAP_SVC_STAT, VMAP_BE_STAT,
	VMAP_DROPS, VMAP_SVC_META, VMAP_HEALTH, VMAP_SYNQ, VMAP_FLOW_GEN,
	VMAP__COUNT,
};

/* The map's fd (opened once, kept until vmap_close_all), or -errno after
 * printing why it cannot be used. */
int vmap_fd(const char *state_dir, enum vmap m);
/* The same for a map an older veer did not have: -ENOENT, said nothing,
 * if it is not pinned. */
int vmap_fd_optional(const char *state_dir, enum vmap m);
void vmap_close_all(void);
const char *vmap_name(enum vmap m);
/* max_entries of an open map, 0 if unknown. */
uint32_t vmap_capacity(int fd);

/* Called per entry; return 0 to go on, > 0 to stop early, < 0 to fail. */
typedef int (*vmap_walk_fn)(const void *key, const void *value, void *arg);
/* Visit every entry of a map whose entries are key_size / value_size bytes
 * (per-CPU maps: use vmap_percpu_size). Returns 0, the callback's > 0 value,
 * or -errno. */
int vmap_walk(int fd, size_t key_size, size_t value_size, vmap_walk_fn fn, void *arg);

int vmap_ncpus(void);
/* Bytes a lookup of a per-CPU map of value_size fills. */
size_t vmap_percpu_size(size_t value_size);
/* Look up key in a per-CPU map of u64 counters, summing each counter over
 * CPUs into sum (value_size / 8 counters). Returns 0 or -errno. */
int vmap_lookup_sum(int fd, const void *key, size_t value_size, uint64_t *sum);

/* An inner map (Maglev table) by id, checked to hold u32 -> u32. */
int vmap_inner_fd(uint32_t map_id, uint32_t *max_entries);

#endif
