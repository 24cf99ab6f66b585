/* The inquiry store's own pieces, shared by store/inquiries.c (writing,
 * removal), store/inquiries_read.c (reading, the queries),
 * store/conversation.c (the messages of a conversation, reply copies) and
 * store/inquiries_import.c (the files of the release before the database).
 * Not for use outside src/store/. */
#ifndef LB_INQUIRIES_INT_H
#define LB_INQUIRIES_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/inquiries.h"

/* The inquiry area's tables (store/db_schema.c):
 *   inq_records  one row an inquiry: struct inquiry's fields; msg is the
 *                inq_blobs row of its first message; waiting and urgent are
 *                derived (status new/open, priority urgent) for the triage
 *                index; noted the INQ_NOTED_* bits of the history;
 *                last_message when its conversation last had a message
 *   inq_history  its history lines, in the order written
 *   inq_thread   its conversation (store/conversation.h): one entry a row,
 *                the entry's text as the thread has it (OFF: an inq_blobs
 *                id), with the Message-ID and dedupe key of the message
 *                for look-ups
 *   inq_blobs    raw messages and reply copies, by inquiry
 *   inq_meta     "highest": the highest number ever given (purging the
 *                highest must not give its number again) */
#define INQ_SCHEMA                                                                                 \
	"CREATE TABLE IF NOT EXISTS inq_records(number INTEGER PRIMARY KEY,"                       \
	" received INTEGER NOT NULL, from_addr TEXT, from_name TEXT, subject TEXT,"                \
	" message_id TEXT, key TEXT, article TEXT, subscriber INTEGER NOT NULL DEFAULT 0,"         \
	" status TEXT, priority TEXT, assignee TEXT, unparsed INTEGER NOT NULL DEFAULT 0,"         \
	" truncated INTEGER NOT NULL DEFAULT 0, excerpt TEXT, attachments TEXT,"                   \
	" acknowledged TEXT, alerted TEXT, ack_state TEXT, alert_state TEXT,"                      \
	" msg INTEGER, msg_len INTEGER NOT NULL DEFAULT 0, copies TEXT,"                           \
	" noted INTEGER NOT NULL DEFAULT 0, last_message INTEGER NOT NULL DEFAULT 0,"              \
	" waiting INTEGER GENERATED ALWAYS AS (coalesce(status IN ('new','open'),0)) VIRTUAL,"     \
	" urgent INTEGER GENERATED ALWAYS AS (coalesce(priority = 'urgent',0)) VIRTUAL);"          \
	"CREATE INDEX IF NOT EXISTS inq_records_waiting"                                           \
	" ON inq_records(waiting, urgent DESC, received, number);"                                 \
	"CREATE INDEX IF NOT EXISTS inq_records_status"                                            \
	" ON inq_records(status, urgent DESC, received, number);"                                  \
	"CREATE INDEX IF NOT EXISTS inq_records_message_id ON inq_records(message_id);"            \
	"CREATE INDEX IF NOT EXISTS inq_records_key ON inq_records(key);"                          \
	"CREATE INDEX IF NOT EXISTS inq_records_from ON inq_records(from_addr);"                   \
	"CREATE TABLE IF NOT EXISTS inq_history(id INTEGER PRIMARY KEY, number INTEGER NOT NULL,"  \
	" time TEXT NOT NULL, who TEXT, what TEXT, detail TEXT);"                                  \
	"CREATE INDEX IF NOT EXISTS inq_history_number ON inq_history(number, id);"                \
	"CREATE TABLE IF NOT EXISTS inq_thread(id INTEGER PRIMARY KEY, number INTEGER NOT NULL,"   \
	" entry TEXT NOT NULL, message_id TEXT, key TEXT);"                                        \
	"CREATE INDEX IF NOT EXISTS inq_thread_number ON inq_thread(number, id);"                  \
	"CREATE INDEX IF NOT EXISTS inq_thread_message_id ON inq_thread(message_id);"              \
	"CREATE TABLE IF NOT EXISTS inq_blobs(id INTEGER PRIMARY KEY, number INTEGER NOT NULL,"    \
	" data BLOB NOT NULL);"                                                                    \
	"CREATE INDEX IF NOT EXISTS inq_blobs_number ON inq_blobs(number);"                        \
	"CREATE TABLE IF NOT EXISTS inq_meta(key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;"

/* inq_records' columns as inq_row reads them, from the first. */
#define INQ_COLUMNS                                                                                \
	"number, received, from_addr, from_name, subject, message_id, key, article,"               \
	" subscriber, status, priority, assignee, unparsed, truncated, excerpt, attachments,"      \
	" acknowledged, alerted, ack_state, alert_state, msg, msg_len, copies, noted"

/* The process's connection to state_dir's database (store/db.h). */
int inq_db(const char *state_dir, sqlite3 **db, struct lb_err *err);
/* A row of INQ_COLUMNS (from column 0) into *q (its thread not read). */
void inq_row(sqlite3_stmt *st, struct inquiry *q);
/* q->thread from inq_thread. */
int inq_thread_read(sqlite3 *db, struct inquiry *q, struct lb_err *err);

/* Insert or replace q's record.  A new one gets q->noted and last_message
 * last (0: q->received); a new version keeps the stored ones. */
int inq_put(sqlite3 *db, const struct inquiry *q, time_t last, struct lb_err *err);
/* A history line; a letterbox entry on an outcome sets its INQ_NOTED_* bit. */
int inq_put_history(sqlite3 *db, unsigned number, time_t when, const char *who, const char *what,
		    const char *detail, struct lb_err *err);
/* A history line as the old log had it: its time as text; mark: set the
 * record's INQ_NOTED_* bit for it (the import sets them with the record). */
int inq_put_history_text(sqlite3 *db, unsigned number, const char *time, const char *who,
			 const char *what, const char *detail, bool mark, struct lb_err *err);
/* A thread entry (its text; message_id and key for look-ups may be NULL);
 * when (0: not) moves the record's last_message. */
int inq_put_entry(sqlite3 *db, unsigned number, const char *entry, const char *message_id,
		  const char *key, time_t when, struct lb_err *err);
/* Store raw as number's; *id receives its row. */
int inq_put_blob(sqlite3 *db, unsigned number, const char *raw, size_t n, long long *id,
		 struct lb_err *err);
/* Read blob id (of length len: a check), appending to out. */
int inq_read_blob(const char *state_dir, long long id, size_t len, struct buf *out,
		  struct lb_err *err);
/* The highest number ever given goes up to n. */
int inq_put_highest(sqlite3 *db, unsigned n, struct lb_err *err);

/* Keep the writing statements prepared from now on (on), or finalize them
 * (off): for the import's many rows, before the connection closes. */
void inq_batch(bool on);

/* The INQ_NOTED_* bit of a history entry (who, what), or 0. */
unsigned inq_noted_bit(const char *who, const char *what);

/* The area's import (db.h): state_dir/inquiries/log and its messages file,
 * as the release before the database wrote them. */
int inquiries_import(sqlite3 *db, const char *state_dir, struct lb_err *err);

#endif
