/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veerd's runtime state: the services and backends of the config in force,
 * each backend's health and probe, and the datapath's maps they are
 * written to. One instance, driven by one event loop.
 */
#ifndef VEER_AGENT_H
#define VEER_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "dpmaps.h"
#include "health.h"
#include "loop.h"
#include "probe.h"
#include "tier.h"

struct agent_service;

struct agent_backend {
	uint32_t id;			/* slot in veer_be_v1 */
	struct cfg_backend cfg;
	struct agent_service *svc;
	struct health health;
	struct probe *probe;
	struct loop_timer *deadline;	/* health_tick when an ejection ends */
	struct loop_timer *confirm;	/* next confirmation probe (backend_health.c) */
	struct loop_timer *drain_timer;	/* failover.drain_timeout of a draining backend */
	uint64_t confirm_quiet_until;	/* no new confirmation burst before (loop µs) */
	uint32_t confirm_left;		/* attempts left in the burst running */
	uint8_t dp_state;		/* veer_backend.state last written */
	bool admin_drain;		/* drained through the admin socket */
	bool keep;			/* reconcile mark */
	bool fresh;			/* created by this reconcile, not yet exported */
};

struct agent;

struct agent_service {
	struct agent *agent;
	uint32_t id;			/* slot in veer_maglev_v1, stats, meta */
	struct cfg_service cfg;		/* copy; cfg.backends is not used */
	struct health_params hp;
	struct agent_backend **be;
	size_t n_be;
	struct tier_state tier;
	struct tier_decision decision;	/* in force */
	uint64_t table_digest;		/* of the active Maglev table: skip no-op swaps */
	uint32_t table_m;		/* size of the active table */
	uint8_t gen;			/* active table: VEER_MAGLEV_SLOT(id, flags) */
	uint32_t flags;			/* veer_svc.flags in force */
	/* Staged by service_prepare, made live by service_commit. */
	bool staged, staged_table;
	uint32_t staged_flags, staged_m;
	uint64_t staged_digest;
	struct tier_decision staged_decision;
	struct loop_timer *recheck;	/* tier failback due */
	bool keep;
	bool dirty;			/* reconcile: its table may have changed */
	bool spare_ready;		/* the inactive table exists, right size */
};

struct agent_counters {
	uint64_t reloads, reload_failures;
	uint64_t transitions[VEER_H_DRAINING + 1];	/* by new state */
	uint64_t tier_shifts, panics;
	uint64_t passive_signals, ejections, ejections_refused;
	uint64_t probes_ok, probes_failed;
	uint64_t events_read;
};

struct admin;
struct ifwatch;
struct routewatch;
struct cfgwatch;
struct ring_buffer;
struct metrics;
struct veer_bpf;

struct agent {
	struct loop *loop;
	char cfg_path[CFG_PATH_MAX];
	char state_dir[CFG_PATH_MAX];
	bool state_dir_forced;		/* --state-dir given: wins over the config */
	struct veer_cfg *cfg;		/* in force */
	uint64_t cfg_digest;		/* of the file's bytes, to skip no-op reloads */
	char last_error[512];		/* of the last failed reload */
	struct veer_bpf *skel;
	struct dp_maps maps;
	struct agent_service **svcs;
	size_t n_svcs;
	struct agent_backend **be_by_id;	/* VEER_MAX_BACKENDS */
	uint8_t *svc_used;		/* VEER_MAX_SERVICES */
	struct prober *prober;
	struct admin *admin;
	struct ifwatch *ifw;
	struct routewatch *rtw;		/* route changes -> forwarding cache */
	struct cfgwatch *cfgw;
	struct ring_buffer *rb;
	struct metrics *metrics;
	struct loop_timer *housekeeping;
	struct loop_timer *spares;	/* agent_fill_spares until all exist */
	struct agent_counters ctr;
	/* New tables waiting for one batched install (dp_tables_install). */
	uint32_t *pending_keys;
	int *pending_fds;
	size_t n_pending, cap_pending;
	uint64_t started_us;
	bool ready;			/* config applied and attached */
	bool seed_changed;		/* reconcile: every table must be rebuilt */
	bool fib_stale;			/* a backend id was freed: dp_fib_invalidate */
	int n_attached;
};

/* reconcile.c */
int agent_adopt(struct agent *a);
int agent_apply(struct agent *a, struct veer_cfg *cfg, char *err, size_t errlen);
void agent_release_all(struct agent *a);
struct agent_service *agent_find_service(struct agent *a, const char *name);
struct agent_backend *agent_find_backend(struct agent_service *s, const struct veer_addr *addr,
					 uint8_t family, uint16_t port /* 0: any */);

/* service_table.c: tier choice -> Maglev table -> maps, in a safe order.
 * prepare stages a service's next table (new tables queue for one batched
 * install), agent_install_tables installs what is queued, commit makes
 * the staged table live with one service-entry update. rebuild = all three. */
int service_prepare(struct agent *a, struct agent_service *s);
int agent_install_tables(struct agent *a);
void service_commit(struct agent *a, struct agent_service *s);
int service_rebuild(struct agent *a, struct agent_service *s);
/* Create missing inactive tables, at most budget of them. */
void agent_fill_spares(struct agent *a, unsigned budget);
/* Learn the active table of a service the datapath already has (restart). */
void service_adopt_entry(struct agent *a, struct agent_service *s);
void service_write_meta(struct agent *a, struct agent_service *s);
/* Timer callback (arg: the service): a tier failback is due. */
void service_on_recheck(struct loop *l, struct loop_timer *t, void *arg);

/* backend_health.c: probes and passive signals -> health -> tables */
int backend_start(struct agent *a, struct agent_backend *b);
void backend_stop(struct agent *a, struct agent_backend *b);
void backend_set_drain(struct agent *a, struct agent_backend *b, bool drain);
/* Start (or stop) the drain deadline after a drain change made elsewhere. */
void backend_drain_deadline(struct agent *a, struct agent_backend *b);
void backend_passive_signal(struct agent *a, struct agent_backend *b, enum veer_event_type sig);
void backend_export_health(struct agent *a, struct agent_backend *b);

/* agent_events.c: ring buffer records and state changes as events */
int agent_events_open(struct agent *a, char *err, size_t errlen);
void agent_emit(struct agent *a, const char *type, struct agent_service *s,
		struct agent_backend *b, const char *extra_json);

/* agent_ifaces.c: attach to interfaces matching node.interfaces */
int agent_ifaces_start(struct agent *a, char *err, size_t errlen);
void agent_ifaces_refresh(struct agent *a);

/* agent_routes.c: invalidate the forwarding cache on route changes */
int agent_routes_start(struct agent *a, char *err, size_t errlen);
void agent_routes_stop(struct agent *a);

/* agent_admin.c */
int agent_admin_start(struct agent *a, char *err, size_t errlen);
void agent_admin_housekeeping(struct agent *a);

/* reload.c: read the config file again and apply it if it changed (or
 * always when forced); on error the config in force stays. */
int agent_reload(struct agent *a, bool force, char *err, size_t errlen);
/* Remember the file as loaded at start, so an unchanged file is a no-op. */
void agent_note_config_digest(struct agent *a);

/* Time helpers: monotonic µs (loop clock) and CLOCK_REALTIME ns. */
uint64_t agent_now_real_ns(void);

#endif
