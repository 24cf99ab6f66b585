/* The letterbox.yaml that `letterbox init` writes, and the placeholders in it
 * that `check` reports until they are filled in. */
#ifndef LB_INIT_CONFIG_H
#define LB_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* What a value the flags did not give holds instead; check reports every
 * line (outside a comment) that still has it. */
#define INIT_PLACEHOLDER "CHANGE-ME"

/* The values init's flags gave (NULL: not given).  from has been parsed;
 * url starts with http(s)://. */
struct init_values {
	const char *name, *from, *postal_address, *url, *timezone;
};

/* letterbox.yaml: every key letterbox knows, present or commented out, each
 * with a line saying what it is for; out is appended to.  all: every key
 * present with its example value (tests: config.c must accept each one). */
void init_config_write(const struct init_values *v, bool all, struct buf *out);

/* Report "FILE:LINE:COL: KEY is a placeholder: ..." for each placeholder
 * left in text (the contents of the configuration file); returns how many. */
size_t init_placeholders(const char *file, const char *text,
			 void (*report)(void *ctx, const char *msg), void *ctx);

/* The same for the configuration file at path; 0 when it cannot be read
 * (config_load has said why). */
size_t init_placeholders_file(const char *path, void (*report)(void *ctx, const char *msg),
			      void *ctx);

#endif
