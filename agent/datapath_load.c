// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Open, size, pin-or-reuse and load the datapath object. Every map gets a
 * pin path under the state directory: libbpf reuses a compatible pinned
 * map (and the flows in it) or creates and pins a new one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "veer_abi.h"
#include "clock_sync.h"
#include "datapath.h"
#include "log.h"
#include "veer.skel.h"

/*
 * libbpf 1.1 cannot reuse a pinned devmap: the kernel adds
 * BPF_F_RDONLY_PROG to its flags, which then differ from the definition.
 * Hand libbpf the pinned map ourselves when it matches.
 */
static int reuse_devmap(struct bpf_map *map, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	if (bpf_map__type(map) != BPF_MAP_TYPE_DEVMAP &&
	    bpf_map__type(map) != BPF_MAP_TYPE_DEVMAP_HASH)
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;	/* not pinned yet: libbpf creates and pins it */
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (!ret && (info.type != bpf_map__type(map) ||
		     info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) ||
		     info.max_entries != bpf_map__max_entries(map)))
		ret = -EINVAL;
	if (!ret)
		ret = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (ret)
		snprintf(err, errlen, "pinned map %s does not match this veer (%s): remove it and retry",
			 path, strerror(-ret));
	return ret;
}

static int set_pins(struct veer_bpf *skel, const char *state_dir, char *err, size_t errlen)
{
	struct bpf_map *map;
	char path[512];
	int ret;

	bpf_object__for_each_map(map, skel->obj) {
		const char *name = bpf_map__name(map);

		/* Internal maps (.rodata, .bss) are per load, never pinned. */
		if (!name || strchr(name, '.'))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", state_dir, name) >= (int)sizeof(path)) {
			snprintf(err, errlen, "pin path for map %s too long: use a shorter state_dir than %s",
				 name, state_dir);
			return -ENAMETOOLONG;
		}
		ret = reuse_devmap(map, path, err, errlen);
		if (ret)
			return ret;
		ret = bpf_map__set_pin_path(map, path);
		if (ret) {
			snprintf(err, errlen, "set pin path %s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

struct veer_bpf *dp_open_load(const struct dp_opts *o, char *err, size_t errlen)
{
	uint32_t ct = o && o->ct_size ? o->ct_size : VEER_CT_DEFAULT_SIZE;
	struct veer_bpf *skel;
	int ret;

	skel = veer_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "open BPF object: %s (rebuild veer: make)", strerror(errno));
		return NULL;
	}
	/* The reverse maps hold one entry per tracked flow: size them alike. */
	ret = bpf_map__set_max_entries(skel->maps.veer_ct_v1, ct);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.veer_rnat_v1, ct);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.veer_snat_v1, ct);
	if (ret) {
		snprintf(err, errlen, "set conntrack size %u: %s", ct, strerror(-ret));
		goto fail;
	}
	if (o && o->state_dir) {
		ret = set_pins(skel, o->state_dir, err, errlen);
		if (ret)
			goto fail;
	}
	ret = veer_bpf__load(skel);
	if (ret) {
		if (o && o->state_dir)
			snprintf(err, errlen,
				 "load BPF object: %s; a pinned map under %s may have an "
				 "incompatible size or layout (conntrack size changed?): "
				 "remove the pins there (veer's teardown does it) and retry; "
				 "verifier details are in the libbpf log above",
				 strerror(-ret), o->state_dir);
		else
			snprintf(err, errlen,
				 "load BPF object: %s; needs root or CAP_BPF+CAP_NET_ADMIN and "
				 "kernel >= 6.1; verifier details are in the libbpf log above",
				 strerror(-ret));
		goto fail;
	}
	/* Not fatal: without it the datapath reads the slower helper clock. */
	if (clock_sync(bpf_program__fd(skel->progs.veer_clock_sample),
		       bpf_map__fd(skel->maps.veer_clock_v1), err, errlen))
		pr_warn("conntrack clock not calibrated, using the helper clock", "error=\"%s\"", err);
	return skel;
fail:
	veer_bpf__destroy(skel);
	return NULL;
}

void dp_close(struct veer_bpf *skel)
{
	veer_bpf__destroy(skel);
}
