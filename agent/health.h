/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-backend health state machine. Pure: inputs are probe results,
 * passive signals from the datapath, drain requests and the monotonic
 * time in microseconds, passed in by the caller; no clock, no I/O.
 *
 * States (enum veer_health_state) and the rules:
 * - UNKNOWN at start, and it counts as usable: a fresh start or a veerd
 *   restart must not blackhole traffic while the first probes run. A dead
 *   backend is marked UNHEALTHY by its first streak of `fall` failures.
 * - `rise` consecutive probe successes: HEALTHY; `fall` consecutive
 *   failures: UNHEALTHY. Any other result only moves the streaks.
 * - `outlier.consecutive` passive signals (RST on SYN, SYN retransmit,
 *   ICMP unreachable) with no probe success between them: EJECTED for
 *   base × 2^(level-1), capped at max. The level drops by one for every
 *   max_ejection spent without an ejection, so an old incident does not
 *   weigh forever. An ejection that would push the ejected share of the
 *   backend's tier above max_ejected_pct is refused: the signal is counted,
 *   the state stays, and the next signal tries again.
 * - Re-admission: when the ejection time is over, a backend without
 *   active probes returns to UNKNOWN (usable). With probes it stays
 *   EJECTED until it shows `rise` consecutive successes counted from the
 *   start of the ejection (so probes during the ejection count, but the
 *   clock alone never re-admits), or until `fall` failures make it
 *   UNHEALTHY.
 * - Drain is sticky until undrain. A drained backend reads DRAINING
 *   (keeps its flows, gets no new ones) while it would otherwise be usable;
 *   if it goes UNHEALTHY or EJECTED it reads so, because its flows are dead
 *   anyway and are better re-picked than held on a dead backend. Undrain
 *   returns it to what probes and ejection say.
 */
#ifndef VEER_HEALTH_H
#define VEER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "veer_abi.h"

struct health_params {
	bool probes;			/* active probes configured */
	uint32_t rise, fall;		/* >= 1 */
	uint32_t eject_after;		/* consecutive signals; 0: no passive ejection */
	uint64_t base_ejection_us;
	uint64_t max_ejection_us;	/* >= base_ejection_us */
	uint32_t max_ejected_pct;	/* of the backend's tier, by backend count */
};

/* The backend's tier in its service, as the caller counts it now. */
struct health_tier_view {
	uint32_t backends;		/* in the tier, this one included */
	uint32_t ejected;		/* of those, in VEER_H_EJECTED */
};

struct health_transition {
	enum veer_health_state from, to;
	uint64_t at_us;
	char reason[VEER_REASON_LEN];
};

enum health_signal_result {
	HEALTH_SIGNAL_IGNORED = 0,	/* not a failure signal, ejection off, or already down */
	HEALTH_SIGNAL_COUNTED,		/* streak below the threshold */
	HEALTH_SIGNAL_EJECTED,		/* this signal ejected the backend */
	HEALTH_SIGNAL_REFUSED,		/* threshold reached, tier share cap hit */
};

/* Treat as opaque outside health.c; read it through the functions below. */
struct health {
	enum veer_health_state state;		/* as last published */
	enum veer_health_state probe_state;	/* UNKNOWN, HEALTHY or UNHEALTHY */
	bool draining;
	bool ejected;			/* ejection time running, or awaiting proof */
	bool awaiting_proof;		/* ejection time over, waiting for `rise` */
	uint64_t eject_until_us;
	uint32_t ok_streak, fail_streak;
	uint32_t signal_streak;
	uint32_t last_signal;		/* enum veer_event_type */
	bool mixed_signals;		/* the streak holds more than one kind */
	uint32_t ejections;		/* total, exported */
	uint32_t eject_level;		/* drives the ejection time, decays */
	uint32_t latency_us;		/* last successful probe */
	uint64_t since_us;		/* last transition */
	char reason[VEER_REASON_LEN];	/* of the last transition */
	char last_error[VEER_REASON_LEN];	/* of the last failed probe */
};

/* From the service's config; PROBE_NONE means no active probes. */
void health_params_from_cfg(struct health_params *p, const struct cfg_probe *probe,
			    const struct cfg_outlier *outlier);

void health_init(struct health *h, uint64_t now_us);
/* Start from what a previous veerd exported to veer_health_v1. */
void health_restore(struct health *h, const struct veer_health *saved, uint64_t now_us);

/* Each input returns true and fills *tr (if not NULL) when the published
 * state changed. */
bool health_probe_ok(struct health *h, const struct health_params *p,
		     uint32_t latency_us, uint64_t now_us, struct health_transition *tr);
bool health_probe_fail(struct health *h, const struct health_params *p,
		       const char *error, uint64_t now_us, struct health_transition *tr);
/* sig: VEER_EV_RST_ON_SYN, VEER_EV_SYN_RETRANS or VEER_EV_ICMP_UNREACH;
 * tier may be NULL (no share cap). */
enum health_signal_result health_passive(struct health *h, const struct health_params *p,
					 enum veer_event_type sig,
					 const struct health_tier_view *tier,
					 uint64_t now_us, struct health_transition *tr);
bool health_drain(struct health *h, bool drain, uint64_t now_us,
		  struct health_transition *tr);
/* Ends an ejection whose time is over; call at health_next_deadline(). */
bool health_tick(struct health *h, const struct health_params *p, uint64_t now_us,
		 struct health_transition *tr);
/* Monotonic µs at which health_tick has work, 0 if none. */
uint64_t health_next_deadline(const struct health *h);

enum veer_health_state health_state(const struct health *h);
/* New flows may go to it: UNKNOWN or HEALTHY. */
bool health_usable(const struct health *h);
/* Its existing flows stay: usable or DRAINING (UNHEALTHY, EJECTED re-pick). */
bool health_keeps_flows(const struct health *h);
/* The veer_backend.state to write: ACTIVE, DRAINING or DOWN. */
enum veer_backend_state health_datapath_state(const struct health *h);
const char *health_state_name(enum veer_health_state s);

/* Fill the veer_health_v1 value; the two clocks, read together by the
 * caller, turn the monotonic transition time into CLOCK_REALTIME. */
void health_export(const struct health *h, uint64_t now_us, uint64_t now_real_ns,
		   struct veer_health *out);

#endif
