/* store/db: the indexed store's file, its settings, nested transactions and
 * a version newer than this program refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "harness.h"
#include "store/db.h"

static char dir[64];

static long long pragma(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long count(sqlite3 *db)
{
	return pragma(db, "SELECT count(*) FROM t");
}

static void test_open(void)
{
	struct lb_err err = {0};
	sqlite3 *db, *again;
	char state[128];
	snprintf(state, sizeof state, "%s/state", dir);
	CHECK_INT(db_ready(state, &err), 0); /* no state/: nothing made */
	CHECK(!fsx_exists(state));
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(db_get(state, &again, &err), 0);
	CHECK(db == again); /* one connection a state directory */
	char path[192];
	snprintf(path, sizeof path, "%s/" DB_FILE, state);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(stat(state, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	CHECK_INT(pragma(db, "PRAGMA user_version"), DB_VERSION);
	CHECK_INT(pragma(db, "PRAGMA auto_vacuum"), 2); /* incremental */
	CHECK_INT(pragma(db, "PRAGMA secure_delete"), 1);
	CHECK_INT(pragma(db, "PRAGMA synchronous"), 2); /* FULL */
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	      sqlite3_step(st) == SQLITE_ROW &&
	      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
	sqlite3_finalize(st);

	/* nested transactions: an inner rollback undoes only its own part */
	CHECK_INT(db_exec(db, "CREATE TABLE t(x)", &err), 0);
	CHECK_INT(db_begin(db, &err), 0);
	CHECK_INT(db_exec(db, "INSERT INTO t VALUES (1)", &err), 0);
	CHECK_INT(db_begin(db, &err), 0);
	CHECK_INT(db_exec(db, "INSERT INTO t VALUES (2)", &err), 0);
	db_rollback(db);
	CHECK_INT(db_begin(db, &err), 0);
	CHECK_INT(db_exec(db, "INSERT INTO t VALUES (3)", &err), 0);
	CHECK_INT(db_commit(db, &err), 0);
	CHECK(!sqlite3_get_autocommit(db)); /* the outer one is still open */
	CHECK_INT(db_commit(db, &err), 0);
	CHECK(sqlite3_get_autocommit(db));
	CHECK_INT(count(db), 2);
	/* deferred syncing: the transaction is only written */
	fsx_defer_sync(true);
	CHECK_INT(db_begin(db, &err), 0);
	CHECK_INT(db_commit(db, &err), 0);
	CHECK_INT(pragma(db, "PRAGMA synchronous"), 1); /* NORMAL */
	fsx_defer_sync(false);
	CHECK_INT(db_begin(db, &err), 0);
	CHECK_INT(db_commit(db, &err), 0);
	CHECK_INT(pragma(db, "PRAGMA synchronous"), 2);
	/* an error names the statement */
	CHECK(db_exec(db, "INSERT INTO nosuch VALUES (1)", &err) != 0);
	CHECK(strstr(err.msg, "nosuch") != NULL);
	db_done(true);

	/* reopened: the data is there */
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(count(db), 2);
	/* a database from a newer letterbox is refused, not written */
	CHECK_INT(db_exec(db, "PRAGMA user_version = 99", &err), 0);
	db_done(true);
	CHECK_INT(db_get(state, &db, &err), LB_EDATA);
	CHECK(strstr(err.msg, "newer") != NULL);
	db_done(false);
}

static long long file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* What each short-lived process (a web request) pays: opening the store
 * writes nothing, closing it neither checkpoints nor deletes the WAL, and
 * the WAL is emptied once it passes half a megabyte. */
static void test_cheap_open_close(void)
{
	struct lb_err err = {0};
	sqlite3 *db;
	char state[128], wal[192];
	snprintf(state, sizeof state, "%s/cheap", dir);
	snprintf(wal, sizeof wal, "%s/" DB_FILE "-wal", state);
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(db_exec(db, "CREATE TABLE t(x)", &err), 0);
	db_done(true);
	CHECK_INT(db_get(state, &db, &err), 0); /* the upgrade's bookkeeping ends */
	db_done(true);
	long long was = file_size(wal);
	CHECK(was > 0); /* kept, not checkpointed away at close */
	for (int i = 0; i < 3; i++) {
		CHECK_INT(db_get(state, &db, &err), 0);
		CHECK_INT(count(db), 0);
		db_done(true);
	}
	CHECK_INT(file_size(wal), was); /* three opens wrote nothing */
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(
	    db_exec(db,
		    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)"
		    " INSERT INTO t SELECT randomblob(4000) FROM n",
		    &err),
	    0);
	CHECK(file_size(wal) > 512 * 1024);
	db_done(true);
	CHECK_INT(file_size(wal), 0); /* emptied: the next process reads nothing in */
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(count(db), 200);
	db_done(true);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lb-db-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_open);
	RUN(test_cheap_open_close);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return harness_done("db");
}
