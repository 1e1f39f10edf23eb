/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veerctl's shared pieces: the global options every command sees, and the
 * command tables each object is built from (unique prefixes accepted, the
 * first entry runs when no command is given).
 */
#ifndef VEERCTL_H
#define VEERCTL_H

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

struct ctl {
	const char *state_dir;		/* where veerd pins its maps */
	const char *socket_path;	/* veerd's admin socket */
};

/* argv[0] is the command's own name, so getopt_long works on it as is. */
typedef int (*cmd_fn)(struct ctl *ctl, int argc, char **argv);

struct cmd {
	const char *name;
	cmd_fn fn;
};

/* Find argv[0] in table (exact name or unique prefix) and run it; with no
 * argv[0], or an option there, run table[0] with argv untouched.
 * Returns the command's exit code, or EXIT_USAGE. */
int cmd_dispatch(struct ctl *ctl, const char *object, const struct cmd *table,
		 int argc, char **argv);

/* Print a usage error (JSON when asked) and return EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print help text: as is, or as {"help":"..."} in JSON modes. */
int print_help(const char *text);

/* Per-command options: parse argv with getopt_long, reporting unknown or
 * incomplete options as usage errors. Returns the option, -1 at the end,
 * or '?' after printing the error. */
struct option;
int cmd_getopt(int argc, char **argv, const struct option *longopts);

/* Parse a non-negative decimal count; -1 if it is not one. */
long long parse_count(const char *s);

/* One entry point per object. */
int do_service(struct ctl *ctl, int argc, char **argv);
int do_backend(struct ctl *ctl, int argc, char **argv);
int do_flow(struct ctl *ctl, int argc, char **argv);
int do_stats(struct ctl *ctl, int argc, char **argv);
int do_maglev(struct ctl *ctl, int argc, char **argv);
int do_events(struct ctl *ctl, int argc, char **argv);
int do_config(struct ctl *ctl, int argc, char **argv);

#endif
