/* The inquiry store, read: a record, the history, the selections staff ask
 * for, poll's scan (store/inquiries.h).  Each is a query through an index:
 * what it costs is what it returns. */
#include <stdlib.h>
#include <string.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/db.h"
#include "store/inquiries.h"
#include "store/inquiries_int.h"

/* The connection for reading: 1 when the site has no state yet (nothing to
 * read, and nothing is made for it). */
static int reader(const char *state_dir, sqlite3 **db, struct lb_err *err)
{
	if (!fsx_exists(state_dir))
		return 1;
	return inq_db(state_dir, db, err) ? -1 : 0;
}

static char *col(sqlite3_stmt *st, int i)
{
	return db_column_dup(st, i);
}

void inq_row(sqlite3_stmt *st, struct inquiry *q)
{
	memset(q, 0, sizeof *q);
	int i = 0;
	q->number = (unsigned)sqlite3_column_int64(st, i++);
	q->received = (time_t)sqlite3_column_int64(st, i++);
	q->from = col(st, i++);
	q->from_name = col(st, i++);
	q->subject = col(st, i++);
	q->message_id = col(st, i++);
	q->key = col(st, i++);
	q->article = col(st, i++);
	q->subscriber = sqlite3_column_int(st, i++) != 0;
	q->status = col(st, i++);
	q->priority = col(st, i++);
	q->assignee = col(st, i++);
	q->unparsed = sqlite3_column_int(st, i++) != 0;
	q->truncated = sqlite3_column_int(st, i++) != 0;
	q->excerpt = col(st, i++);
	q->attachments = col(st, i++);
	q->acknowledged = col(st, i++);
	q->alerted = col(st, i++);
	q->ack_state = col(st, i++);
	q->alert_state = col(st, i++);
	q->msg_off = sqlite3_column_int64(st, i++);
	q->msg_len = (size_t)sqlite3_column_int64(st, i++);
	q->copies = col(st, i++);
	q->noted = (unsigned)sqlite3_column_int(st, i++);
}

int inq_thread_read(sqlite3 *db, struct inquiry *q, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc =
	    db_prepare(db, "SELECT entry FROM inq_thread WHERE number = ? ORDER BY id", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, q->number);
	struct buf t = BUF_INIT;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (t.n)
			buf_addc(&t, '\n');
		buf_adds(&t, (const char *)sqlite3_column_text(st, 0));
	}
	if (s != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": inq_thread", err);
	sqlite3_finalize(st);
	free(q->thread);
	q->thread = t.n ? buf_take(&t) : NULL;
	buf_free(&t);
	return rc;
}

int inquiries_next_number(const char *state_dir, unsigned *next, struct lb_err *err)
{
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc) {
		if (rc > 0)
			*next = 1;
		return rc > 0 ? 0 : err->code;
	}
	sqlite3_stmt *st;
	rc = db_prepare(db,
			"SELECT max(coalesce((SELECT max(number) FROM inq_records), 0),"
			" coalesce((SELECT value FROM inq_meta WHERE key = 'highest'), 0))",
			&st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*next = (unsigned)sqlite3_column_int64(st, 0) + 1;
	else
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	return rc;
}

int inquiry_load(const char *state_dir, unsigned number, struct inquiry *q, struct lb_err *err)
{
	memset(q, 0, sizeof *q);
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? err_set(err, LB_EDATA, "there is no inquiry %u", number)
			      : err->code;
	sqlite3_stmt *st;
	rc = db_prepare(db, "SELECT " INQ_COLUMNS " FROM inq_records WHERE number = ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		inq_row(st, q);
	else if (s == SQLITE_DONE)
		rc = err_set(err, LB_EDATA, "there is no inquiry %u", number);
	else
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	if (!rc)
		rc = inq_thread_read(db, q, err);
	if (rc)
		inquiry_free(q);
	return rc;
}

/* The WHERE clause of q (its parameters: status, then assignee, when
 * given). */
static void where(struct buf *sql, const struct inq_query *q)
{
	bool waiting = !q->status || !strcmp(q->status, "waiting"),
	     all = q->status && !strcmp(q->status, "all");
	if (q->notify)
		buf_adds(sql,
			 " WHERE (waiting = 1"
			 " OR (alerted IS NOT NULL AND ((alert_state IS NULL AND noted & 2 = 0)"
			 " OR alert_state IN ('pending', 'repeating')))"
			 " OR (acknowledged IS NOT NULL AND ((ack_state IS NULL AND noted & 1 = 0)"
			 " OR ack_state IN ('pending', 'repeating'))))");
	else if (waiting)
		buf_adds(sql, " WHERE waiting = 1");
	else if (all)
		buf_adds(sql, " WHERE 1");
	else
		buf_adds(sql, " WHERE status = ?1");
	if (q->assignee)
		buf_adds(sql, " AND assignee = ?2");
	if (q->urgent_only)
		buf_adds(sql, " AND urgent = 1");
}

static void bind_query(sqlite3_stmt *st, const struct inq_query *q)
{
	if (q->status && strcmp(q->status, "waiting") != 0 && strcmp(q->status, "all") != 0 &&
	    !q->notify)
		sqlite3_bind_text(st, 1, q->status, -1, SQLITE_STATIC);
	if (q->assignee)
		sqlite3_bind_text(st, 2, q->assignee, -1, SQLITE_STATIC);
}

int inquiries_count(const char *state_dir, const struct inq_query *q, size_t *total,
		    struct lb_err *err)
{
	*total = 0;
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st;
	buf_adds(&sql, "SELECT count(*) FROM inq_records");
	where(&sql, q);
	rc = db_prepare(db, sql.p, &st, err);
	buf_free(&sql);
	if (rc)
		return rc;
	bind_query(st, q);
	if (sqlite3_step(st) == SQLITE_ROW)
		*total = (size_t)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	return rc;
}

int inquiries_count_after(const char *state_dir, bool by_time, long long after, size_t *n,
			  struct lb_err *err)
{
	*n = 0;
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	sqlite3_stmt *st;
	rc = db_prepare(db,
			by_time ? "SELECT count(*) FROM inq_records WHERE received > ?"
				: "SELECT count(*) FROM inq_records WHERE number > ?",
			&st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	return rc;
}

/* Every row st selects (INQ_COLUMNS) into *v, *n, with their threads when
 * asked; st is finalized.  On an error nothing is kept. */
static int read_rows(sqlite3 *db, sqlite3_stmt *st, bool threads, struct inquiry **v, size_t *n,
		     struct lb_err *err)
{
	int rc = 0;
	size_t cap = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		*v = xgrowarray(*v, &cap, *n + 1, sizeof **v);
		inq_row(st, &(*v)[(*n)++]);
	}
	if (s != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	for (size_t i = 0; !rc && threads && i < *n; i++)
		rc = inq_thread_read(db, &(*v)[i], err);
	if (rc) {
		inquiries_free(*v, *n);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int inquiries_query(const char *state_dir, const struct inq_query *q, struct inquiry **v, size_t *n,
		    size_t *total, struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	if (total)
		*total = 0;
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st;
	buf_adds(&sql, "SELECT " INQ_COLUMNS " FROM inq_records");
	where(&sql, q);
	buf_adds(&sql, " ORDER BY urgent DESC, received, number");
	if (q->limit)
		buf_printf(&sql, " LIMIT %zu", q->limit);
	rc = db_prepare(db, sql.p, &st, err);
	buf_free(&sql);
	if (rc)
		return rc;
	bind_query(st, q);
	rc = read_rows(db, st, q->threads, v, n, err);
	if (!rc && total)
		rc = q->limit && *n == q->limit ? inquiries_count(state_dir, q, total, err)
						: (*total = *n, 0);
	if (rc) {
		inquiries_free(*v, *n);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int inquiries_load(const char *state_dir, struct inquiry **v, size_t *n, struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	sqlite3_stmt *st;
	rc = db_prepare(db, "SELECT " INQ_COLUMNS " FROM inq_records ORDER BY number", &st, err);
	if (rc)
		return rc;
	return read_rows(db, st, true, v, n, err);
}

/* A column's text for a read-only view of a row (inquiries_scan's fn gets
 * a const record). */
static char *view(sqlite3_stmt *st, int i)
{
	union {
		const unsigned char *c;
		char *m;
	} u = {sqlite3_column_text(st, i)};
	return u.m;
}

int inquiries_scan(const char *state_dir, int (*fn)(void *ctx, const struct inquiry *q), void *ctx,
		   struct lb_err *err)
{
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	sqlite3_stmt *st = NULL, *th = NULL;
	rc = db_prepare(db,
			"SELECT number, received, from_addr, subject, message_id, key, msg, msg_len"
			" FROM inq_records ORDER BY number",
			&st, err);
	if (!rc)
		rc = db_prepare(db, "SELECT number, entry FROM inq_thread ORDER BY number, id", &th,
				err);
	/* The two in step, by number: one pass over each table. */
	int ts = th ? sqlite3_step(th) : SQLITE_DONE;
	struct buf thread = BUF_INIT;
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct inquiry q = {0};
		q.number = (unsigned)sqlite3_column_int64(st, 0);
		q.received = (time_t)sqlite3_column_int64(st, 1);
		q.from = view(st, 2);
		q.subject = view(st, 3);
		q.message_id = view(st, 4);
		q.key = view(st, 5);
		q.msg_off = sqlite3_column_int64(st, 6);
		q.msg_len = (size_t)sqlite3_column_int64(st, 7);
		buf_reset(&thread);
		while (ts == SQLITE_ROW && (unsigned)sqlite3_column_int64(th, 0) <= q.number) {
			if ((unsigned)sqlite3_column_int64(th, 0) == q.number) {
				if (thread.n)
					buf_addc(&thread, '\n');
				buf_adds(&thread, (const char *)sqlite3_column_text(th, 1));
			}
			ts = sqlite3_step(th);
		}
		q.thread = thread.n ? thread.p : NULL;
		rc = fn(ctx, &q);
	}
	if (!rc && (s != SQLITE_DONE || (ts != SQLITE_DONE && ts != SQLITE_ROW)))
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	buf_free(&thread);
	sqlite3_finalize(st);
	sqlite3_finalize(th);
	return rc;
}

int inquiries_closed(const char *state_dir, time_t before, struct inq_closed **v, size_t *n,
		     struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	sqlite3 *db;
	int rc = reader(state_dir, &db, err);
	if (rc)
		return rc > 0 ? 0 : err->code;
	sqlite3_stmt *st;
	rc =
	    db_prepare(db,
		       "SELECT r.number, r.received, r.from_addr, (SELECT h.time FROM inq_history h"
		       " WHERE h.number = r.number AND h.what = 'status'"
		       " AND substr(h.detail, -6) = 'closed' ORDER BY h.id DESC LIMIT 1)"
		       " FROM inq_records r WHERE r.status = 'closed' ORDER BY r.number",
		       &st, err);
	if (rc)
		return rc;
	size_t cap = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		time_t when = (time_t)sqlite3_column_int64(st, 1), t;
		const char *h = (const char *)sqlite3_column_text(st, 3);
		if (h && time_parse(span_cstr(h), &t))
			when = t;
		if (when >= before)
			continue;
		*v = xgrowarray(*v, &cap, *n + 1, sizeof **v);
		(*v)[(*n)++] =
		    (struct inq_closed){(unsigned)sqlite3_column_int64(st, 0), when, col(st, 2)};
	}
	if (s != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	sqlite3_finalize(st);
	return rc;
}

void inq_closed_free(struct inq_closed *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].from);
	free(v);
}

char *inquiry_history(const char *state_dir, unsigned number)
{
	sqlite3 *db;
	struct lb_err err = {0};
	struct buf h = BUF_INIT;
	sqlite3_stmt *st;
	if (reader(state_dir, &db, &err) != 0 ||
	    db_prepare(db,
		       "SELECT time, who, what, detail FROM inq_history WHERE number = ?"
		       " ORDER BY id",
		       &st, &err) != 0)
		return buf_take(&h);
	sqlite3_bind_int64(st, 1, number);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < 4; i++) {
			const unsigned char *f = sqlite3_column_text(st, i);
			if (i)
				buf_addc(&h, '\t');
			buf_adds(&h, f ? (const char *)f : "");
		}
		buf_addc(&h, '\n');
	}
	sqlite3_finalize(st);
	return buf_take(&h);
}
