// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* "ADDR[:PORT]" and "[V6ADDR][:PORT]": the one parser and formatter of
 * backend endpoints, for the config's users, the admin socket, logs,
 * events, metrics labels and veerctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

/* Split "[v6]:port", "[v6]", "v4:port", "v4" or a bare v6 address. */
static int split_host_port(const char *s, char *host, size_t len, const char **port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	*port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		n = close - s - 1;
		if (close[1] == ':')
			*port = close + 2;
		s++;
	} else if (colon && colon == strchr(s, ':')) {
		n = colon - s;		/* exactly one colon: IPv4 with a port */
		*port = colon + 1;
	} else {
		n = strlen(s);
	}
	if (n >= len)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int cfg_parse_endpoint(const char *s, struct veer_addr *a, uint8_t *family, uint16_t *port)
{
	char host[64];
	const char *p;

	memset(a, 0, sizeof(*a));
	*port = 0;
	if (split_host_port(s, host, sizeof(host), &p) || cfg_parse_addr(host, a, family))
		return -EINVAL;
	return p ? parse_port(p, port) : 0;
}

const char *cfg_format_endpoint(const struct veer_addr *a, uint8_t family, uint16_t port,
				char *buf, size_t len)
{
	char addr[64];

	cfg_format_addr(a, family, addr, sizeof(addr));
	snprintf(buf, len, family == VEER_AF_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
	return buf;
}
