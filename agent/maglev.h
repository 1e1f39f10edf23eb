/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI'16): fills a lookup
 * table of M slots (M prime) with backend ids so that each backend owns a
 * share of slots proportional to its weight, and a change to the backend
 * set moves few slots besides those of the backends that changed.
 *
 * A backend's permutation (offset, skip) comes from a hash of its identity
 * (address, family, port) and the seed, never from its id, and backends are
 * placed in the order of their identity: every node given the same config
 * and seed maps the same slot to the same address, whatever ids it chose.
 */
#ifndef VEER_MAGLEV_H
#define VEER_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "veer_abi.h"

struct maglev_backend {
	uint32_t id;		/* written into the table; not hashed */
	uint32_t weight;	/* relative share; 0: left out of the table */
	struct veer_addr addr;	/* identity: network order, IPv4 in v4, rest 0 */
	uint16_t port;		/* identity: host order */
	uint8_t family;		/* identity: VEER_AF_INET / VEER_AF_INET6 */
};

bool maglev_is_prime(uint32_t n);

/* Fill table[0..m) with backend ids; with no backend of weight > 0 every
 * slot is VEER_BACKEND_NONE. The result depends only on the set of
 * (identity, weight, id) and the seed, not on the order of b.
 * Returns 0, -EINVAL (m not prime, NULL table) or -ENOMEM. */
int maglev_build(const struct maglev_backend *b, size_t n, uint32_t m,
		 uint32_t seed, uint32_t *table);

/* counts[i] = slots of table holding ids[i] (ids need not be sorted; slots
 * holding other ids are not counted). Returns 0 or -ENOMEM. */
int maglev_shares(const uint32_t *table, uint32_t m, const uint32_t *ids,
		  size_t n, uint32_t *counts);

/* Slots that differ between two tables of the same size: the flows a
 * rebuild would move, for logs and metrics. */
uint32_t maglev_slots_changed(const uint32_t *a, const uint32_t *b, uint32_t m);

#endif
