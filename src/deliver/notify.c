/* The urgent alert and the acknowledgement, each at most once per inquiry,
 * and never lost without a word.
 *
 * Order for each: decide under the inquiries lock, record the intent in the
 * inquiry record (atomic, durable; its state "pending") and, for
 * acknowledgements, in the acknowledgement log (notify_rules.h); release the lock; compose and
 * send; record the outcome (state and history, in one write).  A crash in
 * between leaves the intent pending: never sent twice by itself, and the
 * next poll reports it (report_doubts) and repeats an urgent alert, marked
 * as a possible repeat.
 */
#include "deliver/notify.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compose/dkim.h"
#include "compose/onemail.h"
#include "core/crash.h"
#include "core/addr.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "deliver/notify_rules.h"
#include "receive/parse.h"
#include "store/conversation.h"
#include "store/inquiries.h"

/* catch_up looks this far back: turning acknowledgements on must not mail
 * everyone who ever wrote, and a day-old alert that never went out still
 * matters, a month-old one is noise. */
#define CATCH_UP_WINDOW (2L * 86400)
/* The same lock file cmd/inquiries_edit.c takes for its read-modify-writes. */

struct notifier {
	const struct config *cfg;
	const struct secret *secret;
	struct transport *t; /* opened when a mail must go out */
};

/* ---- sending ----------------------------------------------------------------------------------
 */

struct send_state {
	struct outcome *outs;
};

static void on_done(void *ctx, struct tx_job *job, const struct outcome *o)
{
	struct send_state *s = ctx;
	s->outs[(size_t)(uintptr_t)job->user] = *o;
}

static int send_on(const struct config *cfg, struct transport *t, const char *raw, size_t n,
		   const char *mail_from, const char *const *rcpts, size_t *nsent,
		   struct outcome *o, struct lb_err *err)
{
	struct buf sealed = BUF_INIT;
	*o = (struct outcome){.kind = OUT_NOT_SENT};
	if (cfg->dkim_keys[0].selector) {
		buf_add(&sealed, raw, n);
		int src = dkim_sign_site(cfg, &sealed, time(NULL), err);
		if (src) {
			buf_free(&sealed);
			return src;
		}
		raw = sealed.p;
		n = sealed.n;
	}
	struct message m;
	message_init(&m);
	message_from_bytes(&m, raw, n);
	size_t k = 0;
	while (rcpts[k])
		k++;
	struct tx_job *jobs = xcalloc(k ? k : 1, sizeof *jobs);
	struct send_state st = {xcalloc(k ? k : 1, sizeof *st.outs)};
	for (size_t i = 0; i < k; i++) {
		jobs[i] = (struct tx_job){&m, mail_from, rcpts[i], (void *)(uintptr_t)i};
		st.outs[i] = (struct outcome){.kind = OUT_NOT_SENT};
	}
	size_t next = 0;
	int rc = 0;
	while (!rc && (next < k || transport_busy(t))) {
		while (next < k && transport_capacity(t) > 0)
			transport_submit(t, &jobs[next++]);
		if (transport_busy(t) || next < k)
			rc = transport_wait(t, 1000, -1, on_done, &st, err);
	}
	*o = (struct outcome){.kind = OUT_SENT};
	size_t sent = 0;
	for (size_t i = 0; i < k; i++) {
		if (st.outs[i].kind == OUT_SENT)
			sent++;
		else if (o->kind == OUT_SENT)
			*o = st.outs[i];
	}
	if (nsent)
		*nsent = sent;
	if (!rc && o->kind != OUT_SENT) {
		const char *what = o->kind == OUT_FAILED     ? "refused"
				   : o->kind == OUT_DEFERRED ? "deferred"
				   : o->kind == OUT_UNCERTAIN
				       ? "may have been delivered (uncertain: no reply came)"
				       : "not sent";
		struct buf why = BUF_INIT;
		outcome_reason(&why, o->code, o->status, o->text);
		rc = err_set(err, o->kind == OUT_FAILED ? LB_EDATA : LB_ETEMP, "%s: %s", what,
			     buf_cstr(&why));
		buf_free(&why);
	}
	free(jobs);
	free(st.outs);
	message_free(&m);
	buf_free(&sealed);
	return rc;
}

static int open_transport(const struct config *cfg, struct transport **t, struct lb_err *err)
{
	struct transport_opts to = {&cfg->out, cfg->site_dir, 60};
	return transport_open(&to, t, err);
}

int mail_send_now(const struct config *cfg, const char *raw, size_t n, const char *mail_from,
		  const char *const *rcpts, size_t *nsent, struct outcome *o, struct lb_err *err)
{
	struct transport *t = NULL;
	*o = (struct outcome){.kind = OUT_NOT_SENT};
	if (nsent)
		*nsent = 0;
	int rc = open_transport(cfg, &t, err);
	if (!rc)
		rc = send_on(cfg, t, raw, n, mail_from, rcpts, nsent, o, err);
	transport_close(t);
	return rc;
}

/* Through the notifier's own connection; one that failed is dropped so the
 * next mail connects afresh. */
static int notifier_send(struct notifier *nt, const struct buf *raw, const char *mail_from,
			 const char *const *rcpts, size_t *nsent, struct outcome *o,
			 struct lb_err *err)
{
	*o = (struct outcome){.kind = OUT_NOT_SENT};
	*nsent = 0;
	int rc = nt->t ? 0 : open_transport(nt->cfg, &nt->t, err);
	if (!rc)
		rc = send_on(nt->cfg, nt->t, raw->p, raw->n, mail_from, rcpts, nsent, o, err);
	if (rc == LB_EUNAVAIL || rc == LB_ECONFIG) {
		transport_close(nt->t);
		nt->t = NULL;
	}
	return rc;
}

/* ---- the shared parts -------------------------------------------------------------------------
 */

static int lock_inquiries(const struct config *cfg, int *fd, struct lb_err *err)
{
	return inquiries_lock(cfg->state_dir, fd, err);
}

static void unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void iso(struct buf *b, time_t t)
{
	buf_reset(b);
	time_iso(b, t);
}

static void history(const struct notifier *nt, unsigned number, time_t now, const char *what,
		    const char *detail)
{
	struct lb_err e = {0};
	if (inquiry_history_add(nt->cfg->state_dir, number, now, "letterbox", what, detail, &e))
		log_warn("inquiry %u: %s", number, e.msg);
}

static void set_state(char **slot, const char *state)
{
	free(*slot);
	*slot = state ? xstrdup(state) : NULL;
}

/* After a send: under the lock, the alert's (or the acknowledgement's) state
 * becomes `state` (NULL: the intent is withdrawn, from the record and for an
 * acknowledgement from the sender log; OUTCOME_UNSENT: kept in the record, so
 * never tried again, but out of the sender log) and `what` goes into
 * the history in the same write, if the intent is still the one recorded at
 * `stamp`.  A failure only warns: the mail has gone, or not, either way. */
static void record_outcome(const struct notifier *nt, unsigned number, bool is_alert,
			   const char *stamp, const char *state, time_t now, const char *what,
			   const char *detail, const char *sent_id)
{
	const char *dir = nt->cfg->state_dir;
	int fd = -1;
	struct inquiry q = {0};
	struct lb_err e = {0};
	int rc = lock_inquiries(nt->cfg, &fd, &e);
	if (!rc && !(rc = inquiry_load(dir, number, &q, &e))) {
		char **intent = is_alert ? &q.alerted : &q.acknowledged;
		if (notify_same(*intent, stamp)) {
			set_state(is_alert ? &q.alert_state : &q.ack_state, state);
			if (!state)
				set_state(intent, NULL);
			bool unsent = !state || notify_same(state, OUTCOME_UNSENT);
			rc = inquiry_save_noted(dir, &q, now, "letterbox", what, detail, &e);
			/* An answer to it joins the conversation (receive/followup.h). */
			if (!rc && !unsent)
				rc = inquiry_note_sent(dir, &q, now, sent_id, "ack", &e);
			/* One that certainly did not go out leaves the sender log too. */
			if (!rc && unsent && !is_alert)
				rc = acklog_drop(nt->cfg, number, now, &e);
		} else if (what) {
			rc = inquiry_history_add(dir, number, now, "letterbox", what, detail, &e);
		}
	}
	if (rc)
		log_warn("inquiry %u: %s", number, e.msg);
	unlock(fd);
	inquiry_free(&q);
}

/* The certain failures: the mail did not leave, so trying again later cannot
 * make a second copy. */
static bool certainly_not_sent(int rc, const struct outcome *o, size_t nsent)
{
	if (nsent)
		return false;
	return o->kind == OUT_NOT_SENT || o->kind == OUT_DEFERRED ||
	       ((rc == LB_EUNAVAIL || rc == LB_ECONFIG) && o->kind != OUT_UNCERTAIN);
}

/* Parse the configured mailboxes (staff.urgent_to): a bad one is a
 * configuration error. */
static int parse_list(const struct config *cfg, char *const *list, const char *key,
		      struct addr **out, size_t *n, struct lb_err *err)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (size_t i = 0; list && list[i]; i++) {
		*out = xgrowarray(*out, &cap, *n + 1, sizeof **out);
		if (addr_parse(span_cstr(list[i]), &(*out)[*n], err)) {
			for (size_t j = 0; j < *n; j++)
				addr_free(&(*out)[j]);
			free(*out);
			*out = NULL;
			*n = 0;
			return err_prefix(err, "%s: %s", cfg->file, key), err->code = LB_ECONFIG;
		}
		(*n)++;
	}
	return 0;
}

static void free_list(struct addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		addr_free(&v[i]);
	free(v);
}

/* ---- the urgent alert -------------------------------------------------------------------------
 */

/* How an alert or acknowledgement is being tried: the first time (just
 * filed), again by a later poll (the first try certainly failed), or, for an
 * alert whose first try a crash left in doubt, as a possible repeat. */
enum attempt { FIRST, AGAIN, REPEAT };

static int alert(struct notifier *nt, unsigned number, time_t now, enum attempt how,
		 struct lb_err *err)
{
	const struct config *cfg = nt->cfg;
	if (!cfg->urgent_to || !cfg->urgent_to[0])
		return 0;
	struct addr *to = NULL;
	size_t nto = 0;
	int fd = -1, rc = parse_list(cfg, cfg->urgent_to, "staff.urgent_to", &to, &nto, err);
	struct inquiry q = {0};
	struct buf stamp = BUF_INIT, raw = BUF_INIT, text = BUF_INIT, html = BUF_INIT,
		   subj = BUF_INIT;
	if (rc || (rc = lock_inquiries(cfg, &fd, err)))
		goto out;
	if ((rc = inquiry_load(cfg->state_dir, number, &q, err)))
		goto out;
	bool due = how == REPEAT ? q.alerted && notify_same(q.alert_state, ALERT_DOUBTED)
				 : inquiry_is_urgent(&q) && !q.alerted;
	if (!due) {
		unlock(fd);
		fd = -1;
		goto out;
	}
	/* The intent (or the repeat's), durably, before anything goes out. */
	if (how != REPEAT) {
		iso(&stamp, now);
		q.alerted = xstrdup(stamp.p);
	} else {
		buf_adds(&stamp, q.alerted);
	}
	set_state(&q.alert_state, how == REPEAT ? ALERT_REPEATING : OUTCOME_PENDING);
	rc = inquiry_save(cfg->state_dir, &q, err);
	unlock(fd);
	fd = -1;
	if (rc)
		goto out;
	crash_point(how == REPEAT ? "after-repeat-intent" : "after-alert-intent");

	alert_compose_text(cfg, &q, how == REPEAT, &text, &html);
	buf_printf(&subj, "%sURGENT inquiry %u - %s", how == REPEAT ? "[possible repeat] " : "",
		   number, cfg->site_name);
	struct onemail om = {.kind = OM_ALERT,
			     .from = &cfg->from,
			     .to = to,
			     .nto = nto,
			     .subject = subj.p,
			     .text = text.p,
			     .html = html.p,
			     .date = now};
	char **rcpts = xcalloc(nto + 1, sizeof *rcpts);
	for (size_t i = 0; i < nto; i++)
		rcpts[i] = to[i].spec;
	struct outcome o = {.kind = OUT_NOT_SENT};
	size_t nsent = 0;
	if (!(rc = onemail_compose(&om, &raw, NULL, err)))
		rc = notifier_send(nt, &raw, cfg->from.spec, (const char *const *)rcpts, &nsent, &o,
				   err);
	free(rcpts);
	crash_point("after-alert-sent");
	struct buf d = BUF_INIT;
	if (!rc) {
		if (how == REPEAT)
			buf_printf(&d,
				   "urgent alert sent again to staff.urgent_to (%zu), marked "
				   "\"possible repeat\"",
				   nsent);
		else
			buf_printf(&d, "urgent alert sent to staff.urgent_to (%zu)", nsent);
		record_outcome(nt, number, true, stamp.p,
			       how == REPEAT ? ALERT_REPEATED : OUTCOME_SENT, now, "alerted", d.p,
			       NULL);
	} else if (certainly_not_sent(rc, &o, nsent)) {
		/* The next poll tries again: a first alert's intent is withdrawn, a
		 * repeat stays due.  Noted once; later polls' retries only warn. */
		buf_printf(&d, "urgent alert not sent (%s); the next poll tries again", err->msg);
		record_outcome(nt, number, true, stamp.p, how == REPEAT ? ALERT_DOUBTED : NULL, now,
			       how == FIRST ? "alert-failed" : NULL, d.p, NULL);
		err_prefix(err, "urgent alert not sent");
	} else {
		buf_printf(&d, "urgent alert to %zu of %zu: %s", nsent, nto, err->msg);
		record_outcome(nt, number, true, stamp.p, OUTCOME_FAILED, now, "alert-failed", d.p,
			       NULL);
		err_prefix(err, "urgent alert");
	}
	buf_free(&d);
out:
	unlock(fd);
	inquiry_free(&q);
	free_list(to, nto);
	buf_free(&stamp);
	buf_free(&raw);
	buf_free(&text);
	buf_free(&html);
	buf_free(&subj);
	return rc;
}

/* ---- the acknowledgement ----------------------------------------------------------------------
 */

static int acknowledge(struct notifier *nt, unsigned number, time_t now, enum attempt how,
		       struct lb_err *err)
{
	const struct config *cfg = nt->cfg;
	if (!cfg->acknowledge)
		return 0;
	int fd = -1;
	struct inquiry q = {0};
	struct inmsg m;
	bool parsed = false;
	struct buf stamp = BUF_INIT, raw = BUF_INIT, d = BUF_INIT;
	int rc = lock_inquiries(cfg, &fd, err);
	if (rc || (rc = inquiry_load(cfg->state_dir, number, &q, err)) || q.acknowledged)
		goto out;
	struct lb_err why_err = {0};
	const char *why = ack_refusal(cfg, nt->secret, &q, now, &m, &parsed, &why_err);
	if (why) {
		/* An error withholds it too (the poll goes on: the inquiry is
		 * filed), and says so every time; a later poll tries again. */
		buf_adds(&d, why);
		if (why_err.code)
			buf_printf(&d, " (%s)", why_err.msg);
		if (how == FIRST)
			history(nt, number, now, "not-acknowledged", d.p);
		if (why_err.code)
			log_warn("inquiry %u: no acknowledgement: %s", number, d.p);
		else
			log_info("inquiry %u: no acknowledgement: %s", number, why);
		goto out;
	}
	/* The intent, durably, before anything goes out: first the sender log
	 * (so a crash between the two still counts for the 7 days), then the
	 * record (so this inquiry is never acknowledged twice). */
	iso(&stamp, now);
	q.acknowledged = xstrdup(stamp.p);
	set_state(&q.ack_state, OUTCOME_PENDING);
	if ((rc = acklog_add(cfg, nt->secret, q.from, number, now, err)))
		goto out;
	crash_point("after-acklog");
	if ((rc = inquiry_save(cfg->state_dir, &q, err)))
		goto out;
	unlock(fd);
	fd = -1;
	crash_point("after-ack-intent");

	struct outcome o = {.kind = OUT_NOT_SENT};
	size_t nsent = 0;
	const char *rcpts[] = {q.from, NULL};
	char *id = NULL;
	bool composed = !(rc = ack_compose(cfg, nt->secret, &q, &m, now, &raw, &id, err));
	if (composed)
		/* RFC 3834 3.3: a null envelope sender, so nothing answers this. */
		rc = notifier_send(nt, &raw, "", rcpts, &nsent, &o, err);
	crash_point("after-ack-sent");
	if (!composed) {
		/* A missing or broken template is the site's to fix, and trying
		 * again on every poll would only repeat the warning: this inquiry
		 * is not acknowledged, said once, here and in its history. */
		buf_printf(&d,
			   "acknowledgement not sent (%s); not tried again for this inquiry "
			   "(letterbox check shows what to fix)",
			   err->msg);
		record_outcome(nt, number, false, stamp.p, OUTCOME_UNSENT, now, "ack-failed", d.p,
			       NULL);
		err_prefix(err, "acknowledgement not sent");
	} else if (!rc) {
		record_outcome(nt, number, false, stamp.p, OUTCOME_SENT, now, "acknowledged",
			       "acknowledgement sent to the sender", id);
	} else if (certainly_not_sent(rc, &o, nsent)) {
		/* Withdrawn (also from the sender log): the next poll tries again. */
		buf_printf(&d, "acknowledgement not sent (%s); the next poll tries again",
			   err->msg);
		record_outcome(nt, number, false, stamp.p, NULL, now,
			       how == FIRST ? "ack-failed" : NULL, d.p, NULL);
		err_prefix(err, "acknowledgement not sent");
	} else {
		buf_printf(&d, "acknowledgement: %s", err->msg);
		record_outcome(nt, number, false, stamp.p, OUTCOME_FAILED, now, "ack-failed", d.p,
			       id);
		err_prefix(err, "acknowledgement");
	}
	free(id);
out:
	unlock(fd);
	if (parsed)
		inmsg_free(&m);
	inquiry_free(&q);
	buf_free(&stamp);
	buf_free(&raw);
	buf_free(&d);
	return rc;
}

/* ---- the interface ----------------------------------------------------------------------------
 */

int notifier_open(const struct config *cfg, const struct secret *secret, struct notifier **n,
		  struct lb_err *err)
{
	(void)err;
	*n = xcalloc(1, sizeof **n);
	(*n)->cfg = cfg;
	(*n)->secret = secret;
	return 0;
}

static int filed(struct notifier *n, unsigned number, time_t now, enum attempt how,
		 struct lb_err *err)
{
	/* The alert first: it matters more, and one failing must not stop the
	 * other. */
	int rc = alert(n, number, now, how, err);
	struct lb_err e2 = {0};
	int rc2 = acknowledge(n, number, now, how, rc ? &e2 : err);
	if (rc && rc2)
		log_warn("inquiry %u: %s", number, e2.msg);
	return rc ? rc : rc2;
}

int notifier_inquiry_filed(struct notifier *n, unsigned number, time_t now, struct lb_err *err)
{
	return filed(n, number, now, FIRST, err);
}

int notifier_followup(struct notifier *n, unsigned number, time_t now, struct lb_err *err)
{
	return alert(n, number, now, FIRST, err);
}

/* Staff may not know yet what came last: a new inquiry, or a waiting one
 * that a later message reopened (or made urgent), within the window. */
static bool fresh(const struct inquiry *q, time_t now)
{
	if (!inquiry_is_waiting(q))
		return false;
	if (q->status && !strcmp(q->status, "new") && q->received >= now - CATCH_UP_WINDOW)
		return true;
	return q->thread && inquiry_last_message(q) >= now - CATCH_UP_WINDOW;
}

/* ---- intents a crash left in doubt ----------------------------------------------------------- */

/* The first run after the crash reports the doubt, once: in the history, on
 * stderr and from then on in `status` and the digest (the record's state).
 * An urgent alert is then due again, as a possible repeat, while staff may
 * still not know (the inquiry new, within the catch-up window); a repeat
 * that is in doubt in its turn is not repeated again.  An acknowledgement is
 * never resent: the person must not get two.  *repeat is set when the alert
 * is due. */
static int report_doubts(struct notifier *nt, unsigned number, time_t now, bool *repeat,
			 struct lb_err *err)
{
	const struct config *cfg = nt->cfg;
	int fd = -1;
	struct inquiry q = {0};
	struct buf d = BUF_INIT;
	*repeat = false;
	int rc = lock_inquiries(cfg, &fd, err);
	if (!rc)
		rc = inquiry_load(cfg->state_dir, number, &q, err);
	if (!rc && notify_in_doubt(q.alerted, q.alert_state, q.noted & INQ_NOTED_ALERT)) {
		bool again = notify_same(q.alert_state, ALERT_REPEATING);
		*repeat = !again && cfg->urgent_to && cfg->urgent_to[0] && inquiry_is_urgent(&q) &&
			  fresh(&q, now);
		buf_adds(&d, again ? "the repeated urgent alert may not have been sent either"
				   : "urgent alert may not have been sent");
		buf_adds(&d, " (letterbox was interrupted) \xe2\x80\x94 check");
		if (*repeat)
			buf_adds(&d, "; sending it again, marked \"possible repeat\"");
		set_state(&q.alert_state, *repeat ? ALERT_DOUBTED : OUTCOME_UNKNOWN);
		rc = inquiry_save_noted(cfg->state_dir, &q, now, "letterbox", "alert-uncertain",
					d.p, err);
		if (!rc)
			log_warn("inquiry %u: %s", number, d.p);
	}
	if (!rc && notify_in_doubt(q.acknowledged, q.ack_state, q.noted & INQ_NOTED_ACK)) {
		buf_reset(&d);
		buf_adds(&d, "acknowledgement may not have been sent (letterbox was interrupted) "
			     "\xe2\x80\x94 check; not sent again, so that nobody gets two");
		set_state(&q.ack_state, OUTCOME_UNKNOWN);
		rc = inquiry_save_noted(cfg->state_dir, &q, now, "letterbox", "ack-uncertain", d.p,
					err);
		if (!rc)
			log_warn("inquiry %u: %s", number, d.p);
	}
	unlock(fd);
	inquiry_free(&q);
	buf_free(&d);
	return rc;
}

/* ---- catching up ----------------------------------------------------------------------------- */

/* A failure to notify is for that inquiry only: the others still get their
 * turn, and the poll goes on, unless the state cannot be written. */
static void catch_up_failed(unsigned number, const struct lb_err *e, int *rc, struct lb_err *err)
{
	if (e->code == LB_EIO)
		*rc = (*err = *e).code;
	else
		log_warn("inquiry %u: %s", number, e->msg);
}

int notifier_catch_up(struct notifier *n, time_t now, struct lb_err *err)
{
	const struct config *cfg = n->cfg;
	bool alerts = cfg->urgent_to && cfg->urgent_to[0];
	struct inquiry *v;
	size_t k;
	/* Loaded even with both off: an intent an earlier run left in doubt is
	 * reported all the same. */
	struct inq_query due = {.notify = true, .threads = true};
	int rc = inquiries_query(cfg->state_dir, &due, &v, &k, NULL, err);
	for (size_t i = 0; !rc && i < k; i++) {
		const struct inquiry *q = &v[i];
		struct lb_err e = {0};
		bool repeat = false;
		bool recent = q->status && strcmp(q->status, "new") == 0 &&
			      q->received >= now - CATCH_UP_WINDOW;
		if ((notify_in_doubt(q->alerted, q->alert_state, q->noted & INQ_NOTED_ALERT) ||
		     notify_in_doubt(q->acknowledged, q->ack_state, q->noted & INQ_NOTED_ACK)) &&
		    report_doubts(n, q->number, now, &repeat, &e)) {
			catch_up_failed(q->number, &e, &rc, err);
			continue;
		}
		/* The repeat due now, or since an earlier run where it certainly
		 * failed. */
		if (alerts && fresh(q, now) && inquiry_is_urgent(q) &&
		    (repeat || notify_same(q->alert_state, ALERT_DOUBTED)) &&
		    alert(n, q->number, now, REPEAT, &e))
			catch_up_failed(q->number, &e, &rc, err);
		bool want_alert = alerts && inquiry_is_urgent(q) && !q->alerted;
		bool want_ack = cfg->acknowledge && !q->acknowledged;
		e = (struct lb_err){0};
		/* Only a new inquiry is acknowledged, never a later message. */
		if (!rc && (recent && (want_alert || want_ack) ? filed(n, q->number, now, AGAIN, &e)
			    : want_alert && fresh(q, now)      ? alert(n, q->number, now, AGAIN, &e)
							       : 0))
			catch_up_failed(q->number, &e, &rc, err);
	}
	inquiries_free(v, k);
	return rc;
}

void notifier_close(struct notifier *n)
{
	if (!n)
		return;
	transport_close(n->t);
	free(n);
}
