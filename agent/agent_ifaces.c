// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which interfaces veer runs on: every interface whose name matches
 * node.interfaces (names or globs), followed as they come and go. Each one
 * also gets an entry in veer_if_v1 telling the XDP program whether a frame
 * redirected out of it is really delivered (node.redirect).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "datapath.h"
#include "ifaces.h"
#include "log.h"

#define MAX_KNOWN 4096

struct known_iface {
	int ifindex;
	char name[64];
	bool attached;
	enum dp_mode mode;	/* as attached */
};

/* One veerd per process: the interfaces seen so far. */
static struct known_iface known[MAX_KNOWN];
static size_t n_known;

static struct known_iface *find_known(int ifindex)
{
	for (size_t i = 0; i < n_known; i++)
		if (known[i].ifindex == ifindex)
			return &known[i];
	return NULL;
}

static bool xdp_tx_ok(const struct agent *a, const char *name)
{
	switch (a->cfg->node.redirect) {
	case CFG_REDIRECT_ALWAYS: return true;
	case CFG_REDIRECT_NEVER: return false;
	default: return iface_is_physical(name);
	}
}

static void write_iface_maps(struct agent *a, struct known_iface *k)
{
	struct veer_iface v = { .flags = VEER_IF_F_ATTACHED };
	__u32 idx = k->ifindex;

	if (xdp_tx_ok(a, k->name))
		v.flags |= VEER_IF_F_XDP_TX_OK;
	bpf_map_update_elem(a->maps.ifaces, &idx, &v, BPF_ANY);
	if (v.flags & VEER_IF_F_XDP_TX_OK)
		bpf_map_update_elem(a->maps.tx, &idx, &idx, BPF_ANY);
	else
		bpf_map_delete_elem(a->maps.tx, &idx);
}

static void attach_one(struct agent *a, struct known_iface *k)
{
	enum dp_mode mode = a->cfg->node.mode == CFG_MODE_TC ? DP_MODE_TC : DP_MODE_XDP;
	char err[256];

	if (dp_attach(a->skel, a->state_dir, k->ifindex, k->name, mode, err, sizeof(err))) {
		pr_err("attach failed", "iface=%s error=\"%s\"", k->name, err);
		return;
	}
	write_iface_maps(a, k);
	k->mode = mode;
	if (!k->attached) {
		a->n_attached++;
		pr_info("attached", "iface=%s ifindex=%d mode=%s", k->name, k->ifindex,
			mode == DP_MODE_TC ? "tc" : "xdp");
	}
	k->attached = true;
}

static void detach_one(struct agent *a, struct known_iface *k, bool gone)
{
	__u32 idx = k->ifindex;

	if (!k->attached)
		return;
	dp_detach(a->state_dir, gone ? -1 : k->ifindex, k->name);
	bpf_map_delete_elem(a->maps.ifaces, &idx);
	bpf_map_delete_elem(a->maps.tx, &idx);
	k->attached = false;
	a->n_attached--;
	pr_info(gone ? "interface gone" : "detached", "iface=%s ifindex=%d", k->name, k->ifindex);
}

static bool wanted(const struct agent *a, const char *name)
{
	return iface_matches(name, (const char (*)[64])a->cfg->node.interfaces,
			     a->cfg->node.n_interfaces);
}

static void on_iface(void *arg, int ifindex, const char *name, bool present)
{
	struct agent *a = arg;
	struct known_iface *k = find_known(ifindex);

	if (!present) {
		if (k) {
			detach_one(a, k, true);
			*k = known[--n_known];
		}
		return;
	}
	if (!k) {
		if (n_known == MAX_KNOWN)
			return;
		k = &known[n_known++];
		memset(k, 0, sizeof(*k));
		k->ifindex = ifindex;
	} else if (strcmp(k->name, name)) {
		detach_one(a, k, false);	/* renamed: the link pin is by name */
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	if (wanted(a, name) && !k->attached)
		attach_one(a, k);
	else if (!wanted(a, name) && k->attached)
		detach_one(a, k, false);
}

void agent_ifaces_refresh(struct agent *a)
{
	enum dp_mode mode = a->cfg->node.mode == CFG_MODE_TC ? DP_MODE_TC : DP_MODE_XDP;

	for (size_t i = 0; i < n_known; i++) {
		if (wanted(a, known[i].name)) {
			if (!known[i].attached || known[i].mode != mode)
				attach_one(a, &known[i]);
			else
				write_iface_maps(a, &known[i]);	/* node.redirect may have changed */
		} else
			detach_one(a, &known[i], false);
	}
}

int agent_ifaces_start(struct agent *a, char *err, size_t errlen)
{
	a->ifw = ifwatch_new(a->loop, on_iface, a, err, errlen);
	if (!a->ifw)
		return -1;
	if (!a->n_attached)
		pr_warn("no interface matches node.interfaces yet", "patterns=%zu waiting=true",
			a->cfg->node.n_interfaces);
	return 0;
}
