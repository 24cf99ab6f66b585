/* The messages of an inquiry's conversation and the copies of the replies
 * sent: rows of the store next to the first message (see
 * store/conversation.h and store/inquiries.h). */
#include "store/conversation.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/db.h"
#include "store/inquiries_int.h"

/* ---- messages and copies ------------------------------------------------------------------ */

int inq_read_blob(const char *state_dir, long long id, size_t len, struct buf *out,
		  struct lb_err *err)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = inq_db(state_dir, &db, err);
	if (!rc)
		rc = db_prepare(db, "SELECT data FROM inq_blobs WHERE id = ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		if (n != len)
			rc = err_set(err, LB_EDATA,
				     "state/" DB_FILE ": message %lld is %zu bytes, not %zu", id, n,
				     len);
		else if (!buf_grow(out, n))
			rc = err_set(err, LB_EDATA, "a message too large to read");
		else
			buf_add(out, p, n);
	} else if (s == SQLITE_DONE) {
		rc = err_set(err, LB_EDATA, "state/" DB_FILE ": message %lld is missing", id);
	} else {
		rc = db_fail(db, "state/" DB_FILE ": inq_blobs", err);
	}
	sqlite3_finalize(st);
	return rc;
}

int inquiry_message(const char *state_dir, const struct inquiry *q, struct buf *out,
		    struct lb_err *err)
{
	return inq_read_blob(state_dir, q->msg_off, q->msg_len, out, err);
}

int inquiry_add_copy(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		     unsigned *k, struct lb_err *err)
{
	sqlite3 *db;
	long long id = 0;
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	rc = inq_put_blob(db, q->number, raw, n, &id, err);
	char *before = q->copies;
	if (!rc) {
		struct buf c = BUF_INIT;
		unsigned count = 1;
		if (q->copies && *q->copies) {
			buf_printf(&c, "%s ", q->copies);
			for (const char *s = q->copies; *s; s++)
				count += *s == ' ';
			count++;
		}
		buf_printf(&c, "%lld:%zu", id, n);
		q->copies = buf_take(&c);
		*k = count;
		rc = inq_put(db, q, 0, err);
	}
	if (rc) {
		db_rollback(db);
		if (q->copies != before) {
			free(q->copies);
			q->copies = before;
		}
		return rc;
	}
	free(before);
	return db_commit(db, err);
}

int inquiry_copy(const char *state_dir, const struct inquiry *q, unsigned k, struct buf *out,
		 struct lb_err *err)
{
	const char *s = q->copies ? q->copies : "";
	for (unsigned i = 1; *s && i < k; i++) {
		s = strchr(s, ' ');
		s = s ? s + 1 : "";
	}
	if (!*s || k == 0)
		return err_set(err, LB_EDATA, "inquiry %u has no copy %u", q->number, k);
	char *end;
	long long id = strtoll(s, &end, 10);
	size_t len = *end == ':' ? (size_t)strtoull(end + 1, NULL, 10) : 0;
	return inq_read_blob(state_dir, id, len, out, err);
}

/* ---- the thread ----------------------------------------------------------------------------- */

/* v's fields in one line, tabs and line breaks in them made blanks. */
static void entry(struct buf *b, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, '\t');
		for (const char *s = v[i] ? v[i] : ""; *s; s++)
			buf_addc(b, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
	}
}

static void thread_add(struct inquiry *q, const struct buf *line)
{
	struct buf t = BUF_INIT;
	if (q->thread && *q->thread) {
		buf_adds(&t, q->thread);
		buf_addc(&t, '\n');
	}
	buf_addspan(&t, buf_span(line));
	free(q->thread);
	q->thread = buf_take(&t);
}

static void in_entry(struct buf *b, const struct conv_msg *m)
{
	struct buf when = BUF_INIT, off = BUF_INIT, len = BUF_INIT;
	time_iso(&when, m->when);
	buf_printf(&off, "%lld", m->off);
	buf_printf(&len, "%zu", m->len);
	const char *v[] = {"in", when.p, off.p, len.p, m->key, m->message_id, m->from};
	entry(b, v, sizeof v / sizeof v[0]);
	buf_free(&when);
	buf_free(&off);
	buf_free(&len);
}

static void out_entry(struct buf *b, time_t when, const char *message_id, const char *kind)
{
	struct buf t = BUF_INIT;
	time_iso(&t, when);
	const char *v[] = {"out", t.p, message_id, kind};
	entry(b, v, sizeof v / sizeof v[0]);
	buf_free(&t);
}

/* Split line at tabs into at most max fields; returns how many. */
static size_t fields(struct span line, struct span *f, size_t max)
{
	size_t k = 0;
	const char *p = line.p, *end = line.p + line.n;
	while (k < max) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		f[k++] = (struct span){p, tab ? (size_t)(tab - p) : (size_t)(end - p)};
		if (!tab)
			break;
		p = tab + 1;
	}
	return k;
}

static char *field_dup(struct span s)
{
	return s.n ? span_dup(s) : NULL;
}

struct conv_msg *conv_msgs(const struct inquiry *q, size_t *n)
{
	struct conv_msg *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (const char *p = q->thread ? q->thread : ""; *p;) {
		const char *nl = strchr(p, '\n');
		struct span line = {p, nl ? (size_t)(nl - p) : strlen(p)};
		p = nl ? nl + 1 : p + line.n;
		struct span f[7];
		size_t k = fields(line, f, 7);
		struct conv_msg m = {0};
		char *when = k >= 2 ? span_dup(f[1]) : NULL;
		bool ok = when && time_parse(span_cstr(when), &m.when);
		free(when);
		if (ok && k == 7 && span_eq(f[0], "in")) {
			char *num = span_dup(f[2]);
			m.off = strtoll(num, NULL, 10);
			free(num);
			num = span_dup(f[3]);
			m.len = (size_t)strtoull(num, NULL, 10);
			free(num);
			m.dir = CONV_IN;
			m.key = field_dup(f[4]);
			m.message_id = field_dup(f[5]);
			m.from = field_dup(f[6]);
		} else if (ok && k == 4 && span_eq(f[0], "out")) {
			m.dir = CONV_OUT;
			m.message_id = field_dup(f[2]);
			m.from = field_dup(f[3]);
		} else {
			continue; /* written by a newer letterbox, or damaged */
		}
		v = xgrowarray(v, &cap, *n + 1, sizeof *v);
		v[(*n)++] = m;
	}
	return v;
}

void conv_msgs_free(struct conv_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].message_id);
		free(v[i].from);
	}
	free(v);
}

int inquiry_add_message(const char *state_dir, struct inquiry *q, struct conv_msg *m,
			const char *raw, size_t n, bool save, const struct inq_note *notes,
			size_t nnotes, struct lb_err *err)
{
	sqlite3 *db;
	struct buf line = BUF_INIT;
	int rc = inq_db(state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	rc = inq_put_blob(db, q->number, raw, n, &m->off, err);
	const char *crash = getenv("LETTERBOX_TEST_CRASH"); /* receive/followup.c */
	if (!rc && crash && strcmp(crash, "after-followup-message") == 0)
		raise(SIGKILL);
	if (!rc) {
		m->dir = CONV_IN;
		m->len = n;
		in_entry(&line, m);
		rc = inq_put_entry(db, q->number, line.p, m->message_id, m->key, m->when, err);
	}
	if (!rc && save)
		rc = inq_put(db, q, 0, err);
	for (size_t i = 0; !rc && i < nnotes; i++)
		rc = inq_put_history(db, q->number, m->when, "letterbox", notes[i].what,
				     notes[i].detail, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc)
		thread_add(q, &line);
	buf_free(&line);
	return rc;
}

int inquiry_note_sent(const char *state_dir, struct inquiry *q, time_t when, const char *message_id,
		      const char *kind, struct lb_err *err)
{
	if (!message_id || !*message_id)
		return 0;
	sqlite3 *db;
	struct buf line = BUF_INIT;
	out_entry(&line, when, message_id, kind);
	int rc = inq_db(state_dir, &db, err);
	if (!rc && !(rc = db_begin(db, err))) {
		rc = inq_put_entry(db, q->number, line.p, message_id, NULL, when, err);
		if (!rc)
			rc = db_commit(db, err);
		else
			db_rollback(db);
	}
	if (!rc)
		thread_add(q, &line);
	buf_free(&line);
	return rc;
}

int conv_msg_raw(const char *state_dir, const struct conv_msg *m, struct buf *out,
		 struct lb_err *err)
{
	if (m->dir != CONV_IN)
		return err_set(err, LB_EDATA,
			       "a mail of ours is kept as a copy, not in the thread");
	return inq_read_blob(state_dir, m->off, m->len, out, err);
}

time_t inquiry_last_message(const struct inquiry *q)
{
	time_t last = q->received;
	size_t n;
	struct conv_msg *v = conv_msgs(q, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].when > last)
			last = v[i].when;
	conv_msgs_free(v, n);
	return last;
}
