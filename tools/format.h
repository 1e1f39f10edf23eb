/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Human forms of addresses, durations and sizes, and ADDR[:PORT] parsing. */
#ifndef VEERCTL_FORMAT_H
#define VEERCTL_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "veer_abi.h"

#define FMT_LEN 64	/* fits "[v6 address]:port" and every other form here */

/* A backend or client as the user names it: port 0 means any port. */
struct endpoint {
	struct veer_addr addr;
	uint8_t family;
	uint16_t port;		/* host order */
};

/* "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT". Returns 0 or -EINVAL. */
int parse_endpoint(const char *s, struct endpoint *ep);
bool endpoint_matches(const struct endpoint *ep, const struct veer_addr *a,
		      uint8_t family, uint16_t port);

const char *fmt_addr(const struct veer_addr *a, uint8_t family, char *buf);
/* port in host order; IPv6 gets brackets: [2001:db8::1]:443 */
const char *fmt_addr_port(const struct veer_addr *a, uint8_t family, uint16_t port,
			  char *buf);
const char *fmt_duration(uint64_t ns, char *buf);	/* 850ms, 42s, 3m12s, 2h5m, 3d4h */
const char *fmt_count(uint64_t n, char *buf);		/* 999, 12.3K, 4.5M */
const char *fmt_bytes(uint64_t n, char *buf);		/* 512B, 1.5KiB, 3.0GiB */
const char *fmt_latency_us(uint32_t us, char *buf);	/* 850us, 12.3ms, 1.20s */
const char *fmt_rfc3339(uint64_t realtime_ns, char *buf);

/* Print an endpoint: JSON members addr_key (string) and port_key (number),
 * one "addr:port" cell or line in text, under addr_key. */
void out_endpoint(const char *addr_key, const char *port_key, const struct veer_addr *a,
		  uint8_t family, uint16_t port);

uint64_t clock_ns(clockid_t clock);
/* now - then, or 0 when then lies ahead (clocks of other hosts, races). */
uint64_t ns_since(uint64_t now, uint64_t then);

#endif
