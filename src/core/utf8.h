/* UTF-8, strictly (RFC 3629): no overlong forms, no surrogates, nothing
 * past U+10FFFF. */
#ifndef LB_UTF8_H
#define LB_UTF8_H

#include <stddef.h>

/* The length of the valid UTF-8 sequence at p (at most n bytes): 1 for
 * ASCII, 2-4 for a multi-byte character, 0 when the bytes there are not
 * valid UTF-8 (or the sequence is cut off by n). */
size_t utf8_len(const unsigned char *p, size_t n);

#endif
