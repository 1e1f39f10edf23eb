// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

void sb_init(struct strbuf *sb) { memset(sb, 0, sizeof(*sb)); }

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

static int sb_reserve(struct strbuf *sb, size_t more)
{
	size_t cap = sb->cap ? sb->cap : 256;
	char *b;

	if (sb->oom)
		return -1;
	if (sb->len + more + 1 <= sb->cap)
		return 0;
	while (cap < sb->len + more + 1)
		cap *= 2;
	b = realloc(sb->buf, cap);
	if (!b) {
		sb->oom = 1;
		return -1;
	}
	sb->buf = b;
	sb->cap = cap;
	return 0;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(sb, n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
}

void sb_json_str(struct strbuf *sb, const char *s)
{
	sb_printf(sb, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c == '\n')
			sb_printf(sb, "\\n");
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_printf(sb, "%c", c);
	}
	sb_printf(sb, "\"");
}

const char *sb_str(struct strbuf *sb) { return sb->buf ? sb->buf : ""; }
