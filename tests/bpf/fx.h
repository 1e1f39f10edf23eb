/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fixture harness: the loaded datapath, helpers that fill its maps, and
 * fx_step(), which runs one packet through the program under test (XDP or
 * tc) and checks verdict, exact output bytes and the reason counters.
 * Every case runs twice, once per program, from a clean state.
 */
#ifndef VEER_TEST_FX_H
#define VEER_TEST_FX_H

#include <stdbool.h>
#include <stdint.h>
#include "veer_abi.h"
#include "pkt.h"

enum fx_prog { FX_XDP = 0, FX_TC = 1 };
enum fx_verdict { FX_PASS = 0, FX_DROP, FX_TX, FX_REDIRECT };

struct fx_exp {
	enum fx_verdict verdict;
	const struct pspec *out;	/* expected output; NULL: input unchanged */
	int reason;			/* the verdict's reason, counted once */
	int extra;			/* an event counter also counted, or -1 */
};

#define FX_MAX_EVENTS 64

struct fx {
	enum fx_prog prog;
	bool failed;
	const char *skip;		/* set by a case that can't run on this program */
	int prog_fd[2];
	int cfg, svc, be, maglev, ct, ctsyn, rnat, rnsyn, ifc, tx;
	int svcst, best, drops;
	int meta;			/* veer_svcmeta_v1: fx_svc writes it, as veerd does */
	int ports;			/* veer_ports_v1: fx_svc/fx_backend set their bits */
	int vips;			/* veer_vips_v1: fx_svc sets its VIP's bit */
	int synq;			/* veer_synq_v1 */
	struct veer_syn_slot *synq_mem;	/* its mmap */
	int fibgen, fibc, fibr;		/* forwarding cache: generation, slots, reply slots */
	int snat;			/* veer_snat_v1 */
	int clock;			/* veer_clock_v1: the loader calibrated it */
	int flowc, replyc, flowgen;	/* established-flow caches, their generation */
	int ncpu;
	void *ring;			/* struct ring_buffer * */
	struct veer_event ev[FX_MAX_EVENTS];
	int nev;
	uint32_t ingress_ifindex;	/* 0: lo */
};

/* Does the case run on XDP now? */
#define FX_XDP_RUN(f) ((f)->prog == FX_XDP)

/* Report a failed check with context; returns false. */
bool fx_fail(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FX_CHECK(f, cond, ...) ((cond) ? true : fx_fail(f, __VA_ARGS__))

/* Map filling. Addresses are text; family follows the text. */
void fx_cfg(struct fx *f, uint32_t seed, uint32_t flags, uint32_t resteer);
void fx_cfg_set(struct fx *f, const struct veer_config *c);
void fx_svc(struct fx *f, const char *vip, uint16_t port, uint8_t proto,
	    uint32_t id, uint32_t flags, uint32_t table_size);
void fx_svc_udp_timeout(struct fx *f, const char *vip, uint16_t port, uint32_t secs);
void fx_backend(struct fx *f, uint32_t id, const char *addr, uint16_t port,
		uint32_t svc_id, uint8_t state);
void fx_backend_state(struct fx *f, uint32_t id, uint8_t state);
/* Install a Maglev table of m slots for svc_id (slots[i], or all `fill`). */
void fx_table(struct fx *f, uint32_t svc_id, uint32_t m, const uint32_t *slots);
void fx_table_fill(struct fx *f, uint32_t svc_id, uint32_t m, uint32_t be_id);
void fx_iface(struct fx *f, uint32_t ifindex, uint32_t flags, int in_tx);
/* Set a port's bit in the prefilter (as veerd does); be: backend port.
 * fx_svc and fx_backend do it; the filter is off (enabled = 0) after
 * fx_reset until fx_prefilter(f, 1), because some cases write backends
 * directly. fx_vip: the same for a VIP's bit (fx_svc does it); the
 * switch turns both halves on or off. */
void fx_port(struct fx *f, uint16_t port, int be);
void fx_vip(struct fx *f, const struct veer_addr *vip);
void fx_prefilter(struct fx *f, int on);

/* The client-side flow of a packet spec (src=client, dst=VIP). */
struct veer_flow fx_flow(const struct pspec *s);
/* Look a flow up in a map fd; true if present. */
bool fx_ct_get(struct fx *f, int map_fd, const struct veer_flow *k, struct veer_ct *ct);
/* Client flow k's half-open slot, if a live one holds k: true, copied to
 * *q (may be NULL). */
bool fx_synq_get(struct fx *f, const struct veer_flow *k, struct veer_syn_slot *q);
void fx_ct_put(struct fx *f, int map_fd, const struct veer_flow *k, const struct veer_ct *ct);
/* Entry key of a per-CPU array on every CPU, values of size bytes: free()
 * it; NULL (and the case failed) if it cannot be read. */
void *fx_percpu_read(struct fx *f, int fd, uint32_t key, size_t size);
uint64_t fx_now_ns(void);

/* Counters summed over CPUs. */
struct veer_svc_stats fx_svc_stats(struct fx *f, uint32_t id);
struct veer_be_stats fx_be_stats(struct fx *f, uint32_t id);
uint64_t fx_reason(struct fx *f, int reason);

/* Run packet `in`; check verdict, bytes, counters. */
bool fx_step(struct fx *f, const struct pspec *in, const struct fx_exp *e);
/* Same with raw bytes; out NULL: unchanged. */
bool fx_step_raw(struct fx *f, const uint8_t *in, size_t len, const struct fx_exp *e,
		 const uint8_t *out, size_t out_len);

/* Events since the last call; checks their types in order, clears them. */
bool fx_events(struct fx *f, int n, const int *types);
#define FX_EVENTS(f, ...) fx_events(f, sizeof((int[]){__VA_ARGS__}) / sizeof(int), (int[]){__VA_ARGS__})
#define FX_NO_EVENTS(f) fx_events(f, 0, NULL)

/* Set up / tear down (fx.c). */
int fx_open(struct fx *f);
void fx_reset(struct fx *f);
/* A new forwarding cache generation (what veerd does on route changes). */
void fx_fib_invalidate(struct fx *f);
void fx_close(struct fx *f);

struct fx_case {
	const char *name;
	void (*run)(struct fx *f);
};

/* The routed veth vfx0 the runner builds: MAC and ifindex (skips if absent). */
bool fx_routed_iface(struct fx *f, uint8_t *mac, uint32_t *ifindex);

#endif
