/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One call prints a value either way: as a JSON member (-j compact, -p
 * pretty) or, for humans, as a table cell or a "key: value" line.
 *
 * Containers give the shape. A table is a JSON array of objects and, in
 * text, aligned columns whose headers are given up front; each value in a
 * row fills the next column. An object is a JSON object and, in text, a
 * heading followed by indented "key: value" lines; inside a table row it
 * adds nothing in text, its values just fill further columns.
 */
#ifndef VEERCTL_OUTPUT_H
#define VEERCTL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

enum out_format { OUT_TEXT = 0, OUT_JSON, OUT_JSON_PRETTY };

void out_set_format(enum out_format f);
enum out_format out_get_format(void);
bool out_is_json(void);

/* key: the JSON member name; NULL at the top level and in tables. */
void out_obj_begin(const char *key);
void out_obj_end(void);
/* headers: NULL-terminated column titles, one per text cell of a row. */
void out_table_begin(const char *key, const char *const *headers);
void out_row_begin(void);
void out_row_end(void);
void out_table_end(void);

/* Values between out_json_only_begin/end appear in JSON only, */
void out_json_only_begin(void);
void out_json_only_end(void);
/* And values between these in text only (e.g. "addr:port" in one cell). */
void out_text_only_begin(void);
void out_text_only_end(void);

void out_str(const char *key, const char *val);	/* NULL: null / "-" */
void out_strf(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void out_u64(const char *key, uint64_t val);
/* A number in JSON shown to humans as text (e.g. "1.2MiB", "3m12s"). */
void out_u64_as(const char *key, uint64_t val, const char *text);
void out_double_as(const char *key, double val, const char *text);
void out_bool(const char *key, bool val);	/* text: yes / no */
void out_null(const char *key);			/* text: - */
/* An already encoded JSON value; text shows it verbatim. */
void out_json_raw(const char *key, const char *json);

/* A free-form line for humans; nothing in JSON. */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Errors: {"error":"..."} on stdout in JSON modes, "veerctl: ..." on
 * stderr otherwise. Warnings always go to stderr to keep JSON clean. */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write s as a JSON string (quoted, escaped) to stdout. */
void out_json_string(const char *s);

#endif
