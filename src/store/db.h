/* The indexed store: what is queried lives in state/letterbox.db, one SQLite
 * database in WAL mode, so that cron's `poll`, a staff command and the web's
 * requests each cost O(log N) and run at once.
 *
 *   journal_mode=WAL     readers never wait for the writer, nor it for them
 *   synchronous=FULL     a commit is on disk when db_commit returns; while
 *                        the process defers syncing (fsx_defer_sync) a
 *                        commit is only written, and fsx_commit's syncfs
 *                        makes it durable with the rest of the batch
 *   busy_timeout         a writer waits for another writer (10 s) instead
 *                        of failing at once
 *   secure_delete=ON     deleted rows (purged inquiries) are overwritten,
 *   auto_vacuum=INCREMENTAL  and their pages given back with db_reclaim
 *   foreign_keys=ON
 * The file and its -wal/-shm are 0600 (0660 in shared-group mode, fsx.h).
 *
 * Each part of the store is an *area* (db_schema.c): its tables, and the
 * import of the files it kept before this database existed.  db_ready()
 * upgrades a site on the first command that opens it: under state/lock.db,
 * in one transaction, every area's tables are made and its old files read
 * in; after the commit the old files are renamed NAME.pre-N (N: the version
 * they were read into), and the next successful command removes them
 * (db_done).  A kill at any point leaves either the old files in place and
 * no tables (the transaction is rolled back) or the tables committed and the
 * renames still to do, which the next db_ready finishes: nothing is read in
 * twice, nothing is lost.
 *
 * The schema's version is PRAGMA user_version (DB_VERSION).  A database
 * newer than this program is refused (LB_EDATA), never written.
 *
 * One connection per state directory and process, opened on first use and
 * kept (db_get); the store's modules share it, so a caller can wrap several
 * of their changes in one transaction (db_begin/db_commit nest: an inner
 * pair is a SAVEPOINT).
 */
#ifndef LB_DB_H
#define LB_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define DB_FILE	   "letterbox.db"
#define DB_VERSION 1

/* The connection to state_dir's database, opened (state_dir created 0700
 * when missing) and upgraded (db_ready) on first use in this process. */
int db_get(const char *state_dir, sqlite3 **db, struct lb_err *err);
/* Open and upgrade state_dir's database if state_dir exists (a command that
 * only reads finds "nothing yet" without one being made). */
int db_ready(const char *state_dir, struct lb_err *err);
/* At the end of a command: when ok, remove the old files an earlier run's
 * upgrade kept (NAME.pre-N).  Closes every connection. */
void db_done(bool ok);

/* Transactions.  db_begin takes the write lock at once (BEGIN IMMEDIATE),
 * waiting up to the busy timeout for another writer; nested calls make
 * savepoints.  db_rollback undoes the innermost level. */
int db_begin(sqlite3 *db, struct lb_err *err);
int db_commit(sqlite3 *db, struct lb_err *err);
void db_rollback(sqlite3 *db);

/* Run SQL without results (several statements may be given). */
int db_exec(sqlite3 *db, const char *sql, struct lb_err *err);
/* Prepare a statement; errors name the SQL's first words. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct lb_err *err);
/* Set err from the connection's last error: "what: SQLite's message", with
 * LB_ETEMP for a busy or locked database, LB_EIO for I/O and full-disk
 * errors, LB_EDATA for a corrupt one, else LB_ESOFTWARE.  Returns the code. */
int db_fail(sqlite3 *db, const char *what, struct lb_err *err);

/* Give freed pages back to the file system and empty the WAL (after a
 * purge: no copy of what was deleted is left in either file). */
int db_reclaim(sqlite3 *db, struct lb_err *err);

/* Binding text that may be NULL: NULL binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* A column's text copied (NULL for SQL NULL); caller frees. */
char *db_column_dup(sqlite3_stmt *st, int i);

/* An area of the store (db_schema.c's table lists them). */
struct db_area {
	const char *name;
	/* CREATE TABLE / CREATE INDEX statements of this version. */
	const char *schema;
	/* Read the files kept before the database into the new tables, inside
	 * the upgrade's transaction; NULL when there is nothing to read.  An
	 * error aborts the upgrade (nothing changes on disk). */
	int (*import)(sqlite3 *db, const char *state_dir, struct lb_err *err);
	/* Those files and directories, relative to state_dir, NULL-terminated:
	 * renamed NAME.pre-N after the upgrade commits. */
	const char *const *old_files;
};
extern const struct db_area db_areas[];
extern const size_t db_area_count;

#endif
