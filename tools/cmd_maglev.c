// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* veerctl maglev: how a service's installed lookup table shares its slots
 * out, against the share its backends' weights ask for. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "format.h"
#include "maps.h"
#include "names.h"
#include "output.h"
#include "snapshot.h"
#include "veerctl.h"

static const char maglev_help[] =
	"Usage: veerctl maglev show SERVICE\n"
	"\n"
	"The service's Maglev table as installed in the datapath: slots held by\n"
	"each backend, their share of the table, and the share the backends'\n"
	"weights ask for (among the backends in the table).\n";

static const char *const headers[] = {
	"BACKEND", "TIER", "WEIGHT", "STATE", "SLOTS", "SHARE", "WEIGHT_SHARE", NULL,
};

struct slot_count {
	uint32_t backend_id;
	uint32_t slots;
};

struct table_read {
	uint32_t *slots;
	uint32_t size;
};

static int read_slot(const void *key, const void *value, void *arg)
{
	struct table_read *t = arg;
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	if (i < t->size)
		memcpy(&t->slots[i], value, sizeof(uint32_t));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Slots per backend id (VEER_BACKEND_NONE counts the empty ones), sorted. */
static size_t count_slots(uint32_t *slots, uint32_t size, struct slot_count *out)
{
	size_t n = 0;

	qsort(slots, size, sizeof(*slots), cmp_u32);
	for (uint32_t i = 0; i < size; i++) {
		if (!n || out[n - 1].backend_id != slots[i])
			out[n++] = (struct slot_count){ slots[i], 0 };
		out[n - 1].slots++;
	}
	return n;
}

/* The installed table of svc as slot counts; prints why on failure. */
static int read_table(const char *dir, const struct svc_view *svc, struct slot_count **counts,
		      size_t *n, uint32_t *size)
{
	/* Two tables per service: the one the service entry's flag selects. */
	uint32_t slot = VEER_MAGLEV_SLOT(svc->id, svc->svc.flags);
	struct table_read t = { 0 };
	uint32_t inner_id, max_entries;
	int outer = vmap_fd(dir, VMAP_MAGLEV), fd, err;

	if (outer < 0)
		return outer;
	if (bpf_map_lookup_elem(outer, &slot, &inner_id)) {
		out_error("service %s has no Maglev table installed", svc->name);
		return -ENOENT;
	}
	fd = vmap_inner_fd(inner_id, &max_entries);
	if (fd < 0) {
		out_error("cannot open the Maglev table of %s: %s", svc->name, strerror(-fd));
		return fd;
	}
	t.size = svc->svc.table_size && svc->svc.table_size <= max_entries ?
		 svc->svc.table_size : max_entries;
	t.slots = calloc(t.size + 1, sizeof(uint32_t));
	*counts = calloc(t.size + 1, sizeof(**counts));
	err = t.slots && *counts ? vmap_walk(fd, 4, 4, read_slot, &t) : -ENOMEM;
	close(fd);
	if (!err)
		*n = count_slots(t.slots, t.size, *counts);
	else
		out_error("cannot read the Maglev table of %s: %s", svc->name, strerror(-err));
	*size = t.size;
	free(t.slots);
	return err;
}

/* counts is sorted by backend_id, its first member: cmp_u32 serves. */
static uint32_t slots_of(const struct slot_count *c, size_t n, uint32_t id)
{
	struct slot_count key = { id, 0 };
	const struct slot_count *hit = bsearch(&key, c, n, sizeof(*c), cmp_u32);

	return hit ? hit->slots : 0;
}

static void out_share_row(const struct be_view *b, uint32_t slots, uint32_t size,
			  uint64_t weight_sum)
{
	char share[FMT_LEN], wshare[FMT_LEN];
	double pct = size ? 100.0 * slots / size : 0;
	double wpct = slots && weight_sum ? 100.0 * b->be.weight / weight_sum : 0;

	snprintf(share, sizeof(share), "%.2f%%", pct);
	snprintf(wshare, sizeof(wshare), "%.2f%%", wpct);
	out_row_begin();
	out_endpoint("address", "port", &b->be.addr, b->be.family, ntohs(b->be.port));
	out_u64("tier", b->be.tier);
	out_u64("weight", b->be.weight);
	out_str("state", be_state_name(b->be.state));
	out_u64("slots", slots);
	out_double_as("share_pct", pct, share);
	if (slots)
		out_double_as("weight_share_pct", wpct, wshare);
	else
		out_null("weight_share_pct");
	out_json_only_begin();
	out_u64("id", b->id);
	out_json_only_end();
	out_row_end();
}

/* Ids in the table that are not backends of this service: a bug or a
 * table caught mid-update, worth seeing. */
static uint64_t foreign_slots(const struct snapshot *s, const struct svc_view *svc,
			      const struct slot_count *c, size_t n)
{
	uint64_t foreign = 0;

	for (size_t i = 0; i < n; i++) {
		const struct be_view *b = snap_be_by_id(s, c[i].backend_id);

		if (c[i].backend_id != VEER_BACKEND_NONE && (!b || b->be.svc_id != svc->id))
			foreign += c[i].slots;
	}
	return foreign;
}

static void out_maglev(const struct snapshot *s, const struct svc_view *svc,
		       const struct slot_count *c, size_t n, uint32_t size)
{
	uint64_t weight_sum = 0;

	for (size_t i = 0; i < s->n_bes; i++)
		if (s->bes[i].be.svc_id == svc->id && slots_of(c, n, s->bes[i].id))
			weight_sum += s->bes[i].be.weight;
	out_obj_begin(NULL);
	out_str("service", svc_name(svc));
	out_u64("table_size", size);
	out_u64("empty_slots", slots_of(c, n, VEER_BACKEND_NONE));
	out_u64("foreign_slots", foreign_slots(s, svc, c, n));
	out_table_begin("backends", headers);
	for (size_t i = 0; i < s->n_bes; i++)
		if (s->bes[i].be.svc_id == svc->id)
			out_share_row(&s->bes[i], slots_of(c, n, s->bes[i].id), size, weight_sum);
	out_table_end();
	out_obj_end();
}

static int maglev_show(struct ctl *ctl, int argc, char **argv)
{
	struct slot_count *counts = NULL;
	const struct svc_view *svc;
	struct snapshot s;
	size_t n = 0;
	uint32_t size = 0;
	int rc = EXIT_ERR;

	if (argc != 2)
		return usage_error("usage: veerctl maglev show SERVICE");
	if (snap_load(ctl->state_dir, &s, SNAP_BACKENDS))
		return EXIT_ERR;
	svc = snap_find_service(&s, argv[1]);
	if (svc && !read_table(ctl->state_dir, svc, &counts, &n, &size)) {
		out_maglev(&s, svc, counts, n, size);
		rc = EXIT_OK;
	}
	free(counts);
	snap_free(&s);
	return rc;
}

static int maglev_help_cmd(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl, (void)argc, (void)argv;
	return print_help(maglev_help);
}

static const struct cmd maglev_cmds[] = {
	{ "show", maglev_show },
	{ "help", maglev_help_cmd },
	{ NULL, NULL },
};

int do_maglev(struct ctl *ctl, int argc, char **argv)
{
	return cmd_dispatch(ctl, "maglev", maglev_cmds, argc - 1, argv + 1);
}
