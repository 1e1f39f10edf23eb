/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* An rtnetlink socket that listens to multicast groups (libnl). */
#ifndef VEER_NLSOCK_H
#define VEER_NLSOCK_H

#include <netlink/netlink.h>
#include <netlink/handlers.h>

/* Non-blocking, subscribed to groups (ending with 0), every valid message
 * to on_msg(arg). NULL on failure. */
struct nl_sock *nl_listen(nl_recvmsg_msg_cb_t on_msg, void *arg, const int *groups);

#endif
