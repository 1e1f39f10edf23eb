// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From backend health to the datapath, for one service: the tier policy
 * picks effective weights, Maglev turns them into a table, and the maps
 * are written in an order that never exposes a half state:
 *   1. backends that become usable or draining are marked so first;
 *   2. the new table is written into the service's inactive table slot;
 *   3. one update of the service entry flips to it, with its size and
 *      flags: the swap is atomic and costs no RCU grace period;
 *   4. backends that went down are marked last, so the flows they lose
 *      are re-picked from a table that no longer holds them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "log.h"
#include "maglev.h"

/*
 * The node's address towards a backend: the source the kernel picks for it
 * (route lookup in veerd's network namespace, through a UDP connect that
 * sends nothing). 0, or -errno with no route.
 */
static int egress_addr(const struct cfg_backend *c, struct veer_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, ret = 0;

	memset(&ss, 0, sizeof(ss));
	if (c->family == VEER_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->addr.b, 16);
		s6->sin6_port = htons(c->port ? c->port : 9);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = c->addr.v4;
		s4->sin_port = htons(c->port ? c->port : 9);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len))
		ret = -errno;
	close(fd);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	if (ss.ss_family == AF_INET6)
		memcpy(out->b, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	else
		out->v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
	return 0;
}

/* The veer_be_v1 value of b in the given state. */
static void backend_value(struct agent *a, struct agent_backend *b, uint8_t state,
			  struct veer_backend *out)
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
	else if (v.flags) {
		/* No node.snat address: the egress interface's, looked up at
		 * each write (the route may change; a probe transition or a
		 * reload writes it again). */
		int ret = egress_addr(&b->cfg, &v.snat);

		if (ret) {
			char addr[64];

			pr_warn("no source address for a full NAT / IPIP backend", "backend=%s error=%s",
				cfg_format_addr(&b->cfg.addr, b->cfg.family, addr, sizeof(addr)),
				strerror(-ret));
		}
	}
	*out = v;
}

/* What the datapath must hold for b: its health's verdict, except in
 * panic use_all, where every backend in the table must take new flows or
 * the table would name only backends that refuse them. */
static uint8_t datapath_state(const struct agent_service *s, const struct agent_backend *b,
			      const struct tier_decision *d)
{
	uint8_t st = health_datapath_state(&b->health);

	if (d->panic && !d->refuse && st == VEER_BE_DOWN)
		return VEER_BE_ACTIVE;
	(void)s;
	return st;
}

/* Write the backends whose datapath state differs from want(), in one
 * syscall: a new service of 100 backends is one update, not 100. */
/* No backend of any tier uses full NAT or IPIP: answers to SYNs all come
 * back through this node (VEER_SVC_F_PLAIN). */
static bool all_plain(const struct agent_service *s)
{
	for (size_t i = 0; i < s->n_be; i++)
		if (s->be[i]->cfg.nat == NAT_FULL || s->be[i]->cfg.encap == ENCAP_IPIP)
			return false;
	return true;
}

static void write_backends(struct agent *a, struct agent_service *s,
			   const struct tier_decision *d, bool down)
{
	struct veer_backend *vals = malloc((s->n_be ? s->n_be : 1) * sizeof(*vals));
	uint32_t *keys = malloc((s->n_be ? s->n_be : 1) * sizeof(*keys)), n = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	int last_port = -1;

	for (size_t i = 0; i < s->n_be && keys && vals; i++) {
		uint8_t st = datapath_state(s, s->be[i], d);

		if ((st == VEER_BE_DOWN) != down || st == s->be[i]->dp_state)
			continue;
		/* Replies come from this port: the prefilter must know it
		 * before the backend is written (one write per distinct port). */
		if (s->be[i]->cfg.port != last_port &&
		    dp_port_set(&a->maps, s->be[i]->cfg.port, 1))
			pr_err("prefilter write failed", "service=%s errno=%d", s->cfg.name, errno);
		last_port = s->be[i]->cfg.port;
		backend_value(a, s->be[i], st, &vals[n]);
		keys[n++] = s->be[i]->id;
		s->be[i]->dp_state = st;
	}
	if (n && bpf_map_update_batch(a->maps.be, keys, vals, &n, &bopts))
		pr_err("backend write failed", "service=%s errno=%d", s->cfg.name, errno);
	free(keys);
	free(vals);
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
		.flags = s->flags | (s->gen ? VEER_SVC_F_TABLE_B : 0),
		.udp_timeout_s = 0,	/* as in veer_svcmeta: conntrack.udp_timeout */
	};
	/* Prefilter bits before the service: else its packets pass. */
	int ret = dp_port_set(&a->maps, s->cfg.port, 0);

	if (!ret)
		ret = dp_vip_set(&a->maps, &k.vip);
	if (ret)
		return ret;
	return bpf_map_update_elem(a->maps.svc, &k, &v, BPF_ANY) ? -errno : 0;
}

void service_adopt_entry(struct agent *a, struct agent_service *s)
{
	struct veer_svc_key k = service_key(s);
	struct veer_svc v;

	if (bpf_map_lookup_elem(a->maps.svc, &k, &v) || v.id != s->id)
		return;
	s->gen = (v.flags & VEER_SVC_F_TABLE_B) ? 1 : 0;
	s->table_m = v.table_size;
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

/* A table is 64 KiB at the default size: keep a digest, not a copy, so
 * 1,000 services cost no 64 MiB of memory. */
static uint64_t table_digest(const uint32_t *t, uint32_t m)
{
	uint64_t h = 0xcbf29ce484222325ull ^ m;

	for (uint32_t i = 0; i < m; i++)
		h = (h ^ t[i]) * 0x100000001b3ull;
	return h;
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

static int queue_install(struct agent *a, uint32_t key, int fd)
{
	if (a->n_pending == a->cap_pending) {
		size_t cap = a->cap_pending ? a->cap_pending * 2 : 64;
		uint32_t *k = realloc(a->pending_keys, cap * sizeof(*k));
		int *f = k ? realloc(a->pending_fds, cap * sizeof(*f)) : NULL;

		if (k)
			a->pending_keys = k;
		if (!f)
			return -ENOMEM;
		a->pending_fds = f;
		a->cap_pending = cap;
	}
	a->pending_keys[a->n_pending] = key;
	a->pending_fds[a->n_pending++] = fd;
	return 0;
}

int agent_install_tables(struct agent *a)
{
	int ret = dp_tables_install(&a->maps, a->pending_keys, a->pending_fds, a->n_pending);

	for (size_t i = 0; i < a->n_pending; i++)
		close(a->pending_fds[i]);
	a->n_pending = 0;
	if (ret)
		pr_err("installing Maglev tables failed", "error=%s", strerror(-ret));
	return ret;
}

/* Write table into the slot at key, reusing the map there when it has
 * the right size (the fast path: no outer-map update at all). */
static int stage_slot(struct agent *a, struct agent_service *s, uint32_t key, uint32_t m,
		      const uint32_t *table)
{
	uint32_t size = 0;
	int fd = dp_table_open(&a->maps, key, &size), ret;

	if (fd >= 0 && size == m) {
		ret = dp_table_write(fd, m, table);
		close(fd);
		return ret;
	}
	if (fd >= 0)
		close(fd);
	fd = dp_table_create(s->id, m, table);
	if (fd < 0)
		return fd;
	ret = queue_install(a, key, fd);
	if (ret)
		close(fd);
	return ret;
}

int service_prepare(struct agent *a, struct agent_service *s)
{
	uint32_t m = s->cfg.maglev_size, *eff, *table;
	struct tier_decision d;
	uint64_t digest;
	int ret;

	s->staged = false;
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
	/* 1. backends that take flows (new ones included) */
	write_backends(a, s, &d, false);
	/* 2. the next table into the inactive slot */
	digest = table_digest(table, m);
	s->staged_table = !(s->table_m == m && s->table_digest == digest);
	if (s->staged_table) {
		ret = stage_slot(a, s, s->id * 2 + (s->gen ^ 1), m, table);
		if (ret)
			goto out;
	}
	s->staged_flags = (d.refuse ? VEER_SVC_F_REFUSE : 0) | (d.empty ? VEER_SVC_F_EMPTY : 0) |
			  (all_plain(s) ? VEER_SVC_F_PLAIN : 0);
	s->staged_m = m;
	s->staged_digest = digest;
	s->staged_decision = d;
	s->staged = true;
out:
	if (ret)
		pr_err("service table update failed", "service=%s error=%s", s->cfg.name,
		       strerror(-ret));
	free(eff);
	free(table);
	return ret;
}

void service_commit(struct agent *a, struct agent_service *s)
{
	struct tier_decision *d = &s->staged_decision;

	if (!s->staged)
		return;
	s->staged = false;
	if (s->staged_table) {
		s->gen ^= 1;
		s->table_m = s->staged_m;
		s->table_digest = s->staged_digest;
		s->spare_ready = false;	/* the slot just left may be missing or too small */
	}
	s->flags = s->staged_flags;
	/* 3. one update makes table, size and flags live together */
	if (write_service(a, s))
		pr_err("service entry write failed", "service=%s errno=%d", s->cfg.name, errno);
	/* 4. backends whose flows must move, now that no table names them */
	write_backends(a, s, d, true);
	s->decision = *d;
	log_decision(a, s, d);
	service_write_meta(a, s);
	if (d->next_check_us && s->recheck)
		loop_timer_arm(a->loop, s->recheck, d->next_check_us > loop_now_us() ?
			       d->next_check_us - loop_now_us() : 0);
}

int service_rebuild(struct agent *a, struct agent_service *s)
{
	int ret = service_prepare(a, s);

	if (!ret)
		ret = agent_install_tables(a);
	if (!ret)
		service_commit(a, s);
	return ret;
}

/* The inactive table of every service ("spare") should exist before it
 * is needed, so that a failover writes into it instead of installing a new
 * map (an RCU grace period). New services get theirs here, a bounded number
 * per call, in one batched install. */
void agent_fill_spares(struct agent *a, unsigned budget)
{
	uint32_t *none = NULL, none_m = 0, size;
	int fd;

	for (size_t i = 0; i < a->n_svcs && budget; i++) {
		struct agent_service *s = a->svcs[i];
		uint32_t key = s->id * 2 + (s->gen ^ 1);

		if (s->spare_ready || !s->table_m)
			continue;
		fd = dp_table_open(&a->maps, key, &size);
		if (fd >= 0)
			close(fd);
		if (fd >= 0 && size == s->table_m) {
			s->spare_ready = true;
			continue;
		}
		if (none_m < s->table_m) {
			uint32_t *n = realloc(none, s->table_m * sizeof(*n));

			if (!n)
				break;
			none = n;
			none_m = s->table_m;
			memset(none, 0xff, none_m * sizeof(*none));	/* VEER_BACKEND_NONE */
		}
		fd = dp_table_create(s->id, s->table_m, none);
		if (fd < 0 || queue_install(a, key, fd)) {
			if (fd >= 0)
				close(fd);
			break;
		}
		s->spare_ready = true;
		budget--;
	}
	free(none);
	if (a->n_pending)
		agent_install_tables(a);
}
