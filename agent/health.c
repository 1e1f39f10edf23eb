// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "health.h"

/* Reasons are cut to fit veer_health.reason: truncation is intended. */
__attribute__((format(printf, 2, 3)))
static void reasonf(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, VEER_REASON_LEN, fmt, ap);
	va_end(ap);
}

static uint32_t at_least_one(uint32_t v)
{
	return v ? v : 1;
}

static void sat_inc(uint32_t *v)
{
	if (*v != UINT32_MAX)
		(*v)++;
}

void health_params_from_cfg(struct health_params *p, const struct cfg_probe *probe,
			    const struct cfg_outlier *outlier)
{
	p->probes = probe->type != PROBE_NONE;
	p->rise = at_least_one(probe->rise);
	p->fall = at_least_one(probe->fall);
	p->eject_after = outlier->consecutive;
	p->base_ejection_us = (uint64_t)outlier->base_ejection_ms * 1000;
	p->max_ejection_us = (uint64_t)outlier->max_ejection_ms * 1000;
	if (p->max_ejection_us < p->base_ejection_us)
		p->max_ejection_us = p->base_ejection_us;
	p->max_ejected_pct = outlier->max_ejected_pct;
}

void health_init(struct health *h, uint64_t now_us)
{
	memset(h, 0, sizeof(*h));
	h->state = VEER_H_UNKNOWN;
	h->probe_state = VEER_H_UNKNOWN;
	h->since_us = now_us;
	reasonf(h->reason, "not probed yet");
}

void health_restore(struct health *h, const struct veer_health *saved, uint64_t now_us)
{
	health_init(h, now_us);
	/* A restart keeps what probes had proven; an ejection is not carried
	 * over (its clock is gone): probes decide again within `fall`. */
	if (saved->state == VEER_H_HEALTHY || saved->state == VEER_H_UNHEALTHY)
		h->probe_state = h->state = saved->state;
	h->ejections = saved->ejections;
	reasonf(h->reason, "%s", saved->reason[0] ? saved->reason : "restored after restart");
}

/* Precedence: a broken backend reads broken even when drained, so its
 * flows are re-picked rather than held on a dead host. */
static enum veer_health_state effective_state(const struct health *h)
{
	if (h->ejected)
		return VEER_H_EJECTED;
	if (h->probe_state == VEER_H_UNHEALTHY)
		return VEER_H_UNHEALTHY;
	if (h->draining)
		return VEER_H_DRAINING;
	return h->probe_state;
}

/* Publish the state the fields now imply; record why when it changed. */
static bool publish(struct health *h, uint64_t now_us, const char *reason,
		    struct health_transition *tr)
{
	enum veer_health_state to = effective_state(h);

	if (to == h->state)
		return false;
	if (tr) {
		tr->from = h->state;
		tr->to = to;
		tr->at_us = now_us;
		reasonf(tr->reason, "%s", reason);
	}
	h->state = to;
	h->since_us = now_us;
	reasonf(h->reason, "%s", reason);
	return true;
}

/* Once the ejection time is over, the clock re-admits only a backend that
 * has no probes; with probes, `rise` successes since the ejection began
 * re-admit it, and `fall` failures hand it over to UNHEALTHY. */
static void end_ejection_if_due(struct health *h, const struct health_params *p,
				uint64_t now_us)
{
	if (!h->ejected || now_us < h->eject_until_us)
		return;
	if (!p->probes || h->ok_streak >= p->rise || h->probe_state == VEER_H_UNHEALTHY)
		h->ejected = false;
	h->awaiting_proof = h->ejected;
}

bool health_probe_ok(struct health *h, const struct health_params *p,
		     uint32_t latency_us, uint64_t now_us, struct health_transition *tr)
{
	char reason[VEER_REASON_LEN];

	sat_inc(&h->ok_streak);
	h->fail_streak = 0;
	h->signal_streak = 0;
	h->latency_us = latency_us;
	if (h->ok_streak >= p->rise)
		h->probe_state = VEER_H_HEALTHY;
	end_ejection_if_due(h, p, now_us);
	reasonf(reason, "%u consecutive probe successes, %u us", h->ok_streak,
		latency_us);
	return publish(h, now_us, reason, tr);
}

bool health_probe_fail(struct health *h, const struct health_params *p,
		       const char *error, uint64_t now_us, struct health_transition *tr)
{
	char reason[VEER_REASON_LEN];

	sat_inc(&h->fail_streak);
	h->ok_streak = 0;
	reasonf(h->last_error, "%s", error ? error : "probe failed");
	if (h->fail_streak >= p->fall)
		h->probe_state = VEER_H_UNHEALTHY;
	end_ejection_if_due(h, p, now_us);
	reasonf(reason, "%u consecutive probe failures: %s", h->fail_streak,
		h->last_error);
	return publish(h, now_us, reason, tr);
}

static const char *signal_name(uint32_t sig)
{
	switch (sig) {
	case VEER_EV_RST_ON_SYN:
		return "RST on SYN";
	case VEER_EV_SYN_RETRANS:
		return "SYN retransmit";
	case VEER_EV_ICMP_UNREACH:
		return "ICMP unreachable";
	default:
		return NULL;
	}
}

static void note_signal(struct health *h, enum veer_event_type sig)
{
	if (h->signal_streak && h->last_signal != (uint32_t)sig)
		h->mixed_signals = true;
	if (!h->signal_streak)
		h->mixed_signals = false;
	h->last_signal = sig;
	sat_inc(&h->signal_streak);
}

/* Would one more ejection push the tier's ejected share over the cap? */
static bool share_cap_hit(const struct health_tier_view *tier, const struct health_params *p)
{
	if (!tier || p->max_ejected_pct >= 100)
		return false;
	return (uint64_t)(tier->ejected + 1) * 100 > (uint64_t)p->max_ejected_pct * tier->backends;
}

/* base × 2^(level-1), capped; the level first drops by one per max
 * ejection time spent since the previous ejection ended. */
static uint64_t next_ejection_us(struct health *h, const struct health_params *p,
				 uint64_t now_us)
{
	uint64_t t = p->base_ejection_us;

	if (h->eject_level && p->max_ejection_us && now_us > h->eject_until_us) {
		uint64_t quiet = (now_us - h->eject_until_us) / p->max_ejection_us;

		h->eject_level = quiet >= h->eject_level ? 0 : h->eject_level - (uint32_t)quiet;
	}
	sat_inc(&h->eject_level);
	for (uint32_t i = 1; i < h->eject_level && t < p->max_ejection_us; i++)
		t *= 2;
	return t < p->max_ejection_us ? t : p->max_ejection_us;
}

static uint64_t eject(struct health *h, const struct health_params *p, uint64_t now_us)
{
	uint64_t duration = next_ejection_us(h, p, now_us);

	h->ejected = true;
	h->awaiting_proof = false;
	h->eject_until_us = now_us + duration;
	h->ok_streak = 0;	/* re-admission needs fresh successes */
	h->signal_streak = 0;
	sat_inc(&h->ejections);
	return duration;
}

enum health_signal_result health_passive(struct health *h, const struct health_params *p,
					 enum veer_event_type sig,
					 const struct health_tier_view *tier,
					 uint64_t now_us, struct health_transition *tr)
{
	char reason[VEER_REASON_LEN];
	const char *what = signal_name(sig);
	uint32_t streak;
	uint64_t duration;

	if (!what || !p->eject_after)
		return HEALTH_SIGNAL_IGNORED;
	/* Already out of the table: nothing more to decide. */
	if (h->ejected || h->probe_state == VEER_H_UNHEALTHY)
		return HEALTH_SIGNAL_IGNORED;
	note_signal(h, sig);
	if (h->signal_streak < p->eject_after)
		return HEALTH_SIGNAL_COUNTED;
	if (share_cap_hit(tier, p))
		return HEALTH_SIGNAL_REFUSED;
	streak = h->signal_streak;
	duration = eject(h, p, now_us);
	reasonf(reason, "%u consecutive %s; ejected %llu ms", streak,
		h->mixed_signals ? "passive failures" : what,
		(unsigned long long)(duration / 1000));
	publish(h, now_us, reason, tr);
	return HEALTH_SIGNAL_EJECTED;
}

bool health_drain(struct health *h, bool drain, uint64_t now_us,
		  struct health_transition *tr)
{
	h->draining = drain;
	return publish(h, now_us, drain ? "drain requested" : "undrain requested", tr);
}

bool health_tick(struct health *h, const struct health_params *p, uint64_t now_us,
		 struct health_transition *tr)
{
	char reason[VEER_REASON_LEN];

	if (!h->ejected || h->awaiting_proof || now_us < h->eject_until_us)
		return false;
	end_ejection_if_due(h, p, now_us);
	if (!p->probes)
		reasonf(reason, "ejection over, no probes to wait for");
	else if (h->probe_state == VEER_H_UNHEALTHY)
		reasonf(reason, "ejection over; probes failing: %s", h->last_error);
	else
		reasonf(reason, "ejection over; %u probe successes", h->ok_streak);
	return publish(h, now_us, reason, tr);
}

uint64_t health_next_deadline(const struct health *h)
{
	return h->ejected && !h->awaiting_proof ? h->eject_until_us : 0;
}

enum veer_health_state health_state(const struct health *h)
{
	return h->state;
}

bool health_usable(const struct health *h)
{
	return h->state == VEER_H_UNKNOWN || h->state == VEER_H_HEALTHY;
}

bool health_keeps_flows(const struct health *h)
{
	return health_usable(h) || h->state == VEER_H_DRAINING;
}

enum veer_backend_state health_datapath_state(const struct health *h)
{
	if (health_usable(h))
		return VEER_BE_ACTIVE;
	return h->state == VEER_H_DRAINING ? VEER_BE_DRAINING : VEER_BE_DOWN;
}

const char *health_state_name(enum veer_health_state s)
{
	switch (s) {
	case VEER_H_UNKNOWN:
		return "unknown";
	case VEER_H_HEALTHY:
		return "healthy";
	case VEER_H_UNHEALTHY:
		return "unhealthy";
	case VEER_H_EJECTED:
		return "ejected";
	case VEER_H_DRAINING:
		return "draining";
	}
	return "invalid";
}

void health_export(const struct health *h, uint64_t now_us, uint64_t now_real_ns,
		   struct veer_health *out)
{
	uint64_t age_ns = now_us > h->since_us ? (now_us - h->since_us) * 1000 : 0;

	memset(out, 0, sizeof(*out));
	out->since_ns = now_real_ns > age_ns ? now_real_ns - age_ns : 0;
	out->state = h->state;
	out->latency_us = h->latency_us;
	out->ejections = h->ejections;
	out->fail_streak = h->fail_streak;
	reasonf(out->reason, "%s", h->reason);
}
