// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include "ifaces.h"
#include "log.h"
#include "nlsock.h"

struct ifwatch {
	struct nl_sock *sk;
	iface_cb cb;
	void *arg;
};

bool iface_matches(const char *name, const char (*patterns)[64], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!fnmatch(patterns[i], name, 0))
			return true;
	return false;
}

bool iface_is_physical(const char *name)
{
	char path[256];

	/* Only devices backed by hardware have a device link in sysfs. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	return access(path, F_OK) == 0;
}

static void report_link(struct ifwatch *w, struct rtnl_link *link, bool present)
{
	const char *name = rtnl_link_get_name(link);

	if (name)
		w->cb(w->arg, rtnl_link_get_ifindex(link), name, present);
}

/* Context for libnl's object callbacks. */
struct link_report {
	struct ifwatch *w;
	bool present;
};

static void report_obj(struct nl_object *obj, void *arg)
{
	struct link_report *r = arg;

	report_link(r->w, (struct rtnl_link *)obj, r->present);
}

static int on_nl_valid(struct nl_msg *msg, void *arg)
{
	int type = nlmsg_hdr(msg)->nlmsg_type;
	struct link_report r = { .w = arg, .present = type == RTM_NEWLINK };

	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		nl_msg_parse(msg, report_obj, &r);
	return NL_OK;
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ifwatch *w = arg;

	(void)l; (void)fd; (void)events;
	/* Drain everything queued; ENOBUFS means we missed events. */
	while (nl_recvmsgs_default(w->sk) >= 0)
		;
}

static int report_existing(struct ifwatch *w)
{
	struct link_report r = { .w = w, .present = true };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int ret;

	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (!ret)
		ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (!ret) {
		nl_cache_foreach(cache, report_obj, &r);
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
	return ret ? -EIO : 0;
}

struct ifwatch *ifwatch_new(struct loop *l, iface_cb cb, void *arg, char *err, size_t errlen)
{
	struct ifwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->sk = nl_listen(on_nl_valid, w, (const int[]){ RTNLGRP_LINK, 0 });
	if (!w->sk)
		goto fail;
	/* Subscribe first, then list: nothing that appears in between is lost. */
	if (report_existing(w))
		goto fail;
	if (loop_add_fd(l, nl_socket_get_fd(w->sk), EPOLLIN, on_readable, w))
		goto fail;
	return w;
fail:
	snprintf(err, errlen, "netlink: cannot watch interfaces (needs CAP_NET_ADMIN)");
	if (w->sk)
		nl_socket_free(w->sk);
	free(w);
	return NULL;
}

void ifwatch_free(struct loop *l, struct ifwatch *w)
{
	if (!w)
		return;
	loop_del_fd(l, nl_socket_get_fd(w->sk));
	nl_socket_free(w->sk);
	free(w);
}
