// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's world: its own network namespace with a routed veth
 * (so bpf_fib_lookup succeeds and service packets take the forwarding
 * path), the datapath loaded with a 1M-entry conntrack, and map filling
 * at the scale of the benchmark (10 000 services, 1M flows).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "datapath.h"
#include "dpmaps.h"
#include "maglev.h"
#include "veer.skel.h"

#define SEED 42

static struct veer_bpf *skel;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void bench_addr(const char *txt, struct veer_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, txt, &a->v4) != 1) {
		fprintf(stderr, "bad address %s\n", txt);
		abort();
	}
}

static struct veer_addr addr_n(uint32_t base_host, uint32_t i)
{
	struct veer_addr a;

	memset(&a, 0, sizeof(a));
	a.v4 = htonl(base_host + i);
	return a;
}

/* 10.200.9.2 is a gateway with a permanent neighbour: VIPs (so a backend
 * may be the VIP itself), backends and filler VIPs are routed through it. */
int bench_netns(struct bench *b)
{
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (run as root)");
		return -1;
	}
	/* No IPv6 on the bench veth: its router and listener solicitations
	 * would run through the attached XDP program and count. */
	if (system("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
		   "net.ipv6.conf.default.disable_ipv6=1 >/dev/null && "
		   "ip link set lo up && "
		   "ip link add vb0 type veth peer name vb1 && "
		   "ip link set vb0 up && ip link set vb1 up && "
		   "ip link add vb2 type veth peer name vb3 && "	/* holds the replay driver */
		   "ip addr add 10.200.9.1/24 dev vb0 && ip addr add 10.200.1.1/24 dev vb1 && "
		   "ip neigh add 10.200.9.2 lladdr 02:00:00:00:09:02 dev vb0 nud permanent && "
		   "ip route add 10.200.100.0/24 via 10.200.9.2 && "
		   "ip route add 10.201.0.0/16 via 10.200.9.2 && "
		   "ip route add 10.203.0.0/16 via 10.200.9.2 && "
		   "ip route add 10.128.0.0/16 via 10.200.9.2 && "	/* new-flow clients */
		   "ip neigh add 10.200.1.10 lladdr 02:00:00:01:00:10 dev vb1 nud permanent && "	/* B_CLIENT: replies */
		   "sysctl -qw net.ipv4.conf.all.forwarding=1 >/dev/null")) {
		fprintf(stderr, "could not build the routed veth\n");
		return -1;
	}
	b->in_ifindex = if_nametoindex("vb1");
	b->out_ifindex = if_nametoindex("vb0");
	return b->in_ifindex && b->out_ifindex ? 0 : -1;
}

static int empty_prog(enum bpf_prog_type t, int ret)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	/* The attach type libbpf gives SEC("xdp"): a program array (the
	 * replay driver's) takes only programs that agree on it. */
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = t == BPF_PROG_TYPE_XDP ? BPF_XDP : 0);

	return bpf_prog_load(t, "bench_empty", "GPL", insns, 2, &o);
}

/* Inner tables must match the object's template, flags included, and
 * libbpf drops the template after load: find the flags by trying. */
static uint32_t inner_flags(struct bench *b)
{
	static const uint32_t cand[] = { BPF_F_INNER_MAP | BPF_F_MMAPABLE, BPF_F_INNER_MAP };
	uint32_t slot = 0;
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		LIBBPF_OPTS(bpf_map_create_opts, co, .map_flags = cand[i]);
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_probe", 4, 4, 7, &co);
		int ok = fd >= 0 && !bpf_map_update_elem(b->maglev, &slot, &fd, BPF_ANY);

		if (fd >= 0)
			close(fd);
		if (ok) {
			bpf_map_delete_elem(b->maglev, &slot);
			return cand[i];
		}
	}
	return BPF_F_INNER_MAP;
}

int bench_load(struct bench *b)
{
	struct dp_opts o = { .state_dir = NULL, .ct_size = VEER_CT_DEFAULT_SIZE };
	struct veer_iface ifc = { .flags = VEER_IF_F_ATTACHED | VEER_IF_F_XDP_TX_OK };
	struct veer_config c = { .hash_seed = SEED, .tcp_est_timeout_s = 3600,
				 .udp_timeout_s = 3600, .tcp_syn_timeout_s = 3600 };
	char err[512];
	uint32_t zero = 0;

	skel = dp_open_load(&o, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "dp_open_load: %s\n", err);
		return -1;
	}
	b->ncpu = libbpf_num_possible_cpus();
	b->xdp = bpf_program__fd(skel->progs.veer_xdp);
	b->tc = bpf_program__fd(skel->progs.veer_tc_ingress);
	b->cfg = bpf_map__fd(skel->maps.veer_cfg_v1);
	b->svc = bpf_map__fd(skel->maps.veer_svc_v1);
	b->be = bpf_map__fd(skel->maps.veer_be_v1);
	b->maglev = bpf_map__fd(skel->maps.veer_maglev_v2);
	b->ct = bpf_map__fd(skel->maps.veer_ct_v1);
	b->rnat = bpf_map__fd(skel->maps.veer_rnat_v1);
	b->ctsyn = bpf_map__fd(skel->maps.veer_ctsyn_v1);
	b->svcst = bpf_map__fd(skel->maps.veer_svcst_v1);
	b->drops = bpf_map__fd(skel->maps.veer_drop_v1);
	b->ifc = bpf_map__fd(skel->maps.veer_if_v1);
	b->tx = bpf_map__fd(skel->maps.veer_tx_v1);
	b->ports = bpf_map__fd(skel->maps.veer_ports_v1);
	b->meta = bpf_map__fd(skel->maps.veer_svcmeta_v1);
	b->vips = bpf_map__fd(skel->maps.veer_vips_v1);
	b->synq = bpf_map__fd(skel->maps.veer_synq_v1);
	b->flowgen = bpf_map__fd(skel->maps.veer_flowgen_v1);
	b->synq_mem = mmap(NULL, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot),
			   PROT_READ | PROT_WRITE, MAP_SHARED, b->synq, 0);
	if (b->synq_mem == MAP_FAILED) {
		fprintf(stderr, "mmap veer_synq_v1: %s\n", strerror(errno));
		return -1;
	}
	b->inner_flags = inner_flags(b);
	b->xdp_empty = empty_prog(BPF_PROG_TYPE_XDP, XDP_PASS);
	b->tc_empty = empty_prog(BPF_PROG_TYPE_SCHED_CLS, 0 /* TC_ACT_OK */);
	if (b->xdp_empty < 0 || b->tc_empty < 0) {
		fprintf(stderr, "load empty programs: %s\n", strerror(errno));
		return -1;
	}
	/* test_run with repeat > 1 calls XDP through the kernel's dispatcher
	 * and installs the program there for the run: an RCU grace period
	 * per call, unless the program is already in it. Attached in native
	 * mode to the veth pair (no traffic crosses it), both stay in it. */
	if (bpf_xdp_attach(b->in_ifindex, b->xdp, XDP_FLAGS_DRV_MODE, NULL) ||
	    bpf_xdp_attach(b->out_ifindex, b->xdp_empty, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "attach XDP to the bench veth: %s\n", strerror(errno));
		return -1;
	}
	if (bpf_map_update_elem(b->cfg, &zero, &c, BPF_ANY) ||
	    bpf_map_update_elem(b->ifc, &b->out_ifindex, &ifc, BPF_ANY) ||
	    bpf_map_update_elem(b->tx, &b->out_ifindex, &b->out_ifindex, BPF_ANY) ||
	    /* replies leave by the interface clients are on */
	    bpf_map_update_elem(b->ifc, &b->in_ifindex, &ifc, BPF_ANY) ||
	    bpf_map_update_elem(b->tx, &b->in_ifindex, &b->in_ifindex, BPF_ANY)) {
		fprintf(stderr, "configure: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void bench_unload(struct bench *b)
{
	munmap(b->synq_mem, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot));
	close(b->xdp_empty);
	close(b->tc_empty);
	dp_close(skel);
}

/* The prefilter bits veerd sets for a service port or a backend port,
 * set the way veerd sets them. */
static int put_port(struct bench *b, uint16_t port, int backend)
{
	struct dp_maps m = { .ports = b->ports, .vips = b->vips };

	return dp_port_set(&m, port, backend);
}

static int put_vip(struct bench *b, const struct veer_addr *vip)
{
	struct dp_maps m = { .ports = b->ports, .vips = b->vips };

	return dp_vip_set(&m, vip);
}

/* What veerd writes of a service in veer_svcmeta_v1 (the datapath checks
 * an established flow's service there). */
static int put_meta(struct bench *b, uint32_t id, const struct veer_svc_key *k)
{
	struct veer_svc_meta m = { .key = *k, .in_use = 1 };

	return bpf_map_update_elem(b->meta, &id, &m, BPF_ANY);
}

static int put_backend(struct bench *b, uint32_t id, struct veer_addr a, uint16_t port,
		       uint32_t svc_id, uint8_t state)
{
	struct veer_backend v;

	if (put_port(b, port, 1))
		return -1;
	memset(&v, 0, sizeof(v));
	v.addr = a;
	v.port = htons(port);
	v.family = VEER_AF_INET;
	v.state = state;
	v.weight = 1;
	v.svc_id = svc_id;
	return bpf_map_update_elem(b->be, &id, &v, BPF_ANY);
}

/* An inner Maglev array of m slots from table[], installed for svc_id. */
static int put_table(struct bench *b, uint32_t svc_id, uint32_t m, const uint32_t *table)
{
	LIBBPF_OPTS(bpf_map_create_opts, co, .map_flags = b->inner_flags);
	uint32_t *keys = malloc(m * sizeof(*keys)), n = m, i;
	uint32_t slot = VEER_MAGLEV_SLOT(svc_id, 0);	/* services use table A */
	int fd, ret = -1;

	if (!keys)
		return -1;
	for (i = 0; i < m; i++)
		keys[i] = i;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_maglev", 4, 4, m, &co);
	if (fd >= 0 && !bpf_map_update_batch(fd, keys, table, &n, NULL) && n == m)
		ret = bpf_map_update_elem(b->maglev, &slot, &fd, BPF_ANY);
	if (ret)
		fprintf(stderr, "maglev table of service %u: %s\n", svc_id, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(keys);
	return ret;
}

static struct veer_svc_key svc_key(struct veer_addr vip, uint16_t port, uint8_t proto)
{
	struct veer_svc_key k;

	memset(&k, 0, sizeof(k));
	k.vip = vip;
	k.port = htons(port);
	k.proto = proto;
	k.family = VEER_AF_INET;
	return k;
}

int bench_measured_svc(struct bench *b, uint8_t proto, uint32_t n_be)
{
	struct maglev_backend *mb = calloc(n_be, sizeof(*mb));
	uint32_t *table = malloc(B_M * sizeof(*table)), i;
	uint16_t port = proto == IPPROTO_TCP ? B_VPORT : B_UDPPORT;
	/* Plain DNAT backends, as veerd flags such a service. */
	struct veer_svc v = { .id = B_SVC, .table_size = B_M, .flags = VEER_SVC_F_PLAIN };
	struct veer_svc_key k;
	struct veer_addr vip;
	int ret = -1;

	if (!mb || !table)
		goto out;
	bench_addr(B_VIP, &vip);
	k = svc_key(vip, B_VPORT, IPPROTO_TCP);
	bpf_map_delete_elem(b->svc, &k);
	k = svc_key(vip, B_UDPPORT, IPPROTO_UDP);
	bpf_map_delete_elem(b->svc, &k);
	for (i = 1; i <= 1000; i++) {
		struct veer_addr a = addr_n(0x0ac90000 /* 10.201.0.0 */, i);

		if (put_backend(b, i, a, B_BPORT, B_SVC, i <= n_be ? VEER_BE_ACTIVE : VEER_BE_UNUSED))
			goto out;
		if (i <= n_be) {
			mb[i - 1].id = i;
			mb[i - 1].weight = 1;
			mb[i - 1].addr = a;
			mb[i - 1].port = B_BPORT;
			mb[i - 1].family = VEER_AF_INET;
		}
	}
	if (put_backend(b, B_BE_SELF, vip, port, B_SVC, VEER_BE_ACTIVE) ||
	    maglev_build(mb, n_be, B_M, SEED, table) || put_table(b, B_SVC, B_M, table))
		goto out;
	k = svc_key(vip, port, proto);
	if (!put_port(b, port, 0) && !put_vip(b, &k.vip) && !put_meta(b, B_SVC, &k))
		ret = bpf_map_update_elem(b->svc, &k, &v, BPF_ANY);
out:
	if (ret)
		fprintf(stderr, "measured service: %s\n", strerror(errno));
	free(mb);
	free(table);
	return ret;
}

/* Each write to the outer Maglev map waits for an RCU grace period; a
 * batch waits once. So the fillers go in chunks: inner tables created,
 * then one batch each for backends, tables and services. */
#define FILL_CHUNK 500

static int fill_chunk(struct bench *b, uint32_t first, uint32_t n)
{
	uint32_t table[B_FILL_M], keys[B_FILL_M], ids[FILL_CHUNK], slots[FILL_CHUNK];
	uint32_t be_ids[FILL_CHUNK], fds[FILL_CHUNK], i, j, cnt;
	struct veer_backend bes[FILL_CHUNK];
	struct veer_svc_key sk[FILL_CHUNK];
	struct veer_svc sv[FILL_CHUNK];
	LIBBPF_OPTS(bpf_map_create_opts, co, .map_flags = b->inner_flags);
	int ret = -1;

	memset(bes, 0, sizeof(bes));
	for (j = 0; j < B_FILL_M; j++)
		keys[j] = j;
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		uint32_t k = first + i;

		ids[i] = 2 + k;
		slots[i] = VEER_MAGLEV_SLOT(ids[i], 0);
		be_ids[i] = B_FILL_BE0 + k;
		bes[i].addr = addr_n(0x0acb0000 /* 10.203.0.0 */, k);
		bes[i].port = htons(B_BPORT);
		bes[i].family = VEER_AF_INET;
		bes[i].state = VEER_BE_ACTIVE;
		bes[i].weight = 1;
		bes[i].svc_id = ids[i];
		sk[i] = svc_key(addr_n(0x0aca0000 /* 10.202.0.0 */, k), B_VPORT, IPPROTO_TCP);
		memset(&sv[i], 0, sizeof(sv[i]));
		sv[i].id = ids[i];
		sv[i].table_size = B_FILL_M;
		for (j = 0; j < B_FILL_M; j++)
			table[j] = be_ids[i];
		fds[i] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_maglev", 4, 4, B_FILL_M, &co);
		cnt = B_FILL_M;
		if ((int)fds[i] < 0 || bpf_map_update_batch(fds[i], keys, table, &cnt, NULL))
			goto out;
	}
	cnt = n;
	if (put_port(b, B_BPORT, 1) || put_port(b, B_VPORT, 0) ||
	    bpf_map_update_batch(b->be, be_ids, bes, &cnt, NULL))
		goto out;
	cnt = n;
	if (bpf_map_update_batch(b->maglev, slots, fds, &cnt, NULL))
		goto out;
	for (i = 0; i < n; i++)
		if (put_vip(b, &sk[i].vip) || put_meta(b, ids[i], &sk[i]))
			goto out;
	cnt = n;
	ret = bpf_map_update_batch(b->svc, sk, sv, &cnt, NULL);
out:
	if (ret)
		fprintf(stderr, "filler services: %s\n", strerror(errno));
	for (i = 0; i < n; i++)
		if ((int)fds[i] >= 0)
			close(fds[i]);
	return ret;
}

int bench_fill_services(struct bench *b)
{
	uint32_t i, n;

	for (i = 0; i < B_FILLERS; i += n) {
		n = B_FILLERS - i < FILL_CHUNK ? B_FILLERS - i : FILL_CHUNK;
		if (fill_chunk(b, i, n))
			return -1;
	}
	b->n_fill = B_FILLERS;
	return 0;
}

#define CT_CHUNK 65536

/* Flow i of the fillers (whether installed or not): client 10.64.0.0 + i, port 1024 + i % 60000. */
static void filler_flow(uint32_t i, struct veer_flow *f,
			struct veer_ct *ct, struct veer_flow *rk, struct veer_rnat *rv,
			uint64_t now)
{
	uint32_t s = i % B_FILLERS;

	memset(f, 0, sizeof(*f));
	f->src = addr_n(0x0a400000, i);
	f->dst = addr_n(0x0aca0000, s);
	f->sport = htons(1024 + i % 60000);
	f->dport = htons(B_VPORT);
	f->proto = IPPROTO_TCP;
	f->family = VEER_AF_INET;
	memset(ct, 0, sizeof(*ct));
	ct->last_seen_ns = now;
	ct->created_ns = now;
	ct->backend_id = B_FILL_BE0 + s;
	ct->svc_id = 2 + s;
	ct->state = VEER_CT_ESTABLISHED;
	memset(rk, 0, sizeof(*rk));
	rk->src = addr_n(0x0acb0000, s);
	rk->dst = f->src;
	rk->sport = htons(B_BPORT);
	rk->dport = f->sport;
	rk->proto = IPPROTO_TCP;
	rk->family = VEER_AF_INET;
	memset(rv, 0, sizeof(*rv));
	rv->vip = f->dst;
	rv->client = f->src;
	rv->vport = f->dport;
	rv->cport = f->sport;
	rv->backend_id = ct->backend_id;
}

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int bench_fill_ct(struct bench *b)
{
	struct veer_flow *k = calloc(CT_CHUNK, sizeof(*k)), *rk = calloc(CT_CHUNK, sizeof(*rk));
	struct veer_ct *v = calloc(CT_CHUNK, sizeof(*v));
	struct veer_rnat *rv = calloc(CT_CHUNK, sizeof(*rv));
	uint64_t now = bench_now_ns();
	int ret = -1, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t i, n, j, cnt;
	cpu_set_t all;

	sched_getaffinity(0, sizeof(all), &all);

	if (!k || !rk || !v || !rv)
		goto out;
	for (i = 0; i < B_CT_FILL; i += n) {
		n = B_CT_FILL - i < CT_CHUNK ? B_CT_FILL - i : CT_CHUNK;
		/* Spread the inserts over the CPUs as RSS would: an LRU map
		 * with BPF_F_NO_COMMON_LRU gives each CPU its own share. */
		on_cpu(i / CT_CHUNK % ncpu);
		for (j = 0; j < n; j++)
			filler_flow(i + j, &k[j], &v[j], &rk[j], &rv[j], now);
		cnt = n;
		if (bpf_map_update_batch(b->ct, k, v, &cnt, NULL) || cnt != n)
			goto out;
		cnt = n;
		if (bpf_map_update_batch(b->rnat, rk, rv, &cnt, NULL) || cnt != n)
			goto out;
	}
	sched_setaffinity(0, sizeof(all), &all);
	/* Flows from the start, the middle and the end must be there:
	 * nothing was evicted. */
	for (i = 0; i < B_CT_FILL; i += B_CT_FILL / 16) {
		filler_flow(i, &k[0], &v[0], &rk[0], &rv[0], now);
		if (bpf_map_lookup_elem(b->ct, &k[0], &v[1]) ||
		    bpf_map_lookup_elem(b->rnat, &rk[0], &rv[1])) {
			fprintf(stderr, "conntrack fill: flow %u missing\n", i);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "conntrack fill failed: %s\n", strerror(errno));
	free(k);
	free(rk);
	free(v);
	free(rv);
	return ret;
}

int bench_put_reply(struct bench *b, uint16_t cport)
{
	struct veer_flow k = { .sport = htons(B_VPORT), .dport = htons(cport),
			       .proto = IPPROTO_TCP, .family = VEER_AF_INET };
	struct veer_rnat v = { .vport = htons(B_VPORT), .cport = htons(cport),
			       .backend_id = B_BE_SELF };

	bench_addr(B_VIP, &k.src);
	bench_addr(B_CLIENT, &k.dst);
	v.vip = k.src;
	v.client = k.dst;
	if (bpf_map_update_elem(b->rnat, &k, &v, BPF_ANY))
		return -1;
	return dp_gen_bump(b->flowgen);	/* as every writer of conntrack must */
}

int bench_put_flow(struct bench *b, const struct veer_flow *f, uint8_t state)
{
	uint64_t now = bench_now_ns();
	struct veer_ct ct = { .last_seen_ns = now, .created_ns = now, .backend_id = B_BE_SELF,
			      .svc_id = B_SVC, .state = state };

	if (bpf_map_update_elem(b->ct, f, &ct, BPF_ANY))
		return -1;
	return dp_gen_bump(b->flowgen);	/* as every writer of conntrack must */
}

int bench_flow_cache(struct bench *b, int on)
{
	struct veer_config c;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(b->cfg, &zero, &c))
		return -1;
	c.flags = on ? c.flags & ~VEER_CFG_F_NO_FLOW_CACHE : c.flags | VEER_CFG_F_NO_FLOW_CACHE;
	if (bpf_map_update_elem(b->cfg, &zero, &c, BPF_ANY))
		return -1;
	return dp_gen_bump(b->flowgen);
}

static void percpu_sum(struct bench *b, int fd, uint32_t key, uint64_t *out, size_t n64)
{
	uint64_t *vals = calloc((size_t)b->ncpu * n64, sizeof(uint64_t));
	size_t i;
	int c;

	memset(out, 0, n64 * sizeof(uint64_t));
	if (vals && !bpf_map_lookup_elem(fd, &key, vals))
		for (c = 0; c < b->ncpu; c++)
			for (i = 0; i < n64; i++)
				out[i] += vals[(size_t)c * n64 + i];
	free(vals);
}

void bench_reasons(struct bench *b, uint64_t *out)
{
	uint32_t r;

	for (r = 0; r < VEER_R__COUNT; r++)
		percpu_sum(b, b->drops, r, &out[r], 1);
}

struct veer_svc_stats bench_svc_stats(struct bench *b, uint32_t id)
{
	struct veer_svc_stats s;

	percpu_sum(b, b->svcst, id, (uint64_t *)&s, sizeof(s) / 8);
	return s;
}

void bench_synq_fill(struct bench *b, int taken)
{
	struct timespec ts;
	uint64_t now;
	uint32_t i;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	memset(b->synq_mem, 0, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot));
	for (i = 0; taken && i < VEER_SYNQ_SLOTS; i++) {
		/* Another client's live half-open flow (10.250/16). */
		struct veer_flow other = { .src = addr_n(0x0afa0000, i), .sport = htons(1024),
					   .proto = IPPROTO_TCP, .family = VEER_AF_INET };

		veer_syn_slot_fill(&b->synq_mem[i], &other, 1, B_SVC, 1, now);
		b->synq_mem[i].stamp_ns = now;
	}
}

int bench_half_open_backend(struct bench *b, const struct veer_flow *k, uint32_t *be_id)
{
	const struct veer_syn_slot *q = &b->synq_mem[veer_synq_index(&k->src, k->sport)];
	struct veer_flow held;
	struct veer_ct hs;

	veer_syn_slot_flow(q, &held);
	if (q->stamp_ns && !memcmp(&held, k, sizeof(held))) {
		*be_id = q->backend_id;
		return 0;
	}
	if (bpf_map_lookup_elem(b->ctsyn, k, &hs))
		return -1;
	*be_id = hs.backend_id;
	return 0;
}
