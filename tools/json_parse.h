/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Just enough JSON reading for veerd's answers: one object per line whose
 * members are read by name. Strings come decoded; any other value (number,
 * bool, null, nested object or array) is kept as its raw JSON text.
 */
#ifndef VEERCTL_JSON_PARSE_H
#define VEERCTL_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct jfield {
	char *key;
	char *str;	/* decoded, for string values; NULL otherwise */
	char *raw;	/* the value's JSON text */
};

struct jobj {
	struct jfield *fields;	/* in document order */
	size_t n;
};

/* Returns 0, or -EINVAL when text is not one JSON object. */
int jobj_parse(const char *text, struct jobj *o);
void jobj_free(struct jobj *o);

const struct jfield *jobj_get(const struct jobj *o, const char *key);
const char *jobj_str(const struct jobj *o, const char *key);	/* NULL: absent / not a string */
bool jobj_is_true(const struct jobj *o, const char *key);

#endif
