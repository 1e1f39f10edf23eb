// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl config: the configuration veerd runs with, and a local check of
 * a file before it is installed. */
#include <stdio.h>
#include <string.h>
#include "admin_client.h"
#include "config.h"
#include "output.h"
#include "veerctl.h"

static const char config_help[] =
	"Usage: veerctl config show\n"
	"       veerctl config check FILE\n"
	"\n"
	"show:  the configuration in force, as veerd applied it (YAML).\n"
	"check: validate FILE here, as veerd would, without veerd; prints\n"
	"       \"FILE: ok\" or the first error, exit status 1 on error.\n";

static int config_show(struct ctl *ctl, int argc, char **argv)
{
	const char *file, *yaml;
	struct jobj reply;

	(void)argv;
	if (argc > 1)
		return usage_error("config show takes no arguments");
	if (admin_call(ctl->socket_path, "config", &reply))
		return EXIT_ERR;
	file = jobj_str(&reply, "file");
	yaml = jobj_str(&reply, "yaml");
	if (out_is_json()) {
		out_obj_begin(NULL);
		out_str("file", file);
		out_str("yaml", yaml);
		out_obj_end();
	} else {
		if (file)
			printf("# in force, loaded from %s\n", file);
		fputs(yaml ? yaml : "", stdout);
		if (yaml && *yaml && yaml[strlen(yaml) - 1] != '\n')
			putchar('\n');
	}
	jobj_free(&reply);
	return EXIT_OK;
}

static size_t count_backends(const struct veer_cfg *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_services; i++)
		n += cfg->services[i].n_backends;
	return n;
}

static int config_check(struct ctl *ctl, int argc, char **argv)
{
	struct veer_cfg *cfg;
	char err[1024] = "";

	(void)ctl;
	if (argc != 2)
		return usage_error("usage: veerctl config check FILE");
	cfg = cfg_load_file(argv[1], err, sizeof(err));
	if (!cfg) {
		out_error("%s", err[0] ? err : "invalid configuration");
		return EXIT_ERR;
	}
	if (out_is_json()) {
		out_obj_begin(NULL);
		out_str("file", argv[1]);
		out_bool("ok", true);
		out_u64("services", cfg->n_services);
		out_u64("backends", count_backends(cfg));
		out_obj_end();
	} else {
		printf("%s: ok\n", argv[1]);
	}
	cfg_free(cfg);
	return EXIT_OK;
}

static int config_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(config_help);
}

static const struct cmd config_cmds[] = {
	{ "show", config_show },
	{ "check", config_check },
	{ "help", config_help_cmd },
	{ NULL, NULL },
};

int do_config(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "config", config_cmds, argc - 1, argv + 1);
}
