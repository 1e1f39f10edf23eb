// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Checks no single value can make: between keys of one mapping (timeout
 * against interval) and across objects (duplicates, address families,
 * totals the maps can hold). Ranges of single values are checked as they
 * are read, in config_parse.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "config_internal.h"

int cfg_validate_probe(struct cfg_ctx *ctx, const struct cfg_probe *p,
		       const char *path, int timeout_line)
{
	char field[CFG_PATH_MAX], interval[32], timeout[32];

	if (p->timeout_ms < p->interval_ms)
		return 0;
	snprintf(field, sizeof(field), "%s.timeout", path);
	return cfg_fail(ctx, timeout_line, field, "must be less than interval (%s), got %s",
			cfg_format_duration(p->interval_ms, interval, sizeof(interval)),
			cfg_format_duration(p->timeout_ms, timeout, sizeof(timeout)));
}

int cfg_validate_outlier(struct cfg_ctx *ctx, const struct cfg_outlier *o,
			 const char *path, int max_line)
{
	char field[CFG_PATH_MAX], base[32], max[32];

	if (o->max_ejection_ms >= o->base_ejection_ms)
		return 0;
	snprintf(field, sizeof(field), "%s.max_ejection", path);
	return cfg_fail(ctx, max_line, field, "must be at least base_ejection (%s), got %s",
			cfg_format_duration(o->base_ejection_ms, base, sizeof(base)),
			cfg_format_duration(o->max_ejection_ms, max, sizeof(max)));
}

/* ---- single values ---- */

bool cfg_is_prime(uint64_t v)
{
	if (v < 2)
		return false;
	for (uint64_t d = 2; d * d <= v; d++)
		if (v % d == 0)
			return false;
	return true;
}

const char *cfg_ifname_problem(const char *name)
{
	if (strlen(name) > 15)	/* IFNAMSIZ - 1 */
		return "is longer than 15 characters";
	if (strpbrk(name, "/: \t"))
		return "contains '/', ':' or a space";
	return NULL;
}

bool cfg_listen_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	bool bracketed = hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']';
	char host[INET6_ADDRSTRLEN];
	struct veer_addr a;
	uint8_t family;
	uint64_t port;

	if (!colon || hlen >= sizeof(host))
		return false;
	snprintf(host, sizeof(host), "%.*s", (int)(bracketed ? hlen - 2 : hlen), s + bracketed);
	if (cfg_parse_addr(host, &a, &family) || (family == VEER_AF_INET6) != bracketed)
		return false;
	return !cfg_parse_uint(colon + 1, &port) && port >= 1 && port <= 65535;
}

/* ---- finding duplicates in O(n log n) ---- */

typedef int (*elem_cmp)(const void *base, size_t a, size_t b);

struct dup_sort {
	elem_cmp cmp;
	const void *base;
};

/* Equal keys end up adjacent, in source order within a group. */
static int by_key_then_index(const void *x, const void *y, void *arg)
{
	const struct dup_sort *s = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = s->cmp(s->base, a, b);

	return c ? c : (a > b) - (a < b);
}

/* The earliest element equal to one before it: 1 with *dup and *first
 * set, 0 if none, -1 out of memory. */
static int first_duplicate(const void *base, size_t n, elem_cmp cmp, size_t *dup, size_t *first)
{
	struct dup_sort s = { cmp, base };
	size_t group = 0, *idx;
	int found = 0;

	if (n < 2)
		return 0;
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), by_key_then_index, &s);
	for (size_t i = 1; i < n; i++) {
		if (cmp(base, idx[i - 1], idx[i])) {
			group = i;
			continue;
		}
		if (!found || idx[i] < *dup) {
			*dup = idx[i];
			*first = idx[group];
			found = 1;
		}
	}
	free(idx);
	return found;
}

#define CMP_FIELD(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

static int cmp_service_name(const void *base, size_t a, size_t b)
{
	const struct cfg_service *s = base;

	return strcmp(s[a].name, s[b].name);
}

static int cmp_service_key(const void *base, size_t a, size_t b)
{
	const struct cfg_service *x = (const struct cfg_service *)base + a;
	const struct cfg_service *y = (const struct cfg_service *)base + b;
	int c = memcmp(&x->vip, &y->vip, sizeof(x->vip));

	if (c)
		return c;
	CMP_FIELD(x->family, y->family);
	CMP_FIELD(x->port, y->port);
	CMP_FIELD(x->proto, y->proto);
	return 0;
}

static int cmp_backend(const void *base, size_t a, size_t b)
{
	const struct cfg_backend *x = (const struct cfg_backend *)base + a;
	const struct cfg_backend *y = (const struct cfg_backend *)base + b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	if (c)
		return c;
	CMP_FIELD(x->family, y->family);
	CMP_FIELD(x->port, y->port);
	return 0;
}

static int out_of_memory(struct cfg_ctx *ctx)
{
	return cfg_fail(ctx, 1, "document", "out of memory");
}

/* ---- per service ---- */

static int validate_backends(struct cfg_ctx *ctx, const struct cfg_service *svc, size_t si)
{
	char field[CFG_PATH_MAX], addr[64];
	size_t dup, first;
	int rc;

	for (size_t i = 0; i < svc->n_backends; i++) {
		const struct cfg_backend *be = &svc->backends[i];

		if (be->family == svc->family)
			continue;
		snprintf(field, sizeof(field), "services[%zu].backends[%zu].address", si, i);
		return cfg_fail(ctx, be->line, field,
				"IPv%d backend for IPv%d vip: mixed families are not supported",
				be->family, svc->family);
	}
	rc = first_duplicate(svc->backends, svc->n_backends, cmp_backend, &dup, &first);
	if (rc < 0)
		return out_of_memory(ctx);
	if (!rc)
		return 0;
	snprintf(field, sizeof(field), "services[%zu].backends[%zu].address", si, dup);
	cfg_format_addr(&svc->backends[dup].addr, svc->backends[dup].family, addr, sizeof(addr));
	return cfg_fail(ctx, svc->backends[dup].line, field,
			"duplicate backend %s port %u (first at line %d)",
			addr, svc->backends[dup].port, svc->backends[first].line);
}

static int validate_unique_services(struct cfg_ctx *ctx, const struct veer_cfg *cfg)
{
	const struct cfg_service *s = cfg->services;
	char field[CFG_PATH_MAX], addr[64];
	size_t dup, first;
	int rc;

	rc = first_duplicate(s, cfg->n_services, cmp_service_name, &dup, &first);
	if (rc < 0)
		return out_of_memory(ctx);
	if (rc) {
		snprintf(field, sizeof(field), "services[%zu].name", dup);
		return cfg_fail(ctx, s[dup].line, field,
				"duplicate service name '%s' (first at line %d)",
				s[dup].name, s[first].line);
	}
	rc = first_duplicate(s, cfg->n_services, cmp_service_key, &dup, &first);
	if (rc < 0)
		return out_of_memory(ctx);
	if (rc) {
		snprintf(field, sizeof(field), "services[%zu].vip", dup);
		cfg_format_addr(&s[dup].vip, s[dup].family, addr, sizeof(addr));
		return cfg_fail(ctx, s[dup].line, field,
				"%s port %u %s is already service '%s' (line %d)",
				addr, s[dup].port, s[dup].proto == IPPROTO_TCP ? "tcp" : "udp",
				s[first].name, s[first].line);
	}
	return 0;
}

int cfg_validate(struct cfg_ctx *ctx, const struct veer_cfg *cfg)
{
	size_t total = 0;

	for (size_t i = 0; i < cfg->n_services; i++) {
		if (validate_backends(ctx, &cfg->services[i], i))
			return -1;
		total += cfg->services[i].n_backends;
		if (total > VEER_MAX_BACKENDS)
			return cfg_fail(ctx, cfg->services[i].line, "services",
					"more than %d backends in all", VEER_MAX_BACKENDS);
	}
	return validate_unique_services(ctx, cfg);
}
