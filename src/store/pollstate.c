/* What the poller remembers, in the indexed store (pollstate.h). */
#include "store/pollstate.h"

#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strset.h"
#include "store/db.h"
#include "store/inquiries.h"

/* An inquiry filed before keys had digests: where its message is stored, and
 * the key of that message once a message with its Message-ID came by. */
struct stored {
	unsigned number;
	long long off;
	size_t len;
	size_t next; /* the next one with that Message-ID (index + 1), or 0 */
	bool read;   /* key computed (NULL: the message could not be read) */
	char *key;
};

struct pollstate {
	char *state_dir;
	char *cursor_name; /* poll_cursors' key for the source's URL */
	sqlite3 *db;
	/* prepared once, by the primary key or an index: O(log N) each */
	sqlite3_stmt *get_seen, *put_seen, *get_legacy, *put_legacy;
	struct lb_err mark_err;	  /* the first failure of a mark, for pollstate_sync */
	struct strset remembered; /* keys known from inquiries (pollstate_remember_*) */
	struct strset legacy_inq; /* "mid:ID" -> first of its stored (index + 1) */
	struct stored *stored;
	size_t nstored, storedcap;
	pollstate_key_fn key_of; /* the key of a stored message, see pollstate_remember_inquiry */
	void *key_ctx;
	struct cursor cur;
	unsigned long long rows_read; /* pollstate_rows_read */
};

static void hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf_addc(b, d[p[i] >> 4]);
		buf_addc(b, d[p[i] & 15]);
	}
}

/* Hash what the person sent into h: the fields below, each tagged, then the
 * body with CRLF read as LF and trailing white space dropped (a relay may add
 * a line end or a CR; the person's words are the same). */
static void sent_digest(const struct sent *s, unsigned char h[32])
{
	gnutls_hash_hd_t d;
	if (gnutls_hash_init(&d, GNUTLS_DIG_SHA256) < 0)
		abort();
	const char *const tags[] = {"from", "date", "subject"};
	const char *const vals[] = {s->from, s->date, s->subject};
	for (size_t i = 0; i < 3; i++) {
		gnutls_hash(d, tags[i], strlen(tags[i]) + 1);
		if (vals[i])
			gnutls_hash(d, vals[i], strlen(vals[i]) + 1);
		else
			gnutls_hash(d, "", 1);
	}
	const char *p = s->body ? s->body : "", *end = p + (s->body ? s->body_n : 0);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr) {
			gnutls_hash(d, p, (size_t)(end - p));
			break;
		}
		bool crlf = cr + 1 < end && cr[1] == '\n';
		gnutls_hash(d, p, (size_t)(cr - p) + !crlf);
		p = cr + 1;
	}
	gnutls_hash_deinit(d, h);
}

char *pollstate_key(const char *message_id, const struct sent *s, const char *raw, size_t n)
{
	struct buf b = BUF_INIT;
	unsigned char h[32];
	if (message_id && *message_id) {
		buf_adds(&b, "mid:");
		/* tabs or line breaks would break the record format, and a space
		 * separates the digest */
		for (const char *p = message_id; *p; p++)
			buf_addc(&b, (unsigned char)*p <= ' ' ? '_' : *p);
		if (s) {
			sent_digest(s, h);
			buf_addc(&b, ' ');
			hex(&b, h, KEY_DIGEST_BYTES);
		}
	} else {
		gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, n, h);
		buf_adds(&b, "sha:");
		hex(&b, h, sizeof h);
	}
	return buf_take(&b);
}

/* Kinds are few: seen keys point at one copy of each name. */
static const char *const kinds[] = {"inquiry",	  "bounce",    "complaint", "unsubscribe",
				    "auto-reply", "subscribe", NULL};

static void *kind_ref(const char *kind)
{
	for (size_t i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], kind) == 0)
			return (void *)(uintptr_t)(i + 1);
	return NULL;
}

/* Keys known only from elsewhere (pollstate_remember_inquiry) carry this bit. */
#define REMEMBERED   0x100
#define KIND_BITS    0xff
#define KIND_INQUIRY 1 /* kind_ref("inquiry") */

/* The key a record from before digests had for key ("mid:ID" for
 * "mid:ID DIGEST"), or NULL; caller frees. */
static char *legacy_key(const char *key)
{
	if (strncmp(key, "mid:", 4) != 0)
		return NULL;
	const char *sp = strrchr(key, ' ');
	return sp ? xstrndup(key, (size_t)(sp - key)) : NULL;
}

/* The key of stored inquiry message s, read and computed once. */
static const char *stored_key(struct pollstate *ps, struct stored *s)
{
	if (s->read)
		return s->key;
	s->read = true;
	struct inquiry q = {.number = s->number, .msg_off = s->off, .msg_len = s->len};
	struct buf raw = BUF_INIT;
	struct lb_err err = {0};
	if (inquiry_message(ps->state_dir, &q, &raw, &err) == 0)
		s->key = ps->key_of(ps->key_ctx, buf_cstr(&raw), raw.n);
	else
		log_warn("inquiry %u: its message cannot be read to compare a message with its "
			 "Message-ID (%s): that message is filed as new",
			 s->number, err.msg);
	buf_free(&raw);
	return s->key;
}

/* Look key (of a message fetched as ref) up: its own entry, or else a record
 * from before digests that provably stands for this message (pollstate_key). */
static unsigned long long rows_read;

unsigned long long pollstate_rows_read(void)
{
	return rows_read;
}

/* Step a look-up statement with its parameters bound: whether it found a
 * row.  A failing step counts as "not found" with a warning: the caller's
 * question (seen?) has no error path, and the next write reports the
 * database's trouble. */
static bool step_row(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		rows_read++;
		return true;
	}
	if (r != SQLITE_DONE)
		log_warn("state/" DB_FILE ": %s", sqlite3_errstr(r));
	return false;
}

/* The kind recorded in the seen table for key (as kind_ref, 0 for a kind
 * this version does not name), or -1 when key is not there. */
static long seen_row(const struct pollstate *ps, const char *key)
{
	sqlite3_stmt *st = ps->get_seen;
	long kind = -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (step_row(st))
		kind = (long)(uintptr_t)kind_ref((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return kind;
}

/* Look key (of a message fetched as ref) up: its own entry, or else a record
 * from before digests that provably stands for this message (pollstate_key). */
static bool lookup(struct pollstate *ps, const char *key, const char *ref, uintptr_t *val)
{
	long kind = seen_row(ps, key);
	if (kind >= 0) {
		*val = (uintptr_t)kind;
		return true;
	}
	bool found;
	strset_get(&ps->remembered, key, &found);
	*val = KIND_INQUIRY | REMEMBERED;
	if (found)
		return true;
	char *lk = legacy_key(key);
	if (!lk)
		return false;
	/* an inquiry: the message stored with it is this one */
	for (uintptr_t i = (uintptr_t)strset_get(&ps->legacy_inq, lk, NULL); i && !found;
	     i = ps->stored[i - 1].next) {
		const char *k = stored_key(ps, &ps->stored[i - 1]);
		found = k && strcmp(k, key) == 0;
		*val = KIND_INQUIRY | REMEMBERED;
	}
	/* other kinds (idempotent effects): this message was fetched under the
	 * record's ref.  A Message-ID alone proves nothing. */
	if (!found && ref && *ref) {
		sqlite3_stmt *st = ps->get_legacy;
		sqlite3_bind_text(st, 1, lk, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
		if (step_row(st)) {
			*val = (uintptr_t)kind_ref((const char *)sqlite3_column_text(st, 0));
			found = (*val & KIND_BITS) != KIND_INQUIRY;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	free(lk);
	return found;
}

const char *pollstate_seen_kind(struct pollstate *ps, const char *key, const char *ref)
{
	uintptr_t k = 0;
	if (!lookup(ps, key, ref, &k))
		return NULL;
	k &= KIND_BITS;
	return k ? kinds[k - 1] : NULL;
}

bool pollstate_logged(const struct pollstate *ps, const char *key)
{
	return seen_row(ps, key) >= 0;
}

bool pollstate_seen(struct pollstate *ps, const char *key, const char *ref)
{
	uintptr_t v;
	return lookup(ps, key, ref, &v);
}

char *pollstate_cursor_name(const char *url)
{
	unsigned char h[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, url, strlen(url), h);
	struct buf name = BUF_INIT;
	hex(&name, h, 8);
	return buf_take(&name);
}

static int cursor_get(sqlite3 *db, const char *name, struct cursor *c, struct lb_err *err)
{
	*c = (struct cursor){0};
	sqlite3_stmt *st;
	int rc = db_prepare(db, "SELECT uidvalidity, last_uid FROM poll_cursors WHERE mailbox = ?",
			    &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		c->uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		c->last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	} else if (r != SQLITE_DONE) {
		rc = db_fail(db, "state/" DB_FILE ": poll_cursors", err);
	}
	sqlite3_finalize(st);
	return rc;
}

int pollstate_open(const char *state_dir, const char *source_url, struct pollstate **out,
		   struct lb_err *err)
{
	struct pollstate *ps = xcalloc(1, sizeof *ps);
	ps->state_dir = xstrdup(state_dir);
	ps->cursor_name = pollstate_cursor_name(source_url);
	int rc = db_get(state_dir, &ps->db, err);
	if (!rc)
		rc = db_prepare(ps->db, "SELECT kind FROM poll_seen WHERE key = ?", &ps->get_seen,
				err);
	if (!rc)
		rc = db_prepare(ps->db,
				"INSERT OR REPLACE INTO poll_seen(key, kind, at, ref)"
				" VALUES (?, ?, ?, ?)",
				&ps->put_seen, err);
	if (!rc)
		rc = db_prepare(ps->db,
				"SELECT kind FROM poll_seen_legacy WHERE key = ? AND ref = ?",
				&ps->get_legacy, err);
	if (!rc)
		rc = db_prepare(ps->db,
				"INSERT OR REPLACE INTO poll_seen_legacy(key, ref, kind)"
				" VALUES (?, ?, ?)",
				&ps->put_legacy, err);
	if (!rc)
		rc = cursor_get(ps->db, ps->cursor_name, &ps->cur, err);
	if (rc) {
		struct lb_err ignore;
		pollstate_close(ps, &ignore);
		return rc;
	}
	*out = ps;
	return 0;
}

void pollstate_remember_key(struct pollstate *ps, const char *key)
{
	strset_add_copy(&ps->remembered, key, NULL, NULL);
}

void pollstate_remember_inquiry(struct pollstate *ps, const struct inquiry *q,
				pollstate_key_fn key_of, void *ctx)
{
	if (q->key) {
		pollstate_remember_key(ps, q->key);
		return;
	}
	if (!q->message_id)
		return;
	ps->key_of = key_of;
	ps->key_ctx = ctx;
	ps->stored = xgrowarray(ps->stored, &ps->storedcap, ps->nstored + 1, sizeof *ps->stored);
	ps->stored[ps->nstored++] =
	    (struct stored){q->number, q->msg_off, q->msg_len, 0, false, NULL};
	char *lk = pollstate_key(q->message_id, NULL, NULL, 0);
	void *first;
	if (!strset_add_copy(&ps->legacy_inq, lk, (void *)(uintptr_t)ps->nstored, &first)) {
		ps->stored[ps->nstored - 1].next = (uintptr_t)first;
		strset_set(&ps->legacy_inq, lk, (void *)(uintptr_t)ps->nstored);
	}
	free(lk);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct lb_err *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

void pollstate_mark(struct pollstate *ps, const char *key, const char *kind, time_t when,
		    const char *ref)
{
	/* Each mark is its own short transaction: the database's write lock is
	 * never held across a batch (while messages are fetched), so the web's
	 * requests and staff commands write meanwhile.  In poll's batch syncing
	 * is deferred (db.h): the commit is only written, and the checkpoint's
	 * fsx_commit makes the batch durable before anything is acknowledged. */
	if (ps->mark_err.code || db_begin(ps->db, &ps->mark_err))
		return;
	sqlite3_stmt *st = ps->put_seen;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind ? kind : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)when);
	sqlite3_bind_text(st, 4, ref ? ref : "", -1, SQLITE_STATIC);
	int rc = step_done(ps->db, st, "state/" DB_FILE ": poll_seen", &ps->mark_err);
	/* A key without a digest is a legacy record: it stands for the message
	 * fetched under its ref (lookup). */
	if (!rc && pollstate_legacy_record(key) && ref && *ref) {
		st = ps->put_legacy;
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, kind ? kind : "", -1, SQLITE_STATIC);
		rc = step_done(ps->db, st, "state/" DB_FILE ": poll_seen_legacy", &ps->mark_err);
	}
	if (rc)
		db_rollback(ps->db);
	else
		db_commit(ps->db, &ps->mark_err);
}

bool pollstate_legacy_record(const char *key)
{
	return strncmp(key, "mid:", 4) == 0 && !strchr(key, ' ');
}

int pollstate_sync(struct pollstate *ps, struct lb_err *err)
{
	int rc = 0;
	if (ps->mark_err.code) {
		/* A mark failed (and every one after it was not tried): the
		 * caller acknowledges none of the batch, whose messages are
		 * fetched again; those marked before are duplicates then. */
		*err = ps->mark_err;
		rc = err->code;
		ps->mark_err = (struct lb_err){0};
	}
	return rc;
}

struct cursor pollstate_cursor(const struct pollstate *ps)
{
	return ps->cur;
}

/* Store a cursor (after the marks it covers: a failed mark fails it). */
static int cursor_put(struct pollstate *ps, const char *name, struct cursor c, struct lb_err *err)
{
	if (ps->mark_err.code)
		return pollstate_sync(ps, err);
	int rc = db_begin(ps->db, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	rc = db_prepare(ps->db,
			"INSERT OR REPLACE INTO poll_cursors(mailbox, uidvalidity, last_uid)"
			" VALUES (?, ?, ?)",
			&st, err);
	if (!rc) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, c.uidvalidity);
		sqlite3_bind_int64(st, 3, c.last_uid);
		rc = step_done(ps->db, st, "state/" DB_FILE ": poll_cursors", err);
		sqlite3_finalize(st);
	}
	if (rc)
		db_rollback(ps->db);
	else
		rc = db_commit(ps->db, err);
	return rc;
}

int pollstate_set_cursor(struct pollstate *ps, struct cursor c, struct lb_err *err)
{
	if (c.uidvalidity == ps->cur.uidvalidity && c.last_uid == ps->cur.last_uid)
		return 0;
	int rc = cursor_put(ps, ps->cursor_name, c, err);
	if (!rc)
		ps->cur = c;
	return rc;
}

int pollstate_cursor_of(const struct pollstate *ps, const char *url, struct cursor *c,
			struct lb_err *err)
{
	char *name = pollstate_cursor_name(url);
	int rc = cursor_get(ps->db, name, c, err);
	free(name);
	return rc;
}

int pollstate_set_cursor_of(struct pollstate *ps, const char *url, struct cursor c,
			    struct lb_err *err)
{
	char *name = pollstate_cursor_name(url);
	int rc = cursor_put(ps, name, c, err);
	free(name);
	return rc;
}

int pollstate_soft_bounce(struct pollstate *ps, const char *address, const char *key, time_t when,
			  long window, size_t *count, struct lb_err *err)
{
	*count = 0;
	char *akey = addr_key(address);
	sqlite3_stmt *st = NULL;
	/* Another bounce of the same address and message (a re-poll) counts
	 * once: kept by the primary key; the count walks the (address, when)
	 * index over the window only. */
	int rc = db_begin(ps->db, err);
	if (rc) {
		free(akey);
		return rc;
	}
	rc = db_prepare(
	    ps->db, "INSERT OR IGNORE INTO poll_soft_bounces(address, key, at) VALUES (?, ?, ?)",
	    &st, err);
	if (!rc) {
		sqlite3_bind_text(st, 1, akey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)when);
		rc = step_done(ps->db, st, "state/" DB_FILE ": poll_soft_bounces", err);
		sqlite3_finalize(st);
	}
	if (!rc)
		rc = db_prepare(ps->db,
				"SELECT count(*) FROM poll_soft_bounces"
				" WHERE address = ? AND at > ? AND at <= ? AND key <> ?",
				&st, err);
	if (!rc) {
		sqlite3_bind_text(st, 1, akey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(when - window));
		sqlite3_bind_int64(st, 3, (sqlite3_int64)when);
		sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			*count = (size_t)sqlite3_column_int64(st, 0);
			rows_read += *count; /* the index entries counted */
			r = SQLITE_DONE;
		}
		if (r != SQLITE_DONE)
			rc = db_fail(ps->db, "state/" DB_FILE ": poll_soft_bounces", err);
		sqlite3_finalize(st);
	}
	if (rc)
		db_rollback(ps->db);
	else
		rc = db_commit(ps->db, err);
	(*count)++; /* this one */
	free(akey);
	return rc;
}

int pollstate_close(struct pollstate *ps, struct lb_err *err)
{
	if (!ps)
		return 0;
	int rc = ps->db ? pollstate_sync(ps, err) : 0;
	sqlite3_finalize(ps->get_seen);
	sqlite3_finalize(ps->put_seen);
	sqlite3_finalize(ps->get_legacy);
	sqlite3_finalize(ps->put_legacy);
	strset_free(&ps->remembered);
	strset_free(&ps->legacy_inq);
	for (size_t i = 0; i < ps->nstored; i++)
		free(ps->stored[i].key);
	free(ps->stored);
	free(ps->state_dir);
	free(ps->cursor_name);
	free(ps);
	return rc;
}
