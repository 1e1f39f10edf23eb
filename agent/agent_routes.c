// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath caches, per backend, the hop its last packet took
 * (bpf/lib/fibcache.h). Any route, rule, neighbour or link change may
 * move a hop, so each burst of such messages starts a new cache
 * generation; entries also expire on their own (VEER_FIBC_LIFETIME_NS),
 * which bounds staleness while veerd is not running.
 */
#include "agent.h"
#include "dpmaps.h"
#include "log.h"
#include "routewatch.h"

static void on_route_change(void *arg)
{
	struct agent *a = arg;
	int ret = dp_fib_invalidate(&a->maps);

	if (ret)
		pr_err("forwarding cache invalidation failed", "errno=%d", -ret);
}

int agent_routes_start(struct agent *a, char *err, size_t errlen)
{
	a->rtw = routewatch_new(a->loop, on_route_change, a, err, errlen);
	if (!a->rtw)
		return -1;
	/* Whatever changed while no veerd watched. */
	on_route_change(a);
	return 0;
}

void agent_routes_stop(struct agent *a)
{
	routewatch_free(a->loop, a->rtw);
	a->rtw = NULL;
}
