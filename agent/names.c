// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <netinet/in.h>
#include <stdio.h>
#include "veer_abi.h"
#include "names.h"

/* Sized by the enum: a reason added to the ABI without a name here shows
 * as "reason_N" rather than reading past the table. */
static const char *const reasons[VEER_R__COUNT] = {
	[VEER_R_PASS_NOT_IP] = "pass_not_ip",
	[VEER_R_PASS_NOT_SERVICE] = "pass_not_service",
	[VEER_R_FWD] = "fwd",
	[VEER_R_FWD_REPLY] = "fwd_reply",
	[VEER_R_DROP_TRUNCATED] = "drop_truncated",
	[VEER_R_DROP_BAD_IHL] = "drop_bad_ihl",
	[VEER_R_DROP_BAD_LEN] = "drop_bad_len",
	[VEER_R_PASS_IP_OPTIONS] = "pass_ip_options",
	[VEER_R_DROP_FRAGMENT] = "drop_fragment",
	[VEER_R_PASS_IPV6_EXTHDR] = "pass_ipv6_exthdr",
	[VEER_R_DROP_UDP_ZERO_LEN] = "drop_udp_zero_len",
	[VEER_R_DROP_NO_BACKEND] = "drop_no_backend",
	[VEER_R_REFUSED] = "refused",
	[VEER_R_PASS_FIB_FAIL] = "pass_fib_fail",
	[VEER_R_DROP_TTL] = "drop_ttl",
	[VEER_R_DROP_SNAT_EXHAUSTED] = "drop_snat_exhausted",
	[VEER_R_DROP_MTU] = "drop_mtu",
	[VEER_R_FWD_ICMP] = "fwd_icmp",
	[VEER_R_REPICK] = "repick",
	[VEER_R_PASS_VLAN] = "pass_vlan",
	[VEER_R_DROP_BAD_L4] = "drop_bad_l4",
	[VEER_R_XDP_DEFER_CSUM] = "xdp_defer_csum",
	[VEER_R_XDP_PASS_STACK] = "xdp_pass_stack",
	[VEER_R_EVENTS_LOST] = "events_lost",
	[VEER_R_DECAP] = "decap",
};

static const char *const be_states[] = {
	[VEER_BE_UNUSED] = "unused",
	[VEER_BE_ACTIVE] = "active",
	[VEER_BE_DRAINING] = "draining",
	[VEER_BE_DOWN] = "down",
};

static const char *const ct_states[] = {
	[VEER_CT_SYN_SENT] = "syn_sent",
	[VEER_CT_ESTABLISHED] = "established",
	[VEER_CT_CLOSING] = "closing",
	[VEER_CT_UDP] = "udp",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(const char *const *names, size_t n, unsigned int v,
			  const char *fallback)
{
	static __thread char buf[32];

	if (v < n && names[v])
		return names[v];
	snprintf(buf, sizeof(buf), "%s_%u", fallback, v);
	return buf;
}

const char *reason_name(unsigned int reason)
{
	return lookup(reasons, ARRAY_LEN(reasons), reason, "reason");
}

const char *be_state_name(unsigned int state)
{
	return lookup(be_states, ARRAY_LEN(be_states), state, "state");
}

const char *ct_state_name(unsigned int state)
{
	return lookup(ct_states, ARRAY_LEN(ct_states), state, "state");
}

const char *proto_name(unsigned int proto)
{
	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_UDP)
		return "udp";
	return lookup(NULL, 0, proto, "proto");
}
