/* Suppressions: addresses letterbox must not mail again, and why.
 *
 * Machine-owned, in the indexed store (state/letterbox.db, store/db.h;
 * before it, state/suppressions): a log of records, every one kept in the
 * order written, each durable (its transaction committed, synchronous=FULL)
 * before suppressions_add returns.  Human-edited list files are never
 * rewritten for this.
 * Reasons: unsubscribed, hard-bounce, complaint, removed, failed.
 * Lookups are by addr_key (lower-cased address); the latest record for an
 * address wins (a later "resubscribed" record lifts a suppression).
 *
 * Pending reports: a bounce, complaint or unsubscribe request about a
 * subscriber that is not tied to a message of ours (no verified token, none
 * of our Message-IDs) suppresses nobody on its own: it is kept as evidence
 * in the store beside them (every report kept, durable the same way), its
 * reason being what it asks for.  A report stays
 * pending while its address is not suppressed and no suppression record (a
 * lift included) was written after it.  It becomes a suppression only with
 * evidence of its own kind: a linked report of that kind (which suppresses
 * on its own, its reason noting the pending report), a 5.1.x for the
 * recipient at send time (likewise), or suppressions_confirm() for a
 * mailbox that a server refused for good (5.2.x) at send time.
 */
#ifndef LB_SUPPRESSIONS_H
#define LB_SUPPRESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"

enum sup_reason {
	SUP_NONE, /* not suppressed (or lifted) */
	SUP_UNSUBSCRIBED,
	SUP_HARD_BOUNCE,
	SUP_COMPLAINT,
	SUP_REMOVED,	 /* `letterbox subscribers remove` */
	SUP_FAILED,	 /* gave up on the address */
	SUP_RESUBSCRIBED /* lifts an earlier record */
};

struct suppression {
	char *address; /* as recorded */
	char *key;     /* addr_key(address) */
	enum sup_reason reason;
	time_t when;
	char *evidence; /* one line: SMTP reply, DSN status, message-id ... */
};

struct suppressions; /* opaque: the store's connection and statements */

/* A handle on the suppressions of state_dir: every look-up below asks the
 * store (an index probe), so a handle sees what other processes record
 * while it is open.  No state_dir yet: nothing is suppressed, and nothing
 * is made until something is recorded.  A look-up the store cannot answer
 * is logged, and suppressions_check then says SUP_FAILED: nobody is mailed
 * whom we could not look up.  The records handed out below stay valid
 * until suppressions_free. */
int suppressions_load(const char *state_dir, struct suppressions **out, struct lb_err *err);
void suppressions_free(struct suppressions *s);

/* The reason an address is suppressed, SUP_NONE if it is not. */
enum sup_reason suppressions_check(const struct suppressions *s, const char *address);
/* The full current record for an address, NULL if not suppressed. */
const struct suppression *suppressions_get(const struct suppressions *s, const char *address);

/* Record durably (committed when it returns).  Evidence is
 * reduced to one line of at most 500 bytes. */
int suppressions_add(struct suppressions *s, const char *address, enum sup_reason reason,
		     time_t when, const char *evidence, struct lb_err *err);

/* Current suppressions (latest record per address, lifted ones left out),
 * in the order first suppressed.  The array is owned by s. */
const struct suppression *const *suppressions_list(const struct suppressions *s, size_t *n);

/* Keep an unconfirmed report about address durably (see above).  Evidence
 * as for suppressions_add. */
int suppressions_add_pending(struct suppressions *s, const char *address, enum sup_reason reason,
			     time_t when, const char *evidence, struct lb_err *err);
/* The latest report about address if it is still pending, else NULL. */
const struct suppression *suppressions_pending_get(const struct suppressions *s,
						   const char *address);
/* The pending reports, one per address (its latest), in the order written.  The
 * array is owned by s and valid until the next call. */
const struct suppression *const *suppressions_pending_list(const struct suppressions *s, size_t *n);
/* If address has a pending report of the kind the confirmation shows (kind;
 * a report of failed counts as a hard-bounce), suppress it for that report's
 * reason, the evidence saying "confirmed by <how>" and what the report said;
 * *done tells whether it did.  Evidence of another kind confirms nothing: a
 * full mailbox does not make a forged complaint true.  Errors are
 * suppressions_add's. */
int suppressions_confirm(struct suppressions *s, const char *address, enum sup_reason kind,
			 time_t when, const char *how, bool *done, struct lb_err *err);

/* Where a record came from, read off its evidence: "web" (evidence that
 * starts "web: ", written by the web pages, /u/TOKEN), "staff" (`letterbox
 * subscribers ...`), "send" (a refusal at send time, or a pending report it
 * confirmed), else "mail" (a report that `poll` filed).  Writers keep to
 * these openings; the record format has no field of its own for it. */
const char *sup_source(const struct suppression *x);
#define SUP_WEB_EVIDENCE "web: " /* how the web's evidence starts */

const char *sup_reason_name(enum sup_reason r);
/* Parse a reason name; SUP_NONE when unknown. */
enum sup_reason sup_reason_parse(const char *name);

#endif
