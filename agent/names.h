/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one place that names the ABI's enum values for humans and JSON
 * (health states are named by agent/health.h, next to their rules). */
#ifndef VEERCTL_NAMES_H
#define VEERCTL_NAMES_H

#include <stdint.h>

/* Each returns a fixed lower-case name, or a numbered fallback for values
 * a newer datapath may add ("reason_31"), in a static buffer. */
const char *reason_name(unsigned int reason);
const char *be_state_name(unsigned int state);
const char *ct_state_name(unsigned int state);
const char *proto_name(unsigned int proto);

#endif
