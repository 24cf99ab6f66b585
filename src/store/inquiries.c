#include "store/inquiries.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"

#define HEADER "# letterbox inquiries "

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

static void render(struct buf *b, const struct inquiry *q)
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
	struct buf b = BUF_INIT;
	buf_grow(&b, v.n);
	const char *p = v.p, *end = v.p + v.n;
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
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

static char **field_slot(struct inquiry *q, struct span k)
{
	static const char *const names[] = {"from",    "from_name",   "subject",      "message_id",
					    "article", "status",      "priority",     "assignee",
					    "excerpt", "attachments", "acknowledged", "alerted",
					    "copies",  "ack_state",   "alert_state",  "key",
					    NULL};
	char **slots[] = {&q->from,    &q->from_name,	&q->subject,	  &q->message_id,
			  &q->article, &q->status,	&q->priority,	  &q->assignee,
			  &q->excerpt, &q->attachments, &q->acknowledged, &q->alerted,
			  &q->copies,  &q->ack_state,	&q->alert_state,  &q->key};
	for (size_t i = 0; names[i]; i++)
		if (span_eq(k, names[i]))
			return slots[i];
	return NULL;
}

static void parse_line(struct inquiry *q, struct span line)
{
	const char *colon = memchr(line.p, ':', line.n);
	if (!colon || colon + 1 >= line.p + line.n)
		return;
	struct span k = {line.p, (size_t)(colon - line.p)};
	struct span v = {colon + 2, line.n - k.n - 2};
	char *val = unescape(v);
	char **slot = field_slot(q, k);
	if (slot) {
		free(*slot);
		*slot = val;
		return;
	}
	if (span_eq(k, "received")) {
		time_parse(span_cstr(val), &q->received);
	} else if (span_eq(k, "subscriber")) {
		q->subscriber = strcmp(val, "yes") == 0;
	} else if (span_eq(k, "unparsed")) {
		q->unparsed = true;
	} else if (span_eq(k, "truncated")) {
		q->truncated = true;
	} else if (span_eq(k, "message")) {
		char *end;
		q->msg_off = strtoll(val, &end, 10);
		q->msg_len = (size_t)strtoull(end, NULL, 10);
	}
	free(val);
}

/* ---- the log, read ------------------------------------------------------------------------ */

struct book {
	struct inquiry *v; /* indexed by number; number 0 = absent */
	size_t cap;
	unsigned highest;
	char *gen; /* "messages.G" from the header */
};

static void book_free(struct book *b)
{
	for (size_t i = 0; i < b->cap; i++)
		inquiry_free(&b->v[i]);
	free(b->v);
	free(b->gen);
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

/* Read the log.  history: when not NULL, N's history lines are appended. */
static int read_log(const char *dir, struct book *b, unsigned hist_of, struct buf *history,
		    struct lb_err *err)
{
	memset(b, 0, sizeof *b);
	char *path = path_join(dir, "log");
	struct buf text = BUF_INIT;
	int rc = fsx_read_state(path, &text, 0, err);
	free(path);
	if (rc) {
		/* No log yet is an empty store; a log we cannot read is an error,
		 * never "no inquiries". */
		buf_free(&text);
		b->gen = xstrdup("messages.1");
		return rc == LB_ENOINPUT ? 0 : rc;
	}
	const char *p = buf_cstr(&text), *end = p + text.n;
	struct inquiry cur = {0};
	bool in_record = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* an unfinished last line */
		struct span line = {p, (size_t)(nl - p)};
		p = nl + 1;
		if (in_record && span_eq(line, ".")) {
			if (cur.number) {
				struct inquiry *s = slot(b, cur.number);
				cur.noted = s->noted;
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
			   (line.p[0] == 'R' || line.p[0] == 'H' || line.p[0] == 'D')) {
			if (in_record) /* a record cut short by a crash */
				inquiry_free(&cur);
			in_record = false;
			memset(&cur, 0, sizeof cur);
			unsigned n = (unsigned)strtoul(line.p + 2, NULL, 10);
			if (line.p[0] == 'R') {
				in_record = true;
				cur.number = n;
			} else if (line.p[0] == 'D' && n < b->cap) {
				inquiry_free(&b->v[n]);
			} else if (line.p[0] == 'H' && n < b->cap && b->v[n].number) {
				b->v[n].noted |= history_noted(line);
			}
			if (line.p[0] == 'H' && history && n == hist_of) {
				const char *tab = memchr(line.p, '\t', line.n);
				if (tab) {
					buf_add(history, tab + 1,
						line.n - (size_t)(tab + 1 - line.p));
					buf_addc(history, '\n');
				}
			}
			if (n > b->highest)
				b->highest = n;
		} else if (in_record) {
			parse_line(&cur, line);
		} else if (span_starts_with(line, HEADER)) {
			free(b->gen);
			b->gen = span_dup(
			    (struct span){line.p + strlen(HEADER), line.n - strlen(HEADER)});
		}
	}
	inquiry_free(&cur);
	if (!b->gen)
		b->gen = xstrdup("messages.1");
	buf_free(&text);
	return 0;
}

/* ---- appending ---------------------------------------------------------------------------- */

static char *store_dir(const char *state_dir)
{
	return path_join(state_dir, "inquiries");
}

/* Take the store's lock (creating the directory).  *fd to close. */
static int lock(const char *dir, int *fd, struct lb_err *err)
{
	char *path = path_join(dir, "lock");
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0 && errno == ENOENT) {
		int rc = fsx_mkdirs(dir, 0700, err);
		if (rc) {
			free(path);
			return rc;
		}
		*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	int rc = 0;
	if (*fd < 0)
		rc = err_sys(err, fsx_errno_code(errno), "%s", path);
	else
		while (flock(*fd, LOCK_EX) < 0)
			if (errno != EINTR) {
				rc = err_sys(err, LB_EIO, "lock %s", path);
				close(*fd);
				*fd = -1;
				break;
			}
	free(path);
	return rc;
}

/* Append data to dir/name (under the lock); *off receives where it starts.
 * A log that does not end in a newline (a crash mid-write) gets one first,
 * so that the new lines stand on their own. */
static int append(const char *dir, const char *name, const char *data, size_t n, long long *off,
		  struct lb_err *err)
{
	char *path = path_join(dir, name);
	int fd = fsx_open_state(path, O_RDWR | O_APPEND | O_CREAT, 0600, err);
	int rc = 0;
	if (fd < 0) {
		free(path);
		return err->code;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	bool fresh = size == 0;
	char last = '\n';
	if (size > 0 && pread(fd, &last, 1, size - 1) != 1)
		rc = err_sys(err, LB_EIO, "%s", path);
	struct buf b = BUF_INIT;
	if (last != '\n')
		buf_addc(&b, '\n');
	if (off)
		*off = (long long)size + (long long)b.n;
	buf_add(&b, data, n);
	const char *p = b.p;
	size_t left = b.n;
	while (!rc && left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = err_sys(err, LB_EIO, "%s", path);
		else {
			p += w;
			left -= (size_t)w;
		}
	}
	if (!rc && fsx_fsync(fd) < 0)
		rc = err_sys(err, LB_EIO, "fsync %s", path);
	close(fd);
	if (!rc && fresh)
		rc = fsx_sync_dir(dir, err);
	buf_free(&b);
	free(path);
	return rc;
}

/* The messages file the log names, creating the log if there is none. */
static int generation(const char *dir, char **gen, struct lb_err *err)
{
	char *path = path_join(dir, "log");
	char head[128];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 && errno != ENOENT) {
		rc = err_sys(err, fsx_errno_code(errno), "%s", path);
		*gen = xstrdup("messages.1"); /* not used: rc says why */
	} else if (fd < 0) {
		*gen = xstrdup("messages.1");
		struct buf h = BUF_INIT;
		buf_printf(&h, HEADER "%s\n", *gen);
		rc = append(dir, "log", h.p, h.n, NULL, err);
		buf_free(&h);
	} else {
		ssize_t got = pread(fd, head, sizeof head - 1, 0);
		close(fd);
		head[got > 0 ? got : 0] = '\0';
		char *nl = strchr(head, '\n');
		if (nl)
			*nl = '\0';
		*gen = xstrdup(strncmp(head, HEADER, strlen(HEADER)) == 0 ? head + strlen(HEADER)
									  : "messages.1");
	}
	free(path);
	return rc;
}

static int add_blob(const char *dir, const char *gen, unsigned number, const char *raw, size_t n,
		    long long *off, struct lb_err *err)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "#%u %zu\n", number, n);
	size_t head = b.n;
	buf_add(&b, raw, n);
	buf_addc(&b, '\n');
	int rc = append(dir, gen, b.p, b.n, off, err);
	*off += (long long)head;
	buf_free(&b);
	return rc;
}

static void history_line(struct buf *b, unsigned number, time_t when, const char *who,
			 const char *what, const char *detail)
{
	const char *f[] = {who, what, detail};
	buf_printf(b, "H %u\t", number);
	time_iso(b, when);
	for (size_t i = 0; i < 3; i++) {
		buf_addc(b, '\t');
		for (const char *s = f[i]; s && *s; s++)
			buf_addc(b, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
	}
	buf_addc(b, '\n');
}

int inquiry_file(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		 const char *history, const char *detail, struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	char *gen = NULL;
	int fd = -1;
	struct buf rec = BUF_INIT;
	int rc = lock(dir, &fd, err);
	if (!rc && !q->number)
		rc = inquiries_next_number(state_dir, &q->number, err);
	if (!rc)
		rc = generation(dir, &gen, err);
	/* The message first, then the record that points at it: a crash in
	 * between leaves an unreferenced message, never a dangling record. */
	if (!rc)
		rc = add_blob(dir, gen, q->number, raw, n, &q->msg_off, err);
	if (!rc) {
		q->msg_len = n;
		render(&rec, q);
		if (history)
			history_line(&rec, q->number, q->received, "letterbox", history, detail);
		rc = append(dir, "log", rec.p, rec.n, NULL, err);
	}
	if (fd >= 0)
		close(fd);
	buf_free(&rec);
	free(gen);
	free(dir);
	return rc;
}

int inquiries_next_number(const char *state_dir, unsigned *next, struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	struct book b;
	int rc = read_log(dir, &b, 0, NULL, err);
	if (!rc)
		*next = b.highest + 1;
	book_free(&b);
	free(dir);
	return rc;
}

int inquiry_load(const char *state_dir, unsigned number, struct inquiry *q, struct lb_err *err)
{
	memset(q, 0, sizeof *q);
	char *dir = store_dir(state_dir);
	struct book b;
	int rc = read_log(dir, &b, 0, NULL, err);
	if (!rc && (!b.v || number >= b.cap || !b.v[number].number))
		rc = err_set(err, LB_EDATA, "there is no inquiry %u", number);
	if (!rc && b.v) {
		*q = b.v[number];
		memset(&b.v[number], 0, sizeof b.v[number]);
	}
	book_free(&b);
	free(dir);
	return rc;
}

int inquiry_save(const char *state_dir, const struct inquiry *q, struct lb_err *err)
{
	return inquiry_save_noted(state_dir, q, 0, NULL, NULL, NULL, err);
}

int inquiry_save_noted(const char *state_dir, const struct inquiry *q, time_t when, const char *who,
		       const char *what, const char *detail, struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	struct buf rec = BUF_INIT;
	int fd = -1;
	render(&rec, q);
	if (what)
		history_line(&rec, q->number, when, who, what, detail);
	int rc = lock(dir, &fd, err);
	if (!rc)
		rc = append(dir, "log", rec.p, rec.n, NULL, err);
	if (fd >= 0)
		close(fd);
	buf_free(&rec);
	free(dir);
	return rc;
}

void inquiry_free(struct inquiry *q)
{
	char **all[] = {&q->from,    &q->from_name,   &q->subject,	&q->message_id,
			&q->article, &q->status,      &q->priority,	&q->assignee,
			&q->excerpt, &q->attachments, &q->acknowledged, &q->alerted,
			&q->copies,  &q->ack_state,   &q->alert_state,	&q->key};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(*all[i]);
	memset(q, 0, sizeof *q);
}

int inquiries_load(const char *state_dir, struct inquiry **v, size_t *n, struct lb_err *err)
{
	*v = NULL;
	*n = 0;
	char *dir = store_dir(state_dir);
	struct book b;
	int rc = read_log(dir, &b, 0, NULL, err);
	if (!rc) {
		size_t cap = 0;
		for (size_t i = 0; i < b.cap; i++) {
			if (!b.v[i].number)
				continue;
			*v = xgrowarray(*v, &cap, *n + 1, sizeof **v);
			(*v)[(*n)++] = b.v[i];
			memset(&b.v[i], 0, sizeof b.v[i]);
		}
	}
	book_free(&b);
	free(dir);
	return rc;
}

void inquiries_free(struct inquiry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		inquiry_free(&v[i]);
	free(v);
}

bool inquiry_is_urgent(const struct inquiry *q)
{
	return q->priority && strcmp(q->priority, "urgent") == 0;
}

bool inquiry_is_waiting(const struct inquiry *q)
{
	return q->status && (!strcmp(q->status, "new") || !strcmp(q->status, "open"));
}

int inquiry_cmp_triage(const void *a, const void *b)
{
	const struct inquiry *x = a, *y = b;
	int ux = inquiry_is_urgent(x), uy = inquiry_is_urgent(y);
	if (ux != uy)
		return uy - ux;
	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number;
}

int inquiry_history_add(const char *state_dir, unsigned number, time_t when, const char *who,
			const char *what, const char *detail, struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	struct buf line = BUF_INIT;
	int fd = -1;
	history_line(&line, number, when, who, what, detail);
	int rc = lock(dir, &fd, err);
	if (!rc)
		rc = append(dir, "log", line.p, line.n, NULL, err);
	if (fd >= 0)
		close(fd);
	buf_free(&line);
	free(dir);
	return rc;
}

char *inquiry_history(const char *state_dir, unsigned number)
{
	char *dir = store_dir(state_dir);
	struct book b;
	struct buf h = BUF_INIT;
	struct lb_err err;
	read_log(dir, &b, number, &h, &err);
	book_free(&b);
	free(dir);
	return buf_take(&h);
}

/* ---- reading messages back ---------------------------------------------------------------- */

static int read_blob(const char *state_dir, long long off, size_t len, struct buf *out,
		     struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	char *gen = NULL;
	int rc = generation(dir, &gen, err);
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
	return read_blob(state_dir, q->msg_off, q->msg_len, out, err);
}

int inquiry_add_copy(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		     unsigned *k, struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	char *gen = NULL;
	int fd = -1;
	long long off = 0;
	int rc = lock(dir, &fd, err);
	if (!rc)
		rc = generation(dir, &gen, err);
	if (!rc)
		rc = add_blob(dir, gen, q->number, raw, n, &off, err);
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
	return read_blob(state_dir, off, len, out, err);
}

/* ---- removal: compaction into a new generation -------------------------------------------- */

static bool listed(const unsigned *v, size_t n, unsigned x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static int write_new(const char *dir, const char *name, const struct buf *b, struct lb_err *err)
{
	char *path = path_join(dir, name);
	int rc = fsx_write_atomic(path, buf_cstr(b), b->n, 0600, err);
	free(path);
	return rc;
}

int inquiries_remove(const char *state_dir, const unsigned *numbers, size_t count,
		     struct lb_err *err)
{
	char *dir = store_dir(state_dir);
	int fd = -1;
	struct book b = {0};
	struct buf msgs = BUF_INIT, log = BUF_INIT, blob = BUF_INIT;
	char *next = NULL, *old = NULL;
	int rc = lock(dir, &fd, err);
	if (!rc)
		rc = read_log(dir, &b, 0, NULL, err);
	if (rc)
		goto out;
	unsigned g = (unsigned)strtoul(b.gen + strlen("messages."), NULL, 10);
	struct buf name = BUF_INIT;
	buf_printf(&name, "messages.%u", g + 1);
	next = buf_take(&name);
	old = path_join(dir, b.gen);
	buf_printf(&log, HEADER "%s\n", next);
	for (size_t i = 0; i < b.cap && !rc; i++) {
		struct inquiry *q = &b.v[i];
		if (!q->number || listed(numbers, count, q->number))
			continue;
		/* its message and copies move to the new generation */
		buf_reset(&blob);
		rc = inquiry_message(state_dir, q, &blob, err);
		buf_printf(&msgs, "#%u %zu\n", q->number, blob.n);
		q->msg_off = (long long)msgs.n;
		buf_addspan(&msgs, buf_span(&blob));
		buf_addc(&msgs, '\n');
		struct buf copies = BUF_INIT;
		for (unsigned k = 1; !rc && q->copies && *q->copies; k++) {
			buf_reset(&blob);
			if (inquiry_copy(state_dir, q, k, &blob, err) != 0)
				break;
			buf_printf(&msgs, "#%u %zu\n", q->number, blob.n);
			buf_printf(&copies, "%s%zu:%zu", copies.n ? " " : "", msgs.n, blob.n);
			buf_addspan(&msgs, buf_span(&blob));
			buf_addc(&msgs, '\n');
		}
		if (q->copies) {
			free(q->copies);
			q->copies = copies.n ? buf_take(&copies) : NULL;
		}
		buf_free(&copies);
		render(&log, q);
	}
	/* The history of those that stay, in the order it was written. */
	struct buf old_log = BUF_INIT;
	char *log_path = path_join(dir, "log");
	if (!rc)
		rc = fsx_read_state(log_path, &old_log, 0, err);
	free(log_path);
	for (const char *l = buf_cstr(&old_log); !rc && *l;) {
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		if (l[0] == 'H' && l[1] == ' ') {
			unsigned hn = (unsigned)strtoul(l + 2, NULL, 10);
			if (hn < b.cap && b.v[hn].number && !listed(numbers, count, hn))
				buf_add(&log, l, (size_t)(nl + 1 - l));
		}
		l = nl + 1;
	}
	buf_free(&old_log);
	/* New messages file, then the log that names it (the commit), then the
	 * old messages file goes. */
	if (!rc)
		rc = write_new(dir, next, &msgs, err);
	if (!rc)
		rc = write_new(dir, "log", &log, err);
	if (!rc && unlink(old) < 0 && errno != ENOENT)
		rc = err_sys(err, LB_EIO, "%s", old);
out:
	if (fd >= 0)
		close(fd);
	book_free(&b);
	buf_free(&msgs);
	buf_free(&log);
	buf_free(&blob);
	free(next);
	free(old);
	free(dir);
	return rc;
}

int inquiry_remove(const char *state_dir, unsigned number, struct lb_err *err)
{
	struct inquiry q = {0};
	int rc = inquiry_load(state_dir, number, &q, err);
	inquiry_free(&q);
	return rc ? rc : inquiries_remove(state_dir, &number, 1, err);
}
