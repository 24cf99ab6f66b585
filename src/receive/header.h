/* Header fields of received mail, read the way mail is actually written.
 *
 * Everything here is lenient and linear: 8-bit bytes, bare LF, missing
 * colons, unbalanced quotes and 10 MB lines all give a result (perhaps an
 * empty one), never an error.  Spans point into the caller's memory, which
 * must outlive them; strings the functions produce are appended to a
 * caller's struct buf as UTF-8.
 */
#ifndef LB_HEADER_H
#define LB_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "receive/charset.h"

/* A list of heap strings; free with strv_free. */
struct strv {
	char **v;
	size_t n, cap;
};

/* A heap copy of raw bytes as valid UTF-8: invalid sequences and NUL
 * become U+FFFD, so header data never truncates or garbles a string. */
char *header_dup(struct span s);

/* Append header_dup(s) (skipped when s is empty or, with unique, already in
 * the list compared case-insensitively). */
void strv_add(struct strv *l, struct span s, bool unique);
bool strv_has(const struct strv *l, const char *s);
void strv_free(struct strv *l);

struct hfield {
	struct span name;  /* as written, without the colon */
	struct span value; /* raw: folds (CRLF + WSP) included, leading WSP skipped */
};

struct hfields {
	struct hfield *v;
	size_t n, cap;
};

/* Read the header block at the start of in into h (which is reset first;
 * its memory is reused).  A leading mbox "From " line is skipped when
 * mbox_from is set.  The block ends at the first empty line.  A line that is
 * neither a field nor a fold (no colon, a space in the name) is skipped with
 * its folds, and the fields after it are read; but when no field follows such
 * lines and no empty line comes, they start the body (broken mail without
 * the empty line).  Returns the offset of the body: just past the empty line,
 * or where those trailing lines start, or in.n. */
size_t header_scan(struct span in, bool mbox_from, struct hfields *h);
void hfields_free(struct hfields *h);

/* The raw value of the first field called name, or {NULL, 0}. */
struct span header_get(const struct hfields *h, const char *name);

/* Append the value unfolded and trimmed, bytes unchanged (for structured
 * fields: Message-ID, Content-Type, …). */
void header_unfold(struct buf *out, struct span v);
/* The same as a heap string made valid UTF-8 (header_dup); never NULL. */
char *header_unfold_dup(struct span v);

/* Whether s (any case) is the lower-case ASCII word[0..n): for field
 * names, types and such, compared many times per message. */
bool header_is(struct span s, const char *word, size_t n);
#define HEADER_IS(s, lit) header_is((s), (lit), sizeof(lit) - 1)

/* header_text() and header_display(), a value as UTF-8 text: charset.h. */

/* Call emit for each mailbox in an address-list value: spec is the addr-spec
 * as written (angle brackets, comments and source route removed), display
 * the raw display name (or a comment standing in for one), possibly empty.
 * Groups are flattened; elements without '@' are skipped. */
void header_mailboxes(struct span v, void (*emit)(void *ctx, struct span spec, struct span display),
		      void *ctx);

/* Call emit for each <msg-id> in v (without the brackets); a value without
 * brackets that is one word containing '@' counts as one id. */
void header_msgids(struct span v, void (*emit)(void *ctx, struct span id), void *ctx);

/* The first msg-id in v, or {NULL, 0}. */
struct span header_first_msgid(struct span v);

/* Parse an RFC 5322 date-time (obsolete forms included: two-digit years,
 * named zones, no weekday, no seconds); false when it is not one. */
bool header_date(struct span v, time_t *out);

/* "type/subtype" of a Content-Type value, trimmed, or {NULL, 0}. */
struct span header_mime_type(struct span v);

/* Append the value of parameter name (case-insensitive) of a Content-Type or
 * Content-Disposition value to out as UTF-8: quoted-strings unquoted, RFC
 * 2231 continuations and charsets, and the RFC 2047 words some mailers put in
 * file names, decoded.  Returns false (out untouched) when it is absent. */
bool header_param(struct span v, const char *name, struct buf *out);

/* The first word of an unstructured value, for Auto-Submitted, Precedence, …,
 * or {NULL, 0}. */
struct span header_word(struct span v);

#endif
