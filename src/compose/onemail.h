/* letterbox's own one-off mails: a staff member's reply to an inquiry, the
 * acknowledgement to its sender, the urgent alert and the digest to staff.
 *
 * Newsletters (message.h) are prepared once and spliced per recipient; these
 * are composed whole, once each: header fields, then multipart/alternative
 * with text/plain first and text/html second, UTF-8, quoted-printable.  As
 * for newsletters: CRLF, 7-bit, no line over 78 octets, and no value from
 * the data (a subject, a name) can start a header field of its own.
 *
 * Header fields: Date, From, To, [Reply-To], Subject, Message-ID
 * <lb.KIND.STAMP.RANDOM@from-domain>, [In-Reply-To, References],
 * [Auto-Submitted, X-Auto-Response-Suppress], MIME-Version, Content-Type.
 * Message-IDs taken from received mail are used only when they are plain
 * printable ASCII without blanks or angle brackets; others are left out.
 */
#ifndef LB_ONEMAIL_H
#define LB_ONEMAIL_H

#include <stddef.h>
#include <time.h>

#include "compose/template.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

enum onemail_kind {
	OM_REPLY,   /* written by a person: no Auto-Submitted */
	OM_ACK,	    /* Auto-Submitted: auto-replied (RFC 3834) */
	OM_ALERT,   /* Auto-Submitted: auto-generated */
	OM_DIGEST,  /* Auto-Submitted: auto-generated */
	OM_CONFIRM, /* a sign-up's confirmation request: Auto-Submitted: auto-generated */
};

struct onemail {
	enum onemail_kind kind;
	const struct addr *from;
	const struct addr *reply_to; /* may be NULL */
	const struct addr *to;	     /* nto recipients, all in one To field */
	size_t nto;
	const char *subject;	       /* UTF-8 */
	const char *in_reply_to;       /* msg-id without brackets, or NULL */
	const char *const *references; /* msg-ids without brackets, oldest first; NULL-terminated,
					  may be NULL */
	const char *text;	       /* the text/plain part, UTF-8, LF line ends */
	const char *html;	       /* the text/html part; NULL: made from text */
	time_t date;
};

/* Compose om into out (appending).  *message_id (may be NULL) receives the
 * new Message-ID without brackets; caller frees.  LB_EDATA when there is no
 * recipient or no From. */
int onemail_compose(const struct onemail *om, struct buf *out, char **message_id,
		    struct lb_err *err);

/* "Re: subject" (or prefix given, e.g. "Auto: "): the prefix is added unless
 * the subject already starts with it (case-insensitively); an empty or
 * missing subject becomes prefix + fallback. */
void onemail_subject(struct buf *out, const char *prefix, const char *subject,
		     const char *fallback);

/* A plain text as a small HTML page: paragraphs at blank lines; inside one,
 * a line break is a <br> (a sign-off, a name above an address, a list item,
 * an indented line), except where the text was evidently wrapped at 72
 * columns (the next line's first word would not have fit): those lines flow
 * again.  A line indented by four spaces or a tab is a command: a block of
 * its own that never breaks (it scrolls on a narrow screen).  Everything
 * escaped, web addresses as links.  For mails whose site template has no .html
 * version (the acknowledgement) and for alerts. */
void onemail_text_html(struct buf *html, const char *text, const char *lang);

/* A labelled value: one row of onemail_rows_html's table. */
struct om_row {
	const char *label, *value; /* UTF-8 text; value NULL: empty */
};

/* A page of facts: the text before (as onemail_text_html), a table with one
 * row per fact (label, value; everything escaped), then the text after.  For
 * the urgent alert, whose facts must not run together. */
void onemail_rows_html(struct buf *html, const char *lang, const char *before,
		       const struct om_row *rows, size_t nrows, const char *after);

/* A value the template of a one-off mail may use: {{name}}.  html is the
 * value in the .html template; NULL means the same as text (escaped there
 * unless the template uses {{{name}}}). */
struct om_var {
	const char *name;
	const char *text, *html;
};

/* templates/FILE compiled, or the installed one when the site has none
 * (datadir_template; -v says which).  Neither there: LB_ENOINPUT saying
 * where it looked; a syntax error: LB_EDATA naming the file and line. */
int onemail_compile(const struct config *cfg, const char *file, enum tpl_escape esc, struct tpl **t,
		    struct lb_err *err);

/* Render templates/NAME.txt into text and templates/NAME.html into html with
 * vars, plus site.name, site.url, site.postal_address, site.lang,
 * site.crisis_line (triage.crisis_line, empty when unset) and year.
 * A missing NAME.html is fine: html is made from the text (onemail_text_html).
 * A missing NAME.txt is LB_ENOINPUT; an unknown name or a syntax error is
 * LB_EDATA naming templates/NAME.x:line. */
int onemail_template(const struct config *cfg, const char *name, const struct om_var *vars,
		     size_t nvars, time_t now, struct buf *text, struct buf *html,
		     struct lb_err *err);

/* For `check`: compile templates/NAME.txt (when required, or when it is
 * there) and NAME.html (when there) as onemail_template does, and look up
 * every name the way it would for NAME ("reply", "acknowledgement").  Each
 * problem goes to report, as "file:line: ..."; returns the files checked. */
size_t onemail_check(const struct config *cfg, const char *name, bool required,
		     void (*report)(void *rctx, const char *msg), void *rctx);

#endif
