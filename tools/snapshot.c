// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "maps.h"
#include "output.h"
#include "snapshot.h"

struct growing {
	void *items;
	size_t n, cap, size;
};

static void *grow_push(struct growing *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		void *items = realloc(g->items, cap * g->size);

		if (!items)
			return NULL;
		g->items = items;
		g->cap = cap;
	}
	return (char *)g->items + g->n++ * g->size;
}

static int collect_service(const void *key, const void *value, void *arg)
{
	struct svc_view *v = grow_push(arg);

	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	memcpy(&v->key, key, sizeof(v->key));
	memcpy(&v->svc, value, sizeof(v->svc));
	v->id = v->svc.id;
	return 0;
}

static int collect_backend(const void *key, const void *value, void *arg)
{
	const struct veer_backend *be = value;
	struct be_view *v;

	if (be->state == VEER_BE_UNUSED)
		return 0;
	v = grow_push(arg);
	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	memcpy(&v->id, key, sizeof(v->id));
	v->be = *be;
	return 0;
}

static int cmp_svc_id(const void *a, const void *b)
{
	const struct svc_view *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_be_id(const void *a, const void *b)
{
	const struct be_view *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* veerd's name for the service, if its meta slot describes this key. */
static void join_meta(int meta_fd, struct svc_view *v)
{
	if (bpf_map_lookup_elem(meta_fd, &v->id, &v->meta) || !v->meta.in_use ||
	    memcmp(&v->meta.key, &v->key, sizeof(v->key)))
		return;
	v->has_meta = true;
	memcpy(v->name, v->meta.name, VEER_NAME_LEN);
	v->name[VEER_NAME_LEN] = '\0';
}

/* Open map m if wanted: *fd is its fd, or -1 when not wanted. */
static int open_if(bool wanted, const char *dir, enum vmap m, int *fd)
{
	*fd = wanted ? vmap_fd(dir, m) : -1;
	return wanted && *fd < 0 ? *fd : 0;
}

static int load_services(const char *dir, struct snapshot *s, unsigned int parts)
{
	struct growing g = { .size = sizeof(struct svc_view) };
	int svc_fd, meta_fd, stat_fd, err;

	err = open_if(true, dir, VMAP_SVC, &svc_fd);
	if (!err)
		err = open_if(true, dir, VMAP_SVC_META, &meta_fd);
	if (!err)
		err = open_if(parts & SNAP_STATS, dir, VMAP_SVC_STAT, &stat_fd);
	if (err)
		return err;
	err = vmap_walk(svc_fd, sizeof(struct veer_svc_key), sizeof(struct veer_svc),
			collect_service, &g);
	s->svcs = g.items;
	s->n_svcs = g.n;
	if (err < 0) {
		out_error("cannot read %s: %s", vmap_name(VMAP_SVC), strerror(-err));
		return err;
	}
	qsort(s->svcs, s->n_svcs, sizeof(*s->svcs), cmp_svc_id);
	for (size_t i = 0; i < s->n_svcs; i++) {
		join_meta(meta_fd, &s->svcs[i]);
		if (stat_fd >= 0)
			vmap_lookup_sum(stat_fd, &s->svcs[i].id, sizeof(struct veer_svc_stats),
					(uint64_t *)&s->svcs[i].stats);
	}
	return 0;
}

static void join_backend_extras(struct be_view *v, int health_fd, int stat_fd)
{
	if (health_fd >= 0)
		v->has_health = !bpf_map_lookup_elem(health_fd, &v->id, &v->health);
	if (v->has_health)
		v->health.reason[VEER_REASON_LEN - 1] = '\0';
	if (stat_fd >= 0)
		vmap_lookup_sum(stat_fd, &v->id, sizeof(struct veer_be_stats),
				(uint64_t *)&v->stats);
}

static int load_backends(const char *dir, struct snapshot *s, unsigned int parts)
{
	struct growing g = { .size = sizeof(struct be_view) };
	int be_fd, health_fd, stat_fd, err;

	err = open_if(true, dir, VMAP_BE, &be_fd);
	if (!err)
		err = open_if(parts & SNAP_HEALTH, dir, VMAP_HEALTH, &health_fd);
	if (!err)
		err = open_if(parts & SNAP_STATS, dir, VMAP_BE_STAT, &stat_fd);
	if (err)
		return err;
	err = vmap_walk(be_fd, 4, sizeof(struct veer_backend), collect_backend, &g);
	s->bes = g.items;
	s->n_bes = g.n;
	if (err < 0) {
		out_error("cannot read %s: %s", vmap_name(VMAP_BE), strerror(-err));
		return err;
	}
	qsort(s->bes, s->n_bes, sizeof(*s->bes), cmp_be_id);
	for (size_t i = 0; i < s->n_bes; i++)
		join_backend_extras(&s->bes[i], health_fd, stat_fd);
	return 0;
}

int snap_load(const char *state_dir, struct snapshot *s, unsigned int parts)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (parts & SNAP_HEALTH)
		parts |= SNAP_BACKENDS;
	err = load_services(state_dir, s, parts);
	if (!err && (parts & SNAP_BACKENDS))
		err = load_backends(state_dir, s, parts);
	if (err)
		snap_free(s);
	return err;
}

void snap_free(struct snapshot *s)
{
	free(s->svcs);
	free(s->bes);
	memset(s, 0, sizeof(*s));
}

const struct svc_view *snap_svc_by_id(const struct snapshot *s, uint32_t id)
{
	struct svc_view key = { .id = id };

	return bsearch(&key, s->svcs, s->n_svcs, sizeof(*s->svcs), cmp_svc_id);
}

const struct be_view *snap_be_by_id(const struct snapshot *s, uint32_t id)
{
	struct be_view key = { .id = id };

	return bsearch(&key, s->bes, s->n_bes, sizeof(*s->bes), cmp_be_id);
}

const char *svc_name(const struct svc_view *v)
{
	return v->has_meta && v->name[0] ? v->name : NULL;
}

const struct svc_view *snap_find_service(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n_svcs; i++)
		if (svc_name(&s->svcs[i]) && !strcmp(s->svcs[i].name, name))
			return &s->svcs[i];
	out_error("no service %s (see 'veerctl service list')", name);
	return NULL;
}

static int cmp_svc_name(const void *a, const void *b)
{
	const struct svc_view *x = *(const struct svc_view *const *)a;
	const struct svc_view *y = *(const struct svc_view *const *)b;
	const char *nx = svc_name(x), *ny = svc_name(y);

	if (nx && ny && strcmp(nx, ny))
		return strcmp(nx, ny);
	if (!nx != !ny)
		return nx ? -1 : 1;
	return cmp_svc_id(x, y);
}

const struct svc_view **snap_svcs_by_name(const struct snapshot *s)
{
	const struct svc_view **sorted = calloc(s->n_svcs + 1, sizeof(*sorted));

	if (!sorted)
		return NULL;
	for (size_t i = 0; i < s->n_svcs; i++)
		sorted[i] = &s->svcs[i];
	qsort(sorted, s->n_svcs, sizeof(*sorted), cmp_svc_name);
	return sorted;
}
