// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl flow: the conntrack tables (established and half-open), read
 * straight from the maps; flush removes a backend's flows so their next
 * packet picks a backend afresh. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "dpmaps.h"
#include "format.h"
#include "maps.h"
#include "names.h"
#include "output.h"
#include "snapshot.h"
#include "synq_slots.h"
#include "veerctl.h"

static const char flow_help[] =
	"Usage: veerctl flow list [--service S] [--backend ADDR[:PORT]] [--limit N]\n"
	"       veerctl flow count [--service S] [--backend ADDR[:PORT]]\n"
	"       veerctl flow flush --backend ADDR[:PORT] [--service S]\n"
	"\n"
	"list:  flows as client -> VIP -> backend, with protocol, state, age and\n"
	"       idle time; half-open TCP flows show as syn_sent.\n"
	"count: flows by state, and how full the conntrack tables are.\n"
	"flush: delete the backend's flows and their reverse NAT entries; their\n"
	"       next packet picks a backend again.\n";

static const char *const list_headers[] = {
	"PROTO", "CLIENT", "VIP", "BACKEND", "SERVICE", "STATE", "AGE", "IDLE", NULL,
};

struct flow_filter {
	const struct snapshot *s;
	const char *service;		/* as given; NULL: any */
	const struct svc_view *svc;	/* the service, once the maps are read */
	bool by_backend;
	struct endpoint backend;
	long long limit;		/* -1: none */
};

struct flow_entry {
	struct veer_flow key;
	struct veer_ct ct;
};

/* Both tables: established and half-open flows are keyed alike. */
static const enum vmap ct_maps[] = { VMAP_CT, VMAP_CT_SYN };

/* What a command's options may or must hold. */
enum { WITH_LIMIT = 1 << 0, NEEDS_BACKEND = 1 << 1 };

static int parse_filter(int argc, char **argv, struct flow_filter *f, unsigned int how)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt(argc, argv, opts)) != -1) {
		if (c == 's')
			f->service = optarg;
		if (c == 'b' && parse_endpoint(optarg, &f->backend))
			return usage_error("bad backend '%s': expected ADDR[:PORT], IPv6 as [ADDR]:PORT",
					   optarg);
		f->by_backend |= c == 'b';
		if (c == 'l' && (!(how & WITH_LIMIT) || (f->limit = parse_count(optarg)) < 0))
			return usage_error("--limit takes a count (flow list only)");
		if (c == '?')
			return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (see 'veerctl flow help')", argv[optind]);
	if ((how & NEEDS_BACKEND) && !f->by_backend)
		return usage_error("flow %s needs --backend ADDR[:PORT]", argv[0]);
	return EXIT_OK;
}

static bool flow_matches(const struct flow_filter *f, const struct veer_ct *ct)
{
	const struct be_view *b;

	if (f->svc && ct->svc_id != f->svc->id)
		return false;
	if (!f->by_backend)
		return true;
	b = snap_be_by_id(f->s, ct->backend_id);
	return b && endpoint_matches(&f->backend, &b->be.addr, b->be.family, ntohs(b->be.port));
}

/* Every matching entry of a table, in one array, so that flush deletes
 * after the walk rather than under it. */
struct collect {
	const struct flow_filter *f;
	struct flow_entry *items;
	size_t n, cap;
};

static int collect_flow(const void *key, const void *value, void *arg)
{
	struct collect *c = arg;

	if (!flow_matches(c->f, value))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct flow_entry *items = realloc(c->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		c->items = items;
		c->cap = cap;
	}
	memcpy(&c->items[c->n].key, key, sizeof(struct veer_flow));
	memcpy(&c->items[c->n].ct, value, sizeof(struct veer_ct));
	c->n++;
	return 0;
}

static int collect_table(const char *dir, enum vmap m, struct collect *c)
{
	int fd = vmap_fd(dir, m);
	int err;

	if (fd < 0)
		return fd;
	err = vmap_walk(fd, sizeof(struct veer_flow), sizeof(struct veer_ct), collect_flow, c);
	if (err < 0)
		out_error("cannot read %s: %s", vmap_name(m), strerror(-err));
	return err < 0 ? err : 0;
}

static void out_flow_row(const struct flow_filter *f, const struct flow_entry *e,
			 uint64_t now)
{
	const struct be_view *b = snap_be_by_id(f->s, e->ct.backend_id);
	const struct svc_view *svc = snap_svc_by_id(f->s, e->ct.svc_id);
	const struct veer_flow *k = &e->key;
	char buf[FMT_LEN];

	out_row_begin();
	out_str("protocol", proto_name(k->proto));
	out_endpoint("client", "client_port", &k->src, k->family, ntohs(k->sport));
	out_endpoint("vip", "vip_port", &k->dst, k->family, ntohs(k->dport));
	if (b) {
		out_endpoint("backend", "backend_port", &b->be.addr, b->be.family, ntohs(b->be.port));
	} else {
		out_null("backend");
		out_json_only_begin();
		out_null("backend_port");
		out_json_only_end();
	}
	out_str("service", svc ? svc_name(svc) : NULL);
	out_str("state", ct_state_name(e->ct.state));
	out_u64_as("age_ms", ns_since(now, e->ct.created_ns) / 1000000,
		   fmt_duration(ns_since(now, e->ct.created_ns), buf));
	out_u64_as("idle_ms", ns_since(now, e->ct.last_seen_ns) / 1000000,
		   fmt_duration(ns_since(now, e->ct.last_seen_ns), buf));
	out_json_only_begin();
	out_u64("backend_id", e->ct.backend_id);
	out_u64("syn_count", e->ct.syn_count);
	out_u64("nat_port", ntohs(e->ct.nat_port));
	out_json_only_end();
	out_row_end();
}

/* Options first, so a usage error shows whatever state the maps are in. */
static int load_and_filter(struct ctl *ctl, int argc, char **argv, struct snapshot *s,
			   struct flow_filter *f, unsigned int how)
{
	int rc;

	*f = (struct flow_filter){ .s = s, .limit = -1 };
	rc = parse_filter(argc, argv, f, how);
	if (rc)
		return rc;
	if (snap_load(ctl->state_dir, s, SNAP_BACKENDS))
		return EXIT_ERR;
	if (f->service && !(f->svc = snap_find_service(s, f->service))) {
		snap_free(s);
		return EXIT_ERR;
	}
	return EXIT_OK;
}

/* Rows go out as the tables are walked: a million flows need no copy. */
struct lister {
	const struct flow_filter *f;
	uint64_t now, shown;
};

static int list_flow(const void *key, const void *value, void *arg)
{
	struct lister *l = arg;
	struct flow_entry e;

	if (!flow_matches(l->f, value))
		return 0;
	memcpy(&e.key, key, sizeof(e.key));
	memcpy(&e.ct, value, sizeof(e.ct));
	out_flow_row(l->f, &e, l->now);
	l->shown++;
	return l->f->limit >= 0 && (long long)l->shown >= l->f->limit;
}

/* Half-open flows in the datapath's slots (synq.h) are flows too. An
 * older veer without the slot map has none. */
static int walk_slots(const char *dir, synq_fn fn, void *arg)
{
	int fd = vmap_fd_optional(dir, VMAP_SYNQ), err;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	err = synq_walk(fd, fn, arg);
	if (err < 0)
		out_error("cannot read %s: %s", vmap_name(VMAP_SYNQ), strerror(-err));
	return err;
}

static int flow_list(struct ctl *ctl, int argc, char **argv)
{
	struct lister l = { .now = clock_ns(CLOCK_MONOTONIC) };	/* bpf_ktime_get_ns */
	struct flow_filter f;
	struct snapshot s;
	int rc = load_and_filter(ctl, argc, argv, &s, &f, WITH_LIMIT);
	int fds[2];

	if (rc)
		return rc;
	l.f = &f;
	fds[0] = vmap_fd(ctl->state_dir, ct_maps[0]);
	fds[1] = fds[0] < 0 ? -1 : vmap_fd(ctl->state_dir, ct_maps[1]);
	if (fds[1] < 0) {
		snap_free(&s);
		return EXIT_ERR;
	}
	out_table_begin(NULL, list_headers);
	for (size_t i = 0; i < 2 && !rc && (f.limit < 0 || (long long)l.shown < f.limit); i++) {
		int err = vmap_walk(fds[i], sizeof(struct veer_flow), sizeof(struct veer_ct),
				    list_flow, &l);

		if (err < 0) {
			out_error("cannot read %s: %s", vmap_name(ct_maps[i]), strerror(-err));
			rc = EXIT_ERR;
		}
	}
	if (!rc && (f.limit < 0 || (long long)l.shown < f.limit) &&
	    walk_slots(ctl->state_dir, list_flow, &l) < 0)
		rc = EXIT_ERR;
	if (!rc)
		out_table_end();
	snap_free(&s);
	return rc;
}

static void out_table_usage(const char *key, const char *dir, enum vmap m, uint64_t n)
{
	uint32_t cap = vmap_capacity(vmap_fd(dir, m));
	double pct = cap ? 100.0 * n / cap : 0;
	char text[FMT_LEN];

	snprintf(text, sizeof(text), "%.2f%%", pct);
	out_obj_begin(key);
	out_u64("entries", n);
	out_u64("capacity", cap);
	out_double_as("used_pct", pct, text);
	out_obj_end();
}

struct counter {
	const struct flow_filter *f;
	uint64_t entries;
	uint64_t by_state[VEER_CT_UDP + 1];
};

static int count_flow(const void *key, const void *value, void *arg)
{
	const struct veer_ct *ct = value;
	struct counter *c = arg;

	(void)key;
	if (!flow_matches(c->f, ct))
		return 0;
	c->entries++;
	if (ct->state <= VEER_CT_UDP)
		c->by_state[ct->state]++;
	return 0;
}

static int count_flows(const char *dir, enum vmap m, struct counter *c)
{
	int fd = vmap_fd(dir, m), err;

	if (fd < 0)
		return EXIT_ERR;
	err = vmap_walk(fd, sizeof(struct veer_flow), sizeof(struct veer_ct), count_flow, c);
	if (err < 0)
		out_error("cannot read %s: %s", vmap_name(m), strerror(-err));
	return err < 0 ? EXIT_ERR : EXIT_OK;
}

static int flow_count(struct ctl *ctl, int argc, char **argv)
{
	struct flow_filter f;
	struct snapshot s;
	int rc = load_and_filter(ctl, argc, argv, &s, &f, 0);
	struct counter est = { .f = &f }, syn = { .f = &f }, slots = { .f = &f };

	if (rc)
		return rc;
	rc = count_flows(ctl->state_dir, VMAP_CT, &est);
	if (!rc)
		rc = count_flows(ctl->state_dir, VMAP_CT_SYN, &syn);
	if (!rc && walk_slots(ctl->state_dir, count_flow, &slots) < 0)
		rc = EXIT_ERR;
	if (!rc) {
		out_obj_begin(NULL);
		out_u64("total", est.entries + syn.entries + slots.entries);
		for (int st = VEER_CT_SYN_SENT; st <= VEER_CT_UDP; st++)
			out_u64(ct_state_name(st),
				est.by_state[st] + syn.by_state[st] + slots.by_state[st]);
		out_table_usage("conntrack", ctl->state_dir, VMAP_CT, est.entries);
		out_table_usage("half_open", ctl->state_dir, VMAP_CT_SYN, syn.entries);
		if (vmap_fd_optional(ctl->state_dir, VMAP_SYNQ) >= 0)
			out_table_usage("half_open_slots", ctl->state_dir, VMAP_SYNQ,
					slots.entries);
		out_obj_end();
	}
	snap_free(&s);
	return rc;
}

/* The reply's key in the reverse maps: from the backend to the client, or
 * to our SNAT address and port under full NAT. */
static int delete_reverse(const char *dir, const struct flow_entry *e, const struct be_view *b)
{
	struct veer_flow r = { .dport = e->key.sport, .proto = e->key.proto };
	int deleted = 0;

	if (!b)
		return 0;
	r.src = b->be.addr;
	r.dst = e->key.src;
	r.sport = b->be.port;
	r.family = b->be.family;
	deleted += !bpf_map_delete_elem(vmap_fd(dir, VMAP_RNAT), &r);
	deleted += !bpf_map_delete_elem(vmap_fd(dir, VMAP_RNAT_SYN), &r);
	if (e->ct.nat_port) {
		r.dst = b->be.snat;
		r.dport = e->ct.nat_port;
		deleted += !bpf_map_delete_elem(vmap_fd(dir, VMAP_SNAT), &r);
	}
	return deleted;
}

static int flush_table(const char *dir, const struct flow_filter *f, enum vmap m,
		       uint64_t *flows, uint64_t *reverse)
{
	struct collect c = { .f = f };
	int fd = vmap_fd(dir, m);

	if (fd < 0 || collect_table(dir, m, &c))
		return EXIT_ERR;
	for (size_t i = 0; i < c.n; i++) {
		if (bpf_map_delete_elem(fd, &c.items[i].key))
			continue;	/* expired meanwhile */
		(*flows)++;
		*reverse += delete_reverse(dir, &c.items[i],
					   snap_be_by_id(f->s, c.items[i].ct.backend_id));
	}
	free(c.items);
	return EXIT_OK;
}

static int flush_slot_matches(const void *flow, const void *ct, void *arg)
{
	(void)flow;
	return flow_matches(arg, ct);
}

/* Slots hold no reverse entry: freeing one is the whole flush. */
static int flush_slots(const char *dir, const struct flow_filter *f, uint64_t *flows)
{
	int fd = vmap_fd_optional(dir, VMAP_SYNQ), n;

	if (fd == -ENOENT)
		return EXIT_OK;
	if (fd < 0)
		return EXIT_ERR;
	n = synq_clear(fd, flush_slot_matches, (void *)f);
	if (n < 0) {
		out_error("cannot write %s: %s", vmap_name(VMAP_SYNQ), strerror(-n));
		return EXIT_ERR;
	}
	*flows += n;
	return EXIT_OK;
}

/* The datapath's established-flow cache may still hold flushed flows:
 * a new generation ends every entry (an older tree has no cache). */
static int flush_flow_cache(const char *dir)
{
	int fd = vmap_fd_optional(dir, VMAP_FLOW_GEN), ret;

	if (fd == -ENOENT)
		return EXIT_OK;
	if (fd < 0)
		return EXIT_ERR;
	ret = dp_gen_bump(fd);
	if (ret) {
		out_error("cannot write %s: %s", vmap_name(VMAP_FLOW_GEN), strerror(-ret));
		return EXIT_ERR;
	}
	return EXIT_OK;
}

static int flow_flush(struct ctl *ctl, int argc, char **argv)
{
	uint64_t flows = 0, reverse = 0;
	struct flow_filter f;
	struct snapshot s;
	int rc = load_and_filter(ctl, argc, argv, &s, &f, NEEDS_BACKEND);

	if (rc)
		return rc;
	for (int m = VMAP_RNAT; m <= VMAP_SNAT && !rc; m++)
		rc = vmap_fd(ctl->state_dir, m) < 0 ? EXIT_ERR : EXIT_OK;
	for (size_t i = 0; i < 2 && !rc; i++)
		rc = flush_table(ctl->state_dir, &f, ct_maps[i], &flows, &reverse);
	if (!rc)
		rc = flush_slots(ctl->state_dir, &f, &flows);
	if (!rc)
		rc = flush_flow_cache(ctl->state_dir);
	if (!rc) {
		out_obj_begin(NULL);
		out_u64("flows", flows);
		out_u64("reverse_entries", reverse);
		out_obj_end();
	}
	snap_free(&s);
	return rc;
}

static int flow_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(flow_help);
}

static const struct cmd flow_cmds[] = {
	{ "list", flow_list },
	{ "count", flow_count },
	{ "flush", flow_flush },
	{ "help", flow_help_cmd },
	{ NULL, NULL },
};

int do_flow(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "flow", flow_cmds, argc - 1, argv + 1);
}
