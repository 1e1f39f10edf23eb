// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From backend health to the datapath, for one service: the tier policy
 * picks effective weights, Maglev turns them into a table, and the maps
 * are written in an order that never exposes a half state:
 *   1. backends that become usable or draining are marked so first;
 *   2. the new table is swapped in with one map update;
 *   3. the service entry (table size, flags) follows, or goes first when
 *      the table shrinks, so an index is never beyond the installed table;
 *   4. backends that went down are marked last, so the flows they lose
 *      are re-picked from a table that no longer holds them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "log.h"
#include "maglev.h"

static void write_backend(struct agent *a, struct agent_backend *b, uint8_t state)
{
	struct veer_backend v = {
		.addr = b->cfg.addr,
		.port = htons(b->cfg.port),
		.family = b->cfg.family,
		.state = state,
		.tier = b->cfg.tier,
		.weight = b->cfg.weight,
		.svc_id = b->svc->id,
	};

	if (b->cfg.nat == NAT_FULL)
		v.flags |= VEER_BE_F_NAT_FULL;
	if (b->cfg.encap == ENCAP_IPIP)
		v.flags |= VEER_BE_F_ENCAP_IPIP;
	if (b->cfg.family == VEER_AF_INET && a->cfg->node.has_snat4)
		v.snat = a->cfg->node.snat4;
	else if (b->cfg.family == VEER_AF_INET6 && a->cfg->node.has_snat6)
		v.snat = a->cfg->node.snat6;
	if (bpf_map_update_elem(a->maps.be, &b->id, &v, BPF_ANY))
		pr_err("backend write failed", "id=%u errno=%d", b->id, errno);
	b->dp_state = state;
}

static struct veer_svc_key service_key(const struct agent_service *s)
{
	struct veer_svc_key k = {
		.vip = s->cfg.vip,
		.port = htons(s->cfg.port),
		.proto = s->cfg.proto,
		.family = s->cfg.family,
	};
	return k;
}

void service_write_meta(struct agent *a, struct agent_service *s)
{
	struct veer_svc_meta m = { .key = service_key(s), .in_use = 1 }, old;

	snprintf(m.name, sizeof(m.name), "%s", s->cfg.name);
	m.active_tier = s->decision.active_tier;
	m.panic = s->decision.panic;
	if (!bpf_map_lookup_elem(a->maps.meta, &s->id, &old) && old.in_use)
		m.tier_since_ns = old.tier_since_ns;
	if (s->decision.shifted || !m.tier_since_ns)
		m.tier_since_ns = agent_now_real_ns();
	bpf_map_update_elem(a->maps.meta, &s->id, &m, BPF_ANY);
}

static int write_service(struct agent *a, struct agent_service *s)
{
	struct veer_svc_key k = service_key(s);
	struct veer_svc v = {
		.id = s->id,
		.table_size = s->table_m,
		.flags = s->flags,
		.udp_timeout_s = 0,
	};

	return bpf_map_update_elem(a->maps.svc, &k, &v, BPF_ANY) ? -errno : 0;
}

/* Decide effective weights; fills eff[] (n_be entries). */
static int decide(struct agent *a, struct agent_service *s, uint32_t *eff, struct tier_decision *d)
{
	struct tier_backend *tb = calloc(s->n_be ? s->n_be : 1, sizeof(*tb));
	int ret;

	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_be; i++) {
		tb[i].tier = s->be[i]->cfg.tier;
		tb[i].weight = s->be[i]->cfg.weight;
		tb[i].usable = health_usable(&s->be[i]->health);
	}
	ret = tier_decide(tb, s->n_be, &s->cfg.failover, &s->tier, loop_now_us(), eff, d);
	free(tb);
	(void)a;
	return ret;
}

static int build_table(struct agent *a, struct agent_service *s, const uint32_t *eff,
		       uint32_t *table)
{
	struct maglev_backend *mb = calloc(s->n_be ? s->n_be : 1, sizeof(*mb));
	int ret;

	if (!mb)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_be; i++) {
		mb[i].id = s->be[i]->id;
		mb[i].weight = eff[i];
		mb[i].addr = s->be[i]->cfg.addr;
		mb[i].port = s->be[i]->cfg.port;
		mb[i].family = s->be[i]->cfg.family;
	}
	ret = maglev_build(mb, s->n_be, s->cfg.maglev_size, a->cfg->node.hash_seed, table);
	free(mb);
	return ret;
}

static void log_decision(struct agent *a, struct agent_service *s, const struct tier_decision *d)
{
	char extra[128];

	if (d->shifted) {
		a->ctr.tier_shifts++;
		pr_info("tier shift", "service=%s from=%d to=%d", s->cfg.name,
			d->shift_from == TIER_NONE ? -1 : (int)d->shift_from,
			d->shift_to == TIER_NONE ? -1 : (int)d->shift_to);
		snprintf(extra, sizeof(extra), "\"from\":%d,\"to\":%d",
			 d->shift_from == TIER_NONE ? -1 : (int)d->shift_from,
			 d->shift_to == TIER_NONE ? -1 : (int)d->shift_to);
		agent_emit(a, "tier_shift", s, NULL, extra);
	}
	if (d->panic_changed) {
		if (d->panic)
			a->ctr.panics++;
		pr_warn(d->panic ? "panic: no usable backend" : "panic over", "service=%s rule=%s",
			s->cfg.name, s->cfg.failover.panic == PANIC_REFUSE ? "refuse" : "use_all");
		agent_emit(a, d->panic ? "panic" : "panic_over", s, NULL, NULL);
	}
}


void service_on_recheck(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent_service *s = arg;

	(void)l; (void)t;
	service_rebuild(s->agent, s);
}

int service_rebuild(struct agent *a, struct agent_service *s)
{
	uint32_t m = s->cfg.maglev_size, *eff, *table, flags;
	struct tier_decision d;
	int ret, fd;
	bool same;

	eff = calloc(s->n_be ? s->n_be : 1, sizeof(*eff));
	table = malloc(m * sizeof(*table));
	if (!eff || !table) {
		ret = -ENOMEM;
		goto out;
	}
	ret = decide(a, s, eff, &d);
	if (!ret)
		ret = build_table(a, s, eff, table);
	if (ret)
		goto out;
	flags = (d.refuse ? VEER_SVC_F_REFUSE : 0) | (d.empty ? VEER_SVC_F_EMPTY : 0);

	/* 1. backends that take flows (new ones included) */
	for (size_t i = 0; i < s->n_be; i++) {
		uint8_t st = health_datapath_state(&s->be[i]->health);

		if (st != VEER_BE_DOWN && st != s->be[i]->dp_state)
			write_backend(a, s->be[i], st);
	}
	same = s->table && s->table_m == m && !memcmp(s->table, table, m * sizeof(*table));
	if (!same) {
		fd = dp_table_create(s->id, m, table);
		if (fd < 0) {
			ret = fd;
			goto out;
		}
		if (s->table_m > m)	/* shrinking: size first, old table is larger */
			s->table_m = m, write_service(a, s);
		ret = dp_table_install(&a->maps, s->id, fd);
		close(fd);
		if (ret)
			goto out;
		if (s->table && s->table_m == m)
			pr_debug("table updated", "service=%s slots_moved=%u", s->cfg.name,
				 maglev_slots_changed(s->table, table, m));
		free(s->table);
		s->table = table;
		table = NULL;
	}
	s->table_m = m;
	s->flags = flags;
	ret = write_service(a, s);
	/* 4. backends whose flows must move */
	for (size_t i = 0; i < s->n_be; i++) {
		uint8_t st = health_datapath_state(&s->be[i]->health);

		if (st == VEER_BE_DOWN && st != s->be[i]->dp_state)
			write_backend(a, s->be[i], st);
	}
	s->decision = d;
	log_decision(a, s, &d);
	service_write_meta(a, s);
	if (d.next_check_us && s->recheck)
		loop_timer_arm(a->loop, s->recheck, d.next_check_us > loop_now_us() ?
			       d.next_check_us - loop_now_us() : 0);
out:
	if (ret)
		pr_err("service table update failed", "service=%s error=%s", s->cfg.name,
		       strerror(-ret));
	free(eff);
	free(table);
	return ret;
}
