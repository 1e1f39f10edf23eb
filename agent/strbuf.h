/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A growable string, for admin replies and the metrics page. */
#ifndef VEER_STRBUF_H
#define VEER_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap;
	int oom;	/* set once an allocation failed; the text is then cut */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void sb_json_str(struct strbuf *sb, const char *s);
const char *sb_str(struct strbuf *sb);

#endif
