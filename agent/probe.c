// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Probe scheduler. Each probe has two loop timers: the next attempt and the
 * current attempt's deadline. The deadline belongs here, not to libcurl or
 * c-ares, so every kind fails at exactly timeout_ms with the same message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/random.h>
#include "loop.h"
#include "probe.h"

struct prober {
	struct loop *loop;
	struct probe_http_multi *http;
	struct probe *probes;		/* running probes, for prober_free */
	uint64_t rng;
};

struct probe {
	struct prober *prober;
	struct probe *prev, *next;
	const struct probe_kind *kind;
	struct cfg_probe cfg;
	struct probe_target target;	/* .cfg points at cfg above */
	probe_cb cb;
	void *arg;
	void *kind_state;
	struct loop_timer *next_attempt, *deadline;
	uint64_t next_due_us;		/* planned start of the next attempt */
	uint64_t started_us;
	bool in_flight;
	bool stopped;
	unsigned int busy;		/* our frames on the stack; freeing waits for 0 */
};

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t rand_below(struct prober *p, uint64_t n)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return n ? ((p->rng * 0x2545F4914F6CDD1DULL) >> 11) % n : 0;
}

static void seed_rng(struct prober *p)
{
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng))
		p->rng = loop_now_us() ^ ((uint64_t)getpid() << 32);
	if (!p->rng)
		p->rng = 0x5eed;
}

struct prober *prober_new(struct loop *l)
{
	struct prober *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loop = l;
	p->http = probe_http_multi_new(l);
	if (!p->http) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	seed_rng(p);
	return p;
}

void prober_free(struct prober *p)
{
	if (!p)
		return;
	while (p->probes)
		probe_stop(p->probes);
	probe_http_multi_free(p->http);
	free(p);
}

static const struct probe_kind *kind_for(enum cfg_probe_type type)
{
	switch (type) {
	case PROBE_TCP:
		return &probe_kind_tcp;
	case PROBE_HTTP:
	case PROBE_HTTPS:
		return &probe_kind_http;
	case PROBE_DNS:
		return &probe_kind_dns;
	default:
		return NULL;
	}
}

/* Zero means "unset" for these; the config parser normally fills them. */
static void fill_defaults(struct cfg_probe *c)
{
	if (!c->interval_ms)
		c->interval_ms = 1000;
	if (!c->timeout_ms)
		c->timeout_ms = 500;
	if (!c->status_min && !c->status_max) {
		c->status_min = 200;
		c->status_max = 399;
	}
	if (c->jitter_pct > 100)
		c->jitter_pct = 100;
	if (!c->path[0])
		strcpy(c->path, "/");
	if (!c->query[0])
		strcpy(c->query, ".");
}

static uint64_t jittered_interval_us(struct probe *pr)
{
	uint64_t interval = (uint64_t)pr->cfg.interval_ms * 1000;
	uint64_t span = interval * pr->cfg.jitter_pct / 100;

	return interval - span + rand_below(pr->prober, 2 * span + 1);
}

/* Plan from the previous due time, not from now, so that a late wake-up
 * does not push every later attempt back; after a long stall, restart
 * from now rather than bursting to catch up. */
static void schedule_next(struct probe *pr)
{
	uint64_t now = loop_now_us();

	pr->next_due_us += jittered_interval_us(pr);
	if (pr->next_due_us <= now)
		pr->next_due_us = now + jittered_interval_us(pr);
	loop_timer_arm(pr->prober->loop, pr->next_attempt, pr->next_due_us - now);
}

static void destroy(struct probe *pr)
{
	struct loop *l = pr->prober->loop;

	if (pr->kind->release)
		pr->kind->release(pr);
	loop_timer_free(l, pr->next_attempt);
	loop_timer_free(l, pr->deadline);
	free(pr);
}

static void unhold(struct probe *pr)
{
	if (--pr->busy == 0 && pr->stopped)
		destroy(pr);
}

static void deliver(struct probe *pr, struct probe_result *r)
{
	uint64_t elapsed;

	if (!pr->in_flight || pr->stopped)
		return;
	pr->in_flight = false;
	loop_timer_disarm(pr->prober->loop, pr->deadline);
	elapsed = loop_now_us() - pr->started_us;
	r->latency_us = elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed;
	pr->busy++;
	pr->cb(pr->arg, r);
	unhold(pr);
}

void probe_succeed(struct probe *pr)
{
	struct probe_result r = { .ok = true };

	deliver(pr, &r);
}

void probe_fail(struct probe *pr, const char *fmt, ...)
{
	struct probe_result r = { .ok = false };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.error, sizeof(r.error), fmt, ap);
	va_end(ap);
	deliver(pr, &r);
}

static void begin_attempt(struct probe *pr)
{
	int err;

	pr->in_flight = true;
	pr->started_us = loop_now_us();
	loop_timer_arm(pr->prober->loop, pr->deadline, (uint64_t)pr->cfg.timeout_ms * 1000);
	err = pr->kind->start(pr);
	if (err)
		probe_fail(pr, "probe: %s", strerror(-err));
}

static void on_next_attempt(struct loop *l, struct loop_timer *t, void *arg)
{
	struct probe *pr = arg;

	(void)l;
	(void)t;
	pr->busy++;
	schedule_next(pr);
	/* timeout >= interval: the slow attempt keeps its slot until its deadline */
	if (!pr->in_flight)
		begin_attempt(pr);
	unhold(pr);
}

bool probe_now(struct probe *pr)
{
	if (!pr || pr->stopped || pr->in_flight)
		return false;
	pr->busy++;
	begin_attempt(pr);
	unhold(pr);
	return true;
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *arg)
{
	struct probe *pr = arg;

	(void)l;
	(void)t;
	pr->kind->cancel(pr);
	probe_fail(pr, "timeout after %ums", pr->cfg.timeout_ms);
}

static void link_probe(struct prober *p, struct probe *pr)
{
	pr->next = p->probes;
	if (p->probes)
		p->probes->prev = pr;
	p->probes = pr;
}

static void unlink_probe(struct probe *pr)
{
	if (pr->prev)
		pr->prev->next = pr->next;
	else
		pr->prober->probes = pr->next;
	if (pr->next)
		pr->next->prev = pr->prev;
	pr->prev = pr->next = NULL;
}

static bool target_valid(const struct probe_target *t)
{
	return t && t->cfg && kind_for(t->cfg->type) &&
	       (t->family == VEER_AF_INET || t->family == VEER_AF_INET6) &&
	       (t->port || t->cfg->port);
}

struct probe *probe_start(struct prober *p, const struct probe_target *t,
			  probe_cb cb, void *arg)
{
	struct probe *pr;
	uint64_t first_us;

	if (!p || !cb || !target_valid(t)) {
		errno = EINVAL;
		return NULL;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	pr->prober = p;
	pr->kind = kind_for(t->cfg->type);
	pr->cfg = *t->cfg;
	fill_defaults(&pr->cfg);
	pr->target = *t;
	pr->target.cfg = &pr->cfg;
	if (pr->cfg.port)
		pr->target.port = pr->cfg.port;
	pr->cb = cb;
	pr->arg = arg;
	pr->next_attempt = loop_timer_new(p->loop, on_next_attempt, pr);
	pr->deadline = loop_timer_new(p->loop, on_deadline, pr);
	if (!pr->next_attempt || !pr->deadline) {
		pr->kind = &probe_kind_tcp;	/* nothing to release yet */
		destroy(pr);
		errno = ENOMEM;
		return NULL;
	}
	link_probe(p, pr);
	first_us = rand_below(p, (uint64_t)pr->cfg.interval_ms * 1000);
	pr->next_due_us = loop_now_us() + first_us;
	loop_timer_arm(p->loop, pr->next_attempt, first_us);
	return pr;
}

void probe_stop(struct probe *pr)
{
	if (!pr || pr->stopped)
		return;
	pr->stopped = true;
	loop_timer_disarm(pr->prober->loop, pr->next_attempt);
	loop_timer_disarm(pr->prober->loop, pr->deadline);
	if (pr->in_flight) {
		pr->in_flight = false;
		pr->kind->cancel(pr);
	}
	unlink_probe(pr);
	if (!pr->busy)
		destroy(pr);
}

/* ---- for the kinds ---- */

struct loop *probe_loop(const struct probe *pr) { return pr->prober->loop; }
const struct probe_target *probe_target(const struct probe *pr) { return &pr->target; }
void *probe_kind_state(const struct probe *pr) { return pr->kind_state; }
void probe_set_kind_state(struct probe *pr, void *state) { pr->kind_state = state; }
struct probe_http_multi *probe_http_multi(const struct probe *pr) { return pr->prober->http; }

unsigned int probe_sockaddr(const struct probe_target *t, void *ss, unsigned int size)
{
	if (t->family == VEER_AF_INET && size >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = ss;

		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		memcpy(&sin->sin_addr, t->addr.b, 4);
		return sizeof(*sin);
	}
	if (t->family == VEER_AF_INET6 && size >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *sin6 = ss;

		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		memcpy(&sin6->sin6_addr, t->addr.b, 16);
		return sizeof(*sin6);
	}
	return 0;
}
