/* Email addresses: parse, validate, normalise.
 *
 * Accepts a mailbox as people write it in lists and configs:
 *     ada@example.org
 *     Ada Lovelace <ada@example.org>
 *     "Lovelace, Ada" <ada@example.org>
 *     Zoë Ångström <zoe@bücher.example>      (IDN domain: converted to A-labels)
 *     "john..doe"@example.org                 (quoted local part)
 * and rejects what no server would deliver (RFC 5321 limits: local part <= 64
 * octets, domain <= 253, labels <= 63), with a reason a person understands.
 * Non-ASCII local parts need SMTPUTF8, which letterbox does not use: rejected.
 * Groups, comments "(…)" and source routes are not accepted.
 */
#ifndef LB_ADDR_H
#define LB_ADDR_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

struct addr {
	char *display; /* UTF-8 display name, unquoted and unescaped; NULL if none */
	char *local;   /* local part as it goes on the wire (quoted if it must be) */
	char *domain;  /* ASCII domain (A-labels), lower-cased */
	char *spec;    /* local@domain, what goes in RCPT TO and <...> */
};

/* Parse one mailbox ("Name <addr>" or a bare addr-spec).  On success fills
 * *out (free with addr_free) and returns 0.  On failure returns LB_EDATA with
 * a message like "'ada@@example.org': more than one '@'" and leaves *out
 * empty.  Leading/trailing whitespace is ignored. */
int addr_parse(struct span in, struct addr *out, struct lb_err *err);

/* Parse a bare addr-spec only (no display name, no angle brackets). */
int addr_parse_spec(struct span in, struct addr *out, struct lb_err *err);

void addr_free(struct addr *a);

/* The key addresses are compared by: the spec lower-cased (local parts are
 * case-sensitive in theory, never in practice).  Caller frees. */
char *addr_key(const char *spec);

#endif
