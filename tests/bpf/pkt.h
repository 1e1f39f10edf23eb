/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet builders for the datapath fixtures: Ethernet + IPv4/IPv6 +
 * TCP/UDP/ICMP(v6) from a declarative spec, every checksum computed from
 * scratch (RFC 1071 over the finished bytes), never incrementally, so an
 * expected packet does not share the datapath's arithmetic.
 */
#ifndef VEER_TEST_PKT_H
#define VEER_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

enum pkt_csum {
	PKT_CSUM_FULL = 0,	/* a correct full L4 checksum */
	PKT_CSUM_PARTIAL,	/* what CHECKSUM_PARTIAL holds: the pseudo-header sum */
	PKT_CSUM_ZERO,		/* UDP over IPv4 without checksum */
};

struct pspec {
	int v6;
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	const char *src, *dst;		/* addresses as text */
	uint16_t sport, dport;
	uint8_t flags;			/* TCP flags */
	uint32_t seq, ack;
	uint16_t window;
	uint8_t ttl;			/* 0: 64 */
	uint16_t ip_id;
	const uint8_t *payload;
	uint16_t payload_len;
	enum pkt_csum csum;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_rest;		/* the 4 bytes after the checksum (MTU...) */
	const struct pspec *inner;	/* ICMP error: the quoted packet (IP hdr + 8 bytes) */
	const struct pspec *inner_l4csum_from; /* quote keeps this packet's L4 checksum */
	int swap_macs;			/* MACs of the other direction */
	const uint8_t *smac, *dmac;	/* override the default MACs */
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

extern const uint8_t MAC_A[6], MAC_B[6];

/* Ethernet frame of s into buf; returns its length. Aborts on a bad spec. */
size_t pkt_build(const struct pspec *s, uint8_t *buf);
/* The IP packet only (no Ethernet header). */
size_t pkt_build_l3(const struct pspec *s, uint8_t *buf);

/* One's complement helpers the builders and a few cases use. */
uint32_t pkt_sum(const uint8_t *p, size_t n, uint32_t acc);
uint16_t pkt_fold(uint32_t acc);
/* Offset of the L4 header in a frame built from s. */
size_t pkt_l4_off(const struct pspec *s);

void pkt_hexdump(const char *tag, const uint8_t *p, size_t n);

#endif
