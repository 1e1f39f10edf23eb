// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "format.h"
#include "output.h"

int parse_endpoint(const char *s, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	return cfg_parse_endpoint(s, &ep->addr, &ep->family, &ep->port);
}

bool endpoint_matches(const struct endpoint *ep, const struct veer_addr *a,
		      uint8_t family, uint16_t port)
{
	if (ep->family != family)
		return false;
	if (ep->port && ep->port != port)
		return false;
	return !memcmp(&ep->addr, a, family == VEER_AF_INET ? 4 : 16);
}

const char *fmt_addr(const struct veer_addr *a, uint8_t family, char *buf)
{
	if (!cfg_format_addr(a, family, buf, FMT_LEN))
		snprintf(buf, FMT_LEN, "?family%u", family);
	return buf;
}

const char *fmt_addr_port(const struct veer_addr *a, uint8_t family, uint16_t port,
			  char *buf)
{
	return cfg_format_endpoint(a, family, port, buf, FMT_LEN);
}

const char *fmt_duration(uint64_t ns, char *buf)
{
	uint64_t s = ns / 1000000000ull;

	if (s == 0)
		snprintf(buf, FMT_LEN, "%llums", (unsigned long long)(ns / 1000000));
	else if (s < 60)
		snprintf(buf, FMT_LEN, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, FMT_LEN, "%llum%llus", (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, FMT_LEN, "%lluh%llum", (unsigned long long)s / 3600,
			 (unsigned long long)s % 3600 / 60);
	else
		snprintf(buf, FMT_LEN, "%llud%lluh", (unsigned long long)s / 86400,
			 (unsigned long long)s % 86400 / 3600);
	return buf;
}

static const char *fmt_scaled(uint64_t n, unsigned int base, const char *const *units,
			      char *buf)
{
	double v = n;
	int u = 0;

	while (v >= base && units[u + 1]) {
		v /= base;
		u++;
	}
	if (u == 0)
		snprintf(buf, FMT_LEN, "%llu%s", (unsigned long long)n, units[0]);
	else
		snprintf(buf, FMT_LEN, "%.1f%s", v, units[u]);
	return buf;
}

const char *fmt_count(uint64_t n, char *buf)
{
	static const char *const units[] = { "", "K", "M", "G", "T", "P", NULL };

	return fmt_scaled(n, 1000, units, buf);
}

const char *fmt_bytes(uint64_t n, char *buf)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL };

	return fmt_scaled(n, 1024, units, buf);
}

const char *fmt_latency_us(uint32_t us, char *buf)
{
	if (us < 1000)
		snprintf(buf, FMT_LEN, "%uus", us);
	else if (us < 1000000)
		snprintf(buf, FMT_LEN, "%.1fms", us / 1000.0);
	else
		snprintf(buf, FMT_LEN, "%.2fs", us / 1000000.0);
	return buf;
}

const char *fmt_rfc3339(uint64_t realtime_ns, char *buf)
{
	time_t t = realtime_ns / 1000000000ull;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, FMT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, FMT_LEN, "?");
	return buf;
}

void out_endpoint(const char *addr_key, const char *port_key, const struct veer_addr *a,
		  uint8_t family, uint16_t port)
{
	char buf[FMT_LEN];

	out_json_only_begin();
	out_str(addr_key, fmt_addr(a, family, buf));
	out_u64(port_key, port);
	out_json_only_end();
	out_text_only_begin();
	out_str(addr_key, fmt_addr_port(a, family, port, buf));
	out_text_only_end();
}

uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t ns_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}
