/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veerd's admin socket protocol (a Unix stream socket, mode 0600, default
 * /run/veer/veerd.sock). The client writes one request line:
 *
 *   VERB [ARG ...]\n
 *
 * and veerd answers with one JSON object on one line:
 *   {"ok":true, ...verb's fields...}   or   {"ok":false,"error":"text"}
 *
 * Verbs:
 *   ping                          -> {"ok":true,"pid":N,"version":"..."}
 *   drain SERVICE ADDR[:PORT]     -> {"ok":true,"backend_id":N}
 *   undrain SERVICE ADDR[:PORT]   -> {"ok":true,"backend_id":N}
 *   config                        -> {"ok":true,"file":"...","yaml":"..."} config in force
 *   reload                        -> {"ok":true} or the validation error
 *   events                        -> {"ok":true} then one JSON object per line
 *                                    for every datapath and health event, until
 *                                    the client closes. Fields: ts (RFC 3339),
 *                                    type, service, backend, and per type:
 *                                    client, reason, from, to, tier.
 * An IPv6 ADDR with a port is written [ADDR]:PORT.
 */
#ifndef VEER_ADMIN_H
#define VEER_ADMIN_H

#define VEER_ADMIN_DEFAULT_PATH "/run/veer/veerd.sock"
#define VEER_STATE_DEFAULT_DIR "/sys/fs/bpf/veer"
#define VEER_ADMIN_MAX_LINE 1024

#endif
