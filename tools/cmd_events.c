// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl events: follow veerd's event stream (datapath and health events)
 * until interrupted, or for --count events. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "admin_client.h"
#include "output.h"
#include "veerctl.h"

static const char events_help[] =
	"Usage: veerctl events [--count N]\n"
	"\n"
	"Print veerd's events as they happen: one line each with time, type,\n"
	"service, backend and details; with -j the JSON lines as veerd sends them.\n"
	"Runs until interrupted, or until N events were printed.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* No SA_RESTART: a blocked read returns EINTR and the loop ends cleanly. */
static void catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static bool is_headline(const char *key)
{
	return !strcmp(key, "ts") || !strcmp(key, "type") || !strcmp(key, "service") ||
	       !strcmp(key, "backend");
}

static const char *field_or_dash(const struct jobj *ev, const char *key)
{
	const char *v = jobj_str(ev, key);

	return v && *v ? v : "-";
}

/* time  type  service  backend  key=value ... */
static void print_human(const struct jobj *ev)
{
	printf("%-24s  %-14s  %-16s  %-22s", field_or_dash(ev, "ts"), field_or_dash(ev, "type"),
	       field_or_dash(ev, "service"), field_or_dash(ev, "backend"));
	for (size_t i = 0; i < ev->n; i++) {
		const struct jfield *f = &ev->fields[i];

		if (!is_headline(f->key))
			printf("  %s=%s", f->key, f->str ? f->str : f->raw);
	}
	putchar('\n');
}

static void print_pretty(const struct jobj *ev)
{
	out_obj_begin(NULL);
	for (size_t i = 0; i < ev->n; i++) {
		if (ev->fields[i].str)
			out_str(ev->fields[i].key, ev->fields[i].str);
		else
			out_json_raw(ev->fields[i].key, ev->fields[i].raw);
	}
	out_obj_end();
}

static void print_event(const char *line, enum out_format format)
{
	struct jobj ev;

	if (format == OUT_JSON || jobj_parse(line, &ev)) {
		puts(line);	/* as veerd wrote it, or unreadable: show as is */
	} else {
		if (format == OUT_JSON_PRETTY)
			print_pretty(&ev);
		else
			print_human(&ev);
		jobj_free(&ev);
	}
	fflush(stdout);		/* a pipe reader sees each event as it happens */
}

static int follow(struct admin_conn *c, long long count, enum out_format format)
{
	long long seen = 0;
	char *line;

	while ((count < 0 || seen < count) && !interrupted) {
		int n = admin_read_line(c, &line);

		if (n == -EINTR)
			continue;	/* ends the loop if it was ours */
		if (n < 0) {
			out_error("reading events from veerd: %s", strerror(-n));
			return EXIT_ERR;
		}
		if (n == 0) {
			out_error("veerd closed the event stream");
			return EXIT_ERR;
		}
		if (!*line)
			continue;
		print_event(line, format);
		seen++;
	}
	return EXIT_OK;
}

static int parse_count_option(int argc, char **argv, long long *count)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt(argc, argv, opts)) != -1) {
		if (c != 'c')
			return EXIT_USAGE;
		*count = parse_count(optarg);
		if (*count < 0)
			return usage_error("--count takes a number of events");
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (see 'veerctl events help')",
				   argv[optind]);
	return EXIT_OK;
}

static int events_watch(struct ctl *ctl, int argc, char **argv)
{
	enum out_format format = out_get_format();
	struct admin_conn c;
	struct jobj ok;
	long long count = -1;
	int rc = parse_count_option(argc, argv, &count);

	if (rc)
		return rc;
	catch_interrupts();
	if (admin_open(&c, ctl->socket_path, "events", 0))
		return EXIT_ERR;
	if (admin_read_reply(&c, &ok)) {
		admin_close(&c);
		return interrupted ? EXIT_OK : EXIT_ERR;
	}
	jobj_free(&ok);
	rc = follow(&c, count, format);
	admin_close(&c);
	return rc;
}

static int events_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(events_help);
}

static const struct cmd events_cmds[] = {
	{ "watch", events_watch },
	{ "help", events_help_cmd },
	{ NULL, NULL },
};

int do_events(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "events", events_cmds, argc - 1, argv + 1);
}
