/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Services and backends read once from the pinned maps and joined: the
 * datapath's entries with veerd's names, health and the summed counters.
 * The datapath maps are the truth; a service veerd wrote no name for
 * still shows, unnamed.
 */
#ifndef VEERCTL_SNAPSHOT_H
#define VEERCTL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "veer_abi.h"

struct svc_view {
	uint32_t id;
	struct veer_svc_key key;
	struct veer_svc svc;
	bool has_meta;		/* name, tier and panic below are valid */
	char name[VEER_NAME_LEN + 1];
	struct veer_svc_meta meta;
	struct veer_svc_stats stats;
};

struct be_view {
	uint32_t id;
	struct veer_backend be;
	bool has_health;
	struct veer_health health;
	struct veer_be_stats stats;
};

struct snapshot {
	struct svc_view *svcs;	/* sorted by id */
	size_t n_svcs;
	struct be_view *bes;	/* in use only, sorted by id */
	size_t n_bes;
};

enum snap_parts {
	SNAP_BACKENDS = 1 << 0,
	SNAP_HEALTH = 1 << 1,	/* implies backends */
	SNAP_STATS = 1 << 2,	/* counters of what is loaded */
};

/* Returns 0, or -errno after printing the error. */
int snap_load(const char *state_dir, struct snapshot *s, unsigned int parts);
void snap_free(struct snapshot *s);

const struct svc_view *snap_svc_by_id(const struct snapshot *s, uint32_t id);
const struct be_view *snap_be_by_id(const struct snapshot *s, uint32_t id);
/* By name; prints "no service NAME" when there is none. */
const struct svc_view *snap_find_service(const struct snapshot *s, const char *name);
/* Service ids sorted for display: by name, unnamed ones last by id. */
const struct svc_view **snap_svcs_by_name(const struct snapshot *s);
/* The service's name, or NULL when veerd has written none. */
const char *svc_name(const struct svc_view *v);

#endif
