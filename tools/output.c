// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Text or JSON from the same calls; see output.h for the model. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "text_table.h"

#define MAX_DEPTH 16
#define LABEL_WIDTH 24		/* text "key:" column in objects */

enum frame_kind { F_OBJ, F_TABLE, F_ROW };

struct frame {
	enum frame_kind kind;
	bool first;		/* JSON: no member written yet */
	bool in_row;		/* text: values become cells of the row */
	int indent;		/* text: spaces before lines */
};

static enum out_format format;
static struct frame stack[MAX_DEPTH];
static int depth;
static int json_only;
static int text_only;
static struct text_table *table;	/* the text table being filled */

void out_set_format(enum out_format f)
{
	format = f;
}

enum out_format out_get_format(void)
{
	return format;
}

bool out_is_json(void)
{
	return format != OUT_TEXT;
}

static struct frame *top(void)
{
	return depth ? &stack[depth - 1] : NULL;
}

static void push(enum frame_kind kind, bool in_row, int indent)
{
	if (depth == MAX_DEPTH) {
		fprintf(stderr, "veerctl: output nested too deep\n");
		abort();
	}
	stack[depth++] = (struct frame){ kind, true, in_row, indent };
}

static int cur_indent(void)
{
	return depth ? top()->indent : 0;
}

/* ---- JSON ---- */

void out_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void json_newline_indent(void)
{
	if (format != OUT_JSON_PRETTY)
		return;
	putchar('\n');
	for (int i = 0; i < depth; i++)
		fputs("  ", stdout);
}

/* Separator, indentation and "key": before a value. */
static void json_member(const char *key)
{
	struct frame *f = top();

	if (!f)
		return;
	if (!f->first)
		putchar(',');
	f->first = false;
	json_newline_indent();
	if (key && f->kind != F_TABLE) {
		out_json_string(key);
		fputs(format == OUT_JSON_PRETTY ? ": " : ":", stdout);
	}
}

static void json_value_done(void)
{
	if (!depth)
		putchar('\n');
}

static void json_open(const char *key, enum frame_kind kind)
{
	json_member(key);
	putchar(kind == F_OBJ || kind == F_ROW ? '{' : '[');
	push(kind, false, 0);
}

static void json_close(void)
{
	struct frame f = stack[--depth];

	if (!f.first)
		json_newline_indent();
	putchar(f.kind == F_TABLE ? ']' : '}');
	json_value_done();
}

/* ---- text values ---- */

static void text_value(const char *key, const char *text)
{
	struct frame *f = top();

	if (json_only)
		return;
	if (f && f->in_row) {
		if (table)
			text_table_cell(table, text);
		return;
	}
	char label[64];

	snprintf(label, sizeof(label), "%s:", key ? key : "");
	int width = LABEL_WIDTH - 1 - cur_indent();	/* values line up across levels */

	printf("%*s%-*s %s\n", cur_indent(), "", width > 0 ? width : 0, label, text);
}

static void text_heading(const char *key)
{
	printf("%*s%s:\n", cur_indent(), "", key);
}

/* ---- containers ---- */

void out_obj_begin(const char *key)
{
	struct frame *f = top();

	if (out_is_json()) {
		json_open(key, F_OBJ);
		return;
	}
	if (f && f->in_row) {
		push(F_OBJ, true, f->indent);
		return;
	}
	if (key && !json_only)
		text_heading(key);
	push(F_OBJ, false, cur_indent() + (key ? 2 : 0));
}

void out_obj_end(void)
{
	if (out_is_json())
		json_close();
	else
		depth--;
}

void out_table_begin(const char *key, const char *const *headers)
{
	if (out_is_json()) {
		json_open(key, F_TABLE);
		return;
	}
	if (key && !json_only)
		text_heading(key);
	int indent = cur_indent() + (key ? 2 : 0);

	push(F_TABLE, false, indent);
	if (!json_only)
		table = text_table_new(headers, indent);
}

void out_table_end(void)
{
	if (out_is_json()) {
		json_close();
		return;
	}
	depth--;
	if (table && !json_only) {
		text_table_free(table);
		table = NULL;
	}
}

void out_row_begin(void)
{
	if (out_is_json()) {
		json_open(NULL, F_ROW);
		return;
	}
	push(F_ROW, true, cur_indent());
	if (table && !json_only)
		text_table_row_begin(table);
}

void out_row_end(void)
{
	if (out_is_json()) {
		json_close();
		return;
	}
	depth--;
	if (table && !json_only)
		text_table_row_end(table);
}

void out_json_only_begin(void)
{
	json_only++;
}

void out_json_only_end(void)
{
	json_only--;
}

void out_text_only_begin(void)
{
	text_only++;
}

void out_text_only_end(void)
{
	text_only--;
}

/* A value the current mode leaves out. */
static bool skipped(void)
{
	return out_is_json() ? text_only > 0 : json_only > 0;
}

/* ---- values ---- */

void out_str(const char *key, const char *val)
{
	if (skipped())
		return;
	if (!out_is_json()) {
		text_value(key, val ? val : "-");
		return;
	}
	json_member(key);
	if (val)
		out_json_string(val);
	else
		fputs("null", stdout);
	json_value_done();
}

void out_strf(const char *key, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_str(key, buf);
}

void out_json_raw(const char *key, const char *json)
{
	if (skipped())
		return;
	if (!out_is_json()) {
		text_value(key, json);
		return;
	}
	json_member(key);
	fputs(json, stdout);
	json_value_done();
}

void out_u64_as(const char *key, uint64_t val, const char *text)
{
	char num[24];

	if (skipped())
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)val);
	if (out_is_json())
		out_json_raw(key, num);
	else
		text_value(key, text ? text : num);
}

void out_u64(const char *key, uint64_t val)
{
	out_u64_as(key, val, NULL);
}

void out_double_as(const char *key, double val, const char *text)
{
	char num[32];

	if (skipped())
		return;
	if (!isfinite(val))
		snprintf(num, sizeof(num), "null");
	else
		snprintf(num, sizeof(num), "%.6g", val);
	if (out_is_json())
		out_json_raw(key, num);
	else
		text_value(key, text ? text : num);
}

void out_bool(const char *key, bool val)
{
	if (skipped())
		return;
	if (out_is_json())
		out_json_raw(key, val ? "true" : "false");
	else
		text_value(key, val ? "yes" : "no");
}

void out_null(const char *key)
{
	out_str(key, NULL);
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (out_is_json() || json_only)
		return;
	printf("%*s", cur_indent(), "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- errors ---- */

static void json_reset(void)
{
	if (depth)
		putchar('\n');	/* abandon a half-written value */
	depth = 0;
	json_only = 0;
	text_only = 0;
}

void out_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!out_is_json()) {
		fflush(stdout);
		fprintf(stderr, "veerctl: %s\n", msg);
		return;
	}
	json_reset();
	out_obj_begin(NULL);
	out_str("error", msg);
	out_obj_end();
	fflush(stdout);
}

void out_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("veerctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
