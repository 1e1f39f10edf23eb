// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HTTP(S) probe on libcurl's multi-socket API: curl tells us which sockets
 * to watch and when to wake it (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION), the
 * loop tells curl what happened (curl_multi_socket_action). Verdicts are
 * delivered only after curl returns, never from inside its callbacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <curl/curl.h>
#include "loop.h"
#include "probe.h"

struct probe_http_multi {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer *timer;	/* curl's next timeout */
};

struct http_probe {
	CURL *easy;			/* configured once, re-added per attempt */
	struct curl_slist *connect_to;
	bool in_multi;
	bool body_matched;
	size_t win_len;			/* body bytes kept to match across chunks */
	char win[2 * CFG_PATH_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- the body check: a sliding window, so any body size matches ---- */

static void match_body(struct http_probe *hp, const char *needle, const char *data, size_t len)
{
	size_t n = strlen(needle), keep = n - 1;

	while (len && !hp->body_matched) {
		size_t piece = sizeof(hp->win) - hp->win_len;

		if (piece > len)
			piece = len;
		memcpy(hp->win + hp->win_len, data, piece);
		hp->win_len += piece;
		data += piece;
		len -= piece;
		if (memmem(hp->win, hp->win_len, needle, n)) {
			hp->body_matched = true;
		} else if (hp->win_len > keep) {
			memmove(hp->win, hp->win + hp->win_len - keep, keep);
			hp->win_len = keep;
		}
	}
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct probe *pr = arg;
	const char *needle = probe_target(pr)->cfg->body;

	if (needle[0])
		match_body(probe_kind_state(pr), needle, data, size * nmemb);
	return size * nmemb;
}

/* ---- verdicts ---- */

static void report(struct probe *pr, struct http_probe *hp, CURLcode code)
{
	const struct cfg_probe *cfg = probe_target(pr)->cfg;
	long status = 0, oserr = 0;

	if (code == CURLE_COULDNT_CONNECT)
		curl_easy_getinfo(hp->easy, CURLINFO_OS_ERRNO, &oserr);
	if (code == CURLE_OK)
		curl_easy_getinfo(hp->easy, CURLINFO_RESPONSE_CODE, &status);

	if (code == CURLE_OPERATION_TIMEDOUT)
		probe_fail(pr, "timeout after %ums", cfg->timeout_ms);
	else if (oserr)
		probe_fail(pr, "connect: %s", strerror((int)oserr));
	else if (code != CURLE_OK)
		probe_fail(pr, "http: %s", hp->errbuf[0] ? hp->errbuf : curl_easy_strerror(code));
	else if (status < cfg->status_min || status > cfg->status_max)
		probe_fail(pr, "http: status %ld", status);
	else if (cfg->body[0] && !hp->body_matched)
		probe_fail(pr, "http: body lacks \"%s\"", cfg->body);
	else
		probe_succeed(pr);
}

static void reap_finished(struct probe_http_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode code = msg->data.result;
		struct probe *pr;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		pr = (struct probe *)priv;
		curl_multi_remove_handle(m->multi, easy);
		((struct http_probe *)probe_kind_state(pr))->in_multi = false;
		report(pr, probe_kind_state(pr), code);
	}
}

/* ---- curl <-> loop ---- */

static void on_curl_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct probe_http_multi *m = arg;
	int flags = 0, running;

	(void)l;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & EPOLLERR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(m->multi, fd, flags, &running);
	reap_finished(m);
}

static void on_curl_timer(struct loop *l, struct loop_timer *t, void *arg)
{
	struct probe_http_multi *m = arg;
	int running;

	(void)l;
	(void)t;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap_finished(m);
}

/* socketp is non-NULL once we watch s: curl keeps it for us per socket. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct probe_http_multi *m = userp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			loop_del_fd(m->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (socketp)
		return loop_mod_fd(m->loop, s, events) ? -1 : 0;
	if (loop_add_fd(m->loop, s, events, on_curl_fd, m))
		return -1;
	curl_multi_assign(m->multi, s, m);
	return 0;
}

static int on_curl_timeout_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct probe_http_multi *m = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_disarm(m->loop, m->timer);
	else
		loop_timer_arm(m->loop, m->timer, (uint64_t)timeout_ms * 1000);
	return 0;
}

struct probe_http_multi *probe_http_multi_new(struct loop *l)
{
	struct probe_http_multi *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(m);
		return NULL;
	}
	m->loop = l;
	m->multi = curl_multi_init();
	m->timer = loop_timer_new(l, on_curl_timer, m);
	if (!m->multi || !m->timer) {
		probe_http_multi_free(m);
		return NULL;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout_change);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	return m;
}

void probe_http_multi_free(struct probe_http_multi *m)
{
	if (!m)
		return;
	if (m->multi)
		curl_multi_cleanup(m->multi);
	loop_timer_free(m->loop, m->timer);
	curl_global_cleanup();
	free(m);
}

/* ---- one probe's easy handle ---- */

/* A name for the URL, Host header and TLS SNI; anything else is refused. */
static bool host_is_plain(const char *h)
{
	return h[0] && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789.-_") == strlen(h);
}

/* With a Host, the URL names it and CONNECT_TO sends the connection to the
 * literal address, so Host, SNI and certificate checks all use the name
 * and nothing is resolved. */
static int build_url(const struct probe_target *t, char *url, size_t len,
		     struct curl_slist **connect_to)
{
	const struct cfg_probe *cfg = t->cfg;
	const char *scheme = cfg->type == PROBE_HTTPS ? "https" : "http";
	const char *slash = cfg->path[0] == '/' ? "" : "/";
	bool v6 = t->family == VEER_AF_INET6;
	char addr[INET6_ADDRSTRLEN], ip[INET6_ADDRSTRLEN + 2], rule[2 * CFG_NAME_MAX + 64];

	inet_ntop(v6 ? AF_INET6 : AF_INET, t->addr.b, addr, sizeof(addr));
	snprintf(ip, sizeof(ip), v6 ? "[%s]" : "%s", addr);
	if (!cfg->host[0]) {
		snprintf(url, len, "%s://%s:%u%s%s", scheme, ip, t->port, slash, cfg->path);
		return 0;
	}
	if (!host_is_plain(cfg->host))
		return -EINVAL;
	snprintf(url, len, "%s://%s:%u%s%s", scheme, cfg->host, t->port, slash, cfg->path);
	snprintf(rule, sizeof(rule), "%s:%u:%s:%u", cfg->host, t->port, ip, t->port);
	*connect_to = curl_slist_append(NULL, rule);
	return *connect_to ? 0 : -ENOMEM;
}

static int configure_easy(struct probe *pr, struct http_probe *hp)
{
	const struct cfg_probe *cfg = probe_target(pr)->cfg;
	char url[CFG_PATH_MAX + 2 * CFG_NAME_MAX + 64];
	CURL *e = hp->easy;
	int err = build_url(probe_target(pr), url, sizeof(url), &hp->connect_to);

	if (err)
		return err;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, hp->connect_to);
	curl_easy_setopt(e, CURLOPT_PRIVATE, pr);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, hp->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, pr);
	/* Each probe must really connect: a reused connection proves nothing. */
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");	/* ignore http_proxy in the environment */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "veer-probe");
	/* The scheduler's deadline decides; this only bounds curl on its own. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	if (cfg->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

static void http_release(struct probe *pr);

static int http_state(struct probe *pr, struct http_probe **out)
{
	struct http_probe *hp = probe_kind_state(pr);
	int err;

	if (hp) {
		*out = hp;
		return 0;
	}
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	probe_set_kind_state(pr, hp);
	hp->easy = curl_easy_init();
	err = hp->easy ? configure_easy(pr, hp) : -ENOMEM;
	if (err) {
		http_release(pr);
		return err;
	}
	*out = hp;
	return 0;
}

static int http_start(struct probe *pr)
{
	struct http_probe *hp;
	int err = http_state(pr, &hp);

	if (err == -EINVAL) {
		probe_fail(pr, "http: host \"%s\" is not a plain name", probe_target(pr)->cfg->host);
		return 0;
	}
	if (err)
		return err;
	hp->body_matched = false;
	hp->win_len = 0;
	hp->errbuf[0] = '\0';
	if (curl_multi_add_handle(probe_http_multi(pr)->multi, hp->easy) != CURLM_OK)
		return -EIO;
	hp->in_multi = true;
	return 0;
}

static void http_cancel(struct probe *pr)
{
	struct http_probe *hp = probe_kind_state(pr);

	if (hp && hp->in_multi) {
		curl_multi_remove_handle(probe_http_multi(pr)->multi, hp->easy);
		hp->in_multi = false;
	}
}

static void http_release(struct probe *pr)
{
	struct http_probe *hp = probe_kind_state(pr);

	if (!hp)
		return;
	http_cancel(pr);
	if (hp->easy)
		curl_easy_cleanup(hp->easy);
	curl_slist_free_all(hp->connect_to);
	free(hp);
	probe_set_kind_state(pr, NULL);
}

const struct probe_kind probe_kind_http = {
	.start = http_start,
	.cancel = http_cancel,
	.release = http_release,
};
