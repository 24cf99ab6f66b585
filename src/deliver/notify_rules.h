/* Who may get an acknowledgement (RFC 3834) and what it says, the
 * per-sender log that keeps it to one per 7 days, and what becomes of an
 * intent to send (an alert's or an acknowledgement's).  Internal to
 * deliver/notify.c (and its tests).
 *
 * The log is the indexed store's poll_acks table (store/pollstate_import.h):
 * a row per acknowledgement, HMAC, inquiry number and time; the HMAC (keyed
 * with the site secret) stands for the sender's address, so the log names
 * nobody; rows older than 7 days are deleted whenever it is written.
 */
#ifndef LB_NOTIFY_RULES_H
#define LB_NOTIFY_RULES_H

#include <stdbool.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/token.h"
#include "receive/parse.h"
#include "store/inquiries.h"

/* A local part no person reads or that must never be answered:
 * MAILER-DAEMON, postmaster, noreply / no-reply / donotreply…, owner-…,
 * …-request, …-bounces, bounce(s)+…, listserv, majordomo. */
bool ack_machine_local(const char *local);

/* One of the site's own addresses: from, reply_to / unsubscribe.mailto /
 * bounce_to with any token or none, staff.digest_to, staff.urgent_to. */
bool ack_own_address(const struct config *cfg, const char *spec);

/* Why a parsed message must not be answered automatically (it is automatic,
 * a report, a bounce, list or bulk mail, or asks for no auto-replies), or
 * NULL when a person sent it. */
const char *ack_machine_message(const struct inmsg *m);

/* Why inquiry q must not be acknowledged now, or NULL.  Reads q's message:
 * when *parsed is set on return, *m holds it (inmsg_free it).  When the
 * reason is an error (the log cannot be read: then whether the
 * sender was acknowledged within 7 days is unknown, and nothing is sent),
 * err says which (err->code non-zero); else err->code is 0. */
const char *ack_refusal(const struct config *cfg, const struct secret *secret,
			const struct inquiry *q, time_t now, struct inmsg *m, bool *parsed,
			struct lb_err *err);

/* Record that inquiry number's sender is being acknowledged at now (an
 * earlier entry for number is replaced), in one transaction: on an error
 * the log is as it was. */
int acklog_add(const struct config *cfg, const struct secret *secret, const char *spec,
	       unsigned number, time_t now, struct lb_err *err);
/* Withdraw that record (the acknowledgement certainly did not go out). */
int acklog_drop(const struct config *cfg, unsigned number, time_t now, struct lb_err *err);

/* The urgent alert's text and HTML parts (appended), about the
 * conversation's latest message from the person: the first one, or the
 * later one that made it urgent (store/conversation.h).  Its number, sender,
 * subject and when it came; the person's words only with triage.alert_body;
 * marked as a possible repeat when repeat is set. */
void alert_compose_text(const struct config *cfg, const struct inquiry *q, bool repeat,
			struct buf *text, struct buf *html);

/* The outcomes an intent can have, kept in the record (alert_state,
 * ack_state) next to the intent itself (notify.h). */
#define OUTCOME_PENDING "pending" /* being sent: a crash leaves it so */
#define OUTCOME_SENT	"sent"
#define OUTCOME_FAILED	"failed"    /* refused, or no reply: the history says */
#define OUTCOME_UNKNOWN "unknown"   /* a crash left it in doubt; reported, not resent */
#define OUTCOME_UNSENT	"unsent"    /* could not be composed (a template): not tried again */
#define ALERT_DOUBTED	"uncertain" /* a crash left it in doubt; reported, a repeat is due */
#define ALERT_REPEATING "repeating" /* the repeat is being sent */
#define ALERT_REPEATED	"repeated"  /* the repeat went out */

/* Both set and equal (a state, an intent's time). */
bool notify_same(const char *a, const char *b);

/* An intent with no outcome: a run died between recording it and recording
 * how the send ended (only polls send these, one at a time, so no other run
 * is still at it).  Records from before outcomes were kept have none: there
 * the history tells, which says how every send that returned ended. */
bool notify_in_doubt(const char *intent, const char *state, bool noted);

/* Compose inquiry q's acknowledgement (m: its parsed message, for
 * threading) into raw; *message_id (may be NULL) receives its Message-ID,
 * caller frees. */
int ack_compose(const struct config *cfg, const struct secret *secret, const struct inquiry *q,
		const struct inmsg *m, time_t now, struct buf *raw, char **message_id,
		struct lb_err *err);

#endif
