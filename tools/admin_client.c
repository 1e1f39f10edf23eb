// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "admin_client.h"
#include "output.h"

#define REPLY_TIMEOUT_MS 10000

static void report_connect_error(const char *path, int err)
{
	if (err == ENOENT || err == ECONNREFUSED)
		out_error("cannot reach veerd at %s: is veerd running? "
			  "(maps are still readable: try 'veerctl service list')", path);
	else if (err == EACCES || err == EPERM)
		out_error("cannot reach veerd at %s: %s: run veerctl as root", path,
			  strerror(err));
	else
		out_error("cannot reach veerd at %s: %s", path, strerror(err));
}

static int set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ? -errno : 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

int admin_open(struct admin_conn *c, const char *path, const char *request,
	       int timeout_ms)
{
	char line[1100];
	int err;

	memset(c, 0, sizeof(*c));
	c->fd = connect_unix(path);
	if (c->fd < 0) {
		report_connect_error(path, -c->fd);
		return c->fd;
	}
	snprintf(line, sizeof(line), "%s\n", request);
	err = timeout_ms ? set_timeout(c->fd, timeout_ms) : 0;
	if (!err)
		err = send_all(c->fd, line, strlen(line));
	if (err) {
		out_error("cannot talk to veerd at %s: %s", path, strerror(-err));
		admin_close(c);
	}
	return err;
}

static int fill(struct admin_conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *buf = realloc(c->buf, cap);

		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	if (n < 0)
		return -errno;
	c->len += n;
	return n;
}

int admin_read_line(struct admin_conn *c, char **line)
{
	char *nl;
	int n;

	if (c->held) {
		memmove(c->buf, c->buf + c->held, c->len - c->held);
		c->len -= c->held;
		c->held = 0;
	}
	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		n = fill(c);
		if (n <= 0)
			return n;	/* a partial last line is dropped */
	}
	*nl = '\0';
	*line = c->buf;
	c->held = nl - c->buf + 1;
	return 1;
}

void admin_close(struct admin_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int admin_read_reply(struct admin_conn *c, struct jobj *reply)
{
	char *line = NULL;
	int n = admin_read_line(c, &line);

	if (n < 0) {
		out_error("no answer from veerd: %s",
			  n == -EAGAIN ? "timed out" : strerror(-n));
		return n;
	}
	if (n == 0 || jobj_parse(line, reply)) {
		out_error("unexpected answer from veerd: %.200s", n ? line : "(connection closed)");
		return -EPROTO;
	}
	if (!jobj_is_true(reply, "ok")) {
		const char *msg = jobj_str(reply, "error");

		out_error("veerd: %s", msg ? msg : "request failed");
		jobj_free(reply);
		return -EPROTO;
	}
	return 0;
}

int admin_call(const char *path, const char *request, struct jobj *reply)
{
	struct admin_conn c;
	int err = admin_open(&c, path, request, REPLY_TIMEOUT_MS);

	if (err)
		return err;
	err = admin_read_reply(&c, reply);
	admin_close(&c);
	return err;
}
