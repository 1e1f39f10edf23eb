/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* File descriptors of the datapath's maps and the writes veerd makes. */
#ifndef VEER_DPMAPS_H
#define VEER_DPMAPS_H

#include <stdint.h>
#include "veer_abi.h"

struct veer_bpf;

struct dp_maps {
	int cfg, svc, be, maglev, ct, ctsyn, rnat, rnsyn, ifaces, tx;
	int svc_stat, be_stat, drops, events, meta, health;
};

int dp_maps_from_skel(struct veer_bpf *skel, struct dp_maps *m, char *err, size_t errlen);

/* A new Maglev table of m slots, filled: returns its fd (caller closes
 * after installing it with dp_table_install) or -errno. */
int dp_table_create(uint32_t svc_id, uint32_t m, const uint32_t *table);
int dp_table_install(const struct dp_maps *m, uint32_t svc_id, int table_fd);
int dp_table_remove(const struct dp_maps *m, uint32_t svc_id);
/* Read back the slots of a service's installed table (m entries). */
int dp_table_read(const struct dp_maps *m, uint32_t svc_id, uint32_t *table, uint32_t size);

/* Delete every conntrack and reverse-NAT entry of a service, or of one
 * backend (VEER_BACKEND_NONE: all backends of svc_id). Returns entries removed. */
int dp_flows_flush(const struct dp_maps *m, uint32_t svc_id, uint32_t backend_id);

#endif
