/* Templates: a small, logic-less subset of Mustache.
 *
 *   {{name}}            value, escaped for the template's context
 *                       (HTML-escaped in an .html template, as-is in .txt)
 *   {{{name}}}          value, raw (e.g. {{{content}}}, the rendered article)
 *   {{#name}}…{{/name}} section: the inside appears when name has a non-empty value
 *   {{^name}}…{{/name}} inverted section: appears when name is empty or absent
 *   {{! comment }}      dropped; may span lines
 * Names are dotted words: article.title, site.name, subscriber.name, …
 * Whitespace inside the braces is allowed ({{ article.title }}).  A tag that
 * stands alone on its line (sections, comments) takes its line with it, as in
 * Mustache, so templates can be laid out readably.
 *
 * Newsletters are rendered once per campaign and spliced per recipient, so a
 * template is evaluated in two stages:
 *   1. tpl_bind() resolves every name the campaign knows (article, site, …)
 *      and keeps the per-recipient ones (subscriber.*, unsubscribe.*, …) as
 *      holes: the result is a plan of literal text and holes;
 *   2. per recipient, the caller walks plan pieces: literal text is final,
 *      a TP_VAR hole is looked up and escaped, TP_SECTION / TP_INVERTED
 *      pieces decide whether to skip to their matching TP_END.
 * tpl_render() does both stages at once, for one-off mails and previews.
 */
#ifndef LB_TEMPLATE_H
#define LB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum tpl_escape {
	TPL_ESC_HTML, /* & < > " ' become entities */
	TPL_ESC_NONE, /* text templates */
};

/* What a lookup says about a name. */
enum tpl_lookup_result {
	TPL_UNKNOWN, /* no such name: an error */
	TPL_VALUE,   /* *value is set; an empty value (n == 0) is "false" for sections */
	TPL_LATER,   /* known, but per recipient: leave a hole (tpl_bind only) */
};

typedef enum tpl_lookup_result (*tpl_lookup_fn)(void *ctx, struct span name, struct span *value);

struct tpl; /* a compiled template, opaque */

/* Compile src (which need not be NUL-terminated) named `name` (a file name,
 * used in messages).  Syntax errors return LB_EDATA: "name:line: unclosed
 * tag", "name:line: {{/x}} closes {{#y}} opened at line N", … */
int tpl_compile(const char *name, const char *src, size_t n, enum tpl_escape esc, struct tpl **out,
		struct lb_err *err);
void tpl_free(struct tpl *t);
const char *tpl_name(const struct tpl *t);

/* Call lookup for every name the template uses (each tag once, in order) and
 * report each TPL_UNKNOWN through `report` as "name:line: unknown name 'x'".
 * Returns the number of unknown names (0 = all good). */
size_t tpl_check(const struct tpl *t, tpl_lookup_fn lookup, void *ctx,
		 void (*report)(void *rctx, const char *msg), void *rctx);

enum tpl_piece_kind {
	TP_TEXT,     /* literal: text is final output */
	TP_VAR,	     /* hole: look up `name`, escape with `escape` */
	TP_SECTION,  /* if `name` is empty: continue at piece `end` + 1 */
	TP_INVERTED, /* if `name` is non-empty: continue at piece `end` + 1 */
	TP_END,	     /* closes the section at piece `end` (no output) */
};

struct tpl_piece {
	enum tpl_piece_kind kind;
	struct span text;	/* TP_TEXT: the output; others: the name */
	enum tpl_escape escape; /* TP_VAR only */
	size_t end;		/* TP_SECTION/TP_INVERTED: index of its TP_END */
};

struct tpl_plan {
	struct tpl_piece *pieces;
	size_t n;
	/* private storage the spans point into */
	struct buf store;
	size_t cap;
};

/* Stage 1: resolve what lookup can (TPL_VALUE) now; keep TPL_LATER names as
 * holes.  Adjacent literal text is merged into one TP_TEXT piece; sections on
 * resolved names disappear (their inside kept or dropped).  An unknown name
 * returns LB_EDATA naming template:line.  Free the plan with tpl_plan_free. */
int tpl_bind(const struct tpl *t, tpl_lookup_fn lookup, void *ctx, struct tpl_plan *plan,
	     struct lb_err *err);
void tpl_plan_free(struct tpl_plan *plan);

/* Append src escaped for esc. */
void tpl_escape(struct buf *out, struct span src, enum tpl_escape esc);

/* Stage 2 for a whole plan: fill holes with lookup (which must now answer
 * TPL_VALUE or TPL_UNKNOWN) and append the result to out. */
int tpl_plan_render(const struct tpl_plan *plan, tpl_lookup_fn lookup, void *ctx, struct buf *out,
		    struct lb_err *err);

/* Both stages at once. */
int tpl_render(const struct tpl *t, tpl_lookup_fn lookup, void *ctx, struct buf *out,
	       struct lb_err *err);

#endif
