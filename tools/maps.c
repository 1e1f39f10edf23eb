// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "veer_abi.h"
#include "maps.h"
#include "output.h"

#define WALK_CHUNK 256	/* entries per batch lookup */

struct vmap_spec {
	const char *name;
	uint32_t key_size, value_size;
	bool percpu;
};

static const struct vmap_spec specs[VMAP__COUNT] = {
	[VMAP_CFG] = { VEER_MAP_CONFIG, 4, sizeof(struct veer_config), false },
	[VMAP_SVC] = { VEER_MAP_SERVICES, sizeof(struct veer_svc_key), sizeof(struct veer_svc), false },
	[VMAP_BE] = { VEER_MAP_BACKENDS, 4, sizeof(struct veer_backend), false },
	[VMAP_MAGLEV] = { VEER_MAP_MAGLEV, 4, 4, false },
	[VMAP_CT] = { VEER_MAP_CT, sizeof(struct veer_flow), sizeof(struct veer_ct), false },
	[VMAP_CT_SYN] = { VEER_MAP_CT_SYN, sizeof(struct veer_flow), sizeof(struct veer_ct), false },
	[VMAP_RNAT] = { VEER_MAP_RNAT, sizeof(struct veer_flow), sizeof(struct veer_rnat), false },
	[VMAP_RNAT_SYN] = { VEER_MAP_RNAT_SYN, sizeof(struct veer_flow), sizeof(struct veer_rnat), false },
	[VMAP_SNAT] = { VEER_MAP_SNAT, sizeof(struct veer_flow), sizeof(struct veer_rnat), false },
	[VMAP_SVC_STAT] = { VEER_MAP_SVC_STAT, 4, sizeof(struct veer_svc_stats), true },
	[VMAP_BE_STAT] = { VEER_MAP_BE_STAT, 4, sizeof(struct veer_be_stats), true },
	[VMAP_DROPS] = { VEER_MAP_DROPS, 4, sizeof(__u64), true },
	[VMAP_SVC_META] = { VEER_MAP_SVC_META, 4, sizeof(struct veer_svc_meta), false },
	[VMAP_HEALTH] = { VEER_MAP_HEALTH, 4, sizeof(struct veer_health), false },
	[VMAP_SYNQ] = { VEER_MAP_SYNQ, 4, sizeof(struct veer_syn_slot), false },
	[VMAP_FLOW_GEN] = { VEER_MAP_FLOW_GEN, 4, sizeof(__u32), false },
};

static int fds[VMAP__COUNT] = { [0 ... VMAP__COUNT - 1] = -1 };

const char *vmap_name(enum vmap m)
{
	return specs[m].name;
}

static bool is_percpu_type(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Does dir hold any pin named prefix* (e.g. "veer_" or "veer_svc_v")? */
static bool dir_has_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return found;
}

static void report_mismatch(const char *name)
{
	out_error("map %s layout mismatch (veerctl built for ABI v%d): upgrade veerctl or veerd",
		  name, VEER_ABI_VERSION);
}

static void report_open_error(const char *dir, const char *name, int err)
{
	char other_version[32];

	/* "veer_svc_v1" -> "veer_svc_v": another version of the same map */
	snprintf(other_version, sizeof(other_version), "%.*s", (int)strlen(name) - 1, name);
	if (err == ENOENT && !dir_has_prefix(dir, "veer_"))
		out_error("no veer maps under %s: veerd has not run on this node: "
			  "start it or pass --state-dir", dir);
	else if (err == ENOENT && dir_has_prefix(dir, other_version))
		report_mismatch(name);
	else if (err == ENOENT)
		out_error("map %s not found under %s (veerctl built for ABI v%d): "
			  "upgrade veerctl or veerd", name, dir, VEER_ABI_VERSION);
	else if (err == EACCES || err == EPERM)
		out_error("cannot open %s/%s: %s: run veerctl as root", dir, name, strerror(err));
	else
		out_error("cannot open %s/%s: %s", dir, name, strerror(err));
}

static bool layout_ok(int fd, const struct vmap_spec *s)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.key_size == s->key_size && info.value_size == s->value_size &&
	       is_percpu_type(info.type) == s->percpu;
}

int vmap_fd(const char *state_dir, enum vmap m)
{
	const struct vmap_spec *s = &specs[m];
	char path[4096];
	int fd;

	if (fds[m] >= 0)
		return fds[m];
	snprintf(path, sizeof(path), "%s/%s", state_dir, s->name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		int err = errno;

		report_open_error(state_dir, s->name, err);
		return -err;
	}
	if (!layout_ok(fd, s)) {
		close(fd);
		report_mismatch(s->name);
		return -EPROTO;
	}
	fds[m] = fd;
	return fd;
}

int vmap_fd_optional(const char *state_dir, enum vmap m)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", state_dir, specs[m].name);
	if (fds[m] < 0 && access(path, F_OK))
		return -ENOENT;
	return vmap_fd(state_dir, m);
}

void vmap_close_all(void)
{
	for (int m = 0; m < VMAP__COUNT; m++) {
		if (fds[m] >= 0)
			close(fds[m]);
		fds[m] = -1;
	}
}

uint32_t vmap_capacity(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

int vmap_ncpus(void)
{
	static int ncpus;

	if (!ncpus)
		ncpus = libbpf_num_possible_cpus();
	return ncpus > 0 ? ncpus : 1;
}

size_t vmap_percpu_size(size_t value_size)
{
	return ((value_size + 7) & ~(size_t)7) * vmap_ncpus();
}

int vmap_lookup_sum(int fd, const void *key, size_t value_size, uint64_t *sum)
{
	size_t stride = (value_size + 7) & ~(size_t)7;
	size_t n = value_size / sizeof(uint64_t);
	uint64_t *all = calloc(1, vmap_percpu_size(value_size));

	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, all)) {
		int err = -errno;

		free(all);
		return err;
	}
	memset(sum, 0, n * sizeof(*sum));
	for (int cpu = 0; cpu < vmap_ncpus(); cpu++)
		for (size_t i = 0; i < n; i++)
			sum[i] += all[cpu * stride / sizeof(uint64_t) + i];
	free(all);
	return 0;
}

/* One key at a time: for kernels or map types without batch lookups. */
static int walk_keys(int fd, size_t key_size, size_t value_size, vmap_walk_fn fn, void *arg)
{
	char *key = calloc(1, key_size), *next = calloc(1, key_size);
	char *value = calloc(1, value_size);
	int err = -ENOMEM;

	if (!key || !next || !value)
		goto out;
	err = bpf_map_get_next_key(fd, NULL, next);
	while (!err) {
		if (!bpf_map_lookup_elem(fd, next, value)) {
			err = fn(next, value, arg);
			if (err)
				goto out;
		}
		memcpy(key, next, key_size);
		err = bpf_map_get_next_key(fd, key, next);
	}
	err = errno == ENOENT ? 0 : -errno;
out:
	free(key);
	free(next);
	free(value);
	return err;
}

struct batch {
	size_t key_size, value_size, chunk;
	char *keys, *values;
	char token_in[64], token_out[64];	/* bucket index or last key */
};

static int batch_grow(struct batch *b, size_t chunk)
{
	char *keys = realloc(b->keys, chunk * b->key_size);

	if (keys)
		b->keys = keys;
	char *values = realloc(b->values, chunk * b->value_size);

	if (values)
		b->values = values;
	if (!keys || !values)
		return -ENOMEM;
	b->chunk = chunk;
	return 0;
}

/* Returns 0 when done, > 0 / < 0 as vmap_walk; *visited counts entries. */
static int walk_batches(int fd, struct batch *b, vmap_walk_fn fn, void *arg, size_t *visited)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	void *in = NULL;

	for (;;) {
		__u32 count = b->chunk;
		int err = bpf_map_lookup_batch(fd, in, b->token_out, b->keys, b->values,
					       &count, &opts) ? -errno : 0;

		if (err == -ENOSPC && !count) {	/* a hash bucket larger than the chunk */
			if (batch_grow(b, b->chunk * 2))
				return -ENOMEM;
			continue;
		}
		if (err && err != -ENOENT)
			return err;
		for (__u32 i = 0; i < count; i++, (*visited)++) {
			int r = fn(b->keys + i * b->key_size, b->values + i * b->value_size, arg);

			if (r)
				return r;
		}
		if (err)
			return 0;	/* -ENOENT: no more entries */
		memcpy(b->token_in, b->token_out, sizeof(b->token_in));
		in = b->token_in;
	}
}

int vmap_walk(int fd, size_t key_size, size_t value_size, vmap_walk_fn fn, void *arg)
{
	struct batch b = { .key_size = key_size, .value_size = value_size };
	size_t visited = 0;
	int err;

	if (key_size > sizeof(b.token_in))
		return walk_keys(fd, key_size, value_size, fn, arg);
	err = batch_grow(&b, WALK_CHUNK);
	if (!err)
		err = walk_batches(fd, &b, fn, arg, &visited);
	free(b.keys);
	free(b.values);
	if ((err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) && !visited)
		return walk_keys(fd, key_size, value_size, fn, arg);
	return err;
}

int vmap_inner_fd(uint32_t map_id, uint32_t *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_map_get_fd_by_id(map_id);

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size != 4 ||
	    info.value_size != 4) {
		close(fd);
		return -EPROTO;
	}
	*max_entries = info.max_entries;
	return fd;
}
