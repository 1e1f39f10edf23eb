// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Readers of single values: scalars checked against their field's range or
 * spelling and stored at the field's place in the object being filled.
 * Errors carry the node's line and the path the walk built
 * ("services[1].backends[0].port").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_schema.h"

/* ---- nodes and scalars ---- */

bool cfg_is_null(const struct cfg_ev *n)
{
	const char *v = n->value;

	if (n->type != CFG_EV_SCALAR || !n->plain)
		return false;
	return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

const char *cfg_kind_name(const struct cfg_ev *n)
{
	if (n->type == CFG_EV_MAP)
		return "a mapping";
	if (n->type == CFG_EV_SEQ)
		return "a list";
	return cfg_is_null(n) ? "an empty value" : "a scalar";
}

int cfg_scalar_text(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		       const char *what, const char **text)
{
	if (n->type != CFG_EV_SCALAR || cfg_is_null(n))
		return cfg_fail(ctx, n->line, path, "expected %s, got %s",
				what, cfg_kind_name(n));
	*text = n->value;
	return 0;
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

static int read_uint(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		     const char *s, const struct field_spec *f, uint64_t *v)
{
	int rc = cfg_parse_uint(s, v);

	if (rc == -EINVAL && s[0] == '-')
		return cfg_fail(ctx, n->line, path, "must not be negative, got %.40s", s);
	if (rc == -EINVAL)
		return cfg_fail(ctx, n->line, path, "expected an integer, got '%.40s'", s);
	if (rc || *v < f->min || *v > f->max)
		return cfg_fail(ctx, n->line, path, "must be %" PRIu64 "..%" PRIu64
				", got %.40s", f->min, f->max, s);
	return 0;
}

static int read_duration(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
			 const struct field_spec *f, uint64_t *ms)
{
	char lo[32], hi[32];
	const char *s;
	int rc;

	if (cfg_scalar_text(ctx, n, path, "a duration", &s))
		return -1;
	rc = cfg_parse_duration(s, ms);
	if (rc == -EINVAL && s[0] == '-')
		return cfg_fail(ctx, n->line, path, "must not be negative, got %.40s", s);
	if (rc == -EINVAL)
		return cfg_fail(ctx, n->line, path,
				"invalid duration '%.40s' (use e.g. 200ms, 1.5s, 2m, 1h)", s);
	if (rc || *ms < f->min || *ms > f->max)
		return cfg_fail(ctx, n->line, path, "must be %s..%s, got %.40s",
				cfg_format_duration(f->min, lo, sizeof(lo)),
				cfg_format_duration(f->max, hi, sizeof(hi)), s);
	return 0;
}

static int read_string(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		       const struct field_spec *f, char *dst)
{
	const char *s;
	size_t len;

	if (cfg_scalar_text(ctx, n, path, "a string", &s))	/* "" quoted is a string */
		return -1;
	len = strlen(s);
	if (len < f->min)
		return cfg_fail(ctx, n->line, path, "must not be empty");
	if (len >= f->size)
		return cfg_fail(ctx, n->line, path, "too long (at most %zu characters)",
				f->size - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

static int read_addr(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		     struct veer_addr *a, uint8_t *family)
{
	struct veer_addr zero = { 0 };
	const char *s;

	if (cfg_scalar_text(ctx, n, path, "an IP address", &s))
		return -1;
	if (cfg_parse_addr(s, a, family))
		return cfg_fail(ctx, n->line, path, "invalid IP address '%.60s'", s);
	if (!memcmp(a, &zero, sizeof(zero)))
		return cfg_fail(ctx, n->line, path, "unspecified address %s", s);
	return 0;
}

/* ---- generic handlers ---- */

int cfg_fld_uint(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		 const struct field_spec *f)
{
	const char *s;
	uint64_t v;

	if (cfg_scalar_text(ctx, n, path, "an integer", &s) || read_uint(ctx, n, path, s, f, &v))
		return -1;
	store_uint((char *)obj + f->off, f->size, v);
	return 0;
}

/* Integer or "10%". */
int cfg_fld_percent(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		    const struct field_spec *f)
{
	const char *s;
	char num[24];
	uint64_t v;
	size_t len;

	if (cfg_scalar_text(ctx, n, path, "a percentage", &s))
		return -1;
	len = strlen(s);
	if (len && s[len - 1] == '%')
		len--;
	snprintf(num, sizeof(num), "%.*s", (int)(len < sizeof(num) ? len : sizeof(num) - 1), s);
	if (cfg_parse_uint(num, &v) || v < f->min || v > f->max)
		return cfg_fail(ctx, n->line, path, "must be a percentage %" PRIu64
				"..%" PRIu64 ", got %.40s", f->min, f->max, s);
	store_uint((char *)obj + f->off, f->size, v);
	return 0;
}

int cfg_fld_duration_ms(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			const struct field_spec *f)
{
	uint64_t ms;

	if (read_duration(ctx, n, path, f, &ms))
		return -1;
	store_uint((char *)obj + f->off, f->size, ms);
	return 0;
}

int cfg_fld_duration_s(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	uint64_t ms;

	if (read_duration(ctx, n, path, f, &ms))
		return -1;
	if (ms % 1000)
		return cfg_fail(ctx, n->line, path,
				"must be whole seconds, got %.40s (a bare number is milliseconds)",
				n->value);
	store_uint((char *)obj + f->off, f->size, ms / 1000);
	return 0;
}

int cfg_fld_bool(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		 const struct field_spec *f)
{
	bool *dst = (bool *)((char *)obj + f->off);
	const char *s;

	if (cfg_scalar_text(ctx, n, path, "true or false", &s))
		return -1;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*dst = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*dst = false;
	else
		return cfg_fail(ctx, n->line, path, "expected true or false, got '%.40s'", s);
	return 0;
}

int cfg_fld_enum(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		 const struct field_spec *f)
{
	char choices[128] = "";
	const struct word *w;
	const char *s;

	if (cfg_scalar_text(ctx, n, path, "a word", &s))
		return -1;
	for (w = f->words; w->name; w++) {
		if (!strcmp(s, w->name)) {
			store_uint((char *)obj + f->off, f->size, w->value);
			return 0;
		}
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s",
			 w == f->words ? "" : ", ", w->name);
	}
	return cfg_fail(ctx, n->line, path, "expected one of %s, got '%.40s'", choices, s);
}

int cfg_fld_string(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		   const struct field_spec *f)
{
	return read_string(ctx, n, path, f, (char *)obj + f->off);
}

/* A string that must begin with '/': absolute file paths, URL paths. */
int cfg_fld_slash_string(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			 const struct field_spec *f)
{
	char *dst = (char *)obj + f->off;

	if (read_string(ctx, n, path, f, dst))
		return -1;
	if (dst[0] != '/')
		return cfg_fail(ctx, n->line, path, "must start with '/', got '%.60s'", dst);
	return 0;
}

/* ---- node ---- */

/* "addr:port" or "off". */
int cfg_fld_metrics(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		    const struct field_spec *f)
{
	struct cfg_node *node = obj;
	const char *s;

	(void)f;
	if (cfg_scalar_text(ctx, n, path, "\"addr:port\" or off", &s))
		return -1;
	if (!strcmp(s, "off")) {
		node->metrics_listen[0] = '\0';
		return 0;
	}
	if (strlen(s) >= sizeof(node->metrics_listen) || !cfg_listen_valid(s))
		return cfg_fail(ctx, n->line, path, "expected \"addr:port\" "
				"(e.g. 127.0.0.1:9470 or [::1]:9470) or off, got '%.60s'", s);
	snprintf(node->metrics_listen, sizeof(node->metrics_listen), "%s", s);
	return 0;
}

int cfg_fld_snat_addr(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		      const struct field_spec *f)
{
	struct cfg_node *node = obj;
	bool v6 = f->min == VEER_AF_INET6;	/* min carries the family wanted */
	struct veer_addr a;
	uint8_t family;

	if (read_addr(ctx, n, path, &a, &family))
		return -1;
	if (family != f->min)
		return cfg_fail(ctx, n->line, path, "expected an IPv%d address, got IPv%d",
				(int)f->min, family);
	*(v6 ? &node->snat6 : &node->snat4) = a;
	*(v6 ? &node->has_snat6 : &node->has_snat4) = true;
	return 0;
}

int cfg_fld_snat_ports(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		       const struct field_spec *f)
{
	struct cfg_node *node = obj;
	uint64_t lo, hi;
	const char *s;

	(void)f;
	if (cfg_scalar_text(ctx, n, path, "a port range", &s))
		return -1;
	if (cfg_parse_range(s, &lo, &hi) != 1)
		return cfg_fail(ctx, n->line, path, "expected \"LO-HI\", got '%.40s'", s);
	if (lo < 1024 || hi > 65535 || lo >= hi)
		return cfg_fail(ctx, n->line, path,
				"must be LO-HI with 1024 <= LO < HI <= 65535, got %.40s", s);
	node->snat_port_lo = (uint16_t)lo;
	node->snat_port_hi = (uint16_t)hi;
	return 0;
}

/* ---- services ---- */

int cfg_fld_service_name(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			 const struct field_spec *f)
{
	char *name = (char *)obj + f->off;

	if (read_string(ctx, n, path, f, name))
		return -1;
	if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.")])
		return cfg_fail(ctx, n->line, path,
				"'%.63s' may only use a-z, 0-9, '-', '_' and '.'", name);
	return 0;
}

int cfg_fld_vip(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
		const struct field_spec *f)
{
	struct cfg_service *svc = obj;

	(void)f;
	return read_addr(ctx, n, path, &svc->vip, &svc->family);
}

int cfg_fld_maglev_size(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			const struct field_spec *f)
{
	struct cfg_service *svc = obj;

	if (cfg_fld_uint(ctx, n, path, obj, f))
		return -1;
	if (!cfg_is_prime(svc->maglev_size))
		return cfg_fail(ctx, n->line, path, "%u is not prime (try %u)",
				svc->maglev_size, VEER_MAGLEV_DEFAULT_M);
	return 0;
}

/* "200" or "200-399", each 100..599. */
int cfg_fld_expect_status(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			  const struct field_spec *f)
{
	struct cfg_probe *p = obj;
	uint64_t lo, hi;
	const char *s;

	(void)f;
	if (cfg_scalar_text(ctx, n, path, "a status or range", &s))
		return -1;
	if (cfg_parse_range(s, &lo, &hi) < 0 || lo < 100 || hi > 599 || lo > hi)
		return cfg_fail(ctx, n->line, path,
				"expected a status like 200 or a range like 200-399 "
				"within 100..599, got '%.40s'", s);
	p->status_min = (uint16_t)lo;
	p->status_max = (uint16_t)hi;
	return 0;
}

int cfg_fld_backend_addr(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path, void *obj,
			 const struct field_spec *f)
{
	struct cfg_backend *be = obj;

	(void)f;
	return read_addr(ctx, n, path, &be->addr, &be->family);
}
