/* Filing one received message: parse, classify, apply its effect durably.
 *
 * The effect of each kind:
 *   inquiry      filed in the inquiry store (store/inquiries.h), urgent when
 *                its text holds crisis language; or, when it continues an
 *                inquiry's conversation (receive/followup.h), filed with
 *                that one (store/conversation.h): it reopens it when
 *                answered or closed, and crisis language in it makes it
 *                urgent (then the alert is due again)
 *   bounce       hard: suppressed (hard-bounce);
 *                soft: counted, 3 within 30 days suppress (failed);
 *                delayed: nothing failed, nothing done
 *   complaint    suppressed (complaint)
 *   unsubscribe  suppressed (unsubscribed)
 *   auto-reply   set aside: recorded, nothing else
 * Whom a report (bounce, complaint, unsubscribe) acts on: a linked one, with
 * a verified token (in the address it was sent to, or in one of our
 * Message-IDs: the returned message's, In-Reply-To, References), acts on the
 * token's subscriber only; the addresses it names are evidence.  An
 * unlinked one suppresses nobody: for each address it names that is on a
 * list it leaves a pending report (store/suppressions.h), confirmed later
 * by a linked report or a 5xx at send time; it never counts as a soft
 * bounce.  A report about an address on no list changes nothing.
 * The caller (cmd/poll.c) records the message as seen, then moves it on the
 * server, then advances the cursor: in that order, so a crash anywhere
 * files nothing twice and loses nothing.
 */
#ifndef LB_FILING_H
#define LB_FILING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/config.h"
#include "core/err.h"
#include "core/token.h"
#include "receive/classify.h"
#include "receive/source.h"
#include "store/pollstate.h"
#include "store/suppressions.h"

struct filer; /* what filing needs: the site, its lists' tokens, the stores */

int filer_open(const struct config *cfg, const struct secret *secret, struct suppressions *sup,
	       struct pollstate *ps, struct filer **f, struct lb_err *err);
void filer_close(struct filer *f);

/* What happened to one message. */
struct filed {
	bool duplicate; /* seen before: nothing done */
	enum mail_kind kind;
	enum bounce_severity severity;
	unsigned inquiry; /* its number when one was filed, or that it joined */
	bool followup;	  /* it joined inquiry's conversation (receive/followup.h) */
	bool urgent;
	bool unparsed;
	size_t suppressed; /* addresses newly suppressed */
	size_t pending;	   /* unlinked: pending reports kept */
	char *subscriber;  /* a linked report's subscriber (whom it acts on), or NULL */
	char *key;	   /* dedupe key */
	char *message_id;
	char *article;	       /* slug, when linked */
	char *status;	       /* enhanced status of a bounce */
	char *reason;	       /* why it was classified so (no message content) */
	struct strv addresses; /* addresses it names */
	const char *folder;    /* incoming.folders entry for its kind, or NULL */
};

/* File msg (at time now).  Errors are I/O errors writing state. */
int filer_file(struct filer *f, const struct src_msg *msg, time_t now, struct filed *out,
	       struct lb_err *err);
void filed_free(struct filed *d);

/* What happened to one message of the staff's Sent folder. */
struct sent_filed {
	bool duplicate;	  /* seen before: nothing done */
	unsigned inquiry; /* the inquiry it was recorded as the answer to, or 0 */
};

/* Read msg, from the staff's Sent folder (incoming.sent), at now: when it
 * answers an inquiry (receive/staffreply.h) record it so; either way mark
 * it seen (kind "sent"), so that it is read once.  Nothing else: a sent
 * message is never classified, acknowledged or suppressed.  Errors are I/O
 * errors writing state. */
int filer_sent(struct filer *f, const struct src_msg *msg, time_t now, struct sent_filed *out,
	       struct lb_err *err);

#endif
