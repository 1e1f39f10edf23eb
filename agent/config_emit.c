// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config in force as YAML, every default spelled out, in the same
 * keys the parser reads: what cfg_write_yaml prints loads back equal.
 * Strings are always double-quoted so that globs ("lxc*"), "off" or "no"
 * keep their meaning.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include "config_internal.h"

static const char *const mode_names[] = { [CFG_MODE_XDP] = "xdp", [CFG_MODE_TC] = "tc" };
static const char *const redirect_names[] = {
	[CFG_REDIRECT_AUTO] = "auto", [CFG_REDIRECT_ALWAYS] = "always",
	[CFG_REDIRECT_NEVER] = "never",
};
static const char *const probe_names[] = {
	[PROBE_NONE] = "none", [PROBE_TCP] = "tcp", [PROBE_HTTP] = "http",
	[PROBE_HTTPS] = "https", [PROBE_DNS] = "dns",
};
static const char *const panic_names[] = { [PANIC_USE_ALL] = "use_all", [PANIC_REFUSE] = "refuse" };
static const char *const nat_names[] = { [NAT_DNAT] = "dnat", [NAT_FULL] = "full" };
static const char *const encap_names[] = { [ENCAP_NONE] = "none", [ENCAP_IPIP] = "ipip" };

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_key_string(FILE *f, const char *indent, const char *key, const char *s)
{
	fprintf(f, "%s%s: ", indent, key);
	put_string(f, s);
	fputc('\n', f);
}

static void put_key_duration(FILE *f, const char *indent, const char *key, uint64_t ms)
{
	char buf[32];

	fprintf(f, "%s%s: %s\n", indent, key, cfg_format_duration(ms, buf, sizeof(buf)));
}

static void put_key_addr(FILE *f, const char *indent, const char *key,
			 const struct veer_addr *a, uint8_t family)
{
	char buf[64];

	put_key_string(f, indent, key, cfg_format_addr(a, family, buf, sizeof(buf)));
}

static void write_node(const struct cfg_node *n, FILE *f)
{
	char ports[16];

	fputs("node:\n  interfaces: [", f);
	for (size_t i = 0; i < n->n_interfaces; i++) {
		fputs(i ? ", " : "", f);
		put_string(f, n->interfaces[i]);
	}
	fprintf(f, "]\n  mode: %s\n  redirect: %s\n", mode_names[n->mode],
		redirect_names[n->redirect]);
	put_key_string(f, "  ", "state_dir", n->state_dir);
	put_key_string(f, "  ", "admin_socket", n->admin_socket);
	put_key_string(f, "  ", "metrics", n->metrics_listen[0] ? n->metrics_listen : "off");
	fprintf(f, "  hash_seed: %" PRIu32 "\n", n->hash_seed);
	fprintf(f, "  conntrack:\n    size: %" PRIu32 "\n", n->ct_size);
	put_key_duration(f, "    ", "tcp_timeout", n->tcp_timeout_s * 1000ull);
	put_key_duration(f, "    ", "syn_timeout", n->syn_timeout_s * 1000ull);
	put_key_duration(f, "    ", "close_timeout", n->close_timeout_s * 1000ull);
	put_key_duration(f, "    ", "udp_timeout", n->udp_timeout_s * 1000ull);
	fprintf(f, "    flow_cache: %s\n", n->flow_cache ? "true" : "false");
	fputs("  snat:\n", f);
	if (n->has_snat4)
		put_key_addr(f, "    ", "address", &n->snat4, VEER_AF_INET);
	if (n->has_snat6)
		put_key_addr(f, "    ", "address6", &n->snat6, VEER_AF_INET6);
	snprintf(ports, sizeof(ports), "%u-%u", n->snat_port_lo, n->snat_port_hi);
	put_key_string(f, "    ", "ports", ports);
}

/* Only the keys of the probe's own type: the parser refuses the others. */
static void write_probe(const struct cfg_probe *p, FILE *f)
{
	const char *in = "      ";
	bool http = p->type == PROBE_HTTP || p->type == PROBE_HTTPS;
	char status[16];

	fprintf(f, "    probe:\n%stype: %s\n", in, probe_names[p->type]);
	if (p->port)
		fprintf(f, "%sport: %u\n", in, p->port);
	if (http) {
		put_key_string(f, in, "path", p->path);
		if (p->host[0])
			put_key_string(f, in, "host", p->host);
		snprintf(status, sizeof(status), p->status_min == p->status_max ? "%u" : "%u-%u",
			 p->status_min, p->status_max);
		put_key_string(f, in, "expect_status", status);
		if (p->body[0])
			put_key_string(f, in, "body", p->body);
	}
	if (p->type == PROBE_HTTPS)
		fprintf(f, "%sinsecure: %s\n", in, p->insecure ? "true" : "false");
	if (p->type == PROBE_DNS) {
		put_key_string(f, in, "query", p->query);
		fprintf(f, "%stransport: %s\n", in, p->dns_tcp ? "tcp" : "udp");
	}
	put_key_duration(f, in, "interval", p->interval_ms);
	put_key_duration(f, in, "timeout", p->timeout_ms);
	fprintf(f, "%srise: %" PRIu32 "\n%sfall: %" PRIu32 "\n%sjitter: %" PRIu32 "%%\n",
		in, p->rise, in, p->fall, in, p->jitter_pct);
}

static void write_backend(const struct cfg_backend *be, FILE *f)
{
	char addr[64];

	fputs("      - {address: ", f);
	put_string(f, cfg_format_addr(&be->addr, be->family, addr, sizeof(addr)));
	fprintf(f, ", port: %u, weight: %u, tier: %u, nat: %s, encap: %s, drain: %s}\n",
		be->port, be->weight, be->tier, nat_names[be->nat], encap_names[be->encap],
		be->drain ? "true" : "false");
}

static void write_service(const struct cfg_service *s, FILE *f)
{
	fputs("  - ", f);
	put_key_string(f, "", "name", s->name);
	put_key_addr(f, "    ", "vip", &s->vip, s->family);
	fprintf(f, "    port: %u\n    protocol: %s\n    maglev_size: %" PRIu32 "\n",
		s->port, s->proto == IPPROTO_TCP ? "tcp" : "udp", s->maglev_size);
	write_probe(&s->probe, f);
	fprintf(f, "    outlier:\n      consecutive: %" PRIu32 "\n", s->outlier.consecutive);
	put_key_duration(f, "      ", "base_ejection", s->outlier.base_ejection_ms);
	put_key_duration(f, "      ", "max_ejection", s->outlier.max_ejection_ms);
	fprintf(f, "      max_ejected: %" PRIu32 "%%\n", s->outlier.max_ejected_pct);
	fprintf(f, "    failover:\n      min_healthy: %" PRIu32 "%%\n", s->failover.min_healthy_pct);
	put_key_duration(f, "      ", "failback_delay", s->failover.failback_delay_ms);
	put_key_duration(f, "      ", "drain_timeout", s->failover.drain_timeout_ms);
	fprintf(f, "      panic: %s\n    backends:\n", panic_names[s->failover.panic]);
	for (size_t i = 0; i < s->n_backends; i++)
		write_backend(&s->backends[i], f);
}

void cfg_write_yaml(const struct veer_cfg *cfg, FILE *f)
{
	write_node(&cfg->node, f);
	fputs(cfg->n_services ? "services:\n" : "services: []\n", f);
	for (size_t i = 0; i < cfg->n_services; i++)
		write_service(&cfg->services[i], f);
}
