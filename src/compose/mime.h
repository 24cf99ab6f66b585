/* MIME encoding for outgoing mail: quoted-printable bodies, RFC 2047
 * encoded-words, folded header fields.  Everything produced here is 7-bit,
 * CRLF-terminated, and no line exceeds 78 octets (well under the 998 limit).
 *
 * Bodies are spliced from pre-encoded pieces (see message.h): qp_encode()
 * always starts at column 0 and, unless its input ended with a line break,
 * finishes with a soft line break ("=\r\n"), so any sequence of encoded
 * pieces concatenates into valid quoted-printable that decodes to the
 * concatenation of the inputs.
 */
#ifndef LB_MIME_H
#define LB_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append the quoted-printable encoding (RFC 2045 6.7) of p[0..n) to out.
 * LF and CRLF in the input become CRLF hard line breaks; a lone CR is encoded
 * as =0D.  Whitespace before a hard break is encoded (=20/=09); "." and "From "
 * at the start of a line are encoded so that no transport can mangle them;
 * lines are soft-broken before 76 columns without splitting a =XX triplet nor
 * (where possible) a UTF-8 sequence.  Ends with "=\r\n" unless the input was
 * empty or ended with a line break. */
void qp_encode(struct buf *out, const char *p, size_t n);

/* Decode quoted-printable (for tests and the receive side); lenient with
 * malformed escapes, which are kept as-is.  Soft breaks vanish, CRLF stays. */
void qp_decode(struct buf *out, const char *p, size_t n);

/* Append one header field, "Name: value\r\n", folded at whitespace before 78
 * columns.  The value is unstructured text (Subject, Comments, X-…): any CR,
 * LF or other control character in it becomes a space (data never starts a
 * new header), runs of whitespace stay, and non-ASCII words are written as
 * RFC 2047 encoded-words ("=?UTF-8?Q?...?=", each at most 75 octets, never
 * splitting a UTF-8 character).  Invalid UTF-8 bytes become U+FFFD. */
void hdr_text(struct buf *out, const char *name, const char *value);

/* Append "Name: display <addr>\r\n" (display may be NULL or empty): the
 * display name is written as an atom phrase when it can be, a quoted-string
 * when it is ASCII with specials, else as encoded-words in phrase form
 * (RFC 2047 5(3)).  addr is an ASCII addr-spec already validated by addr.h;
 * it is written verbatim.  Control characters in display become spaces. */
void hdr_address(struct buf *out, const char *name, const char *display, const char *addr);

/* Append "Name: value\r\n" for a structured ASCII value we built ourselves
 * (Message-ID, List-Unsubscribe, Content-Type, …), folded at whitespace.
 * Control characters become spaces; a non-ASCII byte is a bug (LB_BUG). */
void hdr_raw(struct buf *out, const char *name, const char *value);

/* Encode s as a display-name phrase (as hdr_address does) into out, without
 * folding; for callers that build address lists themselves. */
void mime_phrase(struct buf *out, const char *s);

/* Decode RFC 2047 encoded-words in an unstructured header value to UTF-8
 * (for tests and the receive side).  Unknown charsets are kept encoded. */
void hdr_decode(struct buf *out, const char *p, size_t n);

#endif
