// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl backend: backends with their datapath state and veerd's health
 * view; drain and undrain through veerd. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "admin_client.h"
#include "format.h"
#include "health.h"
#include "names.h"
#include "output.h"
#include "snapshot.h"
#include "veerctl.h"

static const char backend_help[] =
	"Usage: veerctl backend list [SERVICE]\n"
	"       veerctl backend drain SERVICE ADDR[:PORT]\n"
	"       veerctl backend undrain SERVICE ADDR[:PORT]\n"
	"\n"
	"list:    backends (of one service, or all) with datapath state\n"
	"         (active/draining/down), health as veerd sees it, time since\n"
	"         the last health change, probe latency and counters.\n"
	"drain:   ask veerd to stop giving the backend new flows; its flows stay.\n"
	"undrain: ask veerd to give it new flows again.\n"
	"IPv6 with a port: [ADDR]:PORT.\n";

static const char *const list_headers[] = {
	"SERVICE", "BACKEND", "TIER", "WEIGHT", "STATE", "HEALTH", "CHANGED",
	"LATENCY", "PACKETS", "BYTES", "FLOWS", "REASON", NULL,
};

struct list_ctx {
	const struct snapshot *s;
	uint64_t now_real;
};

static void out_health(const struct be_view *b, uint64_t now_real)
{
	const struct veer_health *h = &b->health;
	char buf[FMT_LEN], ago[FMT_LEN + 8];

	if (!b->has_health) {
		out_null("health");
		out_text_only_begin();	/* keep the CHANGED and LATENCY columns in place */
		out_null("since_s");
		out_null("latency_us");
		out_text_only_end();
		return;
	}
	out_obj_begin("health");
	out_str("state", health_state_name(h->state));
	out_json_only_begin();
	out_str("since", h->since_ns ? fmt_rfc3339(h->since_ns, buf) : NULL);
	out_json_only_end();
	snprintf(ago, sizeof(ago), "%s ago", fmt_duration(ns_since(now_real, h->since_ns), buf));
	if (h->since_ns)
		out_u64_as("since_s", ns_since(now_real, h->since_ns) / 1000000000ull, ago);
	else
		out_null("since_s");
	if (h->latency_us)
		out_u64_as("latency_us", h->latency_us, fmt_latency_us(h->latency_us, buf));
	else
		out_null("latency_us");
	out_json_only_begin();
	out_str("reason", h->reason[0] ? h->reason : NULL);
	out_u64("ejections", h->ejections);
	out_u64("fail_streak", h->fail_streak);
	out_json_only_end();
	out_obj_end();
}

static void out_counters(const struct veer_be_stats *st)
{
	char buf[FMT_LEN];

	out_u64_as("packets", st->packets, fmt_count(st->packets, buf));
	out_u64_as("bytes", st->bytes, fmt_bytes(st->bytes, buf));
	out_u64_as("new_flows", st->new_flows, fmt_count(st->new_flows, buf));
	out_json_only_begin();
	out_u64("reply_packets", st->reply_packets);
	out_u64("reply_bytes", st->reply_bytes);
	out_u64("fail_signals", st->fail_signals);
	out_json_only_end();
}

static void out_backend_row(const struct list_ctx *lc, const struct be_view *b)
{
	const struct svc_view *svc = snap_svc_by_id(lc->s, b->be.svc_id);

	out_row_begin();
	out_str("service", svc ? svc_name(svc) : NULL);
	out_json_only_begin();
	out_u64("id", b->id);
	out_json_only_end();
	out_endpoint("address", "port", &b->be.addr, b->be.family, ntohs(b->be.port));
	out_u64("tier", b->be.tier);
	out_u64("weight", b->be.weight);
	out_str("state", be_state_name(b->be.state));
	out_health(b, lc->now_real);
	out_counters(&b->stats);
	out_text_only_begin();
	out_str("reason", b->has_health && b->health.reason[0] ? b->health.reason : NULL);
	out_text_only_end();
	out_row_end();
}

static const struct snapshot *sort_snap;	/* qsort has no context argument */

static int cmp_backend_display(const void *a, const void *b)
{
	const struct be_view *x = *(const struct be_view *const *)a;
	const struct be_view *y = *(const struct be_view *const *)b;
	const struct svc_view *sx = snap_svc_by_id(sort_snap, x->be.svc_id);
	const struct svc_view *sy = snap_svc_by_id(sort_snap, y->be.svc_id);
	const char *nx = sx ? svc_name(sx) : NULL, *ny = sy ? svc_name(sy) : NULL;
	int c = strcmp(nx ? nx : "~", ny ? ny : "~");

	if (c)
		return c;
	if (x->be.svc_id != y->be.svc_id)
		return x->be.svc_id < y->be.svc_id ? -1 : 1;
	if (x->be.tier != y->be.tier)
		return x->be.tier - y->be.tier;
	c = memcmp(&x->be.addr, &y->be.addr, sizeof(x->be.addr));
	return c ? c : ntohs(x->be.port) - ntohs(y->be.port);
}

static int print_backends(const struct snapshot *s, const struct svc_view *only)
{
	const struct be_view **list = calloc(s->n_bes + 1, sizeof(*list));
	struct list_ctx lc = { s, clock_ns(CLOCK_REALTIME) };
	size_t n = 0;

	if (!list)
		return EXIT_ERR;
	for (size_t i = 0; i < s->n_bes; i++)
		if (!only || s->bes[i].be.svc_id == only->id)
			list[n++] = &s->bes[i];
	sort_snap = s;
	qsort(list, n, sizeof(*list), cmp_backend_display);
	out_table_begin(NULL, list_headers);
	for (size_t i = 0; i < n; i++)
		out_backend_row(&lc, list[i]);
	out_table_end();
	free(list);
	return EXIT_OK;
}

static int backend_list(struct ctl *ctl, int argc, char **argv)
{
	const struct svc_view *only = NULL;
	struct snapshot s;
	int rc;

	if (argc > 2)
		return usage_error("usage: veerctl backend list [SERVICE]");
	if (snap_load(ctl->state_dir, &s, SNAP_HEALTH | SNAP_STATS))
		return EXIT_ERR;
	if (argc == 2 && !(only = snap_find_service(&s, argv[1]))) {
		snap_free(&s);
		return EXIT_ERR;
	}
	rc = print_backends(&s, only);
	snap_free(&s);
	return rc;
}

/* drain / undrain: veerd owns backend state, so the change goes through it. */
static int set_draining(struct ctl *ctl, int argc, char **argv, const char *verb)
{
	char request[1024];
	struct endpoint ep;
	struct jobj reply;
	const struct jfield *id;

	if (argc != 3)
		return usage_error("usage: veerctl backend %s SERVICE ADDR[:PORT]", verb);
	if (strpbrk(argv[1], " \t\n") || parse_endpoint(argv[2], &ep))
		return usage_error("bad %s: expected SERVICE ADDR[:PORT], IPv6 as [ADDR]:PORT",
				   strpbrk(argv[1], " \t\n") ? "service name" : "backend address");
	snprintf(request, sizeof(request), "%s %s %s", verb, argv[1], argv[2]);
	if (admin_call(ctl->socket_path, request, &reply))
		return EXIT_ERR;
	id = jobj_get(&reply, "backend_id");
	out_obj_begin(NULL);
	out_str("service", argv[1]);
	out_str("backend", argv[2]);
	out_json_only_begin();
	out_json_raw("backend_id", id ? id->raw : "null");
	out_json_only_end();
	out_bool("draining", !strcmp(verb, "drain"));
	out_obj_end();
	jobj_free(&reply);
	return EXIT_OK;
}

static int backend_drain(struct ctl *ctl, int argc, char **argv)
{
	return set_draining(ctl, argc, argv, "drain");
}

static int backend_undrain(struct ctl *ctl, int argc, char **argv)
{
	return set_draining(ctl, argc, argv, "undrain");
}

static int backend_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(backend_help);
}

static const struct cmd backend_cmds[] = {
	{ "list", backend_list },
	{ "drain", backend_drain },
	{ "undrain", backend_undrain },
	{ "help", backend_help_cmd },
	{ NULL, NULL },
};

int do_backend(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "backend", backend_cmds, argc - 1, argv + 1);
}
