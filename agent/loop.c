// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "loop.h"

struct fd_watch {
	int fd;
	loop_fd_cb cb;
	void *arg;
	struct fd_watch *next;
};

struct loop_timer {
	uint64_t due_us;
	size_t heap_idx;	/* SIZE_MAX when idle */
	loop_timer_cb cb;
	void *arg;
};

#define WATCH_BUCKETS 1024

struct loop {
	int epfd;
	int tfd;
	int stop;
	struct fd_watch *watches[WATCH_BUCKETS];
	struct loop_timer **heap;
	size_t heap_len, heap_cap;
	uint64_t tfd_armed_for;
};

uint64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000;
}

static struct fd_watch **watch_slot(struct loop *l, int fd)
{
	struct fd_watch **w = &l->watches[(unsigned)fd % WATCH_BUCKETS];

	while (*w && (*w)->fd != fd)
		w = &(*w)->next;
	return w;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->tfd < 0)
		goto err;
	ev.data.fd = l->tfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev))
		goto err;
	return l;
err:
	loop_free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < WATCH_BUCKETS; i++) {
		while (l->watches[i]) {
			struct fd_watch *w = l->watches[i];

			l->watches[i] = w->next;
			free(w);
		}
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l->heap);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct fd_watch **slot = watch_slot(l, fd), *w;

	if (*slot)
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(w);
		return err;
	}
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	*slot = w;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	struct fd_watch **slot = watch_slot(l, fd), *w = *slot;

	if (!w)
		return -ENOENT;
	*slot = w->next;
	free(w);
	/* The fd may already be closed; epoll forgets closed fds itself. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

/* ---- timer heap ---- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i && l->heap[(i - 1) / 2]->due_us > l->heap[i]->due_us) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t s = i, c1 = 2 * i + 1, c2 = 2 * i + 2;

		if (c1 < l->heap_len && l->heap[c1]->due_us < l->heap[s]->due_us)
			s = c1;
		if (c2 < l->heap_len && l->heap[c2]->due_us < l->heap[s]->due_us)
			s = c2;
		if (s == i)
			return;
		heap_swap(l, i, s);
		i = s;
	}
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx, last = l->heap_len - 1;

	if (i != last) {
		heap_swap(l, i, last);
		l->heap_len--;
		heap_down(l, i);
		heap_up(l, i);
	} else {
		l->heap_len--;
	}
	t->heap_idx = SIZE_MAX;
}

static void tfd_program(struct loop *l)
{
	struct itimerspec its = { 0 };
	uint64_t due;

	if (!l->heap_len) {
		if (l->tfd_armed_for) {
			timerfd_settime(l->tfd, 0, &its, NULL);
			l->tfd_armed_for = 0;
		}
		return;
	}
	due = l->heap[0]->due_us;
	if (due == l->tfd_armed_for)
		return;
	if (!due)
		due = 1;
	its.it_value.tv_sec = due / 1000000u;
	its.it_value.tv_nsec = (due % 1000000u) * 1000;
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->tfd_armed_for = due;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	(void)l;
	if (!t)
		return NULL;
	t->heap_idx = SIZE_MAX;
	t->cb = cb;
	t->arg = arg;
	return t;
}

int loop_timer_armed(const struct loop_timer *t) { return t->heap_idx != SIZE_MAX; }

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_us)
{
	if (loop_timer_armed(t))
		heap_remove(l, t);
	if (l->heap_len == l->heap_cap) {
		size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (!h)
			return;
		l->heap = h;
		l->heap_cap = cap;
	}
	t->due_us = loop_now_us() + delay_us;
	t->heap_idx = l->heap_len;
	l->heap[l->heap_len++] = t;
	heap_up(l, t->heap_idx);
	tfd_program(l);
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	if (loop_timer_armed(t)) {
		heap_remove(l, t);
		tfd_program(l);
	}
}

void loop_timer_free(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return;
	loop_timer_disarm(l, t);
	free(t);
}

static void run_due_timers(struct loop *l)
{
	uint64_t now = loop_now_us(), expirations;

	if (read(l->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	l->tfd_armed_for = 0;
	while (l->heap_len && l->heap[0]->due_us <= now) {
		struct loop_timer *t = l->heap[0];

		heap_remove(l, t);
		t->cb(l, t, t->arg);
	}
	tfd_program(l);
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(l->epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct fd_watch *w;

		if (evs[i].data.fd == l->tfd) {
			run_due_timers(l);
			continue;
		}
		w = *watch_slot(l, evs[i].data.fd);
		if (w)	/* may have been removed by an earlier callback */
			w->cb(l, w->fd, evs[i].events, w->arg);
	}
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop) {
		int err = loop_run_once(l, -1);

		if (err)
			return err;
	}
	return 0;
}

void loop_stop(struct loop *l) { l->stop = 1; }
