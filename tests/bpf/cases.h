/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared addresses, setups and packet specs of the fixture cases. */
#ifndef VEER_TEST_CASES_H
#define VEER_TEST_CASES_H

#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fx.h"

#define C4    "10.200.1.10"
#define VIP4  "10.200.100.1"
#define BE4A  "10.200.2.11"
#define BE4B  "10.200.2.12"
#define RTR4  "10.200.3.1"
#define C6    "fd00:200:1::10"
#define VIP6  "fd00:200:100::1"
#define BE6A  "fd00:200:2::11"
#define BE6B  "fd00:200:2::12"
#define RTR6  "fd00:200:3::1"

/* Behind the runner's routed veth (fixtures_main.c): RBE*_ have a
 * permanent neighbour (RNEIGH_MAC), RBE*_NONEIGH none. */
#define RBE4 "10.200.9.11"
#define RBE6 "fd00:200:9::11"
#define RBE4_NONEIGH "10.200.9.12"
extern const uint8_t RNEIGH_MAC[6];

#define VPORT 80
#define BPORT 8080
#define CPORT 40000
#define SVC 1
#define BEA 1
#define BEB 2
#define TABLE_M 7
#define SEED 42

#define CLIENT(v6) ((v6) ? C6 : C4)
#define VIP(v6)    ((v6) ? VIP6 : VIP4)
#define BEA_ADDR(v6) ((v6) ? BE6A : BE4A)
#define BEB_ADDR(v6) ((v6) ? BE6B : BE4B)

/* Service SVC on VIP:VPORT/proto with backends A and B (both active) and a
 * table that sends everything to A. */
void setup_svc(struct fx *f, int v6, uint8_t proto);

/* Client -> VIP packet. */
struct pspec to_vip(int v6, uint8_t proto, uint8_t flags);
/* That packet after DNAT to backend addr. */
struct pspec dnat_of(const struct pspec *in, const char *be_addr);
/* Backend -> client reply. */
struct pspec from_be(int v6, uint8_t proto, const char *be_addr, uint8_t flags);
/* That reply after reverse NAT. */
struct pspec rnat_of(const struct pspec *in);

/* Backend id becomes gateway addr:port with flags (full NAT, IPIP) and a
 * node (snat) address (cases_snat.c). */
void fx_remote_backend(struct fx *f, uint32_t id, const char *addr, uint16_t port,
		       uint8_t flags, const char *node);

/* Shorthands for expectations. */
#define EXP(v, o, r) (&(struct fx_exp){ .verdict = (v), .out = (o), .reason = (r), .extra = -1 })
#define EXP2(v, o, r, x) (&(struct fx_exp){ .verdict = (v), .out = (o), .reason = (r), .extra = (x) })
/* What a translated packet yields in the fixtures: no route, so the
 * stack gets it (the rewrite is the same as when forwarded). */
#define FWD_OUT(o) EXP(FX_PASS, o, VEER_R_PASS_FIB_FAIL)

extern const struct fx_case cases_input[], cases_nat[], cases_ct[], cases_signals[],
	cases_icmp[], cases_refuse[], cases_fwd[], cases_snat[], cases_encap[],
	cases_prefilter[], cases_fibcache[], cases_synq[], cases_flowcache[];

/* Backend A behind the routed veth (fx_routed_iface): its ifindex, MAC. */
bool routed_setup(struct fx *f, int v6, uint32_t *oif, uint8_t *oif_mac);

/* Set by fixtures_main when the forwarding topology could be built. */
extern int fx_have_fwd_net;

#endif
