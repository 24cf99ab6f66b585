/* Suppressions in the indexed store (suppressions.h, suppressions_int.h):
 * every record ever written is a row of sup_records, in the order written;
 * the current state of an address is its latest row, found through the
 * index on (key, seq) with a prepared statement, so that a send of a million
 * recipients, a web request and a staff command each pay a look-up per
 * address, not a read of the whole history.
 */
#include "store/suppressions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "store/db.h"
#include "store/suppressions_int.h"

#define EVIDENCE_MAX 500

static const char *const reason_names[] = {
    [SUP_NONE] = "none",
    [SUP_UNSUBSCRIBED] = "unsubscribed",
    [SUP_HARD_BOUNCE] = "hard-bounce",
    [SUP_COMPLAINT] = "complaint",
    [SUP_REMOVED] = "removed",
    [SUP_FAILED] = "failed",
    [SUP_RESUBSCRIBED] = "resubscribed",
};

const char *sup_reason_name(enum sup_reason r)
{
	if ((unsigned)r >= sizeof reason_names / sizeof reason_names[0])
		return "none";
	return reason_names[r];
}

const char *sup_source(const struct suppression *x)
{
	const char *e = x->evidence ? x->evidence : "";
	if (strncmp(e, SUP_WEB_EVIDENCE, strlen(SUP_WEB_EVIDENCE)) == 0)
		return "web";
	if (strncmp(e, "`letterbox ", 11) == 0 || strncmp(e, "the staff pages ", 16) == 0)
		return "staff";
	/* sender.c: "550 5.1.1 … (campaign SLUG)", or a pending report it
	 * confirmed: "confirmed by a 5xx at send time: …" (pending.c) */
	if (strncmp(e, "confirmed by a 5xx at send time", 31) == 0 ||
	    (strncmp(e, "confirmed by ", 13) != 0 && strstr(e, " (campaign ")))
		return "send";
	return "mail";
}

static enum sup_reason reason_from(struct span s)
{
	for (size_t i = 1; i < sizeof reason_names / sizeof reason_names[0]; i++)
		if (span_eq(s, reason_names[i]))
			return (enum sup_reason)i;
	return SUP_NONE;
}

enum sup_reason sup_reason_parse(const char *name)
{
	return name ? reason_from(span_cstr(name)) : SUP_NONE;
}

/* "2026-11-25T17:35:00Z", and nothing else: the file is ours. */
bool sup_parse_when(struct span t, time_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (t.n != sizeof shape - 1)
		return false;
	long v[6] = {0};
	for (size_t i = 0, f = 0; i < t.n; i++) {
		if (shape[i] != 'd') {
			if (t.p[i] != shape[i])
				return false;
			f++;
		} else if (t.p[i] >= '0' && t.p[i] <= '9') {
			v[f] = v[f] * 10 + (t.p[i] - '0');
		} else {
			return false;
		}
	}
	long y = v[0], m = v[1], d = v[2];
	if (m < 1 || m > 12 || d < 1 || d > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return false;
	/* days from civil (Howard Hinnant's algorithm), no time zone involved */
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;
	*out = (time_t)(days * 86400 + v[3] * 3600 + v[4] * 60 + v[5]);
	return true;
}

const char *sup_key(struct sup_handle *h, const char *address)
{
	buf_reset(&h->key);
	for (const char *c = address; *c; c++)
		buf_addc(&h->key, *c >= 'A' && *c <= 'Z' ? (char)(*c + ('a' - 'A')) : *c);
	return buf_cstr(&h->key);
}

#define COLS "seq, at, reason, address, key, evidence"

int sup_db(struct sup_handle *h, struct lb_err *err)
{
	if (h->db)
		return 0;
	sqlite3 *db;
	int rc = db_get(h->dir, &db, err);
	struct sup_stmts *st = &h->st;
	if (!rc)
		rc = db_prepare(db, "SELECT reason FROM sup_current WHERE key = ?1", &st->reason,
				err);
	if (!rc)
		rc = db_prepare(db,
				"SELECT r.seq, r.at, r.reason, r.address, r.key, r.evidence"
				" FROM sup_current c JOIN sup_records r ON r.seq = c.last"
				" WHERE c.key = ?1",
				&st->latest, err);
	if (!rc)
		rc = db_prepare(db,
				"INSERT INTO sup_records(at, reason, address, key, evidence)"
				" VALUES (?1, ?2, ?3, ?4, ?5)",
				&st->insert, err);
	if (!rc)
		rc = db_prepare(db,
				"SELECT " COLS " FROM sup_pending WHERE key = ?1"
				" ORDER BY seq DESC LIMIT 1",
				&st->p_latest, err);
	if (!rc)
		rc = db_prepare(db,
				"INSERT INTO sup_pending(at, reason, address, key, evidence)"
				" VALUES (?1, ?2, ?3, ?4, ?5)",
				&st->p_insert, err);
	if (rc)
		return rc;
	h->db = db;
	return 0;
}

int suppressions_load(const char *state_dir, struct suppressions **out, struct lb_err *err)
{
	struct suppressions *s = xcalloc(1, sizeof *s);
	s->h = xcalloc(1, sizeof *s->h);
	s->h->dir = xstrdup(state_dir);
	/* No state/ yet: nothing is suppressed, and reading makes nothing. */
	int rc = fsx_exists(state_dir) ? sup_db(s->h, err) : 0;
	if (rc) {
		suppressions_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

void suppressions_free(struct suppressions *s)
{
	if (!s)
		return;
	struct sup_handle *h = s->h;
	sqlite3_finalize(h->st.reason);
	sqlite3_finalize(h->st.latest);
	sqlite3_finalize(h->st.insert);
	sqlite3_finalize(h->st.p_latest);
	sqlite3_finalize(h->st.p_insert);
	while (h->recs) {
		struct sup_rec *next = h->recs->next;
		free(h->recs);
		h->recs = next;
	}
	strset_free(&h->cache);
	strset_free(&h->p_cache);
	free(h->view);
	free(h->p_view);
	buf_free(&h->key);
	free(h->dir);
	free(h);
	free(s);
}

void sup_lookup_failed(struct sup_handle *h, const char *what)
{
	if (!h->failed)
		log_warn("state/" DB_FILE ": %s: %s", what, sqlite3_errmsg(h->db));
	h->failed = true;
}

/* A handle made before state/ existed opens the store once another writer
 * has made it.  -1 when it exists but cannot be opened (logged). */
int sup_have_db(struct sup_handle *h)
{
	if (h->db)
		return 1;
	if (!fsx_exists(h->dir))
		return 0;
	struct lb_err err = {0};
	if (sup_db(h, &err) == 0)
		return 1;
	if (!h->failed)
		log_warn("%s", err.msg);
	h->failed = true;
	return -1;
}

static char *put(char **at, const unsigned char *s)
{
	char *d = *at;
	size_t n = strlen(s ? (const char *)s : "");
	memcpy(d, s ? (const char *)s : "", n + 1);
	*at += n + 1;
	return d;
}

struct sup_rec *sup_rec_of(struct sup_handle *h, struct strset *cache, sqlite3_stmt *st)
{
	int64_t seq = sqlite3_column_int64(st, 0);
	const char *key = (const char *)sqlite3_column_text(st, 4);
	struct sup_rec *r = cache && key ? strset_get(cache, key, NULL) : NULL;
	if (r && r->seq == seq)
		return r;
	const unsigned char *addr = sqlite3_column_text(st, 3), *k = sqlite3_column_text(st, 4),
			    *ev = sqlite3_column_text(st, 5);
	size_t n = sizeof *r + (size_t)sqlite3_column_bytes(st, 3) +
		   (size_t)sqlite3_column_bytes(st, 4) + (size_t)sqlite3_column_bytes(st, 5) + 3;
	r = xcalloc(1, n);
	char *at = (char *)(r + 1);
	r->seq = seq;
	r->pub.when = (time_t)sqlite3_column_int64(st, 1);
	r->pub.reason = reason_from(span_cstr((const char *)sqlite3_column_text(st, 2)));
	r->pub.address = put(&at, addr);
	r->pub.key = put(&at, k);
	r->pub.evidence = put(&at, ev);
	r->next = h->recs;
	h->recs = r;
	if (cache && !strset_add_copy(cache, r->pub.key, r, NULL))
		strset_set(cache, r->pub.key, r);
	return r;
}

/* The latest record of address (a lift included), NULL when none. */
static struct sup_rec *latest(struct sup_handle *h, const char *address)
{
	if (!address || sup_have_db(h) <= 0)
		return NULL;
	sqlite3_stmt *st = h->st.latest;
	sqlite3_bind_text(st, 1, sup_key(h, address), -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	struct sup_rec *r = step == SQLITE_ROW ? sup_rec_of(h, &h->cache, st) : NULL;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		sup_lookup_failed(h, "suppressions");
	sqlite3_reset(st);
	return r;
}

bool sup_last_record(const struct suppressions *s, const char *address, time_t *when)
{
	struct sup_rec *r = latest(s->h, address);
	if (r)
		*when = r->pub.when;
	return r != NULL;
}

enum sup_reason suppressions_check(const struct suppressions *s, const char *address)
{
	struct sup_handle *h = s->h;
	int have = address ? sup_have_db(h) : 0;
	if (have <= 0) /* never mail someone we could not look up */
		return have < 0 ? SUP_FAILED : SUP_NONE;
	sqlite3_stmt *st = h->st.reason;
	sqlite3_bind_text(st, 1, sup_key(h, address), -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	enum sup_reason r = SUP_NONE;
	if (step == SQLITE_ROW)
		r = reason_from(span_cstr((const char *)sqlite3_column_text(st, 0)));
	else if (step != SQLITE_DONE) {
		/* Never mail someone we could not look up. */
		sup_lookup_failed(h, "suppressions");
		r = SUP_FAILED;
	}
	sqlite3_reset(st);
	return r == SUP_RESUBSCRIBED ? SUP_NONE : r;
}

const struct suppression *suppressions_get(const struct suppressions *s, const char *address)
{
	struct sup_rec *r = latest(s->h, address);
	return r && r->pub.reason != SUP_RESUBSCRIBED ? &r->pub : NULL;
}

const struct suppression *const *suppressions_list(const struct suppressions *s, size_t *n)
{
	struct sup_handle *h = s->h;
	size_t cap = 0;
	*n = 0;
	free(h->view);
	h->view = NULL;
	sqlite3_stmt *st = NULL;
	struct lb_err err = {0};
	/* Each address's latest record, in the order first suppressed. */
	if (sup_have_db(h) > 0 &&
	    db_prepare(h->db,
		       "SELECT r.seq, r.at, r.reason, r.address, r.key, r.evidence"
		       " FROM sup_current c JOIN sup_records r ON r.seq = c.last"
		       " WHERE c.reason <> 'resubscribed' ORDER BY c.first",
		       &st, &err) == 0) {
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			h->view = xgrowarray(h->view, &cap, *n + 2, sizeof *h->view);
			h->view[(*n)++] = &sup_rec_of(h, NULL, st)->pub;
		}
		if (step != SQLITE_DONE)
			sup_lookup_failed(h, "suppressions");
	} else if (h->db) {
		log_warn("%s", err.msg);
	}
	sqlite3_finalize(st);
	if (!h->view)
		h->view = xcalloc(1, sizeof *h->view);
	h->view[*n] = NULL;
	return h->view;
}

/* Evidence as one line: every run of white space and control characters
 * (C0, DEL, C1, U+2028/9) becomes one space, bytes that are not UTF-8 become
 * '?', and it is cut at EVIDENCE_MAX bytes on a character boundary. */
void sup_sanitise(struct buf *out, const char *in)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)p), start = out->n;
	bool space = false;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		bool blank = len == 0	? false
			     : len == 1 ? p[i] <= 0x20 || p[i] == 0x7f
			     : len == 2 ? p[i] == 0xc2 && p[i + 1] < 0xa0
					: len == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
					      (p[i + 2] == 0xa8 || p[i + 2] == 0xa9);
		if (blank) {
			space = out->n > start;
			i += len;
			continue;
		}
		size_t need = (len ? len : 1) + space;
		if (out->n - start + need > EVIDENCE_MAX)
			break;
		if (space)
			buf_addc(out, ' ');
		space = false;
		if (len)
			buf_add(out, p + i, len);
		else
			buf_addc(out, '?');
		i += len ? len : 1;
	}
}

int sup_prepare(struct buf *ev, struct addr *a, const char *address, const char *evidence,
		struct lb_err *err)
{
	memset(a, 0, sizeof *a);
	if (addr_parse_spec(span_cstr(address ? address : ""), a, err))
		return err->code;
	for (const char *c = a->spec; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) /* it would break the line */
			return err_set(err, LB_EDATA, "'%s': a control character in the address",
				       address);
	sup_sanitise(ev, evidence);
	return 0;
}

int sup_insert(sqlite3 *db, sqlite3_stmt *ins, time_t when, enum sup_reason reason,
	       const char *address, const char *key, const char *evidence, struct lb_err *err)
{
	int rc = db_begin(db, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(ins, 1, (sqlite3_int64)when);
	sqlite3_bind_text(ins, 2, sup_reason_name(reason), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, evidence ? evidence : "", -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		rc = db_fail(db, "state/" DB_FILE ": recording a suppression", err);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int suppressions_add(struct suppressions *s, const char *address, enum sup_reason reason,
		     time_t when, const char *evidence, struct lb_err *err)
{
	if (reason <= SUP_NONE || reason > SUP_RESUBSCRIBED)
		return err_set(err, LB_ESOFTWARE, "suppressions_add: no reason given");
	struct sup_handle *h = s->h;
	struct addr a;
	struct buf ev = BUF_INIT;
	int rc = sup_prepare(&ev, &a, address, evidence, err);
	if (!rc)
		rc = sup_db(h, err);
	if (!rc)
		rc = sup_insert(h->db, h->st.insert, when, reason, a.spec, sup_key(h, a.spec),
				buf_cstr(&ev), err);
	buf_free(&ev);
	addr_free(&a);
	return rc;
}
