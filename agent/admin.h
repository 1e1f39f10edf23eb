/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* veerd's admin socket: one request line in, one JSON line out
 * (protocol in include/veer_admin.h); event subscribers stay connected. */
#ifndef VEER_ADMIN_SERVER_H
#define VEER_ADMIN_SERVER_H

#include "loop.h"

struct admin;
struct admin_conn;

#define ADMIN_MAX_ARGS 8
typedef void (*admin_handler)(void *arg, struct admin_conn *c, int argc, char **argv);

struct admin *admin_new(struct loop *l, const char *path, admin_handler h, void *arg,
			char *err, size_t errlen);
void admin_free(struct admin *a);
/* Answer and close (unless the connection subscribed to events). */
void admin_reply(struct admin_conn *c, const char *json_line);
void admin_subscribe(struct admin_conn *c);
/* Send one JSON line to every subscriber; slow ones are dropped. */
void admin_broadcast(struct admin *a, const char *json_line);
int admin_subscribers(const struct admin *a);

#endif
