/* The inquiries of the release before the indexed store, read into its
 * tables on the upgrade (store/db.h, store/inquiries_int.h).
 *
 * That release kept state/inquiries/ with two append-only files:
 *   messages.G  the raw messages ("#N LENGTH\n" + LENGTH bytes + "\n"): first
 *               messages, later ones of a conversation, reply copies;
 *   log         "# letterbox inquiries messages.G" and then
 *                 R N / key: value lines / "."   a version of N's record,
 *                                               the latest one wins;
 *                 H N<TAB>time<TAB>who<TAB>what<TAB>detail   history;
 *                 M N<TAB>entry                 a conversation entry;
 *                 D N                           N was purged.
 * A record is committed by its "." line: one cut short (a crash mid-write)
 * is ignored, as that release's reader ignored it.  The messages are copied
 * into inq_blobs, and the records' and entries' offsets into messages.G
 * become those rows' ids. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/db.h"
#include "store/inquiries_int.h"

#define INQ_HEADER "# letterbox inquiries "

/* ---- the log, parsed ------------------------------------------------------------------------ */

struct hist {
	unsigned number;
	char *line; /* "time<TAB>who<TAB>what<TAB>detail" */
};

struct book {
	struct inquiry *v; /* indexed by number; number 0 = absent */
	size_t cap;
	unsigned highest;
	char *gen;
	struct buf *threads; /* the M lines' entries, by number */
	size_t tcap;
	struct hist *hist;
	size_t nhist, hcap;
};

/* v with its escapes (\\n, \\r, \\\\) undone, in an allocation of its own
 * size (a store has hundreds of thousands of these). */
static char *unescape(struct span v)
{
	char *out = xmalloc(v.n + 1), *w = out;
	for (const char *p = v.p, *end = v.p + v.n; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
			*w++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return out;
}

#define TEXT_FIELD(name)                                                                           \
	{                                                                                          \
#name, offsetof(struct inquiry, name)                                              \
	}
static const struct {
	const char *name;
	size_t off;
} text_fields[] = {
    TEXT_FIELD(from),	     TEXT_FIELD(from_name),    TEXT_FIELD(subject),
    TEXT_FIELD(message_id),  TEXT_FIELD(key),	       TEXT_FIELD(article),
    TEXT_FIELD(status),	     TEXT_FIELD(priority),     TEXT_FIELD(assignee),
    TEXT_FIELD(attachments), TEXT_FIELD(acknowledged), TEXT_FIELD(alerted),
    TEXT_FIELD(ack_state),   TEXT_FIELD(alert_state),  TEXT_FIELD(excerpt),
    TEXT_FIELD(copies),
};

/* One "key: value" line of a record. */
static void parse_line(struct inquiry *q, struct span line)
{
	const char *colon = memchr(line.p, ':', line.n);
	if (!colon || colon + 1 >= line.p + line.n)
		return;
	struct span k = {line.p, (size_t)(colon - line.p)};
	struct span v = {colon + 2, line.n - k.n - 2};
	for (size_t i = 0; i < sizeof text_fields / sizeof text_fields[0]; i++)
		if (span_eq(k, text_fields[i].name)) {
			char **slot = (char **)(void *)((char *)q + text_fields[i].off);
			free(*slot);
			*slot = unescape(v);
			return;
		}
	if (span_eq(k, "received")) {
		time_parse(v, &q->received);
	} else if (span_eq(k, "subscriber")) {
		q->subscriber = span_eq(v, "yes");
	} else if (span_eq(k, "unparsed")) {
		q->unparsed = true;
	} else if (span_eq(k, "truncated")) {
		q->truncated = true;
	} else if (span_eq(k, "message")) {
		char num[48];
		size_t n = v.n < sizeof num - 1 ? v.n : sizeof num - 1;
		memcpy(num, v.p, n);
		num[n] = '\0';
		char *end;
		q->msg_off = strtoll(num, &end, 10);
		q->msg_len = (size_t)strtoull(end, NULL, 10);
	}
}

static struct inquiry *slot(struct book *b, unsigned n)
{
	if (n >= b->cap) {
		size_t old = b->cap;
		b->v = xgrowarray(b->v, &b->cap, (size_t)n + 1, sizeof *b->v);
		memset(b->v + old, 0, (b->cap - old) * sizeof *b->v);
	}
	return &b->v[n];
}

static struct buf *thread_of(struct book *b, unsigned n)
{
	if (n >= b->tcap) {
		size_t old = b->tcap;
		b->threads = xgrowarray(b->threads, &b->tcap, (size_t)n + 1, sizeof *b->threads);
		memset(b->threads + old, 0, (b->tcap - old) * sizeof *b->threads);
	}
	return &b->threads[n];
}

static void book_free(struct book *b)
{
	for (size_t i = 0; i < b->cap; i++)
		inquiry_free(&b->v[i]);
	free(b->v);
	for (size_t i = 0; i < b->tcap; i++)
		buf_free(&b->threads[i]);
	free(b->threads);
	for (size_t i = 0; i < b->nhist; i++)
		free(b->hist[i].line);
	free(b->hist);
	free(b->gen);
}

static bool present(const struct book *b, unsigned n)
{
	return n < b->cap && b->v[n].number;
}

/* The log's text, as that release's reader read it. */
static void parse_log(struct book *b, const char *p, const char *end)
{
	struct inquiry cur = {0};
	bool in_record = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* an unfinished last line */
		struct span line = {p, (size_t)(nl - p)};
		p = nl + 1;
		if (in_record && line.n == 1 && line.p[0] == '.') {
			if (cur.number) {
				struct inquiry *s = slot(b, cur.number);
				inquiry_free(s);
				*s = cur;
				if (cur.number > b->highest)
					b->highest = cur.number;
			} else {
				inquiry_free(&cur);
			}
			memset(&cur, 0, sizeof cur);
			in_record = false;
		} else if (line.n > 2 && line.p[1] == ' ' &&
			   (line.p[0] == 'R' || line.p[0] == 'H' || line.p[0] == 'D' ||
			    line.p[0] == 'M')) {
			inquiry_free(&cur); /* a record cut short by a crash */
			in_record = false;
			unsigned n = (unsigned)strtoul(line.p + 2, NULL, 10);
			const char *tab = memchr(line.p, '\t', line.n);
			struct span rest = {tab ? tab + 1 : line.p + line.n,
					    tab ? line.n - (size_t)(tab + 1 - line.p) : 0};
			if (line.p[0] == 'R') {
				in_record = true;
				cur.number = n;
			} else if (line.p[0] == 'M' && tab && present(b, n)) {
				struct buf *t = thread_of(b, n);
				if (t->n)
					buf_addc(t, '\n');
				buf_addspan(t, rest);
			} else if (line.p[0] == 'D' && n < b->cap) {
				inquiry_free(&b->v[n]);
				if (n < b->tcap)
					buf_free(&b->threads[n]);
			} else if (line.p[0] == 'H' && tab) {
				b->hist =
				    xgrowarray(b->hist, &b->hcap, b->nhist + 1, sizeof *b->hist);
				b->hist[b->nhist++] = (struct hist){n, span_dup(rest)};
			}
			if (n > b->highest)
				b->highest = n;
		} else if (in_record) {
			parse_line(&cur, line);
		} else if (span_starts_with(line, INQ_HEADER)) {
			free(b->gen);
			b->gen = span_dup((struct span){line.p + strlen(INQ_HEADER),
							line.n - strlen(INQ_HEADER)});
		}
	}
	inquiry_free(&cur);
}

/* ---- into the tables ------------------------------------------------------------------------ */

struct importer {
	sqlite3 *db;
	int fd; /* messages.G, or -1 */
	const char *path;
};

/* The message at off (len bytes) of messages.G as a blob of number's: *id,
 * or 0 when it cannot be read (that release could not read it either). */
static int move_blob(struct importer *im, unsigned number, long long off, size_t len, long long *id,
		     struct lb_err *err)
{
	*id = 0;
	char *p = xmalloc(len + 1);
	ssize_t got = im->fd < 0 ? -1 : pread(im->fd, p, len, (off_t)off);
	int rc = 0;
	if (got == (ssize_t)len)
		rc = inq_put_blob(im->db, number, p, len, id, err);
	else
		log_warn("%s: inquiry %u: the message at %lld is cut short or missing", im->path,
			 number, off);
	free(p);
	return rc;
}

/* Split line at tabs into at most max fields; returns how many. */
static size_t split(char *line, char **f, size_t max)
{
	size_t k = 0;
	f[k++] = line;
	for (char *t; k < max && (t = strchr(f[k - 1], '\t')) != NULL;) {
		*t = '\0';
		f[k++] = t + 1;
	}
	return k;
}

/* One conversation entry: an incoming message's bytes move to a blob. */
static int move_entry(struct importer *im, unsigned number, const char *entry, struct lb_err *err)
{
	char *copy = xstrdup(entry);
	char *f[7];
	size_t k = split(copy, f, 7);
	int rc = 0;
	if (k == 7 && !strcmp(f[0], "in")) {
		long long id;
		rc = move_blob(im, number, strtoll(f[2], NULL, 10),
			       (size_t)strtoull(f[3], NULL, 10), &id, err);
		struct buf e = BUF_INIT;
		buf_printf(&e, "in\t%s\t%lld\t%s\t%s\t%s\t%s", f[1], id, f[3], f[4], f[5], f[6]);
		if (!rc)
			rc = inq_put_entry(im->db, number, e.p, f[5], f[4], 0, err);
		buf_free(&e);
	} else {
		rc = inq_put_entry(im->db, number, entry, k == 4 ? f[2] : NULL, NULL, 0, err);
	}
	free(copy);
	return rc;
}

static int move_record(struct importer *im, struct inquiry *q, const char *thread,
		       struct lb_err *err)
{
	long long id;
	int rc = move_blob(im, q->number, q->msg_off, q->msg_len, &id, err);
	q->msg_off = id;
	struct buf copies = BUF_INIT;
	for (const char *c = q->copies; !rc && c && *c;) {
		char *end;
		long long off = strtoll(c, &end, 10);
		size_t len = *end == ':' ? (size_t)strtoull(end + 1, &end, 10) : 0;
		rc = move_blob(im, q->number, off, len, &id, err);
		buf_printf(&copies, "%s%lld:%zu", copies.n ? " " : "", id, len);
		c = strchr(end, ' ');
		c = c ? c + 1 : NULL;
	}
	if (q->copies) {
		free(q->copies);
		q->copies = copies.n ? buf_take(&copies) : NULL;
	}
	buf_free(&copies);
	/* noted and last_message go in with the record: an UPDATE of each row
	 * after it, within the upgrade's one transaction, costs SQLite memory
	 * in proportion to the store */
	time_t last = q->received;
	for (const char *t = thread; t && *t;) {
		const char *tab = strchr(t, '\t'), *nl = strchr(t, '\n');
		time_t w;
		if (tab && (!nl || tab < nl) && time_parse((struct span){tab + 1, 20}, &w) &&
		    w > last)
			last = w;
		t = nl ? nl + 1 : NULL;
	}
	if (!rc)
		rc = inq_put(im->db, q, last, err);
	for (const char *t = thread; !rc && t && *t;) {
		const char *nl = strchr(t, '\n');
		char *entry = nl ? xstrndup(t, (size_t)(nl - t)) : xstrdup(t);
		rc = move_entry(im, q->number, entry, err);
		free(entry);
		t = nl ? nl + 1 : NULL;
	}
	return rc;
}

int inquiries_import(sqlite3 *db, const char *state_dir, struct lb_err *err)
{
	char *dir = path_join(state_dir, "inquiries");
	char *log = path_join(dir, "log");
	struct buf text = BUF_INIT;
	struct book b = {0};
	int rc = fsx_read_state(log, &text, 0, err);
	free(log);
	if (rc == LB_ENOINPUT) { /* no inquiries yet */
		free(dir);
		return 0;
	}
	if (!rc)
		parse_log(&b, text.p, text.p + text.n);
	buf_free(&text);
	char *msgs = rc ? NULL : path_join(dir, b.gen ? b.gen : "messages.1");
	struct importer im = {db, -1, msgs};
	if (msgs) {
		im.fd = open(msgs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (im.fd < 0 && errno != ENOENT)
			rc = err_sys(err, fsx_errno_code(errno), "%s", msgs);
	}
	for (size_t i = 0; i < b.nhist; i++)
		if (present(&b, b.hist[i].number)) {
			char *f[4], *copy = xstrdup(b.hist[i].line);
			if (split(copy, f, 4) == 4)
				b.v[b.hist[i].number].noted |= inq_noted_bit(f[1], f[2]);
			free(copy);
		}
	/* Statements prepared once, and a larger page cache (the indexes take
	 * rows in no order of theirs) for the length of the import. */
	inq_batch(true);
	if (!rc)
		rc = db_exec(db, "PRAGMA cache_size = -8000", err);
	for (size_t i = 0; !rc && i < b.cap; i++)
		if (b.v[i].number)
			rc = move_record(
			    &im, &b.v[i],
			    i < b.tcap && b.threads[i].n ? buf_cstr(&b.threads[i]) : NULL, err);
	/* The history of those there are, in the order it was written. */
	for (size_t i = 0; !rc && i < b.nhist; i++) {
		if (!present(&b, b.hist[i].number))
			continue;
		static char none[1];
		char *f[4] = {none, none, none, none};
		split(b.hist[i].line, f, 4);
		rc = inq_put_history_text(db, b.hist[i].number, f[0], f[1], f[2], f[3], false, err);
	}
	if (!rc && b.highest)
		rc = inq_put_highest(db, b.highest, err);
	inq_batch(false);
	sqlite3_exec(db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
	if (im.fd >= 0)
		close(im.fd);
	free(msgs);
	book_free(&b);
	free(dir);
	return rc;
}
