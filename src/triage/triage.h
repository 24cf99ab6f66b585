/* The staff's actions on an inquiry, one implementation for both faces:
 * `letterbox inquiries set/note/reply` (cmd/inquiries_edit.c) and the staff
 * pages (web/staff_inquiry.c) call these and only say the outcome their own
 * way.  Each validates all of its input before it changes anything (a bad
 * value is LB_EUSAGE, an inquiry that does not exist LB_EDATA; then nothing
 * was written), takes state/lock.inquiries for the change (poll's filing and
 * notifications take it too) and appends every change to the inquiry's
 * history with the time and who.  Nothing here prints.
 */
#ifndef LB_TRIAGE_H
#define LB_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "receive/parse.h"
#include "store/inquiries.h"

/* An inquiry number as staff type it: 1 .. 999999999, digits only. */
int triage_number(const char *arg, unsigned *out, struct lb_err *err);

/* What a `set` changes; NULL fields stay as they are. */
struct triage_change {
	const char *status;   /* new, open, answered, closed */
	const char *priority; /* urgent, normal */
	const char *assignee; /* NULL with assign: nobody */
	bool assign;
};

/* Add key=value to c: status, priority, assign (or assignee; "", "nobody"
 * or "-" unassigns).  LB_EUSAGE with a message for anything else. */
int triage_change_add(struct triage_change *c, struct span key, const char *value,
		      struct lb_err *err);

/* Apply c to inquiry num: one new version of the record and one history line
 * per field that changed.  *summary gets "status new -> open; assign ann;"
 * style text (empty: nothing changed). */
int triage_set(const struct config *cfg, unsigned num, const struct triage_change *c,
	       const char *who, time_t now, struct buf *summary, struct lb_err *err);

/* A note in num's history; text must have something but blanks. */
int triage_note(const struct config *cfg, unsigned num, const char *text, const char *who,
		time_t now, struct lb_err *err);

/* A reply, composed (triage_reply_prepare) and then sent and recorded
 * (triage_reply_send).  The public fields say what will be sent. */
struct triage_reply {
	struct inquiry q;
	struct addr to;
	struct buf subject, text, html, raw; /* raw: the whole message as it goes out */
	char *message_id, *mail_from;
	/* private */
	struct inmsg m;
	bool parsed;
	struct buf md, content_html, content_text;
	struct addr reply_to;
	bool have_reply_to;
	const char **refs;
};

/* Render md (Markdown) with templates/reply.{html,txt} and compose the reply
 * to num: "Re: <subject>" in the same thread (In-Reply-To, References),
 * RFC 3834 headers, Reply-To with the person's token.  Sends nothing. */
int triage_reply_prepare(const struct config *cfg, unsigned num, const char *md, size_t mdn,
			 const char *who, time_t now, struct triage_reply *r, struct lb_err *err);

/* Send a prepared reply through outgoing.url, then keep a copy with the
 * inquiry (*copy: its number) and set the status to answered; on an IMAP
 * source, file it in incoming.sent and flag the original \Answered (a
 * failure there is only a warning and a history line).  When it could not
 * be sent, nothing changes but the history ("reply-failed", or
 * "reply-uncertain" when it may have gone out), and err says which. */
int triage_reply_send(const struct config *cfg, struct triage_reply *r, const char *who, time_t now,
		      unsigned *copy, struct lb_err *err);

void triage_reply_free(struct triage_reply *r);

#endif
