/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one definition of everything the BPF datapath and user space share:
 * map key/value layouts, counters, events and limits. No includes beyond
 * the kernel's fixed-width types, so both sides can take it as is.
 *
 * Every map name carries a layout version (_v1). A change to a struct used
 * by a map bumps that map's version, so an old pin is never misread.
 */
#ifndef VEER_ABI_H
#define VEER_ABI_H

#include <linux/types.h>

#define VEER_ABI_VERSION 1

/* Limits: map sizes the loader creates (conntrack size is set at load). */
#define VEER_MAX_SERVICES      16384
#define VEER_MAX_BACKENDS      131072
#define VEER_MAGLEV_DEFAULT_M  16381
#define VEER_MAGLEV_MAX_M      131071
#define VEER_CT_DEFAULT_SIZE   (1 << 20)
#define VEER_CT_SYN_SIZE       (1 << 16)
#define VEER_RNAT_SIZE         (1 << 20)
#define VEER_MAX_IFACES        512
#define VEER_RINGBUF_BYTES     (1 << 20)

/* Pinned map names (<= 15 chars, the kernel's limit). */
#define VEER_MAP_CONFIG   "veer_cfg_v1"
#define VEER_MAP_SERVICES "veer_svc_v1"
#define VEER_MAP_BACKENDS "veer_be_v1"
#define VEER_MAP_MAGLEV   "veer_maglev_v2"
#define VEER_MAP_CT       "veer_ct_v1"
#define VEER_MAP_CT_SYN   "veer_ctsyn_v1"
#define VEER_MAP_RNAT     "veer_rnat_v1"
#define VEER_MAP_RNAT_SYN "veer_rnsyn_v1"
#define VEER_MAP_SNAT     "veer_snat_v1"
#define VEER_MAP_IFACES   "veer_if_v1"
#define VEER_MAP_TXPORTS  "veer_tx_v1"
#define VEER_MAP_SVC_STAT "veer_svcst_v1"
#define VEER_MAP_BE_STAT  "veer_best_v1"
#define VEER_MAP_DROPS    "veer_drop_v1"
#define VEER_MAP_EVENTS   "veer_events_v1"
#define VEER_MAP_SVC_META "veer_svcmeta_v1"	/* written by veerd only */
#define VEER_MAP_HEALTH   "veer_health_v1"	/* written by veerd only */
#define VEER_MAP_PORTS    "veer_ports_v1"	/* written by veerd only */
#define VEER_MAP_FIB_GEN  "veer_fibgen_v1"	/* written by veerd only */
#define VEER_MAP_FIB_CACHE "veer_fibc_v1"	/* the datapath's own */
#define VEER_MAP_FIB_RCACHE "veer_fibr_v1"	/* the datapath's own */
#define VEER_MAP_VIPS     "veer_vips_v1"	/* written by veerd only */
#define VEER_MAP_SYNQ     "veer_synq_v1"	/* the datapath's own */
#define VEER_MAP_CLOCK    "veer_clock_v1"	/* written by the loader only */
#define VEER_MAP_FLOW_CACHE "veer_flowc_v1"	/* the datapath's own */
#define VEER_MAP_REPLY_CACHE "veer_replyc_v1"	/* the datapath's own */
#define VEER_MAP_FLOW_GEN "veer_flowgen_v1"	/* bumped by the datapath and user space */

#define VEER_AF_INET  4
#define VEER_AF_INET6 6

/* An IPv4 or IPv6 address in network byte order; IPv4 uses v4, rest zero. */
struct veer_addr {
	union {
		__u32 v4;
		__u32 v6[4];
		__u8 b[16];
	};
};

/* veer_svc_v1 key: what a client addresses. */
struct veer_svc_key {
	struct veer_addr vip;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* VEER_AF_INET or VEER_AF_INET6 */
};

enum veer_svc_flags {
	/* Nothing usable and panic=refuse: answer new flows with RST (TCP)
	 * or drop and count (UDP) so clients fail fast. */
	VEER_SVC_F_REFUSE = 1 << 0,
	/* No usable backend at all: new flows are dropped and counted. */
	VEER_SVC_F_EMPTY  = 1 << 1,
	/* The active Maglev table is the service's second one (see below). */
	VEER_SVC_F_TABLE_B = 1 << 2,
	/* Every backend is plain DNAT, so every answer to a SYN passes this
	 * node: a pure SYN skips the established map (see bpf/lib/lb.h). */
	VEER_SVC_F_PLAIN = 1 << 3,
};

/*
 * veer_maglev_v2 holds two tables per service, at slots id * 2 and
 * id * 2 + 1. veerd fills the inactive one and flips VEER_SVC_F_TABLE_B in
 * the service's entry: one hash-map update swaps the table atomically, and
 * no write to the outer map (each costs the kernel an RCU grace period,
 * ~15 ms) is on the failover path.
 */
#define VEER_MAGLEV_SLOT(id, flags) ((id) * 2 + (((flags) & VEER_SVC_F_TABLE_B) ? 1 : 0))

struct veer_svc {
	__u32 id;		/* index into maglev, stats */
	__u32 table_size;	/* Maglev M of the current inner table */
	__u32 flags;		/* enum veer_svc_flags */
	__u32 udp_timeout_s;	/* 0: global default */
};

enum veer_backend_state {
	VEER_BE_UNUSED = 0,	/* slot free */
	VEER_BE_ACTIVE = 1,	/* takes new flows (if in the table) */
	VEER_BE_DRAINING = 2,	/* keeps its flows, gets no new ones */
	VEER_BE_DOWN = 3,	/* its flows are re-picked on their next packet */
};

enum veer_backend_flags {
	VEER_BE_F_NAT_FULL = 1 << 0,	/* SNAT to snat addr as well as DNAT */
	VEER_BE_F_ENCAP_IPIP = 1 << 1,	/* IPIP/IP6IP6 to addr, inner dst stays VIP */
};

/* veer_be_v1: array indexed by backend id. */
struct veer_backend {
	struct veer_addr addr;
	struct veer_addr snat;	/* source for nat: full / outer source for encap */
	__be16 port;
	__u8 family;
	__u8 state;		/* enum veer_backend_state */
	__u8 flags;		/* enum veer_backend_flags */
	__u8 tier;
	__u16 weight;
	__u32 svc_id;
	__u32 pad;
};

/*
 * veer_clock_v1, one entry: how the datapath turns jiffies into conntrack's
 * clock, CLOCK_MONOTONIC ns at the last tick: jiffies * tick_ns + base_ns.
 * Reading jiffies is one load (the verifier inlines bpf_jiffies64); the
 * coarse-clock helper it replaces cost ~30 ns a packet here (each call
 * and return pays the CPU's return-stack mitigation). The loader measures
 * both numbers (agent/clock_sync.c); tick_ns 0 means not yet: the
 * datapath then calls bpf_ktime_get_coarse_ns.
 */
struct veer_clock {
	__u64 tick_ns;		/* ns per jiffy: NSEC_PER_SEC / HZ */
	__u64 base_ns;		/* CLOCK_MONOTONIC at jiffies 0 (mod 2^64) */
};

/* What the loader's sampling program (veer_clock_sample) reads in one go. */
struct veer_clock_sample {
	__u64 jiffies;
	__u64 mono_ns;		/* CLOCK_MONOTONIC */
};

/* veer_cfg_v1: one entry, runtime knobs veerd may change without reload. */
struct veer_config {
	__u32 hash_seed;		/* same seed, same choice on every node */
	__u32 tcp_syn_timeout_s;	/* half-open flows */
	__u32 tcp_est_timeout_s;	/* established, idle */
	__u32 tcp_close_timeout_s;	/* after FIN or RST */
	__u32 udp_timeout_s;		/* UDP idle */
	__u32 syn_retry_resteer;	/* re-pick a retransmitted unanswered SYN */
	__u16 snat_port_lo;		/* full NAT source port range */
	__u16 snat_port_hi;
	__u32 flags;			/* enum veer_cfg_flags */
};

enum veer_cfg_flags {
	VEER_CFG_F_FLOW_EVENTS = 1 << 0,	/* emit NEW_FLOW events (someone listens) */
	VEER_CFG_F_NO_FLOW_CACHE = 1 << 1,	/* conntrack.flow_cache: false */
};

/* Flow tuple in the direction it was seen; key of conntrack and rnat. */
struct veer_flow {
	struct veer_addr src;
	struct veer_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

enum veer_ct_state {
	VEER_CT_SYN_SENT = 1,	/* client SYN forwarded, no answer yet */
	VEER_CT_ESTABLISHED = 2,
	VEER_CT_CLOSING = 3,	/* FIN or RST seen */
	VEER_CT_UDP = 4,
};

/* veer_ct_v1 / veer_ctsyn_v1 value, keyed by the client-side flow. */
struct veer_ct {
	__u64 last_seen_ns;	/* bpf_ktime_get_ns, refreshed coarsely */
	__u64 created_ns;
	__u32 backend_id;
	__u32 svc_id;
	__u8 state;		/* enum veer_ct_state */
	__u8 syn_count;		/* SYNs forwarded without an answer */
	__be16 nat_port;	/* full NAT: allocated source port */
	__u32 pad;
};

/* veer_rnat_v1 / veer_snat_v1 value, keyed by the reply flow as it
 * arrives (src = backend, dst = client or SNAT address). The reply is
 * rewritten to src = vip:vport, dst = client:cport. */
struct veer_rnat {
	struct veer_addr vip;
	struct veer_addr client;
	__be16 vport;
	__be16 cport;
	__u32 backend_id;
};

enum veer_if_flags {
	VEER_IF_F_XDP_TX_OK = 1 << 0,	/* XDP_REDIRECT out of it is delivered */
	VEER_IF_F_ATTACHED = 1 << 1,	/* veer runs on it */
};

struct veer_iface {
	__u32 flags;
	__u32 pad;
};

/*
 * Forwarding cache (veer_fibc_v1, per CPU, direct-mapped by backend id):
 * how the last packet to a backend left, so the next ones skip
 * bpf_fib_lookup. VEER_FIBC_SLOTS slots a CPU (160 KiB), not one per
 * possible backend (5 MiB a CPU); a slot names its backend. An entry
 * holds while its gen equals veer_fibgen_v1's, which veerd bumps on every
 * route, rule, neighbour, link or backend change, and for at most
 * VEER_FIBC_LIFETIME_NS (what bounds staleness while veerd is down).
 */
#define VEER_FIBC_LIFETIME_NS 1000000000ULL
#define VEER_FIBC_SLOTS 4096	/* a power of two */

enum veer_fibc_flags {
	VEER_FIBC_F_XDP_TX = 1 << 0,	/* XDP may redirect out of oif */
};

/*
 * The same for replies and ICMP errors, whose destination is a client,
 * not a backend (veer_fibr_v1, per CPU): VEER_FIBR_SLOTS slots by a hash
 * of the destination address, each naming its address (hop.backend_id is
 * VEER_BACKEND_NONE).
 */
#define VEER_FIBR_BITS 12
#define VEER_FIBR_SLOTS (1u << VEER_FIBR_BITS)

struct veer_fib_cache {
	__u64 expires_ns;		/* flow clock */
	__u32 gen;
	__u32 backend_id;		/* whose slot it is */
	__u32 iif;			/* looked up for packets from here */
	__u32 oif;
	__u16 mtu;			/* largest IP packet oif takes */
	__u8 flags;			/* enum veer_fibc_flags */
	__u8 pad;
	__u8 dmac[6];
	__u8 smac[6];
};

struct veer_fib_rcache {
	struct veer_addr dst;
	struct veer_fib_cache hop;
};

static inline __u32 veer_fibr_index(const struct veer_addr *dst)
{
	return ((dst->v6[0] ^ dst->v6[1] ^ dst->v6[2] ^ dst->v6[3]) * 0x9E3779B1u) >>
	       (32 - VEER_FIBR_BITS);
}

/* Per-CPU counters, summed by user space. */
struct veer_svc_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 repicks;
	__u64 refused;
	__u64 no_backend;
};

struct veer_be_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 reply_packets;
	__u64 reply_bytes;
	__u64 fail_signals;
};

/* veer_drop_v1: per-CPU array indexed by reason; "drop" also counts the
 * packets passed untouched by a rule, so every rule is visible. */
enum veer_reason {
	VEER_R_PASS_NOT_IP = 0,		/* non-IP, ARP, etc: passed */
	VEER_R_PASS_NOT_SERVICE,	/* IP, not a VIP nor a reply: passed */
	VEER_R_FWD,			/* service packet forwarded */
	VEER_R_FWD_REPLY,		/* reply reverse-NATed and forwarded */
	VEER_R_DROP_TRUNCATED,		/* headers cut short: dropped if VIP else passed */
	VEER_R_DROP_BAD_IHL,		/* IHL < 5 or beyond the packet */
	VEER_R_DROP_BAD_LEN,		/* IP/UDP length inconsistent */
	VEER_R_PASS_IP_OPTIONS,		/* IPv4 options to a VIP: passed to the stack */
	VEER_R_DROP_FRAGMENT,		/* fragment to a VIP */
	VEER_R_PASS_IPV6_EXTHDR,	/* IPv6 ext header: passed to the stack */
	VEER_R_DROP_UDP_ZERO_LEN,	/* UDP length < 8 */
	VEER_R_DROP_NO_BACKEND,		/* service has no usable backend */
	VEER_R_REFUSED,			/* panic=refuse: RST sent */
	VEER_R_PASS_FIB_FAIL,		/* no route/neighbour: handed to the stack */
	VEER_R_DROP_TTL,		/* TTL/hop limit would reach 0 */
	VEER_R_DROP_SNAT_EXHAUSTED,	/* no free full-NAT source port */
	VEER_R_DROP_MTU,		/* too big after encap, ICMP sent */
	VEER_R_FWD_ICMP,		/* ICMP error about a flow translated */
	VEER_R_REPICK,			/* flow's backend down/gone: re-picked */
	VEER_R_PASS_VLAN,		/* VLAN-tagged: passed (tagged ports unsupported) */
	VEER_R_DROP_BAD_L4,		/* garbage L4 header (e.g. TCP doff < 5) */
	VEER_R_XDP_DEFER_CSUM,		/* XDP saw a CHECKSUM_PARTIAL-looking L4 csum: left to tc */
	VEER_R_XDP_PASS_STACK,		/* XDP rewrote, egress not XDP-tx safe: stack forwards */
	VEER_R_EVENTS_LOST,		/* ring buffer full */
	VEER_R_DECAP,			/* IPIP to a local VIP decapsulated */
	VEER_R__COUNT,
};

enum veer_event_type {
	VEER_EV_NEW_FLOW = 1,
	VEER_EV_REPICK = 2,
	VEER_EV_RST_ON_SYN = 3,		/* backend answered a SYN with RST */
	VEER_EV_SYN_RETRANS = 4,	/* SYN resent, backend never answered */
	VEER_EV_ICMP_UNREACH = 5,	/* unreachable from the backend's path */
	VEER_EV_SNAT_EXHAUSTED = 6,
};

/* Ring buffer record. */
struct veer_event {
	__u64 ts_ns;
	struct veer_flow flow;	/* client-side tuple */
	__u32 type;		/* enum veer_event_type */
	__u32 backend_id;	/* chosen (or failing) backend */
	__u32 old_backend_id;	/* for re-picks */
	__u32 svc_id;
};

#define VEER_BACKEND_NONE 0xffffffffu

/* veer_svcmeta_v1: array by service id; what veerctl shows of a service,
 * and what the datapath checks an established flow's service against.
 * Kept in a pinned map so that veerctl works while veerd is down. */
#define VEER_NAME_LEN 64
struct veer_svc_meta {
	char name[VEER_NAME_LEN];
	struct veer_svc_key key;
	__u32 active_tier;	/* lowest tier taking new flows */
	__u32 panic;		/* 1 while the panic rule is in force */
	__u64 tier_since_ns;	/* CLOCK_REALTIME of the last tier shift */
	__u32 in_use;		/* 0: free slot */
	/* veer_svc.udp_timeout_s again: the datapath finds an established
	 * flow's service here by id, without the hash lookup (lb.h). */
	__u32 udp_timeout_s;
};

enum veer_health_state {
	VEER_H_UNKNOWN = 0,	/* not probed yet */
	VEER_H_HEALTHY = 1,
	VEER_H_UNHEALTHY = 2,	/* failed active probes */
	VEER_H_EJECTED = 3,	/* passive signals, until ejection ends */
	VEER_H_DRAINING = 4,
};

/* veer_health_v1: array by backend id. */
#define VEER_REASON_LEN 72
struct veer_health {
	__u64 since_ns;		/* CLOCK_REALTIME of the last transition */
	__u32 state;		/* enum veer_health_state */
	__u32 latency_us;	/* last successful probe */
	__u32 ejections;	/* times ejected so far */
	__u32 fail_streak;	/* consecutive probe failures */
	char reason[VEER_REASON_LEN];
};

/*
 * veer_ports_v1: one entry, the datapath's prefilter. Bit p (host order)
 * of svc_dport is set if some service listens on port p, of be_sport if
 * some backend serves on port p (replies come from it). A TCP/UDP packet
 * whose dport bit and sport bit are both clear is neither a service
 * packet nor a reply: it passes (PASS_NOT_SERVICE) without a hash lookup. Bits are a superset:
 * veerd sets them before it writes the service or backend and never
 * clears them while running (a stale bit only costs a lookup). While
 * `enabled` is 0 (a map veerd has not written yet) nothing is filtered.
 */
#define VEER_PORT_WORDS (65536 / 64)
#define VEER_PORT_WORD(port) ((port) >> 6)		/* port in host order */
#define VEER_PORT_BIT(port) (1ULL << ((port) & 63))

struct veer_ports {
	__u32 enabled;
	__u32 pad;
	__u64 svc_dport[VEER_PORT_WORDS];
	__u64 be_sport[VEER_PORT_WORDS];
};

/*
 * veer_vips_v1: one entry, the prefilter's second half. Bit
 * veer_vip_bit(vip) is set for every service VIP, with the same rules as
 * veer_ports (set before the service is written, never cleared while veerd
 * runs, nothing filtered while `enabled` is 0). A packet to a service port
 * whose destination's bit is clear is not for a service: it costs no
 * conntrack or service lookup.
 */
#define VEER_VIP_BITS 65536

struct veer_vips {
	__u32 enabled;
	__u32 pad;
	__u64 bits[VEER_VIP_BITS / 64];
};

/*
 * veer_synq_v1: array of VEER_SYNQ_SLOTS half-open slots. The first SYN
 * of a flow of a plain-DNAT service (VEER_SVC_F_PLAIN) keeps its state in
 * slot veer_synq_index(client, cport) instead of veer_ctsyn_v1 and
 * veer_rnsyn_v1: the SYN and the backend's SYN-ACK both carry the client's
 * address and port, so both find it without a hash lookup (bpf/lib/synq.h).
 * A slot is free while stamp_ns is 0 or older than the SYN timeout, and
 * claimed by compare-and-swap of stamp_ns; a SYN whose slot another live
 * flow holds uses the two LRU maps as before. TCP only.
 */
#define VEER_SYNQ_BITS 14
#define VEER_SYNQ_SLOTS (1u << VEER_SYNQ_BITS)	/* 1 MiB: stays in cache */

struct veer_syn_slot {
	__u64 stamp_ns;		/* last SYN forwarded (coarse clock); 0: free */
	__u64 created_ns;	/* first SYN */
	struct veer_addr client;
	struct veer_addr vip;
	__be16 cport;
	__be16 vport;
	__u32 backend_id;
	__u32 svc_id;
	__u8 family;
	__u8 syn_count;		/* SYNs forwarded without an answer */
	__u8 pad[2];
};

/* Multiplicative hash of the address words (an IPv4 address is v6[0]). */
static inline __u32 veer_vip_bit(const struct veer_addr *a)
{
	__u32 h = a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];

	return (h * 0x9E3779B1u) >> 16;
}

/* A held slot as the half-open conntrack entry and the client-side flow
 * (src = client, dst = VIP) it stands for. */
static inline void veer_syn_slot_ct(const struct veer_syn_slot *q, struct veer_ct *ct)
{
	*ct = (struct veer_ct){
		.last_seen_ns = q->stamp_ns,
		.created_ns = q->created_ns,
		.backend_id = q->backend_id,
		.svc_id = q->svc_id,
		.state = VEER_CT_SYN_SENT,
		.syn_count = q->syn_count,
	};
}

/* Flow k's half-open state, all but the stamp (its owner's claim). */
static inline void veer_syn_slot_fill(struct veer_syn_slot *q, const struct veer_flow *k,
				      __u32 backend_id, __u32 svc_id, __u8 syns, __u64 created)
{
	q->created_ns = created;
	q->client = k->src;
	q->vip = k->dst;
	q->cport = k->sport;
	q->vport = k->dport;
	q->backend_id = backend_id;
	q->svc_id = svc_id;
	q->family = k->family;
	q->syn_count = syns;
}

static inline void veer_syn_slot_flow(const struct veer_syn_slot *q, struct veer_flow *k)
{
	*k = (struct veer_flow){
		.src = q->client,
		.dst = q->vip,
		.sport = q->cport,
		.dport = q->vport,
		.proto = 6,	/* IPPROTO_TCP: slots are TCP only */
		.family = q->family,
	};
}

/*
 * The flow hash Maglev picks by: Jenkins' lookup3 mixing of the ten words
 * of the client-side tuple (both addresses, ports, protocol and family)
 * and a seed, so every node with the same seed and table picks the same
 * backend. A re-steer or a slot whose backend can't take the flow tries
 * seed + n * VEER_MAGLEV_PERTURB (bpf/lib/maglev.h).
 */
#define VEER_MAGLEV_PERTURB 0x9e3779b9u

static inline __u32 veer_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define VEER_LK3_MIX(a, b, c) do {					\
	a -= c; a ^= veer_rol32(c, 4);  c += b;				\
	b -= a; b ^= veer_rol32(a, 6);  a += c;				\
	c -= b; c ^= veer_rol32(b, 8);  b += a;				\
	a -= c; a ^= veer_rol32(c, 16); c += b;				\
	b -= a; b ^= veer_rol32(a, 19); a += c;				\
	c -= b; c ^= veer_rol32(b, 4);  b += a;				\
} while (0)

#define VEER_LK3_FINAL(a, b, c) do {					\
	c ^= b; c -= veer_rol32(b, 14);					\
	a ^= c; a -= veer_rol32(c, 11);					\
	b ^= a; b -= veer_rol32(a, 25);					\
	c ^= b; c -= veer_rol32(b, 16);					\
	a ^= c; a -= veer_rol32(c, 4);					\
	b ^= a; b -= veer_rol32(a, 14);					\
	c ^= b; c -= veer_rol32(b, 24);					\
} while (0)

static inline __u32 veer_flow_hash(const struct veer_flow *f, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (10 << 2) + seed;
	a += f->src.v6[0]; b += f->src.v6[1]; c += f->src.v6[2];
	VEER_LK3_MIX(a, b, c);
	a += f->src.v6[3]; b += f->dst.v6[0]; c += f->dst.v6[1];
	VEER_LK3_MIX(a, b, c);
	a += f->dst.v6[2]; b += f->dst.v6[3];
	c += ((__u32)f->sport << 16) | f->dport;
	VEER_LK3_MIX(a, b, c);
	a += ((__u32)f->family << 8) | f->proto;
	VEER_LK3_FINAL(a, b, c);
	return c;
}

/* A multiplicative hash of a client's address and port, whose top bits
 * index the half-open slots and the established-flow cache. */
static inline __u32 veer_client_hash(const struct veer_addr *client, __be16 cport)
{
	__u32 h = client->v6[0] ^ client->v6[1] ^ client->v6[2] ^ client->v6[3];

	h ^= (__u32)cport * 0x85EBCA6Bu;
	return h * 0x9E3779B1u;
}

static inline __u32 veer_synq_index(const struct veer_addr *client, __be16 cport)
{
	return veer_client_hash(client, cport) >> (32 - VEER_SYNQ_BITS);
}

/*
 * The established-flow caches (bpf/lib/flowcache.h), per CPU, one entry
 * per slot: veer_flowc_v1 for packets of clients (slot veer_flowc_index:
 * what conntrack said of a plain-DNAT flow, its backend and service) and
 * veer_replyc_v1 for their backends' replies (slot veer_replyc_index:
 * what veer_rnat_v1 said, the VIP side the reply is translated to). The
 * next packets of a busy flow skip those hash lookups. An entry serves
 * while it is younger than VEER_FLOWC_LIFETIME_NS (so conntrack is still
 * looked at, and its last_seen written, several times a second per busy
 * flow) and while its gen equals veer_flowgen_v1 (a __u32), which the
 * datapath bumps whenever it moves, replaces or deletes a flow and user
 * space bumps when it flushes. Never written by user space.
 */
#define VEER_FLOWC_BITS 11
/* 160 KiB per CPU and cache: 40 MiB for both on a 128-CPU node */
#define VEER_FLOWC_SLOTS (1u << VEER_FLOWC_BITS)
#define VEER_FLOWC_LIFETIME_NS 250000000ull

struct veer_flow_cache {
	struct veer_flow flow;	/* as the packet arrives */
	__u64 filled_ns;	/* conntrack's clock */
	__u32 backend_id;
	__u32 svc_id;		/* client packets */
	__u32 gen;		/* veer_flowgen_v1 before the map lookup */
	__be16 vport;		/* replies: the VIP side */
	__u16 pad;
	struct veer_addr vip;
};

static inline __u32 veer_flowc_index(const struct veer_flow *f)
{
	return veer_client_hash(&f->src, f->sport) >> (32 - VEER_FLOWC_BITS);
}

/* A reply's slot: by its destination, the client. */
static inline __u32 veer_replyc_index(const struct veer_flow *reply)
{
	return veer_client_hash(&reply->dst, reply->dport) >> (32 - VEER_FLOWC_BITS);
}

#ifndef __cplusplus
_Static_assert(sizeof(struct veer_addr) == 16, "veer_addr layout");
_Static_assert(sizeof(struct veer_svc_key) == 20, "veer_svc_key layout");
_Static_assert(sizeof(struct veer_svc) == 16, "veer_svc layout");
_Static_assert(sizeof(struct veer_backend) == 48, "veer_backend layout");
_Static_assert(sizeof(struct veer_config) == 32, "veer_config layout");
_Static_assert(sizeof(struct veer_clock) == 16, "veer_clock layout");
_Static_assert(sizeof(struct veer_clock_sample) == 16, "veer_clock_sample layout");
_Static_assert(sizeof(struct veer_flow) == 40, "veer_flow layout");
_Static_assert(sizeof(struct veer_ct) == 32, "veer_ct layout");
_Static_assert(sizeof(struct veer_rnat) == 40, "veer_rnat layout");
_Static_assert(sizeof(struct veer_iface) == 8, "veer_iface layout");
_Static_assert(sizeof(struct veer_fib_cache) == 40, "veer_fib_cache layout");
_Static_assert(sizeof(struct veer_fib_rcache) == 56, "veer_fib_rcache layout");
_Static_assert(sizeof(struct veer_flow_cache) == 80, "veer_flow_cache layout");
_Static_assert(sizeof(struct veer_event) == 64, "veer_event layout");
_Static_assert(sizeof(struct veer_svc_meta) == 112, "veer_svc_meta layout");
_Static_assert(sizeof(struct veer_health) == 96, "veer_health layout");
_Static_assert(sizeof(struct veer_ports) == 8 + 2 * 8192, "veer_ports layout");
_Static_assert(sizeof(struct veer_vips) == 8 + 8192, "veer_vips layout");
_Static_assert(sizeof(struct veer_syn_slot) == 64, "veer_syn_slot layout");
#endif

#endif /* VEER_ABI_H */
