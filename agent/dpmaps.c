// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dpmaps.h"
#include "synq_slots.h"
#include "veer.skel.h"

static int map_fd(struct veer_bpf *skel, const char *name, char *err, size_t errlen)
{
	struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, name);
	int fd = map ? bpf_map__fd(map) : -ENOENT;

	if (fd < 0)
		snprintf(err, errlen, "BPF object has no map %s: rebuild veer (make)", name);
	return fd;
}

int dp_maps_from_skel(struct veer_bpf *skel, struct dp_maps *m, char *err, size_t errlen)
{
	struct { int *fd; const char *name; } all[] = {
		{ &m->cfg, VEER_MAP_CONFIG }, { &m->svc, VEER_MAP_SERVICES },
		{ &m->be, VEER_MAP_BACKENDS }, { &m->maglev, VEER_MAP_MAGLEV },
		{ &m->ct, VEER_MAP_CT }, { &m->ctsyn, VEER_MAP_CT_SYN },
		{ &m->rnat, VEER_MAP_RNAT }, { &m->rnsyn, VEER_MAP_RNAT_SYN },
		{ &m->ifaces, VEER_MAP_IFACES }, { &m->tx, VEER_MAP_TXPORTS },
		{ &m->svc_stat, VEER_MAP_SVC_STAT }, { &m->be_stat, VEER_MAP_BE_STAT },
		{ &m->drops, VEER_MAP_DROPS }, { &m->events, VEER_MAP_EVENTS },
		{ &m->meta, VEER_MAP_SVC_META }, { &m->health, VEER_MAP_HEALTH },
		{ &m->snat, VEER_MAP_SNAT }, { &m->ports, VEER_MAP_PORTS },
		{ &m->fibgen, VEER_MAP_FIB_GEN }, { &m->vips, VEER_MAP_VIPS },
		{ &m->synq, VEER_MAP_SYNQ }, { &m->flowgen, VEER_MAP_FLOW_GEN },
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		*all[i].fd = map_fd(skel, all[i].name, err, errlen);
		if (*all[i].fd < 0)
			return *all[i].fd;
	}
	return 0;
}

int dp_gen_bump(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t zero = 0, gen = 0, *g;

	g = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g != MAP_FAILED) {
		__atomic_fetch_add(g, 1, __ATOMIC_SEQ_CST);
		munmap(g, (size_t)page);
		return 0;
	}
	/* Not mmap-able (veer_fibgen_v1): its one writer is the caller. */
	if (bpf_map_lookup_elem(fd, &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

int dp_fib_invalidate(const struct dp_maps *m)
{
	return dp_gen_bump(m->fibgen);
}

/* Set bit `bit` of the words at byte words_off of a one-entry prefilter
 * map (value: __u32 enabled, then the words) and turn the filter on. */
static int filter_bit_set(int fd, size_t value_size, size_t words_off, uint32_t bit)
{
	uint8_t *val = calloc(1, value_size);
	uint32_t *enabled = (uint32_t *)val, zero = 0;
	__u64 *w;
	int ret = 0;

	if (!val)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, val)) {
		ret = -errno;
		goto out;
	}
	w = (__u64 *)(val + words_off) + bit / 64;
	if (*enabled && (*w & (1ULL << (bit % 64))))
		goto out;	/* nothing to write */
	*w |= 1ULL << (bit % 64);
	*enabled = 1;
	if (bpf_map_update_elem(fd, &zero, val, BPF_ANY))
		ret = -errno;
out:
	free(val);
	return ret;
}

int dp_port_set(const struct dp_maps *m, uint16_t port, int backend)
{
	size_t off = backend ? offsetof(struct veer_ports, be_sport)
			     : offsetof(struct veer_ports, svc_dport);

	return filter_bit_set(m->ports, sizeof(struct veer_ports), off, port);
}

int dp_vip_set(const struct dp_maps *m, const struct veer_addr *vip)
{
	return filter_bit_set(m->vips, sizeof(struct veer_vips),
			      offsetof(struct veer_vips, bits), veer_vip_bit(vip));
}

static uint32_t *slot_indexes(uint32_t m)
{
	uint32_t *keys = malloc(m * sizeof(*keys));

	for (uint32_t i = 0; keys && i < m; i++)
		keys[i] = i;
	return keys;
}

int dp_table_write(int fd, uint32_t m, const uint32_t *table)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	/* An array map's elements are 8-byte aligned: slot i of a table of
	 * 4-byte values starts at byte 8 * i of the mapping. */
	size_t len = ((size_t)m * 8 + 4095) & ~(size_t)4095;
	uint32_t *keys, count = m;
	void *mem;
	int ret = 0;

	/* Tables are mmap-able: plain stores beat a 16381-element batch
	 * update (~5 ms, one copy_from_user per slot) by two orders of magnitude.
	 * Each 4-byte slot store is atomic, and only the inactive table is
	 * ever written. */
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem != MAP_FAILED) {
		uint32_t *slot = mem;

		for (uint32_t i = 0; i < m; i++)
			slot[2 * i] = table[i];
		munmap(mem, len);
		return 0;
	}
	keys = slot_indexes(m);
	if (!keys)
		return -ENOMEM;
	/* One syscall for the whole table: 16381 single updates cost ~10 ms. */
	if (bpf_map_update_batch(fd, keys, table, &count, &bopts))
		ret = -errno;
	free(keys);
	return ret;
}

int dp_table_create(uint32_t svc_id, uint32_t m, const uint32_t *table)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	char name[16];
	int fd, ret;

	snprintf(name, sizeof(name), "veer_mg_%u", svc_id);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), sizeof(uint32_t), m, &opts);
	if (fd < 0)
		return -errno;
	ret = dp_table_write(fd, m, table);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int dp_table_open(const struct dp_maps *m, uint32_t key, uint32_t *size)
{
	struct bpf_map_info info = {};
	uint32_t inner_id, len = sizeof(info);
	int fd;

	if (bpf_map_lookup_elem(m->maglev, &key, &inner_id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -errno;
	}
	*size = info.max_entries;
	return fd;
}

int dp_tables_install(const struct dp_maps *m, const uint32_t *keys, const int *fds, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	uint32_t count = n;

	if (!n)
		return 0;
	return bpf_map_update_batch(m->maglev, keys, fds, &count, &bopts) ? -errno : 0;
}

int dp_table_remove(const struct dp_maps *m, uint32_t svc_id)
{
	for (uint32_t gen = 0; gen < 2; gen++) {
		uint32_t key = svc_id * 2 + gen;

		if (bpf_map_delete_elem(m->maglev, &key) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int flush_ct_map(int ct_fd, int rnat_fd, uint32_t svc_id, uint32_t backend_id,
			const struct dp_maps *m)
{
	struct veer_flow key, next, rkey;
	struct veer_ct ct;
	struct veer_backend be;
	int removed = 0, more;

	more = !bpf_map_get_next_key(ct_fd, NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(ct_fd, &key, &next);
		if (bpf_map_lookup_elem(ct_fd, &key, &ct) || ct.svc_id != svc_id)
			continue;
		if (backend_id != VEER_BACKEND_NONE && ct.backend_id != backend_id)
			continue;
		/* The reply tuple: backend -> client (or -> SNAT address). */
		if (!bpf_map_lookup_elem(m->be, &ct.backend_id, &be)) {
			memset(&rkey, 0, sizeof(rkey));
			rkey.src = be.addr;
			rkey.sport = be.port;
			rkey.dst = key.src;
			rkey.dport = key.sport;
			rkey.proto = key.proto;
			rkey.family = key.family;
			/* A full NAT flow's reverse entry is its port claim. */
			if ((be.flags & VEER_BE_F_NAT_FULL) && ct.nat_port) {
				rkey.dst = be.snat;
				rkey.dport = ct.nat_port;
				bpf_map_delete_elem(m->snat, &rkey);
			} else {
				bpf_map_delete_elem(rnat_fd, &rkey);
			}
		}
		if (!bpf_map_delete_elem(ct_fd, &key))
			removed++;
	}
	return removed;
}

struct flush_match {
	uint32_t svc_id, backend_id;
};

static int slot_matches(const void *flow, const void *value, void *arg)
{
	const struct flush_match *fm = arg;
	const struct veer_ct *ct = value;

	(void)flow;
	return ct->svc_id == fm->svc_id &&
	       (fm->backend_id == VEER_BACKEND_NONE || ct->backend_id == fm->backend_id);
}

int dp_flows_flush(const struct dp_maps *m, uint32_t svc_id, uint32_t backend_id)
{
	struct flush_match fm = { svc_id, backend_id };
	int slots = synq_clear(m->synq, slot_matches, &fm), n;

	n = flush_ct_map(m->ct, m->rnat, svc_id, backend_id, m) +
	    flush_ct_map(m->ctsyn, m->rnsyn, svc_id, backend_id, m) + (slots > 0 ? slots : 0);
	dp_gen_bump(m->flowgen);	/* after the deletes: see bpf/lib/flowcache.h */
	return n;
}
