/* The text of a received message, made readable: HTML rendered as text,
 * format=flowed undone, and the writer's own words told apart from what they
 * quoted.  Input and output are UTF-8 with LF line ends; all functions
 * append to out, run in linear time and never fail.
 */
#ifndef LB_TEXT_H
#define LB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append p[0..n) with CRLF and lone CR made LF. */
void text_lf(struct buf *out, const char *p, size_t n);

/* Append a plain-text rendering of an HTML document: tags stripped, block
 * elements (p, div, li, tr, h1-h6, …) and <br> made line breaks, whitespace
 * collapsed except in <pre>, entities decoded, script/style/title dropped,
 * and <blockquote> content prefixed with "> " per level so that the quoted
 * part of an HTML reply looks like a quoted plain-text reply. */
void html_to_text(struct buf *out, const char *p, size_t n);

/* Undo RFC 3676 format=flowed: join soft-broken lines, remove space
 * stuffing; delsp as in the Content-Type parameter. */
void text_unflow(struct buf *out, const char *p, size_t n, bool delsp);

/* Append the writer's own words from a reply's text: lines quoted with ">"
 * and the attribution that introduces them ("On … wrote:", "Am … schrieb …:",
 * "Le … a écrit :", …) are removed; everything from a quoted copy that is not
 * marked with ">" is cut: Outlook's "-----Original Message-----" and
 * "From: … Sent: …" blocks, forwarded-message banners, a copy of our own
 * newsletter (a line that is one of markers, a NULL-terminated list such as
 * the site's name, or may be NULL; or the "=====" rule under its title).
 * Runs of blank lines left behind are squeezed.  Returns whether anything
 * was removed. */
bool text_own(struct buf *out, const char *p, size_t n, const char *const *markers);

#endif
