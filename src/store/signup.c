/* Sign-up with double opt-in: the confirmed request's effects, the consent
 * records, the limits on confirmation mails (signup.h). */
#include "store/signup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/db.h"
#include "store/listedit.h"
#include "store/subscribers.h"
#include "store/suppressions.h"
#include "store/suppressions_int.h"

/* ---- consent records ------------------------------------------------------------------ */

/* One field as the record keeps it: control characters become '?'; an empty
 * one is "-" where dash (the file's spelling, which the columns keep for
 * source, list and address), else "". */
static char *field(const char *s, bool dash)
{
	if (!s || !*s)
		return xstrdup(dash ? "-" : "");
	char *v = xstrdup(s);
	for (char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return v;
}

static int consent_db(const char *state_dir, sqlite3 **db, struct lb_err *err)
{
	*db = NULL;
	return fsx_exists(state_dir) ? db_get(state_dir, db, err) : 0;
}

int consents_load(const char *state_dir, struct consents *c, struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc = consent_db(state_dir, &db, err);
	if (rc || !db)
		return rc;
	rc =
	    db_prepare(db,
		       "SELECT confirmed, requested, source, list, address, ip_request, ip_confirm,"
		       " hash FROM sup_consent ORDER BY seq",
		       &st, err);
	int step = SQLITE_DONE;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		c->v = xgrowarray(c->v, &c->cap, c->n + 1, sizeof *c->v);
		c->v[c->n++] = (struct consent){
		    .confirmed = (time_t)sqlite3_column_int64(st, 0),
		    .requested = (time_t)sqlite3_column_int64(st, 1),
		    .source = db_column_dup(st, 2),
		    .list = db_column_dup(st, 3),
		    .address = db_column_dup(st, 4),
		    .ip_request = db_column_dup(st, 5),
		    .ip_confirm = db_column_dup(st, 6),
		    .hash = db_column_dup(st, 7),
		};
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": consent records", err);
	sqlite3_finalize(st);
	if (rc)
		consents_free(c);
	return rc;
}

void consents_free(struct consents *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct consent *r = &c->v[i];
		free(r->source);
		free(r->list);
		free(r->address);
		free(r->ip_request);
		free(r->ip_confirm);
		free(r->hash);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Record request r confirmed from confirm_ip at now, unless this very
 * request (address, list, time of request) is recorded already. */
static int consent_record(const char *state_dir, const struct confirm_req *r,
			  const char *confirm_ip, time_t now, bool *recorded, struct lb_err *err)
{
	*recorded = false;
	sqlite3 *db;
	sqlite3_stmt *known = NULL, *ins = NULL;
	char *v[8] = {
	    field(r->source, true), field(r->list, true),     field(r->address, true),	NULL,
	    field(r->ip, false),    field(confirm_ip, false), field(r->consent, false), NULL};
	v[3] = addr_key(v[2]);
	int rc = db_get(state_dir, &db, err);
	if (rc)
		goto out;
	if ((rc = db_begin(db, err)))
		goto out;
	rc = db_prepare(db,
			"SELECT 1 FROM sup_consent WHERE key = ?1 AND list = ?2 AND requested = ?3"
			" LIMIT 1",
			&known, err);
	if (!rc) {
		sqlite3_bind_text(known, 1, v[3], -1, SQLITE_STATIC);
		sqlite3_bind_text(known, 2, r->list, -1, SQLITE_STATIC);
		sqlite3_bind_int64(known, 3, (sqlite3_int64)r->requested);
		int step = sqlite3_step(known);
		if (step == SQLITE_ROW)
			goto done;
		if (step != SQLITE_DONE)
			rc = db_fail(db, "state/" DB_FILE ": consent records", err);
	}
	if (!rc)
		rc = db_prepare(
		    db,
		    "INSERT INTO sup_consent(confirmed, requested, source, list, address,"
		    " key, ip_request, ip_confirm, hash)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		    &ins, err);
	if (!rc) {
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)now);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)r->requested);
		for (int i = 0; i < 7; i++)
			sqlite3_bind_text(ins, 3 + i, v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = db_fail(db, "state/" DB_FILE ": recording consent", err);
	}
done:
	sqlite3_finalize(known);
	sqlite3_finalize(ins);
	if (rc) {
		db_rollback(db);
		goto out;
	}
	if ((rc = db_commit(db, err)) == 0)
		*recorded = ins != NULL;
out:
	for (int i = 0; i < 8; i++)
		free(v[i]);
	return rc;
}

/* ---- confirming ----------------------------------------------------------------------- */

static int lock_subscribers(const char *state_dir, int *fd, struct lb_err *err)
{
	char *path = path_join(state_dir, "lock.subscribers");
	int rc = fsx_state_dir(state_dir, err);
	if (!rc)
		rc = fsx_lock(path, true, fd, err);
	free(path);
	return rc;
}

int signup_confirm(const char *site_dir, const char *state_dir, const struct confirm_req *r,
		   const char *confirm_ip, time_t now, struct signup_result *res,
		   struct lb_err *err)
{
	memset(res, 0, sizeof *res);
	if (!sublist_id_ok(r->list))
		return err_set(err, LB_EDATA, "sign-up for '%.64s': not a list name", r->list);
	struct addr a = {0};
	struct suppressions *sup = NULL;
	struct buf rel = BUF_INIT, ev = BUF_INIT;
	char *path = NULL, *lists = path_join(site_dir, "subscribers");
	const char *why;
	int fd = -1, rc;
	if ((rc = addr_parse_spec(span_cstr(r->address), &a, err)))
		goto out;
	const char *name = r->name && *r->name ? r->name : NULL;
	if (name && !listedit_name_ok(name, &why))
		name = NULL; /* a name we cannot keep does not stop the sign-up */
	if ((rc = lock_subscribers(state_dir, &fd, err)))
		goto out;
	fsx_clean_tmp(lists); /* what an edit killed with -9 left half-written */
	buf_printf(&rel, "subscribers/%s.yaml", r->list);
	path = path_join(site_dir, rel.p);
	struct listedit_entry e = {a.spec, name};
	bool there;
	if ((rc = listedit_add_new(path, r->list, &e, &there, err)))
		goto out;
	res->added = !there;
	if ((rc = suppressions_load(state_dir, &sup, err)))
		goto out;
	const struct suppression *was = suppressions_get(sup, a.spec);
	if (was) {
		buf_printf(&ev, "confirmed sign-up (%s) to %s, after %s since ", r->source, r->list,
			   sup_reason_name(was->reason));
		time_iso(&ev, was->when);
		if ((rc = suppressions_add(sup, a.spec, SUP_RESUBSCRIBED, now, ev.p, err)))
			goto out;
		res->resubscribed = true;
	}
	if ((rc = consent_record(state_dir, r, confirm_ip, now, &res->recorded, err)))
		goto out;
out:
	suppressions_free(sup);
	if (fd >= 0)
		close(fd);
	addr_free(&a);
	buf_free(&rel);
	buf_free(&ev);
	free(path);
	free(lists);
	return rc;
}

/* ---- limits --------------------------------------------------------------------------- */

static int count_hits(sqlite3 *db, const char *kind, const char *who, time_t since, size_t *n,
		      time_t *oldest, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db,
			    "SELECT count(*), min(at) FROM sup_signup"
			    " WHERE kind = ?1 AND who = ?2 AND at > ?3",
			    &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, "state/" DB_FILE ": sign-up limits", err);
	} else {
		*n = (size_t)sqlite3_column_int64(st, 0);
		if (*n)
			*oldest = (time_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc;
}

static int add_hit(sqlite3 *db, time_t now, const char *kind, const char *who, struct lb_err *err)
{
	sqlite3_stmt *st;
	int rc =
	    db_prepare(db, "INSERT INTO sup_signup(at, kind, who) VALUES (?1, ?2, ?3)", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, who, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": sign-up limits", err);
	sqlite3_finalize(st);
	return rc;
}

/* The hits of the last day (an IP's of the last hour) are rows of
 * sup_signup; older ones, and any from more than five minutes ahead (a
 * clock set back), are dropped as they are met.  One write transaction
 * (BEGIN IMMEDIATE) makes count-and-add one step for concurrent requests. */
int signup_ratelimit(const char *state_dir, const char *address, const char *ip, time_t now,
		     long *retry_after, struct lb_err *err)
{
	*retry_after = 0;
	char *akey = addr_key(address);
	sqlite3 *db;
	size_t na = 0, ni = 0;
	time_t oldest_a = now, oldest_i = now;
	bool has_ip = *ip && !strpbrk(ip, "\t\n");
	int rc = db_get(state_dir, &db, err);
	if (rc)
		goto out;
	if ((rc = db_begin(db, err)))
		goto out;
	char sql[160];
	snprintf(sql, sizeof sql,
		 "DELETE FROM sup_signup WHERE at <= %lld OR at > %lld"
		 " OR (kind = 'i' AND at <= %lld)",
		 (long long)now - 86400, (long long)now + 300, (long long)now - 3600);
	rc = db_exec(db, sql, err);
	if (!rc)
		rc = count_hits(db, "a", akey, now - 86400, &na, &oldest_a, err);
	if (!rc && has_ip)
		rc = count_hits(db, "i", ip, now - 3600, &ni, &oldest_i, err);
	if (!rc && (na >= SIGNUP_PER_ADDRESS || ni >= SIGNUP_PER_IP)) {
		long a = na >= SIGNUP_PER_ADDRESS ? (long)(oldest_a + 86400 - now) : 0;
		long i = ni >= SIGNUP_PER_IP ? (long)(oldest_i + 3600 - now) : 0;
		*retry_after = (a > i ? a : i) > 0 ? (a > i ? a : i) : 1;
		rc = err_set(err, LB_ETEMP, "too many sign-up requests");
	}
	if (!rc)
		rc = add_hit(db, now, "a", akey, err);
	if (!rc && has_ip)
		rc = add_hit(db, now, "i", ip, err);
	if (rc)
		db_rollback(db);
	else
		rc = db_commit(db, err);
out:
	free(akey);
	return rc;
}
