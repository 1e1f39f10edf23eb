/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The generated skeleton and the loader, for the harness only. */
#ifndef VEER_TEST_FX_SKEL_H
#define VEER_TEST_FX_SKEL_H

#include "datapath.h"
#include "veer.skel.h"

struct bpf_object *fx_object(void);

#endif
