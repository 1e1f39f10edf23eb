// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl stats: node-wide counters, and every pass/drop reason by name. */
#include <stdint.h>
#include <string.h>
#include "maps.h"
#include "names.h"
#include "output.h"
#include "snapshot.h"
#include "veerctl.h"

static const char stats_help[] =
	"Usage: veerctl stats\n"
	"\n"
	"Counters summed over the services and backends configured now, and the\n"
	"datapath's count of every verdict reason (forwarded, passed, dropped).\n";

static void out_services(const struct snapshot *s)
{
	struct veer_svc_stats sum = { 0 };

	for (size_t i = 0; i < s->n_svcs; i++) {
		const struct veer_svc_stats *st = &s->svcs[i].stats;

		sum.packets += st->packets;
		sum.bytes += st->bytes;
		sum.new_flows += st->new_flows;
		sum.repicks += st->repicks;
		sum.refused += st->refused;
		sum.no_backend += st->no_backend;
	}
	out_obj_begin("services");
	out_u64("count", s->n_svcs);
	out_u64("packets", sum.packets);
	out_u64("bytes", sum.bytes);
	out_u64("new_flows", sum.new_flows);
	out_u64("repicks", sum.repicks);
	out_u64("refused", sum.refused);
	out_u64("no_backend", sum.no_backend);
	out_obj_end();
}

static void out_backends(const struct snapshot *s)
{
	uint64_t by_state[VEER_BE_DOWN + 1] = { 0 };
	struct veer_be_stats sum = { 0 };

	for (size_t i = 0; i < s->n_bes; i++) {
		const struct veer_be_stats *st = &s->bes[i].stats;

		if (s->bes[i].be.state <= VEER_BE_DOWN)
			by_state[s->bes[i].be.state]++;
		sum.packets += st->packets;
		sum.bytes += st->bytes;
		sum.new_flows += st->new_flows;
		sum.reply_packets += st->reply_packets;
		sum.reply_bytes += st->reply_bytes;
		sum.fail_signals += st->fail_signals;
	}
	out_obj_begin("backends");
	out_u64("count", s->n_bes);
	for (int st = VEER_BE_ACTIVE; st <= VEER_BE_DOWN; st++)
		out_u64(be_state_name(st), by_state[st]);
	out_u64("packets", sum.packets);
	out_u64("bytes", sum.bytes);
	out_u64("new_flows", sum.new_flows);
	out_u64("reply_packets", sum.reply_packets);
	out_u64("reply_bytes", sum.reply_bytes);
	out_u64("fail_signals", sum.fail_signals);
	out_obj_end();
}

/* Read every reason first, so a failure leaves no half-printed object. */
static int read_reasons(int fd, uint64_t *counts)
{
	for (uint32_t r = 0; r < VEER_R__COUNT; r++)
		if (vmap_lookup_sum(fd, &r, sizeof(uint64_t), &counts[r]))
			return EXIT_ERR;
	return EXIT_OK;
}

static int stats_show(struct ctl *ctl, int argc, char **argv)
{
	uint64_t reasons[VEER_R__COUNT];
	struct snapshot s;
	int fd;

	(void)argv;
	if (argc > 1)
		return usage_error("stats takes no arguments");
	fd = vmap_fd(ctl->state_dir, VMAP_DROPS);
	if (fd < 0 || snap_load(ctl->state_dir, &s, SNAP_BACKENDS | SNAP_STATS))
		return EXIT_ERR;
	if (read_reasons(fd, reasons)) {
		out_error("cannot read %s", vmap_name(VMAP_DROPS));
		snap_free(&s);
		return EXIT_ERR;
	}
	out_obj_begin(NULL);
	out_services(&s);
	out_backends(&s);
	out_obj_begin("reasons");
	for (uint32_t r = 0; r < VEER_R__COUNT; r++)
		out_u64(reason_name(r), reasons[r]);
	out_obj_end();
	out_obj_end();
	snap_free(&s);
	return EXIT_OK;
}

static int stats_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(stats_help);
}

static const struct cmd stats_cmds[] = {
	{ "show", stats_show },
	{ "help", stats_help_cmd },
	{ NULL, NULL },
};

int do_stats(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "stats", stats_cmds, argc - 1, argv + 1);
}
