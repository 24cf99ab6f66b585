/* The SMTP transport: N connections, each kept open for many messages, each
 * driven by its own worker thread.
 *
 * Why threads and not curl's multi interface: a session is a blocking
 * conversation (smtp_session.c: curl opens it, we speak MAIL/RCPT/DATA over
 * it), and a thread per connection keeps each one simple and lets N of them
 * run in parallel on N cores.  Per message the worker formats three command
 * lines and dot-stuffs the message's iovec into its own buffer.
 *
 * The caller's thread keeps every decision: capacity (back-off, the rate
 * limit), and turning finished transfers into outcomes and on_done calls.
 * It puts submitted jobs on a queue that the workers take from: one job
 * being sent and one queued per connection, so that a worker goes straight
 * on to the next message while the caller composes the one after.  Workers
 * put finished transfers on a done list and signal an eventfd, which
 * transport_wait polls together with the caller's extra_fd; while the queue
 * is well filled they signal once per batch (fewer wake-ups, and the
 * caller's journal syncs several outcomes at once).  A worker whose transfer
 * failed takes nothing more until the caller's thread has judged the failure
 * (it may have to back off).  Stopping a transfer is a flag (smtp.abort)
 * that the workers check while they wait on their sockets (and curl's
 * progress callback while it opens a session): the connection is then shut
 * without the end-of-data dot.
 *
 * Thread safety: curl_global_init runs in smtp_open before any worker starts
 * (and curl_global_cleanup after they are joined); each easy handle is used
 * by one thread at a time and shares nothing with the others.  That is what
 * libcurl documents as thread-safe; GnuTLS (Debian's libcurl flavour) is
 * thread-safe since 3.x without set-up.  Logging from workers locks stderr
 * for the whole line.
 *
 * NOT_SENT jobs (lost connection, 421/454) go back to the caller, who
 * resubmits them: the transport never resends on its own, so the caller's
 * journal always knows what is in flight.
 */
#include "deliver/smtp.h"

#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/ratelimit.h"

enum {
	BACKOFF_MAX = 60, /* seconds */
};

double smtp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 3, 4))) static void text_set(char *dst, size_t cap, const char *fmt,
							   ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

/* ---- the workers -------------------------------------------------------------------------- */

/* Take the oldest queued job and send it; after a failure wait to be
 * released (the main thread may want this connection to back off).  Until
 * closing (worker thread). */
void *smtp_worker(void *arg)
{
	struct conn *c = arg;
	struct smtp *s = c->s;
	pthread_mutex_lock(&s->mu);
	while (!s->closing) {
		struct xfer *x = s->queue_head;
		if (c->held || s->stopping || !x) {
			c->idle = !c->held;
			pthread_cond_wait(&c->wake, &s->mu);
			continue;
		}
		c->idle = false;
		s->queue_head = x->next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		x->conn = c;
		pthread_mutex_unlock(&s->mu);

		smtp_run_job(c, x);

		pthread_mutex_lock(&s->mu);
		c->held = x->result != CURLE_OK;
		x->next = NULL;
		if (s->done_tail)
			s->done_tail->next = x;
		else
			s->done_head = x;
		s->done_tail = x;
		s->ndone++;
		/* Wake the main thread when it has something to decide (a failure),
		 * or the queue is about to run dry, or a batch is ready.  While the
		 * workers have queued jobs, completions are handed over in batches:
		 * fewer wake-ups, and one journal sync covers several messages. */
		if (c->held || !s->queue_head || !s->queue_head->next || s->ndone >= s->nconns) {
			uint64_t one = 1;
			ssize_t w = write(s->done_fd, &one, sizeof one); /* never fails */
			(void)w;
		}
	}
	c->idle = false;
	pthread_mutex_unlock(&s->mu);
	/* QUIT on the connection it holds, in parallel with the other workers. */
	smtp_session_close(c, true);
	return NULL;
}

/* ---- capacity and submission ------------------------------------------------------------ */

/* Let a held worker take jobs again. */
static void release(struct smtp *s, struct conn *c)
{
	pthread_mutex_lock(&s->mu);
	c->held = false;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&s->mu);
}

/* End the back-offs that are over. */
static void release_due(struct smtp *s, double now)
{
	for (size_t i = 0; i < s->nconns && s->npaused; i++) {
		struct conn *c = &s->conns[i];
		if (c->paused && c->backoff_until <= now) {
			c->paused = false;
			s->npaused--;
			release(s, c);
		}
	}
}

/* Jobs that may be submitted apart from the rate limit: one being sent and
 * one queued for every connection that is not backing off. */
static size_t room(const struct smtp *s)
{
	size_t slots = 2 * (s->nconns - s->npaused);
	return slots > s->busy ? slots - s->busy : 0;
}

static size_t smtp_capacity(struct transport *t)
{
	struct smtp *s = (struct smtp *)t;
	if (s->stop.code)
		return 0;
	double now = smtp_now();
	release_due(s, now);
	size_t n = room(s);
	if (n == 0)
		return 0;
	unsigned tokens = ratelimit_available(&s->rl, now, UINT_MAX);
	return n < tokens ? n : tokens;
}

/* Milliseconds until a back-off ends or (when the caller waits for
 * capacity) a rate-limit token comes; -1 when only a completion can change
 * anything. */
static long next_wake_ms(struct smtp *s, double now, bool want_capacity)
{
	long ms = -1;
	for (size_t i = 0; i < s->nconns; i++) {
		const struct conn *c = &s->conns[i];
		if (!c->paused)
			continue;
		long at = (long)((c->backoff_until - now) * 1000) + 1;
		if (ms < 0 || at < ms)
			ms = at;
	}
	if (want_capacity && room(s) > 0) {
		long tok = ratelimit_wait_ms(&s->rl, now);
		if (tok >= 0 && (ms < 0 || tok < ms))
			ms = tok;
	}
	return ms;
}

/* The domain of the envelope sender, when it is a plain host name: used in
 * EHLO unless the URL names one.  Servers that check EHLO want a real
 * domain; curl's fallback is this machine's (often unqualified) name. */
static struct span ehlo_domain(const char *mail_from)
{
	const char *at = strrchr(mail_from, '@');
	if (!at || !at[1] || !strchr(at, '.'))
		return (struct span){NULL, 0};
	for (const char *p = at + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return (struct span){NULL, 0};
	return span_cstr(at + 1);
}

static void smtp_submit(struct transport *t, struct tx_job *job)
{
	struct smtp *s = (struct smtp *)t;
	struct xfer *x = s->free_xfers;
	LB_ASSERT(x && room(s) > 0 && !s->stop.code);
	s->free_xfers = x->next;

	if (s->ehlo_url.n == 0) {
		buf_adds(&s->ehlo_url, s->url);
		struct span d = ehlo_domain(job->mail_from);
		if (!s->url_has_path && d.n) {
			if (s->ehlo_url.p[s->ehlo_url.n - 1] != '/')
				buf_addc(&s->ehlo_url, '/');
			buf_addspan(&s->ehlo_url, d);
		}
	}
	x->job = job;
	x->next = NULL;
	x->conn = NULL;
	ratelimit_take(&s->rl, smtp_now());
	s->busy++;

	pthread_mutex_lock(&s->mu);
	if (s->queue_tail)
		s->queue_tail->next = x;
	else
		s->queue_head = x;
	s->queue_tail = x;
	/* Wake one idle worker (a busy one takes the job when it is done). */
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (c->idle) {
			c->idle = false;
			pthread_cond_signal(&c->wake);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static size_t smtp_busy(const struct transport *t)
{
	return ((const struct smtp *)t)->busy;
}

/* ---- completion ---------------------------------------------------------------------------- */

static const char *curl_reason(const struct xfer *x, CURLcode rc)
{
	return x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
}

static void stop(struct smtp *s, int code, const struct xfer *x, CURLcode rc)
{
	if (s->stop.code)
		return;
	const struct smtp_reply *r = &x->reply;
	const char *why = curl_reason(x, rc);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ISSUER_ERROR:
		err_set(&s->stop, code,
			"%s: the server's TLS certificate is not trusted (%s); if it is signed by "
			"a private CA, name that CA in outgoing.ca_file",
			s->where, why);
		break;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CRL_BADFILE:
		err_set(&s->stop, code, "%s: TLS set-up failed: %s (check outgoing.ca_file)",
			s->where, why);
		break;
	case CURLE_USE_SSL_FAILED:
		err_set(&s->stop, code,
			"%s: the server does not offer STARTTLS (%s); use smtps://, or `tls: "
			"none` on a trusted network",
			s->where, why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		err_set(&s->stop, code, "%s: TLS handshake failed: %s", s->where, why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		err_set(&s->stop, code, "%s: cannot connect: %s", s->where, why);
		break;
	case CURLE_LOGIN_DENIED:
		err_set(&s->stop, code, "%s: authentication as '%s' failed: %s", s->where,
			s->user ? s->user : "", r->code ? r->text : why);
		break;
	default:
		if (x->malformed)
			err_set(&s->stop, code,
				"%s: the server does not speak SMTP: it said \"%s\"", s->where,
				r->bad);
		else if (x->sender_refused)
			err_set(&s->stop, code,
				"%s: the server refuses the envelope sender: %s (check `from` and "
				"`bounce_to`)",
				s->where, r->text);
		else if (r->code == 530)
			err_set(&s->stop, code,
				"%s: the server requires authentication (set outgoing.username "
				"and a password): %s",
				s->where, r->text);
		else if (r->code)
			err_set(&s->stop, code, "%s: the server refused the session: %s", s->where,
				r->text);
		else
			err_set(&s->stop, code, "%s: no reply from the server: %s", s->where, why);
		break;
	}
}

static void put_free(struct smtp *s, struct xfer *x)
{
	x->job = NULL;
	x->next = s->free_xfers;
	s->free_xfers = x;
	s->busy--;
}

/* The campaign stopped: no worker takes another job, the queued ones come
 * back not sent, the ones in flight are asked to stop. */
static void stop_queue(struct smtp *s, tx_done_fn on_done, void *ctx)
{
	pthread_mutex_lock(&s->mu);
	struct xfer *x = s->queue_head;
	s->queue_head = s->queue_tail = NULL;
	s->stopping = true;
	pthread_mutex_unlock(&s->mu);
	if (atomic_load_explicit(&s->abort, memory_order_relaxed) < ABORT_STOP)
		atomic_store_explicit(&s->abort, ABORT_STOP, memory_order_relaxed);
	while (x) {
		struct xfer *next = x->next;
		struct tx_job *job = x->job;
		struct outcome o = {.kind = OUT_NOT_SENT};
		text_set(o.text, sizeof o.text, "not sent: the campaign stopped");
		put_free(s, x);
		on_done(ctx, job, &o);
		x = next;
	}
}

/* A message went out whole and its "." got no valid reply: it may have been
 * delivered.  A server that stalls (or garbles) there turns every message
 * fed to it into such an uncertain one, so stop after two in a row, or
 * after connections + 1 in all (those still in flight, at most one per
 * other connection, may add theirs): at most 2 x connections per run, as
 * after a crash.  The rest stay pending for a later run. */
static void unanswered(struct smtp *s, const struct xfer *x, CURLcode rc)
{
	s->uncertain++;
	if (++s->unanswered >= 2)
		err_set(&s->stop, LB_EUNAVAIL,
			"%s: the server did not answer the end of %u messages in a row (last: %s); "
			"stopping so that no more are left uncertain (they may have been "
			"delivered: letterbox status lists them); the rest stay for a later run",
			s->where, s->unanswered, curl_reason(x, rc));
	else if (s->uncertain > s->nconns)
		err_set(&s->stop, LB_EUNAVAIL,
			"%s: the server did not answer the end of %u messages in this run (last: "
			"%s); stopping so that no more are left uncertain (they may have been "
			"delivered: letterbox status lists them); the rest stay for a later run",
			s->where, s->uncertain, curl_reason(x, rc));
}

/* A worker's transfer ended: judge it, account for it, hand the outcome over. */
static void finish(struct smtp *s, struct xfer *x, tx_done_fn on_done, void *ctx)
{
	struct tx_job *job = x->job;
	struct conn *c = x->conn;
	CURLcode rc = x->result;
	bool stopped = s->stop.code != 0;
	double now = smtp_now();
	struct smtp_finish f = {
	    .result = rc,
	    .reply = x->reply.code,
	    .new_conn = x->new_conn,
	    .data_complete = x->data_complete,
	    .sender_refused = x->sender_refused,
	    .malformed = x->malformed,
	    .opening = x->opening,
	};
	struct outcome o = {0};
	enum smtp_verdict v = smtp_classify(&f, &o.kind);
	bool replied = o.kind == OUT_SENT || o.kind == OUT_DEFERRED || o.kind == OUT_FAILED ||
		       v == SMTP_SLOW_DOWN;
	if (replied) {
		o.code = x->reply.code;
		memcpy(o.status, x->reply.status, sizeof o.status);
		memcpy(o.text, x->reply.text, sizeof o.text);
	} else if (stopped) {
		text_set(o.text, sizeof o.text, "%s",
			 o.kind == OUT_UNCERTAIN ? "the campaign stopped after the message was "
						   "sent, before the server's reply"
						 : "not sent: the campaign stopped");
	} else if (o.kind == OUT_UNCERTAIN) {
		text_set(o.text, sizeof o.text,
			 "no %sreply after the message was sent (%s); it may have been delivered",
			 x->malformed ? "valid " : "", curl_reason(x, rc));
	} else {
		text_set(o.text, sizeof o.text, "not sent: %s", curl_reason(x, rc));
	}

	bool pause = false;
	if (!stopped) {
		switch (v) {
		case SMTP_FINAL:
			if (o.kind == OUT_UNCERTAIN) {
				s->trouble++;
				unanswered(s, x, rc);
				break;
			}
			if (x->data_complete)
				s->unanswered = 0; /* the server answers the "." again */
			s->trouble = 0;
			s->slow_since = 0;
			c->backoff = 0;
			break;
		case SMTP_RETRY:
			if (++s->trouble > 2 * s->nconns + 4)
				err_set(&s->stop, LB_EUNAVAIL,
					"%s: the connection keeps breaking (%u times in a row, "
					"last: %s)",
					s->where, s->trouble, curl_reason(x, rc));
			break;
		case SMTP_SLOW_DOWN:
			pause = true;
			c->backoff = c->backoff > 0 ? c->backoff * 2 : 1;
			if (c->backoff > BACKOFF_MAX)
				c->backoff = BACKOFF_MAX;
			c->backoff_until = now + c->backoff;
			ratelimit_slow_down(&s->rl, now);
			if (s->slow_since == 0)
				s->slow_since = now;
			else if (now - s->slow_since > 5.0 * (double)s->timeout_s)
				err_set(&s->stop, LB_EUNAVAIL,
					"%s: the server has been asking us to slow down for %.0f "
					"s (%s); stopping",
					s->where, now - s->slow_since, x->reply.text);
			else
				log_info("%s: %s; connection %zu waits %.0f s", s->where,
					 x->reply.text, c->index, c->backoff);
			break;
		case SMTP_STOP_UNAVAIL:
			stop(s, LB_EUNAVAIL, x, rc);
			break;
		case SMTP_STOP_CONFIG:
			stop(s, LB_ECONFIG, x, rc);
			break;
		}
	}
	/* The worker holds itself after a failure: back off, or go on. */
	if (rc != CURLE_OK && !s->stop.code) {
		if (pause) {
			c->paused = true;
			s->npaused++;
		} else {
			release(s, c);
		}
	}
	ratelimit_done(&s->rl, now);
	put_free(s, x);
	on_done(ctx, job, &o);
	if (s->stop.code && !stopped)
		stop_queue(s, on_done, ctx);
}

/* Complete every transfer the workers have finished; returns how many. */
static size_t collect(struct smtp *s, tx_done_fn on_done, void *ctx)
{
	uint64_t n;
	ssize_t r = read(s->done_fd, &n, sizeof n); /* rearm; EAGAIN when nothing came */
	(void)r;
	pthread_mutex_lock(&s->mu);
	struct xfer *x = s->done_head;
	s->done_head = s->done_tail = NULL;
	s->ndone = 0;
	pthread_mutex_unlock(&s->mu);
	size_t done = 0;
	while (x) {
		struct xfer *next = x->next; /* finish puts x on the free list */
		finish(s, x, on_done, ctx);
		done++;
		x = next;
	}
	return done;
}

/* Sleep until a worker finishes a transfer, extra_fd is readable or ms
 * pass.  Returns true when extra_fd is readable. */
static bool sleep_on(struct smtp *s, int extra_fd, long ms)
{
	struct pollfd p[2] = {{.fd = s->done_fd, .events = POLLIN},
			      {.fd = extra_fd, .events = POLLIN}};
	if (poll(p, extra_fd >= 0 ? 2 : 1, ms > INT_MAX ? INT_MAX : (int)ms) <= 0)
		return false;
	return extra_fd >= 0 && p[1].revents != 0;
}

static int smtp_wait(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done,
		     void *ctx, struct lb_err *err)
{
	struct smtp *s = (struct smtp *)t;
	double deadline = smtp_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
	bool was_full = smtp_capacity(t) == 0, extra_ready = false;
	for (;;) {
		size_t done = collect(s, on_done, ctx);
		if (s->stop.code) {
			/* In-flight transfers abort at their next step (or get
			 * their reply, when all the data went out); collect them. */
			if (s->busy == 0) {
				*err = s->stop;
				return err->code;
			}
			double now = smtp_now();
			if (s->stop_deadline == 0)
				s->stop_deadline = now + (double)s->timeout_s + 5;
			else if (now > s->stop_deadline)
				atomic_store_explicit(&s->abort, ABORT_NOW, memory_order_relaxed);
			sleep_on(s, -1, 100);
			continue;
		}
		if (done || extra_ready || (was_full && smtp_capacity(t) > 0))
			return 0;
		double now = smtp_now();
		release_due(s, now); /* queued jobs may wait for a paused worker */
		long left = (long)((deadline - now) * 1000);
		if (left <= 0)
			return 0;
		long wake = next_wake_ms(s, now, was_full);
		if (wake >= 0 && wake < left)
			left = wake;
		extra_ready = sleep_on(s, extra_fd, left);
	}
}

/* ---- open and close ------------------------------------------------------------------------- */

static void smtp_close(struct transport *t)
{
	struct smtp *s = (struct smtp *)t;
	if (s->busy) {
		/* The caller should have waited; abort cleanly rather than let
		 * curl end a half-sent message with a dot. */
		log_warn("%s: closing with %zu message(s) in flight; they were not sent", s->where,
			 s->busy);
		atomic_store_explicit(&s->abort, ABORT_NOW, memory_order_relaxed);
	}
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	for (size_t i = 0; i < s->nconns; i++)
		pthread_cond_signal(&s->conns[i].wake);
	pthread_mutex_unlock(&s->mu);
	/* Each worker sends its QUIT and cleans its handle up on the way out. */
	for (size_t i = 0; i < s->nconns; i++)
		if (s->conns[i].thread_started)
			pthread_join(s->conns[i].thread, NULL);
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		smtp_session_close(c, false); /* a worker that never started, or failed */
		if (c->tmpl)
			curl_easy_cleanup(c->tmpl);
		buf_free(&c->out);
		pthread_cond_destroy(&c->wake);
	}
	pthread_mutex_destroy(&s->mu);
	if (s->done_fd >= 0)
		close(s->done_fd);
	free(s->conns);
	free(s->xfers);
	free(s->url);
	free(s->where);
	free(s->user);
	buf_free(&s->ehlo_url);
	free(s);
	curl_global_cleanup();
}

const struct transport_ops smtp_ops = {
    .capacity = smtp_capacity,
    .submit = smtp_submit,
    .busy = smtp_busy,
    .wait = smtp_wait,
    .close = smtp_close,
};
