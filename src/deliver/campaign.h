/* Campaigns: one article sent to its recipients, exactly once each.
 *
 * On disk, in state/campaigns/SLUG/ (0700):
 *   recipients  the snapshot, written atomically when the campaign starts:
 *               who gets it (and who was skipped, and why).  A resumed
 *               campaign uses it, so editing lists mid-campaign can neither
 *               duplicate nor skip anyone.
 *   journal     append-only, one line per event (see journal.h):
 *                 A idx time                 attempt declared (durable before sending)
 *                 S idx time code status text   sent
 *                 D idx time code status text   deferred (4xx): retried with backoff
 *                 F idx time code status text   failed (5xx, or "expired")
 *                 N idx time                 not sent after all (connection lost before DATA)
 *                 R idx time                 uncertain released for resending (--resend-uncertain)
 *                 K idx time reason          skipped: suppressed after the snapshot was taken
 *                 E time                     the campaign finished
 *   An A with no later outcome is "uncertain": the message may have been
 *   delivered (kill -9, or the connection dropped after the data): it is
 *   never resent automatically.
 */
#ifndef LB_CAMPAIGN_H
#define LB_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compose/article.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "store/subscribers.h"
#include "store/suppressions.h"

enum rcpt_state {
	RS_PENDING,
	RS_DEFERRED,  /* 4xx; next attempt at next_at */
	RS_INFLIGHT,  /* declared in this run, not finished (uncertain if we crash) */
	RS_UNCERTAIN, /* declared in an earlier run with no outcome */
	RS_SENT,
	RS_FAILED,
	RS_SKIPPED, /* suppressed after the snapshot: not sent (why says why) */
};

struct crcpt {
	const char *email, *name; /* point into the snapshot text */
	const char *lists;	  /* comma-separated ids */
	struct kv *fields;
	size_t nfields;
	enum rcpt_state state;
	uint16_t deferrals;
	time_t first_deferred, next_at;
	int code;	 /* last SMTP code */
	const char *why; /* last reply text (points into journal text or own copy) */
};

struct cskip {
	const char *email;
	const char *reason; /* "suppressed: unsubscribed", "invalid: file:line: ..." */
};

struct campaign {
	char *slug;
	char *dir;
	time_t started;
	bool finished;
	time_t finished_at;
	struct crcpt *r;
	size_t n;
	struct cskip *skip;
	size_t nskip;
	/* private */
	struct buf snapshot_text, journal_text;
	char **owned;
	size_t nowned, ownedcap;
};

/* skipped: the snapshot's skipped ones and the RS_SKIPPED. */
struct campaign_counts {
	size_t sent, deferred, failed, uncertain, pending, skipped, total;
};

/* state/campaigns/SLUG */
char *campaign_dir(const struct config *cfg, const char *slug);
bool campaign_exists(const struct config *cfg, const char *slug);

/* Work out the recipients of article a at time now: its lists (default all)
 * united, deduplicated by address (case-insensitively), minus suppressions,
 * minus invalid addresses (each reported through report as file:line, and
 * kept in the snapshot as skipped).  With create, the snapshot is written
 * atomically (the campaign exists from then on); without, c is only filled
 * in (a dry run).  An article naming a list that does not exist is LB_EDATA
 * (campaign_check_lists, which `check` runs too). */
int campaign_recipients(const struct config *cfg, const struct article *a,
			const struct suppressions *sup, time_t now, bool create, struct campaign *c,
			void (*report)(void *ctx, const char *msg), void *ctx, struct lb_err *err);
/* Every list the article's `lists:` names exists (subscribers/NAME.yaml);
 * else LB_EDATA at the article's `lists:`. */
int campaign_check_lists(const struct config *cfg, const struct article *a, struct lb_err *err);

/* Load a campaign's snapshot and replay its journal. */
int campaign_load(const struct config *cfg, const char *slug, struct campaign *c,
		  struct lb_err *err);

void campaign_free(struct campaign *c);

void campaign_count(const struct campaign *c, struct campaign_counts *k);

/* Whether campaign SLUG has gone out, and when: the time of its journal's
 * first S record (a message accepted for someone).  Reads the journal only
 * as far as that record, so the answer costs a few kilobytes however many
 * recipients the campaign has.  A campaign with no S record (not started,
 * only deferred, failed or uncertain so far) and an article with no
 * campaign are not sent: 0 with *when = 0.  A journal that cannot be read
 * is an error (LB_EIO, LB_ENOPERM), never "not sent". */
int campaign_first_sent(const struct config *cfg, const char *slug, time_t *when,
			struct lb_err *err);

/* Apply one journal line to c (used by load and by the sender as it goes). */
void campaign_apply(struct campaign *c, const char *line, size_t n);

/* The retry time after the k-th deferral (k >= 1): 15 min, doubling. */
time_t campaign_backoff(time_t deferred_at, unsigned k);

const char *rcpt_state_name(enum rcpt_state s);

/* What followed the sending (deliver/campaign_after.c): current suppressions
 * (hard bounce, complaint, unsubscribe) of addresses a campaign was sent to,
 * recorded after it started.  Each counts once, for the latest of the n
 * campaigns cs that was sent to the address before it; out[i] is cs[i]'s. */
struct campaign_after {
	size_t bounced, complained, unsubscribed;
};
void campaign_after(const struct campaign *cs, size_t n, const struct suppressions *sup,
		    struct campaign_after *out);
/* "1 bounced later, 1 unsubscribed" (only what is not zero) appended to b. */
void campaign_after_text(struct buf *b, const struct campaign_after *a);

#endif
