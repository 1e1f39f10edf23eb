// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The /metrics page in Prometheus text format 0.0.4, from the agent's state
 * and the datapath's per-CPU counters.
 *
 * Built for 1,000 services x 100 backends (1.3 million lines, 107 MB, about
 * 0.2 s): the agent is walked once to escape every label set into one pool,
 * each counter map is read in batches (bpf_map_lookup_batch, a few syscalls
 * per map) and summed over CPUs, then every family is a run of memcpy's into
 * a fixed chunk that is flushed to the strbuf. No printf per line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "metrics.h"
#include "strbuf.h"
#include "names.h"	/* reason_name(), proto_name(): the one table */

#ifndef VEER_VERSION
#define VEER_VERSION "0.1.0"
#endif

#define OUT_CHUNK (64 * 1024)
#define READ_CHUNK_BYTES (256 * 1024)	/* one batch of per-CPU values */
#define LABEL_MAX 384			/* escaped name (<= 2 x 63) + address */

/* ---- output: a fixed chunk in front of the strbuf ---- */

struct out {
	struct strbuf *sb;
	size_t len;
	char buf[OUT_CHUNK];
};

/* strbuf has no raw append, and sb_printf sizes its text with a first
 * vsnprintf pass that took a third of the time of a 100 MB page: grow the
 * buffer here, keeping strbuf's rules (NUL-terminated, oom sticks). */
static void sb_append(struct strbuf *sb, const char *s, size_t n)
{
	size_t cap = sb->cap ? sb->cap : 4096;
	char *b;

	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap) {
		while (cap < sb->len + n + 1)
			cap *= 2;
		b = realloc(sb->buf, cap);
		if (!b) {
			sb->oom = 1;
			return;
		}
		sb->buf = b;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void out_flush(struct out *o)
{
	sb_append(o->sb, o->buf, o->len);
	o->len = 0;
}

static void out_mem(struct out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		out_flush(o);
	if (n > sizeof(o->buf)) {
		sb_append(o->sb, s, n);
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s) { out_mem(o, s, strlen(s)); }

static void out_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(o, tmp + i, sizeof(tmp) - i);
}

/* Microseconds as seconds with all six decimals: exact, no float formatting. */
static void out_seconds_us(struct out *o, uint64_t us)
{
	char frac[8];

	out_u64(o, us / 1000000);
	frac[0] = '.';
	for (int i = 6, f = (int)(us % 1000000); i >= 1; i--, f /= 10)
		frac[i] = (char)('0' + f % 10);
	out_mem(o, frac, 7);
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	out_str(o, "# HELP ");
	out_str(o, name);
	out_mem(o, " ", 1);
	out_str(o, help);
	out_str(o, "\n# TYPE ");
	out_str(o, name);
	out_mem(o, " ", 1);
	out_str(o, type);
	out_mem(o, "\n", 1);
}

/* name{labels[,extra]} */
static void series(struct out *o, const char *name, const char *labels, size_t n,
		   const char *extra)
{
	out_str(o, name);
	out_mem(o, "{", 1);
	out_mem(o, labels, n);
	if (extra) {
		if (n)
			out_mem(o, ",", 1);
		out_str(o, extra);
	}
	out_mem(o, "} ", 2);
}

static void sample_u64(struct out *o, const char *name, const char *labels, size_t n,
		       const char *extra, uint64_t v)
{
	series(o, name, labels, n, extra);
	out_u64(o, v);
	out_mem(o, "\n", 1);
}

/* A sample without labels, or with constant ones: "veer_x{a=\"b\"}" or "veer_x". */
static void sample_plain(struct out *o, const char *name_and_labels, uint64_t v)
{
	out_str(o, name_and_labels);
	out_mem(o, " ", 1);
	out_u64(o, v);
	out_mem(o, "\n", 1);
}

/* ---- per-CPU counters ---- */

/* A per-CPU array whose value is `fields` u64s, summed over CPUs:
 * v[id * fields + f] for ids [0, ids). ok is false when it could not be
 * read (no datapath yet): its series are left out rather than shown as 0. */
struct counters {
	uint64_t *v;
	uint32_t ids;
	size_t fields;
	bool ok;
};

/* Values of ids first.. into keys/vals, *count in and out. Batches where
 * the kernel has them, single lookups otherwise. */
static int lookup_range(int fd, uint32_t first, uint32_t *count, uint32_t *keys,
			char *vals, size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t want = *count, prev = first - 1, next;

	if (!bpf_map_lookup_batch(fd, first ? &prev : NULL, &next, keys, vals, count, &opts))
		return 0;
	if (errno == ENOENT)	/* end of the map: *count holds what was read */
		return 0;
	for (uint32_t i = 0; i < want; i++) {
		keys[i] = first + i;
		if (bpf_map_lookup_elem(fd, &keys[i], vals + i * value_size)) {
			*count = i;
			return errno == ENOENT && i ? 0 : -errno;
		}
	}
	*count = want;
	return 0;
}

static void counters_add(struct counters *c, uint32_t id, const uint64_t *percpu, int ncpu)
{
	uint64_t *sum = c->v + (size_t)id * c->fields;

	if (id >= c->ids)
		return;
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (size_t f = 0; f < c->fields; f++)
			sum[f] += percpu[(size_t)cpu * c->fields + f];
}

static void counters_read(struct counters *c, int fd, uint32_t ids, size_t fields)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t value_size = fields * sizeof(uint64_t) * (ncpu > 0 ? ncpu : 1);
	uint32_t chunk = READ_CHUNK_BYTES / value_size ? READ_CHUNK_BYTES / value_size : 1;
	uint32_t *keys = calloc(chunk, sizeof(*keys));
	char *vals = calloc(chunk, value_size);	/* zeroed for valgrind: bpf() fills it */

	*c = (struct counters){ .ids = ids, .fields = fields };
	c->v = calloc((size_t)ids * fields + 1, sizeof(uint64_t));
	if (ncpu <= 0 || fd < 0 || !keys || !vals || !c->v)
		goto out;
	for (uint32_t first = 0, n; first < ids; first = keys[n - 1] + 1) {
		n = ids - first < chunk ? ids - first : chunk;
		if (lookup_range(fd, first, &n, keys, vals, value_size))
			goto out;
		if (!n)
			break;
		for (uint32_t i = 0; i < n; i++)
			counters_add(c, keys[i], (uint64_t *)(vals + i * value_size), ncpu);
	}
	c->ok = true;
out:
	free(keys);
	free(vals);
}

static const uint64_t *counters_at(const struct counters *c, uint32_t id)
{
	return c->ok && id < c->ids ? c->v + (size_t)id * c->fields : NULL;
}

/* ---- rows: one label set per service and per backend, escaped once ---- */

struct row {
	uint32_t id;
	size_t lbl, lbl_len;		/* in the label pool */
	const struct agent_service *s;
	/* backends only */
	uint32_t state;			/* enum veer_health_state */
	uint32_t latency_us;		/* 0: no successful probe to show */
	uint32_t ejections;
};

struct rows {
	struct row *svc, *be;
	size_t n_svc, n_be;
	struct strbuf pool;
	uint32_t svc_ids, be_ids;	/* highest id + 1 */
};

/* Label value escaping of the text format: backslash, quote, newline. */
static void escape_label(char *dst, size_t len, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			dst[j++] = '\\';
			dst[j++] = *s == '\n' ? 'n' : *s;
		} else {
			dst[j++] = *s;
		}
	}
	dst[j] = '\0';
}

static void row_label(struct rows *r, struct row *row, const char *labels)
{
	row->lbl = r->pool.len;
	sb_printf(&r->pool, "%s", labels);
	row->lbl_len = r->pool.len - row->lbl;
}

static void add_service(struct rows *r, const struct agent_service *s, const char *esc)
{
	struct row *row = &r->svc[r->n_svc++];
	char vip[INET6_ADDRSTRLEN], lbl[LABEL_MAX];

	snprintf(lbl, sizeof(lbl), "service=\"%s\",vip=\"%s\",port=\"%u\",protocol=\"%s\"", esc,
		 cfg_format_addr(&s->cfg.vip, s->cfg.family, vip, sizeof(vip)), s->cfg.port,
		 proto_name(s->cfg.proto));
	row->id = s->id;
	row->s = s;
	row_label(r, row, lbl);
	if (s->id >= r->svc_ids && s->id < VEER_MAX_SERVICES)
		r->svc_ids = s->id + 1;
}

static void add_backend(struct rows *r, const struct agent_backend *b, const char *esc)
{
	struct row *row = &r->be[r->n_be++];
	const struct cfg_backend *c = &b->cfg;
	char ep[INET6_ADDRSTRLEN + 8], lbl[LABEL_MAX];
	struct veer_health h;

	snprintf(lbl, sizeof(lbl), "service=\"%s\",backend=\"%s\",tier=\"%u\"", esc,
		 cfg_format_endpoint(&c->addr, c->family, c->port, ep, sizeof(ep)), c->tier);
	row->id = b->id;
	row->s = b->svc;
	row_label(r, row, lbl);
	health_export(&b->health, 0, 0, &h);
	row->state = h.state;
	row->latency_us = b->svc->cfg.probe.type != PROBE_NONE ? h.latency_us : 0;
	row->ejections = h.ejections;
	if (b->id >= r->be_ids && b->id < VEER_MAX_BACKENDS)
		r->be_ids = b->id + 1;
}

static int rows_build(struct rows *r, const struct agent *a)
{
	size_t n_be = 0;

	memset(r, 0, sizeof(*r));
	sb_init(&r->pool);
	for (size_t i = 0; i < a->n_svcs; i++)
		n_be += a->svcs[i]->n_be;
	r->svc = calloc(a->n_svcs + 1, sizeof(*r->svc));
	r->be = calloc(n_be + 1, sizeof(*r->be));
	if (!r->svc || !r->be)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_svcs; i++) {
		const struct agent_service *s = a->svcs[i];
		char esc[2 * CFG_NAME_MAX + 1];

		escape_label(esc, sizeof(esc), s->cfg.name);
		add_service(r, s, esc);
		for (size_t j = 0; j < s->n_be; j++)
			add_backend(r, s->be[j], esc);
	}
	return r->pool.oom ? -ENOMEM : 0;
}

static void rows_free(struct rows *r)
{
	free(r->svc);
	free(r->be);
	sb_free(&r->pool);
}

/* ---- families ---- */

struct stat_family {
	const char *name, *help;
	size_t field;			/* u64 index in the stats struct */
};

#define FIELD(type, f) (offsetof(type, f) / sizeof(uint64_t))
#define U64S(type) (sizeof(type) / sizeof(uint64_t))

static const struct stat_family svc_stat_families[] = {
	{ "veer_service_packets_total", "Packets to the service seen by the datapath.",
	  FIELD(struct veer_svc_stats, packets) },
	{ "veer_service_bytes_total", "Bytes to the service seen by the datapath.",
	  FIELD(struct veer_svc_stats, bytes) },
	{ "veer_service_new_flows_total", "Flows given a backend by the Maglev table.",
	  FIELD(struct veer_svc_stats, new_flows) },
	{ "veer_service_repicks_total", "Flows moved off a backend that went down or away.",
	  FIELD(struct veer_svc_stats, repicks) },
	{ "veer_service_refused_total", "New flows refused (RST) under the panic rule refuse.",
	  FIELD(struct veer_svc_stats, refused) },
	{ "veer_service_no_backend_total", "Packets dropped for want of a usable backend.",
	  FIELD(struct veer_svc_stats, no_backend) },
};

static const struct stat_family be_stat_families[] = {
	{ "veer_backend_packets_total", "Packets forwarded to the backend.",
	  FIELD(struct veer_be_stats, packets) },
	{ "veer_backend_bytes_total", "Bytes forwarded to the backend.",
	  FIELD(struct veer_be_stats, bytes) },
	{ "veer_backend_new_flows_total", "New flows sent to the backend.",
	  FIELD(struct veer_be_stats, new_flows) },
	{ "veer_backend_reply_packets_total", "Reply packets from the backend reverse-NATed.",
	  FIELD(struct veer_be_stats, reply_packets) },
	{ "veer_backend_reply_bytes_total", "Reply bytes from the backend reverse-NATed.",
	  FIELD(struct veer_be_stats, reply_bytes) },
	{ "veer_backend_fail_signals_total",
	  "Failure signals seen by the datapath (RST on SYN, unanswered SYN, ICMP unreachable).",
	  FIELD(struct veer_be_stats, fail_signals) },
};

#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))

/* name{row's labels[,extra]} and the space before the value. */
static void row_series(struct out *o, const char *name, const struct rows *r,
		       const struct row *row, const char *extra)
{
	series(o, name, r->pool.buf + row->lbl, row->lbl_len, extra);
}

static void row_sample(struct out *o, const char *name, const struct rows *r,
		       const struct row *row, const char *extra, uint64_t v)
{
	row_series(o, name, r, row, extra);
	out_u64(o, v);
	out_mem(o, "\n", 1);
}

static void render_stat_rows(struct out *o, const struct rows *r, const struct row *rows,
			     size_t n, const struct counters *c, const struct stat_family *f)
{
	family(o, f->name, "counter", f->help);
	for (size_t i = 0; i < n; i++) {
		const uint64_t *v = counters_at(c, rows[i].id);

		if (v)
			row_sample(o, f->name, r, &rows[i], NULL, v[f->field]);
	}
}

static void render_services(struct out *o, const struct rows *r, const struct counters *c)
{
	const char *tier = "veer_service_active_tier", *panic = "veer_service_panic";

	for (size_t f = 0; f < ARRAY_LEN(svc_stat_families); f++)
		render_stat_rows(o, r, r->svc, r->n_svc, c, &svc_stat_families[f]);
	family(o, tier, "gauge", "Lowest tier taking new flows; -1 when none does.");
	for (size_t i = 0; i < r->n_svc; i++) {
		uint32_t t = r->svc[i].s->decision.active_tier;

		row_series(o, tier, r, &r->svc[i], NULL);
		if (t == TIER_NONE)
			out_mem(o, "-1", 2);
		else
			out_u64(o, t);
		out_mem(o, "\n", 1);
	}
	family(o, panic, "gauge", "1 while no backend is usable and the panic rule is in force.");
	for (size_t i = 0; i < r->n_svc; i++)
		row_sample(o, panic, r, &r->svc[i], NULL, r->svc[i].s->decision.panic);
}

static void render_health(struct out *o, const struct rows *r)
{
	const char *name = "veer_backend_health";
	char state[VEER_H_DRAINING + 1][32];	/* state="..." once, not per line */

	for (unsigned int st = VEER_H_UNKNOWN; st <= VEER_H_DRAINING; st++)
		snprintf(state[st], sizeof(state[st]), "state=\"%s\"", health_state_name(st));
	family(o, name, "gauge", "1 for the backend's health state, 0 for the others.");
	for (size_t i = 0; i < r->n_be; i++)
		for (unsigned int st = VEER_H_UNKNOWN; st <= VEER_H_DRAINING; st++)
			row_sample(o, name, r, &r->be[i], state[st], r->be[i].state == st);
}

static void render_backends(struct out *o, const struct rows *r, const struct counters *c)
{
	const char *lat = "veer_backend_probe_latency_seconds";
	const char *ej = "veer_backend_ejections_total";

	for (size_t f = 0; f < ARRAY_LEN(be_stat_families); f++)
		render_stat_rows(o, r, r->be, r->n_be, c, &be_stat_families[f]);
	render_health(o, r);
	family(o, lat, "gauge", "Duration of the last successful active probe.");
	for (size_t i = 0; i < r->n_be; i++) {
		if (!r->be[i].latency_us)
			continue;
		row_series(o, lat, r, &r->be[i], NULL);
		out_seconds_us(o, r->be[i].latency_us);
		out_mem(o, "\n", 1);
	}
	family(o, ej, "counter", "Passive ejections of the backend (kept across veerd restarts).");
	for (size_t i = 0; i < r->n_be; i++)
		row_sample(o, ej, r, &r->be[i], NULL, r->be[i].ejections);
}

static void render_reasons(struct out *o, const struct counters *c)
{
	const char *name = "veer_datapath_packets_total";

	family(o, name, "counter", "Datapath verdicts by reason (forwarded, passed, dropped).");
	for (uint32_t rsn = 0; rsn < VEER_R__COUNT; rsn++) {
		const uint64_t *v = counters_at(c, rsn);
		char lbl[64];

		if (!v)
			continue;
		snprintf(lbl, sizeof(lbl), "reason=\"%s\"", reason_name(rsn));
		sample_u64(o, name, lbl, strlen(lbl), NULL, *v);
	}
}

static void render_agent_counters(struct out *o, const struct agent *a)
{
	const struct agent_counters *k = &a->ctr;

	family(o, "veer_config_reloads_total", "counter",
	       "Config reloads: ok = applied, error = rejected (the config in force stays).");
	sample_plain(o, "veer_config_reloads_total{result=\"ok\"}", k->reloads);
	sample_plain(o, "veer_config_reloads_total{result=\"error\"}", k->reload_failures);
	family(o, "veer_probes_total", "counter", "Active health probes by result.");
	sample_plain(o, "veer_probes_total{result=\"ok\"}", k->probes_ok);
	sample_plain(o, "veer_probes_total{result=\"failed\"}", k->probes_failed);
	family(o, "veer_passive_signals_total", "counter",
	       "Failure signals from the datapath handled by veerd.");
	sample_plain(o, "veer_passive_signals_total", k->passive_signals);
	family(o, "veer_ejections_total", "counter",
	       "Passive ejections: refused when the tier's ejected share was at its cap.");
	sample_plain(o, "veer_ejections_total{result=\"ejected\"}", k->ejections);
	sample_plain(o, "veer_ejections_total{result=\"refused\"}", k->ejections_refused);
	family(o, "veer_tier_shifts_total", "counter", "Changes of a service's active tier.");
	sample_plain(o, "veer_tier_shifts_total", k->tier_shifts);
	family(o, "veer_panics_total", "counter", "Times a service entered the panic rule.");
	sample_plain(o, "veer_panics_total", k->panics);
}

static void render_agent_state(struct out *o, const struct agent *a)
{
	const char *tr = "veer_health_transitions_total";

	family(o, tr, "counter", "Backend health transitions by the state entered.");
	for (unsigned int st = VEER_H_UNKNOWN; st <= VEER_H_DRAINING; st++) {
		char lbl[48];

		snprintf(lbl, sizeof(lbl), "state=\"%s\"", health_state_name(st));
		sample_u64(o, tr, lbl, strlen(lbl), NULL, a->ctr.transitions[st]);
	}
	family(o, "veer_datapath_events_total", "counter", "Ring buffer events read by veerd.");
	sample_plain(o, "veer_datapath_events_total", a->ctr.events_read);
	family(o, "veer_interfaces_attached", "gauge", "Interfaces the datapath is attached to.");
	sample_plain(o, "veer_interfaces_attached",
		     a->n_attached > 0 ? (uint64_t)a->n_attached : 0);
	family(o, "veer_ready", "gauge", "1 when the config is applied and the datapath attached.");
	sample_plain(o, "veer_ready", a->ready);
	family(o, "veer_build_info", "gauge", "veerd's version; the value is always 1.");
	sample_plain(o, "veer_build_info{version=\"" VEER_VERSION "\"}", 1);
}

void metrics_render(struct agent *a, struct strbuf *sb)
{
	struct out *o = malloc(sizeof(*o));
	struct counters svc_c = { 0 }, be_c = { 0 }, drop_c = { 0 };
	struct rows r;

	if (!o) {
		sb->oom = 1;
		return;
	}
	o->sb = sb;
	o->len = 0;
	if (rows_build(&r, a)) {
		sb->oom = 1;
		goto out;
	}
	counters_read(&svc_c, a->maps.svc_stat, r.svc_ids, U64S(struct veer_svc_stats));
	counters_read(&be_c, a->maps.be_stat, r.be_ids, U64S(struct veer_be_stats));
	counters_read(&drop_c, a->maps.drops, VEER_R__COUNT, 1);
	render_services(o, &r, &svc_c);
	render_backends(o, &r, &be_c);
	render_reasons(o, &drop_c);
	render_agent_counters(o, a);
	render_agent_state(o, a);
	out_flush(o);
out:
	rows_free(&r);
	free(svc_c.v);
	free(be_c.v);
	free(drop_c.v);
	free(o);
}
