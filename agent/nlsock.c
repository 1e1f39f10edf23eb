// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <netlink/socket.h>
#include "nlsock.h"

struct nl_sock *nl_listen(nl_recvmsg_msg_cb_t on_msg, void *arg, const int *groups)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	/* Multicast messages carry no sequence numbers of ours. */
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, arg);
	if (nl_connect(sk, NETLINK_ROUTE))
		goto fail;
	for (; *groups; groups++)
		if (nl_socket_add_membership(sk, *groups))
			goto fail;
	if (nl_socket_set_nonblocking(sk))
		goto fail;
	/* Bursts (a link flap withdraws many routes) must not overrun it. */
	nl_socket_set_buffer_size(sk, 1 << 20, 0);
	return sk;
fail:
	nl_socket_free(sk);
	return NULL;
}
