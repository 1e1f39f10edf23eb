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
	int snat;		/* full NAT port claims (snat_gc.c) */
	int ports;		/* prefilter bits (dp_port_set) */
	int vips;		/* prefilter bits (dp_vip_set) */
	int synq;		/* half-open slots (synq_slots.h) */
	int fibgen;		/* forwarding cache generation (dp_fib_invalidate) */
	int flowgen;		/* established-flow cache generation (dp_gen_bump) */
};

int dp_maps_from_skel(struct veer_bpf *skel, struct dp_maps *m, char *err, size_t errlen);

/* Maglev tables live at VEER_MAGLEV_SLOT keys of the outer map. */

/* A new table of m slots, filled: returns its fd or -errno. */
int dp_table_create(uint32_t svc_id, uint32_t m, const uint32_t *table);
/* The table installed at key: its fd and size, or -ENOENT. */
int dp_table_open(const struct dp_maps *m, uint32_t key, uint32_t *size);
/* Overwrite an installed table's slots in one syscall. */
int dp_table_write(int fd, uint32_t m, const uint32_t *table);
/* Install tables at keys in ONE outer-map update: every such update makes
 * the kernel wait for an RCU grace period (~15 ms), so they are batched. */
int dp_tables_install(const struct dp_maps *m, const uint32_t *keys, const int *fds, uint32_t n);
/* Remove both tables of a service. */
int dp_table_remove(const struct dp_maps *m, uint32_t svc_id);

/* Set port's bit (host order) in the datapath's prefilter, as a service
 * port or (backend) as a backend's port, and turn the filter on. Call it
 * before writing the service or backend: a packet whose bits are clear
 * is never looked up. Bits are never cleared while veerd runs (a stale
 * bit only costs a lookup). Returns 0 or -errno. */
int dp_port_set(const struct dp_maps *m, uint16_t port, int backend);
/* The same for a service VIP (veer_vips_v1). */
int dp_vip_set(const struct dp_maps *m, const struct veer_addr *vip);

/* Bump a one-__u32 generation map (veer_fibgen_v1, veer_flowgen_v1):
 * atomically through mmap when the map allows it (the datapath bumps
 * veer_flowgen_v1 too), else read, bump, write. 0 or -errno. */
int dp_gen_bump(int fd);

/* Make the datapath forget every cached forwarding decision (the next
 * packet to each backend takes a FIB lookup): after a route, rule,
 * neighbour or link change, or when a backend id is freed for reuse. */
int dp_fib_invalidate(const struct dp_maps *m);

/* Delete every conntrack and reverse-NAT entry of a service, or of one
 * backend (VEER_BACKEND_NONE: all backends of svc_id), and make the
 * established-flow cache forget them too. Returns entries removed. */
int dp_flows_flush(const struct dp_maps *m, uint32_t svc_id, uint32_t backend_id);

#endif
