/* Running a campaign: recipients through a transport, every step journaled.
 *
 * The rule that makes kill -9 safe: a recipient's "A" (attempt) record is on
 * disk before its message can be delivered.  The message is handed to the
 * transport at once, with a commit gate (tx_job.commit) that holds the
 * point of delivery (SMTP: the last byte, hence the end-of-data dot;
 * Maildir: the rename into new/) until the record is durable: the fsync
 * overlaps the transfer.  Records are fsync'd in groups by journal.c's
 * background thread; at most `window` (2 × connections) recipients have an
 * A record without an outcome after it at any point of the journal, which
 * bounds the "uncertain" ones a crash can leave.
 */
#ifndef LB_SENDER_H
#define LB_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "compose/message.h"
#include "core/config.h"
#include "core/err.h"
#include "deliver/campaign.h"
#include "deliver/transport.h"
#include "store/suppressions.h"

struct send_opts {
	time_t now;	       /* the clock for due/backoff decisions (--now) */
	long limit;	       /* at most this many attempts this run; 0 = no limit */
	bool resend_uncertain; /* release uncertain recipients for sending again */
	bool progress;	       /* draw a progress bar on stderr */
	size_t window;	       /* attempts without an outcome, at most: 2 × connections */
};

struct send_stats {
	size_t attempted, sent, deferred, failed, uncertain, not_sent, expired, suppressed;
	size_t skipped; /* suppressed since the campaign started: not sent (K records) */
	double seconds;
};

/* Send what is eligible now in campaign c (loaded or just created): first,
 * every recipient still to be sent whose address sup now suppresses is
 * recorded as skipped (K) with the reason.  Returns 0
 * or a stopping error (LB_EUNAVAIL, LB_ECONFIG from the transport, LB_EIO
 * from the journal).  c's states are updated as it goes. */
int campaign_send(const struct config *cfg, struct campaign *c, struct newsletter *nl,
		  struct transport *t, struct suppressions *sup, const struct send_opts *o,
		  struct send_stats *st, struct lb_err *err);

#endif
