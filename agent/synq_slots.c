// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include "synq_slots.h"

#define SYNQ_BYTES ((size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot))

/* Every held slot to fn, through one mapping of the (mmap-able) map: 1 MiB
 * read at once, not 16 384 lookups. clear: free the slots fn says yes to;
 * else stop at fn's first non-zero. */
static int visit(int fd, synq_fn fn, void *arg, int clear)
{
	struct veer_syn_slot *mem, q;
	struct veer_flow k;
	struct veer_ct ct;
	int ret = 0, n = 0;

	mem = mmap(NULL, SYNQ_BYTES, PROT_READ | (clear ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	for (uint32_t i = 0; i < VEER_SYNQ_SLOTS && (clear || !ret); i++) {
		q = mem[i];	/* a copy: the datapath writes under us */
		if (!q.stamp_ns)
			continue;
		veer_syn_slot_flow(&q, &k);
		veer_syn_slot_ct(&q, &ct);
		ret = fn(&k, &ct, arg);
		if (clear && ret) {
			mem[i].stamp_ns = 0;
			n++;
		}
	}
	munmap(mem, SYNQ_BYTES);
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
