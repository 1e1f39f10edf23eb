// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * YAML document -> struct veer_cfg. Each mapping has a table naming its
 * keys and how each value is read; walk_mapping applies a table, so every
 * error carries the node's line and the path built on the way down
 * ("services[1].backends[0].port"). Range checks happen here, as values
 * are read; checks across keys or objects are in config_validate.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_internal.h"

struct field_spec;
typedef int (*field_fn)(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
			void *obj, const struct field_spec *f);

/* An enum spelling and the value stored for it. */
struct word {
	const char *name;
	uint32_t value;
};

struct section {
	const struct field_spec *fields;	/* ends with key == NULL */
	/* Checks across the keys of one mapping, once all are read. */
	int (*check)(struct cfg_ctx *ctx, yaml_node_t *map, const char *path, void *obj);
};

struct field_spec {
	const char *key;
	field_fn parse;
	size_t off, size;		/* destination within obj */
	uint64_t min, max;		/* numbers, durations (ms), percents; string length */
	const struct word *words;	/* enums, ends with name == NULL */
	const struct section *sub;	/* nested mapping */
	bool required;
};

#define FIELD(type, member) .off = offsetof(type, member), .size = sizeof(((type *)0)->member)

static int walk_mapping(struct cfg_ctx *ctx, yaml_node_t *map, const char *path,
			const struct section *sec, void *obj);

/* ---- nodes and scalars ---- */

static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

static const char *kind_name(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	return is_null(n) ? "an empty value" : "a scalar";
}

static int expect_kind(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		       yaml_node_type_t type)
{
	if (n->type == type)
		return 0;
	return cfg_fail(ctx, cfg_node_line(n), path, "expected %s, got %s",
			type == YAML_MAPPING_NODE ? "a mapping" : "a list", kind_name(n));
}

/* The text of a non-empty scalar; what = what was expected, for the message. */
static int scalar_text(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		       const char *what, const char **text)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return cfg_fail(ctx, cfg_node_line(n), path, "expected %s, got %s",
				what, kind_name(n));
	*text = (const char *)n->data.scalar.value;
	return 0;
}

static yaml_node_t *find_key(struct cfg_ctx *ctx, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(ctx->doc, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return k;
	}
	return NULL;
}

/* The line of key in map, or of map itself where the key is absent. */
static int key_line(struct cfg_ctx *ctx, yaml_node_t *map, const char *key)
{
	yaml_node_t *k = find_key(ctx, map, key);

	return cfg_node_line(k ? k : map);
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

/* ---- value readers shared by the handlers ---- */

static int read_uint(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		     const char *s, const struct field_spec *f, uint64_t *v)
{
	int rc = cfg_parse_uint(s, v);

	if (rc == -EINVAL && s[0] == '-')
		return cfg_fail(ctx, cfg_node_line(n), path, "must not be negative, got %.40s", s);
	if (rc == -EINVAL)
		return cfg_fail(ctx, cfg_node_line(n), path, "expected an integer, got '%.40s'", s);
	if (rc || *v < f->min || *v > f->max)
		return cfg_fail(ctx, cfg_node_line(n), path, "must be %" PRIu64 "..%" PRIu64
				", got %.40s", f->min, f->max, s);
	return 0;
}

static int read_duration(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
			 const struct field_spec *f, uint64_t *ms)
{
	char lo[32], hi[32];
	const char *s;
	int rc;

	if (scalar_text(ctx, n, path, "a duration", &s))
		return -1;
	rc = cfg_parse_duration(s, ms);
	if (rc == -EINVAL && s[0] == '-')
		return cfg_fail(ctx, cfg_node_line(n), path, "must not be negative, got %.40s", s);
	if (rc == -EINVAL)
		return cfg_fail(ctx, cfg_node_line(n), path,
				"invalid duration '%.40s' (use e.g. 200ms, 1.5s, 2m, 1h)", s);
	if (rc || *ms < f->min || *ms > f->max)
		return cfg_fail(ctx, cfg_node_line(n), path, "must be %s..%s, got %.40s",
				cfg_format_duration(f->min, lo, sizeof(lo)),
				cfg_format_duration(f->max, hi, sizeof(hi)), s);
	return 0;
}

static int read_string(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		       const struct field_spec *f, char *dst)
{
	const char *s;
	size_t len;

	if (scalar_text(ctx, n, path, "a string", &s))	/* "" quoted is a string */
		return -1;
	len = strlen(s);
	if (len < f->min)
		return cfg_fail(ctx, cfg_node_line(n), path, "must not be empty");
	if (len >= f->size)
		return cfg_fail(ctx, cfg_node_line(n), path, "too long (at most %zu characters)",
				f->size - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

static int read_addr(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		     struct veer_addr *a, uint8_t *family)
{
	struct veer_addr zero = { 0 };
	const char *s;

	if (scalar_text(ctx, n, path, "an IP address", &s))
		return -1;
	if (cfg_parse_addr(s, a, family))
		return cfg_fail(ctx, cfg_node_line(n), path, "invalid IP address '%.60s'", s);
	if (!memcmp(a, &zero, sizeof(zero)))
		return cfg_fail(ctx, cfg_node_line(n), path, "unspecified address %s", s);
	return 0;
}

/* ---- generic handlers ---- */

static int fld_uint(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		    const struct field_spec *f)
{
	const char *s;
	uint64_t v;

	if (scalar_text(ctx, n, path, "an integer", &s) || read_uint(ctx, n, path, s, f, &v))
		return -1;
	store_uint((char *)obj + f->off, f->size, v);
	return 0;
}

/* Integer or "10%". */
static int fld_percent(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	const char *s;
	char num[24];
	uint64_t v;
	size_t len;

	if (scalar_text(ctx, n, path, "a percentage", &s))
		return -1;
	len = strlen(s);
	if (len && s[len - 1] == '%')
		len--;
	snprintf(num, sizeof(num), "%.*s", (int)(len < sizeof(num) ? len : sizeof(num) - 1), s);
	if (cfg_parse_uint(num, &v) || v < f->min || v > f->max)
		return cfg_fail(ctx, cfg_node_line(n), path, "must be a percentage %" PRIu64
				"..%" PRIu64 ", got %.40s", f->min, f->max, s);
	store_uint((char *)obj + f->off, f->size, v);
	return 0;
}

static int fld_duration_ms(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			   const struct field_spec *f)
{
	uint64_t ms;

	if (read_duration(ctx, n, path, f, &ms))
		return -1;
	store_uint((char *)obj + f->off, f->size, ms);
	return 0;
}

static int fld_duration_s(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			  const struct field_spec *f)
{
	uint64_t ms;

	if (read_duration(ctx, n, path, f, &ms))
		return -1;
	if (ms % 1000)
		return cfg_fail(ctx, cfg_node_line(n), path,
				"must be whole seconds, got %.40s (a bare number is milliseconds)",
				(const char *)n->data.scalar.value);
	store_uint((char *)obj + f->off, f->size, ms / 1000);
	return 0;
}

static int fld_bool(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		    const struct field_spec *f)
{
	bool *dst = (bool *)((char *)obj + f->off);
	const char *s;

	if (scalar_text(ctx, n, path, "true or false", &s))
		return -1;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*dst = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*dst = false;
	else
		return cfg_fail(ctx, cfg_node_line(n), path, "expected true or false, got '%.40s'", s);
	return 0;
}

static int fld_enum(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		    const struct field_spec *f)
{
	char choices[128] = "";
	const struct word *w;
	const char *s;

	if (scalar_text(ctx, n, path, "a word", &s))
		return -1;
	for (w = f->words; w->name; w++) {
		if (!strcmp(s, w->name)) {
			store_uint((char *)obj + f->off, f->size, w->value);
			return 0;
		}
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s",
			 w == f->words ? "" : ", ", w->name);
	}
	return cfg_fail(ctx, cfg_node_line(n), path, "expected one of %s, got '%.40s'", choices, s);
}

static int fld_string(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		      const struct field_spec *f)
{
	return read_string(ctx, n, path, f, (char *)obj + f->off);
}

/* A string that must begin with '/': absolute file paths, URL paths. */
static int fld_slash_string(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			    const struct field_spec *f)
{
	char *dst = (char *)obj + f->off;

	if (read_string(ctx, n, path, f, dst))
		return -1;
	if (dst[0] != '/')
		return cfg_fail(ctx, cfg_node_line(n), path, "must start with '/', got '%.60s'", dst);
	return 0;
}

static int fld_section(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	return walk_mapping(ctx, n, path, f->sub, (char *)obj + f->off);
}

/* ---- node ---- */

static int fld_interfaces(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			  const struct field_spec *f)
{
	struct cfg_node *node = obj;
	yaml_node_item_t *it;
	char item_path[CFG_PATH_MAX];
	const char *s;

	(void)f;
	if (expect_kind(ctx, n, path, YAML_SEQUENCE_NODE))
		return -1;
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return cfg_fail(ctx, cfg_node_line(n), path, "at least one interface is required");
	if (n->data.sequence.items.top - n->data.sequence.items.start > CFG_MAX_IFACES)
		return cfg_fail(ctx, cfg_node_line(n), path, "more than %d interfaces", CFG_MAX_IFACES);
	node->n_interfaces = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(ctx->doc, *it);

		snprintf(item_path, sizeof(item_path), "%s[%zu]", path, node->n_interfaces);
		if (scalar_text(ctx, item, item_path, "an interface name", &s))
			return -1;
		if (cfg_ifname_problem(s))
			return cfg_fail(ctx, cfg_node_line(item), item_path, "interface name '%.40s' %s",
					s, cfg_ifname_problem(s));
		for (size_t i = 0; i < node->n_interfaces; i++)
			if (!strcmp(node->interfaces[i], s))
				return cfg_fail(ctx, cfg_node_line(item), item_path,
						"'%s' is listed twice", s);
		snprintf(node->interfaces[node->n_interfaces++], CFG_NAME_MAX, "%s", s);
	}
	return 0;
}

/* "addr:port" or "off". */
static int fld_metrics(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	struct cfg_node *node = obj;
	const char *s;

	(void)f;
	if (scalar_text(ctx, n, path, "\"addr:port\" or off", &s))
		return -1;
	if (!strcmp(s, "off")) {
		node->metrics_listen[0] = '\0';
		return 0;
	}
	if (strlen(s) >= sizeof(node->metrics_listen) || !cfg_listen_valid(s))
		return cfg_fail(ctx, cfg_node_line(n), path, "expected \"addr:port\" "
				"(e.g. 127.0.0.1:9470 or [::1]:9470) or off, got '%.60s'", s);
	snprintf(node->metrics_listen, sizeof(node->metrics_listen), "%s", s);
	return 0;
}

static int fld_snat_addr(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			 const struct field_spec *f)
{
	struct cfg_node *node = obj;
	bool v6 = f->min == VEER_AF_INET6;	/* min carries the family wanted */
	struct veer_addr a;
	uint8_t family;

	if (read_addr(ctx, n, path, &a, &family))
		return -1;
	if (family != f->min)
		return cfg_fail(ctx, cfg_node_line(n), path, "expected an IPv%d address, got IPv%d",
				(int)f->min, family);
	*(v6 ? &node->snat6 : &node->snat4) = a;
	*(v6 ? &node->has_snat6 : &node->has_snat4) = true;
	return 0;
}

static int fld_snat_ports(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			  const struct field_spec *f)
{
	struct cfg_node *node = obj;
	uint64_t lo, hi;
	const char *s;

	(void)f;
	if (scalar_text(ctx, n, path, "a port range", &s))
		return -1;
	if (cfg_parse_range(s, &lo, &hi) != 1)
		return cfg_fail(ctx, cfg_node_line(n), path, "expected \"LO-HI\", got '%.40s'", s);
	if (lo < 1024 || hi > 65535 || lo >= hi)
		return cfg_fail(ctx, cfg_node_line(n), path,
				"must be LO-HI with 1024 <= LO < HI <= 65535, got %.40s", s);
	node->snat_port_lo = (uint16_t)lo;
	node->snat_port_hi = (uint16_t)hi;
	return 0;
}

/* ---- services ---- */

static int fld_service_name(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			    const struct field_spec *f)
{
	char *name = (char *)obj + f->off;

	if (read_string(ctx, n, path, f, name))
		return -1;
	if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.")])
		return cfg_fail(ctx, cfg_node_line(n), path,
				"'%.63s' may only use a-z, 0-9, '-', '_' and '.'", name);
	return 0;
}

static int fld_vip(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
		   const struct field_spec *f)
{
	struct cfg_service *svc = obj;

	(void)f;
	return read_addr(ctx, n, path, &svc->vip, &svc->family);
}

static int fld_maglev_size(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			   const struct field_spec *f)
{
	struct cfg_service *svc = obj;

	if (fld_uint(ctx, n, path, obj, f))
		return -1;
	if (!cfg_is_prime(svc->maglev_size))
		return cfg_fail(ctx, cfg_node_line(n), path, "%u is not prime (try %u)",
				svc->maglev_size, VEER_MAGLEV_DEFAULT_M);
	return 0;
}

/* "200" or "200-399", each 100..599. */
static int fld_expect_status(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			     const struct field_spec *f)
{
	struct cfg_probe *p = obj;
	uint64_t lo, hi;
	const char *s;

	(void)f;
	if (scalar_text(ctx, n, path, "a status or range", &s))
		return -1;
	if (cfg_parse_range(s, &lo, &hi) < 0 || lo < 100 || hi > 599 || lo > hi)
		return cfg_fail(ctx, cfg_node_line(n), path,
				"expected a status like 200 or a range like 200-399 "
				"within 100..599, got '%.40s'", s);
	p->status_min = (uint16_t)lo;
	p->status_max = (uint16_t)hi;
	return 0;
}

static int fld_backend_addr(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			    const struct field_spec *f)
{
	struct cfg_backend *be = obj;

	(void)f;
	return read_addr(ctx, n, path, &be->addr, &be->family);
}

#define PROBE_BIT(t) (1u << (t))
#define HTTP_ANY (PROBE_BIT(PROBE_HTTP) | PROBE_BIT(PROBE_HTTPS))

static const char *const probe_type_names[] = {
	[PROBE_NONE] = "none", [PROBE_TCP] = "tcp", [PROBE_HTTP] = "http",
	[PROBE_HTTPS] = "https", [PROBE_DNS] = "dns",
};

/* A key meant for another probe type is a mistake, not a no-op. */
static int check_probe(struct cfg_ctx *ctx, yaml_node_t *map, const char *path, void *obj)
{
	static const struct { const char *key; unsigned types; } specific[] = {
		{ "path", HTTP_ANY }, { "host", HTTP_ANY }, { "expect_status", HTTP_ANY },
		{ "body", HTTP_ANY }, { "insecure", PROBE_BIT(PROBE_HTTPS) },
		{ "query", PROBE_BIT(PROBE_DNS) }, { "transport", PROBE_BIT(PROBE_DNS) },
	};
	const struct cfg_probe *p = obj;
	char key_path[CFG_PATH_MAX];

	for (size_t i = 0; i < sizeof(specific) / sizeof(specific[0]); i++) {
		yaml_node_t *k = find_key(ctx, map, specific[i].key);

		if (!k || (specific[i].types & PROBE_BIT(p->type)))
			continue;
		snprintf(key_path, sizeof(key_path), "%s.%s", path, specific[i].key);
		return cfg_fail(ctx, cfg_node_line(k), key_path, "not used by %s probes",
				probe_type_names[p->type]);
	}
	return cfg_validate_probe(ctx, p, path, key_line(ctx, map, "timeout"));
}

static int check_outlier(struct cfg_ctx *ctx, yaml_node_t *map, const char *path, void *obj)
{
	return cfg_validate_outlier(ctx, obj, path, key_line(ctx, map, "max_ejection"));
}

/* Allocate one struct per item, give each its defaults and walk it. */
static int parse_list(struct cfg_ctx *ctx, yaml_node_t *n, const char *path,
		      const struct section *sec, size_t elem_size, size_t max,
		      void (*defaults)(void *elem, int line), void **out, size_t *count)
{
	char item_path[CFG_PATH_MAX];
	size_t total;
	char *elems;

	if (expect_kind(ctx, n, path, YAML_SEQUENCE_NODE))
		return -1;
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (total > max)
		return cfg_fail(ctx, cfg_node_line(n), path, "more than %zu entries", max);
	elems = calloc(total ? total : 1, elem_size);
	if (!elems)
		return cfg_fail(ctx, cfg_node_line(n), path, "out of memory");
	*out = elems;
	*count = total;	/* set now so that cfg_free frees what is below */
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *item = yaml_document_get_node(ctx->doc,
							   n->data.sequence.items.start[i]);

		defaults(elems + i * elem_size, cfg_node_line(item));
		snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i);
		if (walk_mapping(ctx, item, item_path, sec, elems + i * elem_size))
			return -1;
	}
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

static int fld_backends(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			const struct field_spec *f)
{
	struct cfg_service *svc = obj;

	(void)f;
	if (parse_list(ctx, n, path, &backend_section, sizeof(struct cfg_backend),
		       VEER_MAX_BACKENDS, backend_init, (void **)&svc->backends, &svc->n_backends))
		return -1;
	if (!svc->n_backends)
		return cfg_fail(ctx, cfg_node_line(n), path, "at least one backend is required");
	return 0;
}

static int fld_services(struct cfg_ctx *ctx, yaml_node_t *n, const char *path, void *obj,
			const struct field_spec *f)
{
	struct veer_cfg *cfg = obj;

	(void)f;
	return parse_list(ctx, n, path, &service_section, sizeof(struct cfg_service),
			  VEER_MAX_SERVICES, service_init, (void **)&cfg->services,
			  &cfg->n_services);
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
	{ "size", fld_uint, IN_NODE(ct_size), .min = 1024, .max = 16777216 },
	{ "tcp_timeout", fld_duration_s, IN_NODE(tcp_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "syn_timeout", fld_duration_s, IN_NODE(syn_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "close_timeout", fld_duration_s, IN_NODE(close_timeout_s), .min = 1000, .max = DUR_MAX },
	{ "udp_timeout", fld_duration_s, IN_NODE(udp_timeout_s), .min = 1000, .max = DUR_MAX },
	{ NULL },
};
static const struct section conntrack_section = { conntrack_fields, NULL };

static const struct field_spec snat_fields[] = {
	{ "address", fld_snat_addr, IN_NODE(snat4), .min = VEER_AF_INET },
	{ "address6", fld_snat_addr, IN_NODE(snat6), .min = VEER_AF_INET6 },
	{ "ports", fld_snat_ports, IN_NODE(snat_port_lo) },
	{ NULL },
};
static const struct section snat_section = { snat_fields, NULL };

static const struct field_spec node_fields[] = {
	{ "interfaces", fld_interfaces, .required = true },
	{ "mode", fld_enum, IN_NODE(mode), .words = modes },
	{ "redirect", fld_enum, IN_NODE(redirect), .words = redirects },
	{ "state_dir", fld_slash_string, IN_NODE(state_dir), .min = 1 },
	{ "admin_socket", fld_slash_string, IN_NODE(admin_socket), .min = 1 },
	{ "metrics", fld_metrics, IN_NODE(metrics_listen) },
	{ "hash_seed", fld_uint, IN_NODE(hash_seed), .max = UINT32_MAX },
	{ "conntrack", fld_section, .sub = &conntrack_section },
	{ "snat", fld_section, .sub = &snat_section },
	{ NULL },
};
static const struct section node_section = { node_fields, NULL };

static const struct field_spec probe_fields[] = {
	{ "type", fld_enum, IN_PROBE(type), .words = probe_types },
	{ "port", fld_uint, IN_PROBE(port), .min = 1, .max = 65535 },
	{ "path", fld_slash_string, IN_PROBE(path), .min = 1 },
	{ "host", fld_string, IN_PROBE(host), .min = 1 },
	{ "expect_status", fld_expect_status, IN_PROBE(status_min) },
	{ "body", fld_string, IN_PROBE(body), .min = 1 },
	{ "query", fld_string, IN_PROBE(query), .min = 1 },
	{ "transport", fld_enum, IN_PROBE(dns_tcp), .words = transports },
	{ "interval", fld_duration_ms, IN_PROBE(interval_ms), .min = 1, .max = HOUR_MS },
	{ "timeout", fld_duration_ms, IN_PROBE(timeout_ms), .min = 1, .max = HOUR_MS },
	{ "rise", fld_uint, IN_PROBE(rise), .min = 1, .max = 100 },
	{ "fall", fld_uint, IN_PROBE(fall), .min = 1, .max = 100 },
	{ "jitter", fld_percent, IN_PROBE(jitter_pct), .min = 0, .max = 50 },
	{ "insecure", fld_bool, IN_PROBE(insecure) },
	{ NULL },
};
static const struct section probe_section = { probe_fields, check_probe };

static const struct field_spec outlier_fields[] = {
	{ "consecutive", fld_uint, IN_OUTLIER(consecutive), .min = 1, .max = 1000 },
	{ "base_ejection", fld_duration_ms, IN_OUTLIER(base_ejection_ms), .min = 1, .max = DUR_MAX },
	{ "max_ejection", fld_duration_ms, IN_OUTLIER(max_ejection_ms), .min = 1, .max = DUR_MAX },
	{ "max_ejected", fld_percent, IN_OUTLIER(max_ejected_pct), .min = 0, .max = 100 },
	{ NULL },
};
static const struct section outlier_section = { outlier_fields, check_outlier };

static const struct field_spec failover_fields[] = {
	{ "min_healthy", fld_percent, IN_FAILOVER(min_healthy_pct), .min = 1, .max = 100 },
	{ "failback_delay", fld_duration_ms, IN_FAILOVER(failback_delay_ms), .max = DUR_MAX },
	{ "panic", fld_enum, IN_FAILOVER(panic), .words = panics },
	{ NULL },
};
static const struct section failover_section = { failover_fields, NULL };

static const struct field_spec backend_fields[] = {
	{ "address", fld_backend_addr, .required = true },
	{ "port", fld_uint, IN_BACKEND(port), .min = 1, .max = 65535, .required = true },
	{ "weight", fld_uint, IN_BACKEND(weight), .min = 1, .max = 1000 },
	{ "tier", fld_uint, IN_BACKEND(tier), .min = 0, .max = 7 },
	{ "nat", fld_enum, IN_BACKEND(nat), .words = nats },
	{ "encap", fld_enum, IN_BACKEND(encap), .words = encaps },
	{ "drain", fld_bool, IN_BACKEND(drain) },
	{ NULL },
};
static const struct section backend_section = { backend_fields, NULL };

static const struct field_spec service_fields[] = {
	{ "name", fld_service_name, IN_SERVICE(name), .min = 1, .required = true },
	{ "vip", fld_vip, .required = true },
	{ "port", fld_uint, IN_SERVICE(port), .min = 1, .max = 65535, .required = true },
	{ "protocol", fld_enum, IN_SERVICE(proto), .words = protocols, .required = true },
	{ "maglev_size", fld_maglev_size, IN_SERVICE(maglev_size),
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

/* The key's text; keys must be plain words and appear once. */
static int read_key(struct cfg_ctx *ctx, yaml_node_t *map, yaml_node_pair_t *pair,
		    const char *path, const char **key)
{
	yaml_node_t *k = yaml_document_get_node(ctx->doc, pair->key);
	char key_path[CFG_PATH_MAX];

	if (k->type != YAML_SCALAR_NODE || is_null(k))
		return cfg_fail(ctx, cfg_node_line(k), *path ? path : "document",
				"keys must be words, got %s", kind_name(k));
	*key = (const char *)k->data.scalar.value;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *prev = yaml_document_get_node(ctx->doc, p->key);

		if (prev->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)prev->data.scalar.value, *key)) {
			child_path(key_path, sizeof(key_path), path, *key);
			return cfg_fail(ctx, cfg_node_line(k), key_path,
					"duplicate key (first at line %d)", cfg_node_line(prev));
		}
	}
	return 0;
}

static const struct field_spec *find_field(const struct section *sec, const char *key)
{
	for (const struct field_spec *f = sec->fields; f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

static int walk_mapping(struct cfg_ctx *ctx, yaml_node_t *map, const char *path,
			const struct section *sec, void *obj)
{
	char sub_path[CFG_PATH_MAX];
	const struct field_spec *f;
	yaml_node_pair_t *p;
	const char *key = NULL;

	if (expect_kind(ctx, map, *path ? path : "document", YAML_MAPPING_NODE))
		return -1;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		if (read_key(ctx, map, p, path, &key))
			return -1;
		child_path(sub_path, sizeof(sub_path), path, key);
		f = find_field(sec, key);
		if (!f)
			return cfg_fail(ctx, cfg_node_line(yaml_document_get_node(ctx->doc, p->key)),
					sub_path, "unknown key '%.40s'", key);
		if (f->parse(ctx, yaml_document_get_node(ctx->doc, p->value), sub_path, obj, f))
			return -1;
	}
	for (f = sec->fields; f->key; f++) {
		if (f->required && !find_key(ctx, map, f->key)) {
			child_path(sub_path, sizeof(sub_path), path, f->key);
			return cfg_fail(ctx, cfg_node_line(map), sub_path, "missing required key");
		}
	}
	return sec->check ? sec->check(ctx, map, path, obj) : 0;
}

int cfg_parse_document(struct cfg_ctx *ctx, yaml_node_t *root, struct veer_cfg *cfg)
{
	return walk_mapping(ctx, root, "", &root_section, cfg);
}
