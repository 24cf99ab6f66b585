/* One connection's SMTP session, as its worker thread drives it.
 *
 * curl opens the session (CURLOPT_CONNECT_ONLY: TCP, TLS and its
 * verification, the greeting, EHLO, STARTTLS, AUTH) and we speak the mail
 * transaction ourselves over curl_easy_send/curl_easy_recv:
 *
 *   MAIL FROM, RCPT TO, DATA     in one write when the server offers
 *                                PIPELINING (RFC 2920), else one by one
 *   the message, dot-stuffed     all of it but its last byte, then the job's
 *                                commit gate, then the last byte and "."
 *   the final reply
 *
 * Why not curl's own SMTP transfer: it costs four round trips per message
 * (no pipelining), scans the message byte by byte for dot-stuffing (about a
 * sixth of a send's CPU time on a 33 kB newsletter), and after a refusal it
 * drops the connection.  Here a message takes two round trips, stuffing is
 * a memchr over the lines, and a refused recipient is followed by RSET on
 * the same connection.  A kept session is reused only if nothing arrived on
 * it while idle (a server's "421 timeout", or its end) and it has not been
 * idle for long; else a new one is opened, and no message pays for it.
 *
 * What a failure means is decided as before by smtp_classify(): each step
 * reports a CURLcode (curl's own for the opening; SEND_ERROR for a refused
 * command, WEIRD_SERVER_REPLY for a refused message, RECV_ERROR / SEND_ERROR
 * / OPERATION_TIMEDOUT when the connection fails), the last reply, whether
 * the connection was new, whether a reply was not SMTP (then the connection
 * is ended at once: x->malformed), and whether the whole message including
 * its final "." had been written (then a missing or malformed reply makes it
 * uncertain).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "deliver/smtp.h"

enum {
	/* A session idle for longer is not reused: servers drop idle clients
	 * after a while (RFC 5321 asks for 5 minutes, some are quicker), and
	 * the next message would meet a closed door. */
	SESSION_MAX_IDLE = 60, /* seconds */
};

void smtp_stuff(const struct message *m, struct buf *out)
{
	bool bol = true; /* at the start of a line */
	char last = '\0';
	for (size_t i = 0; i < m->niov; i++) {
		const char *p = m->iov[i].iov_base, *end = p + m->iov[i].iov_len;
		while (p < end) {
			if (bol && *p == '.')
				buf_addc(out, '.');
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl + 1 : end;
			buf_add(out, p, (size_t)(stop - p));
			bol = nl != NULL;
			last = stop[-1];
			p = stop;
		}
	}
	if (out->n == 0 || last != '\n')
		buf_adds(out, "\r\n");
}

/* The campaign wants transfers stopped: at once (NOW), or (STOP) unless the
 * message has been written whole, when its reply is worth waiting for. */
static bool aborted(const struct conn *c)
{
	int how = atomic_load_explicit(&c->s->abort, memory_order_relaxed);
	return how == ABORT_NOW || (how == ABORT_STOP && c->x && !c->x->data_complete);
}

/* Wait until the socket is ready for events, the deadline passes or the
 * campaign stops (checked four times a second). */
static CURLcode wait_ready(struct conn *c, short events, double deadline)
{
	for (;;) {
		if (aborted(c))
			return CURLE_ABORTED_BY_CALLBACK;
		double left = deadline - smtp_now();
		if (left <= 0)
			return CURLE_OPERATION_TIMEDOUT;
		struct pollfd p = {.fd = c->fd, .events = events};
		int ms = left > 0.25 ? 250 : (int)(left * 1000) + 1;
		int n = poll(&p, 1, ms);
		if (n > 0)
			return CURLE_OK;
		if (n < 0 && errno != EINTR)
			return CURLE_RECV_ERROR;
	}
}

static void log_line(const struct conn *c, const char *dir, const char *p, size_t n)
{
	if (log_verbose < 2)
		return;
	struct span line = span_trim((struct span){p, n});
	flockfile(stderr);
	log_debug("smtp[%zu] %s %.*s", c->index, dir, (int)line.n, line.p);
	funlockfile(stderr);
}

/* Write all of p (a retry after CURLE_AGAIN passes the same bytes again, as
 * TLS wants). */
static CURLcode send_all(struct conn *c, const char *p, size_t n)
{
	double deadline = smtp_now() + (double)c->s->timeout_s;
	while (n > 0) {
		size_t w = 0;
		CURLcode rc = curl_easy_send(c->easy, p, n, &w);
		if (rc == CURLE_OK) {
			p += w;
			n -= w;
			deadline = smtp_now() + (double)c->s->timeout_s;
		} else if (rc != CURLE_AGAIN || (rc = wait_ready(c, POLLOUT, deadline))) {
			return rc == CURLE_AGAIN ? CURLE_SEND_ERROR : rc;
		}
	}
	return CURLE_OK;
}

/* Send commands (one line each, logged). */
static CURLcode send_cmds(struct conn *c, const char *p, size_t n)
{
	for (const char *q = p, *end = p + n; log_verbose >= 2 && q < end;) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *stop = nl ? nl + 1 : end;
		log_line(c, ">", q, (size_t)(stop - q));
		q = stop;
	}
	return send_all(c, p, n);
}

/* Read one complete reply into r, within wait_s seconds (0: only what has
 * arrived already).  A line that is not SMTP ends it at once (r->bad holds
 * the line): CURLE_WEIRD_SERVER_REPLY. */
static CURLcode read_reply_within(struct conn *c, struct smtp_reply *r, double wait_s)
{
	double deadline = smtp_now() + wait_s;
	for (;;) {
		char *start = c->in + c->in_off;
		char *nl = memchr(start, '\n', c->in_n - c->in_off);
		if (nl) {
			size_t len = (size_t)(nl + 1 - start);
			c->in_off += len;
			log_line(c, "<", start, len);
			int code = smtp_reply_line(r, start, len);
			if (code == SMTP_REPLY_MALFORMED)
				return CURLE_WEIRD_SERVER_REPLY;
			if (code)
				return CURLE_OK;
			continue;
		}
		if (c->in_off) {
			memmove(c->in, c->in + c->in_off, c->in_n - c->in_off);
			c->in_n -= c->in_off;
			c->in_off = 0;
		}
		if (c->in_n == sizeof c->in) { /* a line longer than any reply may be */
			snprintf(c->errbuf, sizeof c->errbuf, "a reply line of over %zu bytes",
				 sizeof c->in);
			return CURLE_RECV_ERROR;
		}
		size_t got = 0;
		CURLcode rc =
		    curl_easy_recv(c->easy, c->in + c->in_n, sizeof c->in - c->in_n, &got);
		if (rc == CURLE_OK && got == 0) {
			snprintf(c->errbuf, sizeof c->errbuf, "the server closed the connection");
			return CURLE_RECV_ERROR;
		}
		if (rc == CURLE_OK) {
			c->in_n += got;
		} else if (rc != CURLE_AGAIN || (rc = wait_ready(c, POLLIN, deadline))) {
			if (rc == CURLE_OPERATION_TIMEDOUT && wait_s > 0)
				snprintf(c->errbuf, sizeof c->errbuf, "no reply within %.0f s",
					 wait_s);
			return rc == CURLE_AGAIN ? CURLE_RECV_ERROR : rc;
		}
	}
}

/* The whole reply within the timeout: a server that trickles it (or sends
 * endless continuation lines) does not hold the connection longer. */
static CURLcode read_reply(struct conn *c, struct smtp_reply *r)
{
	return read_reply_within(c, r, (double)c->s->timeout_s);
}

/* Is the kept session still fit for a transaction?  A server that timed it
 * out has said so (421) or closed it; nothing should have arrived. */
static bool session_alive(struct conn *c)
{
	if (smtp_now() - c->idle_since > SESSION_MAX_IDLE || c->in_n > c->in_off)
		return false;
	size_t got = 0;
	char b[256];
	return curl_easy_recv(c->easy, b, sizeof b, &got) == CURLE_AGAIN;
}

/* Open the session if there is none (the job's transfer then counts as
 * the one that opened it).  curl's replies reach header_cb (smtp_open.c),
 * which records them in x->reply and notes PIPELINING. */
static CURLcode session_open(struct conn *c, struct xfer *x)
{
	if (c->easy && session_alive(c))
		return CURLE_OK;
	smtp_session_close(c, false);
	x->new_conn = true;
	c->pipelining = false;
	c->in_n = c->in_off = 0;
	c->easy = curl_easy_duphandle(c->tmpl);
	if (!c->easy)
		return CURLE_OUT_OF_MEMORY;
	CURLcode rc = curl_easy_perform(c->easy);
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (rc == CURLE_OK &&
	    (rc = curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &fd)) == CURLE_OK &&
	    fd == CURL_SOCKET_BAD)
		rc = CURLE_COULDNT_CONNECT;
	c->fd = fd;
	if (rc)
		smtp_session_close(c, false);
	return rc;
}

void smtp_session_close(struct conn *c, bool clean)
{
	if (!c->easy)
		return;
	/* QUIT when clean (curl does not, for a CONNECT_ONLY session); not clean
	 * (a transfer broke off, the server is gone), the server just sees the
	 * connection end: no dot, so nothing half-sent is delivered. */
	if (clean) {
		struct smtp_reply r;
		smtp_reply_reset(&r);
		if (send_cmds(c, "QUIT\r\n", 6) == CURLE_OK)
			(void)read_reply(c, &r);
	}
	if (c->fd != CURL_SOCKET_BAD)
		shutdown(c->fd, SHUT_RDWR);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	c->fd = CURL_SOCKET_BAD;
	c->in_n = c->in_off = 0;
}

/* After a refused command: back to a clean state for the next message, or
 * (421, or no answer) no session at all. */
static void reset_session(struct conn *c, int code)
{
	struct smtp_reply r;
	smtp_reply_reset(&r);
	if (code == 421 || send_cmds(c, "RSET\r\n", 6) != CURLE_OK || read_reply(c, &r) ||
	    r.code / 100 != 2)
		smtp_session_close(c, false);
}

/* MAIL FROM, RCPT TO, DATA; CURLE_OK when DATA got its 354.  A refusal: the
 * first refusing reply in x->reply and CURLE_SEND_ERROR, the session reset. */
static CURLcode envelope(struct conn *c, struct xfer *x)
{
	const struct tx_job *job = x->job;
	struct buf *o = &c->out;
	size_t end[3];
	buf_reset(o);
	buf_printf(o, "MAIL FROM:<%s>\r\n", job->mail_from);
	end[0] = o->n;
	buf_printf(o, "RCPT TO:<%s>\r\n", job->rcpt);
	end[1] = o->n;
	buf_adds(o, "DATA\r\n");
	end[2] = o->n;

	struct smtp_reply refusal = {0};
	bool refused = false, data_open = false;
	CURLcode rc = CURLE_OK;
	size_t from = 0;
	for (int i = 0; i < 3 && !rc; i++) {
		/* Pipelined: everything in the first write, then the replies. */
		if (!c->pipelining || i == 0) {
			size_t to = c->pipelining ? end[2] : end[i];
			rc = send_cmds(c, o->p + from, to - from);
			from = to;
			if (rc)
				break;
		}
		if ((rc = read_reply(c, &x->reply)))
			break;
		int code = x->reply.code;
		if (i == 2 && code == 354)
			data_open = true;
		else if (!refused && (code / 100 != 2 || i == 2)) {
			refused = true;
			refusal = x->reply;
			x->sender_refused = i == 0;
			if (code == 421 || !c->pipelining)
				break; /* the server closes; or nothing more was sent */
		}
	}
	if (!refused)
		return rc;
	/* A server that opened the data anyway, for no valid recipient: end
	 * that empty message before anything else. */
	if (rc || (data_open && (send_cmds(c, ".\r\n", 3) || read_reply(c, &x->reply))))
		smtp_session_close(c, false);
	x->reply = refusal;
	x->refused = true;
	if (c->easy)
		reset_session(c, refusal.code);
	return CURLE_SEND_ERROR;
}

/* The message: all of it but its last byte, the commit gate, the rest and
 * the "."; then the final reply. */
static CURLcode message(struct conn *c, struct xfer *x)
{
	struct tx_job *job = x->job;
	struct buf *o = &c->out;
	/* DKIM signing happens here, on this connection's thread: RSA costs a
	 * millisecond or two, and the connections' threads share the cores. */
	struct lb_err serr = {0};
	if (message_seal(job->msg, &serr)) {
		snprintf(c->errbuf, sizeof c->errbuf, "%.200s", serr.msg);
		return CURLE_ABORTED_BY_CALLBACK;
	}
	buf_reset(o);
	smtp_stuff(job->msg, o);
	buf_adds(o, ".\r\n");
	size_t held = 1 + 3; /* the last byte of the message, and ".\r\n" */
	bool open = !job->commit || job->commit(job, false);
	CURLcode rc = send_all(c, o->p, open ? o->n : o->n - held);
	if (!rc && !open) {
		if (!job->commit(job, true))
			return CURLE_ABORTED_BY_CALLBACK;
		rc = send_all(c, o->p + o->n - held, held);
	}
	if (rc == CURLE_SEND_ERROR) {
		/* A server that refuses in the middle of the data ("552 too
		 * big", 421) and closes: its reply, if it came, says why. */
		struct smtp_reply r;
		smtp_reply_reset(&r);
		if (read_reply_within(c, &r, 0) == CURLE_OK && r.code >= 400)
			x->reply = r;
	}
	if (rc)
		return rc;
	x->data_complete = true; /* from here on, no reply means "maybe delivered" */
	log_line(c, ">", "(message) .", 11);
	if ((rc = read_reply(c, &x->reply)))
		return rc;
	if (x->reply.code / 100 == 2)
		return CURLE_OK;
	x->refused = true;
	if (x->reply.code == 421)
		smtp_session_close(c, false);
	return CURLE_WEIRD_SERVER_REPLY;
}

void smtp_run_job(struct conn *c, struct xfer *x)
{
	struct smtp *s = c->s;
	if (!c->url_set) {
		curl_easy_setopt(c->tmpl, CURLOPT_URL, buf_cstr(&s->ehlo_url));
		c->url_set = true;
	}
	x->new_conn = x->data_complete = x->refused = x->sender_refused = false;
	x->malformed = x->opening = false;
	smtp_reply_reset(&x->reply);
	c->errbuf[0] = '\0';
	c->x = x;
	CURLcode rc = session_open(c, x);
	x->opening = rc != CURLE_OK;
	if (!rc && !(rc = envelope(c, x)))
		rc = message(c, x);
	/* A transfer that broke off leaves the session in an unknown state
	 * (after a refusal it is clean, or closed already).  So does a reply
	 * that is not SMTP (curl's header callback stopped curl on it, or
	 * read_reply did): whatever follows it cannot be trusted, and waiting
	 * for a valid one would cost the whole timeout. */
	if (rc && !x->refused)
		smtp_session_close(c, false);
	if (rc && !x->refused && x->reply.bad[0]) {
		x->malformed = true;
		snprintf(c->errbuf, sizeof c->errbuf, "a reply that is not SMTP: \"%s\"",
			 x->reply.bad);
	}
	x->result = rc;
	c->x = NULL;
	c->idle_since = smtp_now();
	memcpy(x->errbuf, c->errbuf, sizeof x->errbuf);
}
