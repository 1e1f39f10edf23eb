// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Forwarding with a route (the veth built by fixtures_main): XDP redirects
 * only where VEER_IF_F_XDP_TX_OK says the frame is delivered; tc writes the
 * neighbour's MACs itself, or leaves an unresolved one to
 * bpf_redirect_neigh; TTL rules. */
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cases.h"

const uint8_t RNEIGH_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x09, 0x11 };

bool routed_setup(struct fx *f, int v6, uint32_t *oif, uint8_t *oif_mac)
{
	if (!fx_routed_iface(f, oif_mac, oif))
		return false;
	setup_svc(f, v6, IPPROTO_TCP);
	fx_backend(f, BEA, v6 ? RBE6 : RBE4, BPORT, SVC, VEER_BE_ACTIVE);
	return true;
}

static void redirect(struct fx *f, int v6, int tx_ok)
{
	struct pspec in = to_vip(v6, IPPROTO_TCP, F_ACK), out;
	uint8_t mac[6];
	uint32_t oif;

	if (!routed_setup(f, v6, &oif, mac))
		return;
	fx_iface(f, oif, VEER_IF_F_ATTACHED | (tx_ok ? VEER_IF_F_XDP_TX_OK : 0), 1);
	out = dnat_of(&in, v6 ? RBE6 : RBE4);
	if (FX_XDP_RUN(f) && !tx_ok) {
		/* Rewritten, handed to the stack (it routes and decrements). */
		fx_step(f, &in, EXP(FX_PASS, &out, VEER_R_XDP_PASS_STACK));
		return;
	}
	out.ttl = 63;
	out.dmac = RNEIGH_MAC;
	out.smac = mac;
	fx_step(f, &in, EXP(FX_REDIRECT, &out, VEER_R_FWD));
}

/* A route but no neighbour yet: XDP leaves it to the stack (which
 * resolves it), tc to bpf_redirect_neigh (MACs untouched here). */
static void case_unresolved4(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out;
	uint8_t mac[6];
	uint32_t oif;

	if (!routed_setup(f, 0, &oif, mac))
		return;
	fx_backend(f, BEA, RBE4_NONEIGH, BPORT, SVC, VEER_BE_ACTIVE);
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	out = dnat_of(&in, RBE4_NONEIGH);
	if (FX_XDP_RUN(f)) {
		fx_step(f, &in, EXP(FX_PASS, &out, VEER_R_PASS_FIB_FAIL));
		return;
	}
	out.ttl = 63;
	fx_step(f, &in, EXP(FX_REDIRECT, &out, VEER_R_FWD));
}

static void case_redirect4(struct fx *f) { redirect(f, 0, 1); }
static void case_redirect6(struct fx *f) { redirect(f, 1, 1); }
static void case_not_tx_ok4(struct fx *f) { redirect(f, 0, 0); }

static void case_ttl_expiring(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out;
	uint8_t mac[6];
	uint32_t oif;

	if (!routed_setup(f, 0, &oif, mac))
		return;
	fx_iface(f, oif, VEER_IF_F_XDP_TX_OK, 1);
	in.ttl = 1;
	out = dnat_of(&in, RBE4);	/* dropped after the rewrite: bytes as left */
	fx_step(f, &in, EXP(FX_DROP, &out, VEER_R_DROP_TTL));
}

const struct fx_case cases_fwd[] = {
	{ "TCP/IPv4 routed: redirect with the neighbour's MAC, TTL - 1", case_redirect4 },
	{ "TCP/IPv6 routed: redirect with the neighbour's MAC, hop limit - 1", case_redirect6 },
	{ "TCP/IPv4 routed, egress not XDP-safe: XDP passes rewritten to the stack", case_not_tx_ok4 },
	{ "TCP/IPv4 routed, neighbour unresolved: XDP to the stack, tc redirect_neigh",
	  case_unresolved4 },
	{ "TTL 1 on a routed packet dropped", case_ttl_expiring },
	{ NULL, NULL },
};
