// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "admin.h"
#include "log.h"
#include "veer_admin.h"

struct admin_conn {
	struct admin *a;
	int fd;
	int subscribed;
	size_t len;
	char line[VEER_ADMIN_MAX_LINE];
	struct admin_conn *next;
};

struct admin {
	struct loop *l;
	int fd;
	char path[108];
	admin_handler handler;
	void *arg;
	struct admin_conn *conns;
	int n_subscribers;
};

static void conn_close(struct admin_conn *c)
{
	struct admin *a = c->a;
	struct admin_conn **p = &a->conns;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	if (c->subscribed)
		a->n_subscribers--;
	loop_del_fd(a->l, c->fd);
	close(c->fd);
	free(c);
}

/* Writes are small and the socket is local: a subscriber that cannot take
 * a line right away is too slow and is dropped rather than block veerd. */
static int conn_write_line(struct admin_conn *c, const char *s)
{
	size_t n = strlen(s);
	struct iovec iov[2] = { { (void *)s, n }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	return sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)(n + 1) ? 0 : -1;
}

void admin_reply(struct admin_conn *c, const char *json_line)
{
	if (conn_write_line(c, json_line) || !c->subscribed)
		conn_close(c);
}

void admin_subscribe(struct admin_conn *c)
{
	if (!c->subscribed) {
		c->subscribed = 1;
		c->a->n_subscribers++;
	}
}

void admin_broadcast(struct admin *a, const char *json_line)
{
	struct admin_conn *c = a->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->subscribed && conn_write_line(c, json_line))
			conn_close(c);
	}
}

int admin_subscribers(const struct admin *a) { return a->n_subscribers; }

static void dispatch_line(struct admin_conn *c)
{
	char *argv[ADMIN_MAX_ARGS], *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(c->line, " \t\r", &save); tok && argc < ADMIN_MAX_ARGS;
	     tok = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = tok;
	if (!argc) {
		admin_reply(c, "{\"ok\":false,\"error\":\"empty request\"}");
		return;
	}
	c->a->handler(c->a->arg, c, argc, argv);
}

static void on_conn(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct admin_conn *c = arg;
	ssize_t n;
	char *nl;

	(void)l;
	if (c->subscribed || (events & (EPOLLHUP | EPOLLERR))) {
		char buf[256];

		/* Subscribers only ever close; anything they send is ignored. */
		if ((events & (EPOLLHUP | EPOLLERR)) || read(fd, buf, sizeof(buf)) <= 0)
			conn_close(c);
		return;
	}
	n = read(fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += n;
	c->line[c->len] = '\0';
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->len == sizeof(c->line) - 1)
			admin_reply(c, "{\"ok\":false,\"error\":\"request too long\"}");
		return;
	}
	*nl = '\0';
	dispatch_line(c);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct admin *a = arg;
	struct admin_conn *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || loop_add_fd(l, cfd, EPOLLIN | EPOLLRDHUP, on_conn, c)) {
		free(c);
		close(cfd);
		return;
	}
	c->a = a;
	c->fd = cfd;
	c->next = a->conns;
	a->conns = c;
}

static int make_parent_dir(const char *path)
{
	char dir[108], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

struct admin *admin_new(struct loop *l, const char *path, admin_handler h, void *arg,
			char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct admin *a = calloc(1, sizeof(*a));
	mode_t old;

	if (!a)
		return NULL;
	a->l = l;
	a->handler = h;
	a->arg = arg;
	a->fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin socket path too long: %s", path);
		goto fail;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	make_parent_dir(path);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		goto fail_errno;
	unlink(path);	/* a stale socket from a veerd that died */
	old = umask(0077);	/* mode 0600: only root drains backends */
	if (bind(a->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		umask(old);
		goto fail_errno;
	}
	umask(old);
	if (listen(a->fd, 16) || loop_add_fd(l, a->fd, EPOLLIN, on_accept, a))
		goto fail_errno;
	return a;
fail_errno:
	snprintf(err, errlen, "admin socket %s: %s", path, strerror(errno));
fail:
	if (a->fd >= 0)
		close(a->fd);
	free(a);
	return NULL;
}

void admin_free(struct admin *a)
{
	if (!a)
		return;
	while (a->conns)
		conn_close(a->conns);
	loop_del_fd(a->l, a->fd);
	close(a->fd);
	unlink(a->path);
	free(a);
}
