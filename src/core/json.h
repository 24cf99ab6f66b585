/* Writing JSON: just enough to print records for scripts (--json). */
#ifndef LB_JSON_H
#define LB_JSON_H

#include "core/buf.h"

/* Append s as a JSON string literal (quotes included); NULL becomes null.
 * Control characters are escaped; invalid UTF-8 bytes become U+FFFD. */
void json_str(struct buf *out, const char *s);
/* Append "key": (with a leading comma unless first). */
void json_key(struct buf *out, const char *key, int *first);

#endif
