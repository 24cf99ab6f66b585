/* What the MIME encoders (mime.c) and decoders (mime_decode.c) share; not
 * part of mime.h's contract. */
#ifndef LB_MIME_INT_H
#define LB_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

extern const char mime_b64_digits[];  /* RFC 2045's alphabet */
extern const char mime_replacement[]; /* U+FFFD in UTF-8 */

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append p[0..n) as clean UTF-8: control characters (C0, DEL, C1) become
 * spaces, tab excepted, and each octet that starts no well-formed sequence
 * becomes U+FFFD.  Both the header writers and the decoder go through here,
 * so what one produces the other reads back unchanged. */
void mime_put_clean(struct buf *out, const char *p, size_t n);

#endif
