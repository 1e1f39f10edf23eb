// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include "synq_slots.h"

#define SYNQ_BYTES ((size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot))

/* The map is mmap-able: 1 MiB in one mapping, not 16 384 lookups. */
static struct veer_syn_slot *synq_map(int fd, int prot)
{
	void *mem = mmap(NULL, SYNQ_BYTES, prot, MAP_SHARED, fd, 0);

	return mem == MAP_FAILED ? NULL : mem;
}

static void slot_as_flow(const struct veer_syn_slot *q, struct veer_flow *k, struct veer_ct *ct)
{
	memset(k, 0, sizeof(*k));
	k->src = q->client;
	k->dst = q->vip;
	k->sport = q->cport;
	k->dport = q->vport;
	k->proto = IPPROTO_TCP;
	k->family = q->family;
	memset(ct, 0, sizeof(*ct));
	ct->last_seen_ns = q->stamp_ns;
	ct->created_ns = q->created_ns;
	ct->backend_id = q->backend_id;
	ct->svc_id = q->svc_id;
	ct->state = VEER_CT_SYN_SENT;
	ct->syn_count = q->syn_count;
}

int synq_walk(int fd, synq_fn fn, void *arg)
{
	struct veer_syn_slot *mem = synq_map(fd, PROT_READ), q;
	struct veer_flow k;
	struct veer_ct ct;
	int ret = 0;

	if (!mem)
		return -errno;
	for (uint32_t i = 0; i < VEER_SYNQ_SLOTS && !ret; i++) {
		q = mem[i];	/* a copy: the datapath writes under us */
		if (!q.stamp_ns)
			continue;
		slot_as_flow(&q, &k, &ct);
		ret = fn(&k, &ct, arg);
	}
	munmap(mem, SYNQ_BYTES);
	return ret;
}

int synq_clear(int fd, synq_fn match, void *arg)
{
	struct veer_syn_slot *mem = synq_map(fd, PROT_READ | PROT_WRITE), q;
	struct veer_flow k;
	struct veer_ct ct;
	int n = 0;

	if (!mem)
		return -errno;
	for (uint32_t i = 0; i < VEER_SYNQ_SLOTS; i++) {
		q = mem[i];
		if (!q.stamp_ns)
			continue;
		slot_as_flow(&q, &k, &ct);
		if (!match(&k, &ct, arg))
			continue;
		mem[i].stamp_ns = 0;
		n++;
	}
	munmap(mem, SYNQ_BYTES);
	return n;
}
