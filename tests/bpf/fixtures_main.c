// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Datapath fixture runner: every case of every table, once on the XDP
 * program and once on the tc program, each from a clean state. Runs in a
 * network namespace of its own so FIB lookups see only the routes built
 * here. TAP-like output, then "N passed, N failed"; exit 1 on a failure.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cases.h"

int fx_have_fwd_net;

static const struct fx_case *tables[] = {
	cases_input, cases_nat, cases_ct, cases_signals, cases_icmp,
	cases_refuse, cases_fwd, cases_snat, cases_encap, cases_prefilter,
	cases_fibcache,
	cases_synq,
	cases_flowcache,
};

static int quiet_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* A routed veth for the forwarding cases: 10.200.9.0/24 and
 * fd00:200:9::/64 reachable with a permanent neighbour. */
static int build_fwd_net(void)
{
	return system("ip link set lo up && "
		      "ip link add vfx0 type veth peer name vfx1 && ip link set vfx1 up && ip link set vfx0 up && "
		      "ip addr add 10.200.9.1/24 dev vfx0 && "
		      "ip -6 addr add fd00:200:9::1/64 dev vfx0 nodad && "
		      "ip neigh add 10.200.9.11 lladdr 02:00:00:00:09:11 dev vfx0 nud permanent && "
		      "ip -6 neigh add fd00:200:9::11 lladdr 02:00:00:00:09:11 dev vfx0 nud permanent && "
		      "sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1 "
		      "net.ipv6.conf.all.forwarding=1 >/dev/null 2>&1") == 0;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	static const char *pname[] = { "xdp", "tc" };
	int n = 0, passed = 0, failed = 0;
	struct fx f;
	size_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet_libbpf);
	{
		/* One CPU: a step sees the per-CPU caches the last one left. */
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (run as root)");
		return 1;
	}
	fx_have_fwd_net = build_fwd_net();
	if (fx_open(&f))
		return 1;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		const struct fx_case *c;

		for (c = tables[t]; c->name; c++) {
			int p;

			if (only && !strstr(c->name, only))
				continue;
			for (p = FX_XDP; p <= FX_TC; p++) {
				fx_reset(&f);
				f.prog = p;
				c->run(&f);
				n++;
				if (f.skip && !f.failed) {
					printf("ok %d - %s (%s) # SKIP %s\n", n, c->name, pname[p], f.skip);
					passed++;
				} else if (f.failed) {
					printf("not ok %d - %s (%s)\n", n, c->name, pname[p]);
					failed++;
				} else {
					printf("ok %d - %s (%s)\n", n, c->name, pname[p]);
					passed++;
				}
			}
		}
	}
	fx_close(&f);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
