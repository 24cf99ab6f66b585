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
#include "store/inquiries_int.h"

/* ---- appending ---------------------------------------------------------------------------- */

char *inq_store_dir(const char *state_dir)
{
	return path_join(state_dir, "inquiries");
}

/* Take the store's lock (creating the directory).  *fd to close. */
int inq_lock(const char *dir, int *fd, struct lb_err *err)
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
int inq_append(const char *dir, const char *name, const char *data, size_t n, long long *off,
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
int inq_generation(const char *dir, char **gen, struct lb_err *err)
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
		buf_printf(&h, INQ_HEADER "%s\n", *gen);
		rc = inq_append(dir, "log", h.p, h.n, NULL, err);
		buf_free(&h);
	} else {
		ssize_t got = pread(fd, head, sizeof head - 1, 0);
		close(fd);
		head[got > 0 ? got : 0] = '\0';
		char *nl = strchr(head, '\n');
		if (nl)
			*nl = '\0';
		*gen = xstrdup(strncmp(head, INQ_HEADER, strlen(INQ_HEADER)) == 0
				   ? head + strlen(INQ_HEADER)
				   : "messages.1");
	}
	free(path);
	return rc;
}

int inq_add_blob(const char *dir, const char *gen, unsigned number, const char *raw, size_t n,
		 long long *off, struct lb_err *err)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "#%u %zu\n", number, n);
	size_t head = b.n;
	buf_add(&b, raw, n);
	buf_addc(&b, '\n');
	int rc = inq_append(dir, gen, b.p, b.n, off, err);
	*off += (long long)head;
	buf_free(&b);
	return rc;
}

void inq_history_line(struct buf *b, unsigned number, time_t when, const char *who,
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
	char *dir = inq_store_dir(state_dir);
	char *gen = NULL;
	int fd = -1;
	struct buf rec = BUF_INIT;
	int rc = inq_lock(dir, &fd, err);
	if (!rc && !q->number)
		rc = inquiries_next_number(state_dir, &q->number, err);
	if (!rc)
		rc = inq_generation(dir, &gen, err);
	/* The message first, then the record that points at it: a crash in
	 * between leaves an unreferenced message, never a dangling record. */
	if (!rc)
		rc = inq_add_blob(dir, gen, q->number, raw, n, &q->msg_off, err);
	if (!rc) {
		q->msg_len = n;
		inq_render(&rec, q);
		if (history)
			inq_history_line(&rec, q->number, q->received, "letterbox", history,
					 detail);
		rc = inq_append(dir, "log", rec.p, rec.n, NULL, err);
	}
	if (fd >= 0)
		close(fd);
	buf_free(&rec);
	free(gen);
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
	char *dir = inq_store_dir(state_dir);
	struct buf rec = BUF_INIT;
	int fd = -1;
	inq_render(&rec, q);
	if (what)
		inq_history_line(&rec, q->number, when, who, what, detail);
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_append(dir, "log", rec.p, rec.n, NULL, err);
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
			&q->copies,  &q->ack_state,   &q->alert_state,	&q->key,
			&q->thread};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(*all[i]);
	memset(q, 0, sizeof *q);
}

void inquiries_free(struct inquiry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		inquiry_free(&v[i]);
	free(v);
}

bool inquiry_is_urgent(const struct inquiry *q)
{
	return q->priority && q->priority[0] == 'u' && strcmp(q->priority, "urgent") == 0;
}

bool inquiry_is_waiting(const struct inquiry *q)
{
	return q->status && (!strcmp(q->status, "new") || !strcmp(q->status, "open"));
}

size_t inquiries_select(const struct inquiry **v, size_t n, const char *status,
			const char *assignee, bool urgent_only)
{
	size_t k = 0;
	bool waiting = !status || !strcmp(status, "waiting"),
	     all = status && !strcmp(status, "all");
	for (size_t i = 0; i < n; i++) {
		const struct inquiry *q = v[i];
		bool keep = all || (waiting ? inquiry_is_waiting(q)
					    : q->status && !strcmp(q->status, status));
		keep = keep && (!urgent_only || inquiry_is_urgent(q));
		keep = keep && (!assignee || (q->assignee && !strcmp(q->assignee, assignee)));
		if (keep)
			v[k++] = v[i];
	}
	if (k)
		qsort(v, k, sizeof *v, inquiry_ptr_cmp_triage);
	return k;
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

int inquiry_ptr_cmp_triage(const void *a, const void *b)
{
	return inquiry_cmp_triage(*(const struct inquiry *const *)a,
				  *(const struct inquiry *const *)b);
}

int inquiry_history_add(const char *state_dir, unsigned number, time_t when, const char *who,
			const char *what, const char *detail, struct lb_err *err)
{
	char *dir = inq_store_dir(state_dir);
	struct buf line = BUF_INIT;
	int fd = -1;
	inq_history_line(&line, number, when, who, what, detail);
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_append(dir, "log", line.p, line.n, NULL, err);
	if (fd >= 0)
		close(fd);
	buf_free(&line);
	free(dir);
	return rc;
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
	char *dir = inq_store_dir(state_dir);
	int fd = -1;
	struct book b = {0};
	struct buf msgs = BUF_INIT, log = BUF_INIT;
	char *next = NULL, *old = NULL;
	int rc = inq_lock(dir, &fd, err);
	if (!rc)
		rc = inq_read_log(dir, &b, err);
	if (rc)
		goto out;
	unsigned g = (unsigned)strtoul(b.gen + strlen("messages."), NULL, 10);
	struct buf name = BUF_INIT;
	buf_printf(&name, "messages.%u", g + 1);
	next = buf_take(&name);
	old = path_join(dir, b.gen);
	buf_printf(&log, INQ_HEADER "%s\n", next);
	for (size_t i = 0; i < b.cap && !rc; i++) {
		struct inquiry *q = &b.v[i];
		if (!q->number || listed(numbers, count, q->number))
			continue;
		/* its messages and copies move to the new generation */
		rc = inq_relocate(state_dir, q, &msgs, err);
		inq_render(&log, q);
		inq_render_thread(&log, q);
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
	inq_book_free(&b);
	buf_free(&msgs);
	buf_free(&log);
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

int inquiries_lock(const char *state_dir, int *fd, struct lb_err *err)
{
	*fd = -1;
	char *p = path_join(state_dir, "lock.inquiries");
	int rc = fsx_mkdirs(state_dir, 0700, err);
	if (!rc)
		rc = fsx_lock(p, true, fd, err);
	free(p);
	return rc;
}

int inquiry_lock_load(const char *state_dir, unsigned number, int *fd, struct inquiry *q,
		      struct lb_err *err)
{
	memset(q, 0, sizeof *q);
	int rc = inquiries_lock(state_dir, fd, err);
	if (rc)
		return rc;
	struct lb_err e = {0};
	rc = inquiry_load(state_dir, number, q, &e);
	if (rc == LB_EDATA) /* "there is no inquiry N": gone */
		return 0;
	if (rc)
		*err = e;
	return rc;
}

void inquiry_history_fields(char *line, char *f[4])
{
	f[0] = line;
	for (int i = 1; i < 4; i++) {
		char *tab = strchr(f[i - 1], '\t');
		if (tab)
			*tab = '\0';
		f[i] = tab ? tab + 1 : f[i - 1] + strlen(f[i - 1]);
	}
}
