// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * YAML events -> struct veer_cfg. Each mapping has a table naming its keys
 * and how each value is read (config_schema.h); walk_mapping applies a
 * table as the events stream by, so every error carries the node's line
 * and the path built on the way down ("services[1].backends[0].port").
 * Range checks happen as values are read (config_values.c); checks across
 * keys or objects are in config_validate.c.
 *
 * Errors come in the order a walk over the whole document tree gives: a
 * list's length is judged before its items, so an item's error waits
 * until the list has been counted.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "config_schema.h"

static int walk_mapping(struct cfg_ctx *ctx, const struct cfg_ev *map, const char *path,
			const struct section *sec, void *obj);

static int expect_kind(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		       enum cfg_ev_type type)
{
	if (n->type == type)
		return 0;
	return cfg_fail(ctx, n->line, path, "expected %s, got %s",
			type == CFG_EV_MAP ? "a mapping" : "a list", cfg_kind_name(n));
}

static int fld_section(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	return walk_mapping(ctx, n, path, f->sub, (char *)obj + f->off);
}

/* ---- lists ---- */

/* One item of a list, given its first event; 0 or -1. */
typedef int (*item_fn)(struct cfg_ctx *ctx, const struct cfg_ev *item, const char *path,
		       size_t index, void *arg);

/*
 * Call fn on each item of the list n opens while none has failed and at
 * most max were seen; count the rest without reading them. 0 with *count
 * set, or -1 with the error reported: more than max items (called what),
 * else the first item's error.
 */
static int walk_list(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		     const char *what, size_t max, item_fn fn, void *arg, size_t *count)
{
	int depth = cfg_cursor_depth(ctx->cur);
	char item_path[CFG_PATH_MAX];
	bool failed = false;
	struct cfg_ev item;
	size_t i;

	for (i = 0;; i++) {
		bool read = !failed && i < max;

		if ((read ? cfg_cursor_next : cfg_cursor_next_raw)(ctx->cur, &item))
			return -1;
		if (item.type == CFG_EV_END)
			break;
		if (read) {
			snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i);
			failed = fn(ctx, &item, item_path, i, arg) != 0;
			if (failed && ctx->yaml_failed)
				return -1;
		}
		if (cfg_cursor_skip_to(ctx->cur, depth))	/* what the item left */
			return -1;
	}
	*count = i;
	if (i > max)
		return cfg_fail(ctx, n->line, path, "more than %zu %s", max, what);
	return failed ? -1 : 0;
}

/* ---- node ---- */

static int interface_item(struct cfg_ctx *ctx, const struct cfg_ev *item, const char *path,
			  size_t index, void *arg)
{
	struct cfg_node *node = arg;
	const char *s;

	if (cfg_scalar_text(ctx, item, path, "an interface name", &s))
		return -1;
	if (cfg_ifname_problem(s))
		return cfg_fail(ctx, item->line, path, "interface name '%.40s' %s",
				s, cfg_ifname_problem(s));
	for (size_t i = 0; i < index; i++)
		if (!strcmp(node->interfaces[i], s))
			return cfg_fail(ctx, item->line, path, "'%s' is listed twice", s);
	snprintf(node->interfaces[index], CFG_NAME_MAX, "%s", s);
	node->n_interfaces = index + 1;
	return 0;
}

static int fld_interfaces(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
			  void *obj, const struct field_spec *f)
{
	struct cfg_node *node = obj;
	size_t count;

	(void)f;
	if (expect_kind(ctx, n, path, CFG_EV_SEQ))
		return -1;
	node->n_interfaces = 0;
	if (walk_list(ctx, n, path, "interfaces", CFG_MAX_IFACES,
		      interface_item, node, &count))
		return -1;
	if (!count)
		return cfg_fail(ctx, n->line, path, "at least one interface is required");
	return 0;
}

/* ---- services and backends ---- */

/* A growing array of structs, each given its defaults and walked. */
struct elems {
	const struct section *sec;
	size_t size, cap;
	void (*defaults)(void *elem, int line);
	char **base;			/* the owner's pointer ... */
	size_t *n;			/* ... and count, kept for cfg_free */
};

static int elem_item(struct cfg_ctx *ctx, const struct cfg_ev *item, const char *path,
		     size_t index, void *arg)
{
	struct elems *e = arg;
	char *elem;

	if (index == e->cap) {
		char *grown = realloc(*e->base, e->cap * 2 * e->size);

		if (!grown)
			return cfg_fail(ctx, item->line, path, "out of memory");
		*e->base = grown;
		e->cap *= 2;
	}
	elem = *e->base + index * e->size;
	e->defaults(elem, item->line);
	*e->n = index + 1;
	return walk_mapping(ctx, item, path, e->sec, elem);
}

static int parse_list(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		      struct elems *e, size_t max)
{
	size_t count;
	char *fit;

	if (expect_kind(ctx, n, path, CFG_EV_SEQ))
		return -1;
	e->cap = 1;	/* an empty list still gets an array, as it always did */
	*e->base = calloc(1, e->size);
	*e->n = 0;
	if (!*e->base)
		return cfg_fail(ctx, n->line, path, "out of memory");
	if (walk_list(ctx, n, path, "entries", max, elem_item, e, &count))
		return -1;
	fit = realloc(*e->base, (count ? count : 1) * e->size);	/* give back the slack */
	if (fit)
		*e->base = fit;
	return 0;
}

static void backend_init(void *elem, int line)
{
	cfg_backend_defaults(elem);
	((struct cfg_backend *)elem)->line = line;
}

static void service_init(void *elem, int line)
{
	cfg_service_defaults(elem);
	((struct cfg_service *)elem)->line = line;
}

static const struct section backend_section;
static const struct section service_section;

static int fld_backends(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			const struct field_spec *f)
{
	struct cfg_service *svc = obj;
	struct elems e = { &backend_section, sizeof(struct cfg_backend), 0, backend_init,
			   (char **)&svc->backends, &svc->n_backends };

	(void)f;
	if (parse_list(ctx, n, path, &e, VEER_MAX_BACKENDS))
		return -1;
	if (!svc->n_backends)
		return cfg_fail(ctx, n->line, path, "at least one backend is required");
	return 0;
}

static int fld_services(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			const struct field_spec *f)
{
	struct veer_cfg *cfg = obj;
	struct elems e = { &service_section, sizeof(struct cfg_service), 0, service_init,
			   (char **)&cfg->services, &cfg->n_services };

	(void)f;
	return parse_list(ctx, n, path, &e, VEER_MAX_SERVICES);
}

/* ---- checks across the keys of one mapping ---- */

static int field_index(const struct section *sec, const char *key)
{
	for (int i = 0; sec->fields[i].key; i++)
		if (!strcmp(sec->fields[i].key, key))
			return i;
	return -1;
}

/* The line of key in the mapping, or of the mapping where it is absent. */
static int key_line(const struct section *sec, const struct keys_seen *seen, const char *key)
{
	int i = field_index(sec, key);

	return i >= 0 && seen->line[i] ? seen->line[i] : seen->map_line;
}

#define PROBE_BIT(t) (1u << (t))
#define HTTP_ANY (PROBE_BIT(PROBE_HTTP) | PROBE_BIT(PROBE_HTTPS))

static const char *const probe_type_names[] = {
	[PROBE_NONE] = "none", [PROBE_TCP] = "tcp", [PROBE_HTTP] = "http",
	[PROBE_HTTPS] = "https", [PROBE_DNS] = "dns",
};

/* A key meant for another probe type is a mistake, not a no-op. */
static int check_probe(struct cfg_ctx *ctx, const struct section *sec,
		       const struct keys_seen *seen, const char *path, void *obj)
{
	static const struct { const char *key; unsigned types; } specific[] = {
		{ "path", HTTP_ANY }, { "host", HTTP_ANY }, { "expect_status", HTTP_ANY },
		{ "body", HTTP_ANY }, { "insecure", PROBE_BIT(PROBE_HTTPS) },
		{ "query", PROBE_BIT(PROBE_DNS) }, { "transport", PROBE_BIT(PROBE_DNS) },
	};
	const struct cfg_probe *p = obj;
	char key_path[CFG_PATH_MAX];

	for (size_t i = 0; i < sizeof(specific) / sizeof(specific[0]); i++) {
		int line = seen->line[field_index(sec, specific[i].key)];

		if (!line || (specific[i].types & PROBE_BIT(p->type)))
			continue;
		snprintf(key_path, sizeof(key_path), "%s.%s", path, specific[i].key);
		return cfg_fail(ctx, line, key_path, "not used by %s probes",
				probe_type_names[p->type]);
	}
	return cfg_validate_probe(ctx, p, path, key_line(sec, seen, "timeout"));
}

static int check_outlier(struct cfg_ctx *ctx, const struct section *sec,
			 const struct keys_seen *seen, const char *path, void *obj)
{
	return cfg_validate_outlier(ctx, obj, path, key_line(sec, seen, "max_ejection"));
}

/* ---- the tables ---- */

static const struct word modes[] = {
	{ "xdp", CFG_MODE_XDP }, { "tc", CFG_MODE_TC }, { NULL, 0 } };
static const struct word redirects[] = {
	{ "auto", CFG_REDIRECT_AUTO }, { "always", CFG_REDIRECT_ALWAYS },
	{ "never", CFG_REDIRECT_NEVER }, { NULL, 0 } };
static const struct word protocols[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { NULL, 0 } };
static const struct word probe_types[] = {
	{ "tcp", PROBE_TCP }, { "http", PROBE_HTTP }, { "https", PROBE_HTTPS },
	{ "dns", PROBE_DNS }, { "none", PROBE_NONE }, { NULL, 0 } };
static const struct word transports[] = { { "udp", 0 }, { "tcp", 1 }, { NULL, 0 } };
static const struct word panics[] = {
	{ "use_all", PANIC_USE_ALL }, { "refuse", PANIC_REFUSE }, { NULL, 0 } };
static const struct word nats[] = { { "dnat", NAT_DNAT }, { "full", NAT_FULL }, { NULL, 0 } };
static const struct word encaps[] = {
	{ "none", ENCAP_NONE }, { "ipip", ENCAP_IPIP }, { NULL, 0 } };

#define IN_NODE(m) FIELD(struct cfg_node, m)
#define IN_PROBE(m) FIELD(struct cfg_probe, m)
#define IN_OUTLIER(m) FIELD(struct cfg_outlier, m)
#define IN_FAILOVER(m) FIELD(struct cfg_failover, m)
#define IN_BACKEND(m) FIELD(struct cfg_backend, m)
#define IN_SERVICE(m) FIELD(struct cfg_service, m)
#define IN_CFG(m) FIELD(struct veer_cfg, m)
#define DUR_MAX UINT32_MAX	/* ms fields are u32 */
#define HOUR_MS 3600000u

static const struct field_spec conntrack_fields[] = {
	{ "size", cfg_fld_uint, IN_NODE(ct_size), .min = 1024, .max = 16777216 },
	{ "tcp_timeout", cfg_fld_duration_s, IN_NODE(tcp_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "syn_timeout", cfg_fld_duration_s, IN_NODE(syn_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "close_timeout", cfg_fld_duration_s, IN_NODE(close_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "udp_timeout", cfg_fld_duration_s, IN_NODE(udp_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "flow_cache", cfg_fld_bool, IN_NODE(flow_cache) },
	{ NULL },
};
static const struct section conntrack_section = { conntrack_fields, NULL };

static const struct field_spec snat_fields[] = {
	{ "address", cfg_fld_snat_addr, IN_NODE(snat4), .min = VEER_AF_INET },
	{ "address6", cfg_fld_snat_addr, IN_NODE(snat6), .min = VEER_AF_INET6 },
	{ "ports", cfg_fld_snat_ports, IN_NODE(snat_port_lo) },
	{ NULL },
};
static const struct section snat_section = { snat_fields, NULL };

static const struct field_spec node_fields[] = {
	{ "interfaces", fld_interfaces, .required = true },
	{ "mode", cfg_fld_enum, IN_NODE(mode), .words = modes },
	{ "redirect", cfg_fld_enum, IN_NODE(redirect), .words = redirects },
	{ "state_dir", cfg_fld_slash_string, IN_NODE(state_dir), .min = 1 },
	{ "admin_socket", cfg_fld_slash_string, IN_NODE(admin_socket), .min = 1 },
	{ "metrics", cfg_fld_metrics, IN_NODE(metrics_listen) },
	{ "hash_seed", cfg_fld_uint, IN_NODE(hash_seed), .max = UINT32_MAX },
	{ "conntrack", fld_section, .sub = &conntrack_section },
	{ "snat", fld_section, .sub = &snat_section },
	{ NULL },
};
static const struct section node_section = { node_fields, NULL };

static const struct field_spec probe_fields[] = {
	{ "type", cfg_fld_enum, IN_PROBE(type), .words = probe_types },
	{ "port", cfg_fld_uint, IN_PROBE(port), .min = 1, .max = 65535 },
	{ "path", cfg_fld_slash_string, IN_PROBE(path), .min = 1 },
	{ "host", cfg_fld_string, IN_PROBE(host), .min = 1 },
	{ "expect_status", cfg_fld_expect_status, IN_PROBE(status_min) },
	{ "body", cfg_fld_string, IN_PROBE(body), .min = 1 },
	{ "query", cfg_fld_string, IN_PROBE(query), .min = 1 },
	{ "transport", cfg_fld_enum, IN_PROBE(dns_tcp), .words = transports },
	{ "interval", cfg_fld_duration_ms, IN_PROBE(interval_ms), .min = 1, .max = HOUR_MS },
	{ "timeout", cfg_fld_duration_ms, IN_PROBE(timeout_ms), .min = 1, .max = HOUR_MS },
	{ "rise", cfg_fld_uint, IN_PROBE(rise), .min = 1, .max = 100 },
	{ "fall", cfg_fld_uint, IN_PROBE(fall), .min = 1, .max = 100 },
	{ "jitter", cfg_fld_percent, IN_PROBE(jitter_pct), .min = 0, .max = 50 },
	{ "insecure", cfg_fld_bool, IN_PROBE(insecure) },
	{ NULL },
};
static const struct section probe_section = { probe_fields, check_probe };

static const struct field_spec outlier_fields[] = {
	{ "consecutive", cfg_fld_uint, IN_OUTLIER(consecutive), .min = 1, .max = 1000 },
	{ "base_ejection", cfg_fld_duration_ms, IN_OUTLIER(base_ejection_ms), .min = 1, .max = DUR_MAX },
	{ "max_ejection", cfg_fld_duration_ms, IN_OUTLIER(max_ejection_ms), .min = 1, .max = DUR_MAX },
	{ "max_ejected", cfg_fld_percent, IN_OUTLIER(max_ejected_pct), .min = 0, .max = 100 },
	{ NULL },
};
static const struct section outlier_section = { outlier_fields, check_outlier };

static const struct field_spec failover_fields[] = {
	{ "min_healthy", cfg_fld_percent, IN_FAILOVER(min_healthy_pct), .min = 1, .max = 100 },
	{ "failback_delay", cfg_fld_duration_ms, IN_FAILOVER(failback_delay_ms), .max = DUR_MAX },
	{ "drain_timeout", cfg_fld_duration_ms, IN_FAILOVER(drain_timeout_ms), .max = DUR_MAX },
	{ "panic", cfg_fld_enum, IN_FAILOVER(panic), .words = panics },
	{ NULL },
};
static const struct section failover_section = { failover_fields, NULL };

static const struct field_spec backend_fields[] = {
	{ "address", cfg_fld_backend_addr, .required = true },
	{ "port", cfg_fld_uint, IN_BACKEND(port), .min = 1, .max = 65535, .required = true },
	{ "weight", cfg_fld_uint, IN_BACKEND(weight), .min = 1, .max = 1000 },
	{ "tier", cfg_fld_uint, IN_BACKEND(tier), .min = 0, .max = 7 },
	{ "nat", cfg_fld_enum, IN_BACKEND(nat), .words = nats },
	{ "encap", cfg_fld_enum, IN_BACKEND(encap), .words = encaps },
	{ "drain", cfg_fld_bool, IN_BACKEND(drain) },
	{ NULL },
};
static const struct section backend_section = { backend_fields, NULL };

static const struct field_spec service_fields[] = {
	{ "name", cfg_fld_service_name, IN_SERVICE(name), .min = 1, .required = true },
	{ "vip", cfg_fld_vip, .required = true },
	{ "port", cfg_fld_uint, IN_SERVICE(port), .min = 1, .max = 65535, .required = true },
	{ "protocol", cfg_fld_enum, IN_SERVICE(proto), .words = protocols, .required = true },
	{ "maglev_size", cfg_fld_maglev_size, IN_SERVICE(maglev_size),
	  .min = 7, .max = VEER_MAGLEV_MAX_M },
	{ "probe", fld_section, IN_SERVICE(probe), .sub = &probe_section },
	{ "outlier", fld_section, IN_SERVICE(outlier), .sub = &outlier_section },
	{ "failover", fld_section, IN_SERVICE(failover), .sub = &failover_section },
	{ "backends", fld_backends, .required = true },
	{ NULL },
};
static const struct section service_section = { service_fields, NULL };

static const struct field_spec root_fields[] = {
	{ "node", fld_section, IN_CFG(node), .sub = &node_section, .required = true },
	{ "services", fld_services, IN_CFG(services) },
	{ NULL },
};
static const struct section root_section = { root_fields, NULL };

/* ---- the walk ---- */

static void child_path(char *buf, size_t len, const char *parent, const char *key)
{
	snprintf(buf, len, "%s%s%s", parent, *parent ? "." : "", key);
}

/* The key's index in sec; keys must be plain words, known, and appear
 * once. sub_path gets the key's path. */
static int read_key(struct cfg_ctx *ctx, const struct cfg_ev *k, const char *path,
		    const struct section *sec, const struct keys_seen *seen,
		    char *sub_path, size_t len)
{
	int i;

	if (k->type != CFG_EV_SCALAR || cfg_is_null(k))
		return cfg_fail(ctx, k->line, *path ? path : "document",
				"keys must be words, got %s", cfg_kind_name(k));
	child_path(sub_path, len, path, k->value);
	i = field_index(sec, k->value);
	/* Only known keys get this far, so a repeat is a known key seen. */
	if (i >= 0 && seen->line[i])
		return cfg_fail(ctx, k->line, sub_path, "duplicate key (first at line %d)",
				seen->line[i]);
	if (i < 0)
		return cfg_fail(ctx, k->line, sub_path, "unknown key '%.40s'", k->value);
	return i;
}

static int walk_mapping(struct cfg_ctx *ctx, const struct cfg_ev *map, const char *path,
			const struct section *sec, void *obj)
{
	struct keys_seen seen = { .map_line = map->line };
	char sub_path[CFG_PATH_MAX];
	struct cfg_ev k, v;
	int i;

	if (expect_kind(ctx, map, *path ? path : "document", CFG_EV_MAP))
		return -1;
	for (;;) {
		if (cfg_cursor_next(ctx->cur, &k))
			return -1;
		if (k.type == CFG_EV_END)
			break;
		i = read_key(ctx, &k, path, sec, &seen, sub_path, sizeof(sub_path));
		if (i < 0)
			return -1;
		seen.line[i] = k.line;
		if (cfg_cursor_next(ctx->cur, &v) ||
		    sec->fields[i].parse(ctx, &v, sub_path, obj, &sec->fields[i]))
			return -1;
	}
	for (i = 0; sec->fields[i].key; i++) {
		if (sec->fields[i].required && !seen.line[i]) {
			child_path(sub_path, sizeof(sub_path), path, sec->fields[i].key);
			return cfg_fail(ctx, map->line, sub_path, "missing required key");
		}
	}
	return sec->check ? sec->check(ctx, sec, &seen, path, obj) : 0;
}

int cfg_parse_document(struct cfg_ctx *ctx, const struct cfg_ev *root, struct veer_cfg *cfg)
{
	return walk_mapping(ctx, root, "", &root_section, cfg);
}
