// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HTTP endpoint, served from the agent's loop. libmicrohttpd runs in
 * epoll mode without a thread: its epoll fd is one more fd of the loop,
 * and MHD_get_timeout drives one loop timer, re-armed after every MHD_run.
 * A page is rendered inside MHD's callback, so it sees the agent between
 * two events, never in the middle of a reconcile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "agent.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"

#define HTTP_CONN_LIMIT 64		/* scrapers and probes, not the world */
#define HTTP_CONN_TIMEOUT_S 30		/* idle keep-alive connections */
#define HTTP_MAX_WAIT_US (3600ull * 1000000)

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"

struct metrics {
	struct agent *a;
	struct MHD_Daemon *d;
	int epfd;			/* MHD's; watched by the loop */
	struct loop_timer *timer;	/* MHD's next timeout */
	uint16_t port;
};

/* ---- listening socket ---- */

/* "1.2.3.4:9470" or "[::1]:9470" into *sa. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	bool v6 = hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']';
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	char host[INET6_ADDRSTRLEN], *end;
	unsigned long port;

	if (!colon || !hlen || hlen >= sizeof(host) || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(v6 ? hlen - 2 : hlen), s + v6);
	memset(sa, 0, sizeof(*sa));
	if (v6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -EINVAL;
}

static int open_listener(const struct sockaddr_storage *sa, socklen_t len)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	/* A restarted veerd must rebind at once, TIME_WAIT or not. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		return 0;
	if (sa.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

/* ---- responses ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     struct MHD_Response *r, const char *ctype)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY), CT_TEXT);
}

/* The page's buffer goes to MHD, which frees it once sent: no copy of a
 * page that may be 100 MB, no leak if the client goes away. */
static enum MHD_Result serve_metrics(struct metrics *m, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	struct strbuf sb;

	sb_init(&sb);
	metrics_render(m->a, &sb);
	if (sb.oom) {
		sb_free(&sb);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	r = MHD_create_response_from_buffer(sb.len, sb.buf, MHD_RESPMEM_MUST_FREE);
	if (!r)
		sb_free(&sb);
	return reply(c, MHD_HTTP_OK, r, CT_METRICS);
}

static const char *not_ready_reason(const struct agent *a)
{
	if (a->last_error[0])
		return a->last_error;
	if (a->n_attached <= 0)
		return "not attached";
	return "starting";
}

static enum MHD_Result serve_ready(struct metrics *m, struct MHD_Connection *c)
{
	char text[600];

	if (m->a->ready)
		return reply_text(c, MHD_HTTP_OK, "ready\n");
	snprintf(text, sizeof(text), "not ready: %s\n", not_ready_reason(m->a));
	return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct metrics *m = cls;

	(void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(m, c);
	if (!strcmp(url, "/healthz"))	/* answered by the loop: it runs */
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz"))
		return serve_ready(m, c);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /healthz, /readyz\n");
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256], q[300];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pr_warn("metrics http", "error=%s", log_quote(q, sizeof(q), msg));
}

/* ---- loop integration ---- */

static void mhd_pump(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->d);
	if (MHD_get_timeout(m->d, &ms) != MHD_YES) {
		loop_timer_disarm(m->a->loop, m->timer);
		return;
	}
	loop_timer_arm(m->a->loop, m->timer,
		       ms * 1000 < HTTP_MAX_WAIT_US ? ms * 1000 : HTTP_MAX_WAIT_US);
}

static void on_mhd_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l, (void)fd, (void)events;
	mhd_pump(arg);
}

static void on_mhd_timer(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	mhd_pump(arg);
}

static struct MHD_Daemon *start_daemon(struct metrics *m, int fd, bool v6)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);

	/* The logger first, or MHD logs the other options' errors itself. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONN_TIMEOUT_S,
				MHD_OPTION_END);
}

/* Hand the listener to MHD and MHD's epoll fd to the loop. */
static int attach(struct metrics *m, int fd, bool v6, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	int ret;

	m->d = start_daemon(m, fd, v6);
	if (!m->d) {
		/* Whether MHD closed the socket on failure varies by version. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		snprintf(err, errlen, "metrics: cannot start the HTTP server");
		return -EIO;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->timer = loop_timer_new(m->a->loop, on_mhd_timer, m);
	if (!info || !m->timer) {
		snprintf(err, errlen, "metrics: no epoll fd from libmicrohttpd");
		return -EIO;
	}
	m->epfd = info->epoll_fd;
	ret = loop_add_fd(m->a->loop, m->epfd, EPOLLIN, on_mhd_fd, m);
	if (ret) {
		m->epfd = -1;
		snprintf(err, errlen, "metrics: cannot watch the HTTP server: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

struct metrics *metrics_start(struct agent *a, const char *listen_on, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage sa;
	socklen_t len;
	int fd;

	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->a = a;
	m->epfd = -1;
	if (parse_listen(listen_on, &sa, &len)) {
		snprintf(err, errlen, "metrics: listen address '%s': expected addr:port, "
			 "e.g. 127.0.0.1:9470 or [::1]:9470", listen_on);
		goto fail;
	}
	fd = open_listener(&sa, len);
	if (fd < 0) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", listen_on, strerror(-fd));
		goto fail;
	}
	m->port = bound_port(fd);
	if (attach(m, fd, sa.ss_family == AF_INET6, err, errlen))
		goto fail;
	pr_info("metrics listening", "address=%s port=%u", listen_on, m->port);
	return m;
fail:
	metrics_stop(m);
	return NULL;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->epfd >= 0)
		loop_del_fd(m->a->loop, m->epfd);
	if (m->timer)
		loop_timer_free(m->a->loop, m->timer);
	if (m->d)
		MHD_stop_daemon(m->d);	/* closes its connections and the listener */
	free(m);
}

uint16_t metrics_port(const struct metrics *m) { return m ? m->port : 0; }
