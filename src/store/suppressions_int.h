/* What suppressions.c shares with pending.c (the unconfirmed reports),
 * signup.c (the consent records) and suppressions_import.c (the files kept
 * before the indexed store).  Not for modules outside src/store/.
 *
 * The tables (area "sup", db_schema.c), every record ever written kept, in
 * the order written (seq):
 *   sup_records   the suppressions log: seq, at, reason, address, key,
 *                 evidence; the current state of an address is its latest
 *                 record
 *   sup_current   per key: its first record's seq (the rowid: the list's
 *                 order, first suppressed), its latest record's and reason,
 *                 kept by a trigger on every insert (so an import and a
 *                 write cannot disagree): a check is one probe of a
 *                 covering index, the list one pass without a sort
 *   sup_pending   the pending reports, the same columns
 *   sup_consent   the consent records (signup.h)
 *   sup_signup    the sign-up limits' hits of the last day (signup.h)
 */
#ifndef LB_SUPPRESSIONS_INT_H
#define LB_SUPPRESSIONS_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/strset.h"
#include "store/suppressions.h"

#define SUP_SCHEMA                                                                                 \
	"CREATE TABLE IF NOT EXISTS sup_records(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"     \
	" reason TEXT NOT NULL, address TEXT NOT NULL, key TEXT NOT NULL, evidence TEXT NOT "      \
	"NULL);"                                                                                   \
	"CREATE INDEX IF NOT EXISTS sup_records_key ON sup_records(key, seq);"                     \
	"CREATE TABLE IF NOT EXISTS sup_current(first INTEGER PRIMARY KEY, key TEXT NOT NULL,"     \
	" last INTEGER NOT NULL, reason TEXT NOT NULL);"                                           \
	"CREATE UNIQUE INDEX IF NOT EXISTS sup_current_key ON sup_current(key);"                   \
	"CREATE TRIGGER IF NOT EXISTS sup_records_current AFTER INSERT ON sup_records BEGIN"       \
	" INSERT INTO sup_current(key, first, last, reason)"                                       \
	" VALUES (NEW.key, NEW.seq, NEW.seq, NEW.reason)"                                          \
	" ON CONFLICT(key) DO UPDATE SET last = excluded.last, reason = excluded.reason; END;"     \
	"CREATE TABLE IF NOT EXISTS sup_pending(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"     \
	" reason TEXT NOT NULL, address TEXT NOT NULL, key TEXT NOT NULL, evidence TEXT NOT "      \
	"NULL);"                                                                                   \
	"CREATE INDEX IF NOT EXISTS sup_pending_key ON sup_pending(key, seq);"                     \
	"CREATE TABLE IF NOT EXISTS sup_consent(seq INTEGER PRIMARY KEY,"                          \
	" confirmed INTEGER NOT NULL, requested INTEGER NOT NULL, source TEXT NOT NULL,"           \
	" list TEXT NOT NULL, address TEXT NOT NULL, key TEXT NOT NULL,"                           \
	" ip_request TEXT NOT NULL, ip_confirm TEXT NOT NULL, hash TEXT NOT NULL);"                \
	"CREATE INDEX IF NOT EXISTS sup_consent_key ON sup_consent(key, list, requested);"         \
	"CREATE TABLE IF NOT EXISTS sup_signup(at INTEGER NOT NULL, kind TEXT NOT NULL,"           \
	" who TEXT NOT NULL);"                                                                     \
	"CREATE INDEX IF NOT EXISTS sup_signup_who ON sup_signup(kind, who, at);"

/* A record handed out: the public part first, its strings after it. */
struct sup_rec {
	struct suppression pub;
	int64_t seq;
	struct sup_rec *next; /* every record handed out, freed with the handle */
};

struct sup_stmts {
	sqlite3_stmt *reason, *latest, *insert, *p_latest, *p_insert;
};

/* The handle: the connection (NULL while state/ does not exist: nothing is
 * suppressed yet), its statements, and the records handed out. */
struct sup_handle {
	char *dir;
	sqlite3 *db;
	struct sup_stmts st;
	struct strset cache, p_cache; /* key -> the latest sup_rec handed out */
	struct sup_rec *recs;
	const struct suppression **view, **p_view;
	struct buf key; /* scratch for lower-casing */
	bool failed;	/* a look-up failed (logged) */
};

struct suppressions {
	struct sup_handle *h; /* what const accessors may still change */
};

/* "2026-11-25T17:35:00Z" */
bool sup_parse_when(struct span t, time_t *out);
/* Evidence as one line of at most 500 bytes (appended to out). */
void sup_sanitise(struct buf *out, const char *in);
/* The address parsed into a (caller frees with addr_free, also on error)
 * and the evidence, sanitised, into ev.  LB_EDATA for an address that is not
 * one or holds a control character. */
int sup_prepare(struct buf *ev, struct addr *a, const char *address, const char *evidence,
		struct lb_err *err);
/* The look-up key of an address: lower-cased ASCII (h's scratch). */
const char *sup_key(struct sup_handle *h, const char *address);
/* The connection, opened (state/ made) when needed for a write. */
int sup_db(struct sup_handle *h, struct lb_err *err);
/* A record from a statement's row (seq, at, reason, address, key,
 * evidence), kept in h until the handle is freed; the same record as last
 * time for its key (same seq) when cache has it. */
struct sup_rec *sup_rec_of(struct sup_handle *h, struct strset *cache, sqlite3_stmt *st);
/* Insert one record (at, reason, address, key, evidence) with ins, in its
 * own transaction, durable when it returns. */
int sup_insert(sqlite3 *db, sqlite3_stmt *ins, time_t when, enum sup_reason reason,
	       const char *address, const char *key, const char *evidence, struct lb_err *err);
/* When the latest suppression record of address was written, a lift
 * (resubscribed) included; false when there is none. */
bool sup_last_record(const struct suppressions *s, const char *address, time_t *when);
void sup_lookup_failed(struct sup_handle *h, const char *what);
/* 1: h->db is open; 0: no state/ yet (nothing recorded); -1: it cannot be
 * opened (logged once). */
int sup_have_db(struct sup_handle *h);

/* suppressions_import.c: the area's import (db_schema.c). */
int sup_import(sqlite3 *db, const char *state_dir, struct lb_err *err);
extern const char *const sup_old_files[];

#endif
