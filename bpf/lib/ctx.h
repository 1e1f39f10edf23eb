/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One context for XDP and tc. Every helper takes the entry's ctx and a kind
 * that is a compile-time constant at each entry, so after inlining each
 * helper folds to its XDP or its tc branch and costs nothing.
 */
#ifndef VEER_BPF_CTX_H
#define VEER_BPF_CTX_H

#include "common.h"

enum vkind { VK_XDP = 0, VK_TC = 1 };

/*
 * The packet pointers are loaded with an explicit instruction: left to
 * itself clang may keep ctx + offsetof(data_end) in a register across a
 * helper call and load through it later, which the verifier refuses
 * ("dereference of modified ctx ptr").
 */
#define CTX_LOAD_U32(ctx, type, field) ({					\
	__u64 __v;								\
	asm volatile("%0 = *(u32 *)(%1 + %2)"					\
		     : "=r"(__v) : "r"(ctx), "i"(__builtin_offsetof(type, field)));	\
	(void *)(long)__v;							\
})

static __always_inline void *ctx_data(void *ctx, enum vkind k)
{
	if (k == VK_XDP)
		return CTX_LOAD_U32(ctx, struct xdp_md, data);
	return CTX_LOAD_U32(ctx, struct __sk_buff, data);
}

static __always_inline void *ctx_data_end(void *ctx, enum vkind k)
{
	if (k == VK_XDP)
		return CTX_LOAD_U32(ctx, struct xdp_md, data_end);
	return CTX_LOAD_U32(ctx, struct __sk_buff, data_end);
}

/* Whole frame length (tc: including non-linear data). */
static __always_inline __u32 ctx_len(void *ctx, enum vkind k)
{
	if (k == VK_XDP)
		return ctx_data_end(ctx, k) - ctx_data(ctx, k);
	return ((struct __sk_buff *)ctx)->len;
}

static __always_inline __u32 ctx_ifindex(void *ctx, enum vkind k)
{
	if (k == VK_XDP)
		return ((struct xdp_md *)ctx)->ingress_ifindex;
	return ((struct __sk_buff *)ctx)->ingress_ifindex;
}

/* Headers we may touch: L2 + IPv6 + ICMPv6 + quoted IPv6 + 8 bytes. */
#define CTX_HDR_BYTES 126

/* tc: make sure the headers are in the linear area (GRO'd or paged skbs);
 * a no-op for XDP, whose frame (without xdp.frags) is always linear. */
static __always_inline void ctx_pull_headers(void *ctx, enum vkind k)
{
	struct __sk_buff *skb = ctx;
	__u32 want;

	if (k == VK_XDP)
		return;
	if (skb->data_end - skb->data >= CTX_HDR_BYTES)
		return;
	want = skb->len < CTX_HDR_BYTES ? skb->len : CTX_HDR_BYTES;
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
}

/* XDP marks a frame it rewrote and handed to the stack, so the tc program
 * on the same interface lets it through without translating or counting
 * it twice. */
#define VEER_META_MAGIC 0x76656572u	/* "veer" */

static __always_inline void ctx_mark_handled(void *ctx, enum vkind k)
{
	struct xdp_md *x = ctx;
	__u32 *meta;

	if (k != VK_XDP)
		return;
	if (bpf_xdp_adjust_meta(x, -(int)sizeof(__u32)))
		return;
	meta = (void *)(long)x->data_meta;
	if ((void *)(meta + 1) > (void *)(long)x->data)
		return;
	*meta = VEER_META_MAGIC;
}

static __always_inline int ctx_is_marked(void *ctx, enum vkind k)
{
	struct __sk_buff *skb = ctx;
	__u32 *meta;

	if (k != VK_TC)
		return 0;
	meta = (void *)(long)skb->data_meta;
	if ((void *)(meta + 1) > (void *)(long)skb->data)
		return 0;
	return *meta == VEER_META_MAGIC;
}

#endif
