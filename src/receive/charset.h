/* Text from received mail, made into valid UTF-8.
 *
 * Everything the receive side hands on (subjects, names, bodies) is UTF-8
 * that a terminal, a JSON file or a YAML file can take as is: invalid bytes
 * become U+FFFD, NUL becomes U+FFFD, nothing else is dropped.  These are pure
 * functions; they append to a struct buf and never fail (out of memory
 * aborts, see mem.h).
 */
#ifndef LB_CHARSET_H
#define LB_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append p[0..n), written in charset cs (a MIME charset name such as
 * "windows-1252", "ISO-8859-15", "iso-2022-jp"; case and quotes do not
 * matter), to out as UTF-8.  An unknown or misspelt charset is read as
 * UTF-8, the likeliest truth.  No charset or US-ASCII with 8-bit bytes in
 * it is read as UTF-8 when the bytes are valid UTF-8, else as Windows-1252.  Latin-1 is read as
 * Windows-1252, as every mail client does; Korean, Chinese and Hebrew aliases that Outlook uses are
 * mapped to what iconv knows. */
void charset_to_utf8(struct buf *out, struct span cs, const char *p, size_t n);

/* Append p[0..n) to out, replacing each invalid UTF-8 sequence (overlong,
 * surrogate, truncated, past U+10FFFF) and NUL by U+FFFD. */
void utf8_repair(struct buf *out, const char *p, size_t n);

/* Append Windows-1252 text as UTF-8 (for 8-bit header fields). */
void cp1252_to_utf8(struct buf *out, const char *p, size_t n);

/* Whether p[0..n) is valid UTF-8 without NUL. */
bool utf8_valid(const char *p, size_t n);

/* Length (1-4) of the valid UTF-8 sequence at s, storing its code point in
 * *cp; 0 when s[0..n) does not start with one. */
size_t utf8_get(const unsigned char *s, size_t n, unsigned *cp);

/* Append code point cp as UTF-8 (U+FFFD for surrogates and past U+10FFFF). */
void utf8_put(struct buf *out, unsigned cp);
/* The same into b; returns the length (1-4). */
size_t utf8_encode(unsigned cp, char b[4]);

/* The code point of Windows-1252 octet c (U+FFFD for the five it lacks). */
unsigned cp1252_decode(unsigned char c);

/* Give libetpan a cheaper US-ASCII to UTF-8 conversion than its
 * iconv_open per word, with the same results; call before mailmime_parse.
 * Thread-safe, idempotent; leaves a hook someone else set alone. */
void charset_libetpan(void);

/* Append a header field's value as UTF-8 text: unfolded, RFC 2047
 * encoded-words decoded, raw 8-bit bytes read as UTF-8 when they are valid
 * UTF-8 and as Windows-1252 otherwise, control characters turned into
 * spaces, trimmed. */
void header_text(struct buf *out, struct span v);

/* Append a raw display name (quoted-string or phrase, maybe encoded-words)
 * as UTF-8 text. */
void header_display(struct buf *out, struct span display);

/* Append the base64 s decoded, leniently: anything outside the alphabet
 * (line breaks, padding, garbage) is skipped.  base64_size says how many
 * octets that gives without decoding. */
void base64_decode(struct buf *out, struct span s);
size_t base64_size(struct span s);

#endif
