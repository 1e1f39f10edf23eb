// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Public entry points of the config: load (read, stream the YAML events
 * through the walk, validate), free, defaults, and the scalar helpers
 * shared with veerctl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "config_internal.h"

#define CFG_FILE_MAX (64u << 20)	/* a config beyond this is a mistake */

int cfg_fail(struct cfg_ctx *ctx, int line, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ctx->yaml_failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->err && ctx->errlen)
		snprintf(ctx->err, ctx->errlen, "%s:%d: %s: %s", ctx->file, line, field, msg);
	return -1;
}

void cfg_node_defaults(struct cfg_node *node)
{
	memset(node, 0, sizeof(*node));
	node->mode = CFG_MODE_XDP;
	node->redirect = CFG_REDIRECT_AUTO;
	snprintf(node->state_dir, sizeof(node->state_dir), "/sys/fs/bpf/veer");
	snprintf(node->admin_socket, sizeof(node->admin_socket), "/run/veer/veerd.sock");
	snprintf(node->metrics_listen, sizeof(node->metrics_listen), "127.0.0.1:9470");
	node->hash_seed = 0x5eed;
	node->ct_size = VEER_CT_DEFAULT_SIZE;
	node->tcp_timeout_s = 7200;
	node->syn_timeout_s = 10;
	node->close_timeout_s = 10;
	node->udp_timeout_s = 60;
	node->flow_cache = true;
	node->snat_port_lo = 32768;
	node->snat_port_hi = 60999;
}

/* Every probe field gets its default whatever the type, so a config that
 * omits a key and one that spells out the default compare equal. */
static void probe_defaults(struct cfg_probe *p)
{
	p->type = PROBE_TCP;	/* health checking unless asked not to */
	p->port = 0;
	snprintf(p->path, sizeof(p->path), "/");
	p->status_min = 200;
	p->status_max = 399;
	snprintf(p->query, sizeof(p->query), ".");
	p->dns_tcp = false;
	p->interval_ms = 1000;
	p->timeout_ms = 500;
	p->rise = 2;
	p->fall = 2;
	p->jitter_pct = 10;
	p->insecure = true;
}

void cfg_service_defaults(struct cfg_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	svc->maglev_size = VEER_MAGLEV_DEFAULT_M;
	probe_defaults(&svc->probe);
	svc->outlier.consecutive = 3;
	svc->outlier.base_ejection_ms = 1000;
	svc->outlier.max_ejection_ms = 60000;
	svc->outlier.max_ejected_pct = 50;
	svc->failover.min_healthy_pct = 70;
	svc->failover.failback_delay_ms = 1000;
	svc->failover.drain_timeout_ms = 300000;
	svc->failover.panic = PANIC_USE_ALL;
}

void cfg_backend_defaults(struct cfg_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->weight = 1;
	be->nat = NAT_DNAT;
	be->encap = ENCAP_NONE;
}

int cfg_parse_uint(const char *s, uint64_t *v)
{
	uint64_t acc = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9)
			return -EINVAL;
		if (acc > (UINT64_MAX - d) / 10)
			return -ERANGE;
		acc = acc * 10 + d;
	}
	*v = acc;
	return 0;
}

int cfg_parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-');
	char first[24];

	if (!dash || dash == s || (size_t)(dash - s) >= sizeof(first))
		return cfg_parse_uint(s, lo) ? -EINVAL : (*hi = *lo, 0);
	snprintf(first, sizeof(first), "%.*s", (int)(dash - s), s);
	if (cfg_parse_uint(first, lo) || cfg_parse_uint(dash + 1, hi))
		return -EINVAL;
	return 1;
}

static int duration_unit_ms(const char *unit, uint64_t *ms)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(unit, units[i].name)) {
			*ms = units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

/* "INT[.FRAC]UNIT"; the result must be a whole number of milliseconds. */
int cfg_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t whole = 0, frac = 0, scale = 1, unit;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale >= 1000000000)	/* finer than 1ns: nonsense */
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (duration_unit_ms(p, &unit) || (scale > 1 && unit == 1))
		return -EINVAL;	/* fractions of a millisecond are not whole */
	if (whole > UINT64_MAX / unit / 2)
		return -ERANGE;
	if ((frac * unit) % scale)
		return -EINVAL;
	*ms = whole * unit + frac * unit / scale;
	return 0;
}

int cfg_parse_duration_ms(const char *s, uint64_t *ms)
{
	return cfg_parse_duration(s, ms) ? -EINVAL : 0;
}

const char *cfg_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

int cfg_parse_addr(const char *s, struct veer_addr *a, uint8_t *family)
{
	struct veer_addr tmp;
	uint8_t fam;

	memset(&tmp, 0, sizeof(tmp));
	if (inet_pton(AF_INET, s, &tmp.v4) == 1)
		fam = VEER_AF_INET;
	else if (inet_pton(AF_INET6, s, tmp.b) == 1)
		fam = VEER_AF_INET6;
	else
		return -EINVAL;
	*a = tmp;
	if (family)
		*family = fam;
	return 0;
}

const char *cfg_format_addr(const struct veer_addr *a, uint8_t family, char *buf, size_t len)
{
	const void *src = family == VEER_AF_INET ? (const void *)&a->v4 : (const void *)a->b;
	int af = family == VEER_AF_INET ? AF_INET : AF_INET6;

	if (!len)
		return buf;
	if (!inet_ntop(af, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* Syntax and composer errors first, then the walk's, then validation's:
 * the order a whole-document load would report them in. */
static struct veer_cfg *build_config(struct cfg_ctx *ctx)
{
	struct veer_cfg *cfg;
	struct cfg_ev root;
	int rc = cfg_cursor_begin(ctx->cur, &root);

	if (rc < 0)
		return NULL;
	if (rc == 0) {
		cfg_fail(ctx, 1, "document", "no YAML document: the file is empty or only comments");
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		cfg_fail(ctx, 1, "document", "out of memory");
		return NULL;
	}
	snprintf(cfg->file, sizeof(cfg->file), "%s", ctx->file);
	cfg_node_defaults(&cfg->node);
	rc = cfg_parse_document(ctx, &root, cfg);
	/* Read on even after an error: a later syntax error outranks it. */
	if (cfg_cursor_finish(ctx->cur) || rc || cfg_validate(ctx, cfg)) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static struct veer_cfg *load_buffer(const char *name, const char *text, size_t len,
				    char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .file = name, .err = err, .errlen = errlen };
	struct veer_cfg *cfg;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg_cursor_new(&ctx, text, len)) {
		cfg_fail(&ctx, 1, "yaml", "out of memory");
		return NULL;
	}
	cfg = build_config(&ctx);
	cfg_cursor_free(ctx.cur);
	return cfg;
}

struct veer_cfg *cfg_load_string(const char *name, const char *yaml, char *err, size_t errlen)
{
	return load_buffer(name, yaml, strlen(yaml), err, errlen);
}

/* Whole file into a malloc'd buffer; -errno on failure. */
static int read_file(const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	errno = 0;
	for (;;) {
		if (len == cap) {
			char *grown = cap >= CFG_FILE_MAX ? NULL : realloc(buf, cap ? cap * 2 : 4096);

			if (!grown) {
				rc = cap >= CFG_FILE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buf = grown;
			cap = cap ? cap * 2 : 4096;
		}
		len += fread(buf + len, 1, cap - len, f);
		if (ferror(f)) {
			rc = errno ? -errno : -EIO;
			break;
		}
		if (feof(f))
			break;
	}
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

struct veer_cfg *cfg_load_file(const char *path, char *err, size_t errlen)
{
	struct veer_cfg *cfg;
	size_t len = 0;
	char *buf = NULL;
	int rc = read_file(path, &buf, &len);

	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		return NULL;
	}
	cfg = load_buffer(path, buf, len, err, errlen);
	free(buf);
	return cfg;
}

void cfg_free(struct veer_cfg *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	free(cfg);
}
