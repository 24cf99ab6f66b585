/* Which inquiry a received message continues, if any.
 *
 * A message joins inquiry N when
 *   1. its In-Reply-To or References name a message of N's conversation:
 *      N's first message, a later one, or a mail of ours about N (a reply,
 *      an acknowledgement; store/conversation.h); In-Reply-To first, then
 *      References from the newest; or else
 *   2. it comes from the same sender (addr_key) with the same normalised
 *      subject (followup_subject) as a message of N's, within 30 days of
 *      N's last message.  An empty subject never matches.  This holds
 *      whether or not the message names other messages (a reply to a
 *      newsletter, say) that are no inquiry's.
 * When several inquiries qualify by 2, the one with the latest message.
 *
 * The index is built once per poll from the inquiries (followup_add for
 * each) and kept up to date as messages are filed (followup_note): each
 * look-up is O(1) in the number of inquiries.
 */
#ifndef LB_FOLLOWUP_H
#define LB_FOLLOWUP_H

#include <stdbool.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "receive/source.h"
#include "receive/parse.h"
#include "store/inquiries.h"

#define FOLLOWUP_WINDOW (30L * 86400)

struct followups;

struct followups *followups_new(void);
void followups_free(struct followups *x);

/* Index q: its Message-ID, its thread's (store/conversation.h), its sender
 * and subject, the time of its last message. */
void followup_add(struct followups *x, const struct inquiry *q);
/* A message of inquiry number's was filed at when (a first one, or one
 * that joined it): index it. */
void followup_note(struct followups *x, unsigned number, const char *message_id, const char *from,
		   const char *subject, time_t when);

/* The inquiry m continues (at time now), or 0.  *by_reference (may be
 * NULL) tells whether rule 1 found it. */
unsigned followup_find(const struct followups *x, const struct inmsg *m, time_t now,
		       bool *by_reference);

struct followup_filed {
	bool joined; /* false: the inquiry is gone (purged since the poll began) */
	bool urgent; /* the message holds crisis language */
};

/* File msg (m parsed, from its sender, key its dedupe key) as a later
 * message of inquiry number's conversation at now (store/conversation.h),
 * and index it.  It reopens an answered or closed inquiry; crisis language
 * in it (its own words, or a subject other than the conversation's) makes
 * the inquiry urgent, and clears the alert's earlier intent when the
 * inquiry becomes urgent or was answered or closed, so that the alert goes
 * out again (deliver/notify.h notifier_followup).  The history gets "new
 * message" (and "status", "priority" when they change) in the same write.
 * Takes state/lock.inquiries, as every read-modify-write of a record does.
 * Errors are I/O errors; a purged inquiry is not one (out->joined false). */
int followup_file(struct followups *x, const struct config *cfg, const struct src_msg *msg,
		  const struct inmsg *m, const char *from, const char *key, time_t now,
		  unsigned number, bool by_reference, struct followup_filed *out,
		  struct lb_err *err);

/* subject without its reply and forward prefixes (Re:, Fwd:, Fw:, AW:, WG:,
 * SV:, VS:, RV:, Antw:, Réf:, Auto:, "[n]" counters, repeated and in any
 * case), lower case (ASCII), runs of white space as one blank, trimmed. */
void followup_subject(struct buf *out, const char *subject);

#endif
