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
 *   summary, index  for the readers, derived from the two above (below:
 *               "the summary"); never read by a send run.
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
#include "core/fmap.h"
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

/* One line of the snapshot, unescaped: a recipient (email, name, lists,
 * fields) or a skipped entry (email, reason).  Filled by campaign_rcpt()
 * and campaign_skip(), which reuse its memory; the strings are valid until
 * the next fill or crcpt_free(). */
struct crcpt {
	const char *email, *name; /* name may be NULL */
	const char *lists;	  /* comma-separated ids */
	struct kv *fields;
	size_t nfields;
	const char *reason; /* a skipped entry's */
	/* private */
	struct buf line;
	size_t fcap;
};
void crcpt_free(struct crcpt *r);

/* What the journal says of a recipient beyond its state: kept only for
 * those with a deferral, a failure or a skip, so that memory follows the
 * recipients that need attention, not the list. */
struct rcpt_detail {
	unsigned deferrals;
	time_t first_deferred, next_at;
	int code;	 /* last SMTP code */
	const char *why; /* last reply text, NULL when none */
};

/* Offsets of the snapshot's lines: 4 bytes each (a 64-bit base per 4096). */
struct offtab {
	uint64_t *base;
	uint32_t *delta;
	size_t n, cap, nbase;
};

/* A campaign as a run holds it: the snapshot mapped read-only (core/fmap.h)
 * with the offset of each line, and one byte of state per recipient, so a
 * million recipients cost a few megabytes, not the list. */
struct campaign {
	char *slug;
	char *dir;
	time_t started;
	bool finished;
	time_t finished_at;
	size_t n;	/* recipients */
	size_t nskip;	/* skipped in the snapshot */
	uint64_t jsize; /* journal bytes replayed or written (complete lines) */
	/* private */
	struct fmap snap;
	struct offtab roff, koff; /* R lines, K lines */
	unsigned char *st;	  /* enum rcpt_state per recipient */
	struct rdetail *dv;	  /* open addressing on idx + 1 */
	size_t dn, dcap;
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
 * kept in the snapshot as skipped).  The lists are streamed into the
 * snapshot file, which c then maps: memory holds neither.  With create,
 * the snapshot is put in place atomically and durably (the campaign exists
 * from then on) with its index; without, it is a file unlinked at once (a
 * dry run).  An article naming a list that does not exist is LB_EDATA
 * (campaign_check_lists, which `check` runs too). */
int campaign_recipients(const struct config *cfg, const struct article *a,
			const struct suppressions *sup, time_t now, bool create, struct campaign *c,
			void (*report)(void *ctx, const char *msg), void *ctx, struct lb_err *err);
/* Every list the article's `lists:` names exists (subscribers/NAME.yaml);
 * else LB_EDATA at the article's `lists:`. */
int campaign_check_lists(const struct config *cfg, const struct article *a, struct lb_err *err);

/* Map a campaign's snapshot and replay its journal (streamed: the
 * journal is never held whole). */
int campaign_load(const struct config *cfg, const char *slug, struct campaign *c,
		  struct lb_err *err);

void campaign_free(struct campaign *c);

void campaign_count(const struct campaign *c, struct campaign_counts *k);

enum rcpt_state campaign_state(const struct campaign *c, size_t i);
void campaign_set_state(struct campaign *c, size_t i, enum rcpt_state s);
/* Recipient i's detail: *d zeroed when the journal says nothing but its state. */
void campaign_detail(const struct campaign *c, size_t i, struct rcpt_detail *d);
/* Recipient i (< c->n) or skipped entry j (< c->nskip) from the snapshot. */
void campaign_rcpt(struct campaign *c, size_t i, struct crcpt *r);
void campaign_skip(struct campaign *c, size_t j, struct crcpt *r);

/* Whether the campaign certainly finished: its journal's last record is E.
 * Reads the journal's last bytes only.  False means "load it to know". */
bool campaign_finished_fast(const struct config *cfg, const char *slug);

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

/* ---- the summary (deliver/campaign_sum.c) ----------------------------------------------
 *
 * state/campaigns/SLUG/summary: what status, the digest and the staff pages
 * read instead of the snapshot and the journal: the counts, the recipients
 * that need attention (deferred, failed, uncertain, skipped since) with
 * their reasons, the snapshot's skipped, and a byte of state per recipient.
 * It names the journal size (and the snapshot's size and time) it was made
 * from: one that does not match, or is missing (a site from before it
 * existed), is rebuilt from the journal and written again (temp file, fsync,
 * rename).  Nothing is ever sent or withheld on its word: a send run
 * replays the journal.
 *
 * state/campaigns/SLUG/index: the recipients' address hashes, sorted, to
 * tell whether the campaign was sent to an address without reading the
 * snapshot.  Written with the snapshot, rebuilt like the summary. */
struct cattn {
	size_t idx;
	enum rcpt_state state;
	int code;
	time_t next_at;
	const char *email, *why; /* why may be NULL */
};
struct cskip {
	const char *email;
	const char *reason; /* "suppressed: unsubscribed", "invalid: file:line: ..." */
};
struct campaign_summary {
	char *slug;
	time_t started;
	bool finished;
	time_t finished_at;
	struct campaign_counts k;
	struct cattn *attn; /* by idx */
	size_t nattn;
	struct cskip *skip;
	size_t nskip;
	/* private */
	char *dir;
	char *text;
	const unsigned char *st;
	size_t n;
	struct fmap index; /* mapped, or ixbuf when it could not be written */
	char *ixbuf;
	const uint64_t *ix;
	unsigned ixbits;
};

/* Read SLUG's summary, rebuilding it first when missing or stale. */
int campaign_summary(const struct config *cfg, const char *slug, struct campaign_summary *s,
		     struct lb_err *err);
void campaign_summary_free(struct campaign_summary *s);
/* Write c's summary (and its index when missing or not c's): c loaded or
 * just run, c->jsize the journal's size. */
int campaign_summary_write(struct campaign *c, struct lb_err *err);
/* Write c's index (the snapshot just made). */
int campaign_index_write(struct campaign *c, struct lb_err *err);
/* Whether the campaign was sent to key (an addr_key).  A hash match: a
 * false yes is possible with odds below one in ten million. */
bool campaign_sent_to(struct campaign_summary *s, const char *key);
/* The pending recipients, in order (read from the snapshot). */
int campaign_each_pending(struct campaign_summary *s,
			  void (*fn)(void *ctx, size_t idx, const char *email), void *ctx,
			  struct lb_err *err);

/* The 64-bit hash of an address key (FNV-1a), as the index has it. */
uint64_t campaign_key_hash(const char *key, size_t n);

/* What followed the sending (deliver/campaign_after.c): current suppressions
 * (hard bounce, complaint, unsubscribe) of addresses a campaign was sent to,
 * recorded after it started.  Each counts once, for the latest of the n
 * campaigns cs that was sent to the address before it; out[i] is cs[i]'s. */
struct campaign_after {
	size_t bounced, complained, unsubscribed;
};
void campaign_after(struct campaign_summary *cs, size_t n, const struct suppressions *sup,
		    struct campaign_after *out);
/* "1 bounced later, 1 unsubscribed" (only what is not zero) appended to b. */
void campaign_after_text(struct buf *b, const struct campaign_after *a);

#endif
