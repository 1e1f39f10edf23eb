/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Events to veerd through the ring buffer; a full ring is counted, never
 * waited on. */
#ifndef VEER_BPF_EVENTS_H
#define VEER_BPF_EVENTS_H

#include "stats.h"

static __always_inline void emit_event(__u32 type, const struct veer_flow *f,
				       __u32 be_id, __u32 old_be_id, __u32 svc_id)
{
	struct veer_event *e;

	e = bpf_ringbuf_reserve(&veer_events_v1, sizeof(*e), 0);
	if (!e) {
		count_reason(VEER_R_EVENTS_LOST);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	__builtin_memcpy(&e->flow, f, sizeof(e->flow));
	e->type = type;
	e->backend_id = be_id;
	e->old_backend_id = old_be_id;
	e->svc_id = svc_id;
	bpf_ringbuf_submit(e, 0);
}

#endif
