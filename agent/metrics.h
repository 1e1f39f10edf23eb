/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veerd's HTTP endpoint: /metrics (Prometheus text format 0.0.4), /healthz
 * and /readyz. libmicrohttpd runs in epoll mode without a thread of its
 * own: its epoll fd and its timeout are driven by the agent's loop, so a
 * page is always rendered from a consistent agent state and a stuck loop
 * shows as a failing /healthz.
 */
#ifndef VEER_METRICS_H
#define VEER_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct agent;
struct metrics;
struct strbuf;

/* Listen on "addr:port" (IPv4, or IPv6 in brackets: "[::1]:9470"; port 0
 * picks a free one) and serve from a->loop. Returns NULL and fills err. */
struct metrics *metrics_start(struct agent *a, const char *listen, char *err, size_t errlen);
void metrics_stop(struct metrics *m);
/* The port bound, in host order (useful with port 0). */
uint16_t metrics_port(const struct metrics *m);

/* The /metrics page of a, appended to out (metrics_render.c). */
void metrics_render(struct agent *a, struct strbuf *out);

#endif
