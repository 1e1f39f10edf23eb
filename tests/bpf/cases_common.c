// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cases.h"

void setup_svc(struct fx *f, int v6, uint8_t proto)
{
	fx_cfg(f, SEED, 0, 0);
	fx_svc(f, VIP(v6), VPORT, proto, SVC, 0, TABLE_M);
	fx_backend(f, BEA, BEA_ADDR(v6), BPORT, SVC, VEER_BE_ACTIVE);
	fx_backend(f, BEB, BEB_ADDR(v6), BPORT, SVC, VEER_BE_ACTIVE);
	fx_table_fill(f, SVC, TABLE_M, BEA);
}

struct pspec to_vip(int v6, uint8_t proto, uint8_t flags)
{
	struct pspec s = {
		.v6 = v6, .proto = proto, .src = CLIENT(v6), .dst = VIP(v6),
		.sport = CPORT, .dport = VPORT, .flags = flags,
		.seq = 1000, .ack = (flags & F_ACK) ? 5000 : 0, .window = 64240,
		.ip_id = 0x1234,
	};
	return s;
}

struct pspec dnat_of(const struct pspec *in, const char *be_addr)
{
	struct pspec s = *in;

	s.dst = be_addr;
	s.dport = BPORT;
	return s;
}

struct pspec from_be(int v6, uint8_t proto, const char *be_addr, uint8_t flags)
{
	struct pspec s = {
		.v6 = v6, .proto = proto, .src = be_addr, .dst = CLIENT(v6),
		.sport = BPORT, .dport = CPORT, .flags = flags,
		.seq = 5000, .ack = 1001, .window = 65160, .ip_id = 0x4321,
		.swap_macs = 1,
	};
	return s;
}

struct pspec rnat_of(const struct pspec *in)
{
	struct pspec s = *in;

	s.src = VIP(in->v6);
	s.sport = VPORT;
	return s;
}
