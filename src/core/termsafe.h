/* Text from outside (mail, reports, servers, list files, the command line)
 * made safe to print on a terminal.  A terminal obeys what it is sent:
 * ESC sequences hide text, move the cursor, set the window title; BEL rings;
 * a CR overprints the line; UTF-8-encoded C1 controls (U+009B is CSI) act
 * like ESC on many terminals; bidi controls (U+202E "reversed.exe") reorder
 * what is shown.  Every such character is written visibly instead:
 *
 *   C0 controls and DEL      \x1b  \x07  \x0d ...
 *   bytes that are not UTF-8 \xe9
 *   C1 controls, bidi controls, line/paragraph separators
 *                            <U+009B>  <U+202E>  <U+2066>  <U+2028> ...
 *
 * Everything else (printable ASCII, other UTF-8) is copied unchanged.  This
 * is the one place that decides; commands print outside strings through it
 * (JSON output is escaped by json.c instead and is not passed here).
 */
#ifndef LB_TERMSAFE_H
#define LB_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

enum {
	TERM_LINES = 1, /* keep LF and TAB (message bodies, multi-line output) */
};

/* Append p[0..n) to out, made safe as above. */
void term_safe(struct buf *out, const char *p, size_t n, unsigned flags);

/* s (NULL: "") made safe on one line into scratch, which is reset first;
 * returns its contents, valid until scratch changes. */
const char *term_str(struct buf *scratch, const char *s);

/* True when s holds a character term_safe would rewrite (TAB and LF count),
 * or bytes that are not UTF-8: for names we refuse rather than store. */
bool term_unsafe(const char *s);

/* printf to f, the whole output made safe with TERM_LINES (the format's own
 * newlines stay); for lines that carry outside strings. */
int term_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
