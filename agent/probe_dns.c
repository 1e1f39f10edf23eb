// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS probe on c-ares: one channel per probe whose only server is the
 * backend. c-ares reports its sockets through ARES_OPT_SOCK_STATE_CB, the
 * loop feeds readiness back with ares_process_fd. Healthy = NOERROR with at
 * least one answer record. The verdict is kept until c-ares returns: a
 * callback may stop the probe, which destroys the channel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <ares.h>
#include "loop.h"
#include "probe.h"

enum { DNS_CLASS_IN = 1, DNS_TYPE_A = 1, DNS_TYPE_NS = 2, DNS_HEADER_LEN = 12 };

struct dns_probe {
	struct probe *pr;
	ares_channel channel;
	bool in_flight;
	bool answered;			/* verdict below not yet delivered */
	bool ok;
	char error[96];
};

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};

	return rcode < (int)(sizeof(names) / sizeof(names[0])) ? names[rcode] : NULL;
}

/* ARES_FLAG_NOCHECKRESP hands us SERVFAIL/REFUSED answers as they are,
 * so the header says what the server said. */
static void judge(struct dns_probe *dp, int status, const unsigned char *abuf, int alen)
{
	int rcode, ancount;

	dp->ok = false;
	if (status != ARES_SUCCESS) {
		snprintf(dp->error, sizeof(dp->error), "dns: %s", ares_strerror(status));
		return;
	}
	if (alen < DNS_HEADER_LEN) {
		snprintf(dp->error, sizeof(dp->error), "dns: short answer");
		return;
	}
	rcode = abuf[3] & 0x0f;
	ancount = abuf[6] << 8 | abuf[7];
	if (rcode && rcode_name(rcode))
		snprintf(dp->error, sizeof(dp->error), "dns: %s", rcode_name(rcode));
	else if (rcode)
		snprintf(dp->error, sizeof(dp->error), "dns: rcode %d", rcode);
	else if (!ancount)
		snprintf(dp->error, sizeof(dp->error), "dns: no answer records");
	else
		dp->ok = true;
}

static void on_dns_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_probe *dp = arg;

	(void)timeouts;
	/* Our own cancel or teardown: the scheduler already knows. */
	if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION || !dp->in_flight)
		return;
	dp->answered = true;
	judge(dp, status, abuf, alen);
}

/* Call only once c-ares has returned; dp may be freed after. */
static void deliver_verdict(struct dns_probe *dp)
{
	if (!dp->answered)
		return;
	dp->answered = false;
	dp->in_flight = false;
	if (dp->ok)
		probe_succeed(dp->pr);
	else
		probe_fail(dp->pr, "%s", dp->error);
}

static void on_dns_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_probe *dp = arg;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	(void)l;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rfd = fd;
	if (events & EPOLLOUT)
		wfd = fd;
	ares_process_fd(dp->channel, rfd, wfd);
	deliver_verdict(dp);
}

static void on_dns_socket_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_probe *dp = data;
	struct loop *l = probe_loop(dp->pr);
	uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

	if (!events)
		loop_del_fd(l, fd);
	else if (loop_mod_fd(l, fd, events) == -ENOENT)
		loop_add_fd(l, fd, events, on_dns_fd, dp);
}

static int open_channel(struct dns_probe *dp, const struct probe_target *t)
{
	struct ares_options o = { 0 };
	struct ares_addr_port_node server = { 0 };
	int mask = ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS | ARES_OPT_SOCK_STATE_CB;

	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES |
		  (t->cfg->dns_tcp ? ARES_FLAG_USEVC : 0);
	o.tries = 1;
	/* Longer than the scheduler's deadline, which cancels first. */
	o.timeout = (int)t->cfg->timeout_ms * 2 + 1000;
	o.sock_state_cb = on_dns_socket_state;
	o.sock_state_cb_data = dp;
	if (ares_init_options(&dp->channel, &o, mask) != ARES_SUCCESS)
		return -ENOMEM;
	server.family = t->family == VEER_AF_INET6 ? AF_INET6 : AF_INET;
	memcpy(&server.addr, t->addr.b, t->family == VEER_AF_INET6 ? 16 : 4);
	server.udp_port = server.tcp_port = t->port;
	if (ares_set_servers_ports(dp->channel, &server) != ARES_SUCCESS) {
		ares_destroy(dp->channel);
		dp->channel = NULL;
		return -ENOMEM;
	}
	return 0;
}

static struct dns_probe *dns_state(struct probe *pr)
{
	struct dns_probe *dp = probe_kind_state(pr);

	if (dp)
		return dp;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return NULL;
	dp = calloc(1, sizeof(*dp));
	if (dp)
		dp->pr = pr;
	if (!dp || open_channel(dp, probe_target(pr))) {
		free(dp);
		ares_library_cleanup();
		return NULL;
	}
	probe_set_kind_state(pr, dp);
	return dp;
}

/* The root has no A record; ask it for NS, anything else for A. */
static int build_query(const char *name, unsigned char **q, int *qlen)
{
	int type = strcmp(name, ".") ? DNS_TYPE_A : DNS_TYPE_NS;

	return ares_create_query(name, DNS_CLASS_IN, type, 0, 1, q, qlen, 0);
}

static int dns_start(struct probe *pr)
{
	struct dns_probe *dp = dns_state(pr);
	const char *name = probe_target(pr)->cfg->query;
	unsigned char *q;
	int qlen;

	if (!dp)
		return -ENOMEM;
	if (build_query(name, &q, &qlen) != ARES_SUCCESS) {
		probe_fail(pr, "dns: bad query name \"%s\"", name);
		return 0;
	}
	dp->answered = false;
	dp->in_flight = true;
	ares_send(dp->channel, q, qlen, on_dns_answer, dp);
	ares_free_string(q);
	deliver_verdict(dp);	/* c-ares may have failed at once */
	return 0;
}

static void dns_cancel(struct probe *pr)
{
	struct dns_probe *dp = probe_kind_state(pr);

	if (!dp || !dp->in_flight)
		return;
	dp->in_flight = false;
	dp->answered = false;
	ares_cancel(dp->channel);	/* also closes its sockets: the next try reconnects */
}

static void dns_release(struct probe *pr)
{
	struct dns_probe *dp = probe_kind_state(pr);

	if (!dp)
		return;
	dns_cancel(pr);
	ares_destroy(dp->channel);
	ares_library_cleanup();
	free(dp);
	probe_set_kind_state(pr, NULL);
}

const struct probe_kind probe_kind_dns = {
	.start = dns_start,
	.cancel = dns_cancel,
	.release = dns_release,
};
