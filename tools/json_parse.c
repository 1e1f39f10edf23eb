// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "json_parse.h"

#define MAX_NESTING 32

struct cursor {
	const char *p;
};

static void skip_ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static int hex4(const char *p, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' :
			ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		*v = *v << 4 | d;
	}
	return 0;
}

static void put_utf8(char **o, unsigned int cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = cp;
	} else if (cp < 0x800) {
		*u++ = 0xc0 | cp >> 6;
		*u++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*u++ = 0xe0 | cp >> 12;
		*u++ = 0x80 | (cp >> 6 & 0x3f);
		*u++ = 0x80 | (cp & 0x3f);
	} else {
		*u++ = 0xf0 | cp >> 18;
		*u++ = 0x80 | (cp >> 12 & 0x3f);
		*u++ = 0x80 | (cp >> 6 & 0x3f);
		*u++ = 0x80 | (cp & 0x3f);
	}
	*o = (char *)u;
}

/* \uXXXX at p (after the backslash-u), joining a surrogate pair. */
static int decode_unicode(const char **p, char **o)
{
	unsigned int cp, low;

	if (hex4(*p, &cp))
		return -EINVAL;
	*p += 4;
	if (cp >= 0xd800 && cp < 0xdc00 && (*p)[0] == '\\' && (*p)[1] == 'u' &&
	    !hex4(*p + 2, &low) && low >= 0xdc00 && low < 0xe000) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		*p += 6;
	}
	put_utf8(o, cp);
	return 0;
}

static int decode_escape(const char **p, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit = **p ? strchr(from, **p) : NULL;

	if (**p == 'u') {
		(*p)++;
		return decode_unicode(p, o);
	}
	if (!hit)
		return -EINVAL;
	*(*o)++ = to[hit - from];
	(*p)++;
	return 0;
}

/* c->p at the opening quote; out (if not NULL) gets the decoded string. */
static int parse_string(struct cursor *c, char **out)
{
	const char *p = c->p + 1;
	char *buf, *o;

	if (*c->p != '"')
		return -EINVAL;
	buf = malloc(strlen(p) + 1);
	if (!buf)
		return -ENOMEM;
	o = buf;
	while (*p && *p != '"') {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		if (decode_escape(&p, &o))
			break;
	}
	if (*p != '"') {
		free(buf);
		return -EINVAL;
	}
	*o = '\0';
	c->p = p + 1;
	if (out)
		*out = buf;
	else
		free(buf);
	return 0;
}

static int skip_value(struct cursor *c, int nesting);

static int skip_container(struct cursor *c, int nesting)
{
	char close = *c->p == '{' ? '}' : ']';
	bool object = close == '}';

	if (nesting > MAX_NESTING)
		return -EINVAL;
	c->p++;
	skip_ws(c);
	while (*c->p && *c->p != close) {
		if (object && (parse_string(c, NULL) || (skip_ws(c), *c->p++ != ':')))
			return -EINVAL;
		if (skip_value(c, nesting + 1))
			return -EINVAL;
		skip_ws(c);
		if (*c->p == ',')
			c->p++;
		else if (*c->p != close)
			return -EINVAL;
		skip_ws(c);
	}
	if (*c->p != close)
		return -EINVAL;
	c->p++;
	return 0;
}

static int skip_value(struct cursor *c, int nesting)
{
	const char *start;

	skip_ws(c);
	if (*c->p == '"')
		return parse_string(c, NULL);
	if (*c->p == '{' || *c->p == '[')
		return skip_container(c, nesting);
	start = c->p;
	while (*c->p && strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.E", *c->p))
		c->p++;
	return c->p > start ? 0 : -EINVAL;
}

static int parse_member(struct cursor *c, struct jfield *f)
{
	const char *start;

	if (parse_string(c, &f->key))
		return -EINVAL;
	skip_ws(c);
	if (*c->p++ != ':')
		return -EINVAL;
	skip_ws(c);
	start = c->p;
	if (*c->p == '"' && parse_string(c, &f->str))
		return -EINVAL;
	c->p = start;
	if (skip_value(c, 1))
		return -EINVAL;
	f->raw = strndup(start, c->p - start);
	return f->raw ? 0 : -ENOMEM;
}

static int add_member(struct cursor *c, struct jobj *o)
{
	struct jfield *fields = realloc(o->fields, (o->n + 1) * sizeof(*fields));

	if (!fields)
		return -ENOMEM;
	o->fields = fields;
	memset(&fields[o->n], 0, sizeof(*fields));
	o->n++;
	return parse_member(c, &fields[o->n - 1]);
}

int jobj_parse(const char *text, struct jobj *o)
{
	struct cursor c = { text };

	memset(o, 0, sizeof(*o));
	skip_ws(&c);
	if (*c.p++ != '{')
		return -EINVAL;
	skip_ws(&c);
	while (*c.p != '}') {
		if (add_member(&c, o))
			goto fail;
		skip_ws(&c);
		if (*c.p == ',')
			c.p++;
		else if (*c.p != '}')
			goto fail;
		skip_ws(&c);
	}
	c.p++;
	skip_ws(&c);
	if (!*c.p)
		return 0;
fail:
	jobj_free(o);
	return -EINVAL;
}

void jobj_free(struct jobj *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->fields[i].key);
		free(o->fields[i].str);
		free(o->fields[i].raw);
	}
	free(o->fields);
	memset(o, 0, sizeof(*o));
}

const struct jfield *jobj_get(const struct jobj *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->fields[i].key && !strcmp(o->fields[i].key, key))
			return &o->fields[i];
	return NULL;
}

const char *jobj_str(const struct jobj *o, const char *key)
{
	const struct jfield *f = jobj_get(o, key);

	return f ? f->str : NULL;
}

bool jobj_is_true(const struct jobj *o, const char *key)
{
	const struct jfield *f = jobj_get(o, key);

	return f && f->raw && !strcmp(f->raw, "true");
}
