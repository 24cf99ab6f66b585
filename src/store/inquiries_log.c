/* The inquiry store, read: records as text, the log parsed into a book, the
 * copy of it this process keeps up to date, and the functions that read
 * (store/inquiries.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/inquiries.h"
#include "store/inquiries_int.h"

/* ---- records as text ----------------------------------------------------------------------- */

/* One value on one line: backslash, CR and LF escaped. */
static void put(struct buf *b, const char *key, const char *v)
{
	if (!v)
		return;
	buf_printf(b, "%s: ", key);
	for (; *v; v++) {
		if (*v == '\n')
			buf_adds(b, "\\n");
		else if (*v == '\r')
			buf_adds(b, "\\r");
		else if (*v == '\\')
			buf_adds(b, "\\\\");
		else
			buf_addc(b, *v);
	}
	buf_addc(b, '\n');
}

void inq_render(struct buf *b, const struct inquiry *q)
{
	struct buf t = BUF_INIT;
	buf_printf(b, "R %u\n", q->number);
	time_iso(&t, q->received);
	put(b, "received", t.p);
	put(b, "from", q->from);
	put(b, "from_name", q->from_name);
	put(b, "subject", q->subject);
	put(b, "message_id", q->message_id);
	put(b, "key", q->key);
	put(b, "article", q->article);
	put(b, "subscriber", q->subscriber ? "yes" : "no");
	put(b, "status", q->status);
	put(b, "priority", q->priority);
	put(b, "assignee", q->assignee);
	if (q->unparsed)
		put(b, "unparsed", "yes");
	if (q->truncated)
		put(b, "truncated", "yes");
	put(b, "attachments", q->attachments);
	put(b, "acknowledged", q->acknowledged);
	put(b, "alerted", q->alerted);
	put(b, "ack_state", q->ack_state);
	put(b, "alert_state", q->alert_state);
	put(b, "excerpt", q->excerpt);
	buf_printf(b, "message: %lld %zu\n", q->msg_off, q->msg_len);
	put(b, "copies", q->copies);
	buf_adds(b, ".\n");
	buf_free(&t);
}

static char *unescape(struct span v)
{
	const char *bs = memchr(v.p, '\\', v.n);
	if (!bs) /* the usual case: one allocation of the right size */
		return xstrndup(v.p, v.n);
	struct buf b = BUF_INIT;
	buf_grow(&b, v.n);
	const char *p = v.p, *end = v.p + v.n;
	while (p < end) {
		bs = memchr(p, '\\', (size_t)(end - p));
		if (!bs || bs + 1 >= end) {
			buf_add(&b, p, (size_t)(end - p));
			break;
		}
		buf_add(&b, p, (size_t)(bs - p));
		buf_addc(&b, bs[1] == 'n' ? '\n' : bs[1] == 'r' ? '\r' : bs[1]);
		p = bs + 2;
	}
	return buf_take(&b);
}

/* A record's keys, in the order inq_render writes them, with where the
 * text fields go (NO_SLOT: the others, parsed by parse_line): looking from
 * after the last key found, the next line's is usually the first tried
 * (the log has a dozen of these lines per record, and a store tens of
 * thousands of records). */
#define NO_SLOT ((size_t)-1)
/* clang-format off */
#define TEXT_FIELD(name) {#name, sizeof #name - 1, offsetof(struct inquiry, name)}
#define OTHER_FIELD(name) {#name, sizeof #name - 1, NO_SLOT}
/* clang-format on */
static const struct {
	const char *name;
	size_t len;
	size_t off;
} fields[] = {
    OTHER_FIELD(received),  TEXT_FIELD(from),	     TEXT_FIELD(from_name),
    TEXT_FIELD(subject),    TEXT_FIELD(message_id),  TEXT_FIELD(key),
    TEXT_FIELD(article),    OTHER_FIELD(subscriber), TEXT_FIELD(status),
    TEXT_FIELD(priority),   TEXT_FIELD(assignee),    OTHER_FIELD(unparsed),
    OTHER_FIELD(truncated), TEXT_FIELD(attachments), TEXT_FIELD(acknowledged),
    TEXT_FIELD(alerted),    TEXT_FIELD(ack_state),   TEXT_FIELD(alert_state),
    TEXT_FIELD(excerpt),    OTHER_FIELD(message),    TEXT_FIELD(copies),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

/* Where key k's text goes in q; NULL for the other keys and unknown ones.
 * *hint: where to start looking (after the last key found). */
static char **field_slot(struct inquiry *q, struct span k, size_t *hint)
{
	for (size_t j = 0; j < N_FIELDS; j++) {
		size_t i = (*hint + j) % N_FIELDS;
		if (k.n == fields[i].len && memcmp(k.p, fields[i].name, k.n) == 0) {
			*hint = i + 1;
			return fields[i].off == NO_SLOT
				   ? NULL
				   : (char **)(void *)((char *)q + fields[i].off);
		}
	}
	return NULL;
}

static bool key_is(struct span k, const char *name, size_t len)
{
	return k.n == len && memcmp(k.p, name, len) == 0;
}
#define KEY_IS(k, lit) key_is(k, lit, sizeof(lit) - 1)

/* v unescaped where it is (it can only shrink), and NUL-terminated there. */
static char *unescape_in_place(char *v, size_t n)
{
	char *bs = memchr(v, '\\', n);
	if (bs) {
		char *w = bs;
		for (const char *r = bs, *end = v + n; r < end; r++) {
			if (*r == '\\' && r + 1 < end) {
				r++;
				*w++ = *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
			} else {
				*w++ = *r;
			}
		}
		n = (size_t)(w - v);
	}
	v[n] = '\0';
	return v;
}

/* One "key: value" line of a record (line.p[line.n] is its newline).  Text
 * fields: a copy of their own, or, in a book that borrows (struct book),
 * the text itself, unescaped and NUL-terminated where it is. */
static void parse_line(struct book *b, struct inquiry *q, char *line, size_t len, size_t *hint)
{
	const char *colon = memchr(line, ':', len);
	if (!colon || colon + 1 >= line + len)
		return;
	struct span k = {line, (size_t)(colon - line)};
	struct span v = {colon + 2, len - k.n - 2};
	char **slot = field_slot(q, k, hint);
	if (slot && b->borrowed) {
		*slot = unescape_in_place(line + k.n + 2, v.n);
		return;
	}
	if (slot) {
		free(*slot);
		*slot = unescape(v);
		return;
	}
	if (KEY_IS(k, "received")) {
		time_parse(v, &q->received);
	} else if (KEY_IS(k, "subscriber")) {
		q->subscriber = KEY_IS(v, "yes");
	} else if (KEY_IS(k, "unparsed")) {
		q->unparsed = true;
	} else if (KEY_IS(k, "truncated")) {
		q->truncated = true;
	} else if (KEY_IS(k, "message")) {
		char num[48]; /* "OFFSET LENGTH", NUL-terminated for strto* */
		size_t n = v.n < sizeof num - 1 ? v.n : sizeof num - 1;
		memcpy(num, v.p, n);
		num[n] = '\0';
		char *end;
		q->msg_off = strtoll(num, &end, 10);
		q->msg_len = (size_t)strtoull(end, NULL, 10);
	}
}

/* ---- the log, read ------------------------------------------------------------------------ */

/* Free what q owns: everything, or in a book that borrows only its thread. */
static void record_drop(const struct book *b, struct inquiry *q)
{
	if (b->borrowed) {
		free(q->thread);
		memset(q, 0, sizeof *q);
	} else {
		inquiry_free(q);
	}
}

void inq_book_free(struct book *b)
{
	for (size_t i = 0; i < b->cap; i++)
		record_drop(b, &b->v[i]);
	free(b->v);
	free(b->gen);
	free(b->hist);
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

/* The INQ_NOTED_* bit a history line ("H N<TAB>time<TAB>who<TAB>what<TAB>…")
 * stands for: letterbox's entries on how an acknowledgement or alert ended. */
static unsigned history_noted(struct span line)
{
	static const struct {
		const char *what;
		unsigned bit;
	} outcomes[] = {{"acknowledged", INQ_NOTED_ACK},   {"ack-failed", INQ_NOTED_ACK},
			{"ack-uncertain", INQ_NOTED_ACK},  {"alerted", INQ_NOTED_ALERT},
			{"alert-failed", INQ_NOTED_ALERT}, {"alert-uncertain", INQ_NOTED_ALERT}};
	struct span f[4];
	const char *p = line.p, *end = line.p + line.n;
	for (size_t i = 0; i < 4; i++) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		f[i] = (struct span){p, tab ? (size_t)(tab - p) : (size_t)(end - p)};
		if (!tab && i < 3)
			return 0;
		p = tab ? tab + 1 : end;
	}
	if (!span_eq(f[2], "letterbox"))
		return 0;
	for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
		if (span_eq(f[3], outcomes[i].what))
			return outcomes[i].bit;
	return 0;
}

/* An "M N<TAB>entry" line: the entry joins N's thread. */
static void thread_line(struct book *b, unsigned n, struct span line)
{
	const char *tab = memchr(line.p, '\t', line.n);
	if (!tab)
		return;
	if (n >= b->tcap) {
		size_t old = b->tcap;
		b->threads = xgrowarray(b->threads, &b->tcap, (size_t)n + 1, sizeof *b->threads);
		memset(b->threads + old, 0, (b->tcap - old) * sizeof *b->threads);
	}
	if (!b->threads[n].n && b->v[n].thread) { /* read before: go on from it */
		buf_adds(&b->threads[n], b->v[n].thread);
		free(b->v[n].thread);
		b->v[n].thread = NULL;
	}
	if (b->threads[n].n)
		buf_addc(&b->threads[n], '\n');
	buf_add(&b->threads[n], tab + 1, line.n - (size_t)(tab + 1 - line.p));
}

/* The threads gathered go to their records. */
static void threads_settle(struct book *b)
{
	for (size_t i = 0; i < b->tcap; i++) {
		if (i < b->cap && b->v[i].number && b->threads[i].n)
			b->v[i].thread = buf_take(&b->threads[i]);
		buf_free(&b->threads[i]);
	}
	free(b->threads);
	b->threads = NULL;
	b->tcap = 0;
}

/* The N of an "R N", "H N<TAB>…", "M N<TAB>…" or "D N" line, as strtoul
 * reads it; the usual few digits without the call. */
static unsigned line_number(struct span line)
{
	unsigned n = 0;
	size_t i = 2;
	for (; i < line.n && i < 11 && line.p[i] >= '0' && line.p[i] <= '9'; i++)
		n = n * 10 + (unsigned)(line.p[i] - '0');
	if (i == 2 || i == 11) /* not a plain number: as strtoul has it */
		return (unsigned)strtoul(line.p + 2, NULL, 10);
	return n;
}

/* Parse the log's text [text, end) into b (a book that borrows keeps
 * pointers into text, and changes it: see struct book).  Returns how much of
 * it was read for good: up to the end of the last line outside a record, so
 * that a record being written (or cut short) is read again, whole, next
 * time. */
static size_t parse_log(struct book *b, char *text, char *end)
{
	char *p = text;
	size_t done = 0;
	struct inquiry cur = {0};
	bool in_record = false;
	size_t hint = 0; /* field_slot's */
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* an unfinished last line */
		char *start = p;
		struct span line = {p, (size_t)(nl - p)};
		p = nl + 1;
		if (in_record && line.n == 1 && line.p[0] == '.') {
			if (cur.number) {
				struct inquiry *s = slot(b, cur.number);
				cur.noted = s->noted;
				cur.thread = s->thread; /* M lines read before */
				s->thread = NULL;
				record_drop(b, s);
				*s = cur;
				if (cur.number > b->highest)
					b->highest = cur.number;
			} else {
				record_drop(b, &cur);
			}
			memset(&cur, 0, sizeof cur);
			in_record = false;
		} else if (line.n > 2 && line.p[1] == ' ' &&
			   (line.p[0] == 'R' || line.p[0] == 'H' || line.p[0] == 'D' ||
			    line.p[0] == 'M')) {
			if (in_record) /* a record cut short by a crash */
				record_drop(b, &cur);
			in_record = false;
			memset(&cur, 0, sizeof cur);
			unsigned n = line_number(line);
			if (line.p[0] == 'R') {
				in_record = true;
				cur.number = n;
			} else if (line.p[0] == 'M' && n < b->cap && b->v[n].number) {
				thread_line(b, n, line);
			} else if (line.p[0] == 'D' && n < b->cap) {
				record_drop(b, &b->v[n]);
				if (n < b->tcap)
					buf_free(&b->threads[n]);
			} else if (line.p[0] == 'H' && n < b->cap && b->v[n].number) {
				b->v[n].noted |= history_noted(line);
			}
			const char *tab =
			    line.p[0] == 'H' && b->borrowed ? memchr(line.p, '\t', line.n) : NULL;
			if (tab) {
				b->hist =
				    xgrowarray(b->hist, &b->hcap, b->nhist + 1, sizeof *b->hist);
				b->hist[b->nhist++] = (struct hist_ref){
				    n, tab + 1, line.n - (size_t)(tab + 1 - line.p)};
			}
			if (n > b->highest)
				b->highest = n;
		} else if (in_record) {
			parse_line(b, &cur, start, line.n, &hint);
		} else if (span_starts_with(line, INQ_HEADER)) {
			free(b->gen);
			b->gen = span_dup((struct span){line.p + strlen(INQ_HEADER),
							line.n - strlen(INQ_HEADER)});
		}
		if (!in_record)
			done = (size_t)(p - text);
	}
	record_drop(b, &cur);
	threads_settle(b);
	return done;
}

int inq_read_log(const char *dir, struct book *b, struct lb_err *err)
{
	memset(b, 0, sizeof *b);
	char *path = path_join(dir, "log");
	struct buf text = BUF_INIT;
	int rc = fsx_read_state(path, &text, 0, err);
	free(path);
	if (rc == 0)
		parse_log(b, text.p, text.p + text.n);
	if (!b->gen)
		b->gen = xstrdup("messages.1");
	buf_free(&text);
	/* No log yet is an empty store; a log we cannot read is an error, never
	 * "no inquiries". */
	return rc == LB_ENOINPUT ? 0 : rc;
}

/* The log as last read by this process, brought up to date by reading only
 * what was appended since (the log is append-only; compaction replaces the
 * file, which is then read afresh).  A poll that files thousands of
 * messages and loads a record for each reads the log once, not once per
 * message. */
static struct {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t done;
	struct book b;
	/* What was read of the log, one piece a read: b borrows from them. */
	char **pieces;
	size_t npieces, pcap;
} cache;

/* Whether fd's log is the one the cache read: the same file, not shorter,
 * and of the same generation (compaction writes a new file with the next
 * one, so a reused inode number cannot pass for the old log). */
static bool cache_fits(const char *path, int fd, const struct stat *st)
{
	if (!cache.path || strcmp(cache.path, path) != 0 || st->st_dev != cache.dev ||
	    st->st_ino != cache.ino || st->st_size < cache.done)
		return false;
	char head[160];
	ssize_t got = pread(fd, head, sizeof head - 1, 0);
	head[got > 0 ? got : 0] = '\0';
	char *nl = strchr(head, '\n');
	if (nl)
		*nl = '\0';
	const char *gen = strncmp(head, INQ_HEADER, strlen(INQ_HEADER)) == 0
			      ? head + strlen(INQ_HEADER)
			      : "messages.1";
	return cache.b.gen && strcmp(gen, cache.b.gen) == 0;
}

static int book_current(const char *dir, const struct book **out, struct lb_err *err)
{
	char *path = path_join(dir, "log");
	struct stat st;
	int rc = 0, fd = fsx_open_state(path, O_RDONLY, 0, err);
	if (fd < 0 && err->code != LB_ENOINPUT)
		rc = err->code; /* no log yet is an empty store */
	else if (fd >= 0 && fstat(fd, &st) < 0)
		rc = err_sys(err, LB_EIO, "%s", path);
	if (rc || fd < 0 || !cache_fits(path, fd, &st)) {
		inq_book_free(&cache.b);
		memset(&cache.b, 0, sizeof cache.b);
		free(cache.path);
		cache.path = NULL;
		cache.done = 0;
		for (size_t i = 0; i < cache.npieces; i++)
			free(cache.pieces[i]);
		cache.npieces = 0;
	}
	cache.b.borrowed = true;
	/* One read(2) of the whole log the first time, of what was appended
	 * after; the records point into what was read (no copy of each field),
	 * so it is kept, and never moves. */
	if (!rc && fd >= 0 && st.st_size > cache.done) {
		size_t want = (size_t)(st.st_size - cache.done);
		char *piece = xmalloc(want + 1);
		ssize_t got = pread(fd, piece, want, cache.done);
		size_t used = 0;
		if (got < 0) {
			rc = err_sys(err, LB_EIO, "%s", path);
		} else {
			piece[got] = '\0';
			used = parse_log(&cache.b, piece, piece + got);
			cache.done += (off_t)used;
			cache.path = cache.path ? cache.path : xstrdup(path);
			cache.dev = st.st_dev;
			cache.ino = st.st_ino;
		}
		if (used) {
			cache.pieces = xgrowarray(cache.pieces, &cache.pcap, cache.npieces + 1,
						  sizeof *cache.pieces);
			cache.pieces[cache.npieces++] = piece;
		} else {
			free(piece); /* nothing in it was read for good */
		}
	}
	if (fd >= 0)
		close(fd);
	if (!cache.b.gen)
		cache.b.gen = xstrdup("messages.1");
	free(path);
	*out = &cache.b;
	return rc;
}

/* A deep copy of q. */
static void inquiry_clone(struct inquiry *dst, const struct inquiry *src)
{
	*dst = *src;
	char **all[] = {&dst->from,    &dst->from_name,	  &dst->subject,      &dst->message_id,
			&dst->article, &dst->status,	  &dst->priority,     &dst->assignee,
			&dst->excerpt, &dst->attachments, &dst->acknowledged, &dst->alerted,
			&dst->copies,  &dst->ack_state,	  &dst->alert_state,  &dst->key,
			&dst->thread};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (*all[i])
			*all[i] = xstrdup(*all[i]);
}

int inquiries_next_number(const char *state_dir, unsigned *next, struct lb_err *err)
{
	char *dir = inq_store_dir(state_dir);
	const struct book *b;
	int rc = book_current(dir, &b, err);
	if (!rc)
		*next = b->highest + 1;
	free(dir);
	return rc;
}

int inquiry_load(const char *state_dir, unsigned number, struct inquiry *q, struct lb_err *err)
{
	memset(q, 0, sizeof *q);
	char *dir = inq_store_dir(state_dir);
	const struct book *b;
	int rc = book_current(dir, &b, err);
	if (!rc && (!b->v || number >= b->cap || !b->v[number].number))
		rc = err_set(err, LB_EDATA, "there is no inquiry %u", number);
	if (!rc)
		inquiry_clone(q, &b->v[number]);
	free(dir);
	return rc;
}

int inquiries_load(const char *state_dir, struct inquiry **v, size_t *n, struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	char *dir = inq_store_dir(state_dir);
	const struct book *b;
	int rc = book_current(dir, &b, err);
	if (!rc) {
		size_t cap = 0;
		for (size_t i = 0; i < b->cap; i++) {
			if (!b->v[i].number)
				continue;
			*v = xgrowarray(*v, &cap, *n + 1, sizeof **v);
			inquiry_clone(&(*v)[(*n)++], &b->v[i]);
		}
	}
	free(dir);
	return rc;
}

int inquiries_view(const char *state_dir, const struct inquiry ***v, size_t *n, struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	char *dir = inq_store_dir(state_dir);
	const struct book *b;
	int rc = book_current(dir, &b, err);
	size_t k = 0;
	for (size_t i = 0; !rc && i < b->cap; i++)
		k += b->v[i].number != 0;
	if (k) {
		*v = xmalloc(k * sizeof **v);
		for (size_t i = 0; i < b->cap; i++)
			if (b->v[i].number)
				(*v)[(*n)++] = &b->v[i];
	}
	free(dir);
	return rc;
}

char *inquiry_history(const char *state_dir, unsigned number)
{
	char *dir = inq_store_dir(state_dir);
	const struct book *b;
	struct buf h = BUF_INIT;
	struct lb_err err;
	if (!book_current(dir, &b, &err))
		for (size_t i = 0; i < b->nhist; i++)
			if (b->hist[i].number == number) {
				buf_add(&h, b->hist[i].p, b->hist[i].len);
				buf_addc(&h, '\n');
			}
	free(dir);
	return buf_take(&h);
}
