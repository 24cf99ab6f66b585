/* IMAP mailbox names on the wire: modified UTF-7 (RFC 3501, 5.1.3).
 * Configuration speaks UTF-8 ("Entwürfe"); IMAP4rev1 servers want
 * "Entw&APw-rfe". */
#ifndef LB_MUTF7_H
#define LB_MUTF7_H

#include <stdbool.h>

#include "core/buf.h"

/* Append the modified UTF-7 form of the UTF-8 name to out.  false (out
 * unchanged) when the name is not valid UTF-8. */
bool mutf7_encode(const char *name, struct buf *out);

#endif
