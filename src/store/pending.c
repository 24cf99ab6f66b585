/* Pending reports in the indexed store: every report a row of sup_pending,
 * in the order written (suppressions_int.h).  Whether a report is still
 * pending is decided against the suppressions at look-up time, as the
 * header says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/db.h"
#include "store/suppressions_int.h"

/* The record if it is still pending: not suppressed, and nothing recorded
 * about the address since (a staff lift settles it too). */
static const struct suppression *still_pending(const struct suppressions *s,
					       const struct suppression *r)
{
	time_t last;
	if (suppressions_check(s, r->address) != SUP_NONE)
		return NULL;
	if (sup_last_record(s, r->address, &last) && last > r->when)
		return NULL;
	return r;
}

const struct suppression *suppressions_pending_get(const struct suppressions *s,
						   const char *address)
{
	struct sup_handle *h = s->h;
	if (!address || sup_have_db(h) <= 0)
		return NULL;
	sqlite3_stmt *st = h->st.p_latest;
	sqlite3_bind_text(st, 1, sup_key(h, address), -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	struct sup_rec *r = step == SQLITE_ROW ? sup_rec_of(h, &h->p_cache, st) : NULL;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		sup_lookup_failed(h, "pending reports");
	sqlite3_reset(st);
	return r ? still_pending(s, &r->pub) : NULL;
}

const struct suppression *const *suppressions_pending_list(const struct suppressions *s, size_t *n)
{
	struct sup_handle *h = s->h;
	size_t cap = 0;
	*n = 0;
	free(h->p_view);
	h->p_view = NULL;
	sqlite3_stmt *st = NULL;
	struct lb_err err = {0};
	/* Each address's latest report, in the order written. */
	if (sup_have_db(h) > 0 &&
	    db_prepare(h->db,
		       "SELECT p.seq, p.at, p.reason, p.address, p.key, p.evidence"
		       " FROM sup_pending p WHERE p.seq ="
		       " (SELECT MAX(q.seq) FROM sup_pending q WHERE q.key = p.key)"
		       " ORDER BY p.seq",
		       &st, &err) == 0) {
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const struct suppression *r = &sup_rec_of(h, NULL, st)->pub;
			if (!still_pending(s, r))
				continue;
			h->p_view = xgrowarray(h->p_view, &cap, *n + 2, sizeof *h->p_view);
			h->p_view[(*n)++] = r;
		}
		if (step != SQLITE_DONE)
			sup_lookup_failed(h, "pending reports");
	} else if (h->db) {
		log_warn("%s", err.msg);
	}
	sqlite3_finalize(st);
	if (!h->p_view)
		h->p_view = xcalloc(1, sizeof *h->p_view);
	h->p_view[*n] = NULL;
	return h->p_view;
}

int suppressions_add_pending(struct suppressions *s, const char *address, enum sup_reason reason,
			     time_t when, const char *evidence, struct lb_err *err)
{
	if (reason <= SUP_NONE || reason >= SUP_RESUBSCRIBED)
		return err_set(err, LB_ESOFTWARE, "suppressions_add_pending: no reason given");
	struct sup_handle *h = s->h;
	struct addr a;
	struct buf ev = BUF_INIT;
	int rc = sup_prepare(&ev, &a, address, evidence, err);
	if (!rc)
		rc = sup_db(h, err);
	if (!rc)
		rc = sup_insert(h->db, h->st.p_insert, when, reason, a.spec, sup_key(h, a.spec),
				buf_cstr(&ev), err);
	buf_free(&ev);
	addr_free(&a);
	return rc;
}

static enum sup_reason family(enum sup_reason r)
{
	return r == SUP_FAILED ? SUP_HARD_BOUNCE : r;
}

int suppressions_confirm(struct suppressions *s, const char *address, enum sup_reason kind,
			 time_t when, const char *how, bool *done, struct lb_err *err)
{
	*done = false;
	const struct suppression *r = suppressions_pending_get(s, address);
	if (!r || family(r->reason) != family(kind))
		return 0;
	struct buf ev = BUF_INIT;
	buf_printf(&ev, "confirmed by %s; the report: %s", how, r->evidence);
	int rc = suppressions_add(s, r->address, r->reason, when, ev.p, err);
	buf_free(&ev);
	*done = rc == 0;
	return rc;
}
