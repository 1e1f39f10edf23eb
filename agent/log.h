/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One logging path for veer: logfmt lines with a level, to stderr. */
#ifndef VEER_LOG_H
#define VEER_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Route libbpf's own messages through log_msg. */
void log_capture_libbpf(void);

/* msg is the event, fmt adds key=value pairs: log_msg(LOG_LVL_INFO,
 * "backend down", "service=%s backend=%s", ...). Values with spaces
 * must be quoted by the caller with log_quote(). */
void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Quote a value for logfmt into buf (always NUL-terminated). */
const char *log_quote(char *buf, unsigned long len, const char *val);

#define pr_err(msg, ...) log_msg(LOG_LVL_ERROR, msg, __VA_ARGS__)
#define pr_warn(msg, ...) log_msg(LOG_LVL_WARN, msg, __VA_ARGS__)
#define pr_info(msg, ...) log_msg(LOG_LVL_INFO, msg, __VA_ARGS__)
#define pr_debug(msg, ...) log_msg(LOG_LVL_DEBUG, msg, __VA_ARGS__)

#endif
