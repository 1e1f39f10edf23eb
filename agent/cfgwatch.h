/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Noticing that the config file changed. The directory is watched, not the
 * file: a Kubernetes ConfigMap update swaps a symlink (..data) and never
 * writes the file veerd opened, and editors replace files by rename.
 */
#ifndef VEER_CFGWATCH_H
#define VEER_CFGWATCH_H

#include "loop.h"

struct cfgwatch;
typedef void (*cfgwatch_cb)(void *arg);

/* cb runs once per burst of changes, settle_ms after the last one. */
struct cfgwatch *cfgwatch_new(struct loop *l, const char *path, unsigned settle_ms,
			      cfgwatch_cb cb, void *arg);
void cfgwatch_free(struct loop *l, struct cfgwatch *w);

#endif
