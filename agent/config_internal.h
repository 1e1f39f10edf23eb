/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by config.c, config_parse.c, config_validate.c and config_emit.c
 * only; everything public is in config.h.
 */
#ifndef VEER_CONFIG_INTERNAL_H
#define VEER_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

struct cfg_cursor;

/* One load: the event stream being read and where the first error goes. */
struct cfg_ctx {
	struct cfg_cursor *cur;
	const char *file;
	char *err;
	size_t errlen;
	bool yaml_failed;	/* a syntax error was written: it stays the answer */
};

/* Write "FILE:LINE: FIELD: message" into ctx->err, unless a YAML syntax
 * error is already there. Always returns -1 so callers can
 * `return cfg_fail(...)`. */
int cfg_fail(struct cfg_ctx *ctx, int line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* config_events.c: libyaml's event stream with aliases resolved, so the
 * walk sees what the document API's tree would hold without building it. */
enum cfg_ev_type { CFG_EV_SCALAR, CFG_EV_SEQ, CFG_EV_MAP, CFG_EV_END, CFG_EV_ALIAS };

struct cfg_ev {
	enum cfg_ev_type type;
	int line;		/* of the node; an alias gives its anchor's */
	bool plain;		/* scalar style, for telling null from "" */
	const char *value;	/* scalars only; valid until the next read */
};

struct cfg_cursor *cfg_cursor_new(struct cfg_ctx *ctx, const char *text, size_t len);
void cfg_cursor_free(struct cfg_cursor *c);
/* Read the stream up to the first document's root node. 1 with root set,
 * 0 if the stream has no document, -1 on a YAML error (reported). */
int cfg_cursor_begin(struct cfg_cursor *c, struct cfg_ev *root);
/* The next node or end event; aliases are replayed. 0 or -1 (reported). */
int cfg_cursor_next(struct cfg_cursor *c, struct cfg_ev *ev);
/* Like cfg_cursor_next but an alias stays one CFG_EV_ALIAS event. */
int cfg_cursor_next_raw(struct cfg_cursor *c, struct cfg_ev *ev);
/* Collections open around the last event read. */
int cfg_cursor_depth(const struct cfg_cursor *c);
/* Skip, without replaying aliases, until depth is back to depth. */
int cfg_cursor_skip_to(struct cfg_cursor *c, int depth);
/* Read the rest of the first document and check no second one follows.
 * 0, or -1 with the error reported (it replaces any error before it). */
int cfg_cursor_finish(struct cfg_cursor *c);

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

/* config_parse.c: fill cfg from the root node, read from ctx->cur. */
int cfg_parse_document(struct cfg_ctx *ctx, const struct cfg_ev *root, struct veer_cfg *cfg);

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
