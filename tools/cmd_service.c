// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl service: the services the datapath serves, as veerd named them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "health.h"
#include "names.h"
#include "output.h"
#include "snapshot.h"
#include "veerctl.h"

static const char service_help[] =
	"Usage: veerctl service list\n"
	"       veerctl service show NAME\n"
	"\n"
	"list: every service with its VIP, active tier, panic state, backends by\n"
	"      state and traffic counters.\n"
	"show: one service in full, its backends grouped by state.\n";

static const char *const list_headers[] = {
	"NAME", "VIP", "PORT", "PROTO", "TIER", "PANIC",
	"ACTIVE", "DRAINING", "DOWN", "PACKETS", "BYTES", "FLOWS", NULL,
};

static const char *const backend_headers[] = {
	"ADDRESS", "TIER", "WEIGHT", "HEALTH", "PACKETS", "BYTES", "FLOWS", NULL,
};

/* Name, VIP and the state veerd keeps: common to list rows and show. */
static void out_service_identity(const struct svc_view *v)
{
	char buf[FMT_LEN];

	out_str("name", svc_name(v));
	out_json_only_begin();
	out_u64("id", v->id);
	out_json_only_end();
	out_str("vip", fmt_addr(&v->key.vip, v->key.family, buf));
	out_u64("port", ntohs(v->key.port));
	out_str("protocol", proto_name(v->key.proto));
	if (v->has_meta) {
		out_u64("active_tier", v->meta.active_tier);
		out_bool("panic", v->meta.panic);
	} else {
		out_null("active_tier");
		out_null("panic");
	}
}

/* brief: only packets, bytes and new flows show in text. */
static void out_service_stats(const struct veer_svc_stats *st, bool brief)
{
	char buf[FMT_LEN];

	out_obj_begin("stats");
	out_u64_as("packets", st->packets, fmt_count(st->packets, buf));
	out_u64_as("bytes", st->bytes, fmt_bytes(st->bytes, buf));
	out_u64_as("new_flows", st->new_flows, fmt_count(st->new_flows, buf));
	if (brief)
		out_json_only_begin();
	out_u64("repicks", st->repicks);
	out_u64("refused", st->refused);
	out_u64("no_backend", st->no_backend);
	if (brief)
		out_json_only_end();
	out_obj_end();
}

static void count_backends(const struct snapshot *s, uint32_t svc_id, uint64_t *by_state)
{
	for (size_t i = 0; i < s->n_bes; i++)
		if (s->bes[i].be.svc_id == svc_id && s->bes[i].be.state <= VEER_BE_DOWN)
			by_state[s->bes[i].be.state]++;
}

static void out_service_row(const struct snapshot *s, const struct svc_view *v)
{
	uint64_t by_state[VEER_BE_DOWN + 1] = { 0 };

	count_backends(s, v->id, by_state);
	out_row_begin();
	out_service_identity(v);
	out_obj_begin("backends");
	for (int st = VEER_BE_ACTIVE; st <= VEER_BE_DOWN; st++)
		out_u64(be_state_name(st), by_state[st]);
	out_obj_end();
	out_service_stats(&v->stats, true);
	out_row_end();
}

static int service_list(struct ctl *ctl, int argc, char **argv)
{
	const struct svc_view **sorted;
	struct snapshot s;

	(void)argv;
	if (argc > 1)
		return usage_error("service list takes no arguments");
	if (snap_load(ctl->state_dir, &s, SNAP_BACKENDS | SNAP_STATS))
		return EXIT_ERR;
	sorted = snap_svcs_by_name(&s);
	if (!sorted) {
		snap_free(&s);
		return EXIT_ERR;
	}
	out_table_begin(NULL, list_headers);
	for (size_t i = 0; i < s.n_svcs; i++)
		out_service_row(&s, sorted[i]);
	out_table_end();
	free(sorted);
	snap_free(&s);
	return EXIT_OK;
}

static int cmp_backend_display(const void *a, const void *b)
{
	const struct be_view *x = *(const struct be_view *const *)a;
	const struct be_view *y = *(const struct be_view *const *)b;

	if (x->be.tier != y->be.tier)
		return x->be.tier - y->be.tier;
	if (x->be.family != y->be.family)
		return x->be.family - y->be.family;
	int c = memcmp(&x->be.addr, &y->be.addr, sizeof(x->be.addr));

	return c ? c : ntohs(x->be.port) - ntohs(y->be.port);
}

static void out_backend_row(const struct be_view *b)
{
	char buf[FMT_LEN];

	out_row_begin();
	out_endpoint("address", "port", &b->be.addr, b->be.family, ntohs(b->be.port));
	out_u64("tier", b->be.tier);
	out_u64("weight", b->be.weight);
	out_str("health", b->has_health ? health_state_name(b->health.state) : NULL);
	out_u64_as("packets", b->stats.packets, fmt_count(b->stats.packets, buf));
	out_u64_as("bytes", b->stats.bytes, fmt_bytes(b->stats.bytes, buf));
	out_u64_as("new_flows", b->stats.new_flows, fmt_count(b->stats.new_flows, buf));
	out_json_only_begin();
	out_u64("id", b->id);
	out_json_only_end();
	out_row_end();
}

/* The service's backends in one state, as a table named by the state. */
static void out_backends_in_state(const struct snapshot *s, uint32_t svc_id, int state)
{
	const struct be_view **list = calloc(s->n_bes + 1, sizeof(*list));
	size_t n = 0;

	if (!list)
		return;
	for (size_t i = 0; i < s->n_bes; i++)
		if (s->bes[i].be.svc_id == svc_id && s->bes[i].be.state == state)
			list[n++] = &s->bes[i];
	qsort(list, n, sizeof(*list), cmp_backend_display);
	if (!n)		/* text: one line rather than a lone header */
		out_json_only_begin();
	out_table_begin(be_state_name(state), backend_headers);
	for (size_t i = 0; i < n; i++)
		out_backend_row(list[i]);
	out_table_end();
	if (!n) {
		out_json_only_end();
		out_text("%s: none", be_state_name(state));
	}
	free(list);
}

/* JSON: the RFC 3339 time; text: that and how long ago. */
static void out_tier_since(uint64_t since)
{
	char when[FMT_LEN], ago[FMT_LEN], both[FMT_LEN * 2 + 8];

	if (!since) {
		out_null("tier_since");
		return;
	}
	fmt_rfc3339(since, when);
	fmt_duration(ns_since(clock_ns(CLOCK_REALTIME), since), ago);
	snprintf(both, sizeof(both), "%s (%s ago)", when, ago);
	out_json_only_begin();
	out_str("tier_since", when);
	out_json_only_end();
	out_text_only_begin();
	out_str("tier_since", both);
	out_text_only_end();
}

static void out_service_details(const struct svc_view *v)
{
	out_tier_since(v->has_meta ? v->meta.tier_since_ns : 0);
	out_u64("table_size", v->svc.table_size);
	out_u64_as("udp_timeout_s", v->svc.udp_timeout_s,
		   v->svc.udp_timeout_s ? NULL : "default");
	out_bool("refuse", v->svc.flags & VEER_SVC_F_REFUSE);
	out_bool("empty", v->svc.flags & VEER_SVC_F_EMPTY);
}

static int service_show(struct ctl *ctl, int argc, char **argv)
{
	const struct svc_view *v;
	struct snapshot s;

	if (argc != 2)
		return usage_error("usage: veerctl service show NAME");
	if (snap_load(ctl->state_dir, &s, SNAP_HEALTH | SNAP_STATS))
		return EXIT_ERR;
	v = snap_find_service(&s, argv[1]);
	if (!v) {
		snap_free(&s);
		return EXIT_ERR;
	}
	out_obj_begin(NULL);
	out_service_identity(v);
	out_service_details(v);
	out_service_stats(&v->stats, false);
	out_obj_begin("backends");
	for (int st = VEER_BE_ACTIVE; st <= VEER_BE_DOWN; st++)
		out_backends_in_state(&s, v->id, st);
	out_obj_end();
	out_obj_end();
	snap_free(&s);
	return EXIT_OK;
}

static int service_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(service_help);
}

static const struct cmd service_cmds[] = {
	{ "list", service_list },
	{ "show", service_show },
	{ "help", service_help_cmd },
	{ NULL, NULL },
};

int do_service(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "service", service_cmds, argc - 1, argv + 1);
}
