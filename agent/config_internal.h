/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by config.c, config_parse.c, config_validate.c and config_emit.c
 * only; everything public is in config.h.
 */
#ifndef VEER_CONFIG_INTERNAL_H
#define VEER_CONFIG_INTERNAL_H

#include <yaml.h>
#include "config.h"

/* One load: the document being walked and where the first error goes. */
struct cfg_ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

/* Write "FILE:LINE: FIELD: message" into ctx->err. Always returns -1 so
 * callers can `return cfg_fail(...)`. */
int cfg_fail(struct cfg_ctx *ctx, int line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int cfg_node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Defaults, as documented in config.h. */
void cfg_node_defaults(struct cfg_node *node);
void cfg_service_defaults(struct cfg_service *svc);
void cfg_backend_defaults(struct cfg_backend *be);

/* Decimal digits only. 0, -EINVAL (not a number) or -ERANGE (> UINT64_MAX). */
int cfg_parse_uint(const char *s, uint64_t *v);
/* "A-B": 1 with both set; "A": 0 with lo = hi = A; -EINVAL otherwise. */
int cfg_parse_range(const char *s, uint64_t *lo, uint64_t *hi);
/* Like cfg_parse_duration_ms but tells -ERANGE apart from -EINVAL. */
int cfg_parse_duration(const char *s, uint64_t *ms);
/* Largest unit that is exact: 7200000 -> "2h", 1500 -> "1500ms". */
const char *cfg_format_duration(uint64_t ms, char *buf, size_t len);

/* config_parse.c: fill cfg from the document's root mapping. */
int cfg_parse_document(struct cfg_ctx *ctx, yaml_node_t *root, struct veer_cfg *cfg);

/* config_validate.c: checks across the keys of one mapping (line is the
 * node to blame) and across the whole config (lines kept in the structs). */
int cfg_validate_probe(struct cfg_ctx *ctx, const struct cfg_probe *p,
		       const char *path, int timeout_line);
int cfg_validate_outlier(struct cfg_ctx *ctx, const struct cfg_outlier *o,
			 const char *path, int max_line);
int cfg_validate(struct cfg_ctx *ctx, const struct veer_cfg *cfg);
/* Single values whose rules go beyond a range. */
bool cfg_is_prime(uint64_t v);
/* NULL if name is a usable interface name or glob, else what is wrong. */
const char *cfg_ifname_problem(const char *name);
/* "IPv4:port" or "[IPv6]:port". */
bool cfg_listen_valid(const char *s);

#endif
