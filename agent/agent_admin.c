// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The admin socket's verbs (protocol in include/veer_admin.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "admin.h"
#include "agent.h"
#include "log.h"
#include "strbuf.h"
#include "veer_admin.h"

#ifndef VEER_VERSION
#define VEER_VERSION "0.1.0"
#endif

static void reply_error(struct admin_conn *c, const char *msg)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_printf(&sb, "{\"ok\":false,\"error\":");
	sb_json_str(&sb, msg);
	sb_printf(&sb, "}");
	admin_reply(c, sb_str(&sb));
	sb_free(&sb);
}

static void do_drain(struct agent *a, struct admin_conn *c, int argc, char **argv, bool drain)
{
	struct agent_service *s;
	struct agent_backend *b;
	struct veer_addr addr;
	uint8_t family;
	uint16_t port;
	char out[96];

	if (argc != 3) {
		reply_error(c, "usage: drain|undrain SERVICE ADDRESS[:PORT]");
		return;
	}
	s = agent_find_service(a, argv[1]);
	if (!s) {
		reply_error(c, "no such service");
		return;
	}
	if (cfg_parse_endpoint(argv[2], &addr, &family, &port)) {
		reply_error(c, "bad backend address");
		return;
	}
	b = agent_find_backend(s, &addr, family, port);
	if (!b) {
		reply_error(c, "no such backend in this service");
		return;
	}
	b->admin_drain = drain;
	backend_set_drain(a, b, drain || b->cfg.drain);
	pr_info(drain ? "drain requested" : "undrain requested", "service=%s backend=%s",
		s->cfg.name, argv[2]);
	snprintf(out, sizeof(out), "{\"ok\":true,\"backend_id\":%u}", b->id);
	admin_reply(c, out);
}

static void do_config(struct agent *a, struct admin_conn *c)
{
	struct strbuf sb;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		reply_error(c, "out of memory");
		return;
	}
	cfg_write_yaml(a->cfg, f);
	fclose(f);
	sb_init(&sb);
	sb_printf(&sb, "{\"ok\":true,\"file\":");
	sb_json_str(&sb, a->cfg_path);
	sb_printf(&sb, ",\"yaml\":");
	sb_json_str(&sb, text ? text : "");
	sb_printf(&sb, "}");
	admin_reply(c, sb_str(&sb));
	sb_free(&sb);
	free(text);
}

static void set_flow_events(struct agent *a, bool on)
{
	struct veer_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(a->maps.cfg, &zero, &cfg))
		return;
	if (!!(cfg.flags & VEER_CFG_F_FLOW_EVENTS) == on)
		return;
	cfg.flags = on ? cfg.flags | VEER_CFG_F_FLOW_EVENTS : cfg.flags & ~VEER_CFG_F_FLOW_EVENTS;
	bpf_map_update_elem(a->maps.cfg, &zero, &cfg, BPF_ANY);
}

static void on_admin(void *arg, struct admin_conn *c, int argc, char **argv)
{
	struct agent *a = arg;
	char out[128], err[512];

	if (!strcmp(argv[0], "ping")) {
		snprintf(out, sizeof(out), "{\"ok\":true,\"pid\":%d,\"version\":\"%s\"}",
			 (int)getpid(), VEER_VERSION);
		admin_reply(c, out);
	} else if (!strcmp(argv[0], "drain") || !strcmp(argv[0], "undrain")) {
		do_drain(a, c, argc, argv, !strcmp(argv[0], "drain"));
	} else if (!strcmp(argv[0], "config")) {
		do_config(a, c);
	} else if (!strcmp(argv[0], "reload")) {
		if (agent_reload(a, true, err, sizeof(err)))
			reply_error(c, err);
		else
			admin_reply(c, "{\"ok\":true}");
	} else if (!strcmp(argv[0], "events")) {
		admin_subscribe(c);
		set_flow_events(a, true);
		admin_reply(c, "{\"ok\":true}");
	} else {
		reply_error(c, "unknown verb (ping, drain, undrain, config, reload, events)");
	}
}

/* Stop paying for NEW_FLOW events once nobody listens. */
void agent_admin_housekeeping(struct agent *a)
{
	if (a->admin && !admin_subscribers(a->admin))
		set_flow_events(a, false);
}

int agent_admin_start(struct agent *a, char *err, size_t errlen)
{
	a->admin = admin_new(a->loop, a->cfg->node.admin_socket, on_admin, a, err, errlen);
	return a->admin ? 0 : -1;
}
