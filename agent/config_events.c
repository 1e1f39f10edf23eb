// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libyaml's event stream, read one event at a time so that memory follows
 * the config being built, not the YAML tree. It answers what
 * yaml_parser_load would have: the same syntax errors, the same composer
 * errors (undefined alias, duplicate anchor) and the same error precedence,
 * since every event of the first document (and of a second one, if any) is
 * read before the load is judged.
 *
 * Aliases: the events of each anchored node are copied to a tape as they
 * stream by and replayed where an alias names them, with the anchored
 * node's lines, as the tree's shared node would give. Only anchored
 * content is kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "config_internal.h"

/* Deeper replays can only come from an alias inside its own anchor. */
#define MAX_REPLAY_DEPTH 1000

struct tape_ev {
	uint8_t type;		/* enum cfg_ev_type */
	bool plain;
	int line;
	size_t arg;		/* scalar: offset in strs; alias: anchor index */
};

struct anchor {
	char *name;
	size_t start, end;	/* tape range; end unset while open */
	int line;
	bool open;
};

struct open_anchor {
	size_t anchor;
	int depth;		/* live depth before the node */
};

struct frame {
	size_t anchor, pos;
	int depth;		/* delivered depth before the alias */
};

struct cfg_cursor {
	struct cfg_ctx *ctx;
	yaml_parser_t parser;
	yaml_event_t ev;	/* last live event, owned until the next */
	bool have_ev;
	const char *text;	/* the input, for reader errors' lines */
	size_t len;
	int live_depth, depth;
	size_t alias;		/* anchor the last alias read names */
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct open_anchor *open;
	size_t n_open, cap_open;
	struct tape_ev *tape;
	size_t n_tape, cap_tape;
	char *strs;
	size_t n_strs, cap_strs;
	struct frame *frames;
	size_t n_frames, cap_frames;
};

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* An error yaml_parser_load would have returned: it outranks the rest. */
static int yaml_fail(struct cfg_cursor *c, int line, const char *problem,
		     const char *context, int context_line)
{
	if (context)
		cfg_fail(c->ctx, line, "yaml", "%s (%s at line %d)", problem, context,
			 context_line);
	else
		cfg_fail(c->ctx, line, "yaml", "%s", problem);
	c->ctx->yaml_failed = true;
	return -1;
}

/* libyaml's own words, at its line; reader errors only give an offset. */
static int syntax_error(struct cfg_cursor *c)
{
	const yaml_parser_t *p = &c->parser;
	int line = (int)p->problem_mark.line + 1;

	if (p->error == YAML_READER_ERROR) {
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < c->len; i++)
			line += c->text[i] == '\n';
	}
	return yaml_fail(c, line, p->problem ? p->problem : "out of memory", p->context,
			 (int)p->context_mark.line + 1);
}

static int out_of_memory(struct cfg_cursor *c)
{
	return yaml_fail(c, 1, "out of memory", NULL, 0);
}

/* Anchors are per document, as in the loader. */
static void forget_anchors(struct cfg_cursor *c)
{
	for (size_t i = 0; i < c->n_anchors; i++)
		free(c->anchors[i].name);
	c->n_anchors = c->n_open = c->n_tape = c->n_strs = c->n_frames = 0;
}

static int register_anchor(struct cfg_cursor *c, const char *name, int line)
{
	struct anchor *a;

	for (size_t i = 0; i < c->n_anchors; i++)
		if (!strcmp(c->anchors[i].name, name))
			return yaml_fail(c, line, "second occurrence",
					 "found duplicate anchor; first occurrence",
					 c->anchors[i].line);
	if (grow(&c->anchors, &c->cap_anchors, c->n_anchors + 1, sizeof(*c->anchors)) ||
	    grow(&c->open, &c->cap_open, c->n_open + 1, sizeof(*c->open)))
		return out_of_memory(c);
	a = &c->anchors[c->n_anchors];
	*a = (struct anchor){ .name = strdup(name), .start = c->n_tape, .line = line,
			      .open = true };
	if (!a->name)
		return out_of_memory(c);
	c->open[c->n_open++] = (struct open_anchor){ c->n_anchors++, c->live_depth };
	return 0;
}

static int find_anchor(struct cfg_cursor *c, const char *name, int line)
{
	for (size_t i = 0; i < c->n_anchors; i++) {
		if (!strcmp(c->anchors[i].name, name)) {
			c->alias = i;
			return 0;
		}
	}
	return yaml_fail(c, line, "found undefined alias", NULL, 0);
}

static int record(struct cfg_cursor *c, enum cfg_ev_type type, int line)
{
	const yaml_event_t *e = &c->ev;
	struct tape_ev t = { .type = (uint8_t)type, .line = line };

	if (!c->n_open)
		return 0;
	if (grow(&c->tape, &c->cap_tape, c->n_tape + 1, sizeof(*c->tape)))
		return out_of_memory(c);
	if (type == CFG_EV_SCALAR) {
		size_t len = e->data.scalar.length;

		if (grow(&c->strs, &c->cap_strs, c->n_strs + len + 1, 1))
			return out_of_memory(c);
		memcpy(c->strs + c->n_strs, e->data.scalar.value, len);
		c->strs[c->n_strs + len] = '\0';
		t.arg = c->n_strs;
		t.plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		c->n_strs += len + 1;
	} else if (type == CFG_EV_ALIAS) {
		t.arg = c->alias;
	}
	c->tape[c->n_tape++] = t;
	return 0;
}

/* Anchored nodes that ended with the event just recorded. */
static void close_anchors(struct cfg_cursor *c)
{
	while (c->n_open && c->open[c->n_open - 1].depth == c->live_depth) {
		struct anchor *a = &c->anchors[c->open[--c->n_open].anchor];

		a->end = c->n_tape;
		a->open = false;
	}
}

static enum cfg_ev_type live_type(const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT: return CFG_EV_SCALAR;
	case YAML_SEQUENCE_START_EVENT: return CFG_EV_SEQ;
	case YAML_MAPPING_START_EVENT: return CFG_EV_MAP;
	case YAML_ALIAS_EVENT: return CFG_EV_ALIAS;
	default: return CFG_EV_END;
	}
}

/* The next event from libyaml, with anchors registered and recorded as
 * the loader would compose them. */
static int live_read(struct cfg_cursor *c)
{
	const char *anchor = NULL;
	enum cfg_ev_type type;
	int line;

	if (c->ctx->yaml_failed)
		return -1;
	if (c->have_ev)
		yaml_event_delete(&c->ev);
	c->have_ev = false;
	if (!yaml_parser_parse(&c->parser, &c->ev))
		return syntax_error(c);
	c->have_ev = true;
	line = (int)c->ev.start_mark.line + 1;
	switch (c->ev.type) {
	case YAML_SCALAR_EVENT: anchor = (char *)c->ev.data.scalar.anchor; break;
	case YAML_SEQUENCE_START_EVENT: anchor = (char *)c->ev.data.sequence_start.anchor; break;
	case YAML_MAPPING_START_EVENT: anchor = (char *)c->ev.data.mapping_start.anchor; break;
	case YAML_ALIAS_EVENT:
		if (find_anchor(c, (char *)c->ev.data.alias.anchor, line))
			return -1;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		break;
	default:
		return 0;	/* stream and document events */
	}
	if (anchor && register_anchor(c, anchor, line))
		return -1;
	type = live_type(&c->ev);
	if (record(c, type, line))
		return -1;
	if (type == CFG_EV_SEQ || type == CFG_EV_MAP)
		c->live_depth++;
	else if (type == CFG_EV_END)
		c->live_depth--;
	if (type != CFG_EV_SEQ && type != CFG_EV_MAP)
		close_anchors(c);
	return 0;
}

static void pop_done_frames(struct cfg_cursor *c)
{
	while (c->n_frames) {
		struct frame *f = &c->frames[c->n_frames - 1];
		const struct anchor *a = &c->anchors[f->anchor];

		if (f->pos < (a->open ? c->n_tape : a->end))
			return;
		c->depth = f->depth;	/* a replay cut short still ends the node */
		c->n_frames--;
	}
}

static int fetch(struct cfg_cursor *c, struct cfg_ev *ev, bool expand)
{
	for (;;) {
		pop_done_frames(c);
		if (c->n_frames) {
			struct frame *f = &c->frames[c->n_frames - 1];
			const struct tape_ev *t = &c->tape[f->pos++];

			*ev = (struct cfg_ev){ .type = t->type, .line = t->line, .plain = t->plain };
			if (t->type == CFG_EV_SCALAR)
				ev->value = c->strs + t->arg;
			else if (t->type == CFG_EV_ALIAS)
				c->alias = t->arg;
		} else {
			if (live_read(c))
				return -1;
			*ev = (struct cfg_ev){ .type = live_type(&c->ev),
					       .line = (int)c->ev.start_mark.line + 1 };
			if (ev->type == CFG_EV_SCALAR) {
				ev->value = (const char *)c->ev.data.scalar.value;
				ev->plain = c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			}
		}
		if (ev->type == CFG_EV_ALIAS) {
			ev->line = c->anchors[c->alias].line;
			if (!expand)
				return 0;
			if (c->n_frames >= MAX_REPLAY_DEPTH) {
				cfg_fail(c->ctx, ev->line, "yaml", "aliases nest too deep");
				return -1;
			}
			if (grow(&c->frames, &c->cap_frames, c->n_frames + 1, sizeof(*c->frames)))
				return out_of_memory(c);
			c->frames[c->n_frames++] = (struct frame){
				c->alias, c->anchors[c->alias].start, c->depth };
			continue;
		}
		if (ev->type == CFG_EV_SEQ || ev->type == CFG_EV_MAP)
			c->depth++;
		else if (ev->type == CFG_EV_END)
			c->depth--;
		return 0;
	}
}

int cfg_cursor_next(struct cfg_cursor *c, struct cfg_ev *ev)
{
	return fetch(c, ev, true);
}

int cfg_cursor_next_raw(struct cfg_cursor *c, struct cfg_ev *ev)
{
	return fetch(c, ev, false);
}

int cfg_cursor_depth(const struct cfg_cursor *c)
{
	return c->depth;
}

int cfg_cursor_skip_to(struct cfg_cursor *c, int depth)
{
	struct cfg_ev ev;

	for (;;) {
		pop_done_frames(c);
		if (c->depth <= depth)
			return 0;
		if (fetch(c, &ev, false))
			return -1;
	}
}

struct cfg_cursor *cfg_cursor_new(struct cfg_ctx *ctx, const char *text, size_t len)
{
	struct cfg_cursor *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (!yaml_parser_initialize(&c->parser)) {
		free(c);
		return NULL;
	}
	yaml_parser_set_input_string(&c->parser, (const unsigned char *)text, len);
	c->ctx = ctx;
	c->text = text;
	c->len = len;
	ctx->cur = c;
	return c;
}

void cfg_cursor_free(struct cfg_cursor *c)
{
	if (!c)
		return;
	forget_anchors(c);
	if (c->have_ev)
		yaml_event_delete(&c->ev);
	yaml_parser_delete(&c->parser);
	free(c->anchors);
	free(c->open);
	free(c->tape);
	free(c->strs);
	free(c->frames);
	free(c);
}

/* STREAM-START, then DOCUMENT-START or STREAM-END: 1, 0 or -1. */
static int next_document(struct cfg_cursor *c)
{
	if (live_read(c))
		return -1;
	if (c->ev.type == YAML_STREAM_START_EVENT && live_read(c))
		return -1;
	return c->ev.type == YAML_DOCUMENT_START_EVENT;
}

int cfg_cursor_begin(struct cfg_cursor *c, struct cfg_ev *root)
{
	int rc = next_document(c);

	if (rc <= 0)
		return rc;
	return cfg_cursor_next(c, root) ? -1 : 1;
}

static int to_document_end(struct cfg_cursor *c)
{
	while (!c->have_ev || c->ev.type != YAML_DOCUMENT_END_EVENT)
		if (live_read(c))
			return -1;
	return 0;
}

int cfg_cursor_finish(struct cfg_cursor *c)
{
	int line, rc;

	if (c->ctx->yaml_failed)
		return -1;
	c->n_frames = 0;	/* what is left is read for errors only */
	if (to_document_end(c))
		return -1;
	forget_anchors(c);
	rc = next_document(c);
	if (rc <= 0)
		return rc;
	/* A second document would be silently ignored: refuse it instead. */
	if (live_read(c))
		return -1;
	line = (int)c->ev.start_mark.line + 1;
	if (to_document_end(c))
		return -1;
	return cfg_fail(c->ctx, line, "document", "more than one YAML document; only one is read");
}
