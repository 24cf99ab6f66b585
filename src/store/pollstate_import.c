/* The poll area of the indexed store: its tables, and the import of the
 * files the release before the database kept (pollstate_import.h). */
#include "store/pollstate_import.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "store/pollstate.h"

const char pollstate_schema[] =
    "CREATE TABLE IF NOT EXISTS poll_seen(key TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " at INTEGER NOT NULL, ref TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS poll_seen_legacy(key TEXT NOT NULL, ref TEXT NOT NULL,"
    " kind TEXT NOT NULL, PRIMARY KEY(key, ref)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS poll_cursors(mailbox TEXT PRIMARY KEY,"
    " uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS poll_soft_bounces(address TEXT NOT NULL, key TEXT NOT NULL,"
    " at INTEGER NOT NULL, PRIMARY KEY(address, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS poll_soft_bounces_at ON poll_soft_bounces(address, at);"
    "CREATE TABLE IF NOT EXISTS poll_acks(hash TEXT NOT NULL, inquiry INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS poll_acks_hash ON poll_acks(hash, at);"
    "CREATE INDEX IF NOT EXISTS poll_acks_inquiry ON poll_acks(inquiry);"
    "CREATE INDEX IF NOT EXISTS poll_acks_at ON poll_acks(at);";

/* state/poll/ (seen, cursor.*, soft-bounces) and state/acknowledged.  The
 * poll lock (state/lock.poll) stays: one poll at a time. */
const char *const pollstate_old_files[] = {"poll", "acknowledged", NULL};

/* A log's complete lines, one at a time; a torn last line (no newline) is
 * not a record, as the release read it.  Streamed: a log of a million
 * records is read in flat memory. */
typedef int (*line_fn)(sqlite3 *db, sqlite3_stmt **st, char *line, struct lb_err *err);

static int each_line(sqlite3 *db, const char *path, sqlite3_stmt **st, line_fn fn,
		     struct lb_err *err)
{
	/* Not there: nothing to read.  There but unreadable: an error (taken
	 * for empty, every message would be filed again). */
	int fd = fsx_open_state(path, O_RDONLY, 0, err);
	if (fd < 0)
		return err->code == LB_ENOINPUT ? 0 : err->code;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return err_sys(err, LB_EIO, "%s", path);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while (!rc && (n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
		line[n - 1] = '\0';
		rc = fn(db, st, line, err);
	}
	if (!rc && ferror(f))
		rc = err_sys(err, LB_EIO, "%s", path);
	free(line);
	fclose(f);
	return rc;
}

/* Split line at its first n - 1 tabs into n fields (the rest belongs to the
 * last, as the release read them); missing ones are "".  Returns how many
 * were there. */
static size_t fields(char *line, char **f, size_t n)
{
	size_t have = 1;
	char *end = line + strlen(line); /* "" for a missing field */
	f[0] = line;
	for (size_t i = 1; i < n; i++) {
		char *tab = have == i ? strchr(f[i - 1], '\t') : NULL;
		if (tab) {
			*tab = '\0';
			have++;
		}
		f[i] = tab ? tab + 1 : end;
	}
	return have;
}

static int run(sqlite3 *db, sqlite3_stmt *st, const char *what, struct lb_err *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, err);
	sqlite3_reset(st);
	return rc;
}

static time_t when_of(const char *iso)
{
	time_t t = 0;
	time_parse(span_cstr(iso), &t);
	return t;
}

/* seen: key TAB kind TAB when TAB ref; the latest record of a key wins. */
static int seen_line(sqlite3 *db, sqlite3_stmt **st, char *line, struct lb_err *err)
{
	char *f[4];
	fields(line, f, 4);
	sqlite3_bind_text(st[0], 1, f[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st[0], 2, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[0], 3, (sqlite3_int64)when_of(f[2]));
	sqlite3_bind_text(st[0], 4, f[3], -1, SQLITE_STATIC);
	int rc = run(db, st[0], "poll_seen", err);
	if (!rc && pollstate_legacy_record(f[0]) && *f[3]) {
		sqlite3_bind_text(st[1], 1, f[0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 2, f[3], -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 3, f[1], -1, SQLITE_STATIC);
		rc = run(db, st[1], "poll_seen_legacy", err);
	}
	return rc;
}

/* soft-bounces: when TAB address-key TAB message-key. */
static int soft_line(sqlite3 *db, sqlite3_stmt **st, char *line, struct lb_err *err)
{
	char *f[3];
	fields(line, f, 3);
	if (!*f[2])
		return 0;
	sqlite3_bind_text(st[0], 1, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_text(st[0], 2, f[2], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[0], 3, (sqlite3_int64)when_of(f[0]));
	return run(db, st[0], "poll_soft_bounces", err);
}

/* acknowledged: ISO TAB HMAC TAB N; a line without a whole HMAC or a time
 * was no entry. */
static int ack_line(sqlite3 *db, sqlite3_stmt **st, char *line, struct lb_err *err)
{
	char *f[3];
	time_t when;
	if (fields(line, f, 3) < 3 || strlen(f[1]) != TOKEN_LEN ||
	    !time_parse(span_cstr(f[0]), &when))
		return 0;
	sqlite3_bind_text(st[0], 1, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[0], 2, (sqlite3_int64)strtoul(f[2], NULL, 10));
	sqlite3_bind_int64(st[0], 3, (sqlite3_int64)when);
	return run(db, st[0], "poll_acks", err);
}

static bool cursor_file(const char *name)
{
	if (strncmp(name, "cursor.", 7) != 0 || strlen(name) != 7 + 16)
		return false;
	return strspn(name + 7, "0123456789abcdef") == 16;
}

/* cursor.NAME: "uidvalidity last_uid", written atomically. */
static int import_cursors(sqlite3 *db, const char *dir, struct lb_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db,
			    "INSERT OR REPLACE INTO poll_cursors(mailbox, uidvalidity, last_uid)"
			    " VALUES (?, ?, ?)",
			    &st, err);
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (!cursor_file(e->d_name))
			continue;
		char *path = path_join(dir, e->d_name);
		struct buf text = BUF_INIT;
		rc = fsx_read_state(path, &text, 256, err);
		if (!rc) {
			char *end;
			unsigned long v = strtoul(buf_cstr(&text), &end, 10);
			unsigned long last = strtoul(end, NULL, 10);
			sqlite3_bind_text(st, 1, e->d_name + 7, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (uint32_t)v);
			sqlite3_bind_int64(st, 3, (uint32_t)last);
			rc = run(db, st, "poll_cursors", err);
		}
		buf_free(&text);
		free(path);
	}
	sqlite3_finalize(st);
	closedir(d);
	return rc;
}

int pollstate_import(sqlite3 *db, const char *state_dir, struct lb_err *err)
{
	static const struct {
		const char *file;
		line_fn fn;
		const char *sql[2];
	} logs[] = {
	    {"poll/seen",
	     seen_line,
	     {"INSERT OR REPLACE INTO poll_seen(key, kind, at, ref) VALUES (?, ?, ?, ?)",
	      "INSERT OR REPLACE INTO poll_seen_legacy(key, ref, kind) VALUES (?, ?, ?)"}},
	    {"poll/soft-bounces",
	     soft_line,
	     {"INSERT OR IGNORE INTO poll_soft_bounces(address, key, at) VALUES (?, ?, ?)"}},
	    {"acknowledged",
	     ack_line,
	     {"INSERT INTO poll_acks(hash, inquiry, at) VALUES (?, ?, ?)"}},
	};
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof logs / sizeof logs[0]; i++) {
		sqlite3_stmt *st[2] = {NULL, NULL};
		for (size_t j = 0; !rc && j < 2; j++)
			if (logs[i].sql[j])
				rc = db_prepare(db, logs[i].sql[j], &st[j], err);
		char *path = path_join(state_dir, logs[i].file);
		if (!rc)
			rc = each_line(db, path, st, logs[i].fn, err);
		free(path);
		sqlite3_finalize(st[0]);
		sqlite3_finalize(st[1]);
	}
	if (!rc) {
		char *dir = path_join(state_dir, "poll");
		rc = import_cursors(db, dir, err);
		free(dir);
	}
	return rc;
}
