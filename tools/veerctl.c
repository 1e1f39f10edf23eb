// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * veerctl: the operator's view of veer. Reads the pinned maps directly (so
 * it works while veerd is down) and asks veerd over its admin socket for
 * what only veerd knows or may change.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "veer_abi.h"
#include "veer_admin.h"
#include "maps.h"
#include "output.h"
#include "veerctl.h"

static const char usage_text[] =
	"Usage: veerctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	"       veerctl OBJECT help\n"
	"\n"
	"Objects and commands (unique prefixes are enough):\n"
	"  service  list | show NAME\n"
	"  backend  list [SERVICE] | drain SERVICE ADDR[:PORT] | undrain SERVICE ADDR[:PORT]\n"
	"  flow     list [--service S] [--backend ADDR[:PORT]] [--limit N]\n"
	"           count | flush --backend ADDR[:PORT] [--service S]\n"
	"  stats\n"
	"  maglev   show SERVICE\n"
	"  events   [--count N]\n"
	"  config   show | check FILE\n"
	"\n"
	"Options:\n"
	"  -j, --json             JSON output, one document per command\n"
	"  -p, --pretty           indented JSON output\n"
	"      --state-dir DIR    veerd's pinned maps (default " VEER_STATE_DEFAULT_DIR ")\n"
	"      --socket PATH      veerd's admin socket (default " VEER_ADMIN_DEFAULT_PATH ")\n"
	"  -h, --help             this text\n"
	"  -V, --version          version and ABI\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage error.\n";

static int do_help(struct ctl *ctl, int argc, char **argv);

static const struct cmd objects[] = {
	{ "service", do_service },
	{ "backend", do_backend },
	{ "flow", do_flow },
	{ "stats", do_stats },
	{ "maglev", do_maglev },
	{ "events", do_events },
	{ "config", do_config },
	{ "help", do_help },
	{ NULL, NULL },
};

int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_error("%s", msg);
	return EXIT_USAGE;
}

int print_help(const char *text)
{
	if (out_is_json()) {
		out_obj_begin(NULL);
		out_str("help", text);
		out_obj_end();
	} else {
		fputs(text, stdout);
	}
	return EXIT_OK;
}

/* Exact name, else the one name word is a prefix of; NULL (with the
 * usage error printed) when none or several match. object: NULL when
 * looking up an object, else the object whose command this is. */
static const struct cmd *cmd_find(const struct cmd *table, const char *word,
				  const char *object)
{
	const struct cmd *found = NULL;
	char names[256] = "";
	int matches = 0;

	for (const struct cmd *c = table; c->name; c++) {
		if (!strcmp(c->name, word))
			return c;
		if (strncmp(c->name, word, strlen(word)))
			continue;
		found = c;
		matches++;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 matches > 1 ? ", " : "", c->name);
	}
	if (matches == 1)
		return found;
	if (matches > 1)
		usage_error("ambiguous %s%s '%s': %s", object ? object : "object",
			    object ? " command" : "", word, names);
	else
		usage_error("unknown %s%s '%s' (try 'veerctl %s%shelp')",
			    object ? object : "object", object ? " command" : "", word,
			    object ? object : "", object ? " " : "");
	return NULL;
}

static int run(struct ctl *ctl, const struct cmd *c, int argc, char **argv)
{
	optind = 0;	/* each command parses its own options afresh */
	return c->fn(ctl, argc, argv);
}

int cmd_dispatch(struct ctl *ctl, const char *object, const struct cmd *table,
		 int argc, char **argv)
{
	const struct cmd *c;

	if (argc == 0 || argv[0][0] == '-') {
		char **args = calloc(argc + 2, sizeof(*args));
		int rc;

		if (!args)
			return EXIT_ERR;
		args[0] = (char *)table[0].name;
		memcpy(args + 1, argv, argc * sizeof(*args));
		rc = run(ctl, &table[0], argc + 1, args);
		free(args);
		return rc;
	}
	c = cmd_find(table, argv[0], object);
	return c ? run(ctl, c, argc, argv) : EXIT_USAGE;
}

int cmd_getopt(int argc, char **argv, const struct option *longopts)
{
	int c;

	opterr = 0;	/* reported below, in JSON when asked */
	c = getopt_long(argc, argv, "", longopts, NULL);
	if (c == '?' || c == ':')
		usage_error("unknown option or missing value: %s", argv[optind - 1]);
	return c == ':' ? '?' : c;
}

long long parse_count(const char *s)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	return *end ? -1 : v;
}

static int do_help(struct ctl *ctl, int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2)
		return print_help(usage_text);
	c = cmd_find(objects, argv[1], NULL);
	if (!c)
		return EXIT_USAGE;
	if (c->fn == do_help)
		return print_help(usage_text);
	char *args[] = { argv[1], "help", NULL };

	return run(ctl, c, 2, args);
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value, or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len))
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Global options are taken from anywhere on the line, as bpftool does,
 * so "veerctl service list -j --state-dir D" works too. */
static int take_global_options(int *argc, char **argv, struct ctl *ctl)
{
	bool json = false, pretty = false;
	const char *v;
	int out = 1, in;

	for (in = 1; in < *argc && strcmp(argv[in], "--"); in++) {
		const char *a = argv[in];

		if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
			pretty = true;
		else if ((v = option_value(*argc, argv, &in, "--state-dir")))
			ctl->state_dir = v;
		else if ((v = option_value(*argc, argv, &in, "--socket")))
			ctl->socket_path = v;
		else if (!strcmp(a, "--state-dir") || !strcmp(a, "--socket"))
			return usage_error("%s needs a value", a);
		else
			argv[out++] = argv[in];
	}
	while (in < *argc)
		argv[out++] = argv[in++];
	out_set_format(pretty ? OUT_JSON_PRETTY : json ? OUT_JSON : OUT_TEXT);
	*argc = out;
	argv[out] = NULL;
	return EXIT_OK;
}

static int parse_global(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h': exit(print_help(usage_text));
		case 'V':
			printf("veerctl (veer ABI v%d)\n", VEER_ABI_VERSION);
			exit(EXIT_OK);
		default:
			return usage_error("unknown option %s (try 'veerctl help')",
					   argv[optind - 1]);
		}
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {
		.state_dir = VEER_STATE_DEFAULT_DIR,
		.socket_path = VEER_ADMIN_DEFAULT_PATH,
	};
	const struct cmd *obj;
	int rc;

	rc = take_global_options(&argc, argv, &ctl);
	if (!rc)
		rc = parse_global(argc, argv);
	if (rc)
		return rc;
	if (optind >= argc) {
		if (!out_is_json())
			fputs(usage_text, stderr);
		return usage_error("no object given");
	}
	obj = cmd_find(objects, argv[optind], NULL);
	rc = obj ? run(&ctl, obj, argc - optind, argv + optind) : EXIT_USAGE;
	vmap_close_all();
	if (fflush(stdout) || ferror(stdout))
		rc = rc ? rc : EXIT_ERR;
	return rc;
}
