// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include "cfgwatch.h"
#include "log.h"

struct cfgwatch {
	char name[256];		/* the config file's name in its directory */
	int fd;
	unsigned settle_ms;
	struct loop_timer *settle;
	cfgwatch_cb cb;
	void *arg;
};

static void on_settled(struct loop *l, struct loop_timer *t, void *arg)
{
	struct cfgwatch *w = arg;

	(void)l; (void)t;
	w->cb(w->arg);
}

static void on_inotify(struct loop *l, int fd, uint32_t events, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct cfgwatch *w = arg;
	int changed = 0;
	ssize_t n;

	(void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			/* Our file, or the ..data symlink a ConfigMap update swaps;
			 * other files in the directory (a log, say) are not ours. */
			if (ev->len && (!strcmp(ev->name, w->name) || !strcmp(ev->name, "..data")))
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	/* Re-read after things settle; an unchanged file is a no-op. */
	if (changed)
		loop_timer_arm(l, w->settle, (uint64_t)w->settle_ms * 1000);
}

struct cfgwatch *cfgwatch_new(struct loop *l, const char *path, unsigned settle_ms,
			      cfgwatch_cb cb, void *arg)
{
	struct cfgwatch *w = calloc(1, sizeof(*w));
	char copy[PATH_MAX];

	if (!w)
		return NULL;
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(w->name, sizeof(w->name), "%s", basename(copy));
	snprintf(copy, sizeof(copy), "%s", path);
	w->cb = cb;
	w->arg = arg;
	w->settle_ms = settle_ms;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		goto fail;
	if (inotify_add_watch(w->fd, dirname(copy), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
			      IN_DELETE | IN_MODIFY | IN_ATTRIB) < 0)
		goto fail;
	w->settle = loop_timer_new(l, on_settled, w);
	if (!w->settle || loop_add_fd(l, w->fd, EPOLLIN, on_inotify, w))
		goto fail;
	return w;
fail:
	pr_warn("config file watch unavailable", "path=%s error=%d reload=SIGHUP-only", path, errno);
	if (w->fd >= 0)
		close(w->fd);
	loop_timer_free(l, w->settle);
	free(w);
	return NULL;
}

void cfgwatch_free(struct loop *l, struct cfgwatch *w)
{
	if (!w)
		return;
	loop_del_fd(l, w->fd);
	close(w->fd);
	loop_timer_free(l, w->settle);
	free(w);
}
