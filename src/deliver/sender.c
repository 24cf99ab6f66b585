#include "deliver/sender.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "deliver/journal.h"

/* One message in the works: composed bytes + the job the transport holds. */
struct slot {
	struct message m;
	struct tx_job job;
	struct journal *j;
	uint64_t seq; /* of its A record */
	size_t idx;
	struct crcpt who; /* the recipient, from the snapshot: the job points into it */
	bool busy;
};

/* A byte per recipient for the run: queued, and attempts not sent. */
#define QUEUED	   0x80
#define RETRIES(m) ((m)&0x0f)

struct run {
	const struct config *cfg;
	struct campaign *c;
	struct newsletter *nl;
	struct transport *t;
	struct suppressions *sup;
	const struct send_opts *o;
	struct send_stats *st;
	struct journal *j;
	struct slot *slots;
	struct slot **batch; /* start()'s, nslots long */
	size_t nslots;
	unsigned char *mark; /* QUEUED and RETRIES per recipient */
	size_t cursor, qn;   /* the next queued is at or after cursor; how many */
	size_t inflight;
	struct crcpt scratch;
	struct buf line;
	int error;
	struct lb_err *err;
	double t0, last_draw;
	time_t real0; /* the wall clock when the run started: o->now may be simulated */
};

/* The run's clock: --now, moving forward as the run goes on. */
static time_t run_now(const struct run *r)
{
	return r->o->now + (time(NULL) - r->real0);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Append a record and apply it to the campaign: one code path for the state
 * a run builds and the state a later run replays. */
static uint64_t record(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint64_t record(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_reset(&r->line);
	buf_vprintf(&r->line, fmt, ap);
	va_end(ap);
	uint64_t seq = journal_append(r->j, "%s\n", r->line.p);
	campaign_apply(r->c, r->line.p, r->line.n);
	return seq;
}

static void draw_progress(struct run *r, bool final)
{
	double now = mono();
	if (!r->o->progress || (!final && now - r->last_draw < 0.1))
		return;
	r->last_draw = now;
	struct campaign_counts k;
	campaign_count(r->c, &k);
	size_t done = k.sent + k.failed + k.uncertain;
	size_t total = r->c->n ? r->c->n : 1;
	double rate = r->st->attempted / (now - r->t0 + 1e-9);
	size_t left = r->qn + r->inflight;
	int width = 30, fill = (int)((double)done * width / (double)total);
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	long eta = rate > 0 ? (long)((double)left / rate) : 0;
	fprintf(stderr, "\r%s [%s] %zu/%zu  %.0f msg/s  ETA %ld:%02ld ", r->c->slug, bar, done,
		r->c->n, rate, eta / 60, eta % 60);
	if (final)
		fputc('\n', stderr);
}

static struct slot *free_slot(struct run *r)
{
	for (size_t i = 0; i < r->nslots; i++)
		if (!r->slots[i].busy)
			return &r->slots[i];
	return NULL;
}

/* The reply text as one journal-safe word-separated line. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

/* Enhanced status codes (RFC 3463) that say the recipient's address is bad:
 * 5.1.1 no such mailbox, 5.1.2 no such domain, 5.1.3 bad address syntax,
 * 5.1.6 mailbox moved, 5.1.10 null MX.  Not 5.1.0, 5.1.7 or 5.1.8: a
 * server that delays its checks (Postfix's smtpd_delay_reject) refuses
 * *our sender* at RCPT with those, and that says nothing about the
 * recipient. */
static bool recipient_gone(const char *status, const char *text)
{
	static const char *const gone[] = {"5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10", NULL};
	if (strcasestr(text, "sender address rejected"))
		return false;
	for (size_t i = 0; gone[i]; i++)
		if (strcmp(status, gone[i]) == 0)
			return true;
	return false;
}

/* A 5xx at send time.  An address that does not exist (recipient_gone)
 * is suppressed for every campaign; a mailbox refused for good (5.2.x)
 * confirms a pending bounce report about it (store/suppressions.h); any
 * other 5xx (policy, our sender, the protocol) changes nothing. */
static void after_5xx(struct run *r, const char *who, int code, const char *status,
		      const char *text, time_t now)
{
	struct lb_err e = {0};
	struct buf ev = BUF_INIT;
	outcome_reason(&ev, code, status, text);
	buf_printf(&ev, " (campaign %s)", r->c->slug);
	bool done = false;
	int rc;
	if (recipient_gone(status, text)) {
		const struct suppression *p = suppressions_pending_get(r->sup, who);
		if (p)
			buf_printf(&ev, "; confirms the pending report: %s", p->evidence);
		rc = suppressions_add(r->sup, who, SUP_HARD_BOUNCE, now, ev.p, &e);
		done = rc == 0;
	} else if (strncmp(status, "5.2.", 4) == 0) {
		struct buf how = BUF_INIT;
		buf_printf(&how, "a 5xx at send time: %s", ev.p);
		rc = suppressions_confirm(r->sup, who, SUP_HARD_BOUNCE, now, how.p, &done, &e);
		buf_free(&how);
	} else {
		rc = 0;
	}
	if (rc)
		log_warn("%s", e.msg);
	r->st->suppressed += done;
	buf_free(&ev);
}

static void on_done(void *ctx, struct tx_job *job, const struct outcome *out)
{
	struct run *r = ctx;
	struct slot *s = job->user;
	size_t idx = s->idx;
	time_t now = run_now(r);
	char text[sizeof out->text];
	memcpy(text, out->text, sizeof text);
	text[sizeof text - 1] = '\0';
	clean_text(text);
	const char *status = out->status[0] ? out->status : "-";
	s->busy = false;
	r->inflight--;
	switch (out->kind) {
	case OUT_SENT:
		record(r, "S %zu %lld %d %s %s", idx, (long long)now, out->code, status, text);
		r->st->sent++;
		break;
	case OUT_DEFERRED:
		record(r, "D %zu %lld %d %s %s", idx, (long long)now, out->code, status, text);
		r->st->deferred++;
		break;
	case OUT_FAILED:
		record(r, "F %zu %lld %d %s %s", idx, (long long)now, out->code, status, text);
		r->st->failed++;
		if (out->code / 100 == 5)
			after_5xx(r, s->who.email, out->code, status, text, now);
		break;
	case OUT_UNCERTAIN:
		/* Leave the A record without an outcome: that is what uncertain means. */
		campaign_set_state(r->c, idx, RS_UNCERTAIN);
		r->st->uncertain++;
		log_warn("%s: connection lost after the message was sent; not resending "
			 "(letterbox status lists it)",
			 s->who.email);
		break;
	case OUT_NOT_SENT:
		record(r, "N %zu %lld", idx, (long long)now);
		r->st->not_sent++;
		/* Try again in this run, a few times, at the front of the queue. */
		if (RETRIES(r->mark[idx]) < 5 && r->error == 0) {
			r->mark[idx] = (unsigned char)((r->mark[idx] + 1) | QUEUED);
			if (idx < r->cursor)
				r->cursor = idx;
			r->qn++;
		}
		break;
	}
}

/* The job's gate (called from a transport thread): deliver only once its A
 * record is on disk, so that a crash can never leave a delivered message
 * without its attempt in the journal. */
static bool attempt_durable(struct tx_job *job, bool wait)
{
	const struct slot *s = job->user;
	return wait ? journal_wait(s->j, s->seq) : journal_synced(s->j) >= s->seq;
}

/* Start messages, up to the window: compose each and append its A record;
 * write the batch's records and start their sync (one write for the batch);
 * then hand the messages to the transport.  It sends each all but its last
 * byte and waits on attempt_durable(), so the fsync runs while the messages
 * travel instead of before (a synchronous transport waits inside
 * transport_submit, which is why the records are written first). */
static int start(struct run *r, struct lb_err *err)
{
	size_t room = transport_capacity(r->t), n = 0;
	int rc = 0;
	while (n < room && r->qn && r->inflight + n < r->nslots &&
	       (r->o->limit == 0 || r->st->attempted < (size_t)r->o->limit)) {
		while (r->cursor < r->c->n && !(r->mark[r->cursor] & QUEUED))
			r->cursor++;
		LB_ASSERT(r->cursor < r->c->n);
		size_t idx = r->cursor;
		struct slot *s = free_slot(r);
		LB_ASSERT(s);
		struct crcpt *c = &s->who;
		campaign_rcpt(r->c, idx, c);
		struct recipient who = {c->email, c->name, c->fields, c->nfields};
		if ((rc = newsletter_compose(r->nl, &who, time(NULL), &s->m, err)))
			break; /* the ones composed so far still go */
		r->mark[idx] &= (unsigned char)~QUEUED;
		r->qn--;
		s->seq = record(r, "A %zu %lld", idx, (long long)run_now(r));
		campaign_set_state(r->c, idx, RS_INFLIGHT);
		r->st->attempted++;
		s->j = r->j;
		s->idx = idx;
		s->busy = true;
		s->job = (struct tx_job){&s->m, buf_cstr(&s->m.envelope_from), c->email, s,
					 attempt_durable};
		r->batch[n++] = s;
	}
	int frc = journal_flush(r->j, rc ? &(struct lb_err){0} : err);
	for (size_t i = 0; i < n; i++) {
		r->inflight++;
		if (frc) /* its record may never be durable: not sent */
			on_done(r, &r->batch[i]->job, &(struct outcome){.kind = OUT_NOT_SENT});
		else
			transport_submit(r->t, &r->batch[i]->job);
	}
	return rc ? rc : frc;
}

static void build_queue(struct run *r)
{
	struct campaign *c = r->c;
	time_t now = r->o->now;
	struct rcpt_detail d;
	for (size_t i = 0; i < c->n; i++) {
		if (campaign_state(c, i) == RS_UNCERTAIN && r->o->resend_uncertain)
			record(r, "R %zu %lld", i, (long long)now);
		enum rcpt_state st = campaign_state(c, i);
		if (st != RS_PENDING && st != RS_DEFERRED)
			continue;
		/* Suppressed since the snapshot was taken (removed, unsubscribed,
		 * bounced while the campaign was under way or deferred): the
		 * suppressions as of this run decide, not the snapshot. */
		campaign_rcpt(c, i, &r->scratch);
		enum sup_reason why = suppressions_check(r->sup, r->scratch.email);
		if (why != SUP_NONE) {
			record(r, "K %zu %lld suppressed: %s", i, (long long)now,
			       sup_reason_name(why));
			r->st->skipped++;
			continue;
		}
		campaign_detail(c, i, &d);
		if (st == RS_DEFERRED && d.first_deferred + r->cfg->give_up <= now) {
			struct buf since = BUF_INIT;
			time_local(&since, d.first_deferred);
			record(r, "F %zu %lld 0 - expired: deferred since %s", i, (long long)now,
			       since.p);
			buf_free(&since);
			r->st->expired++;
			continue;
		}
		if (st == RS_PENDING || (st == RS_DEFERRED && d.next_at <= now)) {
			r->mark[i] |= QUEUED;
			r->qn++;
		}
	}
}

static bool campaign_done(const struct campaign *c)
{
	for (size_t i = 0; i < c->n; i++) {
		enum rcpt_state s = campaign_state(c, i);
		if (s == RS_PENDING || s == RS_DEFERRED || s == RS_INFLIGHT)
			return false;
	}
	return true;
}

/* Until nothing is left to start and nothing is in flight.  After an error
 * nothing more starts, but what is in flight is still waited for, so that
 * its outcome is journaled. */
static int run_loop(struct run *r)
{
	struct lb_err later = {0}; /* errors after the first: the first one is reported */
	for (;;) {
		struct lb_err *err = r->error ? &later : r->err;
		int rc = r->error ? 0 : start(r, err);
		/* The outcomes' records: to disk. */
		if (!rc)
			rc = journal_flush(r->j, err);
		if (rc && !r->error)
			r->error = rc;
		if (!r->inflight && (r->error || !r->qn ||
				     (r->o->limit && r->st->attempted >= (size_t)r->o->limit)))
			return r->error;
		err = r->error ? &later : r->err;
		rc = transport_wait(r->t, 1000, -1, on_done, r, err);
		draw_progress(r, false);
		if (rc && !r->error)
			r->error = rc;
	}
}

int campaign_send(const struct config *cfg, struct campaign *c, struct newsletter *nl,
		  struct transport *t, struct suppressions *sup, const struct send_opts *o,
		  struct send_stats *st, struct lb_err *err)
{
	LB_ASSERT(o->window > 0);
	memset(st, 0, sizeof *st);
	struct run r = {.cfg = cfg, .c = c, .nl = nl, .t = t, .sup = sup, .o = o, .st = st};
	r.err = err;
	r.t0 = mono();
	r.real0 = time(NULL);
	char *jpath = path_join(c->dir, "journal");
	int rc = journal_open(jpath, NULL, &r.j, err);
	free(jpath);
	if (rc)
		return rc;
	r.nslots = o->window > 0 ? o->window : 1;
	r.slots = xcalloc(r.nslots, sizeof *r.slots);
	r.batch = xcalloc(r.nslots, sizeof *r.batch);
	for (size_t i = 0; i < r.nslots; i++)
		message_init(&r.slots[i].m);
	r.mark = xcalloc(c->n + 1, 1);

	if (c->finished && o->resend_uncertain)
		c->finished = false;
	build_queue(&r);
	rc = run_loop(&r);
	if (!rc && campaign_done(c) && !c->finished)
		record(&r, "E %lld", (long long)run_now(&r));
	c->jsize = journal_appended(r.j);
	struct lb_err jerr = {0};
	int jrc = journal_close(r.j, &jerr);
	if (jrc && !rc) {
		*err = jerr;
		rc = jrc;
	}
	/* For status: the journal as this run left it (only when it is all on
	 * disk; else the next reader rebuilds it from the journal). */
	if (!jrc && campaign_summary_write(c, &jerr))
		log_warn("%s", jerr.msg);
	draw_progress(&r, true);
	st->seconds = mono() - r.t0;
	for (size_t i = 0; i < r.nslots; i++) {
		message_free(&r.slots[i].m);
		crcpt_free(&r.slots[i].who);
	}
	crcpt_free(&r.scratch);
	free(r.slots);
	free(r.batch);
	free(r.mark);
	buf_free(&r.line);
	return rc;
}
