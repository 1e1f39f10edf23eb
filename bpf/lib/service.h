/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Service and backend lookups, and the rules for when a backend may keep
 * or take flows. */
#ifndef VEER_BPF_SERVICE_H
#define VEER_BPF_SERVICE_H

#include "maps.h"
#include "parse.h"

static __always_inline struct veer_config *cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&veer_cfg_v1, &zero);
}

static __always_inline struct veer_svc *svc_lookup(const struct pkt *p)
{
	struct veer_svc_key key = {
		.vip = p->flow.dst,
		.port = p->flow.dport,
		.proto = p->flow.proto,
		.family = p->flow.family,
	};

	return bpf_map_lookup_elem(&veer_svc_v1, &key);
}

/* Service svc_id by its id, if it is still the one the packet addresses:
 * an established flow's entry names its service, and this array lookup
 * and compare replace the hash lookup by (VIP, port, proto). */
static __always_inline struct veer_svc_meta *svc_by_id(const struct pkt *p, __u32 svc_id)
{
	struct veer_svc_meta *m = bpf_map_lookup_elem(&veer_svcmeta_v1, &svc_id);

	if (!m || !m->in_use || m->key.port != p->flow.dport ||
	    m->key.proto != p->flow.proto || m->key.family != p->flow.family ||
	    !addr_eq(&m->key.vip, &p->flow.dst))
		return NULL;
	return m;
}

/* A backend that existing flows of svc may keep: active or draining, still
 * in this service, same family. NULL otherwise (down, removed, moved). */
static __always_inline struct veer_backend *
be_keepable(__u32 be_id, __u32 svc_id, __u8 family)
{
	struct veer_backend *be = bpf_map_lookup_elem(&veer_be_v1, &be_id);

	if (!be || be->svc_id != svc_id || be->family != family)
		return NULL;
	if (be->state != VEER_BE_ACTIVE && be->state != VEER_BE_DRAINING)
		return NULL;
	return be;
}

/* Plain DNAT: neither full NAT nor IPIP; its replies pass this node and
 * its flows keep no source port. */
static __always_inline int be_plain(const struct veer_backend *be)
{
	return !(be->flags & (VEER_BE_F_NAT_FULL | VEER_BE_F_ENCAP_IPIP));
}

/* A backend that may take a new flow: active only. */
static __always_inline struct veer_backend *
be_takes_new(__u32 be_id, __u32 svc_id, __u8 family)
{
	struct veer_backend *be = be_keepable(be_id, svc_id, family);

	if (be && be->state != VEER_BE_ACTIVE)
		return NULL;
	return be;
}

#endif
