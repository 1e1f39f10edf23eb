// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fx.h"
#include "fx_skel.h"
#include "dpmaps.h"

#define META_MAGIC 0x76656572u	/* what the XDP program puts in front of a handled frame */
#define MAX_IDS 32		/* cases use service and backend ids below this */

static struct veer_bpf *skel;

bool fx_fail(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	printf("#   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	f->failed = true;
	return false;
}

static void must(struct fx *f, int ret, const char *what)
{
	if (ret)
		fx_fail(f, "%s: %s", what, strerror(errno));
}

static void parse_addr(const char *txt, struct veer_addr *a, uint8_t *family)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, txt, &a->v4) == 1) {
		*family = VEER_AF_INET;
		return;
	}
	if (inet_pton(AF_INET6, txt, a->b) == 1) {
		*family = VEER_AF_INET6;
		return;
	}
	fprintf(stderr, "bad address %s\n", txt);
	abort();
}

void fx_cfg_set(struct fx *f, const struct veer_config *c)
{
	uint32_t zero = 0;

	must(f, bpf_map_update_elem(f->cfg, &zero, c, BPF_ANY), "update cfg");
}

void fx_cfg(struct fx *f, uint32_t seed, uint32_t flags, uint32_t resteer)
{
	struct veer_config c = { .hash_seed = seed, .flags = flags,
				 .syn_retry_resteer = resteer };

	fx_cfg_set(f, &c);
}

static struct veer_svc_key svc_key(const char *vip, uint16_t port, uint8_t proto)
{
	struct veer_svc_key k;

	memset(&k, 0, sizeof(k));
	parse_addr(vip, &k.vip, &k.family);
	k.port = htons(port);
	k.proto = proto;
	return k;
}

void fx_port(struct fx *f, uint16_t port, int be)
{
	struct veer_ports *pf = calloc(1, sizeof(*pf));
	uint32_t zero = 0;

	if (!pf || bpf_map_lookup_elem(f->ports, &zero, pf)) {
		fx_fail(f, "lookup ports: %s", strerror(errno));
		free(pf);
		return;
	}
	if (be)
		pf->be_sport[VEER_PORT_WORD(port)] |= VEER_PORT_BIT(port);
	else
		pf->svc_dport[VEER_PORT_WORD(port)] |= VEER_PORT_BIT(port);
	must(f, bpf_map_update_elem(f->ports, &zero, pf, BPF_ANY), "update ports");
	free(pf);
}

void fx_vip(struct fx *f, const struct veer_addr *vip)
{
	struct veer_vips *vf = calloc(1, sizeof(*vf));
	uint32_t zero = 0, bit = veer_vip_bit(vip);

	if (!vf || bpf_map_lookup_elem(f->vips, &zero, vf)) {
		fx_fail(f, "lookup vips: %s", strerror(errno));
		free(vf);
		return;
	}
	vf->bits[bit / 64] |= 1ULL << (bit % 64);
	must(f, bpf_map_update_elem(f->vips, &zero, vf, BPF_ANY), "update vips");
	free(vf);
}

void fx_prefilter(struct fx *f, int on)
{
	struct veer_ports *pf = calloc(1, sizeof(*pf));
	struct veer_vips *vf = calloc(1, sizeof(*vf));
	uint32_t zero = 0;

	if (pf && !bpf_map_lookup_elem(f->ports, &zero, pf)) {
		pf->enabled = on;
		must(f, bpf_map_update_elem(f->ports, &zero, pf, BPF_ANY), "update ports");
	}
	if (vf && !bpf_map_lookup_elem(f->vips, &zero, vf)) {
		vf->enabled = on;
		must(f, bpf_map_update_elem(f->vips, &zero, vf, BPF_ANY), "update vips");
	}
	free(pf);
	free(vf);
}

void fx_svc(struct fx *f, const char *vip, uint16_t port, uint8_t proto,
	    uint32_t id, uint32_t flags, uint32_t table_size)
{
	struct veer_svc_key k = svc_key(vip, port, proto);
	struct veer_svc v = { .id = id, .table_size = table_size, .flags = flags };
	struct veer_svc_meta m = { .key = k, .in_use = 1 };

	fx_port(f, port, 0);
	fx_vip(f, &k.vip);
	must(f, bpf_map_update_elem(f->meta, &id, &m, BPF_ANY), "update svcmeta");
	must(f, bpf_map_update_elem(f->svc, &k, &v, BPF_ANY), "update svc");
	/* As veerd does when a service id gets another VIP (reconcile.c). */
	must(f, dp_gen_bump(f->flowgen), "flowgen");
}

void fx_svc_udp_timeout(struct fx *f, const char *vip, uint16_t port, uint32_t secs)
{
	struct veer_svc_key k = svc_key(vip, port, IPPROTO_UDP);
	struct veer_svc v;
	struct veer_svc_meta m;

	must(f, bpf_map_lookup_elem(f->svc, &k, &v), "lookup svc");
	v.udp_timeout_s = secs;
	must(f, bpf_map_update_elem(f->svc, &k, &v, BPF_ANY), "update svc");
	must(f, bpf_map_lookup_elem(f->meta, &v.id, &m), "lookup svcmeta");
	m.udp_timeout_s = secs;
	must(f, bpf_map_update_elem(f->meta, &v.id, &m, BPF_ANY), "update svcmeta");
}

void fx_backend(struct fx *f, uint32_t id, const char *addr, uint16_t port,
		uint32_t svc_id, uint8_t state)
{
	struct veer_backend b;

	memset(&b, 0, sizeof(b));
	parse_addr(addr, &b.addr, &b.family);
	b.port = htons(port);
	b.svc_id = svc_id;
	b.state = state;
	b.weight = 1;
	fx_port(f, port, 1);
	must(f, bpf_map_update_elem(f->be, &id, &b, BPF_ANY), "update backend");
}

void fx_backend_state(struct fx *f, uint32_t id, uint8_t state)
{
	struct veer_backend b;

	must(f, bpf_map_lookup_elem(f->be, &id, &b), "lookup backend");
	b.state = state;
	must(f, bpf_map_update_elem(f->be, &id, &b, BPF_ANY), "update backend");
}

void fx_table(struct fx *f, uint32_t svc_id, uint32_t m, const uint32_t *slots)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fx_maglev", 4, 4, m, &o);
	uint32_t i;

	if (fd < 0) {
		fx_fail(f, "create maglev table: %s", strerror(errno));
		return;
	}
	for (i = 0; i < m; i++)
		must(f, bpf_map_update_elem(fd, &i, &slots[i], BPF_ANY), "fill table");
	{
		uint32_t key = VEER_MAGLEV_SLOT(svc_id, 0);	/* fixtures use table A */

		must(f, bpf_map_update_elem(f->maglev, &key, &fd, BPF_ANY), "install table");
	}
	close(fd);
}

void fx_table_fill(struct fx *f, uint32_t svc_id, uint32_t m, uint32_t be_id)
{
	uint32_t *s = calloc(m, sizeof(*s)), i;

	for (i = 0; i < m; i++)
		s[i] = be_id;
	fx_table(f, svc_id, m, s);
	free(s);
}

void fx_iface(struct fx *f, uint32_t ifindex, uint32_t flags, int in_tx)
{
	struct veer_iface v = { .flags = flags };

	must(f, bpf_map_update_elem(f->ifc, &ifindex, &v, BPF_ANY), "update iface");
	if (in_tx)
		must(f, bpf_map_update_elem(f->tx, &ifindex, &ifindex, BPF_ANY), "update tx");
}

struct veer_flow fx_flow(const struct pspec *s)
{
	struct veer_flow fl;
	uint8_t fam;

	memset(&fl, 0, sizeof(fl));
	parse_addr(s->src, &fl.src, &fam);
	parse_addr(s->dst, &fl.dst, &fam);
	fl.family = fam;
	fl.proto = s->proto;
	fl.sport = htons(s->sport);
	fl.dport = htons(s->dport);
	return fl;
}

bool fx_ct_get(struct fx *f, int map_fd, const struct veer_flow *k, struct veer_ct *ct)
{
	struct veer_ct tmp;

	(void)f;
	return bpf_map_lookup_elem(map_fd, k, ct ? ct : &tmp) == 0;
}

bool fx_synq_get(struct fx *f, const struct veer_flow *k, struct veer_syn_slot *q)
{
	const struct veer_syn_slot *s = &f->synq_mem[veer_synq_index(&k->src, k->sport)];
	struct veer_flow held;

	veer_syn_slot_flow(s, &held);
	if (!s->stamp_ns || memcmp(&held, k, sizeof(held)))
		return false;
	if (q)
		*q = *s;
	return true;
}

void fx_ct_put(struct fx *f, int map_fd, const struct veer_flow *k, const struct veer_ct *ct)
{
	must(f, bpf_map_update_elem(map_fd, k, ct, BPF_ANY), "update ct");
	/* Like any writer of conntrack besides the datapath (a flush). */
	must(f, dp_gen_bump(f->flowgen), "flowgen");
}

void *fx_percpu_read(struct fx *f, int fd, uint32_t key, size_t size)
{
	void *all = calloc(f->ncpu, size);

	if (!all || bpf_map_lookup_elem(fd, &key, all)) {
		free(all);
		fx_fail(f, "read entry %u of per-CPU map fd %d", key, fd);
		return NULL;
	}
	return all;
}

uint64_t fx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Per-CPU values, summed field by field as u64s. */
static void percpu_sum(struct fx *f, int fd, uint32_t key, uint64_t *out, size_t n64)
{
	uint64_t *vals = calloc((size_t)f->ncpu * n64, sizeof(uint64_t));
	int c;
	size_t i;

	memset(out, 0, n64 * sizeof(uint64_t));
	if (bpf_map_lookup_elem(fd, &key, vals) == 0)
		for (c = 0; c < f->ncpu; c++)
			for (i = 0; i < n64; i++)
				out[i] += vals[(size_t)c * n64 + i];
	free(vals);
}

static void percpu_zero(struct fx *f, int fd, uint32_t key, size_t n64)
{
	uint64_t *vals = calloc((size_t)f->ncpu * n64, sizeof(uint64_t));

	bpf_map_update_elem(fd, &key, vals, BPF_ANY);
	free(vals);
}

struct veer_svc_stats fx_svc_stats(struct fx *f, uint32_t id)
{
	struct veer_svc_stats s;

	percpu_sum(f, f->svcst, id, (uint64_t *)&s, sizeof(s) / 8);
	return s;
}

struct veer_be_stats fx_be_stats(struct fx *f, uint32_t id)
{
	struct veer_be_stats s;

	percpu_sum(f, f->best, id, (uint64_t *)&s, sizeof(s) / 8);
	return s;
}

uint64_t fx_reason(struct fx *f, int reason)
{
	uint64_t v;

	percpu_sum(f, f->drops, reason, &v, 1);
	return v;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct fx *f = ctx;

	if (len >= sizeof(struct veer_event) && f->nev < FX_MAX_EVENTS)
		memcpy(&f->ev[f->nev++], data, sizeof(struct veer_event));
	return 0;
}

bool fx_events(struct fx *f, int n, const int *types)
{
	bool ok = true;
	int i;

	ring_buffer__consume(f->ring);
	if (f->nev != n) {
		ok = fx_fail(f, "expected %d events, got %d", n, f->nev);
		for (i = 0; i < f->nev; i++)
			printf("#     event type %u backend %u\n", f->ev[i].type, f->ev[i].backend_id);
	} else {
		for (i = 0; i < n; i++)
			if ((int)f->ev[i].type != types[i])
				ok = fx_fail(f, "event %d: type %u, want %d", i, f->ev[i].type, types[i]);
	}
	f->nev = 0;
	return ok;
}

static int verdict_code(enum fx_prog p, enum fx_verdict v)
{
	static const int xdp[] = { XDP_PASS, XDP_DROP, XDP_TX, XDP_REDIRECT };
	static const int tc[] = { 0 /* TC_ACT_OK */, 2 /* SHOT */, 7 /* REDIRECT */, 7 };

	return p == FX_XDP ? xdp[v] : tc[v];
}

bool fx_step_raw(struct fx *f, const uint8_t *in, size_t len, const struct fx_exp *e,
		 const uint8_t *out, size_t out_len)
{
	uint8_t buf[PKT_MAX + 64];
	uint64_t before[VEER_R__COUNT], after;
	struct __sk_buff skb_ctx;
	struct xdp_md xdp_ctx;
	const uint8_t *got = buf;
	size_t got_len;
	bool ok = true, marked = false;
	int r, err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = buf, .data_size_out = sizeof(buf), .repeat = 1);

	for (r = 0; r < VEER_R__COUNT; r++)
		before[r] = fx_reason(f, r);
	if (f->prog == FX_TC) {
		memset(&skb_ctx, 0, sizeof(skb_ctx));
		skb_ctx.ifindex = f->ingress_ifindex ? f->ingress_ifindex : 1;
		skb_ctx.ingress_ifindex = skb_ctx.ifindex;
		o.ctx_in = &skb_ctx;
		o.ctx_size_in = sizeof(skb_ctx);
	} else if (f->ingress_ifindex) {
		memset(&xdp_ctx, 0, sizeof(xdp_ctx));
		xdp_ctx.ingress_ifindex = f->ingress_ifindex;
		o.ctx_in = &xdp_ctx;
		o.ctx_size_in = sizeof(xdp_ctx);
	}
	err = bpf_prog_test_run_opts(f->prog_fd[f->prog], &o);
	if (err)
		return fx_fail(f, "test_run: %s", strerror(errno));

	if (!out) {
		out = in;
		out_len = len;
	}
	got_len = o.data_size_out;
	if (f->prog == FX_XDP && got_len == out_len + 4) {
		uint32_t m;

		memcpy(&m, buf, 4);
		if (m == META_MAGIC) {
			marked = true;
			got += 4;
			got_len -= 4;
		}
	}
	if ((int)o.retval != verdict_code(f->prog, e->verdict))
		ok = fx_fail(f, "verdict %u, want %d", o.retval, verdict_code(f->prog, e->verdict));
	if (got_len != out_len || memcmp(got, out, out_len)) {
		ok = fx_fail(f, "output differs");
		pkt_hexdump("got", got, got_len);
		pkt_hexdump("want", out, out_len);
	}
	/* XDP marks exactly the frames it rewrote and handed to the stack. */
	if (f->prog == FX_XDP &&
	    marked != (e->verdict == FX_PASS && (out != in || e->out)))
		ok = fx_fail(f, "xdp handled-mark %d, want the opposite", marked);
	for (r = 0; r < VEER_R__COUNT; r++) {
		uint64_t want = (r == e->reason) + (r == e->extra);

		after = fx_reason(f, r);
		if (after - before[r] != want)
			ok = fx_fail(f, "reason %d counted %llu, want %llu", r,
				     (unsigned long long)(after - before[r]),
				     (unsigned long long)want);
	}
	ring_buffer__consume(f->ring);
	return ok;
}

bool fx_step(struct fx *f, const struct pspec *in, const struct fx_exp *e)
{
	uint8_t a[PKT_MAX], b[PKT_MAX];
	size_t la = pkt_build(in, a), lb = 0;

	if (e->out)
		lb = pkt_build(e->out, b);
	return fx_step_raw(f, a, la, e, e->out ? b : NULL, lb);
}

static void clear_hash(int fd, size_t key_size)
{
	uint8_t key[64];

	(void)key_size;
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			break;
}

/* What veerd does on a route or backend change: a new cache generation. */
void fx_fib_invalidate(struct fx *f)
{
	must(f, dp_gen_bump(f->fibgen), "fibgen");
}

void fx_reset(struct fx *f)
{
	struct veer_backend zb;
	struct veer_config zc;
	struct veer_svc_meta zm;
	uint32_t i, zero = 0;

	memset(&zb, 0, sizeof(zb));
	memset(&zc, 0, sizeof(zc));
	memset(&zm, 0, sizeof(zm));
	clear_hash(f->svc, sizeof(struct veer_svc_key));
	clear_hash(f->ct, sizeof(struct veer_flow));
	clear_hash(f->ctsyn, sizeof(struct veer_flow));
	clear_hash(f->rnat, sizeof(struct veer_flow));
	clear_hash(f->rnsyn, sizeof(struct veer_flow));
	clear_hash(f->snat, sizeof(struct veer_flow));
	clear_hash(f->ifc, 4);
	clear_hash(f->tx, 4);
	bpf_map_update_elem(f->cfg, &zero, &zc, BPF_ANY);
	{
		struct veer_ports *pf = calloc(1, sizeof(*pf));
		struct veer_vips *vf = calloc(1, sizeof(*vf));

		if (pf)
			bpf_map_update_elem(f->ports, &zero, pf, BPF_ANY);
		if (vf)
			bpf_map_update_elem(f->vips, &zero, vf, BPF_ANY);
		free(pf);
		free(vf);
	}
	for (i = 0; i < MAX_IDS; i++) {
		bpf_map_update_elem(f->be, &i, &zb, BPF_ANY);
		bpf_map_update_elem(f->meta, &i, &zm, BPF_ANY);
		bpf_map_delete_elem(f->maglev, &i);
		percpu_zero(f, f->svcst, i, sizeof(struct veer_svc_stats) / 8);
		percpu_zero(f, f->best, i, sizeof(struct veer_be_stats) / 8);
	}
	for (i = 0; i < VEER_R__COUNT; i++)
		percpu_zero(f, f->drops, i, 1);
	memset(f->synq_mem, 0, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot));
	fx_fib_invalidate(f);
	must(f, dp_gen_bump(f->flowgen), "flowgen");	/* no flow cached */
	ring_buffer__consume(f->ring);
	f->nev = 0;
	f->failed = false;
	f->skip = NULL;
	f->ingress_ifindex = 0;
}

int fx_open(struct fx *f)
{
	struct dp_opts o = { .state_dir = NULL, .ct_size = 4096 };
	char err[512];

	memset(f, 0, sizeof(*f));
	skel = dp_open_load(&o, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "dp_open_load: %s\n", err);
		return -1;
	}
	f->ncpu = libbpf_num_possible_cpus();
	f->prog_fd[FX_XDP] = bpf_program__fd(skel->progs.veer_xdp);
	f->prog_fd[FX_TC] = bpf_program__fd(skel->progs.veer_tc_ingress);
	f->cfg = bpf_map__fd(skel->maps.veer_cfg_v1);
	f->svc = bpf_map__fd(skel->maps.veer_svc_v1);
	f->be = bpf_map__fd(skel->maps.veer_be_v1);
	f->maglev = bpf_map__fd(skel->maps.veer_maglev_v2);
	f->ct = bpf_map__fd(skel->maps.veer_ct_v1);
	f->ctsyn = bpf_map__fd(skel->maps.veer_ctsyn_v1);
	f->rnat = bpf_map__fd(skel->maps.veer_rnat_v1);
	f->rnsyn = bpf_map__fd(skel->maps.veer_rnsyn_v1);
	f->snat = bpf_map__fd(skel->maps.veer_snat_v1);
	f->ifc = bpf_map__fd(skel->maps.veer_if_v1);
	f->tx = bpf_map__fd(skel->maps.veer_tx_v1);
	f->svcst = bpf_map__fd(skel->maps.veer_svcst_v1);
	f->best = bpf_map__fd(skel->maps.veer_best_v1);
	f->drops = bpf_map__fd(skel->maps.veer_drop_v1);
	f->meta = bpf_map__fd(skel->maps.veer_svcmeta_v1);
	f->ports = bpf_map__fd(skel->maps.veer_ports_v1);
	f->vips = bpf_map__fd(skel->maps.veer_vips_v1);
	f->synq = bpf_map__fd(skel->maps.veer_synq_v1);
	f->synq_mem = mmap(NULL, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot),
			   PROT_READ | PROT_WRITE, MAP_SHARED, f->synq, 0);
	if (f->synq_mem == MAP_FAILED) {
		fprintf(stderr, "mmap veer_synq_v1: %s\n", strerror(errno));
		return -1;
	}
	f->fibgen = bpf_map__fd(skel->maps.veer_fibgen_v1);
	f->fibc = bpf_map__fd(skel->maps.veer_fibc_v1);
	f->fibr = bpf_map__fd(skel->maps.veer_fibr_v1);
	f->clock = bpf_map__fd(skel->maps.veer_clock_v1);
	f->flowc = bpf_map__fd(skel->maps.veer_flowc_v1);
	f->replyc = bpf_map__fd(skel->maps.veer_replyc_v1);
	f->flowgen = bpf_map__fd(skel->maps.veer_flowgen_v1);
	f->ring = ring_buffer__new(bpf_map__fd(skel->maps.veer_events_v1), on_event, f, NULL);
	if (!f->ring) {
		fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void fx_close(struct fx *f)
{
	munmap(f->synq_mem, (size_t)VEER_SYNQ_SLOTS * sizeof(struct veer_syn_slot));
	ring_buffer__free(f->ring);
	dp_close(skel);
}

struct bpf_object *fx_object(void)
{
	return skel->obj;
}

/* The runner's routed veth (vfx0): its ifindex and MAC, read with an
 * ioctl, not sysfs (sysfs shows the namespace it was mounted in). */
extern int fx_have_fwd_net;	/* set by the runner (fixtures_main.c) */

bool fx_routed_iface(struct fx *f, uint8_t *mac, uint32_t *ifindex)
{
	struct ifreq ifr;
	int fd;

	if (!fx_have_fwd_net) {
		f->skip = "could not build the routed veth (ip/veth missing)";
		return false;
	}
	*ifindex = if_nametoindex("vfx0");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "vfx0");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		if (fd >= 0)
			close(fd);
		return fx_fail(f, "read vfx0 MAC");
	}
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return true;
}
