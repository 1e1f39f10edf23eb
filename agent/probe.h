/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Active health probes (TCP connect, HTTP(S), DNS) driven by veerd's one
 * event loop: no thread, no blocking call. Each probe repeats every
 * interval (± jitter_pct) and reports every attempt through its callback;
 * an attempt that has no verdict after timeout_ms fails at timeout_ms.
 * Rise/fall thresholds are the caller's business.
 */
#ifndef VEER_PROBE_H
#define VEER_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct loop;
struct prober;
struct probe;

struct probe_target {
	uint8_t family;			/* VEER_AF_INET / VEER_AF_INET6 */
	struct veer_addr addr;		/* an IP literal: nothing is resolved */
	uint16_t port;			/* host order; cfg->port overrides it when set */
	const struct cfg_probe *cfg;	/* copied by probe_start, zero fields defaulted */
};

struct probe_result {
	bool ok;
	uint32_t latency_us;		/* attempt start to verdict */
	char error[128];		/* "" when ok, else e.g. "connect: Connection refused",
					 * "http: status 503", "timeout after 100ms", "dns: NXDOMAIN" */
};

typedef void (*probe_cb)(void *arg, const struct probe_result *r);

/* A prober owns what probes share (libcurl's multi handle) on loop l. */
struct prober *prober_new(struct loop *l);
/* Stops the probes still running. Not from inside a probe callback. */
void prober_free(struct prober *p);

/* Probe t periodically, the first attempt after a random 0..interval delay
 * so that thousands of targets spread out. NULL with errno on error. */
struct probe *probe_start(struct prober *p, const struct probe_target *t,
			  probe_cb cb, void *arg);
/* Start an attempt at once, outside the schedule (which stays as it is),
 * unless one is in flight: that one's report is the answer. Its result is
 * reported through the callback like any other. Returns true if started.
 * Not from inside pr's own callback. */
bool probe_now(struct probe *pr);
/* Stop and free; an attempt in flight is abandoned without a report.
 * Safe from inside any probe's callback, including pr's own. */
void probe_stop(struct probe *pr);

/* ---- Between the scheduler (probe.c) and the kinds (probe_*.c) only ---- */

/* One kind of probe. start begins an attempt and ends it, now or later,
 * with probe_succeed / probe_fail, never from inside a library callback;
 * cancel abandons the attempt in flight silently; release frees what the
 * kind keeps per probe. */
struct probe_kind {
	int (*start)(struct probe *pr);		/* 0 or -errno */
	void (*cancel)(struct probe *pr);
	void (*release)(struct probe *pr);
};
extern const struct probe_kind probe_kind_tcp, probe_kind_http, probe_kind_dns;

struct loop *probe_loop(const struct probe *pr);
/* The target with the effective port; ->cfg is the probe's own copy. */
const struct probe_target *probe_target(const struct probe *pr);
void *probe_kind_state(const struct probe *pr);
void probe_set_kind_state(struct probe *pr, void *state);
struct probe_http_multi *probe_http_multi(const struct probe *pr);

/* End the attempt in flight. pr may be freed on return: touch nothing after. */
void probe_succeed(struct probe *pr);
void probe_fail(struct probe *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sockaddr for the target; returns its length, 0 for a bad family. */
unsigned int probe_sockaddr(const struct probe_target *t, void *ss, unsigned int size);

/* libcurl's multi handle, one per prober, driven by the loop. */
struct probe_http_multi *probe_http_multi_new(struct loop *l);
void probe_http_multi_free(struct probe_http_multi *m);

#endif
