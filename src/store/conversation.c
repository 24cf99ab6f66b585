/* The messages of an inquiry's conversation and the copies of the replies
 * sent: stored in the messages file next to the first message (see
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
#include "store/inquiries_int.h"

/* ---- reading messages back ---------------------------------------------------------------- */

int inq_read_blob(const char *state_dir, long long off, size_t len, struct buf *out,
		  struct lb_err *err)
{
	char *dir = inq_store_dir(state_dir);
	char *gen = NULL;
	int rc = inq_generation(dir, &gen, err);
	char *path = path_join(dir, gen);
	int fd = rc ? -1 : fsx_open_state(path, O_RDONLY, 0, err);
	if (!rc && fd < 0)
		rc = err->code;
	if (!rc && !buf_grow(out, len))
		rc = err_set(err, LB_EDATA, "%s: a message too large to read", path);
	if (!rc) {
		ssize_t got = pread(fd, out->p + out->n, len, (off_t)off);
		if (got != (ssize_t)len)
			rc =
			    err_set(err, LB_EIO, "%s: the message at %lld is cut short", path, off);
		else {
			out->n += len;
			out->p[out->n] = '\0';
		}
	}
	if (fd >= 0)
		close(fd);
	free(path);
	free(gen);
	free(dir);
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
	char *dir = inq_store_dir(state_dir);
	char *gen = NULL;
	int fd = -1;
	long long off = 0;
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_generation(dir, &gen, err);
	if (!rc)
		rc = inq_add_blob(dir, gen, q->number, raw, n, &off, err);
	if (fd >= 0)
		close(fd);
	if (!rc) {
		struct buf c = BUF_INIT;
		unsigned count = 1;
		if (q->copies && *q->copies) {
			buf_printf(&c, "%s ", q->copies);
			for (const char *s = q->copies; *s; s++)
				count += *s == ' ';
			count++;
		}
		buf_printf(&c, "%lld:%zu", off, n);
		free(q->copies);
		q->copies = buf_take(&c);
		*k = count;
		rc = inquiry_save(state_dir, q, err);
	}
	free(gen);
	free(dir);
	return rc;
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
	long long off = strtoll(s, &end, 10);
	size_t len = *end == ':' ? (size_t)strtoull(end + 1, NULL, 10) : 0;
	return inq_read_blob(state_dir, off, len, out, err);
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

/* The log line that adds entry (one thread line) to number's thread. */
static void m_line(struct buf *b, unsigned number, struct span entry)
{
	buf_printf(b, "M %u\t", number);
	buf_addspan(b, entry);
	buf_addc(b, '\n');
}

void inq_render_thread(struct buf *b, const struct inquiry *q)
{
	for (const char *p = q->thread ? q->thread : ""; *p;) {
		const char *nl = strchr(p, '\n');
		struct span line = {p, nl ? (size_t)(nl - p) : strlen(p)};
		m_line(b, q->number, line);
		p = nl ? nl + 1 : p + line.n;
	}
}

int inquiry_add_message(const char *state_dir, struct inquiry *q, struct conv_msg *m,
			const char *raw, size_t n, bool save, const struct inq_note *notes,
			size_t nnotes, struct lb_err *err)
{
	char *dir = inq_store_dir(state_dir);
	char *gen = NULL;
	int fd = -1;
	struct buf rec = BUF_INIT, line = BUF_INIT;
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_generation(dir, &gen, err);
	/* The message first, then the log lines that point at it. */
	if (!rc)
		rc = inq_add_blob(dir, gen, q->number, raw, n, &m->off, err);
	const char *crash = getenv("LETTERBOX_TEST_CRASH"); /* receive/followup.c */
	if (!rc && crash && strcmp(crash, "after-followup-message") == 0)
		raise(SIGKILL);
	if (!rc) {
		m->dir = CONV_IN;
		m->len = n;
		in_entry(&line, m);
		thread_add(q, &line);
		m_line(&rec, q->number, buf_span(&line));
		if (save)
			inq_render(&rec, q);
		for (size_t i = 0; i < nnotes; i++)
			inq_history_line(&rec, q->number, m->when, "letterbox", notes[i].what,
					 notes[i].detail);
		rc = inq_append(dir, "log", rec.p, rec.n, NULL, err);
	}
	if (fd >= 0)
		close(fd);
	buf_free(&rec);
	buf_free(&line);
	free(gen);
	free(dir);
	return rc;
}

int inquiry_note_sent(const char *state_dir, struct inquiry *q, time_t when, const char *message_id,
		      const char *kind, struct lb_err *err)
{
	if (!message_id || !*message_id)
		return 0;
	char *dir = inq_store_dir(state_dir);
	struct buf line = BUF_INIT, rec = BUF_INIT;
	int fd = -1;
	out_entry(&line, when, message_id, kind);
	m_line(&rec, q->number, buf_span(&line));
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_append(dir, "log", rec.p, rec.n, NULL, err);
	if (!rc)
		thread_add(q, &line);
	if (fd >= 0)
		close(fd);
	buf_free(&line);
	buf_free(&rec);
	free(dir);
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

/* ---- compaction ------------------------------------------------------------------------------ */

/* Append blob as number's to msgs; returns where its bytes start. */
static size_t put_blob(struct buf *msgs, unsigned number, const struct buf *blob)
{
	buf_printf(msgs, "#%u %zu\n", number, blob->n);
	size_t off = msgs->n;
	buf_addspan(msgs, buf_span(blob));
	buf_addc(msgs, '\n');
	return off;
}

int inq_relocate(const char *state_dir, struct inquiry *q, struct buf *msgs, struct lb_err *err)
{
	struct buf blob = BUF_INIT;
	int rc = inquiry_message(state_dir, q, &blob, err);
	q->msg_off = (long long)put_blob(msgs, q->number, &blob);
	struct buf copies = BUF_INIT;
	for (unsigned k = 1; !rc && q->copies && *q->copies; k++) {
		buf_reset(&blob);
		struct lb_err e = {0};
		if (inquiry_copy(state_dir, q, k, &blob, &e) != 0)
			break;
		size_t off = put_blob(msgs, q->number, &blob);
		buf_printf(&copies, "%s%zu:%zu", copies.n ? " " : "", off, blob.n);
	}
	if (q->copies) {
		free(q->copies);
		q->copies = copies.n ? buf_take(&copies) : NULL;
	}
	/* The thread, its entries rewritten with their messages' new places. */
	size_t n = 0;
	struct conv_msg *v = rc ? NULL : conv_msgs(q, &n);
	struct buf thread = BUF_INIT;
	for (size_t i = 0; !rc && i < n; i++) {
		struct buf line = BUF_INIT;
		if (v[i].dir == CONV_IN) {
			buf_reset(&blob);
			rc = conv_msg_raw(state_dir, &v[i], &blob, err);
			v[i].off = (long long)put_blob(msgs, q->number, &blob);
			in_entry(&line, &v[i]);
		} else {
			out_entry(&line, v[i].when, v[i].message_id, v[i].from);
		}
		if (thread.n)
			buf_addc(&thread, '\n');
		buf_addspan(&thread, buf_span(&line));
		buf_free(&line);
	}
	if (!rc && q->thread) {
		free(q->thread);
		q->thread = thread.n ? buf_take(&thread) : NULL;
	}
	conv_msgs_free(v, n);
	buf_free(&thread);
	buf_free(&copies);
	buf_free(&blob);
	return rc;
}
