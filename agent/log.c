// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum log_level cur_level = LOG_LVL_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl) { cur_level = lvl; }
enum log_level log_get_level(void) { return cur_level; }

const char *log_quote(char *buf, unsigned long len, const char *val)
{
	unsigned long o = 0;

	if (!len)
		return buf;
	if (val[0] && !strpbrk(val, " \"=\t\n")) {
		snprintf(buf, len, "%s", val);
		return buf;
	}
	if (o + 1 < len)
		buf[o++] = '"';
	for (const char *p = val; *p && o + 3 < len; p++) {
		if (*p == '"' || *p == '\\')
			buf[o++] = '\\';
		buf[o++] = (*p == '\n' || *p == '\t') ? ' ' : *p;
	}
	if (o + 1 < len)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void log_vmsg(enum log_level lvl, const char *msg, const char *fmt, va_list ap)
{
	char ts[40], qmsg[256], rest[1024] = "";
	struct timespec now;
	struct tm tm;

	if (lvl > cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (fmt && fmt[0])
		vsnprintf(rest, sizeof(rest), fmt, ap);
	fprintf(stderr, "ts=%s.%03ldZ level=%s msg=%s%s%s\n", ts, now.tv_nsec / 1000000,
		level_names[lvl], log_quote(qmsg, sizeof(qmsg), msg), rest[0] ? " " : "", rest);
}

void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, msg, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_LVL_WARN :
			     level == LIBBPF_INFO ? LOG_LVL_DEBUG : LOG_LVL_DEBUG;
	char line[1024], q[1100];
	size_t n;

	if (lvl > cur_level)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Netlink's extended ack for calls veer expects to fail (a qdisc
	 * that exists already, or not yet) is noise; real failures are
	 * reported by veer itself with what to do. */
	if (strstr(line, "Kernel error message:"))
		lvl = LOG_LVL_DEBUG;
	if (lvl > cur_level)
		return 0;
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	log_msg(lvl, "libbpf", "detail=%s", log_quote(q, sizeof(q), line));
	return 0;
}

void log_capture_libbpf(void) { libbpf_set_print(libbpf_print); }
