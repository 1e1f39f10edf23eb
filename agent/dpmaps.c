// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dpmaps.h"
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
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		*all[i].fd = map_fd(skel, all[i].name, err, errlen);
		if (*all[i].fd < 0)
			return *all[i].fd;
	}
	return 0;
}

int dp_table_create(uint32_t svc_id, uint32_t m, const uint32_t *table)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	uint32_t *keys = NULL;
	char name[16];
	int fd, ret = 0;

	snprintf(name, sizeof(name), "veer_mg_%u", svc_id);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), sizeof(uint32_t), m, &opts);
	if (fd < 0)
		return -errno;
	keys = malloc(m * sizeof(*keys));
	if (!keys) {
		close(fd);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m; i++)
		keys[i] = i;
	/* One syscall for the whole table: 16381 single updates cost ~10 ms. */
	{
		LIBBPF_OPTS(bpf_map_batch_opts, bopts);
		uint32_t count = m;

		if (bpf_map_update_batch(fd, keys, table, &count, &bopts))
			ret = -errno;
	}
	free(keys);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int dp_table_install(const struct dp_maps *m, uint32_t svc_id, int table_fd)
{
	return bpf_map_update_elem(m->maglev, &svc_id, &table_fd, BPF_ANY) ? -errno : 0;
}

int dp_table_remove(const struct dp_maps *m, uint32_t svc_id)
{
	return bpf_map_delete_elem(m->maglev, &svc_id) && errno != ENOENT ? -errno : 0;
}

int dp_table_read(const struct dp_maps *m, uint32_t svc_id, uint32_t *table, uint32_t size)
{
	uint32_t inner_id;
	int fd, ret = 0;

	if (bpf_map_lookup_elem(m->maglev, &svc_id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	for (uint32_t i = 0; i < size && !ret; i++)
		if (bpf_map_lookup_elem(fd, &i, &table[i]))
			ret = -errno;
	close(fd);
	return ret;
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
			if (be.flags & VEER_BE_F_NAT_FULL) {
				rkey.dst = be.snat;
				rkey.dport = ct.nat_port;
			}
			bpf_map_delete_elem(rnat_fd, &rkey);
		}
		if (!bpf_map_delete_elem(ct_fd, &key))
			removed++;
	}
	return removed;
}

int dp_flows_flush(const struct dp_maps *m, uint32_t svc_id, uint32_t backend_id)
{
	return flush_ct_map(m->ct, m->rnat, svc_id, backend_id, m) +
	       flush_ct_map(m->ctsyn, m->rnsyn, svc_id, backend_id, m);
}
