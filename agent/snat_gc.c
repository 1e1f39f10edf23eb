// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Release of full NAT port claims whose flow ended without the datapath
 * seeing it (LRU eviction of the conntrack entry, idle expiry of a flow
 * that sends nothing more): see snat_gc.h. The datapath releases the
 * claims it can see end itself (bpf/lib/snat.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "log.h"
#include "snat_gc.h"

/* The datapath's defaults for a timeout left at 0 (bpf/lib/conntrack.h). */
#define DEF_SYN_S 30
#define DEF_EST_S 3600
#define DEF_CLOSE_S 10
#define DEF_UDP_S 30

#define SWEEP_BUDGET 200000	/* claims per 1 s tick */

struct orphan_list {
	struct veer_flow *k;
	size_t n, cap;
};

/* Orphans of the previous sweep: deleted if still orphans now. */
static struct orphan_list prev;
static struct veer_flow cursor;
static bool have_cursor;

static uint64_t timeout_ns(uint8_t state, const struct veer_config *c)
{
	uint32_t s;

	switch (state) {
	case VEER_CT_SYN_SENT: s = c->tcp_syn_timeout_s ? c->tcp_syn_timeout_s : DEF_SYN_S; break;
	case VEER_CT_ESTABLISHED: s = c->tcp_est_timeout_s ? c->tcp_est_timeout_s : DEF_EST_S; break;
	case VEER_CT_CLOSING: s = c->tcp_close_timeout_s ? c->tcp_close_timeout_s : DEF_CLOSE_S; break;
	default: s = c->udp_timeout_s ? c->udp_timeout_s : DEF_UDP_S; break;
	}
	return (uint64_t)s * 1000000000ull;
}

/* Does a live conntrack entry hold this claim? */
static bool claim_alive(const struct dp_maps *m, const struct veer_config *c, uint64_t now,
			const struct veer_flow *k, const struct veer_rnat *v)
{
	struct veer_flow cf;
	struct veer_ct ct;
	int fds[2] = { m->ct, m->ctsyn };

	memset(&cf, 0, sizeof(cf));
	cf.src = v->client;
	cf.dst = v->vip;
	cf.sport = v->cport;
	cf.dport = v->vport;
	cf.proto = k->proto;
	cf.family = k->family;
	for (int i = 0; i < 2; i++) {
		if (bpf_map_lookup_elem(fds[i], &cf, &ct))
			continue;
		if (ct.backend_id != v->backend_id || ct.nat_port != k->dport)
			continue;
		if (now > ct.last_seen_ns && now - ct.last_seen_ns > timeout_ns(ct.state, c))
			continue;
		return true;
	}
	return false;
}

static void list_add(struct orphan_list *l, const struct veer_flow *k)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct veer_flow *nk = realloc(l->k, cap * sizeof(*nk));

		if (!nk)
			return;
		l->k = nk;
		l->cap = cap;
	}
	l->k[l->n++] = *k;
}

void snat_gc_sweep_maps(const struct dp_maps *m, uint64_t now, size_t budget,
			struct snat_gc_stats *st)
{
	struct orphan_list cur = { 0 };
	struct veer_config c;
	struct veer_flow key, next;
	struct veer_rnat v;
	uint32_t zero = 0;
	size_t seen = 0;
	int more;

	st->scanned = st->orphans = st->released = 0;
	if (m->snat <= 0)
		return;
	memset(&c, 0, sizeof(c));
	bpf_map_lookup_elem(m->cfg, &zero, &c);

	/* Second strike: orphans of the last sweep that still are. */
	for (size_t i = 0; i < prev.n; i++) {
		if (bpf_map_lookup_elem(m->snat, &prev.k[i], &v))
			continue;
		if (claim_alive(m, &c, now, &prev.k[i], &v))
			continue;
		if (!bpf_map_delete_elem(m->snat, &prev.k[i]))
			st->released++;
	}
	prev.n = 0;

	/* First strike: a pass (or a budget's worth of one) over the map. */
	more = !bpf_map_get_next_key(m->snat, have_cursor ? &cursor : NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(m->snat, &key, &next);
		if (bpf_map_lookup_elem(m->snat, &key, &v))
			continue;
		st->scanned++;
		if (!claim_alive(m, &c, now, &key, &v)) {
			st->orphans++;
			list_add(&cur, &key);
		}
		if (budget && ++seen >= budget)
			break;
	}
	have_cursor = more;
	if (more)
		cursor = key;
	free(prev.k);
	prev = cur;
	st->released_total += st->released;
}

void snat_gc_sweep(struct agent *a)
{
	static struct snat_gc_stats st;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snat_gc_sweep_maps(&a->maps, (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec,
			   SWEEP_BUDGET, &st);
	if (st.released)
		pr_debug("full NAT ports released", "released=%llu orphans=%llu scanned=%llu",
			 (unsigned long long)st.released, (unsigned long long)st.orphans,
			 (unsigned long long)st.scanned);
}
