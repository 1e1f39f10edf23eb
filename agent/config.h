/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The desired state veerd applies, as read from YAML. Parsing validates the
 * whole document before returning, so a struct veer_cfg is always complete
 * and consistent; on error nothing is returned and the message names
 * file:line and the field's path (e.g. "services[1].backends[0].port").
 */
#ifndef VEER_CONFIG_H
#define VEER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "veer_abi.h"

#define CFG_NAME_MAX 64
#define CFG_PATH_MAX 256
#define CFG_MAX_IFACES 64

enum cfg_mode { CFG_MODE_XDP = 0, CFG_MODE_TC = 1 };
enum cfg_redirect { CFG_REDIRECT_AUTO = 0, CFG_REDIRECT_ALWAYS, CFG_REDIRECT_NEVER };
enum cfg_probe_type { PROBE_NONE = 0, PROBE_TCP, PROBE_HTTP, PROBE_HTTPS, PROBE_DNS };
enum cfg_panic { PANIC_USE_ALL = 0, PANIC_REFUSE = 1 };
enum cfg_nat { NAT_DNAT = 0, NAT_FULL = 1 };
enum cfg_encap { ENCAP_NONE = 0, ENCAP_IPIP = 1 };

struct cfg_probe {
	enum cfg_probe_type type;
	uint16_t port;			/* 0: the backend's port */
	char path[CFG_PATH_MAX];	/* http(s), default "/" */
	char host[CFG_NAME_MAX * 2];	/* Host header, default none */
	uint16_t status_min, status_max;/* expect_status "200-399" (default) */
	char body[CFG_PATH_MAX];	/* body must contain, default none */
	char query[CFG_NAME_MAX * 4];	/* dns name, default "." */
	bool dns_tcp;			/* dns over TCP, default UDP */
	uint32_t interval_ms;		/* default 1000 */
	uint32_t timeout_ms;		/* default 500, < interval */
	uint32_t rise, fall;		/* default 2, 2 */
	uint32_t jitter_pct;		/* default 10 */
	bool insecure;			/* https: skip verify, default true */
};

struct cfg_outlier {
	uint32_t consecutive;		/* signals before ejection, default 3 */
	uint32_t base_ejection_ms;	/* default 1000, doubles on repeats */
	uint32_t max_ejection_ms;	/* default 60000 */
	uint32_t max_ejected_pct;	/* share of a tier, default 50 */
};

struct cfg_failover {
	uint32_t min_healthy_pct;	/* a tier is "enough" at this share, default 70 */
	uint32_t failback_delay_ms;	/* hysteresis before returning, default 1000 */
	uint32_t drain_timeout_ms;	/* a draining backend's flows are cut after it, default 300000 */
	enum cfg_panic panic;		/* default use_all */
};

struct cfg_backend {
	struct veer_addr addr;
	uint8_t family;			/* VEER_AF_INET / VEER_AF_INET6 */
	uint16_t port;			/* host order */
	uint16_t weight;		/* default 1, 1..1000 */
	uint8_t tier;			/* default 0, 0..7 */
	enum cfg_nat nat;
	enum cfg_encap encap;
	bool drain;			/* configured draining */
	int line;			/* source line, for messages */
};

struct cfg_service {
	char name[CFG_NAME_MAX];
	struct veer_addr vip;
	uint8_t family;
	uint16_t port;			/* host order */
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	uint32_t maglev_size;		/* prime, default VEER_MAGLEV_DEFAULT_M */
	struct cfg_probe probe;
	struct cfg_outlier outlier;
	struct cfg_failover failover;
	struct cfg_backend *backends;
	size_t n_backends;
	int line;
};

struct cfg_node {
	char interfaces[CFG_MAX_IFACES][CFG_NAME_MAX];	/* names or fnmatch globs */
	size_t n_interfaces;
	enum cfg_mode mode;
	enum cfg_redirect redirect;	/* XDP_REDIRECT policy, default auto */
	char state_dir[CFG_PATH_MAX];	/* default /sys/fs/bpf/veer */
	char admin_socket[CFG_PATH_MAX];/* default /run/veer/veerd.sock */
	char metrics_listen[CFG_NAME_MAX];/* "addr:port", default "127.0.0.1:9470"; "" off */
	uint32_t hash_seed;		/* default 0x5eed */
	uint32_t ct_size;		/* default VEER_CT_DEFAULT_SIZE */
	uint32_t tcp_timeout_s;		/* established idle, default 7200 */
	uint32_t syn_timeout_s;		/* default 10 */
	uint32_t close_timeout_s;	/* default 10 */
	uint32_t udp_timeout_s;		/* default 60 */
	bool flow_cache;		/* the datapath's established-flow cache, default on */
	struct veer_addr snat4, snat6;	/* full NAT source, default: egress iface's */
	bool has_snat4, has_snat6;
	uint16_t snat_port_lo, snat_port_hi;	/* default 32768-60999 */
};

struct veer_cfg {
	char file[CFG_PATH_MAX];
	struct cfg_node node;
	struct cfg_service *services;
	size_t n_services;
};

/* Parse and validate. Returns a new config or NULL with err filled as
 * "FILE:LINE: FIELD: what is wrong". */
struct veer_cfg *cfg_load_file(const char *path, char *err, size_t errlen);
struct veer_cfg *cfg_load_string(const char *name, const char *yaml, char *err, size_t errlen);
void cfg_free(struct veer_cfg *cfg);

/* Helpers shared with veerctl. */
int cfg_parse_addr(const char *s, struct veer_addr *a, uint8_t *family);
const char *cfg_format_addr(const struct veer_addr *a, uint8_t family, char *buf, size_t len);
/* "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT"; port 0 when absent.
 * Returns 0 or -EINVAL. */
int cfg_parse_endpoint(const char *s, struct veer_addr *a, uint8_t *family, uint16_t *port);
/* "ADDR:PORT" or "[V6]:PORT" into buf. */
const char *cfg_format_endpoint(const struct veer_addr *a, uint8_t family, uint16_t port,
				char *buf, size_t len);
/* "200ms", "1s", "2m", "1h", bare number = ms. Returns 0 or -EINVAL. */
int cfg_parse_duration_ms(const char *s, uint64_t *ms);
/* Emit cfg as YAML (the config in force, as applied) to f. */
void cfg_write_yaml(const struct veer_cfg *cfg, FILE *f);

#endif
