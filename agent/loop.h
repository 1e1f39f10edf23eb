/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veerd's single event loop: epoll over file descriptors plus a timer heap
 * that drives one timerfd, so thousands of probe schedules cost one fd.
 */
#ifndef VEER_LOOP_H
#define VEER_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd for EPOLLIN/EPOLLOUT/...; modify changes the events of a watched fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
int loop_del_fd(struct loop *l, int fd);

/* Timers: created idle; arm for a delay in microseconds from now (re-arming
 * an armed timer moves it). The callback runs once per arming. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg);
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_us);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop *l, struct loop_timer *t);

/* Monotonic microseconds; the loop's clock. */
uint64_t loop_now_us(void);

/* Run until loop_stop; timeout_ms bounds one wait (-1 forever). Returns 0 or -errno. */
int loop_run(struct loop *l);
/* One iteration: wait at most timeout_ms, dispatch. For tests and drivers. */
int loop_run_once(struct loop *l, int timeout_ms);
void loop_stop(struct loop *l);

#endif
