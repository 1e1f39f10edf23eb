// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config reload: validate the whole file first; on any error the config
 * in force stays, the error is logged and counted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <malloc.h>
#include "agent.h"
#include "log.h"

/* FNV-1a of the file's bytes: a ConfigMap sync touches files without
 * changing them, and a no-op reload should stay silent. */
static int file_digest(const char *path, uint64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	fclose(f);
	*out = h;
	return 0;
}

int agent_reload(struct agent *a, bool force, char *err, size_t errlen)
{
	struct veer_cfg *cfg;
	uint64_t digest = 0;
	char q[600];
	int ret;

	if (file_digest(a->cfg_path, &digest) == 0 && !force && digest == a->cfg_digest)
		return 0;
	cfg = cfg_load_file(a->cfg_path, err, errlen);
	if (!cfg) {
		a->cfg_digest = digest;	/* the same bad bytes are not reported twice */
		a->ctr.reload_failures++;
		snprintf(a->last_error, sizeof(a->last_error), "%s", err);
		pr_err("config rejected, keeping the config in force", "error=%s",
		       log_quote(q, sizeof(q), err));
		return -EINVAL;
	}
	if (strcmp(cfg->node.state_dir, a->cfg->node.state_dir) ||
	    strcmp(cfg->node.admin_socket, a->cfg->node.admin_socket) ||
	    cfg->node.ct_size != a->cfg->node.ct_size)
		pr_warn("state_dir, admin_socket and conntrack.size take effect at restart", "%s", "");
	/* Keep node settings that cannot change while running. */
	snprintf(cfg->node.state_dir, sizeof(cfg->node.state_dir), "%s", a->cfg->node.state_dir);
	snprintf(cfg->node.admin_socket, sizeof(cfg->node.admin_socket), "%s",
		 a->cfg->node.admin_socket);
	cfg->node.ct_size = a->cfg->node.ct_size;
	ret = agent_apply(a, cfg, err, errlen);
	malloc_trim(0);	/* the parse tree of a large config is gone: give it back */
	a->cfg_digest = digest;
	a->ctr.reloads++;
	if (ret) {
		snprintf(a->last_error, sizeof(a->last_error), "%s", err);
		pr_err("config applied with errors", "error=%s", log_quote(q, sizeof(q), err));
	} else {
		a->last_error[0] = '\0';
		pr_info("config applied", "file=%s services=%zu", a->cfg_path, a->cfg->n_services);
	}
	return ret;
}

void agent_note_config_digest(struct agent *a)
{
	file_digest(a->cfg_path, &a->cfg_digest);
}
