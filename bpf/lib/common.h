/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Includes and small constants every datapath library needs. */
#ifndef VEER_BPF_COMMON_H
#define VEER_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "veer_abi.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define NSEC_PER_SEC 1000000000ULL


/* Internal verdicts; the entry maps them to XDP_* or TC_ACT_*. */
enum verdict {
	V_NOT_SVC = -2,	/* not a service packet (lb.h: svc_packet) */
	V_CONT = -1,	/* keep going: not decided yet */
	V_PASS = 0,
	V_DROP,
	V_TX,		/* send back out of the ingress interface */
	V_REDIRECT,	/* a redirect helper already chose the egress */
};

static __always_inline int addr_eq(const struct veer_addr *a, const struct veer_addr *b)
{
	return ((a->v6[0] ^ b->v6[0]) | (a->v6[1] ^ b->v6[1]) |
		(a->v6[2] ^ b->v6[2]) | (a->v6[3] ^ b->v6[3])) == 0;
}

#endif
