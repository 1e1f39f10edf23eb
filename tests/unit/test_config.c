// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config loader tests. Files under configs/valid must load and survive a
 * write/load round trip unchanged; each file under configs/invalid starts
 * with "# expect: LINE: FIELD: message" and must fail with exactly
 * "PATH:LINE: FIELD: message..." (the message may go on). Each file is
 * its own cmocka test, run in one group with the tests written here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

#define MAX_FILE_TESTS 256
#define EXPECT_TAG "# expect: "

static char configs_dir[512];
static char err[1024];

/* ---- helpers ---- */

static struct veer_cfg *load_valid(const char *name)
{
	char path[1024];
	struct veer_cfg *cfg;

	snprintf(path, sizeof(path), "%s/valid/%s", configs_dir, name);
	cfg = cfg_load_file(path, err, sizeof(err));
	if (!cfg)
		fail_msg("%s: %s", path, err);
	return cfg;
}

static struct veer_cfg *load_text(const char *yaml)
{
	struct veer_cfg *cfg = cfg_load_string("inline.yaml", yaml, err, sizeof(err));

	if (!cfg)
		fail_msg("inline config: %s", err);
	return cfg;
}

static void expect_error(const char *yaml, const char *expected)
{
	struct veer_cfg *cfg = cfg_load_string("inline.yaml", yaml, err, sizeof(err));

	assert_null(cfg);
	if (strncmp(err, expected, strlen(expected)))
		fail_msg("got      \"%s\"\nexpected \"%s...\"", err, expected);
}

static void assert_addr(const struct veer_addr *a, uint8_t family, const char *text)
{
	char buf[64];

	assert_string_equal(cfg_format_addr(a, family, buf, sizeof(buf)), text);
}

/* Structs compared bytewise, minus what may differ between two loads of
 * the same config from different text: source lines and pointers. */
static void assert_same_config(const struct veer_cfg *a, const struct veer_cfg *b)
{
	assert_memory_equal(&a->node, &b->node, sizeof(a->node));
	assert_int_equal(a->n_services, b->n_services);
	for (size_t i = 0; i < a->n_services; i++) {
		struct cfg_service sa = a->services[i], sb = b->services[i];

		sa.line = sb.line = 0;
		sa.backends = sb.backends = NULL;
		assert_memory_equal(&sa, &sb, sizeof(sa));
		assert_int_equal(sa.n_backends, sb.n_backends);
		for (size_t j = 0; j < sa.n_backends; j++) {
			struct cfg_backend ba = a->services[i].backends[j];
			struct cfg_backend bb = b->services[i].backends[j];

			ba.line = bb.line = 0;
			assert_memory_equal(&ba, &bb, sizeof(ba));
		}
	}
}

/* ---- the example from the design ---- */

static void test_example_node(void **state)
{
	struct veer_cfg *cfg = load_valid("example.yaml");

	(void)state;
	assert_int_equal(cfg->node.n_interfaces, 2);
	assert_string_equal(cfg->node.interfaces[0], "eth0");
	assert_string_equal(cfg->node.interfaces[1], "lxc*");
	assert_int_equal(cfg->node.mode, CFG_MODE_XDP);
	assert_int_equal(cfg->n_services, 2);
	cfg_free(cfg);
}

static void test_example_web(void **state)
{
	struct veer_cfg *cfg = load_valid("example.yaml");
	const struct cfg_service *web = &cfg->services[0];

	(void)state;
	assert_string_equal(web->name, "web");
	assert_int_equal(web->family, VEER_AF_INET);
	assert_addr(&web->vip, web->family, "10.200.100.10");
	assert_int_equal(web->port, 80);
	assert_int_equal(web->proto, IPPROTO_TCP);
	assert_int_equal(web->maglev_size, VEER_MAGLEV_DEFAULT_M);
	assert_int_equal(web->probe.type, PROBE_HTTP);
	assert_int_equal(web->probe.port, 8080);
	assert_string_equal(web->probe.path, "/");
	assert_int_equal(web->probe.interval_ms, 200);
	assert_int_equal(web->probe.timeout_ms, 100);
	assert_int_equal(web->probe.rise, 2);
	assert_int_equal(web->probe.fall, 2);
	assert_int_equal(web->line, 5);
	assert_int_equal(web->n_backends, 3);
	assert_addr(&web->backends[0].addr, web->backends[0].family, "10.200.2.11");
	assert_int_equal(web->backends[0].port, 8080);
	assert_int_equal(web->backends[0].weight, 1);
	assert_int_equal(web->backends[1].weight, 2);
	assert_int_equal(web->backends[2].port, 80);
	assert_int_equal(web->backends[2].tier, 2);
	assert_int_equal(web->backends[2].line, 13);
	cfg_free(cfg);
}

static void test_example_dns(void **state)
{
	struct veer_cfg *cfg = load_valid("example.yaml");
	const struct cfg_service *dns = &cfg->services[1];

	(void)state;
	assert_string_equal(dns->name, "dns");
	assert_int_equal(dns->family, VEER_AF_INET6);
	assert_addr(&dns->vip, dns->family, "fd00:200::53");
	assert_int_equal(dns->port, 53);
	assert_int_equal(dns->proto, IPPROTO_UDP);
	assert_int_equal(dns->probe.type, PROBE_DNS);
	assert_int_equal(dns->probe.port, 0);	/* the backend's */
	assert_string_equal(dns->probe.query, "example.test");
	assert_false(dns->probe.dns_tcp);
	assert_int_equal(dns->n_backends, 1);
	assert_int_equal(dns->backends[0].family, VEER_AF_INET6);
	assert_addr(&dns->backends[0].addr, VEER_AF_INET6, "fd00:200:2::11");
	cfg_free(cfg);
}

/* ---- defaults ---- */

static void test_node_defaults(void **state)
{
	struct veer_cfg *cfg = load_valid("minimal.yaml");
	const struct cfg_node *n = &cfg->node;

	(void)state;
	assert_int_equal(n->mode, CFG_MODE_XDP);
	assert_int_equal(n->redirect, CFG_REDIRECT_AUTO);
	assert_string_equal(n->state_dir, "/sys/fs/bpf/veer");
	assert_string_equal(n->admin_socket, "/run/veer/veerd.sock");
	assert_string_equal(n->metrics_listen, "127.0.0.1:9470");
	assert_int_equal(n->hash_seed, 0x5eed);
	assert_int_equal(n->ct_size, VEER_CT_DEFAULT_SIZE);
	assert_int_equal(n->tcp_timeout_s, 7200);
	assert_int_equal(n->syn_timeout_s, 10);
	assert_int_equal(n->close_timeout_s, 10);
	assert_int_equal(n->udp_timeout_s, 60);
	assert_true(n->flow_cache);
	assert_false(n->has_snat4);
	assert_false(n->has_snat6);
	assert_int_equal(n->snat_port_lo, 32768);
	assert_int_equal(n->snat_port_hi, 60999);
	cfg_free(cfg);
}

static void test_service_defaults(void **state)
{
	struct veer_cfg *cfg = load_valid("minimal.yaml");
	const struct cfg_service *s = &cfg->services[0];
	const struct cfg_probe *p = &s->probe;

	(void)state;
	assert_int_equal(s->maglev_size, 16381);
	assert_int_equal(p->type, PROBE_TCP);	/* health checks unless told not to */
	assert_int_equal(p->port, 0);
	assert_string_equal(p->path, "/");
	assert_int_equal(p->status_min, 200);
	assert_int_equal(p->status_max, 399);
	assert_string_equal(p->query, ".");
	assert_int_equal(p->interval_ms, 1000);
	assert_int_equal(p->timeout_ms, 500);
	assert_int_equal(p->jitter_pct, 10);
	assert_true(p->insecure);
	assert_int_equal(s->outlier.consecutive, 3);
	assert_int_equal(s->outlier.base_ejection_ms, 1000);
	assert_int_equal(s->outlier.max_ejection_ms, 60000);
	assert_int_equal(s->outlier.max_ejected_pct, 50);
	assert_int_equal(s->failover.min_healthy_pct, 70);
	assert_int_equal(s->failover.failback_delay_ms, 1000);
	assert_int_equal(s->failover.panic, PANIC_USE_ALL);
	assert_int_equal(s->backends[0].weight, 1);
	assert_int_equal(s->backends[0].tier, 0);
	assert_int_equal(s->backends[0].nat, NAT_DNAT);
	assert_int_equal(s->backends[0].encap, ENCAP_NONE);
	assert_false(s->backends[0].drain);
	cfg_free(cfg);
}

static void test_every_key(void **state)
{
	struct veer_cfg *cfg = load_valid("full.yaml");
	const struct cfg_service *s = &cfg->services[0];

	(void)state;
	assert_int_equal(cfg->node.redirect, CFG_REDIRECT_NEVER);
	assert_string_equal(cfg->node.metrics_listen, "[::1]:9999");
	assert_int_equal(cfg->node.hash_seed, 4294967295u);
	assert_int_equal(cfg->node.tcp_timeout_s, 3600);
	assert_int_equal(cfg->node.udp_timeout_s, 120);
	assert_false(cfg->node.flow_cache);
	assert_true(cfg->node.has_snat4);
	assert_addr(&cfg->node.snat6, VEER_AF_INET6, "2001:db8::200");
	assert_int_equal(cfg->node.snat_port_lo, 20000);
	assert_int_equal(cfg->node.snat_port_hi, 29999);
	assert_string_equal(s->name, "shop.front_v2");
	assert_int_equal(s->probe.status_min, 204);
	assert_int_equal(s->probe.status_max, 204);
	assert_int_equal(s->probe.interval_ms, 1500);
	assert_int_equal(s->probe.jitter_pct, 25);
	assert_false(s->probe.insecure);
	assert_int_equal(s->outlier.max_ejection_ms, 300000);
	assert_int_equal(s->failover.failback_delay_ms, 0);
	assert_int_equal(s->failover.panic, PANIC_REFUSE);
	assert_int_equal(s->backends[0].nat, NAT_FULL);
	assert_int_equal(s->backends[0].encap, ENCAP_IPIP);
	assert_true(s->backends[0].drain);
	assert_true(cfg->services[1].probe.dns_tcp);
	cfg_free(cfg);
}

static void test_probe_none_and_spellings(void **state)
{
	struct veer_cfg *cfg = load_valid("udp_full_nat.yaml");

	(void)state;
	assert_int_equal(cfg->services[0].probe.type, PROBE_NONE);
	assert_int_equal(cfg->services[0].backends[1].nat, NAT_FULL);
	cfg_free(cfg);
	cfg = load_valid("anchors_and_spellings.yaml");
	assert_string_equal(cfg->node.metrics_listen, "");
	assert_int_equal(cfg->node.hash_seed, 0);
	assert_int_equal(cfg->node.tcp_timeout_s, 7200);
	assert_int_equal(cfg->services[0].port, 80);
	assert_int_equal(cfg->services[1].probe.interval_ms, 3600000);
	assert_int_equal(cfg->services[1].probe.status_max, 299);
	assert_true(cfg->services[0].backends[0].drain);
	assert_int_equal(cfg->services[0].failover.min_healthy_pct, 100);
	cfg_free(cfg);
}

/* An alias reads as its anchored node, lines included. */
static void test_aliases(void **state)
{
	struct veer_cfg *cfg = load_valid("aliases.yaml");
	const struct cfg_service *a = &cfg->services[0], *b = &cfg->services[1];
	const struct cfg_service *c = &cfg->services[2];

	(void)state;
	assert_int_equal(cfg->node.n_interfaces, 2);
	assert_int_equal(cfg->node.mode, CFG_MODE_TC);
	assert_int_equal(b->port, 80);
	assert_int_equal(b->probe.type, PROBE_HTTP);
	assert_int_equal(b->probe.interval_ms, 2000);
	assert_int_equal(b->n_backends, 2);
	assert_memory_equal(a->backends, b->backends, 2 * sizeof(*a->backends));
	assert_int_equal(b->backends[0].line, 12);
	assert_int_equal(b->backends[1].weight, 3);
	assert_int_equal(c->backends[0].port, 80);
	assert_int_equal(c->backends[0].line, 12);
	assert_int_equal(c->backends[1].line, 24);
	cfg_free(cfg);
}

/* Strings with quotes, backslashes and control characters survive. */
static void test_emit_escapes(void **state)
{
	struct veer_cfg *cfg = load_text(
		"node: {interfaces: [\"no\", \"*\"], metrics: \"127.0.0.1:1\"}\n"
		"services:\n"
		"  - name: x\n    vip: 10.0.0.1\n    port: 1\n    protocol: tcp\n"
		"    probe: {type: http, body: \"a\\\"b\\\\c\\td\", host: \"h\u00e9\"}\n"
		"    backends: [{address: 10.0.0.2, port: 1}]\n");
	struct veer_cfg *again;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_string_equal(cfg->services[0].probe.body, "a\"b\\c\td");
	cfg_write_yaml(cfg, f);
	fclose(f);
	again = cfg_load_string("emitted.yaml", text, err, sizeof(err));
	if (!again)
		fail_msg("emitted YAML does not load: %s\n%s", err, text);
	assert_same_config(cfg, again);
	free(text);
	cfg_free(again);
	cfg_free(cfg);
}

/* ---- scalar helpers ---- */

static void test_durations(void **state)
{
	static const struct { const char *text; int rc; uint64_t ms; } cases[] = {
		{ "200ms", 0, 200 }, { "1s", 0, 1000 }, { "1.5s", 0, 1500 }, { "2m", 0, 120000 },
		{ "1h", 0, 3600000 }, { "750", 0, 750 }, { "0", 0, 0 }, { "0.25s", 0, 250 },
		{ "1.5m", 0, 90000 }, { "5parsecs", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 }, { "1.5", -EINVAL, 0 }, { "1.5ms", -EINVAL, 0 },
		{ "1.0001s", -EINVAL, 0 }, { "-1s", -EINVAL, 0 }, { "1 s", -EINVAL, 0 },
		{ "1.s", -EINVAL, 0 }, { "99999999999999999999h", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 12345;
		int rc = cfg_parse_duration_ms(cases[i].text, &ms);

		if (rc != cases[i].rc || (!rc && ms != cases[i].ms))
			fail_msg("'%s': rc %d ms %llu", cases[i].text, rc, (unsigned long long)ms);
	}
}

static void test_addresses(void **state)
{
	struct veer_addr a;
	uint8_t family = 0;
	char buf[64];

	(void)state;
	assert_int_equal(cfg_parse_addr("10.1.2.3", &a, &family), 0);
	assert_int_equal(family, VEER_AF_INET);
	assert_int_equal(a.b[0], 10);	/* network order */
	assert_int_equal(a.b[3], 3);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.b[i], 0);
	assert_string_equal(cfg_format_addr(&a, family, buf, sizeof(buf)), "10.1.2.3");
	assert_int_equal(cfg_parse_addr("2001:db8::1", &a, &family), 0);
	assert_int_equal(family, VEER_AF_INET6);
	assert_int_equal(a.b[0], 0x20);
	assert_int_equal(a.b[15], 1);
	assert_string_equal(cfg_format_addr(&a, family, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(cfg_parse_addr("10.1.2", &a, &family), -EINVAL);
	assert_int_equal(cfg_parse_addr("fe80::1%eth0", &a, &family), -EINVAL);
}

/* ---- errors that are not about a file's content ---- */

static void test_missing_file(void **state)
{
	(void)state;
	assert_null(cfg_load_file("/nonexistent/veer.yaml", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/veer.yaml: cannot read: No such file or directory");
}

static void test_directory_as_file(void **state)
{
	char expected[600];

	(void)state;
	assert_null(cfg_load_file(configs_dir, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "%s: cannot read: Is a directory", configs_dir);
	assert_string_equal(err, expected);
}

static void test_empty_file(void **state)
{
	(void)state;
	assert_null(cfg_load_file("/dev/null", err, sizeof(err)));
	assert_string_equal(err, "/dev/null:1: document: "
			    "no YAML document: the file is empty or only comments");
	expect_error("", "inline.yaml:1: document: no YAML document");
}

static void test_inline_errors(void **state)
{
	char small[16];

	(void)state;
	expect_error("node: {interfaces: [eth0]}\nservices: {}\n",
		     "inline.yaml:2: services: expected a list, got a mapping");
	expect_error("node: {interfaces: [eth0]}\n? [a, b]\n: c\n",
		     "inline.yaml:2: document: keys must be words, got a list");
	expect_error("node: {interfaces: [eth0]}\nnode: {interfaces: [eth1]}\n",
		     "inline.yaml:2: node: duplicate key (first at line 1)");
	expect_error("node:\n  interfaces: [eth0]\n\tmode: tc\n",
		     "inline.yaml:3: yaml: found character that cannot start any token");
	/* An error message never overflows the caller's buffer. */
	assert_null(cfg_load_string("inline.yaml", "node: 1\n", small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(cfg_load_string("inline.yaml", "node: 1\n", NULL, 0));
}

/* ---- per-file cases ---- */

/* Write, reload, compare: the emitted YAML is itself a valid config. */
static void run_valid_file(void **state)
{
	const char *name = *state;
	struct veer_cfg *cfg = load_valid(name), *again;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cfg_write_yaml(cfg, f);
	fclose(f);
	again = cfg_load_string("emitted.yaml", text, err, sizeof(err));
	if (!again)
		fail_msg("%s: emitted YAML does not load: %s\n%s", name, err, text);
	assert_same_config(cfg, again);
	free(text);
	cfg_free(again);
	cfg_free(cfg);
}

static void run_invalid_file(void **state)
{
	const char *name = *state;
	char path[1024], header[512], expected[1600];
	struct veer_cfg *cfg;
	FILE *f;

	snprintf(path, sizeof(path), "%s/invalid/%s", configs_dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	if (!fgets(header, sizeof(header), f) || strncmp(header, EXPECT_TAG, strlen(EXPECT_TAG)))
		fail_msg("%s: first line must be \"" EXPECT_TAG "LINE: FIELD: message\"", path);
	fclose(f);
	header[strcspn(header, "\n")] = '\0';
	snprintf(expected, sizeof(expected), "%s:%s", path, header + strlen(EXPECT_TAG));
	cfg = cfg_load_file(path, err, sizeof(err));
	if (cfg) {
		cfg_free(cfg);
		fail_msg("%s loaded, expected \"%s\"", path, expected);
	}
	if (strncmp(err, expected, strlen(expected)))
		fail_msg("got      \"%s\"\nexpected \"%s...\"", err, expected);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.yaml names under configs/<sub>; NULL-terminated. */
static char **list_yaml(const char *sub, size_t *count)
{
	char dirpath[600], **names = calloc(MAX_FILE_TESTS + 1, sizeof(*names));
	struct dirent *de;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "%s/%s", configs_dir, sub);
	d = opendir(dirpath);
	*count = 0;
	if (!d || !names) {
		fprintf(stderr, "cannot list %s: %s\n", dirpath, strerror(errno));
		exit(1);
	}
	while ((de = readdir(d)) && *count < MAX_FILE_TESTS) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".yaml"))
			names[(*count)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, *count, sizeof(*names), by_name);
	return names;
}

/* Data lives next to this source; found from the working directory
 * (make runs from the top) or from the binary in build/tests/. */
static void find_configs_dir(void)
{
	const char *env = getenv("VEER_TEST_CONFIGS");
	char exe[400];
	ssize_t n;

	if (env) {
		snprintf(configs_dir, sizeof(configs_dir), "%s", env);
		return;
	}
	snprintf(configs_dir, sizeof(configs_dir), "tests/unit/configs");
	if (access(configs_dir, R_OK) == 0)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = '\0';
	snprintf(configs_dir, sizeof(configs_dir), "%s/../../tests/unit/configs", exe);
}

static void add_file_tests(struct CMUnitTest *tests, size_t *n, const char *sub,
			   void (*fn)(void **))
{
	size_t count;
	char **names = list_yaml(sub, &count);

	for (size_t i = 0; i < count; i++) {
		char *label = malloc(strlen(sub) + strlen(names[i]) + 2);

		sprintf(label, "%s/%s", sub, names[i]);
		tests[(*n)++] = (struct CMUnitTest){ .name = label, .test_func = fn,
						     .initial_state = names[i] };
	}
	free(names);	/* the names stay: they are the tests' state */
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_example_node),
		cmocka_unit_test(test_example_web),
		cmocka_unit_test(test_example_dns),
		cmocka_unit_test(test_node_defaults),
		cmocka_unit_test(test_service_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_probe_none_and_spellings),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_emit_escapes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory_as_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_inline_errors),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n = nfixed;
	struct CMUnitTest *tests = calloc(nfixed + 2 * MAX_FILE_TESTS, sizeof(*tests));
	int failed;

	find_configs_dir();
	memcpy(tests, fixed, sizeof(fixed));
	add_file_tests(tests, &n, "valid", run_valid_file);
	add_file_tests(tests, &n, "invalid", run_invalid_file);
	failed = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	for (size_t i = nfixed; i < n; i++) {
		free((void *)tests[i].name);
		free(tests[i].initial_state);
	}
	free(tests);
	return failed;
}
