/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The port prefilter: before any hash lookup, a TCP/UDP packet whose
 * destination port no service uses and whose source port no backend
 * serves on can be neither a service packet nor a reply. One inlined
 * array lookup and two bit tests instead of two hash lookups. See
 * struct veer_ports in include/veer_abi.h.
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
	return r;
}

#endif
