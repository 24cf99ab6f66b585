/* A reply the staff sent from their own mail client, found in the Sent
 * folder (incoming.sent): it answers inquiry N when its In-Reply-To or
 * References name a message of N's conversation (receive/followup.h, rule 1
 * only: a message of ours is never matched by sender and subject).
 *
 * It is kept as N's answer, as `inquiries reply` keeps its own: its raw
 * bytes as a copy (inquiry_add_copy, so `inquiries show` prints it in the
 * conversation), its Message-ID as a mail of ours (inquiry_note_sent, so the
 * person's answer to it joins N), a history line "reply: answered by NAME
 * (mail client)" and status answered.  A message whose Message-ID N's
 * thread already holds (our own reply, appended to Sent; or one recorded by
 * a run that died before it marked the message seen) changes nothing.
 */
#ifndef LB_STAFFREPLY_H
#define LB_STAFFREPLY_H

#include <stdbool.h>
#include <time.h>

#include "core/config.h"
#include "core/err.h"
#include "receive/followup.h"
#include "receive/parse.h"
#include "receive/source.h"

/* Record msg (m parsed) as the staff's answer to inquiry number at now;
 * *recorded tells whether anything was (false: the inquiry is gone, or the
 * message is already in its conversation).  Takes state/lock.inquiries.
 * Errors are I/O errors. */
int staff_reply_file(struct followups *x, const struct config *cfg, const struct src_msg *msg,
		     const struct inmsg *m, time_t now, unsigned number, bool *recorded,
		     struct lb_err *err);

/* Who sent m, for the history: "Name <address>", the address, or "staff". */
void staff_reply_who(struct buf *out, const struct inmsg *m);

#endif
