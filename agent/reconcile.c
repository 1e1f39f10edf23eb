// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reconcile: make the maps say what the config says, keeping every id that
 * still names the same thing (service by name, backend by address and port
 * within its service), so conntrack entries stay valid across reloads and
 * restarts. Order: new backends and tables first (service_rebuild), then
 * keys of moved services, then removals last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "log.h"

/* What a previous veerd left in the pinned maps, to reuse its ids. */
struct adopted_backend {
	uint32_t id, svc_id;
	struct veer_addr addr;
	uint16_t port;		/* host order */
	uint8_t family;
};

static struct {
	char (*svc_name)[VEER_NAME_LEN];	/* by service id; "" free */
	struct adopted_backend *be;
	size_t n_be;
	size_t n_svc;
} adopted;

/* be_used[id]: free, in use, or left by a previous veerd and not yet
 * claimed by this config (claimed on the first apply, else cleaned up). */
enum { BE_ID_FREE = 0, BE_ID_USED = 1, BE_ID_ADOPTED = 2 };
static uint8_t *be_used;
static uint32_t be_cursor, svc_cursor;

static int cmp_adopted(const void *x, const void *y)
{
	const struct adopted_backend *a = x, *b = y;
	int c;

	if (a->svc_id != b->svc_id)
		return a->svc_id < b->svc_id ? -1 : 1;
	if (a->family != b->family)
		return a->family - b->family;
	c = memcmp(&a->addr, &b->addr, sizeof(a->addr));
	if (c)
		return c;
	return (int)a->port - (int)b->port;
}

int agent_adopt(struct agent *a)
{
	struct veer_svc_meta meta;
	struct veer_backend be;
	size_t cap = 0;

	adopted.svc_name = calloc(VEER_MAX_SERVICES, sizeof(*adopted.svc_name));
	be_used = calloc(VEER_MAX_BACKENDS, 1);
	a->svc_used = calloc(VEER_MAX_SERVICES, 1);
	a->be_by_id = calloc(VEER_MAX_BACKENDS, sizeof(*a->be_by_id));
	if (!adopted.svc_name || !be_used || !a->svc_used || !a->be_by_id)
		return -ENOMEM;
	for (uint32_t id = 0; id < VEER_MAX_SERVICES; id++)
		if (!bpf_map_lookup_elem(a->maps.meta, &id, &meta) && meta.in_use) {
			snprintf(adopted.svc_name[id], VEER_NAME_LEN, "%s", meta.name);
			adopted.n_svc++;
		}
	for (uint32_t id = 0; id < VEER_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(a->maps.be, &id, &be) || be.state == VEER_BE_UNUSED)
			continue;
		if (adopted.n_be == cap) {
			struct adopted_backend *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(adopted.be, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			adopted.be = n;
		}
		be_used[id] = BE_ID_ADOPTED;
		adopted.be[adopted.n_be++] = (struct adopted_backend){
			.id = id, .svc_id = be.svc_id, .addr = be.addr,
			.port = ntohs(be.port), .family = be.family,
		};
	}
	qsort(adopted.be, adopted.n_be, sizeof(*adopted.be), cmp_adopted);
	if (adopted.n_be)
		pr_info("adopted pinned state", "backends=%zu state_dir=%s", adopted.n_be, a->state_dir);
	return 0;
}

static bool adopted_svc_free(uint32_t id)
{
	return !adopted.svc_name || !adopted.svc_name[id][0];
}

static int alloc_svc_id(struct agent *a, const char *name)
{
	if (adopted.svc_name && adopted.n_svc)
		for (uint32_t id = 0; id < VEER_MAX_SERVICES; id++)
			if (!strcmp(adopted.svc_name[id], name) && !a->svc_used[id]) {
				a->svc_used[id] = 1;
				return id;
			}
	for (uint32_t n = 0; n < VEER_MAX_SERVICES; n++) {
		uint32_t id = (svc_cursor + n) % VEER_MAX_SERVICES;

		if (!a->svc_used[id] && adopted_svc_free(id)) {
			a->svc_used[id] = 1;
			svc_cursor = id + 1;
			return id;
		}
	}
	return -ENOSPC;
}

static struct adopted_backend *find_adopted(uint32_t svc_id, const struct cfg_backend *cb)
{
	struct adopted_backend key = {
		.svc_id = svc_id, .addr = cb->addr, .port = cb->port, .family = cb->family,
	};

	if (!adopted.n_be)
		return NULL;
	return bsearch(&key, adopted.be, adopted.n_be, sizeof(key), cmp_adopted);
}

static int64_t alloc_be_id(uint32_t svc_id, const struct cfg_backend *cb, bool *was_adopted)
{
	struct adopted_backend *ad = find_adopted(svc_id, cb);

	*was_adopted = false;
	if (ad && be_used[ad->id] == BE_ID_ADOPTED) {
		be_used[ad->id] = BE_ID_USED;
		*was_adopted = true;
		return ad->id;
	}
	for (uint32_t n = 0; n < VEER_MAX_BACKENDS; n++) {
		uint32_t id = (be_cursor + n) % VEER_MAX_BACKENDS;

		if (be_used[id] == BE_ID_FREE) {
			be_used[id] = BE_ID_USED;
			be_cursor = id + 1;
			return id;
		}
	}
	return -ENOSPC;
}

struct agent_service *agent_find_service(struct agent *a, const char *name)
{
	for (size_t i = 0; i < a->n_svcs; i++)
		if (!strcmp(a->svcs[i]->cfg.name, name))
			return a->svcs[i];
	return NULL;
}

struct agent_backend *agent_find_backend(struct agent_service *s, const struct veer_addr *addr,
					 uint8_t family, uint16_t port)
{
	for (size_t i = 0; i < s->n_be; i++) {
		struct agent_backend *b = s->be[i];

		if (b->cfg.family == family && !memcmp(&b->cfg.addr, addr, sizeof(*addr)) &&
		    (!port || b->cfg.port == port))
			return b;
	}
	return NULL;
}

static struct agent_backend *new_backend(struct agent *a, struct agent_service *s,
					 const struct cfg_backend *cb)
{
	struct agent_backend *b = calloc(1, sizeof(*b));
	struct veer_health saved;
	bool was_adopted;
	int64_t id;

	if (!b)
		return NULL;
	id = alloc_be_id(s->id, cb, &was_adopted);
	if (id < 0) {
		free(b);
		return NULL;
	}
	b->id = id;
	b->cfg = *cb;
	b->svc = s;
	b->dp_state = VEER_BE_UNUSED;
	if (was_adopted && !bpf_map_lookup_elem(a->maps.health, &b->id, &saved)) {
		health_restore(&b->health, &saved, loop_now_us());
		/* The datapath holds the adopted entry already: rewrite it only
		 * if health now says otherwise. */
		b->dp_state = health_datapath_state(&b->health);
	} else {
		health_init(&b->health, loop_now_us());
	}
	a->be_by_id[b->id] = b;
	/* A failed probe start is logged; the backend stays UNKNOWN (usable). */
	backend_start(a, b);
	if (cb->drain) {
		health_drain(&b->health, true, loop_now_us(), NULL);
		backend_drain_deadline(a, b);
	}
	return b;
}

static void free_backend(struct agent *a, struct agent_backend *b)
{
	struct veer_backend zero_be = { 0 };
	struct veer_health zero_h = { 0 };

	backend_stop(a, b);
	/* UNUSED makes its flows re-pick on their next packet. */
	bpf_map_update_elem(a->maps.be, &b->id, &zero_be, BPF_ANY);
	bpf_map_update_elem(a->maps.health, &b->id, &zero_h, BPF_ANY);
	a->fib_stale = true;	/* the id may next name another address */
	a->be_by_id[b->id] = NULL;
	be_used[b->id] = BE_ID_FREE;
	free(b);
}

static struct veer_svc_key key_of(const struct cfg_service *c)
{
	struct veer_svc_key k = { .vip = c->vip, .port = htons(c->port), .proto = c->proto,
				  .family = c->family };
	return k;
}

static void remove_service(struct agent *a, struct agent_service *s)
{
	struct veer_svc_key k = key_of(&s->cfg);
	struct veer_svc_meta zero = { 0 };
	int flows;

	/* Key first: no packet starts a new flow on a service being removed. */
	bpf_map_delete_elem(a->maps.svc, &k);
	dp_table_remove(&a->maps, s->id);
	flows = dp_flows_flush(&a->maps, s->id, VEER_BACKEND_NONE);
	for (size_t i = 0; i < s->n_be; i++)
		free_backend(a, s->be[i]);
	bpf_map_update_elem(a->maps.meta, &s->id, &zero, BPF_ANY);
	a->svc_used[s->id] = 0;
	pr_info("service removed", "service=%s flows_flushed=%d", s->cfg.name, flows);
	loop_timer_free(a->loop, s->recheck);
	free(s->be);
	free(s);
}

static void write_global_config(struct agent *a)
{
	const struct cfg_node *n = &a->cfg->node;
	struct veer_config c = {
		.hash_seed = n->hash_seed,
		.tcp_syn_timeout_s = n->syn_timeout_s,
		.tcp_est_timeout_s = n->tcp_timeout_s,
		.tcp_close_timeout_s = n->close_timeout_s,
		.udp_timeout_s = n->udp_timeout_s,
		.syn_retry_resteer = 1,
		.snat_port_lo = n->snat_port_lo,
		.snat_port_hi = n->snat_port_hi,
	}, old = { 0 };
	__u32 zero = 0;

	if (bpf_map_lookup_elem(a->maps.cfg, &zero, &old))
		memset(&old, 0, sizeof(old));
	c.flags = old.flags & VEER_CFG_F_FLOW_EVENTS;
	if (!n->flow_cache)
		c.flags |= VEER_CFG_F_NO_FLOW_CACHE;
	bpf_map_update_elem(a->maps.cfg, &zero, &c, BPF_ANY);
	/* Entries cached before the cache was last turned off are stale. */
	if ((c.flags ^ old.flags) & VEER_CFG_F_NO_FLOW_CACHE)
		dp_gen_bump(a->maps.flowgen);
}

static bool probe_cfg_changed(const struct cfg_probe *x, const struct cfg_probe *y)
{
	return memcmp(x, y, sizeof(*x)) != 0;
}

/* Bring one service's backend list to the config's; removed ones are
 * returned in *gone for freeing after the table no longer names them. */
/* veer_health_v1 entries of the backends just created, in one update. */
static void export_health_batch(struct agent *a, struct agent_backend **list, size_t n)
{
	struct veer_health *vals = malloc((n ? n : 1) * sizeof(*vals));
	uint32_t *keys = malloc((n ? n : 1) * sizeof(*keys)), count = 0;
	uint64_t now = loop_now_us(), real = agent_now_real_ns();
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);

	for (size_t i = 0; i < n && keys && vals; i++) {
		if (!list[i]->fresh)
			continue;
		list[i]->fresh = false;
		health_export(&list[i]->health, now, real, &vals[count]);
		keys[count++] = list[i]->id;
	}
	if (count)
		bpf_map_update_batch(a->maps.health, keys, vals, &count, &bopts);
	free(keys);
	free(vals);
}

static int sync_backends(struct agent *a, struct agent_service *s, const struct cfg_service *cs,
			 bool probes_changed, struct agent_backend ***gone, size_t *n_gone)
{
	struct agent_backend **list = calloc(cs->n_backends ? cs->n_backends : 1, sizeof(*list));
	size_t n_new = 0;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_be; i++)
		s->be[i]->keep = false;
	for (size_t i = 0; i < cs->n_backends; i++) {
		const struct cfg_backend *cb = &cs->backends[i];
		struct agent_backend *b = NULL;

		/* Configs mostly keep their order: try the same position first,
		 * so a reload of 100,000 backends is not 100,000 list scans. */
		if (i < s->n_be && s->be[i]->cfg.family == cb->family &&
		    s->be[i]->cfg.port == cb->port &&
		    !memcmp(&s->be[i]->cfg.addr, &cb->addr, sizeof(cb->addr)))
			b = s->be[i];
		else
			b = agent_find_backend(s, &cb->addr, cb->family, cb->port);

		if (b) {
			bool drain_changed = b->cfg.drain != cb->drain;

			if (b->cfg.weight != cb->weight || b->cfg.tier != cb->tier ||
			    b->cfg.nat != cb->nat || b->cfg.encap != cb->encap || drain_changed)
				s->dirty = true;
			b->keep = true;
			b->cfg = *cb;
			if (drain_changed) {
				health_drain(&b->health, cb->drain || b->admin_drain, loop_now_us(), NULL);
				backend_drain_deadline(a, b);
			}
			if (probes_changed) {
				backend_stop(a, b);
				backend_start(a, b);
			}
		} else {
			b = new_backend(a, s, cb);
			if (!b) {
				free(list);
				return -ENOSPC;
			}
			s->dirty = true;
			b->keep = true;
			b->fresh = true;
			n_new++;
		}
		list[i] = b;
	}
	if (n_new)
		export_health_batch(a, list, cs->n_backends);
	*gone = calloc(s->n_be ? s->n_be : 1, sizeof(**gone));
	*n_gone = 0;
	for (size_t i = 0; i < s->n_be; i++)
		if (!s->be[i]->keep && *gone) {
			(*gone)[(*n_gone)++] = s->be[i];
			s->dirty = true;
		}
	free(s->be);
	s->be = list;
	s->n_be = cs->n_backends;
	return 0;
}

static struct agent_service *new_service(struct agent *a, const struct cfg_service *cs)
{
	struct agent_service *s = calloc(1, sizeof(*s));
	struct agent_service **grown;
	int id;

	if (!s)
		return NULL;
	id = alloc_svc_id(a, cs->name);
	grown = realloc(a->svcs, (a->n_svcs + 1) * sizeof(*grown));
	if (id < 0 || !grown) {
		free(s);
		return NULL;
	}
	a->svcs = grown;
	a->svcs[a->n_svcs++] = s;
	s->agent = a;
	s->id = id;
	s->cfg = *cs;
	s->recheck = loop_timer_new(a->loop, service_on_recheck, s);
	return s;
}

/* Between the passes of agent_apply: what each service still has to do. */
struct apply_step {
	struct agent_service *s;
	struct agent_backend **gone;
	size_t n_gone;
	struct veer_svc_key old_key;
	bool key_moved;
};

/* Pass 1: backends synced, next table staged (new tables queued). */
static int apply_service(struct agent *a, const struct cfg_service *cs, size_t pos,
			 struct apply_step *st)
{
	/* Same position first: 1,000 services are not 1,000 list scans. */
	struct agent_service *s = pos < a->n_svcs && !strcmp(a->svcs[pos]->cfg.name, cs->name) ?
				  a->svcs[pos] : agent_find_service(a, cs->name);
	bool probes_changed = false;
	int ret;

	if (!s) {
		s = new_service(a, cs);
		if (!s)
			return -ENOSPC;
		pr_info("service added", "service=%s backends=%zu", cs->name, cs->n_backends);
		s->cfg.backends = NULL;
		service_adopt_entry(a, s);
		s->dirty = true;
	} else {
		struct veer_svc_key nk = key_of(cs);

		st->old_key = key_of(&s->cfg);
		st->key_moved = memcmp(&st->old_key, &nk, sizeof(nk)) != 0;
		probes_changed = probe_cfg_changed(&s->cfg.probe, &cs->probe);
		/* What shapes the table or the entry: else it stays as it is. */
		s->dirty = st->key_moved || s->cfg.maglev_size != cs->maglev_size ||
			   memcmp(&s->cfg.failover, &cs->failover, sizeof(cs->failover)) ||
			   s->cfg.n_backends != cs->n_backends || a->seed_changed;
	}
	st->s = s;
	s->keep = true;
	s->cfg = *cs;
	s->cfg.backends = NULL;
	health_params_from_cfg(&s->hp, &cs->probe, &cs->outlier);
	ret = sync_backends(a, s, cs, probes_changed, &st->gone, &st->n_gone);
	if (!ret && s->dirty)
		ret = service_prepare(a, s);
	s->dirty = false;
	return ret;
}

/* Pass 3: the staged table goes live; then what the config dropped goes. */
static void finish_service(struct agent *a, struct apply_step *st, bool tables_installed)
{
	if (!st->s)
		return;
	if (tables_installed)	/* else the staged slot may be empty: keep the old */
		service_commit(a, st->s);
	if (st->key_moved) {
		bpf_map_delete_elem(a->maps.svc, &st->old_key);
		/* Cached flows to the old VIP are not checked against it. */
		dp_gen_bump(a->maps.flowgen);
	}
	for (size_t i = 0; i < st->n_gone; i++)
		free_backend(a, st->gone[i]);
	free(st->gone);
}

static int check_capacity(struct agent *a, const struct veer_cfg *cfg, char *err, size_t errlen)
{
	size_t be = 0;

	for (size_t i = 0; i < cfg->n_services; i++)
		be += cfg->services[i].n_backends;
	if (cfg->n_services > VEER_MAX_SERVICES || be > VEER_MAX_BACKENDS) {
		snprintf(err, errlen, "%s: %zu services / %zu backends exceed the datapath's %u / %u",
			 cfg->file, cfg->n_services, be, VEER_MAX_SERVICES, VEER_MAX_BACKENDS);
		return -ENOSPC;
	}
	(void)a;
	return 0;
}

/* After the first apply: what a previous veerd left and this config does
 * not name any more (changed while no veerd ran) is removed. */
static void drop_unclaimed_adopted(struct agent *a)
{
	struct veer_svc_meta meta, zero_meta = { 0 };
	struct veer_backend zero_be = { 0 };
	struct veer_health zero_h = { 0 };

	for (uint32_t id = 0; id < VEER_MAX_SERVICES && adopted.svc_name; id++) {
		if (!adopted.svc_name[id][0] || a->svc_used[id])
			continue;
		if (!bpf_map_lookup_elem(a->maps.meta, &id, &meta) && meta.in_use) {
			bpf_map_delete_elem(a->maps.svc, &meta.key);
			dp_table_remove(&a->maps, id);
			dp_flows_flush(&a->maps, id, VEER_BACKEND_NONE);
			bpf_map_update_elem(a->maps.meta, &id, &zero_meta, BPF_ANY);
			pr_info("stale service removed", "service=%s", meta.name);
		}
	}
	for (size_t i = 0; i < adopted.n_be; i++) {
		uint32_t id = adopted.be[i].id;

		if (be_used[id] != BE_ID_ADOPTED)
			continue;
		bpf_map_update_elem(a->maps.be, &id, &zero_be, BPF_ANY);
		bpf_map_update_elem(a->maps.health, &id, &zero_h, BPF_ANY);
		be_used[id] = BE_ID_FREE;
	}
	dp_fib_invalidate(&a->maps);
	free(adopted.svc_name);
	free(adopted.be);
	memset(&adopted, 0, sizeof(adopted));
}

int agent_apply(struct agent *a, struct veer_cfg *cfg, char *err, size_t errlen)
{
	struct veer_cfg *old = a->cfg;
	int ret = check_capacity(a, cfg, err, errlen), failed = 0;
	uint64_t started = loop_now_us();
	struct apply_step *steps;
	bool installed;
	size_t n_be = 0;

	if (ret)
		return ret;
	a->seed_changed = old && old->node.hash_seed != cfg->node.hash_seed;
	a->cfg = cfg;
	write_global_config(a);
	for (size_t i = 0; i < a->n_svcs; i++)
		a->svcs[i]->keep = false;
	steps = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*steps));
	if (!steps) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_services; i++)
		if (apply_service(a, &cfg->services[i], i, &steps[i]))
			failed++;
	/* Pass 2: every new table in one outer-map update (one RCU wait). */
	installed = agent_install_tables(a) == 0;
	failed += !installed;
	for (size_t i = 0; i < cfg->n_services; i++)
		finish_service(a, &steps[i], installed);
	free(steps);
	for (size_t i = 0; i < a->n_svcs;) {
		if (a->svcs[i]->keep) {
			i++;
			continue;
		}
		remove_service(a, a->svcs[i]);
		a->svcs[i] = a->svcs[--a->n_svcs];
	}
	if (adopted.svc_name)
		drop_unclaimed_adopted(a);
	if (a->ifw)
		agent_ifaces_refresh(a);
	if (a->fib_stale && !dp_fib_invalidate(&a->maps))
		a->fib_stale = false;
	if (old && old != cfg)
		cfg_free(old);
	for (size_t i = 0; i < a->n_svcs; i++)
		n_be += a->svcs[i]->n_be;
	pr_info("reconciled", "services=%zu backends=%zu duration_ms=%.3f", a->n_svcs, n_be,
		(loop_now_us() - started) / 1000.0);
	if (failed) {
		snprintf(err, errlen, "%d service(s) could not be fully applied (see log)", failed);
		return -EIO;
	}
	return 0;
}

void agent_release_all(struct agent *a)
{
	/* Leave the datapath as it is; only free memory and stop probes. */
	for (size_t i = 0; i < a->n_svcs; i++) {
		struct agent_service *s = a->svcs[i];

		for (size_t j = 0; j < s->n_be; j++) {
			backend_stop(a, s->be[j]);
			free(s->be[j]);
		}
		loop_timer_free(a->loop, s->recheck);
		free(s->be);
		free(s);
	}
	free(a->svcs);
	a->svcs = NULL;
	a->n_svcs = 0;
	free(a->be_by_id);
	free(a->svc_used);
	free(be_used);
	free(adopted.svc_name);
	free(adopted.be);
	memset(&adopted, 0, sizeof(adopted));
	be_used = NULL;
}
