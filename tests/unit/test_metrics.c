// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The /metrics page rendered from a hand-built agent and real (unpinned)
 * per-CPU maps, checked line by line and against the text format; then the
 * HTTP server on the test's own loop, fetched by libcurl in a forked child
 * while the parent drives the loop. Needs root (bpf_map_create).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>
#include "agent.h"
#include "metrics.h"
#include "strbuf.h"
#include "names.h"

static struct {
	struct loop *loop;
	int ncpu;
} fx;

/* ---- a hand-built agent ---- */

static void parse_ip(const char *s, struct veer_addr *a, uint8_t *family)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		*family = VEER_AF_INET;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		*family = VEER_AF_INET6;
	else
		fail_msg("bad address %s", s);
}

static struct agent *agent_new(void)
{
	struct agent *a = calloc(1, sizeof(*a));
	int *fd = (int *)&a->maps;

	assert_non_null(a);
	a->loop = fx.loop;
	for (size_t i = 0; i < sizeof(a->maps) / sizeof(int); i++)
		fd[i] = -1;
	return a;
}

static struct agent_service *add_service(struct agent *a, uint32_t id, const char *name,
					 const char *vip, uint16_t port, uint8_t proto)
{
	struct agent_service *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->id = id;
	snprintf(s->cfg.name, sizeof(s->cfg.name), "%s", name);
	parse_ip(vip, &s->cfg.vip, &s->cfg.family);
	s->cfg.port = port;
	s->cfg.proto = proto;
	a->svcs = realloc(a->svcs, (a->n_svcs + 1) * sizeof(*a->svcs));
	assert_non_null(a->svcs);
	a->svcs[a->n_svcs++] = s;
	return s;
}

static struct agent_backend *add_backend(struct agent_service *s, uint32_t id, const char *addr,
					 uint16_t port, uint8_t tier)
{
	struct agent_backend *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->id = id;
	b->svc = s;
	parse_ip(addr, &b->cfg.addr, &b->cfg.family);
	b->cfg.port = port;
	b->cfg.tier = tier;
	health_init(&b->health, 0);
	s->be = realloc(s->be, (s->n_be + 1) * sizeof(*s->be));
	assert_non_null(s->be);
	s->be[s->n_be++] = b;
	return b;
}

static void agent_free(struct agent *a)
{
	int *fd = (int *)&a->maps;

	for (size_t i = 0; i < a->n_svcs; i++) {
		for (size_t j = 0; j < a->svcs[i]->n_be; j++)
			free(a->svcs[i]->be[j]);
		free(a->svcs[i]->be);
		free(a->svcs[i]);
	}
	for (size_t i = 0; i < sizeof(a->maps) / sizeof(int); i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(a->svcs);
	free(a);
}

/* Stats maps of the ABI's types and sizes, unpinned. */
static void create_stat_maps(struct agent *a)
{
	a->maps.svc_stat = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_svcst", 4,
					  sizeof(struct veer_svc_stats), VEER_MAX_SERVICES, NULL);
	a->maps.be_stat = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_best", 4,
					 sizeof(struct veer_be_stats), VEER_MAX_BACKENDS, NULL);
	a->maps.drops = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_drop", 4, sizeof(uint64_t),
				       VEER_R__COUNT, NULL);
	assert_true(a->maps.svc_stat >= 0 && a->maps.be_stat >= 0 && a->maps.drops >= 0);
}

/* Counter f of id on cpu: distinct everywhere, so a wrong index shows. */
static uint64_t val(uint32_t id, size_t f, int cpu) { return id * 1000ull + f * 10 + cpu + 1; }

static uint64_t val_sum(uint32_t id, size_t f)
{
	uint64_t sum = 0;

	for (int cpu = 0; cpu < fx.ncpu; cpu++)
		sum += val(id, f, cpu);
	return sum;
}

static void fill_counters(int fd, uint32_t id, size_t fields)
{
	uint64_t *v = calloc((size_t)fx.ncpu * fields, sizeof(*v));

	assert_non_null(v);
	for (int cpu = 0; cpu < fx.ncpu; cpu++)
		for (size_t f = 0; f < fields; f++)
			v[(size_t)cpu * fields + f] = val(id, f, cpu);
	assert_int_equal(bpf_map_update_elem(fd, &id, v, BPF_ANY), 0);
	free(v);
}

/* The small agent most tests use:
 *   web (id 3) 10.0.0.1:80/tcp, HTTP probes, active tier 0
 *     id 7  10.1.0.1:8080 tier 0 healthy, probe 250 us
 *     id 8  10.1.0.2:8080 tier 0 ejected once
 *     id 9  10.2.0.1:8080 tier 1 draining
 *   q"b\s<newline>x (id 5) [fd00::1]:53/udp, no probes, panic, no tier
 *     id 20 [fd00::10]:53 tier 0 unhealthy
 *     id 21 [fd00::11]:53 tier 2 unknown */
#define ODD_NAME "q\"b\\s\nx"
#define ODD_LABEL "q\\\"b\\\\s\\nx"

static struct agent *small_agent(void)
{
	struct health_params hp = { .probes = true, .rise = 1, .fall = 1, .eject_after = 1,
				    .base_ejection_us = 1000000, .max_ejection_us = 1000000,
				    .max_ejected_pct = 100 };
	struct agent *a = agent_new();
	struct agent_service *web = add_service(a, 3, "web", "10.0.0.1", 80, IPPROTO_TCP);
	struct agent_service *odd = add_service(a, 5, ODD_NAME, "fd00::1", 53, IPPROTO_UDP);

	web->cfg.probe.type = PROBE_HTTP;
	web->decision.active_tier = 0;
	odd->decision.active_tier = TIER_NONE;
	odd->decision.panic = true;
	health_probe_ok(&add_backend(web, 7, "10.1.0.1", 8080, 0)->health, &hp, 250, 10, NULL);
	health_passive(&add_backend(web, 8, "10.1.0.2", 8080, 0)->health, &hp,
		       VEER_EV_RST_ON_SYN, NULL, 10, NULL);
	health_drain(&add_backend(web, 9, "10.2.0.1", 8080, 1)->health, true, 10, NULL);
	health_probe_fail(&add_backend(odd, 20, "fd00::10", 53, 0)->health, &hp, "refused", 10,
			  NULL);
	add_backend(odd, 21, "fd00::11", 53, 2);
	a->ctr = (struct agent_counters){ .reloads = 4, .reload_failures = 2, .probes_ok = 100,
		.probes_failed = 7, .passive_signals = 5, .ejections = 3, .ejections_refused = 1,
		.tier_shifts = 6, .panics = 1, .events_read = 42 };
	a->ctr.transitions[VEER_H_HEALTHY] = 9;
	a->n_attached = 2;
	return a;
}

static struct agent *small_agent_with_maps(void)
{
	struct agent *a = small_agent();

	create_stat_maps(a);
	for (size_t i = 0; i < a->n_svcs; i++) {
		fill_counters(a->maps.svc_stat, a->svcs[i]->id, 6);
		for (size_t j = 0; j < a->svcs[i]->n_be; j++)
			fill_counters(a->maps.be_stat, a->svcs[i]->be[j]->id, 6);
	}
	for (uint32_t r = 0; r < VEER_R__COUNT; r++)
		fill_counters(a->maps.drops, r, 1);
	return a;
}

/* ---- checks on a page ---- */

static bool has_line(const char *page, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = page; (p = strstr(p, line)); p++)
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void expect_line(const char *page, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!has_line(page, line))
		fail_msg("missing line: %s", line);
}

static size_t count_lines(const char *page, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	for (const char *p = page; *p; p = strchr(p, '\n') + 1) {
		if (!strncmp(p, prefix, plen))
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

static char *render(struct agent *a, struct strbuf *sb)
{
	sb_init(sb);
	metrics_render(a, sb);
	assert_false(sb->oom);
	return (char *)sb_str(sb);
}

/* Label set: name="value"(,name="value")* with the format's escapes. */
static const char *skip_labels(const char *p)
{
	if (*p != '{')
		return p;
	for (p++; *p != '}';) {
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		if (p[0] != '=' || p[1] != '"')
			return NULL;
		for (p += 2; *p != '"'; p++) {
			if (!*p || *p == '\n')
				return NULL;
			if (*p == '\\' && !strchr("\\\"n", *++p))
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

/* Text format 0.0.4 as Prometheus reads it: HELP then TYPE once per
 * family, samples of a family together, right after its TYPE. */
static void check_exposition(const char *page)
{
	char fam[128] = "", help[128] = "", seen[64][128];
	size_t n_seen = 0;

	for (const char *p = page, *end; *p; p = end + 1) {
		char name[128];
		size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");

		end = strchr(p, '\n');
		assert_non_null(end);
		if (sscanf(p, "# HELP %127s", help) == 1)
			continue;
		if (sscanf(p, "# TYPE %127s", fam) == 1) {
			assert_string_equal(fam, help);
			assert_true(!strncmp(p + 7 + strlen(fam), " counter\n", 9) ||
				    !strncmp(p + 7 + strlen(fam), " gauge\n", 7));
			for (size_t i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], fam);
			assert_true(n_seen < 64);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", fam);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (strcmp(name, fam))
			fail_msg("sample outside its family %s: %.*s", fam, (int)(end - p), p);
		{
			const char *v = skip_labels(p + len);
			char *vend;

			assert_non_null(v);
			assert_int_equal(*v, ' ');
			strtod(v + 1, &vend);
			assert_ptr_equal(vend, end);
		}
	}
}

/* promtool's own linter, when the Prometheus package brings it. */
static void promtool_check(const char *page)
{
	FILE *f;
	int st;

	if (access("/usr/bin/promtool", X_OK))
		return;
	f = popen("/usr/bin/promtool check metrics >/tmp/veer-promtool.out 2>&1", "w");
	assert_non_null(f);
	fputs(page, f);
	st = pclose(f);
	if (st) {
		system("cat /tmp/veer-promtool.out >&2");
		fail_msg("promtool check metrics failed");
	}
	unlink("/tmp/veer-promtool.out");
}

/* ---- rendering ---- */

#define WEB "service=\"web\",vip=\"10.0.0.1\",port=\"80\",protocol=\"tcp\""
#define ODD "service=\"" ODD_LABEL "\",vip=\"fd00::1\",port=\"53\",protocol=\"udp\""
#define B7 "service=\"web\",backend=\"10.1.0.1:8080\",tier=\"0\""
#define B8 "service=\"web\",backend=\"10.1.0.2:8080\",tier=\"0\""
#define B9 "service=\"web\",backend=\"10.2.0.1:8080\",tier=\"1\""
#define B20 "service=\"" ODD_LABEL "\",backend=\"[fd00::10]:53\",tier=\"0\""
#define B21 "service=\"" ODD_LABEL "\",backend=\"[fd00::11]:53\",tier=\"2\""

static void test_render_services(void **state)
{
	static const char *const fam[] = { "packets", "bytes", "new_flows", "repicks",
					   "refused", "no_backend" };
	struct agent *a = small_agent_with_maps();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	for (size_t f = 0; f < 6; f++) {
		expect_line(page, "veer_service_%s_total{" WEB "} %llu", fam[f],
			    (unsigned long long)val_sum(3, f));
		expect_line(page, "veer_service_%s_total{" ODD "} %llu", fam[f],
			    (unsigned long long)val_sum(5, f));
	}
	expect_line(page, "veer_service_active_tier{" WEB "} 0");
	expect_line(page, "veer_service_active_tier{" ODD "} -1");
	expect_line(page, "veer_service_panic{" WEB "} 0");
	expect_line(page, "veer_service_panic{" ODD "} 1");
	expect_line(page, "# TYPE veer_service_packets_total counter");
	expect_line(page, "# TYPE veer_service_active_tier gauge");
	sb_free(&sb);
	agent_free(a);
}

static void test_render_backends(void **state)
{
	static const char *const fam[] = { "packets", "bytes", "new_flows", "reply_packets",
					   "reply_bytes", "fail_signals" };
	static const struct { const char *lbl; uint32_t id; const char *state; } be[] = {
		{ B7, 7, "healthy" }, { B8, 8, "ejected" }, { B9, 9, "draining" },
		{ B20, 20, "unhealthy" }, { B21, 21, "unknown" },
	};
	struct agent *a = small_agent_with_maps();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		for (size_t f = 0; f < 6; f++)
			expect_line(page, "veer_backend_%s_total{%s} %llu", fam[f], be[i].lbl,
				    (unsigned long long)val_sum(be[i].id, f));
		for (unsigned int st = VEER_H_UNKNOWN; st <= VEER_H_DRAINING; st++) {
			const char *name = health_state_name(st);

			expect_line(page, "veer_backend_health{%s,state=\"%s\"} %d", be[i].lbl,
				    name, !strcmp(name, be[i].state));
		}
	}
	assert_int_equal(count_lines(page, "veer_backend_health{"), 5 * 5);
	/* Latency: only where probes ran and one succeeded. */
	expect_line(page, "veer_backend_probe_latency_seconds{" B7 "} 0.000250");
	assert_int_equal(count_lines(page, "veer_backend_probe_latency_seconds{"), 1);
	expect_line(page, "veer_backend_ejections_total{" B8 "} 1");
	expect_line(page, "veer_backend_ejections_total{" B7 "} 0");
	sb_free(&sb);
	agent_free(a);
}

static void test_render_reasons_and_agent(void **state)
{
	struct agent *a = small_agent_with_maps();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	for (uint32_t r = 0; r < VEER_R__COUNT; r++)
		expect_line(page, "veer_datapath_packets_total{reason=\"%s\"} %llu", reason_name(r),
			    (unsigned long long)val_sum(r, 0));
	assert_int_equal(count_lines(page, "veer_datapath_packets_total{"), VEER_R__COUNT);
	expect_line(page, "veer_config_reloads_total{result=\"ok\"} 4");
	expect_line(page, "veer_config_reloads_total{result=\"error\"} 2");
	expect_line(page, "veer_probes_total{result=\"ok\"} 100");
	expect_line(page, "veer_probes_total{result=\"failed\"} 7");
	expect_line(page, "veer_passive_signals_total 5");
	expect_line(page, "veer_ejections_total{result=\"ejected\"} 3");
	expect_line(page, "veer_ejections_total{result=\"refused\"} 1");
	expect_line(page, "veer_tier_shifts_total 6");
	expect_line(page, "veer_panics_total 1");
	expect_line(page, "veer_health_transitions_total{state=\"healthy\"} 9");
	expect_line(page, "veer_health_transitions_total{state=\"ejected\"} 0");
	expect_line(page, "veer_datapath_events_total 42");
	expect_line(page, "veer_interfaces_attached 2");
	expect_line(page, "veer_ready 0");
	assert_int_equal(count_lines(page, "veer_build_info{version=\""), 1);
	sb_free(&sb);
	agent_free(a);
}

static void test_render_format(void **state)
{
	struct agent *a = small_agent_with_maps();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	check_exposition(page);
	promtool_check(page);
	sb_free(&sb);
	agent_free(a);
}

/* No datapath yet (maps not open): families stay, counter samples go. */
static void test_render_without_maps(void **state)
{
	struct agent *a = small_agent();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	check_exposition(page);
	assert_int_equal(count_lines(page, "veer_service_packets_total{"), 0);
	assert_int_equal(count_lines(page, "veer_backend_packets_total{"), 0);
	assert_int_equal(count_lines(page, "veer_datapath_packets_total{"), 0);
	assert_int_equal(count_lines(page, "veer_backend_health{"), 25);
	expect_line(page, "# TYPE veer_service_packets_total counter");
	sb_free(&sb);
	agent_free(a);
}

static void test_render_empty_agent(void **state)
{
	struct agent *a = agent_new();
	struct strbuf sb;
	char *page = render(a, &sb);

	(void)state;
	check_exposition(page);
	promtool_check(page);
	expect_line(page, "veer_ready 0");
	sb_free(&sb);
	agent_free(a);
}

#define BIG_SVCS 1000
#define BIG_BES 100

static struct agent *big_agent(void)
{
	struct agent *a = agent_new();
	char name[32], ip[32];

	create_stat_maps(a);
	for (uint32_t s = 0; s < BIG_SVCS; s++) {
		struct agent_service *svc;

		snprintf(name, sizeof(name), "svc-%u", s);
		snprintf(ip, sizeof(ip), "10.%u.%u.1", 100 + s / 256, s % 256);
		svc = add_service(a, s, name, ip, 80, IPPROTO_TCP);
		svc->cfg.probe.type = PROBE_TCP;
		for (uint32_t b = 0; b < BIG_BES; b++) {
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", s / 256, s % 256, b + 1);
			add_backend(svc, s * BIG_BES + b, ip, 8080, b % 3);
		}
	}
	fill_counters(a->maps.be_stat, BIG_SVCS * BIG_BES - 1, 6);
	return a;
}

static void test_render_scale(void **state)
{
	struct agent *a = big_agent();
	uint64_t t0, us;
	struct strbuf sb;
	char *page;

	(void)state;
	t0 = loop_now_us();
	page = render(a, &sb);
	us = loop_now_us() - t0;
	print_message("rendered %d services x %d backends: %zu bytes in %llu ms\n", BIG_SVCS,
		      BIG_BES, sb.len, (unsigned long long)us / 1000);
	/* The time is reported, not asserted: speed belongs to tests/bench/
	 * (a 500 ms bound here read 408-504 ms on one 2-core VM). */
	assert_int_equal(count_lines(page, "veer_backend_health{"), BIG_SVCS * BIG_BES * 5);
	assert_int_equal(count_lines(page, "veer_backend_packets_total{"), BIG_SVCS * BIG_BES);
	assert_int_equal(count_lines(page, "veer_service_no_backend_total{"), BIG_SVCS);
	expect_line(page, "veer_backend_fail_signals_total{service=\"svc-999\","
		    "backend=\"10.3.231.100:8080\",tier=\"0\"} %llu",
		    (unsigned long long)val_sum(BIG_SVCS * BIG_BES - 1, 5));
	sb_free(&sb);
	agent_free(a);
}

/* ---- the HTTP server, fetched from a forked child ---- */

struct fetched {
	long status;
	char ctype[128];
	size_t len;		/* body bytes received */
	struct strbuf body;	/* kept when asked */
};

struct child_body {
	size_t len;
	bool keep;
	struct strbuf sb;
};

static size_t on_curl_body(char *p, size_t size, size_t n, void *arg)
{
	struct child_body *cb = arg;

	cb->len += size * n;
	if (cb->keep)
		sb_printf(&cb->sb, "%.*s", (int)(size * n), p);
	return size * n;
}

/* In the child: one request, then "STATUS LEN CONTENT-TYPE\n" and the body
 * (if kept) down the pipe. */
static void __attribute__((noreturn)) child_fetch(int out, const char *url, const char *method,
						   bool keep)
{
	struct child_body cb = { .keep = keep };
	CURL *c = curl_easy_init();
	char *ctype = NULL;
	long status = 0;
	FILE *f = fdopen(out, "w");

	if (!c || !f)
		_exit(1);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &cb);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (!strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	}
	fprintf(f, "%ld %zu %s\n", status, cb.len, ctype ? ctype : "-");
	fwrite(sb_str(&cb.sb), 1, cb.sb.len, f);
	fclose(f);
	_exit(0);
}

struct pipe_reader {
	struct strbuf sb;
	bool eof;
};

static void on_pipe(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pipe_reader *r = arg;
	char buf[65536];
	ssize_t n;

	(void)l, (void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_printf(&r->sb, "%.*s", (int)n, buf);
	if (n == 0 || (n < 0 && errno != EAGAIN))
		r->eof = true;
}

/* The parent keeps running the loop, which serves the request. */
static struct fetched fetch(const char *url, const char *method, bool keep)
{
	struct pipe_reader r = { 0 };
	struct fetched out = { 0 };
	uint64_t deadline = loop_now_us() + 60 * 1000000ull;
	const char *nl;
	int p[2], st;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_fetch(p[1], url, method, keep);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	assert_int_equal(loop_add_fd(fx.loop, p[0], EPOLLIN, on_pipe, &r), 0);
	while (!r.eof && loop_now_us() < deadline)
		loop_run_once(fx.loop, 20);
	loop_del_fd(fx.loop, p[0]);
	close(p[0]);
	if (!r.eof)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	assert_true(r.eof);
	assert_int_equal(sscanf(sb_str(&r.sb), "%ld %zu %127[^\n]", &out.status, &out.len,
				out.ctype), 3);
	nl = strchr(sb_str(&r.sb), '\n');
	sb_init(&out.body);
	sb_printf(&out.body, "%s", nl ? nl + 1 : "");
	sb_free(&r.sb);
	return out;
}

static void expect_fetch(uint16_t port, const char *host, const char *path, const char *method,
			 long status, const char *body)
{
	char url[128];
	struct fetched f;

	snprintf(url, sizeof(url), "http://%s:%u%s", host, port, path);
	f = fetch(url, method, true);
	if (f.status != status)
		fail_msg("%s %s: status %ld, want %ld", method, url, f.status, status);
	if (body)
		assert_string_equal(sb_str(&f.body), body);
	sb_free(&f.body);
}

static void test_http_endpoints(void **state)
{
	struct agent *a = small_agent_with_maps();
	char err[256], url[128];
	struct metrics *m = metrics_start(a, "127.0.0.1:0", err, sizeof(err));
	uint16_t port = metrics_port(m);
	struct fetched f;

	(void)state;
	assert_non_null(m);
	assert_true(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	f = fetch(url, "GET", true);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.ctype, "text/plain; version=0.0.4; charset=utf-8");
	expect_line(sb_str(&f.body), "veer_service_panic{" ODD "} 1");
	check_exposition(sb_str(&f.body));
	sb_free(&f.body);
	expect_fetch(port, "127.0.0.1", "/healthz", "GET", 200, "ok\n");
	expect_fetch(port, "127.0.0.1", "/readyz", "GET", 503, "not ready: starting\n");
	a->n_attached = 0;
	expect_fetch(port, "127.0.0.1", "/readyz", "GET", 503, "not ready: not attached\n");
	snprintf(a->last_error, sizeof(a->last_error), "veer.yaml:3: services[0].vip: bad");
	expect_fetch(port, "127.0.0.1", "/readyz", "GET", 503,
		     "not ready: veer.yaml:3: services[0].vip: bad\n");
	a->ready = true;
	expect_fetch(port, "127.0.0.1", "/readyz", "GET", 200, "ready\n");
	expect_fetch(port, "127.0.0.1", "/metrics", "HEAD", 200, "");
	expect_fetch(port, "127.0.0.1", "/metrics", "POST", 405, NULL);
	expect_fetch(port, "127.0.0.1", "/", "GET", 404, NULL);
	metrics_stop(m);
	agent_free(a);
}

static void test_http_ipv6(void **state)
{
	struct agent *a = small_agent();
	char err[256];
	struct metrics *m;
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	(void)state;
	if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof(lo))) {
		if (probe >= 0)
			close(probe);
		agent_free(a);
		skip();
	}
	close(probe);
	m = metrics_start(a, "[::1]:0", err, sizeof(err));
	if (!m)
		fail_msg("%s", err);
	expect_fetch(metrics_port(m), "[::1]", "/healthz", "GET", 200, "ok\n");
	metrics_stop(m);
	agent_free(a);
}

static void test_bad_listen(void **state)
{
	static const char *const bad[] = { "", "9470", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
					   "127.0.0.1:70000", "::1:9470", "[127.0.0.1]:9470",
					   "localhost:9470", "[::1:9470" };
	struct agent *a = agent_new();
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (metrics_start(a, bad[i], err, sizeof(err)))
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(err, "expected addr:port"));
	}
	agent_free(a);
}

static void test_port_in_use(void **state)
{
	struct agent *a = agent_new();
	char err[256], listen_on[32];
	struct metrics *m1 = metrics_start(a, "127.0.0.1:0", err, sizeof(err)), *m2;

	(void)state;
	assert_non_null(m1);
	snprintf(listen_on, sizeof(listen_on), "127.0.0.1:%u", metrics_port(m1));
	m2 = metrics_start(a, listen_on, err, sizeof(err));
	assert_null(m2);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	metrics_stop(m1);
	/* Stopped: the port is free again at once. */
	m2 = metrics_start(a, listen_on, err, sizeof(err));
	assert_non_null(m2);
	metrics_stop(m2);
	metrics_stop(NULL);
	agent_free(a);
}

/* A page of ~130 MB leaves through many partial writes: the loop must keep
 * MHD going (epoll fd and timer) until the last byte. */
static void test_http_big_page(void **state)
{
	struct agent *a = big_agent();
	char err[256], url[128];
	struct metrics *m = metrics_start(a, "127.0.0.1:0", err, sizeof(err));
	struct strbuf sb;
	struct fetched f;

	(void)state;
	assert_non_null(m);
	render(a, &sb);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", metrics_port(m));
	f = fetch(url, "GET", false);
	assert_int_equal(f.status, 200);
	assert_int_equal(f.len, sb.len);
	sb_free(&f.body);
	f = fetch(url, "GET", false);	/* and again, on a fresh connection */
	assert_int_equal(f.len, sb.len);
	sb_free(&f.body);
	sb_free(&sb);
	metrics_stop(m);
	agent_free(a);
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	fx.ncpu = libbpf_num_possible_cpus();
	fx.loop = loop_new();
	return fx.ncpu > 0 && fx.loop ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	loop_free(fx.loop);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_services),
		cmocka_unit_test(test_render_backends),
		cmocka_unit_test(test_render_reasons_and_agent),
		cmocka_unit_test(test_render_format),
		cmocka_unit_test(test_render_without_maps),
		cmocka_unit_test(test_render_empty_agent),
		cmocka_unit_test(test_render_scale),
		cmocka_unit_test(test_http_endpoints),
		cmocka_unit_test(test_http_ipv6),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_http_big_page),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
