// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A backend's health over time: active probe results and passive signals
 * from the datapath feed its state machine; every transition is logged,
 * counted, exported to veer_health_v1 for veerctl, announced as an event,
 * and, when it changes who may take flows, rebuilds the service's table.
 *
 * Fast confirmation: with active probes configured, a hint that a backend
 * still taking or keeping flows has failed is checked at once instead of
 * at the next scheduled probes: a burst of up to `fall` back-to-back
 * probes that ends at the first success (a fluke) or with the backend
 * UNHEALTHY. Hints are passive signals that do not eject at once (streak
 * below outlier.consecutive, or the tier's ejection cap): failures of
 * real traffic, independent of the probes; and probes that failed with an
 * answer (refused, a bad status, a DNS error), not by timing out: a
 * timeout may be veerd's own stall, and back-to-back retries would fail
 * in the same stall, so those keep the schedule and `fall` its spread in
 * time. A crashed server's port refuses within a millisecond, so the
 * first client refused by it takes it out of the table whatever the
 * request rate (the passive threshold alone needs that many clients to
 * fail first: seconds at a few requests per second per backend), and a
 * server down for less than fall x interval (flapping) is not missed
 * between two scheduled probes. Only the way down is hurried: `rise`
 * still takes its intervals, and the tiers' failback delay runs from
 * there. At most one burst per probe interval, so a healthy backend that
 * sheds the odd connection costs one extra probe per interval at most.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "log.h"

uint64_t agent_now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static const char *backend_name(const struct agent_backend *b, char *buf, size_t len)
{
	return cfg_format_endpoint(&b->cfg.addr, b->cfg.family, b->cfg.port, buf, len);
}

void backend_export_health(struct agent *a, struct agent_backend *b)
{
	struct veer_health h;

	health_export(&b->health, loop_now_us(), agent_now_real_ns(), &h);
	bpf_map_update_elem(a->maps.health, &b->id, &h, BPF_ANY);
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *arg);

/* The timer exists only once a backend has a deadline (an ejection):
 * 100,000 idle backends cost no 100,000 timers. */
static void arm_deadline(struct agent *a, struct agent_backend *b)
{
	uint64_t due = health_next_deadline(&b->health), now = loop_now_us();

	if (due && !b->deadline)
		b->deadline = loop_timer_new(a->loop, on_deadline, b);
	if (!b->deadline)
		return;
	if (due)
		loop_timer_arm(a->loop, b->deadline, due > now ? due - now : 0);
	else
		loop_timer_disarm(a->loop, b->deadline);
}

/* After any input: publish a transition and re-decide the table. */
static void on_transition(struct agent *a, struct agent_backend *b,
			  const struct health_transition *tr)
{
	char name[80], q[160], extra[256], qj[200];
	bool was_usable_any = true;

	(void)was_usable_any;
	a->ctr.transitions[tr->to]++;
	log_msg(tr->to == VEER_H_HEALTHY || tr->to == VEER_H_UNKNOWN ? LOG_LVL_INFO : LOG_LVL_WARN,
		"backend state", "service=%s backend=%s from=%s to=%s reason=%s",
		b->svc->cfg.name, backend_name(b, name, sizeof(name)),
		health_state_name(tr->from), health_state_name(tr->to),
		log_quote(q, sizeof(q), tr->reason));
	snprintf(qj, sizeof(qj), "%s", tr->reason);
	for (char *p = qj; *p; p++)	/* keep the JSON simple: no quotes inside */
		if (*p == '"' || *p == '\\')
			*p = '\'';
	snprintf(extra, sizeof(extra), "\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\"",
		 health_state_name(tr->from), health_state_name(tr->to), qj);
	agent_emit(a, "state", b->svc, b, extra);
	backend_export_health(a, b);
	arm_deadline(a, b);
	service_rebuild(a, b->svc);
}

/* Start a confirmation burst (see the top). */
static void confirm_start(struct agent *a, struct agent_backend *b)
{
	uint64_t now = loop_now_us();

	if (!b->probe || !b->confirm || b->confirm_left || now < b->confirm_quiet_until)
		return;
	b->confirm_quiet_until = now + (uint64_t)b->svc->cfg.probe.interval_ms * 1000;
	b->confirm_left = b->svc->hp.fall;
	loop_timer_arm(a->loop, b->confirm, 0);
}

static void on_confirm(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent_backend *b = arg;

	(void)l; (void)t;
	if (!b->confirm_left)
		return;
	b->confirm_left--;
	/* An attempt in flight (scheduled or ours) answers as well: its
	 * report continues the burst. */
	probe_now(b->probe);
}

static void on_probe_result(void *arg, const struct probe_result *r)
{
	struct agent_backend *b = arg;
	struct agent *a = b->svc->agent;
	struct health_transition tr;
	bool changed;

	if (r->ok) {
		a->ctr.probes_ok++;
		changed = health_probe_ok(&b->health, &b->svc->hp, r->latency_us, loop_now_us(), &tr);
	} else {
		a->ctr.probes_failed++;
		changed = health_probe_fail(&b->health, &b->svc->hp, r->error, loop_now_us(), &tr);
	}
	if (changed)
		on_transition(a, b, &tr);
	else if (r->ok)
		backend_export_health(a, b);	/* latency, streaks */

	/* The burst: over on a success or once out of the table; else the
	 * next attempt, from the timer (not from inside this callback). */
	if (r->ok || !health_keeps_flows(&b->health))
		b->confirm_left = 0;
	else if (b->confirm_left)
		loop_timer_arm(a->loop, b->confirm, 0);
	else if (strncmp(r->error, "timeout", 7))	/* failed with an answer */
		confirm_start(a, b);
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent_backend *b = arg;
	struct health_transition tr;

	(void)l; (void)t;
	if (health_tick(&b->health, &b->svc->hp, loop_now_us(), &tr))
		on_transition(b->svc->agent, b, &tr);
	else
		arm_deadline(b->svc->agent, b);
}

int backend_start(struct agent *a, struct agent_backend *b)
{
	struct probe_target target = {	/* probe_start keeps its own copy */
		.family = b->cfg.family,
		.addr = b->cfg.addr,
		.port = b->cfg.port,
		.cfg = &b->svc->cfg.probe,
	};

	b->confirm_left = 0;
	b->confirm_quiet_until = 0;
	if (b->svc->cfg.probe.type == PROBE_NONE)
		return 0;
	b->confirm = loop_timer_new(a->loop, on_confirm, b);
	if (!b->confirm)
		return -ENOMEM;
	b->probe = probe_start(a->prober, &target, on_probe_result, b);
	if (!b->probe) {
		char name[80];

		pr_err("probe start failed", "service=%s backend=%s errno=%d", b->svc->cfg.name,
		       backend_name(b, name, sizeof(name)), errno);
		return -errno;
	}
	return 0;
}

void backend_stop(struct agent *a, struct agent_backend *b)
{
	loop_timer_free(a->loop, b->drain_timer);
	b->drain_timer = NULL;
	if (b->probe)
		probe_stop(b->probe);
	b->probe = NULL;
	loop_timer_free(a->loop, b->deadline);
	b->deadline = NULL;
	loop_timer_free(a->loop, b->confirm);
	b->confirm = NULL;
	b->confirm_left = 0;
}

/* A draining backend keeps its flows until they end or drain_timeout
 * passes; then they are cut (their next packet re-picks). */
static void on_drain_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent_backend *b = arg;
	struct agent *a = b->svc->agent;
	char name[80];
	int n;

	(void)l; (void)t;
	if (!b->health.draining)
		return;
	n = dp_flows_flush(&a->maps, b->svc->id, b->id);
	pr_info("drain deadline: remaining flows cut", "service=%s backend=%s flows=%d",
		b->svc->cfg.name, backend_name(b, name, sizeof(name)), n);
}

void backend_drain_deadline(struct agent *a, struct agent_backend *b)
{
	if (!b->health.draining) {
		if (b->drain_timer)
			loop_timer_disarm(a->loop, b->drain_timer);
		return;
	}
	if (!b->drain_timer)
		b->drain_timer = loop_timer_new(a->loop, on_drain_deadline, b);
	if (b->drain_timer && !loop_timer_armed(b->drain_timer))
		loop_timer_arm(a->loop, b->drain_timer,
			       (uint64_t)b->svc->cfg.failover.drain_timeout_ms * 1000);
}

void backend_set_drain(struct agent *a, struct agent_backend *b, bool drain)
{
	struct health_transition tr;

	if (health_drain(&b->health, drain, loop_now_us(), &tr))
		on_transition(a, b, &tr);
	backend_drain_deadline(a, b);
}

static struct health_tier_view tier_view(const struct agent_backend *b)
{
	struct health_tier_view v = { 0 };
	const struct agent_service *s = b->svc;

	for (size_t i = 0; i < s->n_be; i++) {
		if (s->be[i]->cfg.tier != b->cfg.tier)
			continue;
		v.backends++;
		if (health_state(&s->be[i]->health) == VEER_H_EJECTED)
			v.ejected++;
	}
	return v;
}

void backend_passive_signal(struct agent *a, struct agent_backend *b, enum veer_event_type sig)
{
	struct health_tier_view view = tier_view(b);
	struct health_transition tr;
	enum health_signal_result r;
	char name[80];

	a->ctr.passive_signals++;
	r = health_passive(&b->health, &b->svc->hp, sig, &view, loop_now_us(), &tr);
	if (r == HEALTH_SIGNAL_EJECTED) {
		a->ctr.ejections++;
		on_transition(a, b, &tr);
	} else if (r == HEALTH_SIGNAL_REFUSED) {
		a->ctr.ejections_refused++;
		pr_warn("ejection refused", "service=%s backend=%s reason=\"tier ejection cap %u%%\"",
			b->svc->cfg.name, backend_name(b, name, sizeof(name)),
			b->svc->hp.max_ejected_pct);
	}
	if (r == HEALTH_SIGNAL_COUNTED || r == HEALTH_SIGNAL_REFUSED)
		confirm_start(a, b);
}
