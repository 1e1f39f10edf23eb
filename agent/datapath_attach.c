// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaching veer's programs to interfaces, so that they outlive veerd:
 * - XDP through a bpf_link pinned at STATE/links/xdp_IFNAME; a new veerd
 *   (or a new object) swaps the program in with bpf_link_update, atomically.
 * - tc on the clsact ingress hook as a direct-action filter at a fixed
 *   handle and priority; BPF_TC_F_REPLACE swaps it atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"
#include "log.h"
#include "veer.skel.h"

#define VEER_TC_HANDLE 0x7ee0
#define VEER_TC_PRIO 1

static void link_pin_path(char *buf, size_t len, const char *state_dir, const char *ifname)
{
	snprintf(buf, len, "%s/links/xdp_%s", state_dir, ifname);
}

/* An existing pin is reused only if it still points at this ifindex:
 * interface names come back with new indexes when pods are recreated. */
static struct bpf_link *open_pinned_xdp_link(const char *path, int ifindex)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	struct bpf_link *link;

	if (access(path, F_OK))
		return NULL;	/* first attach here: nothing to reuse */
	link = bpf_link__open(path);
	if (!link)
		return NULL;
	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) ||
	    info.type != BPF_LINK_TYPE_XDP || (int)info.xdp.ifindex != ifindex) {
		bpf_link__destroy(link);
		unlink(path);
		return NULL;
	}
	return link;
}

static int attach_xdp(struct veer_bpf *skel, const char *state_dir, int ifindex,
		      const char *ifname, char *err, size_t errlen)
{
	struct bpf_link *link = NULL;
	char path[512], dir[400];
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/links", state_dir);
	mkdir(dir, 0700);
	link_pin_path(path, sizeof(path), state_dir, ifname);
	link = open_pinned_xdp_link(path, ifindex);
	if (link) {
		ret = bpf_link__update_program(link, skel->progs.veer_xdp);
		if (ret)
			snprintf(err, errlen, "%s: replacing XDP program: %s", ifname, strerror(-ret));
		goto out;
	}
	link = bpf_program__attach_xdp(skel->progs.veer_xdp, ifindex);
	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "%s: attaching XDP: %s%s", ifname, strerror(-ret),
			 ret == -EBUSY || ret == -EEXIST ?
			 " (another XDP program is attached: remove it, or use mode: tc)" : "");
		return ret;
	}
	ret = bpf_link__pin(link, path);
	if (ret)
		snprintf(err, errlen, "%s: pinning XDP link at %s: %s", ifname, path, strerror(-ret));
out:
	bpf_link__disconnect(link);	/* the pin keeps it attached */
	bpf_link__destroy(link);
	return ret;
}

static int detach_xdp(const char *state_dir, const char *ifname)
{
	char path[512];

	link_pin_path(path, sizeof(path), state_dir, ifname);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;	/* the last reference is gone: the kernel detaches */
}

static int attach_tc(struct veer_bpf *skel, int ifindex, const char *ifname,
		     char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VEER_TC_HANDLE, .priority = VEER_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(skel->progs.veer_tc_ingress));
	int ret = bpf_tc_attach(&hook, &opts);

	/* The clsact qdisc usually exists already (a restart, other users):
	 * create it only when the attach says it is missing. */
	if (ret) {
		ret = bpf_tc_hook_create(&hook);
		if (ret && ret != -EEXIST) {
			snprintf(err, errlen, "%s: creating clsact qdisc: %s", ifname, strerror(-ret));
			return ret;
		}
		opts.prog_id = 0;
		ret = bpf_tc_attach(&hook, &opts);
	}
	if (ret)
		snprintf(err, errlen, "%s: attaching tc ingress: %s", ifname, strerror(-ret));
	return ret;
}

static int detach_tc(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VEER_TC_HANDLE, .priority = VEER_TC_PRIO);
	int ret = bpf_tc_detach(&hook, &opts);

	return ret == -ENOENT || ret == -EINVAL ? 0 : ret;
}

int dp_attach(struct veer_bpf *skel, const char *state_dir, int ifindex,
	      const char *ifname, enum dp_mode mode, char *err, size_t errlen)
{
	int ret;

	/* tc first: in XDP mode it handles what XDP defers (partial checksums). */
	ret = attach_tc(skel, ifindex, ifname, err, errlen);
	if (ret)
		return ret;
	if (mode == DP_MODE_XDP)
		return attach_xdp(skel, state_dir, ifindex, ifname, err, errlen);
	return detach_xdp(state_dir, ifname);
}

int dp_detach(const char *state_dir, int ifindex, const char *ifname)
{
	int r1 = detach_xdp(state_dir, ifname);
	int r2 = ifindex > 0 ? detach_tc(ifindex) : 0;

	return r1 ? r1 : r2;
}

static void remove_dir_entries(const char *dir)
{
	char path[1024];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno == EISDIR)
			remove_dir_entries(path);
	}
	closedir(d);
	rmdir(dir);
}

int dp_teardown(const char *state_dir)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	char links[512];

	/* tc filters hold no pin: look for ours on every interface. */
	for (i = ifs; i && i->if_index; i++)
		detach_tc(i->if_index);
	if (ifs)
		if_freenameindex(ifs);
	snprintf(links, sizeof(links), "%s/links", state_dir);
	remove_dir_entries(links);
	remove_dir_entries(state_dir);
	return 0;
}
