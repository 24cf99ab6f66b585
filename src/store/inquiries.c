/* The inquiry store, written: records, history, numbers, removal
 * (store/inquiries.h).  The reading side is store/inquiries_read.c. */
#include "store/inquiries.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/db.h"
#include "store/inquiries_int.h"

int inq_db(const char *state_dir, sqlite3 **db, struct lb_err *err)
{
	return db_get(state_dir, db, err);
}

/* The writing statements, kept prepared while a batch runs (inq_batch):
 * the import writes hundreds of thousands of rows, and preparing each
 * statement anew would cost more than the row. */
enum { S_PUT, S_HIST, S_NOTED, S_BLOB, S_HIGHEST, S_ENTRY, S_LAST, S_TAKEN, S_COUNT };
static struct {
	bool on;
	sqlite3_stmt *st[S_COUNT];
} batch;

void inq_batch(bool on)
{
	for (size_t i = 0; !on && i < S_COUNT; i++) {
		sqlite3_finalize(batch.st[i]);
		batch.st[i] = NULL;
	}
	batch.on = on;
}

static int prep(sqlite3 *db, int slot, const char *sql, sqlite3_stmt **st, struct lb_err *err)
{
	if (batch.on && batch.st[slot]) {
		*st = batch.st[slot];
		sqlite3_clear_bindings(*st);
		return 0;
	}
	int rc = db_prepare(db, sql, st, err);
	if (!rc && batch.on)
		batch.st[slot] = *st;
	return rc;
}

static void unprep(sqlite3_stmt *st)
{
	if (batch.on)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
}

/* Step a statement that returns no rows, and release it. */
static int done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct lb_err *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, err);
	unprep(st);
	return rc;
}

int inq_put(sqlite3 *db, const struct inquiry *q, time_t last, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(
	    db, S_PUT,
	    "INSERT INTO inq_records(" INQ_COLUMNS ", last_message)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(number) DO "
	    "UPDATE SET received=excluded.received,"
	    " from_addr=excluded.from_addr, from_name=excluded.from_name,"
	    " subject=excluded.subject, message_id=excluded.message_id, key=excluded.key,"
	    " article=excluded.article, subscriber=excluded.subscriber, status=excluded.status,"
	    " priority=excluded.priority, assignee=excluded.assignee,"
	    " unparsed=excluded.unparsed, truncated=excluded.truncated,"
	    " excerpt=excluded.excerpt, attachments=excluded.attachments,"
	    " acknowledged=excluded.acknowledged, alerted=excluded.alerted,"
	    " ack_state=excluded.ack_state, alert_state=excluded.alert_state, msg=excluded.msg,"
	    " msg_len=excluded.msg_len, copies=excluded.copies",
	    &st, err);
	if (rc)
		return rc;
	int i = 1;
	sqlite3_bind_int64(st, i++, q->number);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)q->received);
	const char *text1[] = {q->from,	      q->from_name, q->subject,
			       q->message_id, q->key,	    q->article};
	for (size_t k = 0; k < sizeof text1 / sizeof text1[0]; k++)
		db_bind_text(st, i++, text1[k]);
	sqlite3_bind_int(st, i++, q->subscriber);
	db_bind_text(st, i++, q->status);
	db_bind_text(st, i++, q->priority);
	db_bind_text(st, i++, q->assignee);
	sqlite3_bind_int(st, i++, q->unparsed);
	sqlite3_bind_int(st, i++, q->truncated);
	const char *text2[] = {q->excerpt, q->attachments, q->acknowledged,
			       q->alerted, q->ack_state,   q->alert_state};
	for (size_t k = 0; k < sizeof text2 / sizeof text2[0]; k++)
		db_bind_text(st, i++, text2[k]);
	sqlite3_bind_int64(st, i++, q->msg_off);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)q->msg_len);
	db_bind_text(st, i++, q->copies);
	sqlite3_bind_int(st, i++, (int)q->noted);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)(last ? last : q->received));
	return done(db, st, "state/" DB_FILE ": inq_records", err);
}

unsigned inq_noted_bit(const char *who, const char *what)
{
	static const struct {
		const char *what;
		unsigned bit;
	} outcomes[] = {{"acknowledged", INQ_NOTED_ACK},   {"ack-failed", INQ_NOTED_ACK},
			{"ack-uncertain", INQ_NOTED_ACK},  {"alerted", INQ_NOTED_ALERT},
			{"alert-failed", INQ_NOTED_ALERT}, {"alert-uncertain", INQ_NOTED_ALERT}};
	if (!who || !what || strcmp(who, "letterbox") != 0)
		return 0;
	for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
		if (!strcmp(what, outcomes[i].what))
			return outcomes[i].bit;
	return 0;
}

/* A field of a history line: tabs and line breaks made blanks (the line is
 * read back as tab-separated fields). */
static char *flat(const char *s)
{
	char *c = xstrdup(s ? s : "");
	for (char *p = c; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	return c;
}

int inq_put_history_text(sqlite3 *db, unsigned number, const char *time, const char *who,
			 const char *what, const char *detail, bool mark, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(db, S_HIST,
		      "INSERT INTO inq_history(number, time, who, what, detail)"
		      " VALUES (?, ?, ?, ?, ?)",
		      &st, err);
	if (rc)
		return rc;
	char *f[] = {flat(who), flat(what), flat(detail)};
	sqlite3_bind_int64(st, 1, number);
	sqlite3_bind_text(st, 2, time, -1, SQLITE_TRANSIENT);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(st, 3 + i, f[i], -1, SQLITE_TRANSIENT);
	rc = done(db, st, "state/" DB_FILE ": inq_history", err);
	unsigned bit = inq_noted_bit(f[0], f[1]);
	for (int i = 0; i < 3; i++)
		free(f[i]);
	if (!rc && bit && mark) {
		rc = db_prepare(db, "UPDATE inq_records SET noted = noted | ? WHERE number = ?",
				&st, err);
		if (!rc) {
			sqlite3_bind_int(st, 1, (int)bit);
			sqlite3_bind_int64(st, 2, number);
			rc = done(db, st, "state/" DB_FILE ": inq_records", err);
		}
	}
	return rc;
}

int inq_put_history(sqlite3 *db, unsigned number, time_t when, const char *who, const char *what,
		    const char *detail, struct lb_err *err)
{
	struct buf t = BUF_INIT;
	time_iso(&t, when);
	int rc = inq_put_history_text(db, number, t.p, who, what, detail, true, err);
	buf_free(&t);
	return rc;
}

int inq_put_blob(sqlite3 *db, unsigned number, const char *raw, size_t n, long long *id,
		 struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(db, S_BLOB, "INSERT INTO inq_blobs(number, data) VALUES (?, ?)", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	sqlite3_bind_blob64(st, 2, n ? raw : "", n, SQLITE_STATIC);
	rc = done(db, st, "state/" DB_FILE ": inq_blobs", err);
	if (!rc)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

int inq_put_highest(sqlite3 *db, unsigned n, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(db, S_HIGHEST,
		      "INSERT INTO inq_meta(key, value) VALUES ('highest', ?1)"
		      " ON CONFLICT(key) DO UPDATE SET value = max(value, ?1)",
		      &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, n);
	return done(db, st, "state/" DB_FILE ": inq_meta", err);
}

int inq_put_entry(sqlite3 *db, unsigned number, const char *entry, const char *message_id,
		  const char *key, time_t when, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(db, S_ENTRY,
		      "INSERT INTO inq_thread(number, entry, message_id, key) VALUES (?, ?, ?, ?)",
		      &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	sqlite3_bind_text(st, 2, entry, -1, SQLITE_STATIC);
	db_bind_text(st, 3, message_id && *message_id ? message_id : NULL);
	db_bind_text(st, 4, key && *key ? key : NULL);
	if ((rc = done(db, st, "state/" DB_FILE ": inq_thread", err)) != 0 || !when)
		return rc;
	rc = prep(db, S_LAST,
		  "UPDATE inq_records SET last_message = max(last_message, ?) WHERE number = ?",
		  &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)when);
	sqlite3_bind_int64(st, 2, number);
	return done(db, st, "state/" DB_FILE ": inq_records", err);
}

/* Whether number is in use. */
static int taken(sqlite3 *db, unsigned number, bool *yes, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = prep(db, S_TAKEN, "SELECT 1 FROM inq_records WHERE number = ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	int s = sqlite3_step(st);
	*yes = s == SQLITE_ROW;
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": inq_records", err);
	unprep(st);
	return rc;
}

int inquiry_file(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		 const char *history, const char *detail, struct lb_err *err)
{
	sqlite3 *db;
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	/* From q->number on, and never one given before (a purged one). */
	unsigned next = 1;
	rc = inquiries_next_number(state_dir, &next, err);
	if (q->number < next)
		q->number = next;
	for (bool yes = true; !rc && yes;)
		if (!(rc = taken(db, q->number, &yes, err)) && yes)
			q->number++;
	if (!rc)
		rc = inq_put_blob(db, q->number, raw, n, &q->msg_off, err);
	if (!rc) {
		q->msg_len = n;
		rc = inq_put(db, q, 0, err);
	}
	if (!rc)
		rc = inq_put_highest(db, q->number, err);
	if (!rc && history)
		rc = inq_put_history(db, q->number, q->received, "letterbox", history, detail, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int inquiry_save(const char *state_dir, const struct inquiry *q, struct lb_err *err)
{
	return inquiry_save_noted(state_dir, q, 0, NULL, NULL, NULL, err);
}

int inquiry_save_noted(const char *state_dir, const struct inquiry *q, time_t when, const char *who,
		       const char *what, const char *detail, struct lb_err *err)
{
	sqlite3 *db;
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	rc = inq_put(db, q, 0, err);
	if (!rc)
		rc = inq_put_highest(db, q->number, err);
	if (!rc && what)
		rc = inq_put_history(db, q->number, when, who, what, detail, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int inquiry_history_add(const char *state_dir, unsigned number, time_t when, const char *who,
			const char *what, const char *detail, struct lb_err *err)
{
	sqlite3 *db;
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	rc = inq_put_history(db, number, when, who, what, detail, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

void inquiry_free(struct inquiry *q)
{
	char **all[] = {&q->from,    &q->from_name,   &q->subject,	&q->message_id,
			&q->article, &q->status,      &q->priority,	&q->assignee,
			&q->excerpt, &q->attachments, &q->acknowledged, &q->alerted,
			&q->copies,  &q->ack_state,   &q->alert_state,	&q->key,
			&q->thread};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(*all[i]);
	memset(q, 0, sizeof *q);
}

void inquiries_free(struct inquiry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		inquiry_free(&v[i]);
	free(v);
}

bool inquiry_is_urgent(const struct inquiry *q)
{
	return q->priority && q->priority[0] == 'u' && strcmp(q->priority, "urgent") == 0;
}

bool inquiry_is_waiting(const struct inquiry *q)
{
	return q->status && (!strcmp(q->status, "new") || !strcmp(q->status, "open"));
}

int inquiry_cmp_triage(const void *a, const void *b)
{
	const struct inquiry *x = a, *y = b;
	int ux = inquiry_is_urgent(x), uy = inquiry_is_urgent(y);
	if (ux != uy)
		return uy - ux;
	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* ---- removal ----------------------------------------------------------------------------------
 */

int inquiries_remove(const char *state_dir, const unsigned *numbers, size_t count,
		     struct lb_err *err)
{
	static const char *const sql[] = {
	    "DELETE FROM inq_blobs WHERE number = ?", "DELETE FROM inq_thread WHERE number = ?",
	    "DELETE FROM inq_history WHERE number = ?", "DELETE FROM inq_records WHERE number = ?"};
	enum { NSQL = sizeof sql / sizeof sql[0] };
	sqlite3 *db;
	sqlite3_stmt *st[NSQL] = {0};
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	for (size_t i = 0; !rc && i < NSQL; i++)
		rc = db_prepare(db, sql[i], &st[i], err);
	/* Each by its index: what this costs is what goes, not what stays. */
	for (size_t k = 0; !rc && k < count; k++)
		for (size_t i = 0; !rc && i < NSQL; i++) {
			sqlite3_reset(st[i]);
			sqlite3_bind_int64(st[i], 1, numbers[k]);
			if (sqlite3_step(st[i]) != SQLITE_DONE)
				rc = db_fail(db, "state/" DB_FILE ": removing inquiries", err);
		}
	for (size_t i = 0; i < NSQL; i++)
		sqlite3_finalize(st[i]);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	rc = db_commit(db, err);
	/* The freed pages (already overwritten: secure_delete) go back to the
	 * file system. */
	if (!rc)
		rc = db_reclaim(db, err);
	return rc;
}

int inquiry_remove(const char *state_dir, unsigned number, struct lb_err *err)
{
	struct inquiry q = {0};
	int rc = inquiry_load(state_dir, number, &q, err);
	inquiry_free(&q);
	return rc ? rc : inquiries_remove(state_dir, &number, 1, err);
}

/* ---- the lock
 * ------------------------------------------------------------------------------------
 */

int inquiries_lock(const char *state_dir, int *fd, struct lb_err *err)
{
	*fd = -1;
	char *p = path_join(state_dir, "lock.inquiries");
	int rc = fsx_mkdirs(state_dir, 0700, err);
	if (!rc)
		rc = fsx_lock(p, true, fd, err);
	free(p);
	return rc;
}

int inquiry_lock_load(const char *state_dir, unsigned number, int *fd, struct inquiry *q,
		      struct lb_err *err)
{
	memset(q, 0, sizeof *q);
	int rc = inquiries_lock(state_dir, fd, err);
	if (rc)
		return rc;
	struct lb_err e = {0};
	rc = inquiry_load(state_dir, number, q, &e);
	if (rc == LB_EDATA) /* "there is no inquiry N": gone */
		return 0;
	if (rc)
		*err = e;
	return rc;
}

void inquiry_history_fields(char *line, char *f[4])
{
	f[0] = line;
	for (int i = 1; i < 4; i++) {
		char *tab = strchr(f[i - 1], '\t');
		if (tab)
			*tab = '\0';
		f[i] = tab ? tab + 1 : f[i - 1] + strlen(f[i - 1]);
	}
}
