/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Being told that forwarding may have changed: any route, policy rule,
 * neighbour or link message (rtnetlink via libnl). */
#ifndef VEER_ROUTEWATCH_H
#define VEER_ROUTEWATCH_H

#include "loop.h"

struct routewatch;

/* Called once per burst of messages (and after lost messages). */
typedef void (*route_change_cb)(void *arg);

struct routewatch *routewatch_new(struct loop *l, route_change_cb cb, void *arg,
				  char *err, size_t errlen);
void routewatch_free(struct loop *l, struct routewatch *w);

#endif
