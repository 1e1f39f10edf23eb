// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Datapath cost per packet, from the duration bpf_prog_test_run_opts
 * reports, for the XDP and the tc program, with 1/100/1000 backends and
 * 1/10 000 services over a conntrack pre-filled with 1M flows. Packets are
 * routed (FIB lookups succeed), so service packets take the whole
 * forwarding path: XDP redirect, tc redirect_neigh.
 *
 * Every figure is proved: the per-CPU reason counters (and the service's
 * new_flows / packets) must have advanced by exactly the number of timed
 * runs, or the figure is printed as VOID.
 *
 * test_run reuses one buffer across `repeat`, so a packet the program
 * rewrites is seen rewritten by the next iteration:
 *  - established TCP/UDP: the flow's backend is the VIP itself (B_BE_SELF),
 *    so the DNAT writes the same address and port back and the next
 *    iteration is the same established flow, doing the same work. Only the
 *    TTL drops by one per iteration: runs of 250 from TTL 255. A busy
 *    flow is served from the flow cache (bpf/lib/flowcache.h), as here;
 *    "established, uncached" is the same flow with the cache off
 *    (conntrack.flow_cache: false): the cost of a packet the cache does
 *    not hold (a quiet flow, a slot another flow took). The same for
 *    the backend's reply ("established reply", "reply, uncached").
 *  - non-service packets are not changed.
 *  - a new flow cannot stay new in place (its tuple is in conntrack after
 *    one run, and with one service no rewrite can produce another flow of
 *    it), so new flows are N distinct prebuilt SYNs, run in batches of
 *    REPLAY_FRAMES per call by the replay driver (lib/replay.bpf.c: it
 *    copies the next SYN over the buffer and tail-calls the measured
 *    program), the floor the same driver into the empty program. Kinds:
 *    handshakes that complete (after each batch its SYNs' SYN-ACKs are
 *    run, untimed, and promote the flows into the full 1M conntrack, as
 *    in real traffic); the same, one SYN per call (repeat=1: every SYN
 *    then also pays what a system call costs the next instructions, on
 *    this VM a flushed TLB, PTI without PCID; kept to compare with
 *    earlier figures); and a SYN flood (never answered, and every
 *    half-open slot already held by another live flow, so each SYN takes
 *    the LRU pair: the half-open table stays full and every SYN evicts
 *    one; the worst case).
 * The floor is an empty program (return PASS) run exactly like each case.
 *
 *   bpf_bench [-q] [-c CASE] [-p xdp|tc] [-b BASELINE]
 *                             -q: only 1 backend x 1 service (quick look)
 *                             -p: only that program (profiling)
 *                             -c new|new1|flood|est|estct|reply|replyct|nonsvc|udp:
 *                                only that case
 *                             BASELINE: "new|est|nonsvc|udp NS" lines, the
 *                             per-packet cost nftables DNAT adds, measured
 *                             by e2e_vs_nftables.sh with real packets
 *                             (default build/bench/nft_baseline.txt if
 *                             present); printed as XDP net / nftables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "pkt.h"
#include "replay.h"

#define REPEAT    250		/* iterations per call: TTL 255 lasts that long */
#define CALLS     2000		/* calls per repeat-mode figure */
#define N_NEW     20000		/* distinct SYNs per new-flow figure */
#define WARMUP    200
#define SETTLE_S  2		/* after installing services */
#define SETTLE_SPIN_NS 500000000ull	/* ... then this busy */

enum bcase {
	BC_NEW, BC_NEW_SINGLE, BC_NEW_FLOOD, BC_EST, BC_EST_UNCACHED, BC_REPLY, BC_REPLY_UNCACHED, BC_NONSVC,
	BC_NONSVC_PORT, BC_UDP, BC__COUNT
};

static const char *case_name[BC__COUNT] = {
	"new TCP flow (SYN)", "new flow, 1 per call", "new flow, SYN flood", "established TCP", "established, uncached",
	"established reply", "reply, uncached", "non-service", "non-service, svc port",
	"established UDP",
};
static const char *case_key[BC__COUNT] = {
	"new", "new1", "flood", "est", "estct", "reply", "replyct", "nonsvc", "nonsvc", "udp",
};

struct fig {
	double ns, floor;
	int ok;
};

struct row {
	enum bcase c;
	uint32_t backends, services;
	struct fig f[2];	/* XDP, tc */
};

static struct row rows[64];
static const char *only_case;	/* -c KEY: measure only this case */
static int skip_prog = -1;	/* -p xdp|tc: measure only that program (0 XDP, 1 tc) */
static int nrows;
static uint32_t flow_seq;	/* new flows never repeat across figures */

static int run_once(struct bench *b, int fd, int tc, const uint8_t *pkt, size_t len,
		    uint32_t repeat, uint32_t *dur, uint32_t *retval)
{
	struct __sk_buff skb;
	struct xdp_md xdp;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .repeat = repeat);

	if (tc) {
		memset(&skb, 0, sizeof(skb));
		skb.ifindex = b->in_ifindex;
		skb.ingress_ifindex = b->in_ifindex;
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	} else {
		memset(&xdp, 0, sizeof(xdp));
		xdp.ingress_ifindex = b->in_ifindex;
		xdp.data_end = len;	/* the kernel takes the frame's end from here */
		o.ctx_in = &xdp;
		o.ctx_size_in = sizeof(xdp);
	}
	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "test_run: %s\n", strerror(errno));
		return -1;
	}
	*dur = o.duration;
	*retval = o.retval;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median over CALLS calls of `repeat` iterations; -1 on error or when a
 * call's verdict differs from want_ret. */
static double time_repeat(struct bench *b, int fd, int tc, const uint8_t *pkt, size_t len,
			  uint32_t want_ret, int *bad)
{
	static uint32_t d[CALLS];
	uint32_t r, i;

	for (i = 0; i < CALLS; i++) {
		if (run_once(b, fd, tc, pkt, len, REPEAT, &d[i], &r))
			return -1;
		if (r != want_ret)
			*bad = 1;
	}
	qsort(d, CALLS, sizeof(d[0]), cmp_u32);
	return d[CALLS / 2];
}

static struct pspec syn_specs[N_NEW];
static char syn_src[N_NEW][INET_ADDRSTRLEN];

/* The backend's SYN-ACK to SYN i, run untimed: the reply path promotes
 * the flow to conntrack. 0 if it was forwarded as a reply. */
static double synack_ns[2];	/* summed durations of answer_syn, XDP / tc */
static uint64_t synack_runs[2];

static int looks_partial(const uint8_t *f);

static int answer_syn(struct bench *b, int fd, int tc, uint32_t i)
{
	struct veer_flow k;
	struct veer_backend be;
	uint32_t be_id;
	char be_addr[INET_ADDRSTRLEN];
	struct pspec s = syn_specs[i];
	uint8_t pkt[128];
	uint32_t d, r;
	size_t len;

	memset(&k, 0, sizeof(k));
	bench_addr(s.src, &k.src);
	bench_addr(s.dst, &k.dst);
	k.sport = htons(s.sport);
	k.dport = htons(s.dport);
	k.proto = IPPROTO_TCP;
	k.family = VEER_AF_INET;
	if (bench_half_open_backend(b, &k, &be_id) ||
	    bpf_map_lookup_elem(b->be, &be_id, &be))
		return -1;
	inet_ntop(AF_INET, &be.addr.v4, be_addr, sizeof(be_addr));
	s.src = be_addr;
	s.dst = syn_specs[i].src;
	s.sport = ntohs(be.port);
	s.dport = syn_specs[i].sport;
	s.flags = F_SYN | F_ACK;
	s.seq = 9000;
	s.ack = syn_specs[i].seq + 1;
	len = pkt_build(&s, pkt);
	if (looks_partial(pkt)) {	/* XDP would leave it to tc: not a reply verdict */
		s.seq++;
		len = pkt_build(&s, pkt);
	}
	if (run_once(b, fd, tc, pkt, len, 1, &d, &r))
		return -1;
	synack_ns[tc] += d;
	synack_runs[tc]++;
	return r == (tc ? 7u /* TC_ACT_REDIRECT */ : (uint32_t)XDP_REDIRECT) ? 0 : -1;
}

/* Mean over n packets run once each; answer: complete each SYN's
 * handshake (untimed), else count a failure in *bad. */
static double time_each(struct bench *b, int fd, int tc, uint8_t (*pkts)[128],
			const size_t *lens, uint32_t n, uint32_t want_ret, int answer, int *bad)
{
	uint64_t sum = 0;
	uint32_t d, r, i;

	for (i = 0; i < n; i++) {
		if (run_once(b, fd, tc, pkts[i], lens[i], 1, &d, &r))
			return -1;
		if (r != want_ret)
			*bad = 1;
		if (answer && answer_syn(b, fd, tc, i))
			*bad = 1;
		sum += d;
	}
	return (double)sum / n;
}

/* How far the mean of the batched new-flow figures lies above their
 * median (a few calls the VM stalled), summed over those figures. */
static double batch_mean_gap;
static uint32_t batch_figures;

/* The same in batches: REPLAY_FRAMES packets per call, handed to program
 * `target` one after another by the replay driver; each batch's SYNs
 * answered after it. The figure is the median of the calls' means, as
 * repeat mode's: the mean over all SYNs moved by up to 40 ns between runs
 * of the same program with a handful of calls that the hypervisor stalled
 * (measured: medians within p10-p90 of 30 ns, means above p90). */
static double time_batches(struct bench *b, int target, int tc, uint8_t (*pkts)[128],
			   const size_t *lens, uint32_t n, uint32_t want_ret, int answer, int *bad)
{
	int fd = tc ? b->replay_tc : b->replay_xdp, prog = tc ? b->tc : b->xdp;
	static uint32_t calls[N_NEW / REPLAY_FRAMES];
	uint32_t d, r, i, j, k, nc = 0;
	uint64_t sum = 0;

	if (bench_replay_target(tc, target)) {
		fprintf(stderr, "replay target: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < REPLAY_FRAMES ? n - i : REPLAY_FRAMES;
		if (bench_replay_frames(pkts + i, lens + i, k) ||
		    run_once(b, fd, tc, pkts[i], lens[i], k, &d, &r))
			return -1;
		if (r != want_ret)
			*bad = 1;
		sum += (uint64_t)d * k;	/* d: the call's mean per iteration */
		if (k == REPLAY_FRAMES && nc < N_NEW / REPLAY_FRAMES)
			calls[nc++] = d;
		for (j = i; answer && j < i + k; j++)
			if (answer_syn(b, prog, tc, j))
				*bad = 1;
	}
	if (!nc)
		return (double)sum / n;
	qsort(calls, nc, sizeof(calls[0]), cmp_u32);
	batch_mean_gap += (double)sum / n - calls[nc / 2];
	batch_figures++;
	return calls[nc / 2];
}

/* New flows of case c through program fd: batched, or one per call. */
static double time_new(struct bench *b, enum bcase c, int fd, int tc, uint8_t (*pkts)[128],
		       const size_t *lens, uint32_t n, uint32_t want_ret, int answer, int *bad)
{
	if (c == BC_NEW_SINGLE)
		return time_each(b, fd, tc, pkts, lens, n, want_ret, answer, bad);
	return time_batches(b, fd, tc, pkts, lens, n, want_ret, answer, bad);
}

static struct pspec spec_of(enum bcase c)
{
	struct pspec s = {
		.proto = IPPROTO_TCP, .src = B_CLIENT, .dst = B_VIP, .sport = 40000,
		.dport = B_VPORT, .flags = F_ACK, .seq = 1000, .ack = 5000,
		.window = 64240, .ttl = 255,
	};
	static const uint8_t payload[32];

	if (c == BC_NONSVC) {
		s.dst = B_OTHER;
		s.dport = 22;
	} else if (c == BC_NONSVC_PORT) {
		s.dst = B_OTHER;
	} else if (c == BC_REPLY || c == BC_REPLY_UNCACHED) {	/* from B_BE_SELF (the VIP) */
		s.src = B_VIP;
		s.sport = B_VPORT;
		s.dst = B_CLIENT;
		s.dport = 40000;
		s.seq = 5000;
		s.ack = 1000;
	} else if (c == BC_UDP) {
		s.proto = IPPROTO_UDP;
		s.dport = B_UDPPORT;
		s.payload = payload;
		s.payload_len = sizeof(payload);
	}
	return s;
}

/* Would XDP take this IPv4 TCP frame for a CHECKSUM_PARTIAL one (its
 * checksum equals the folded pseudo-header sum, 1 in 65536) and leave it
 * to tc? Such a SYN would not take the measured path. */
static int looks_partial(const uint8_t *f)
{
	uint32_t s = 0, i;

	for (i = 26; i < 34; i += 2)		/* source and destination */
		s += (uint32_t)f[i] << 8 | f[i + 1];
	s += IPPROTO_TCP + ((uint32_t)f[16] << 8 | f[17]) - 20;	/* L4 length */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == ((uint32_t)f[50] << 8 | f[51]);
}

/* N distinct SYNs from 10.128.0.0 + seq. */
static void build_syns(uint8_t (*pkts)[128], size_t *lens, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++, flow_seq++) {
		struct in_addr a = { .s_addr = htonl(0x0a800000 + flow_seq % 65536) };
		struct pspec s = spec_of(BC_EST);

		inet_ntop(AF_INET, &a, syn_src[i], sizeof(syn_src[i]));
		s.src = syn_src[i];
		s.sport = 1024 + flow_seq / 65536 % 60000;
		s.flags = F_SYN;
		s.ack = 0;
		s.ttl = 64;
		lens[i] = pkt_build(&s, pkts[i]);
		if (looks_partial(pkts[i])) {
			s.seq++;
			lens[i] = pkt_build(&s, pkts[i]);
		}
		syn_specs[i] = s;
	}
}

static uint64_t verdict_sum(const uint64_t *r)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < VEER_R__COUNT; i++)
		if (i != VEER_R_REPICK && i != VEER_R_EVENTS_LOST)
			s += r[i];
	return s;
}

/* One figure: case c on one program; proves the counters. */
static struct fig measure(struct bench *b, enum bcase c, int tc)
{
	static uint8_t pkts[N_NEW][128];
	static size_t lens[N_NEW];
	uint64_t r0[VEER_R__COUNT], r1[VEER_R__COUNT], runs;
	uint32_t want_ret, fwd_ret = tc ? 7 /* TC_ACT_REDIRECT */ : XDP_REDIRECT;
	uint32_t pass_ret = tc ? 0 : XDP_PASS;
	int fd = tc ? b->tc : b->xdp, efd = tc ? b->tc_empty : b->xdp_empty, bad = 0;
	int reason = VEER_R_FWD, answer = c == BC_NEW || c == BC_NEW_SINGLE;
	int is_new = answer || c == BC_NEW_FLOOD;
	struct veer_svc_stats s0, s1;
	struct fig f = { -1, -1, 0 };
	struct pspec s = spec_of(c);
	uint8_t pkt[128];
	size_t len = pkt_build(&s, pkt);
	uint32_t d, r, i;

	want_ret = fwd_ret;
	if (c == BC_NONSVC || c == BC_NONSVC_PORT) {
		want_ret = pass_ret;
		reason = VEER_R_PASS_NOT_SERVICE;
	}
	if (c == BC_REPLY || c == BC_REPLY_UNCACHED) {
		reason = VEER_R_FWD_REPLY;
		if (bench_put_reply(b, 40000))
			return f;
	}
	if (c == BC_EST || c == BC_EST_UNCACHED || c == BC_UDP) {
		struct veer_flow fl;

		memset(&fl, 0, sizeof(fl));
		bench_addr(s.src, &fl.src);
		bench_addr(s.dst, &fl.dst);
		fl.sport = htons(s.sport);
		fl.dport = htons(s.dport);
		fl.proto = s.proto;
		fl.family = VEER_AF_INET;
		if (bench_put_flow(b, &fl, c == BC_UDP ? VEER_CT_UDP : VEER_CT_ESTABLISHED))
			return f;
	}
	if (is_new) {
		/* A flood has taken every half-open slot: its SYNs go to the
		 * LRU pair (synq.h), the worst case. */
		bench_synq_fill(b, c == BC_NEW_FLOOD);
		build_syns(pkts, lens, WARMUP);
		time_new(b, c, fd, tc, pkts, lens, WARMUP, want_ret, answer, &bad);
		build_syns(pkts, lens, N_NEW);
		f.floor = time_new(b, c, efd, tc, pkts, lens, N_NEW, pass_ret, 0, &bad);
	} else {
		for (i = 0; i < WARMUP; i++)
			run_once(b, fd, tc, pkt, len, REPEAT, &d, &r);
		f.floor = time_repeat(b, efd, tc, pkt, len, pass_ret, &bad);
	}
	bad = 0;
	bench_reasons(b, r0);
	s0 = bench_svc_stats(b, B_SVC);
	if (is_new) {
		f.ns = time_new(b, c, fd, tc, pkts, lens, N_NEW, want_ret, answer, &bad);
		runs = N_NEW;
	} else {
		f.ns = time_repeat(b, fd, tc, pkt, len, want_ret, &bad);
		runs = (uint64_t)CALLS * REPEAT;
	}
	bench_reasons(b, r1);
	s1 = bench_svc_stats(b, B_SVC);
	/* Completed handshakes: each SYN-ACK is a reply verdict too. */
	f.ok = !bad && f.ns >= 0 && r1[reason] - r0[reason] == runs &&
	       verdict_sum(r1) - verdict_sum(r0) == (answer ? 2 : 1) * runs &&
	       (!answer || r1[VEER_R_FWD_REPLY] - r0[VEER_R_FWD_REPLY] == runs);
	if (is_new)
		f.ok = f.ok && s1.new_flows - s0.new_flows == runs;
	else if (c == BC_EST || c == BC_EST_UNCACHED || c == BC_UDP)
		f.ok = f.ok && s1.new_flows == s0.new_flows && s1.packets - s0.packets == runs;
	else
		f.ok = f.ok && s1.packets == s0.packets;
	if (!f.ok)
		fprintf(stderr, "# %s (%s): counters do not prove every run "
			"(reason %d +%llu, all verdicts +%llu, new_flows +%llu, want %llu)\n",
			case_name[c], tc ? "tc" : "xdp",
			reason, (unsigned long long)(r1[reason] - r0[reason]),
			(unsigned long long)(verdict_sum(r1) - verdict_sum(r0)),
			(unsigned long long)(s1.new_flows - s0.new_flows),
			(unsigned long long)runs);
	for (i = 0; !f.ok && i < VEER_R__COUNT; i++)
		if (r1[i] != r0[i])
			fprintf(stderr, "#   reason %u counted %llu\n", i,
				(unsigned long long)(r1[i] - r0[i]));
	return f;
}

/* Installing services leaves the kernel deferred work (freeing replaced
 * Maglev tables after RCU grace periods) that competes for this CPU for a
 * while: measured right away, the next figures ran 30-40 ns slower, the
 * empty program's floor as well. Then the CPU is kept busy for a moment:
 * the first figure after an idle wait ran slow the same way (this VM's
 * vCPU, idle, loses its host CPU's warm state). */
static void settle(void)
{
	uint64_t t;

	sleep(SETTLE_S);
	t = bench_now_ns();
	while (bench_now_ns() - t < SETTLE_SPIN_NS)
		;
}

static int uncached(enum bcase c)
{
	return c == BC_EST_UNCACHED || c == BC_REPLY_UNCACHED;
}

static int measure_config(struct bench *b, uint32_t n_be, uint32_t n_svc)
{
	static const enum bcase tcp_cases[] = { BC_NEW, BC_NEW_SINGLE, BC_NEW_FLOOD, BC_EST, BC_EST_UNCACHED,
						BC_REPLY, BC_REPLY_UNCACHED, BC_NONSVC,
						BC_NONSVC_PORT };
	size_t i;
	int p;

	if (bench_measured_svc(b, IPPROTO_TCP, n_be))
		return -1;
	settle();
	for (i = 0; i <= sizeof(tcp_cases) / sizeof(tcp_cases[0]); i++) {
		struct row *rw = &rows[nrows++];

		if (i == sizeof(tcp_cases) / sizeof(tcp_cases[0])) {
			if (bench_measured_svc(b, IPPROTO_UDP, n_be))
				return -1;
			settle();
			rw->c = BC_UDP;
		} else {
			rw->c = tcp_cases[i];
		}
		rw->backends = n_be;
		rw->services = n_svc;
		if (only_case && strcmp(only_case, case_key[rw->c])) {
			nrows--;
			continue;
		}
		if (uncached(rw->c) && bench_flow_cache(b, 0))
			return -1;
		for (p = 0; p < 2; p++)
			rw->f[p] = p == skip_prog ? (struct fig){ -1, -1, 1 } : measure(b, rw->c, p);
		if (uncached(rw->c) && bench_flow_cache(b, 1))
			return -1;
	}
	return 0;
}

#define DEFAULT_BASELINE "build/bench/nft_baseline.txt"

static double baseline[BC__COUNT];
static int baseline_read;

static void read_baseline(const char *path)
{
	char key[32];
	double v;
	FILE *fp = fopen(path, "r");
	int c;

	if (!fp) {
		fprintf(stderr, "# no baseline %s: %s\n", path, strerror(errno));
		return;
	}
	baseline_read = 1;
	while (fscanf(fp, "%31s %lf", key, &v) == 2)
		for (c = 0; c < BC__COUNT; c++)
			if (!strcmp(key, case_key[c]))
				baseline[c] = v;
	fclose(fp);
}

static void print_ns(const struct fig *f, int net)
{
	if (!f->ok)
		printf(" %7s", "VOID");
	else if (f->ns < 0)
		printf(" %7s", "-");	/* not measured (-p) */
	else
		printf(" %7.1f", net ? f->ns - f->floor : f->ns);
}

static void print_table(void)
{
	int i, p;

	printf("\n%-22s %8s %8s %7s %7s %7s %7s %7s %7s %8s %9s\n", "case", "backends",
	       "services", "XDP", "tc", "XDPnet", "tcnet", "XDPfl", "tcfl", "verified",
	       "XDP/nft");
	for (i = 0; i < nrows; i++) {
		struct row *rw = &rows[i];

		printf("%-22s %8u %8u", case_name[rw->c], rw->backends, rw->services);
		print_ns(&rw->f[0], 0);
		print_ns(&rw->f[1], 0);
		print_ns(&rw->f[0], 1);
		print_ns(&rw->f[1], 1);
		for (p = 0; p < 2; p++)
			printf(" %7.1f", rw->f[p].floor);
		printf(" %8s", rw->f[0].ok && rw->f[1].ok ? "yes" : "NO");
		if (baseline[rw->c] > 0 && rw->f[0].ok)
			printf(" %9.3f", (rw->f[0].ns - rw->f[0].floor) / baseline[rw->c]);
		else
			printf(" %9s", "-");
		printf("\n");
	}
	printf("\nns per packet from the kernel's test_run duration; net = minus the floor "
	       "(an empty program\nrun the same way: repeat=%d for repeat-mode cases, "
	       "new flows: %d distinct SYNs in calls of %d; '1 per call': repeat=1).\n"
	       "Repeat-mode figures are the median of %d calls of %d iterations, batched new flows\n"
	       "the median of their calls' means. "
	       "XDP/nft: XDP net ns over\nthe added per-packet cost of nftables DNAT "
	       "(e2e_vs_nftables.sh, real packets).\n", REPEAT, N_NEW, REPLAY_FRAMES, CALLS,
	       REPEAT);
	if (batch_figures)
		printf("The mean over all SYNs of a batched figure was %.1f ns above its median "
		       "on average\n(calls the VM stalled).\n", batch_mean_gap / batch_figures);
	if (synack_runs[0] && synack_runs[1])
		printf("The backend's SYN-ACK, which promotes each new flow into conntrack (untimed "
		       "above),\nmean over all configs: XDP %.1f ns, tc %.1f ns (gross, "
		       "floor as for new flows).\n", synack_ns[0] / synack_runs[0],
		       synack_ns[1] / synack_runs[1]);
}

int main(int argc, char **argv)
{
	static const uint32_t backends[] = { 1, 100, 1000 };
	struct bench b;
	uint64_t t0;
	int opt, ok = 1, quick = 0;
	size_t i;

	memset(&b, 0, sizeof(b));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "qc:p:b:h")) != -1) {
		if (opt == 'p' && (!strcmp(optarg, "xdp") || !strcmp(optarg, "tc"))) {
			skip_prog = !strcmp(optarg, "xdp");	/* the one not named */
		} else if (opt == 'b') {
			read_baseline(optarg);
		} else if (opt == 'c') {
			only_case = optarg;
		} else if (opt == 'q') {
			quick = 1;
		} else {
			fprintf(stderr, "usage: %s [-q] [-c case] [-p xdp|tc] [-b nft_baseline_file]\n",
				argv[0]);
			return 2;
		}
	}
	if (!baseline_read && !access(DEFAULT_BASELINE, R_OK))
		read_baseline(DEFAULT_BASELINE);
	if (bench_netns(&b) || bench_load(&b) || bench_replay_load(&b))
		return 1;
	t0 = bench_now_ns();
	if (bench_fill_ct(&b))
		return 1;
	printf("# conntrack and reverse NAT pre-filled with %u flows each in %.1f s\n",
	       B_CT_FILL, (bench_now_ns() - t0) / 1e9);
	for (i = 0; i < (quick ? 1 : 3) && ok; i++)
		ok = !measure_config(&b, backends[i], 1);
	if (quick)
		goto out;
	t0 = bench_now_ns();
	if (ok && bench_fill_services(&b))
		ok = 0;
	printf("# %u filler services installed in %.1f s\n", B_FILLERS, (bench_now_ns() - t0) / 1e9);
	settle();
	for (i = 0; i < 3 && ok; i++)
		ok = !measure_config(&b, backends[i], 1 + B_FILLERS);
out:
	print_table();
	bench_replay_unload();
	bench_unload(&b);
	for (i = 0; i < (size_t)nrows; i++)
		if (!rows[i].f[0].ok || !rows[i].f[1].ok)
			ok = 0;
	return ok ? 0 : 1;
}
