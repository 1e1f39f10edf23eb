// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pkt.h"

const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };

uint32_t pkt_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

uint16_t pkt_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void addr(const struct pspec *s, const char *txt, uint8_t *out)
{
	if (inet_pton(s->v6 ? AF_INET6 : AF_INET, txt, out) != 1) {
		fprintf(stderr, "bad address %s\n", txt);
		abort();
	}
}

static uint32_t pseudo_sum(const struct pspec *s, const uint8_t *src, const uint8_t *dst,
			   size_t l4len, uint8_t proto)
{
	size_t alen = s->v6 ? 16 : 4;
	uint32_t acc = pkt_sum(src, alen, 0);

	acc = pkt_sum(dst, alen, acc);
	acc += (uint32_t)l4len;		/* v6: 32-bit length, high half 0 */
	return acc + proto;
}

static size_t build_l4(const struct pspec *s, const uint8_t *src, const uint8_t *dst,
		       uint8_t *l4)
{
	size_t n = 0, csum_off = 0;
	uint32_t acc;
	uint16_t c;

	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = 5 << 4;
		l4[13] = s->flags;
		put16(l4 + 14, s->window);
		put16(l4 + 16, 0);
		put16(l4 + 18, 0);
		n = 20;
		csum_off = 16;
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, 8 + s->payload_len);
		put16(l4 + 6, 0);
		n = 8;
		csum_off = 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 2, 0);
		put32(l4 + 4, s->icmp_rest);
		n = 8;
		csum_off = 2;
		if (s->inner) {
			uint8_t q[PKT_MAX];
			size_t ql = pkt_build_l3(s->inner, q);
			size_t keep = (s->inner->v6 ? 40 : 20) + 8;

			if (s->inner_l4csum_from && s->inner->proto == IPPROTO_UDP) {
				uint8_t o[PKT_MAX];

				pkt_build_l3(s->inner_l4csum_from, o);
				memcpy(q + keep - 2, o + keep - 2, 2);
			}
			if (keep > ql)
				keep = ql;
			memcpy(l4 + n, q, keep);
			n += keep;
		}
		break;
	default:
		abort();
	}
	memcpy(l4 + n, s->payload, s->payload_len);
	n += s->payload_len;

	if (s->proto == IPPROTO_ICMP) {
		c = ~pkt_fold(pkt_sum(l4, n, 0));
	} else {
		acc = pseudo_sum(s, src, dst, n, s->proto);
		if (s->csum == PKT_CSUM_PARTIAL) {
			c = pkt_fold(acc);
		} else if (s->csum == PKT_CSUM_ZERO) {
			c = 0;
		} else {
			c = ~pkt_fold(pkt_sum(l4, n, acc));
			if (c == 0 && s->proto == IPPROTO_UDP)
				c = 0xffff;
		}
	}
	put16(l4 + csum_off, c);
	return n;
}

size_t pkt_build_l3(const struct pspec *s, uint8_t *b)
{
	uint8_t src[16], dst[16];
	size_t hl = s->v6 ? 40 : 20, l4n;
	uint8_t ttl = s->ttl ? s->ttl : 64;

	addr(s, s->src, src);
	addr(s, s->dst, dst);
	l4n = build_l4(s, src, dst, b + hl);
	if (s->v6) {
		put32(b, 6u << 28);
		put16(b + 4, l4n);
		b[6] = s->proto;
		b[7] = ttl;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
	} else {
		b[0] = 0x45;
		b[1] = 0;
		put16(b + 2, 20 + l4n);
		put16(b + 4, s->ip_id);
		put16(b + 6, 0x4000);	/* DF */
		b[8] = ttl;
		b[9] = s->proto;
		put16(b + 10, 0);
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		put16(b + 10, ~pkt_fold(pkt_sum(b, 20, 0)));
	}
	return hl + l4n;
}

size_t pkt_build(const struct pspec *s, uint8_t *buf)
{
	const uint8_t *d = s->swap_macs ? MAC_A : MAC_B;
	const uint8_t *sm = s->swap_macs ? MAC_B : MAC_A;

	memcpy(buf, s->dmac ? s->dmac : d, 6);
	memcpy(buf + 6, s->smac ? s->smac : sm, 6);
	put16(buf + 12, s->v6 ? 0x86dd : 0x0800);
	return 14 + pkt_build_l3(s, buf + 14);
}

size_t pkt_l4_off(const struct pspec *s)
{
	return 14 + (s->v6 ? 40 : 20);
}

void pkt_hexdump(const char *tag, const uint8_t *p, size_t n)
{
	size_t i;

	printf("#   %s (%zu bytes):", tag, n);
	for (i = 0; i < n; i++)
		printf("%s%02x", i % 16 ? " " : "\n#     ", p[i]);
	printf("\n");
}
