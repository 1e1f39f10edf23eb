// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TCP probe: healthy when a non-blocking connect completes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "loop.h"
#include "probe.h"

struct tcp_probe {
	int fd;			/* connecting socket, -1 between attempts */
};

/* Reset instead of FIN: a prober that closes thousands of connections a
 * second must not pile up TIME_WAIT sockets and run out of ports. */
static void close_abortively(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void tcp_drop_socket(struct probe *pr, struct tcp_probe *tp)
{
	if (tp->fd < 0)
		return;
	loop_del_fd(probe_loop(pr), tp->fd);
	close_abortively(tp->fd);
	tp->fd = -1;
}

static bool is_connected(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	return getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
}

static void on_tcp_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct probe *pr = arg;
	struct tcp_probe *tp = probe_kind_state(pr);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	(void)l;
	(void)events;
	if (fd != tp->fd)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	/* A wake-up meant for an earlier socket with the same number. */
	if (!soerr && !is_connected(fd))
		return;
	tcp_drop_socket(pr, tp);
	if (soerr)
		probe_fail(pr, "connect: %s", strerror(soerr));
	else
		probe_succeed(pr);
}

static struct tcp_probe *tcp_state(struct probe *pr)
{
	struct tcp_probe *tp = probe_kind_state(pr);

	if (!tp) {
		tp = malloc(sizeof(*tp));
		if (!tp)
			return NULL;
		tp->fd = -1;
		probe_set_kind_state(pr, tp);
	}
	return tp;
}

static int tcp_start(struct probe *pr)
{
	struct tcp_probe *tp = tcp_state(pr);
	struct sockaddr_storage ss;
	socklen_t len = probe_sockaddr(probe_target(pr), &ss, sizeof(ss));
	int fd, err;

	if (!tp)
		return -ENOMEM;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		close_abortively(fd);
		probe_succeed(pr);
		return 0;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		probe_fail(pr, "connect: %s", strerror(err));
		return 0;
	}
	err = loop_add_fd(probe_loop(pr), fd, EPOLLOUT, on_tcp_ready, pr);
	if (err) {
		close(fd);
		return err;
	}
	tp->fd = fd;
	return 0;
}

static void tcp_cancel(struct probe *pr)
{
	struct tcp_probe *tp = probe_kind_state(pr);

	if (tp)
		tcp_drop_socket(pr, tp);
}

static void tcp_release(struct probe *pr)
{
	tcp_cancel(pr);
	free(probe_kind_state(pr));
	probe_set_kind_state(pr, NULL);
}

const struct probe_kind probe_kind_tcp = {
	.start = tcp_start,
	.cancel = tcp_cancel,
	.release = tcp_release,
};
