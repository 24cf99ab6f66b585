/* The Maildir transport: each message becomes one file in PATH/new, written
 * to PATH/tmp first, fsync'd, then (once the job's commit gate opens)
 * renamed into new/ and the directory fsync'd, so a crash leaves either no
 * message or a whole one (maildir(5)).
 * Deliveries are synchronous; completions are handed out by wait(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "deliver/transport.h"

struct done {
	struct tx_job *job;
	struct outcome o;
};

struct maildir_out {
	struct transport base;
	char *dir;
	char host[64];
	unsigned long seq;
	struct done *done;
	size_t ndone, cap;
	struct buf tmp, fin;
};

static size_t md_capacity(struct transport *t)
{
	(void)t;
	return 16;
}

static size_t md_busy(const struct transport *t)
{
	return ((const struct maildir_out *)t)->ndone;
}

static void set_outcome(struct outcome *o, enum outcome_kind kind, const char *text)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	size_t n = strlen(text);
	if (n > sizeof o->text - 1)
		n = sizeof o->text - 1; /* a long path in an error: the start says enough */
	memcpy(o->text, text, n);
	o->text[n] = '\0';
}

/* Deliver one message; returns the outcome's kind and fills text on error. */
static void md_deliver(struct maildir_out *md, struct tx_job *job, struct outcome *o)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	buf_reset(&md->tmp);
	buf_reset(&md->fin);
	/* time.MusecPpidQseq.host: unique per delivery (maildir(5) conventions) */
	buf_printf(&md->tmp, "%s/tmp/%ld.M%06ldP%ldQ%lu.%s", md->dir, (long)tv.tv_sec,
		   (long)tv.tv_usec, (long)getpid(), ++md->seq, md->host);
	buf_printf(&md->fin, "%s/new/%s", md->dir, strrchr(md->tmp.p, '/') + 1);
	struct lb_err err = {0};
	int fd = open(md->tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(&err, LB_EIO, "%s", md->tmp.p);
		set_outcome(o, OUT_NOT_SENT, err.msg);
		return;
	}
	if (message_write(job->msg, fd, &err) != 0 || fsync(fd) < 0) {
		if (!err.code)
			err_sys(&err, LB_EIO, "fsync %s", md->tmp.p);
		close(fd);
		unlink(md->tmp.p);
		set_outcome(o, OUT_NOT_SENT, err.msg);
		return;
	}
	close(fd);
	if (job->commit && !job->commit(job, true)) {
		unlink(md->tmp.p);
		set_outcome(o, OUT_NOT_SENT, "not delivered: its attempt could not be recorded");
		return;
	}
	if (rename(md->tmp.p, md->fin.p) < 0) {
		err_sys(&err, LB_EIO, "rename into %s/new", md->dir);
		unlink(md->tmp.p);
		set_outcome(o, OUT_NOT_SENT, err.msg);
		return;
	}
	/* Renamed: the message is there.  If the directory sync fails we cannot be
	 * sure it survives a crash, but it was delivered; say so in the text. */
	char *newdir = path_join(md->dir, "new");
	int rc = fsx_sync_dir(newdir, &err);
	free(newdir);
	set_outcome(o, OUT_SENT, rc ? err.msg : "delivered to Maildir");
	o->code = 250;
}

static void md_submit(struct transport *t, struct tx_job *job)
{
	struct maildir_out *md = (struct maildir_out *)t;
	md->done = xgrowarray(md->done, &md->cap, md->ndone + 1, sizeof *md->done);
	struct done *d = &md->done[md->ndone++];
	d->job = job;
	md_deliver(md, job, &d->o);
}

static int md_wait(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done, void *ctx,
		   struct lb_err *err)
{
	(void)timeout_ms;
	(void)extra_fd;
	(void)err;
	struct maildir_out *md = (struct maildir_out *)t;
	/* on_done may submit more: take the batch first. */
	size_t n = md->ndone;
	struct done *batch = xmalloc(n * sizeof *batch + 1);
	if (n)
		memcpy(batch, md->done, n * sizeof *batch);
	md->ndone = 0;
	for (size_t i = 0; i < n; i++)
		on_done(ctx, batch[i].job, &batch[i].o);
	free(batch);
	return 0;
}

static void md_close(struct transport *t)
{
	struct maildir_out *md = (struct maildir_out *)t;
	free(md->dir);
	free(md->done);
	buf_free(&md->tmp);
	buf_free(&md->fin);
	free(md);
}

/* The PID in a name we give files in tmp/ (time.MusecPpidQseq.host), 0 for
 * any other name. */
static pid_t tmp_owner(const char *name)
{
	const char *m = strchr(name, '.');
	const char *p = m && m[1] == 'M' ? strchr(m, 'P') : NULL;
	if (!p || p[1] < '1' || p[1] > '9')
		return 0;
	char *end;
	long pid = strtol(p + 1, &end, 10);
	return *end == 'Q' && pid > 0 ? (pid_t)pid : 0;
}

static const struct transport_ops md_ops = {md_capacity, md_submit, md_busy, md_wait, md_close};

int maildir_out_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	const char *path = o->ep->url + strlen("maildir:");
	if (!*path)
		return err_set(err, LB_ECONFIG, "outgoing.url 'maildir:' needs a path");
	struct maildir_out *md = xcalloc(1, sizeof *md);
	md->base.ops = &md_ops;
	md->dir = path_join(o->site_dir, path);
	if (gethostname(md->host, sizeof md->host) < 0 || !md->host[0])
		snprintf(md->host, sizeof md->host, "localhost");
	/* '/' and ':' have meanings in Maildir names */
	for (char *c = md->host; *c; c++)
		if (*c == '/' || *c == ':')
			*c = '_';
	static const char *const sub[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		char *d = path_join(md->dir, sub[i]);
		int rc = fsx_mkdirs(d, 0700, err);
		free(d);
		if (rc) {
			md_close(&md->base);
			return rc;
		}
	}
	/* Messages a run killed with -9 left half-written (never renamed into
	 * new/, so never delivered): a live run's are left alone. */
	char *tmp = path_join(md->dir, "tmp");
	fsx_clean_stale(tmp, "", tmp_owner);
	free(tmp);
	*t = &md->base;
	return 0;
}
