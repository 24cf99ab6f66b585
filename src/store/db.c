/* The indexed store's connection, transactions and upgrade (db.h). */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crash.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"

#define BUSY_MS	       10000
#define WAL_TRIM_BYTES (512 * 1024)

/* One open database per state directory (a process rarely has more than
 * one site; a few slots suffice). */
struct conn {
	char *state_dir;
	sqlite3 *db;
	int depth;     /* transaction nesting */
	bool unsynced; /* synchronous=NORMAL (fsx_sync_deferred) */
	bool upgraded; /* this process upgraded it: its .pre files stay */
};
static struct conn conns[4];

/* Crash points here (core/crash.h): upgrade-imported (the old files read
 * in, not committed), upgrade-committed (committed, nothing renamed) and
 * upgrade-renamed (one old file renamed). */

static struct conn *conn_of(const sqlite3 *db)
{
	for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++)
		if (conns[i].db == db)
			return &conns[i];
	return NULL;
}

int db_fail(sqlite3 *db, const char *what, struct lb_err *err)
{
	int e = db ? sqlite3_errcode(db) : SQLITE_CANTOPEN;
	int code;
	switch (e & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = LB_ETEMP;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		code = LB_EIO;
		break;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = LB_ENOPERM;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = LB_EDATA;
		break;
	default:
		code = LB_ESOFTWARE;
	}
	return err_set(err, code, "%s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

int db_exec(sqlite3 *db, const char *sql, struct lb_err *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		char what[48];
		snprintf(what, sizeof what, "%s" DB_FILE ": %.24s", "state/", sql);
		return db_fail(db, what, err);
	}
	return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct lb_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		char what[48];
		snprintf(what, sizeof what, "state/" DB_FILE ": %.24s", sql);
		return db_fail(db, what, err);
	}
	return 0;
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

char *db_column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static int int_pragma(sqlite3 *db, const char *sql, long long *v, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, "state/" DB_FILE, err);
	} else {
		*v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc;
}

int db_begin(sqlite3 *db, struct lb_err *err)
{
	struct conn *c = conn_of(db);
	if (c && c->depth > 0) {
		char sql[32];
		snprintf(sql, sizeof sql, "SAVEPOINT s%d", c->depth);
		int rc = db_exec(db, sql, err);
		if (!rc)
			c->depth++;
		return rc;
	}
	/* Follow fsx's deferred syncing: a batch is made durable by its
	 * fsx_commit (syncfs), not by each transaction. */
	bool unsynced = fsx_sync_deferred();
	if (c && c->unsynced != unsynced) {
		int rc = db_exec(
		    db, unsynced ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", err);
		if (rc)
			return rc;
		c->unsynced = unsynced;
	}
	int rc = db_exec(db, "BEGIN IMMEDIATE", err);
	if (!rc && c)
		c->depth = 1;
	return rc;
}

int db_commit(sqlite3 *db, struct lb_err *err)
{
	struct conn *c = conn_of(db);
	if (c && c->depth > 1) {
		char sql[32];
		snprintf(sql, sizeof sql, "RELEASE s%d", c->depth - 1);
		int rc = db_exec(db, sql, err);
		c->depth--;
		return rc;
	}
	int rc = db_exec(db, "COMMIT", err);
	if (rc) {
		/* A failed COMMIT (disk full) leaves the transaction open:
		 * undo it, so that nothing half-done is committed later. */
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (c)
		c->depth = 0;
	return rc;
}

void db_rollback(sqlite3 *db)
{
	struct conn *c = conn_of(db);
	if (c && c->depth > 1) {
		char sql[64];
		snprintf(sql, sizeof sql, "ROLLBACK TO s%d; RELEASE s%d", c->depth - 1,
			 c->depth - 1);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		c->depth--;
		return;
	}
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (c)
		c->depth = 0;
}

int db_reclaim(sqlite3 *db, struct lb_err *err)
{
	int rc = db_exec(db, "PRAGMA incremental_vacuum", err);
	/* The WAL still holds earlier versions of the pages (the purged
	 * messages among them): moved into the database, overwritten there by
	 * secure_delete, and the WAL emptied.  A reader in the way makes it
	 * wait (the busy timeout); one still there after it leaves the WAL to
	 * the next emptying (db_done), with a warning. */
	if (!rc && sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
		       SQLITE_OK)
		log_warn("state/" DB_FILE ": the WAL could not be emptied now: %s",
			 sqlite3_errmsg(db));
	return rc;
}

/* ---- the upgrade ------------------------------------------------------------------------------
 */

static char *pre_name(const char *state_dir, const char *name, int version)
{
	char *p = path_join(state_dir, name);
	size_t n = strlen(p) + 16;
	char *q = xmalloc(n);
	snprintf(q, n, "%s.pre-%d", p, version);
	free(p);
	return q;
}

static int meta_get(sqlite3 *db, const char *key, long long *v)
{
	sqlite3_stmt *st;
	*v = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int meta_set(sqlite3 *db, const char *key, long long v, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc =
	    db_prepare(db, "INSERT OR REPLACE INTO store_meta(key, value) VALUES (?, ?)", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": store_meta", err);
	sqlite3_finalize(st);
	return rc;
}

/* Rename the old files the upgrade to version read in (those still there). */
static int rename_old(sqlite3 *db, const char *state_dir, int version, struct lb_err *err)
{
	for (size_t a = 0; a < db_area_count; a++) {
		const char *const *f = db_areas[a].old_files;
		for (; f && *f; f++) {
			char *from = path_join(state_dir, *f);
			char *to = pre_name(state_dir, *f, version);
			int rc = 0;
			if (rename(from, to) < 0) {
				if (errno != ENOENT)
					rc = err_sys(err, LB_EIO, "rename %s", from);
			} else {
				crash_point("upgrade-renamed");
			}
			free(from);
			free(to);
			if (rc)
				return rc;
		}
	}
	int rc = fsx_sync_dir(state_dir, err);
	if (!rc)
		rc = meta_set(db, "renames_pending", 0, err);
	if (!rc)
		rc = meta_set(db, "pre_files", version, err);
	return rc;
}

static int upgrade(sqlite3 *db, const char *state_dir, long long from, struct lb_err *err)
{
	int rc = db_begin(db, err);
	if (rc)
		return rc;
	for (size_t a = 0; !rc && a < db_area_count; a++)
		rc = db_exec(db, db_areas[a].schema, err);
	/* Only a database made now reads the old files in. */
	for (size_t a = 0; !rc && from == 0 && a < db_area_count; a++)
		if (db_areas[a].import) {
			rc = db_areas[a].import(db, state_dir, err);
			if (rc)
				err_prefix(err, "upgrading state/ (%s)", db_areas[a].name);
		}
	if (!rc) {
		crash_point("upgrade-imported");
		rc = meta_set(db, "renames_pending", DB_VERSION, err);
	}
	if (!rc) {
		char sql[48];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_VERSION);
		rc = db_exec(db, sql, err);
	}
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

static int ready(struct conn *c, struct lb_err *err)
{
	sqlite3 *db = c->db;
	long long version = 0;
	int rc = int_pragma(db, "PRAGMA user_version", &version, err);
	if (rc)
		return rc;
	if (version > DB_VERSION)
		return err_set(err, LB_EDATA,
			       "%s/" DB_FILE ": version %lld, newer than this letterbox knows (%d):"
			       " upgrade letterbox",
			       c->state_dir, version, DB_VERSION);
	if (version < DB_VERSION) {
		/* One process upgrades; the others wait for it here. */
		char *lock = path_join(c->state_dir, "lock.db");
		int fd = -1;
		rc = fsx_lock(lock, true, &fd, err);
		free(lock);
		if (!rc)
			rc = int_pragma(db, "PRAGMA user_version", &version, err);
		if (!rc && version < DB_VERSION) {
			/* The upgrade is durable before any old file is renamed,
			 * even in a process that defers syncing (poll's batch). */
			bool deferred = fsx_sync_deferred();
			fsx_defer_sync(false);
			rc = upgrade(db, c->state_dir, version, err);
			fsx_defer_sync(deferred);
			if (!rc) {
				c->upgraded = true;
				crash_point("upgrade-committed");
			}
		}
		if (fd >= 0)
			close(fd);
		if (rc)
			return rc;
	}
	long long pending = 0;
	if (meta_get(db, "renames_pending", &pending) == 0 && pending > 0) {
		/* An upgrade killed before its renames: finished here, and the
		 * old files kept, as after any upgrade, until the next run. */
		bool deferred = fsx_sync_deferred();
		fsx_defer_sync(false);
		rc = rename_old(db, c->state_dir, (int)pending, err);
		fsx_defer_sync(deferred);
		c->upgraded = true;
	}
	return rc;
}

static int open_db(struct conn *c, struct lb_err *err)
{
	int rc = fsx_state_dir(c->state_dir, err);
	if (rc)
		return rc;
	char *path = path_join(c->state_dir, DB_FILE);
	/* Made here, so that it (and the -wal and -shm SQLite gives the same
	 * mode) has state/'s mode, whatever the umask. */
	int fd = fsx_open_state(path, O_RDWR | O_CREAT, fsx_mode(0600), err);
	if (fd < 0) {
		free(path);
		return err->code;
	}
	close(fd);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_EXRESCODE;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		rc = db_fail(c->db, path, err);
		sqlite3_close(c->db);
		c->db = NULL;
		free(path);
		return rc;
	}
	free(path);
	sqlite3_busy_timeout(c->db, BUSY_MS);
	/* A web request is a process of its own and often the database's only
	 * connection: were the last connection to checkpoint and delete the
	 * WAL at close, each request would pay for a checkpoint and a new WAL
	 * (six syncs instead of its commit's one).  The WAL stays (a commit is
	 * as durable); db_done empties it now and then (trim_wal). */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	/* auto_vacuum first: it can only change before the first table.  Set
	 * only when it is not yet: setting it writes (and syncs) the header,
	 * a cost every web request would pay. */
	long long vacuum = 0;
	rc = int_pragma(c->db, "PRAGMA auto_vacuum", &vacuum, err);
	if (!rc && vacuum != 2)
		rc = db_exec(c->db, "PRAGMA auto_vacuum=INCREMENTAL", err);
	if (!rc)
		rc = db_exec(c->db,
			     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			     " PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON",
			     err);
	if (!rc)
		rc = ready(c, err);
	if (rc) {
		sqlite3_close(c->db);
		c->db = NULL;
	}
	return rc;
}

int db_get(const char *state_dir, sqlite3 **db, struct lb_err *err)
{
	struct conn *free_slot = NULL;
	for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++) {
		if (conns[i].db && strcmp(conns[i].state_dir, state_dir) == 0) {
			*db = conns[i].db;
			return 0;
		}
		if (!conns[i].db && !free_slot)
			free_slot = &conns[i];
	}
	if (!free_slot)
		return err_set(err, LB_ESOFTWARE, "too many state directories open");
	free(free_slot->state_dir);
	*free_slot = (struct conn){.state_dir = xstrdup(state_dir)};
	int rc = open_db(free_slot, err);
	if (rc)
		return rc;
	*db = free_slot->db;
	return 0;
}

int db_ready(const char *state_dir, struct lb_err *err)
{
	if (!fsx_exists(state_dir))
		return 0;
	sqlite3 *db;
	return db_get(state_dir, &db, err);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Remove the old files an earlier run's upgrade kept. */
static void remove_pre(struct conn *c)
{
	long long version = 0;
	if (meta_get(c->db, "pre_files", &version) || version <= 0)
		return;
	for (size_t a = 0; a < db_area_count; a++)
		for (const char *const *f = db_areas[a].old_files; f && *f; f++) {
			char *p = pre_name(c->state_dir, *f, (int)version);
			if (fsx_exists(p))
				nftw(p, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
			free(p);
		}
	struct lb_err err = {0};
	if (meta_set(c->db, "pre_files", 0, &err))
		log_warn("%s", err.msg);
}

/* Leave the WAL short for the next process: one that opens the store while
 * no other process has it open reads the whole WAL in first (SQLite resets
 * the -shm then), so once the WAL holds more than WAL_TRIM_BYTES its pages
 * are moved into the database and it is emptied: at once or not at all
 * (another process in a transaction: a later close does it). */
static void trim_wal(struct conn *c)
{
	char *wal = path_join(c->state_dir, DB_FILE "-wal");
	struct stat st;
	if (lstat(wal, &st) == 0 && st.st_size > WAL_TRIM_BYTES) {
		sqlite3_busy_timeout(c->db, 0);
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	free(wal);
}

void db_done(bool ok)
{
	for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++) {
		struct conn *c = &conns[i];
		if (c->db) {
			if (ok && !c->upgraded && c->depth == 0)
				remove_pre(c);
			if (c->depth)
				db_rollback(c->db);
			trim_wal(c);
			sqlite3_close(c->db);
		}
		free(c->state_dir);
		*c = (struct conn){0};
	}
}
