/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The prefilter: before any hash lookup, a TCP/UDP packet whose
 * destination port no service uses, or whose destination address hashes
 * to no VIP's bit, is not a service packet; one whose source port no
 * backend serves on is not a reply. Two inlined array lookups and three
 * bit tests instead of up to three hash lookups. See struct veer_ports
 * and struct veer_vips in include/veer_abi.h.
 */
#ifndef VEER_BPF_PREFILTER_H
#define VEER_BPF_PREFILTER_H

#include "maps.h"
#include "parse.h"

enum { PF_SVC = 1, PF_REPLY = 2 };

/* PF_SVC: may be a service packet; PF_REPLY: may be a reply. */
static __always_inline int ports_maybe(const struct pkt *p)
{
	__u16 dport = bpf_ntohs(p->flow.dport), sport = bpf_ntohs(p->flow.sport);
	struct veer_ports *pf;
	__u32 zero = 0;
	int r = 0;

	pf = bpf_map_lookup_elem(&veer_ports_v1, &zero);
	if (!pf || !pf->enabled)
		return PF_SVC | PF_REPLY;
	if (pf->svc_dport[VEER_PORT_WORD(dport)] & VEER_PORT_BIT(dport))
		r |= PF_SVC;
	if (pf->be_sport[VEER_PORT_WORD(sport)] & VEER_PORT_BIT(sport))
		r |= PF_REPLY;
	if (r & PF_SVC) {
		struct veer_vips *vf = bpf_map_lookup_elem(&veer_vips_v1, &zero);
		__u32 bit = veer_vip_bit(&p->flow.dst);

		if (vf && vf->enabled && !(vf->bits[bit / 64] & (1ULL << (bit % 64))))
			r &= ~PF_SVC;
	}
	return r;
}

#endif
