// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * veerd: loads (or adopts) the datapath, applies the config, probes
 * backends and keeps the maps in step, from one event loop. Stopping veerd
 * leaves the datapath forwarding with its current tables; `--teardown`
 * removes everything veerd attached and pinned.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/signalfd.h>
#include <bpf/libbpf.h>
#include "admin.h"
#include "agent.h"
#include "cfgwatch.h"
#include "datapath.h"
#include "log.h"
#include "metrics.h"
#include "veer_admin.h"
#include "snat_gc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: veerd --config FILE [--state-dir DIR] [-v]\n"
		"       veerd --check --config FILE\n"
		"       veerd --teardown [--config FILE | --state-dir DIR]\n"
		"\n"
		"  -c, --config FILE    YAML config (reloaded on change and on SIGHUP)\n"
		"  -s, --state-dir DIR  bpffs directory for pinned maps and links\n"
		"                       (default: node.state_dir, else %s)\n"
		"      --check          validate the config and exit\n"
		"      --teardown       detach veer from every interface, remove all pins\n"
		"  -v, --verbose        debug logging (libbpf's too)\n"
		"  -h, --help\n", VEER_STATE_DEFAULT_DIR);
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;
	char err[512];

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			pr_info("SIGHUP: reloading", "file=%s", a->cfg_path);
			agent_reload(a, true, err, sizeof(err));
		} else {
			pr_info("stopping; the datapath keeps forwarding", "signal=%u", si.ssi_signo);
			loop_stop(l);
		}
	}
}

static void on_config_changed(void *arg)
{
	struct agent *a = arg;
	char err[512];

	agent_reload(a, false, err, sizeof(err));
}

static void on_housekeeping(struct loop *l, struct loop_timer *t, void *arg)
{
	agent_admin_housekeeping(arg);
	snat_gc_sweep(arg);	/* full NAT ports of flows that ended unseen */
	loop_timer_arm(l, t, 1000000);
}

/* Spare tables for new services, 128 at a time between other work. */
static void on_spares(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent *a = arg;

	agent_fill_spares(a, 128);
	for (size_t i = 0; i < a->n_svcs; i++)
		if (!a->svcs[i]->spare_ready) {
			loop_timer_arm(l, t, 50000);
			return;
		}
	loop_timer_arm(l, t, 1000000);
}

static int setup_signals(struct agent *a)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : loop_add_fd(a->loop, fd, EPOLLIN, on_signal, a);
}

/* Pins need a directory on a bpffs; say how to get one. */
static int ensure_state_dir(const char *dir, char *err, size_t errlen)
{
	char path[CFG_PATH_MAX];
	struct statfs st;

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "state dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "state dir %s is not on a bpf filesystem: "
			 "mount one (mount -t bpf bpf /sys/fs/bpf) or pass --state-dir", dir);
		return -1;
	}
	return 0;
}

static int load_datapath(struct agent *a, char *err, size_t errlen)
{
	struct dp_opts o = { .state_dir = a->state_dir, .ct_size = a->cfg->node.ct_size };

	if (ensure_state_dir(a->state_dir, err, errlen))
		return -1;
	a->skel = dp_open_load(&o, err, errlen);
	if (!a->skel)
		return -1;
	if (dp_maps_from_skel(a->skel, &a->maps, err, errlen))
		return -1;
	return agent_adopt(a);
}

static int run(struct agent *a)
{
	char err[1024], q[1100];
	int ret = 1;

	if (load_datapath(a, err, sizeof(err)))
		goto fail;
	a->loop = a->loop ? a->loop : loop_new();
	a->prober = prober_new(a->loop);
	if (!a->prober) {
		snprintf(err, sizeof(err), "cannot start the prober");
		goto fail;
	}
	if (agent_apply(a, a->cfg, err, sizeof(err)))
		pr_err("config applied with errors", "error=%s", log_quote(q, sizeof(q), err));
	malloc_trim(0);
	if (agent_events_open(a, err, sizeof(err)) || agent_ifaces_start(a, err, sizeof(err)) ||
	    agent_routes_start(a, err, sizeof(err)) ||
	    agent_admin_start(a, err, sizeof(err)) || setup_signals(a))
		goto fail;
	if (a->cfg->node.metrics_listen[0]) {
		a->metrics = metrics_start(a, a->cfg->node.metrics_listen, err, sizeof(err));
		if (!a->metrics)
			goto fail;
	}
	a->cfgw = cfgwatch_new(a->loop, a->cfg_path, 200, on_config_changed, a);
	a->housekeeping = loop_timer_new(a->loop, on_housekeeping, a);
	loop_timer_arm(a->loop, a->housekeeping, 1000000);
	a->spares = loop_timer_new(a->loop, on_spares, a);
	loop_timer_arm(a->loop, a->spares, 0);
	a->ready = true;
	pr_info("veerd running", "services=%zu interfaces=%d state_dir=%s admin=%s metrics=%s",
		a->cfg->n_services, a->n_attached, a->state_dir, a->cfg->node.admin_socket,
		a->cfg->node.metrics_listen[0] ? a->cfg->node.metrics_listen : "off");
	ret = loop_run(a->loop) ? 1 : 0;
	goto out;
fail:
	pr_err("veerd cannot start", "error=%s", log_quote(q, sizeof(q), err));
out:
	metrics_stop(a->metrics);
	admin_free(a->admin);
	cfgwatch_free(a->loop, a->cfgw);
	agent_routes_stop(a);
	agent_release_all(a);
	prober_free(a->prober);
	dp_close(a->skel);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'C' },
		{ "teardown", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct agent a;
	bool check = false, teardown = false;
	const char *state_dir = NULL;
	char err[1024];
	int c;

	log_capture_libbpf();
	while ((c = getopt_long(argc, argv, "c:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': snprintf(a.cfg_path, sizeof(a.cfg_path), "%s", optarg); break;
		case 's': state_dir = optarg; break;
		case 'C': check = true; break;
		case 'T': teardown = true; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (!a.cfg_path[0] && !(teardown && state_dir))) {
		usage(stderr);
		return 2;
	}
	if (a.cfg_path[0]) {
		a.cfg = cfg_load_file(a.cfg_path, err, sizeof(err));
		if (!a.cfg) {
			fprintf(stderr, "veerd: %s\n", err);
			return 1;
		}
	}
	snprintf(a.state_dir, sizeof(a.state_dir), "%s",
		 state_dir ? state_dir : a.cfg->node.state_dir[0] ? a.cfg->node.state_dir :
		 VEER_STATE_DEFAULT_DIR);
	if (a.cfg)
		snprintf(a.cfg->node.state_dir, sizeof(a.cfg->node.state_dir), "%s", a.state_dir);
	if (check) {
		printf("%s: ok (%zu services)\n", a.cfg_path, a.cfg->n_services);
		cfg_free(a.cfg);
		return 0;
	}
	if (teardown) {
		dp_teardown(a.state_dir);
		printf("veer removed from every interface; pins under %s deleted\n", a.state_dir);
		cfg_free(a.cfg);
		return 0;
	}
	a.loop = loop_new();
	a.started_us = loop_now_us();
	agent_note_config_digest(&a);
	c = run(&a);
	cfg_free(a.cfg);
	loop_free(a.loop);
	return c;
}
