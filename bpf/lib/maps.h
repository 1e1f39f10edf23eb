/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every map of the datapath, one comment each. Names and layouts come from
 * include/veer_abi.h; sizes the loader may change (conntrack) are set at
 * load by agent/datapath_load.c.
 */
#ifndef VEER_BPF_MAPS_H
#define VEER_BPF_MAPS_H

#include "common.h"

/* Runtime knobs, one entry written by veerd (timeouts, hash seed, flags). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct veer_config);
} veer_cfg_v1 SEC(".maps");

/* Services: (VIP, port, proto, family) -> id, Maglev size, flags. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEER_MAX_SERVICES);
	__type(key, struct veer_svc_key);
	__type(value, struct veer_svc);
} veer_svc_v1 SEC(".maps");

/* Backends by id: address, port, state; the state decides if flows stay. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VEER_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct veer_backend);
} veer_be_v1 SEC(".maps");

/* Maglev tables, two per service (VEER_MAGLEV_SLOT): veerd fills the
 * inactive one and flips the service's flag. The inner arrays may be of
 * any prime size (BPF_F_INNER_MAP). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * VEER_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, VEER_MAGLEV_DEFAULT_M);
		/* mmap-able: veerd writes a 16381-slot table with one memcpy */
		__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
		__type(key, __u32);
		__type(value, __u32);
	});
} veer_maglev_v2 SEC(".maps");

/* Established TCP and UDP flows by client-side tuple (src=client, dst=VIP). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VEER_CT_DEFAULT_SIZE);
	__type(key, struct veer_flow);
	__type(value, struct veer_ct);
} veer_ct_v1 SEC(".maps");

/* Half-open TCP flows (SYN forwarded, no answer yet). A LRU of its own, so
 * a SYN flood only evicts other half-open flows, never established ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VEER_CT_SYN_SIZE);
	__type(key, struct veer_flow);
	__type(value, struct veer_ct);
} veer_ctsyn_v1 SEC(".maps");

/* Reverse NAT of established flows, by reply tuple (src=backend, dst=client). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VEER_RNAT_SIZE);
	__type(key, struct veer_flow);
	__type(value, struct veer_rnat);
} veer_rnat_v1 SEC(".maps");

/* Reverse NAT of half-open flows: finds the SYN-ACK (promote) or the RST
 * (failure signal) that answers a forwarded SYN. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VEER_CT_SYN_SIZE);
	__type(key, struct veer_flow);
	__type(value, struct veer_rnat);
} veer_rnsyn_v1 SEC(".maps");

/* Full NAT port claims, by reply tuple (src = gateway, dst = snat addr:port):
 * the allocator and the reverse entry at once (snat.h). A plain hash, not
 * LRU: a live mapping is never evicted; the datapath and veerd's sweep
 * (agent/snat_gc.c) delete entries whose flow ended. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEER_RNAT_SIZE);
	__type(key, struct veer_flow);
	__type(value, struct veer_rnat);
} veer_snat_v1 SEC(".maps");

/* Interfaces veer knows: ifindex -> flags (XDP_TX_OK where a redirected
 * frame is really delivered). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEER_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct veer_iface);
} veer_if_v1 SEC(".maps");

/* XDP redirect targets by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, VEER_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} veer_tx_v1 SEC(".maps");

/* Per-service counters (per CPU, by service id). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct veer_svc_stats);
} veer_svcst_v1 SEC(".maps");

/* Per-backend counters (per CPU, by backend id). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct veer_be_stats);
} veer_best_v1 SEC(".maps");

/* One counter per enum veer_reason (per CPU): every verdict counts one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_R__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} veer_drop_v1 SEC(".maps");

/* Events for veerd (new flows, re-picks, passive failure signals). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VEER_RINGBUF_BYTES);
} veer_events_v1 SEC(".maps");

/* Service names and tier state for veerctl; written by veerd only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VEER_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct veer_svc_meta);
} veer_svcmeta_v1 SEC(".maps");

/* Port prefilter (struct veer_ports): service ports and backend ports,
 * one bit each; written by veerd only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct veer_ports);
} veer_ports_v1 SEC(".maps");

/* VIP prefilter (struct veer_vips): a bit per hashed service VIP;
 * written by veerd only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct veer_vips);
} veer_vips_v1 SEC(".maps");

/* Half-open slots of plain-DNAT flows (struct veer_syn_slot, synq.h):
 * the datapath's own; mmap-able so that veerctl reads 4 MiB in one go. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VEER_SYNQ_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct veer_syn_slot);
} veer_synq_v1 SEC(".maps");

/* Backend health for veerctl; written by veerd only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VEER_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct veer_health);
} veer_health_v1 SEC(".maps");

/* Forwarding cache generation (one __u32), bumped by veerd on route,
 * rule, neighbour, link and backend changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} veer_fibgen_v1 SEC(".maps");

/* Forwarding cache, slot = backend id % VEER_FIBC_SLOTS (struct
 * veer_fib_cache, per CPU): the datapath's own, never written by veerd. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_FIBC_SLOTS);
	__type(key, __u32);
	__type(value, struct veer_fib_cache);
} veer_fibc_v1 SEC(".maps");

/* Forwarding cache for replies, slot = hash of the destination (struct
 * veer_fib_rcache, per CPU): the datapath's own. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_FIBR_SLOTS);
	__type(key, __u32);
	__type(value, struct veer_fib_rcache);
} veer_fibr_v1 SEC(".maps");

/* Conntrack's clock (struct veer_clock): written by the loader only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct veer_clock);
} veer_clock_v1 SEC(".maps");

/* Established-flow caches (struct veer_flow_cache, per CPU), for client
 * packets and for replies: the datapath's own, never written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_FLOWC_SLOTS);
	__type(key, __u32);
	__type(value, struct veer_flow_cache);
} veer_flowc_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEER_FLOWC_SLOTS);
	__type(key, __u32);
	__type(value, struct veer_flow_cache);
} veer_replyc_v1 SEC(".maps");

/* Its generation (one __u32): bumped atomically by the datapath when it
 * moves or deletes a flow, by user space (through mmap) when it flushes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} veer_flowgen_v1 SEC(".maps");

#endif
