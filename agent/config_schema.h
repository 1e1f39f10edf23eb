/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The shape config_parse.c walks: each mapping has a table naming its keys
 * and how each value is read. Shared by config_parse.c (the walk and the
 * tables) and config_values.c (the readers of single values) only.
 */
#ifndef VEER_CONFIG_SCHEMA_H
#define VEER_CONFIG_SCHEMA_H

#include "config_internal.h"

#define CFG_SECTION_MAX_KEYS 32	/* keys of one table; seen as bits */

struct field_spec;

/* Read one value: n is its first event; on success all of it is read. */
typedef int (*field_fn)(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
			void *obj, const struct field_spec *f);

/* An enum spelling and the value stored for it. */
struct word {
	const char *name;
	uint32_t value;
};

/* The keys one mapping had, by table index: line 0 = absent. */
struct keys_seen {
	int map_line;
	int line[CFG_SECTION_MAX_KEYS];
};

struct section {
	const struct field_spec *fields;	/* ends with key == NULL */
	/* Checks across the keys of one mapping, once all are read. */
	int (*check)(struct cfg_ctx *ctx, const struct section *sec,
		     const struct keys_seen *seen, const char *path, void *obj);
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

/* config_values.c */
bool cfg_is_null(const struct cfg_ev *n);	/* a plain "", "~" or "null" */
const char *cfg_kind_name(const struct cfg_ev *n);
/* The text of a non-empty scalar; what = what was expected, for the message. */
int cfg_scalar_text(struct cfg_ctx *ctx, const struct cfg_ev *n, const char *path,
		    const char *what, const char **text);

#define CFG_FIELD_FN(name) int name(struct cfg_ctx *ctx, const struct cfg_ev *n, \
				    const char *path, void *obj, const struct field_spec *f)
CFG_FIELD_FN(cfg_fld_uint);
CFG_FIELD_FN(cfg_fld_percent);		/* integer or "10%" */
CFG_FIELD_FN(cfg_fld_duration_ms);
CFG_FIELD_FN(cfg_fld_duration_s);
CFG_FIELD_FN(cfg_fld_bool);
CFG_FIELD_FN(cfg_fld_enum);
CFG_FIELD_FN(cfg_fld_string);
CFG_FIELD_FN(cfg_fld_slash_string);	/* must begin with '/' */
CFG_FIELD_FN(cfg_fld_metrics);
CFG_FIELD_FN(cfg_fld_snat_addr);
CFG_FIELD_FN(cfg_fld_snat_ports);
CFG_FIELD_FN(cfg_fld_service_name);
CFG_FIELD_FN(cfg_fld_vip);
CFG_FIELD_FN(cfg_fld_maglev_size);
CFG_FIELD_FN(cfg_fld_expect_status);
CFG_FIELD_FN(cfg_fld_backend_addr);

#endif
