/* Opening the SMTP transport: the URL, the TLS policy, the credentials, the
 * curl options (and callbacks) with which every connection opens its
 * sessions, and the worker threads.  Driving the transfers is deliver/smtp.c
 * and smtp_session.c.  The callbacks run in the connection's worker thread,
 * while curl opens a session.
 */
#include "deliver/smtp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/curl_load.h"

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ((struct conn *)ud)->x;
	size_t n = size * nmemb;
	/* curl passes the replies of the session's opening (only that: the
	 * transactions are ours).  Between transfers there is nothing to
	 * record. */
	if (!x)
		return n;
	/* EHLO's "250-PIPELINING".  A 220 (the greeting, STARTTLS's go-ahead)
	 * starts over: only the last EHLO counts, and what came before TLS
	 * must not be trusted after it (RFC 3207, 4.2). */
	struct span l = span_trim((struct span){line, n});
	struct conn *c = ud;
	if (span_starts_with(l, "220"))
		c->pipelining = false;
	else if (l.n == 14 && l.p[0] == '2' &&
		 span_starts_with_ci((struct span){l.p + 4, 10}, "PIPELINING"))
		c->pipelining = true;
	/* A line that is not SMTP: stop curl now (CURLE_WRITE_ERROR) rather
	 * than let it wait for a valid reply until the timeout. */
	if (smtp_reply_line(&x->reply, line, n) == SMTP_REPLY_MALFORMED)
		return 0;
	return n;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	/* The way to stop curl while it opens a session (it calls this at
	 * least once a second): no message is under way yet. */
	struct conn *c = ud;
	return atomic_load_explicit(&c->s->abort, memory_order_relaxed) != ABORT_NONE;
}

/* -vv: the protocol dialogue, minus the message and the credentials. */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t n, void *ud)
{
	(void)h;
	struct conn *c = ud;
	struct span line = span_trim((struct span){data, n});
	const char *dir;
	switch (type) {
	case CURLINFO_TEXT:
		if (span_starts_with(line, "reached "))
			return 0; /* curl's trace of a recv that would block */
		dir = "*";
		break;
	case CURLINFO_HEADER_IN:
		dir = "<";
		if (c->in_auth && span_starts_with(line, "334")) {
			line = SPAN_LIT("334 (challenge hidden)");
		} else if (c->in_auth) {
			c->in_auth = false;
		}
		break;
	case CURLINFO_HEADER_OUT:
		dir = ">";
		if (span_starts_with_ci(line, "AUTH ")) {
			c->in_auth = true;
			line = SPAN_LIT("AUTH (mechanism and credentials hidden)");
		} else if (c->in_auth) {
			line = SPAN_LIT("(credentials hidden)");
		}
		break;
	default:
		return 0; /* never the message itself, nor TLS bytes */
	}
	/* One whole line at a time among the workers (stdio locks nest). */
	flockfile(stderr);
	log_debug("smtp[%zu] %s %.*s", c->index, dir, (int)line.n, line.p);
	funlockfile(stderr);
	return 0;
}

/* The options of every session a connection opens (its template handle). */
static void setup_easy(struct smtp *s, struct conn *c, long use_ssl, const char *ca,
		       const char *password)
{
	CURL *h = c->tmpl;
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* No signals from curl in a threaded program (no alarm() for DNS
	 * timeouts; SIGPIPE is avoided with MSG_NOSIGNAL). */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* curl opens the session (TLS, greeting, EHLO, STARTTLS, AUTH) and
	 * stops: the mail transactions are ours (smtp_session.c). */
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	if (password) {
		curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, password);
		curl_easy_setopt(h, CURLOPT_SASL_IR, 1L); /* AUTH PLAIN in one round trip */
	}
	/* A dead or stalled server must not hang a cron run. */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, s->timeout_s);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout_s);
	if (log_verbose >= 2) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
}

/* Check the URL: scheme://host[:port][/ehlo-domain], no credentials in it. */
static int parse_url(struct smtp *s, const char *url, bool *implicit_tls, struct lb_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
	char *path = NULL, *query = NULL;
	int rc = 0;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc =
		    err_set(err, LB_ECONFIG, "outgoing.url is not a valid smtp:// or smtps:// URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (user || pass) {
		rc = err_set(err, LB_ECONFIG,
			     "outgoing.url must not hold credentials: use outgoing.username and "
			     "password_file");
		goto out;
	}
	if (query) {
		rc = err_set(err, LB_ECONFIG, "outgoing.url: an SMTP URL takes no ?query");
		goto out;
	}
	*implicit_tls = strcmp(scheme, "smtps") == 0;
	s->url_has_path = path && strcmp(path, "/") != 0 && path[0];
	struct buf w = BUF_INIT;
	buf_printf(&w, "%s://%s:%s", scheme, host, port);
	s->where = buf_take(&w);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

/* Everything smtp_open decides before it sets anything up: the URL, the
 * password and whom it goes to, TLS, the CA file.  transport_check runs it
 * too, so `check` refuses what `send` would.  On success the caller wipes
 * and frees *password (may be NULL) and frees *ca and s->where. */
static int smtp_prepare(struct smtp *s, const struct transport_opts *o, long *use_ssl,
			char **password, char **ca, struct lb_err *err)
{
	const struct endpoint *ep = o->ep;
	bool implicit_tls = false;
	*password = *ca = NULL;
	int rc = parse_url(s, ep->url, &implicit_tls, err);
	if (rc || (rc = endpoint_password(ep, o->site_dir, password, err)))
		return rc;
	bool loopback = url_host_is_loopback(ep->url);
	/* smtp:// means STARTTLS, required.  On loopback plain text is fine,
	 * but STARTTLS is still used when offered (and then verified like any
	 * other TLS); `tls: none` never starts TLS. */
	*use_ssl = implicit_tls		 ? (long)CURLUSESSL_ALL
		   : ep->tls == TLS_NONE ? (long)CURLUSESSL_NONE
		   : loopback		 ? (long)CURLUSESSL_TRY
					 : (long)CURLUSESSL_ALL;
	if (*password && !ep->username)
		return err_set(err, LB_ECONFIG, "outgoing: a password is set but no username");
	if (ep->username && !*password)
		return err_set(
		    err, LB_ECONFIG,
		    "outgoing.username is set but neither password_file nor password_env");
	if (*password && *use_ssl == CURLUSESSL_NONE && !loopback)
		return err_set(err, LB_ECONFIG,
			       "%s: refusing to send the password in clear text (tls: none); use "
			       "smtps:// or STARTTLS",
			       s->where);
	if (ep->ca_file) {
		*ca = path_join(o->site_dir, ep->ca_file);
		if (access(*ca, R_OK) != 0)
			return err_sys(err, LB_ECONFIG, "outgoing.ca_file %s", *ca);
	}
	return 0;
}

static void forget_password(char *password)
{
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
}

int smtp_check(const struct transport_opts *o, struct lb_err *err)
{
	struct smtp s = {0};
	long use_ssl;
	char *password, *ca;
	int rc = smtp_prepare(&s, o, &use_ssl, &password, &ca, err);
	forget_password(password);
	free(ca);
	free(s.where);
	return rc;
}

int smtp_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	const struct endpoint *ep = o->ep;
	*t = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, LB_ESOFTWARE, "%s",
			       curl_load_error() ? curl_load_error() : "cannot initialise libcurl");
	struct smtp *s = xcalloc(1, sizeof *s);
	s->base.ops = &smtp_ops;
	s->url = xstrdup(ep->url);
	s->timeout_s = ep->timeout > 0 ? ep->timeout : o->timeout_s > 0 ? o->timeout_s : 60;
	s->nconns = ep->connections < 1 ? 1 : ep->connections > 64 ? 64 : (size_t)ep->connections;
	s->conns = xcalloc(s->nconns, sizeof *s->conns);
	s->xfers = xcalloc(2 * s->nconns, sizeof *s->xfers);
	for (size_t i = 2 * s->nconns; i-- > 0;) {
		s->xfers[i].next = s->free_xfers;
		s->free_xfers = &s->xfers[i];
	}
	pthread_mutex_init(&s->mu, NULL);
	for (size_t i = 0; i < s->nconns; i++)
		pthread_cond_init(&s->conns[i].wake, NULL);
	atomic_init(&s->abort, ABORT_NONE);
	s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	char *password = NULL, *ca = NULL;
	long use_ssl = 0;
	int rc = smtp_prepare(s, o, &use_ssl, &password, &ca, err);
	if (rc)
		goto fail;
	s->user = ep->username ? xstrdup(ep->username) : NULL;
	ratelimit_init(&s->rl, ep->rate, smtp_now());

	if (s->done_fd < 0) {
		rc = err_sys(err, LB_ESOFTWARE, "eventfd");
		goto fail;
	}
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		c->s = s;
		c->index = i;
		c->fd = CURL_SOCKET_BAD;
		if (!(c->tmpl = curl_easy_init())) {
			rc = err_set(err, LB_ESOFTWARE, "cannot initialise libcurl");
			goto fail;
		}
		setup_easy(s, c, use_ssl, ca, password);
	}
	/* Only now: curl_global_init and every handle's set-up are done. */
	for (size_t i = 0; i < s->nconns; i++) {
		int e = pthread_create(&s->conns[i].thread, NULL, smtp_worker, &s->conns[i]);
		if (e) {
			errno = e;
			rc = err_sys(err, LB_ESOFTWARE, "cannot start a connection thread");
			goto fail;
		}
		s->conns[i].thread_started = true;
	}
	*t = &s->base;
	goto out;
fail:
	smtp_ops.close(&s->base);
out:
	forget_password(password);
	free(ca);
	return rc;
}
