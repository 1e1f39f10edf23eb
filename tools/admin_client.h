/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Talking to veerd over its admin socket (include/veer_admin.h): one
 * request line out, JSON lines back. Failures are reported here, in words
 * that say what to do, so callers only return EXIT_ERR.
 */
#ifndef VEERCTL_ADMIN_CLIENT_H
#define VEERCTL_ADMIN_CLIENT_H

#include <stddef.h>
#include "json_parse.h"

struct admin_conn {
	int fd;
	char *buf;		/* bytes read, not yet returned as lines */
	size_t len, cap;
	size_t held;		/* length of the line last returned, with its newline */
};

/* Connect and send request (no newline). timeout_ms bounds each read,
 * 0 for none (event streams). Returns 0 or -errno after printing why. */
int admin_open(struct admin_conn *c, const char *path, const char *request,
	       int timeout_ms);
/* Next line without its newline, valid until the next call.
 * Returns 1 with a line, 0 at end of stream, or -errno. */
int admin_read_line(struct admin_conn *c, char **line);
void admin_close(struct admin_conn *c);

/* Read one answer and check it: {"ok":true,...} fills reply; on
 * {"ok":false,"error":...} or garbage, prints it and returns -EPROTO. */
int admin_read_reply(struct admin_conn *c, struct jobj *reply);
/* open + read_reply + close: one request, one answer. */
int admin_call(const char *path, const char *request, struct jobj *reply);

#endif
