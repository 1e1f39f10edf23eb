// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Events: datapath records from the ring buffer (new flow, re-pick,
 * failure signals) and veerd's own state changes, sent as JSON lines to
 * admin-socket subscribers (`veerctl events`). Failure signals also feed
 * passive outlier detection.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include "admin.h"
#include "agent.h"
#include "log.h"
#include "strbuf.h"

static void format_ts(char *buf, size_t len)
{
	uint64_t ns = agent_now_real_ns();
	time_t sec = ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03uZ",
		 (unsigned)(ns / 1000000 % 1000));
}

static void append_endpoint(struct strbuf *sb, const char *key, const struct veer_addr *a,
			    uint8_t family, uint16_t port)
{
	char ep[80];

	cfg_format_endpoint(a, family, port, ep, sizeof(ep));
	sb_printf(sb, ",\"%s\":", key);
	sb_json_str(sb, ep);
}

void agent_emit(struct agent *a, const char *type, struct agent_service *s,
		struct agent_backend *b, const char *extra_json)
{
	struct strbuf sb;
	char ts[40];

	if (!a->admin || !admin_subscribers(a->admin))
		return;
	sb_init(&sb);
	format_ts(ts, sizeof(ts));
	sb_printf(&sb, "{\"ts\":\"%s\",\"type\":\"%s\"", ts, type);
	if (s) {
		sb_printf(&sb, ",\"service\":");
		sb_json_str(&sb, s->cfg.name);
	}
	if (b)
		append_endpoint(&sb, "backend", &b->cfg.addr, b->cfg.family, b->cfg.port);
	if (extra_json && extra_json[0])
		sb_printf(&sb, ",%s", extra_json);
	sb_printf(&sb, "}");
	admin_broadcast(a->admin, sb_str(&sb));
	sb_free(&sb);
}

static const char *event_name(uint32_t type)
{
	switch (type) {
	case VEER_EV_NEW_FLOW: return "new_flow";
	case VEER_EV_REPICK: return "repick";
	case VEER_EV_RST_ON_SYN: return "rst_on_syn";
	case VEER_EV_SYN_RETRANS: return "syn_retransmit";
	case VEER_EV_ICMP_UNREACH: return "icmp_unreachable";
	case VEER_EV_SNAT_EXHAUSTED: return "snat_exhausted";
	default: return "unknown";
	}
}

static struct agent_backend *backend_by_id(struct agent *a, uint32_t id)
{
	return id < VEER_MAX_BACKENDS ? a->be_by_id[id] : NULL;
}

/* Full NAT found no free source port: one warning per second at most,
 * with the number of flows dropped since the last one. */
static void log_snat_exhausted(const struct veer_event *ev, struct agent_backend *b)
{
	static uint64_t last_ns, dropped;
	char gw[64] = "?", client[64];

	dropped++;
	if (last_ns && ev->ts_ns - last_ns < 1000000000ull)
		return;
	last_ns = ev->ts_ns;
	if (b)
		cfg_format_addr(&b->cfg.addr, b->cfg.family, gw, sizeof(gw));
	cfg_format_addr(&ev->flow.src, ev->flow.family, client, sizeof(client));
	pr_warn("full NAT source ports exhausted: new flows dropped",
		"service=%s gateway=%s gateway_port=%u client=%s dropped=%llu "
		"hint=\"widen node.snat.ports or add node addresses\"",
		b ? b->svc->cfg.name : "?", gw, b ? b->cfg.port : 0, client,
		(unsigned long long)dropped);
	dropped = 0;
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	const struct veer_event *ev = data;
	struct agent *a = ctx;
	struct agent_backend *b, *old;
	struct strbuf sb;

	if (size < sizeof(*ev))
		return 0;
	a->ctr.events_read++;
	b = backend_by_id(a, ev->backend_id);
	if (ev->type == VEER_EV_RST_ON_SYN || ev->type == VEER_EV_SYN_RETRANS ||
	    ev->type == VEER_EV_ICMP_UNREACH) {
		if (b)
			backend_passive_signal(a, b, ev->type);
	}
	if (ev->type == VEER_EV_SNAT_EXHAUSTED)
		log_snat_exhausted(ev, b);
	if (!a->admin || !admin_subscribers(a->admin))
		return 0;
	sb_init(&sb);
	sb_printf(&sb, "\"signal\":\"%s\"", event_name(ev->type));
	append_endpoint(&sb, "client", &ev->flow.src, ev->flow.family, ntohs(ev->flow.sport));
	append_endpoint(&sb, "vip", &ev->flow.dst, ev->flow.family, ntohs(ev->flow.dport));
	old = ev->type == VEER_EV_REPICK ? backend_by_id(a, ev->old_backend_id) : NULL;
	if (old)
		append_endpoint(&sb, "old_backend", &old->cfg.addr, old->cfg.family, old->cfg.port);
	agent_emit(a, event_name(ev->type), b ? b->svc : NULL, b, sb_str(&sb));
	sb_free(&sb);
	return 0;
}

static void on_ring_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;

	(void)l; (void)fd; (void)events;
	ring_buffer__consume(a->rb);
}

int agent_events_open(struct agent *a, char *err, size_t errlen)
{
	a->rb = ring_buffer__new(a->maps.events, on_ring_record, a, NULL);
	if (!a->rb) {
		snprintf(err, errlen, "ring buffer %s: cannot open", VEER_MAP_EVENTS);
		return -1;
	}
	return loop_add_fd(a->loop, ring_buffer__epoll_fd(a->rb), EPOLLIN, on_ring_readable, a);
}
