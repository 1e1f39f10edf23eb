/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Following network interfaces as they come and go (rtnetlink via libnl). */
#ifndef VEER_IFACES_H
#define VEER_IFACES_H

#include <stdbool.h>
#include "loop.h"

struct ifwatch;

/* present=false: the interface is gone (ifindex still names it). */
typedef void (*iface_cb)(void *arg, int ifindex, const char *name, bool present);

/* Reports every existing interface at once, then changes as they happen. */
struct ifwatch *ifwatch_new(struct loop *l, iface_cb cb, void *arg, char *err, size_t errlen);
void ifwatch_free(struct loop *l, struct ifwatch *w);

/* Does name match one of the patterns (names or fnmatch globs)? */
bool iface_matches(const char *name, const char (*patterns)[64], size_t n);
/* veth and other software devices: XDP_REDIRECT into them may be dropped. */
bool iface_is_physical(const char *name);

#endif
