/* The `dkim:` section of letterbox.yaml (config.c calls these).
 *
 *   dkim:
 *     domain: example.org        # d=, default: the From address's domain
 *     selector: lb2026           # s=
 *     key_file: dkim/lb2026.key  # PEM private key, 0600 (letterbox dkim keygen)
 *     algorithm: rsa-sha256      # or ed25519-sha256
 *     second:                    # optional: a second signature, both at once
 *       selector: lb2026e
 *       key_file: dkim/lb2026e.key
 *       algorithm: ed25519-sha256
 *
 * Only the shape is checked here (file:line:col); the keys are read when
 * mail is signed (compose/dkim.h: dkim_open) and by `letterbox check`.
 */
#ifndef LB_CONFIG_DKIM_H
#define LB_CONFIG_DKIM_H

#include "core/config.h"
#include "core/yamlx.h"

int config_load_dkim(struct ydoc *d, yaml_node_t *n, struct config *c, struct lb_err *err);
void config_free_dkim(struct config *c);

#endif
