// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include "nlsock.h"
#include "routewatch.h"

struct routewatch {
	struct nl_sock *sk;
	route_change_cb cb;
	void *arg;
	unsigned seen;		/* messages in the current burst */
};

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct routewatch *w = arg;

	(void)msg;
	w->seen++;	/* what changed does not matter: any change may move a hop */
	return NL_OK;
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct routewatch *w = arg;
	int ret;

	(void)l; (void)fd; (void)events;
	w->seen = 0;
	while ((ret = nl_recvmsgs_default(w->sk)) >= 0)
		;
	/* An overrun (messages lost) counts as a change too. */
	if (w->seen || ret != -NLE_AGAIN)
		w->cb(w->arg);
}

struct routewatch *routewatch_new(struct loop *l, route_change_cb cb, void *arg,
				  char *err, size_t errlen)
{
	struct routewatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->sk = nl_listen(on_msg, w, (const int[]){ RTNLGRP_LINK, RTNLGRP_NEIGH,
				RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE,
				RTNLGRP_IPV6_RULE, 0 });
	if (!w->sk)
		goto fail;
	if (loop_add_fd(l, nl_socket_get_fd(w->sk), EPOLLIN, on_readable, w))
		goto fail;
	return w;
fail:
	snprintf(err, errlen, "netlink: cannot watch routes (needs CAP_NET_ADMIN)");
	if (w->sk)
		nl_socket_free(w->sk);
	free(w);
	return NULL;
}

void routewatch_free(struct loop *l, struct routewatch *w)
{
	if (!w)
		return;
	loop_del_fd(l, nl_socket_get_fd(w->sk));
	nl_socket_free(w->sk);
	free(w);
}
