/* The SMTP transport: libcurl's multi interface, N connections, each kept
 * open for many messages.
 *
 * One easy handle per connection slot, reused message after message, so the
 * connection it left in the multi's pool is picked up again (the pool is
 * capped at N, so there are never more than N sessions).  Per message we only
 * set MAIL FROM, point the one-element recipient list at this recipient and
 * rewind a cursor over the message's iovec: no allocation and no copy of the
 * message on our side.
 *
 * What curl does not tell us directly we read on the way: every reply line
 * passes through the header callback, and the read callback knows when the
 * last byte of the message was handed over (both in smtp_open.c, with the
 * options); smtp_reply.c assembles the replies and turns all that into an
 * outcome.
 *
 * Known limit (curl 7.88 and later): after the data, curl waits for the
 * final reply inside curl_multi_perform (smtp_done blocks), so the N
 * connections overlap everything but that one wait.  On loopback and a LAN
 * this costs little; it also means transport_wait may overrun its timeout by
 * up to one server reply (bounded by timeout_s).
 *
 * NOT_SENT jobs (lost connection, 421/454) go back to the caller, who
 * resubmits them: the transport never resends on its own, so the caller's
 * journal always knows what is in flight.
 */
#include "deliver/smtp.h"

#include <limits.h>
#include <stdarg.h>
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

/* ---- capacity and submission ------------------------------------------------------------ */

static bool conn_ready(const struct conn *c, double now)
{
	return !c->job && c->backoff_until <= now;
}

static size_t smtp_capacity(struct transport *t)
{
	struct smtp *s = (struct smtp *)t;
	if (s->stop.code)
		return 0;
	double now = smtp_now();
	size_t ready = 0;
	for (size_t i = 0; i < s->nconns; i++)
		ready += conn_ready(&s->conns[i], now);
	if (ready == 0)
		return 0;
	unsigned tokens = ratelimit_available(&s->rl, now, UINT_MAX);
	return ready < tokens ? ready : tokens;
}

/* Milliseconds until capacity may become positive again without a
 * completion (a token, the end of a back-off), -1 when only a completion
 * can bring it. */
static long next_wake_ms(struct smtp *s, double now)
{
	if (s->stop.code)
		return -1;
	double soonest = -1;
	for (size_t i = 0; i < s->nconns; i++) {
		const struct conn *c = &s->conns[i];
		if (c->job)
			continue;
		double at = c->backoff_until > now ? c->backoff_until - now : 0;
		if (soonest < 0 || at < soonest)
			soonest = at;
	}
	if (soonest < 0)
		return -1;
	long ms = (long)(soonest * 1000) + (soonest > 0);
	long tok = ratelimit_wait_ms(&s->rl, now);
	return tok > ms ? tok : ms;
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
	double now = smtp_now();
	struct conn *c = NULL;
	for (size_t i = 0; i < s->nconns && !c; i++)
		if (conn_ready(&s->conns[i], now))
			c = &s->conns[i];
	LB_ASSERT(c && !s->stop.code);

	if (!c->url_set) {
		if (s->ehlo_url.n == 0) {
			buf_adds(&s->ehlo_url, s->url);
			struct span d = ehlo_domain(job->mail_from);
			if (!s->url_has_path && d.n) {
				if (s->ehlo_url.p[s->ehlo_url.n - 1] != '/')
					buf_addc(&s->ehlo_url, '/');
				buf_addspan(&s->ehlo_url, d);
			}
		}
		curl_easy_setopt(c->easy, CURLOPT_URL, buf_cstr(&s->ehlo_url));
		c->url_set = true;
	}
	buf_reset(&c->from_buf);
	buf_addc(&c->from_buf, '<');
	buf_adds(&c->from_buf, job->mail_from);
	buf_addc(&c->from_buf, '>');
	buf_reset(&c->rcpt_buf);
	buf_addc(&c->rcpt_buf, '<');
	buf_adds(&c->rcpt_buf, job->rcpt);
	buf_addc(&c->rcpt_buf, '>');
	c->rcpt.data = c->rcpt_buf.p;
	curl_easy_setopt(c->easy, CURLOPT_MAIL_FROM, buf_cstr(&c->from_buf));
	curl_easy_setopt(c->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)job->msg->size);

	c->job = job;
	c->iov = job->msg->iov;
	c->niov = job->msg->niov;
	c->idx = c->off = 0;
	c->handed_all = c->saw_354 = c->aborting = false;
	c->errbuf[0] = '\0';
	smtp_reply_reset(&c->reply);
	ratelimit_take(&s->rl, now);
	s->busy++;
	CURLMcode mc = curl_multi_add_handle(s->multi, c->easy);
	LB_ASSERT(mc == CURLM_OK);
}

static size_t smtp_busy(const struct transport *t)
{
	return ((const struct smtp *)t)->busy;
}

/* ---- completion ---------------------------------------------------------------------------- */

static const char *curl_reason(const struct conn *c, CURLcode rc)
{
	return c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
}

static void stop(struct smtp *s, int code, const struct conn *c, CURLcode rc)
{
	if (s->stop.code)
		return;
	const struct smtp_reply *r = &c->reply;
	const char *why = curl_reason(c, rc);
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
		if (r->code == 530)
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

static void finish(struct smtp *s, struct conn *c, CURLcode rc, tx_done_fn on_done, void *ctx)
{
	struct tx_job *job = c->job;
	double now = smtp_now();
	long nconnects = 0;
	curl_off_t up = 0;
	curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &nconnects);
	curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	struct smtp_finish f = {
	    .result = rc,
	    .reply = c->reply.code,
	    .new_conn = nconnects > 0,
	    /* Every byte handed over and written: only the final dot and
	     * the reply may be missing.  (Dot-stuffing makes `up` count a
	     * little more than the message; that errs towards UNCERTAIN.) */
	    .data_complete = c->saw_354 && c->handed_all && up >= (curl_off_t)job->msg->size,
	};
	struct outcome o = {0};
	enum smtp_verdict v = smtp_classify(&f, &o.kind);
	bool replied = o.kind == OUT_SENT || o.kind == OUT_DEFERRED || o.kind == OUT_FAILED ||
		       v == SMTP_SLOW_DOWN;
	if (replied) {
		o.code = c->reply.code;
		memcpy(o.status, c->reply.status, sizeof o.status);
		memcpy(o.text, c->reply.text, sizeof o.text);
	} else if (c->aborting || s->stop.code) {
		text_set(o.text, sizeof o.text, "%s",
			 o.kind == OUT_UNCERTAIN ? "the campaign stopped after the message was "
						   "sent, before the server's reply"
						 : "not sent: the campaign stopped");
	} else if (o.kind == OUT_UNCERTAIN) {
		text_set(o.text, sizeof o.text,
			 "no reply after the message was sent (%s); it may have been delivered",
			 curl_reason(c, rc));
	} else {
		text_set(o.text, sizeof o.text, "not sent: %s", curl_reason(c, rc));
	}

	if (!c->aborting && !s->stop.code) {
		switch (v) {
		case SMTP_FINAL:
			if (o.kind == OUT_UNCERTAIN) {
				s->trouble++;
				break;
			}
			s->trouble = 0;
			s->slow_since = 0;
			c->backoff = 0;
			break;
		case SMTP_RETRY:
			if (++s->trouble > 2 * s->nconns + 4)
				err_set(&s->stop, LB_EUNAVAIL,
					"%s: the connection keeps breaking (%u times in a row, "
					"last: %s)",
					s->where, s->trouble, curl_reason(c, rc));
			break;
		case SMTP_SLOW_DOWN:
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
					s->where, now - s->slow_since, c->reply.text);
			else
				log_info("%s: %s; connection %zu waits %.0f s", s->where,
					 c->reply.text, c->index, c->backoff);
			break;
		case SMTP_STOP_UNAVAIL:
			stop(s, LB_EUNAVAIL, c, rc);
			break;
		case SMTP_STOP_CONFIG:
			stop(s, LB_ECONFIG, c, rc);
			break;
		}
		if (s->stop.code)
			for (size_t i = 0; i < s->nconns; i++)
				if (s->conns[i].job)
					s->conns[i].aborting = true;
	}
	ratelimit_done(&s->rl, now);
	c->job = NULL;
	s->busy--;
	on_done(ctx, job, &o);
}

static size_t drain(struct smtp *s, tx_done_fn on_done, void *ctx)
{
	size_t n = 0;
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(s->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result; /* m is invalid once the handle is removed */
		struct conn *c = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c);
		curl_multi_remove_handle(s->multi, easy);
		finish(s, c, rc, on_done, ctx);
		n++;
	}
	return n;
}

/* Last resort when a stopping transfer does not end (one waiting for a free
 * connection has none to abort): take it out.  Never reached in practice,
 * but a cron run must not spin forever. */
static void force_complete(struct smtp *s, tx_done_fn on_done, void *ctx)
{
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (!c->job)
			continue;
		curl_multi_remove_handle(s->multi, c->easy);
		finish(s, c, CURLE_ABORTED_BY_CALLBACK, on_done, ctx);
	}
}

static int smtp_wait(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done,
		     void *ctx, struct lb_err *err)
{
	struct smtp *s = (struct smtp *)t;
	double deadline = smtp_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
	bool was_full = smtp_capacity(t) == 0;
	for (;;) {
		int running;
		curl_multi_perform(s->multi, &running);
		size_t done = drain(s, on_done, ctx);
		if (s->stop.code) {
			/* In-flight transfers abort at their next step; collect them. */
			if (s->busy == 0) {
				*err = s->stop;
				return err->code;
			}
			double now = smtp_now();
			if (s->stop_deadline == 0)
				s->stop_deadline = now + (double)s->timeout_s + 5;
			else if (now > s->stop_deadline)
				force_complete(s, on_done, ctx);
			curl_multi_poll(s->multi, NULL, 0, 10, NULL);
			continue;
		}
		if (done || (was_full && smtp_capacity(t) > 0))
			return 0;
		double now = smtp_now();
		long left = (long)((deadline - now) * 1000);
		if (left <= 0)
			return 0;
		long wake = was_full ? next_wake_ms(s, now) : -1;
		if (wake >= 0 && wake < left)
			left = wake;
		struct curl_waitfd w = {.fd = extra_fd, .events = CURL_WAIT_POLLIN};
		curl_multi_poll(s->multi, extra_fd >= 0 ? &w : NULL, extra_fd >= 0 ? 1 : 0,
				(int)left, NULL);
		if (extra_fd >= 0 && w.revents)
			return 0;
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
		for (size_t i = 0; i < s->nconns; i++)
			s->conns[i].aborting = s->conns[i].job != NULL;
		double until = smtp_now() + 5;
		while (s->busy && smtp_now() < until) {
			int running;
			curl_multi_perform(s->multi, &running);
			CURLMsg *m;
			int left;
			while ((m = curl_multi_info_read(s->multi, &left))) {
				struct conn *c = NULL;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
				if (m->msg != CURLMSG_DONE || !c)
					continue;
				curl_multi_remove_handle(s->multi, m->easy_handle);
				c->job = NULL;
				s->busy--;
			}
			if (s->busy)
				curl_multi_poll(s->multi, NULL, 0, 10, NULL);
		}
	}
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (c->job)
			curl_multi_remove_handle(s->multi, c->easy);
		if (c->easy)
			curl_easy_cleanup(c->easy);
		buf_free(&c->rcpt_buf);
		buf_free(&c->from_buf);
	}
	/* Connections still in the pool get their QUIT here. */
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s->conns);
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
