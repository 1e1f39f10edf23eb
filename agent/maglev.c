// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "maglev.h"

/* One backend walking its permutation of the slots while the table fills. */
struct slot_walker {
	const struct maglev_backend *b;
	uint32_t next;		/* next slot of its permutation to try */
	uint32_t skip;
	uint64_t credit;	/* weight earned towards its next turn */
};

bool maglev_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

/* A 64-bit finalizer: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Byte by byte, so the hash is the same on hosts of either endianness. */
static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t identity_hash(const struct maglev_backend *b, uint64_t salt)
{
	uint64_t h = salt;

	h = mix64(h ^ load_le64(b->addr.b));
	h = mix64(h ^ load_le64(b->addr.b + 8));
	h = mix64(h ^ ((uint64_t)b->family << 16 | b->port));
	return h;
}

static void walker_init(struct slot_walker *w, const struct maglev_backend *b,
			uint32_t m, uint32_t seed)
{
	uint64_t offset_salt = mix64(seed);
	uint64_t skip_salt = mix64((uint64_t)seed << 32 | 0x9e3779b9u);

	w->b = b;
	w->next = identity_hash(b, offset_salt) % m;
	/* m prime: any skip in [1, m) visits every slot exactly once. */
	w->skip = m > 1 ? identity_hash(b, skip_salt) % (m - 1) + 1 : 1;
	w->credit = 0;
}

/* Identity order (id only breaks ties between duplicate identities), so
 * the input order of the backends never changes the table. */
static int walker_cmp(const void *pa, const void *pb)
{
	const struct maglev_backend *a = ((const struct slot_walker *)pa)->b;
	const struct maglev_backend *b = ((const struct slot_walker *)pb)->b;
	int c = memcmp(a->addr.b, b->addr.b, sizeof(a->addr.b));

	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static void claim_next_slot(struct slot_walker *w, uint32_t m, uint32_t *table)
{
	while (table[w->next] != VEER_BACKEND_NONE) {
		w->next += w->skip;
		if (w->next >= m)
			w->next -= m;
	}
	table[w->next] = w->b->id;
}

/* Weighted population: each round every backend earns its weight and
 * takes a turn per wmax earned, so turns (and slots) follow the weights;
 * the heaviest backend takes a turn every round, so the loop ends. */
static void populate(struct slot_walker *w, size_t k, uint32_t wmax,
		     uint32_t m, uint32_t *table)
{
	uint32_t filled = 0;

	for (;;) {
		for (size_t i = 0; i < k; i++) {
			w[i].credit += w[i].b->weight;
			if (w[i].credit < wmax)
				continue;
			w[i].credit -= wmax;
			claim_next_slot(&w[i], m, table);
			if (++filled == m)
				return;
		}
	}
}

int maglev_build(const struct maglev_backend *b, size_t n, uint32_t m,
		 uint32_t seed, uint32_t *table)
{
	struct slot_walker *w;
	uint32_t wmax = 0;
	size_t k = 0;

	if (!table || !maglev_is_prime(m))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (b[i].weight && b[i].id == VEER_BACKEND_NONE)
			return -EINVAL;
	for (uint32_t s = 0; s < m; s++)
		table[s] = VEER_BACKEND_NONE;
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!b[i].weight)
			continue;
		walker_init(&w[k++], &b[i], m, seed);
		if (b[i].weight > wmax)
			wmax = b[i].weight;
	}
	if (k) {
		qsort(w, k, sizeof(*w), walker_cmp);
		populate(w, k, wmax, m, table);
	}
	free(w);
	return 0;
}

struct id_index {
	uint32_t id;
	uint32_t index;
};

static int id_index_cmp(const void *pa, const void *pb)
{
	uint32_t a = ((const struct id_index *)pa)->id;
	uint32_t b = ((const struct id_index *)pb)->id;

	return a < b ? -1 : a > b;
}

int maglev_shares(const uint32_t *table, uint32_t m, const uint32_t *ids,
		  size_t n, uint32_t *counts)
{
	struct id_index *sorted = calloc(n ? n : 1, sizeof(*sorted));

	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = (struct id_index){ .id = ids[i], .index = (uint32_t)i };
		counts[i] = 0;
	}
	qsort(sorted, n, sizeof(*sorted), id_index_cmp);
	for (uint32_t s = 0; s < m; s++) {
		struct id_index key = { .id = table[s] };
		struct id_index *hit = n ? bsearch(&key, sorted, n, sizeof(*sorted),
						   id_index_cmp) : NULL;

		if (hit)
			counts[hit->index]++;
	}
	free(sorted);
	return 0;
}

uint32_t maglev_slots_changed(const uint32_t *a, const uint32_t *b, uint32_t m)
{
	uint32_t changed = 0;

	for (uint32_t s = 0; s < m; s++)
		changed += a[s] != b[s];
	return changed;
}
