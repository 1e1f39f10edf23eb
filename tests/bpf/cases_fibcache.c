// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The forwarding cache (bpf/lib/fibcache.h). A planted entry with a
 * made-up next-hop MAC shows when a hit is used instead of the FIB; each
 * reason to distrust an entry (generation, lifetime, ingress, MTU, another
 * backend's slot) must send the packet through the FIB again, to the real
 * neighbour. And a forwarded packet leaves the hop it took in its slot.
 * Replies (to clients) have slots of their own, by destination address.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cases.h"

static const uint8_t PLANT_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0xee, 0xee };

enum plant_flaw { PL_NONE, PL_OLD_GEN, PL_EXPIRED, PL_OTHER_IIF, PL_SMALL_MTU, PL_OTHER_BE };

static uint32_t fib_gen(struct fx *f)
{
	uint32_t zero = 0, gen = 0;

	bpf_map_lookup_elem(f->fibgen, &zero, &gen);
	return gen;
}

/* Backend A's slot on every CPU (free() it), or NULL after a failure. */
static struct veer_fib_cache *read_slots(struct fx *f)
{
	return fx_percpu_read(f, f->fibc, BEA & (VEER_FIBC_SLOTS - 1),
			      sizeof(struct veer_fib_cache));
}

/* Put entry e in backend A's slot on every CPU. */
static void plant(struct fx *f, uint32_t oif, const uint8_t *smac, enum plant_flaw flaw)
{
	uint32_t slot = BEA & (VEER_FIBC_SLOTS - 1);
	struct veer_fib_cache e, *all = calloc(f->ncpu, sizeof(e));
	int i;

	memset(&e, 0, sizeof(e));
	e.expires_ns = fx_now_ns() + 10 * 1000000000ull;
	e.gen = fib_gen(f);
	e.backend_id = BEA;
	e.iif = 1;		/* test_run's default ingress: lo */
	e.oif = oif;
	e.mtu = 1500;
	e.flags = VEER_FIBC_F_XDP_TX;
	memcpy(e.dmac, PLANT_MAC, 6);
	memcpy(e.smac, smac, 6);
	switch (flaw) {
	case PL_OLD_GEN: e.gen--; break;
	case PL_EXPIRED: e.expires_ns = fx_now_ns() - 1000000000ull; break;
	case PL_OTHER_IIF: e.iif = 999; break;
	case PL_SMALL_MTU: e.mtu = 39; break;	/* the packet is 40 bytes of IP */
	case PL_OTHER_BE: e.backend_id = BEA + VEER_FIBC_SLOTS; break;
	case PL_NONE: break;
	}
	for (i = 0; all && i < f->ncpu; i++)
		all[i] = e;
	if (!all || bpf_map_update_elem(f->fibc, &slot, all, BPF_ANY))
		fx_fail(f, "plant a forwarding cache entry");
	free(all);
}

static void planted(struct fx *f, enum plant_flaw flaw)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out;
	uint8_t mac[6];
	uint32_t oif;

	if (!routed_setup(f, 0, &oif, mac))
		return;
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	plant(f, oif, mac, flaw);
	out = dnat_of(&in, RBE4);
	out.ttl = 63;
	out.dmac = flaw == PL_NONE ? PLANT_MAC : RNEIGH_MAC;
	out.smac = mac;
	fx_step(f, &in, EXP(FX_REDIRECT, &out, VEER_R_FWD));
}

static void case_hit(struct fx *f) { planted(f, PL_NONE); }
static void case_old_gen(struct fx *f) { planted(f, PL_OLD_GEN); }
static void case_expired(struct fx *f) { planted(f, PL_EXPIRED); }
static void case_other_iif(struct fx *f) { planted(f, PL_OTHER_IIF); }
static void case_small_mtu(struct fx *f) { planted(f, PL_SMALL_MTU); }
static void case_other_be(struct fx *f) { planted(f, PL_OTHER_BE); }

/* A hit that says "not XDP-safe" hands XDP's packet to the stack. */
static void case_hit_not_tx(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out;
	uint32_t slot = BEA & (VEER_FIBC_SLOTS - 1);
	struct veer_fib_cache *all;
	uint8_t mac[6];
	uint32_t oif;
	int i;

	if (!routed_setup(f, 0, &oif, mac))
		return;
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	plant(f, oif, mac, PL_NONE);
	all = read_slots(f);
	if (!all)
		return;
	for (i = 0; i < f->ncpu; i++)
		all[i].flags = 0;
	bpf_map_update_elem(f->fibc, &slot, all, BPF_ANY);
	free(all);
	out = dnat_of(&in, RBE4);
	if (FX_XDP_RUN(f)) {
		fx_step(f, &in, EXP(FX_PASS, &out, VEER_R_XDP_PASS_STACK));
		return;
	}
	out.ttl = 63;
	out.dmac = PLANT_MAC;
	out.smac = mac;
	fx_step(f, &in, EXP(FX_REDIRECT, &out, VEER_R_FWD));
}

/* After a forwarded packet, backend A's slot on some CPU holds the hop
 * (with XDP's redirect flag from either program: they share the slots). */
static void case_filled(struct fx *f)
{
	struct pspec in = to_vip(0, IPPROTO_TCP, F_ACK), out;
	struct veer_fib_cache *all;
	uint8_t mac[6];
	uint32_t oif;
	int i, found = -1;

	if (!routed_setup(f, 0, &oif, mac))
		return;
	fx_iface(f, oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	out = dnat_of(&in, RBE4);
	out.ttl = 63;
	out.dmac = RNEIGH_MAC;
	out.smac = mac;
	if (!fx_step(f, &in, EXP(FX_REDIRECT, &out, VEER_R_FWD)))
		return;
	all = read_slots(f);
	if (!all)
		return;
	for (i = 0; i < f->ncpu; i++)
		if (all[i].backend_id == BEA && all[i].gen == fib_gen(f))
			found = i;
	if (found < 0)
		fx_fail(f, "no CPU's slot names backend %u with the current generation", BEA);
	else if (all[found].oif != oif || all[found].iif != 1 || all[found].mtu != 1500 ||
		 memcmp(all[found].dmac, RNEIGH_MAC, 6) || memcmp(all[found].smac, mac, 6) ||
		 all[found].flags != VEER_FIBC_F_XDP_TX ||
		 all[found].expires_ns <= fx_now_ns() - 1000000000ull)
		fx_fail(f, "slot: oif %u iif %u mtu %u flags %u", all[found].oif, all[found].iif,
			all[found].mtu, all[found].flags);
	free(all);
}

/* A reply from backend A to a client at RBE4 (routed, neighbour
 * RNEIGH_MAC): its reverse entry written, the packet and its translation. */
static bool reply_setup(struct fx *f, struct pspec *rep, struct pspec *out, uint8_t *mac,
			uint32_t *oif)
{
	struct veer_flow rk;
	struct veer_rnat rv;

	if (!routed_setup(f, 0, oif, mac))
		return false;
	fx_iface(f, *oif, VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK, 1);
	*rep = from_be(0, IPPROTO_TCP, BE4A, F_ACK);
	rep->dst = RBE4;
	rk = fx_flow(rep);
	memset(&rv, 0, sizeof(rv));
	rv.client = rk.dst;
	rv.cport = rk.dport;
	rv.vport = htons(VPORT);
	rv.backend_id = BEA;
	inet_pton(AF_INET, VIP4, &rv.vip.v4);
	if (!FX_CHECK(f, !bpf_map_update_elem(f->rnat, &rk, &rv, BPF_ANY), "write reverse entry"))
		return false;
	*out = rnat_of(rep);
	out->ttl = 63;
	out->smac = mac;
	return true;
}

enum rplant { RP_NONE, RP_OTHER_DST, RP_OLD_GEN };

/* RBE4's reply slot on every CPU: a hop out of oif with PLANT_MAC, flawed
 * or not (another address held: written as is, the slot is RBE4's). */
static void rplant(struct fx *f, uint32_t oif, const uint8_t *smac, enum rplant flaw)
{
	struct veer_fib_rcache e, *all = calloc(f->ncpu, sizeof(e));
	uint32_t slot;
	int i;

	memset(&e, 0, sizeof(e));
	inet_pton(AF_INET, RBE4, &e.dst.v4);
	slot = veer_fibr_index(&e.dst);
	if (flaw == RP_OTHER_DST)
		e.dst.v4 ^= htonl(1);
	e.hop.expires_ns = fx_now_ns() + 10 * 1000000000ull;
	e.hop.gen = fib_gen(f) - (flaw == RP_OLD_GEN);
	e.hop.backend_id = VEER_BACKEND_NONE;
	e.hop.iif = 1;
	e.hop.oif = oif;
	e.hop.mtu = 1500;
	e.hop.flags = VEER_FIBC_F_XDP_TX;
	memcpy(e.hop.dmac, PLANT_MAC, 6);
	memcpy(e.hop.smac, smac, 6);
	for (i = 0; all && i < f->ncpu; i++)
		all[i] = e;
	if (!all || bpf_map_update_elem(f->fibr, &slot, all, BPF_ANY))
		fx_fail(f, "plant a reply cache entry");
	free(all);
}

static void reply_planted(struct fx *f, enum rplant flaw)
{
	struct pspec rep, out;
	uint8_t mac[6];
	uint32_t oif;

	if (!reply_setup(f, &rep, &out, mac, &oif))
		return;
	rplant(f, oif, mac, flaw);
	out.dmac = flaw == RP_NONE ? PLANT_MAC : RNEIGH_MAC;
	fx_step(f, &rep, EXP(FX_REDIRECT, &out, VEER_R_FWD_REPLY));
}

static void case_reply_hit(struct fx *f) { reply_planted(f, RP_NONE); }
static void case_reply_other_dst(struct fx *f) { reply_planted(f, RP_OTHER_DST); }
static void case_reply_old_gen(struct fx *f) { reply_planted(f, RP_OLD_GEN); }

/* A forwarded reply leaves its hop in its client's slot. */
static void case_reply_filled(struct fx *f)
{
	struct veer_fib_rcache *all;
	struct pspec rep, out;
	struct veer_addr a = { 0 };
	uint8_t mac[6];
	uint32_t slot, oif;
	int i, found = 0;

	if (!reply_setup(f, &rep, &out, mac, &oif))
		return;
	out.dmac = RNEIGH_MAC;
	if (!fx_step(f, &rep, EXP(FX_REDIRECT, &out, VEER_R_FWD_REPLY)))
		return;
	inet_pton(AF_INET, RBE4, &a.v4);
	slot = veer_fibr_index(&a);
	all = calloc(f->ncpu, sizeof(*all));
	if (!all || bpf_map_lookup_elem(f->fibr, &slot, all)) {
		fx_fail(f, "read the reply cache");
		free(all);
		return;
	}
	for (i = 0; i < f->ncpu; i++)
		found |= !memcmp(&all[i].dst, &a, sizeof(a)) && all[i].hop.gen == fib_gen(f) &&
			 !memcmp(all[i].hop.dmac, RNEIGH_MAC, 6) &&
			 all[i].hop.backend_id == VEER_BACKEND_NONE;
	FX_CHECK(f, found, "no CPU's reply slot holds the hop to %s", RBE4);
	free(all);
}

const struct fx_case cases_fibcache[] = {
	{ "fib cache: a valid entry is used (no FIB lookup)", case_hit },
	{ "fib cache: an entry of an older generation is not used", case_old_gen },
	{ "fib cache: an expired entry is not used", case_expired },
	{ "fib cache: an entry for another ingress is not used", case_other_iif },
	{ "fib cache: a packet over the cached MTU goes through the FIB", case_small_mtu },
	{ "fib cache: another backend's entry in the slot is not used", case_other_be },
	{ "fib cache: a hit without XDP-safe egress: XDP to the stack", case_hit_not_tx },
	{ "fib cache: a forwarded packet fills its backend's slot", case_filled },
	{ "fib cache: a reply uses its client's valid entry", case_reply_hit },
	{ "fib cache: another address's entry in a client's slot is not used",
	  case_reply_other_dst },
	{ "fib cache: a client's entry of an older generation is not used", case_reply_old_gen },
	{ "fib cache: a forwarded reply fills its client's slot", case_reply_filled },
	{ NULL, NULL },
};
