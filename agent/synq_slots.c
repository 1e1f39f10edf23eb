// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "synq_slots.h"

/* A held slot as a flow, or 0 if slot i is free or unreadable. mem: the
 * map's mapping, or NULL to look the slot up. */
static int read_slot(int fd, const struct veer_syn_slot *mem, uint32_t i,
		     struct veer_syn_slot *q)
{
	if (mem)
		*q = mem[i];	/* a copy: the datapath writes under us */
	else if (bpf_map_lookup_elem(fd, &i, q))
		return 0;
	return q->stamp_ns != 0;
}

static void free_slot(int fd, struct veer_syn_slot *mem, uint32_t i, struct veer_syn_slot *q)
{
	if (mem) {
		mem[i].stamp_ns = 0;
		return;
	}
	q->stamp_ns = 0;
	bpf_map_update_elem(fd, &i, q, BPF_EXIST);
}

/* Every held slot to fn. The map is mmap-able, so 1 MiB is read through
 * one mapping rather than 16 384 lookups; a map pinned without that flag
 * (made by hand) is read by lookups. clear: free the slots fn says yes
 * to; else stop at fn's first non-zero. */
static int visit(int fd, synq_fn fn, void *arg, int clear)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct veer_syn_slot *mem, q;
	struct veer_flow k;
	struct veer_ct ct;
	size_t bytes;
	int ret = 0, n = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(q))
		return -EPROTO;
	bytes = (size_t)info.max_entries * sizeof(q);
	mem = mmap(NULL, bytes, PROT_READ | (clear ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		mem = NULL;
	for (uint32_t i = 0; i < info.max_entries && (clear || !ret); i++) {
		if (!read_slot(fd, mem, i, &q))
			continue;
		veer_syn_slot_flow(&q, &k);
		veer_syn_slot_ct(&q, &ct);
		ret = fn(&k, &ct, arg);
		if (clear && ret) {
			free_slot(fd, mem, i, &q);
			n++;
		}
	}
	if (mem)
		munmap(mem, bytes);
	return clear ? n : ret;
}

int synq_walk(int fd, synq_fn fn, void *arg)
{
	return visit(fd, fn, arg, 0);
}

int synq_clear(int fd, synq_fn match, void *arg)
{
	return visit(fd, match, arg, 1);
}
