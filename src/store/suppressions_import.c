/* The files the suppressions area kept before the indexed store, read in
 * once by the upgrade (db.h) exactly as the release that wrote them read
 * them: a torn last line (a write a crash cut short, never acknowledged) is
 * left out, a line that is not a record stops the upgrade (file:line).
 *
 *   state/suppressions           when TAB reason TAB address TAB evidence
 *   state/suppressions.pending   the same, "resubscribed" not allowed
 *   state/consent                confirmed requested source list address
 *                                ip-request ip-confirm consent (signup.h)
 *   state/signup.limits          when TAB a|i TAB key; lines not ours skipped
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "store/db.h"
#include "store/suppressions_int.h"

#define LINE_MAX_LEN 4096 /* no record of ours comes near: a longer line is damage */

const char *const sup_old_files[] = {"suppressions", "suppressions.pending", "consent",
				     "signup.limits", NULL};

/* Read state_dir/name whole; *text empty (rc 0) when it does not exist. */
static int read_old(const char *state_dir, const char *name, size_t max, char **path,
		    struct buf *text, struct lb_err *err)
{
	*path = path_join(state_dir, name);
	struct lb_err e = {0};
	int rc = fsx_read_state(*path, text, max, &e);
	if (rc == LB_ENOINPUT)
		return 0;
	if (rc)
		*err = e;
	return rc;
}

/* Each complete line of text (the torn tail left out), numbered from 1. */
struct lines {
	const char *p, *end;
	size_t no;
};

static bool next_line(struct lines *l, struct span *line)
{
	if (l->p >= l->end)
		return false;
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!nl)
		return false; /* a torn last line: its append never returned */
	*line = (struct span){l->p, (size_t)(nl - l->p)};
	l->p = nl + 1;
	l->no++;
	return true;
}

static size_t split_tabs(struct span line, struct span *v, size_t max)
{
	size_t k = 0;
	const char *p = line.p, *end = line.p + line.n;
	while (k < max) {
		const char *t = memchr(p, '\t', (size_t)(end - p));
		v[k++] = (struct span){p, (size_t)((t ? t : end) - p)};
		if (!t)
			break;
		p = t + 1;
	}
	return k;
}

static char *lower_dup(struct span s)
{
	char *k = span_dup(s);
	for (char *c = k; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + ('a' - 'A'));
	return k;
}

static int insert_failed(sqlite3 *db, const char *path, size_t lineno, struct lb_err *err)
{
	char what[256];
	snprintf(what, sizeof what, "%s:%zu", path, lineno);
	return db_fail(db, what, err);
}

/* state/suppressions or state/suppressions.pending into table. */
static int import_log(sqlite3 *db, const char *state_dir, const char *name, const char *table,
		      bool pending, struct lb_err *err)
{
	char *path = NULL;
	struct buf text = BUF_INIT, sql = BUF_INIT;
	sqlite3_stmt *ins = NULL;
	int rc = read_old(state_dir, name, 0, &path, &text, err);
	buf_printf(&sql,
		   "INSERT INTO %s(at, reason, address, key, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
		   table);
	if (!rc && text.n)
		rc = db_prepare(db, sql.p, &ins, err);
	struct lines l = {buf_cstr(&text), buf_cstr(&text) + text.n, 0};
	struct span line;
	while (!rc && ins && next_line(&l, &line)) {
		if (line.n == 0 || line.p[0] == '#')
			continue;
		struct span f[3];
		size_t at = 0;
		bool ok = true;
		for (int i = 0; ok && i < 3; i++) {
			const char *tab = memchr(line.p + at, '\t', line.n - at);
			if (!tab) {
				ok = false;
				break;
			}
			f[i] = (struct span){line.p + at, (size_t)(tab - (line.p + at))};
			at = (size_t)(tab - line.p) + 1;
		}
		time_t when = 0;
		char *reason = ok ? span_dup(f[1]) : NULL;
		enum sup_reason r = sup_reason_parse(reason);
		free(reason);
		if (!ok || !sup_parse_when(f[0], &when) || r == SUP_NONE ||
		    (pending && r == SUP_RESUBSCRIBED) || f[2].n == 0 ||
		    memchr(line.p, '\0', line.n) || line.n > LINE_MAX_LEN) {
			rc = err_set(err, LB_EDATA,
				     "%s:%zu: not a %s record; this file is written by letterbox "
				     "only: restore it from a backup",
				     path, l.no, pending ? "pending-report" : "suppression");
			break;
		}
		char *addr = span_dup(f[2]), *key = lower_dup(f[2]);
		char *ev = xstrndup(line.p + at, line.n - at);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)when);
		sqlite3_bind_text(ins, 2, sup_reason_name(r), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, ev, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = insert_failed(db, path, l.no, err);
		sqlite3_reset(ins);
		free(addr);
		free(key);
		free(ev);
	}
	sqlite3_finalize(ins);
	buf_free(&sql);
	buf_free(&text);
	free(path);
	return rc;
}

static char *dash_dup(struct span s)
{
	return span_eq(s, "-") ? xstrdup("") : span_dup(s);
}

static int import_consent(sqlite3 *db, const char *state_dir, struct lb_err *err)
{
	enum { NFIELDS = 8 };
	char *path = NULL;
	struct buf text = BUF_INIT;
	sqlite3_stmt *ins = NULL;
	int rc = read_old(state_dir, "consent", 256u << 20, &path, &text, err);
	if (!rc && text.n)
		rc = db_prepare(
		    db,
		    "INSERT INTO sup_consent(confirmed, requested, source, list, address,"
		    " key, ip_request, ip_confirm, hash)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		    &ins, err);
	struct lines l = {buf_cstr(&text), buf_cstr(&text) + text.n, 0};
	struct span line, f[NFIELDS + 1];
	while (!rc && ins && next_line(&l, &line)) {
		if (!line.n || line.p[0] == '#')
			continue;
		time_t confirmed, requested;
		if (split_tabs(line, f, NFIELDS + 1) != NFIELDS ||
		    !sup_parse_when(f[0], &confirmed) || !sup_parse_when(f[1], &requested)) {
			rc = err_set(err, LB_EDATA, "%s:%zu: not a consent record", path, l.no);
			break;
		}
		char *v[7] = {span_dup(f[2]), span_dup(f[3]), span_dup(f[4]), NULL,
			      dash_dup(f[5]), dash_dup(f[6]), dash_dup(f[7])};
		v[3] = addr_key(v[2]);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)confirmed);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)requested);
		for (int i = 0; i < 7; i++)
			sqlite3_bind_text(ins, 3 + i, v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = insert_failed(db, path, l.no, err);
		sqlite3_reset(ins);
		for (int i = 0; i < 7; i++)
			free(v[i]);
	}
	sqlite3_finalize(ins);
	buf_free(&text);
	free(path);
	return rc;
}

/* The limits file kept only what was well-formed and recent; what is not a
 * hit of ours is skipped, as its reader did. */
static int import_limits(sqlite3 *db, const char *state_dir, struct lb_err *err)
{
	char *path = NULL;
	struct buf text = BUF_INIT;
	sqlite3_stmt *ins = NULL;
	int rc = read_old(state_dir, "signup.limits", 16u << 20, &path, &text, err);
	if (!rc && text.n)
		rc = db_prepare(db, "INSERT INTO sup_signup(at, kind, who) VALUES (?1, ?2, ?3)",
				&ins, err);
	/* This file was rewritten whole (never torn): its last line counts. */
	const char *p = buf_cstr(&text), *end = p + text.n;
	while (!rc && ins && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span line = {p, (size_t)((nl ? nl : end) - p)}, f[3];
		p = nl ? nl + 1 : end;
		time_t when;
		if (!line.n || line.p[0] == '#' || split_tabs(line, f, 3) != 3 || f[1].n != 1 ||
		    (f[1].p[0] != 'a' && f[1].p[0] != 'i') || !sup_parse_when(f[0], &when))
			continue;
		char *who = span_dup(f[2]);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)when);
		sqlite3_bind_text(ins, 2, f[1].p[0] == 'a' ? "a" : "i", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, who, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = insert_failed(db, path, 0, err);
		sqlite3_reset(ins);
		free(who);
	}
	sqlite3_finalize(ins);
	buf_free(&text);
	free(path);
	return rc;
}

int sup_import(sqlite3 *db, const char *state_dir, struct lb_err *err)
{
	int rc = import_log(db, state_dir, "suppressions", "sup_records", false, err);
	if (!rc)
		rc = import_log(db, state_dir, "suppressions.pending", "sup_pending", true, err);
	if (!rc)
		rc = import_consent(db, state_dir, err);
	if (!rc)
		rc = import_limits(db, state_dir, err);
	return rc;
}
