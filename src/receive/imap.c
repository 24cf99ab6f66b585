/* The IMAP source: libetpan, implicit TLS (imaps://) or plain (imap://).
 *
 * Certificates: libetpan 1.9.4 completes the TLS handshake without checking
 * the server's certificate at all, so after the handshake (and the greeting,
 * which libetpan reads as part of connecting) we verify the chain the server
 * presented and the host name ourselves (tlsverify.c) before LOGIN; SNI is
 * set through libetpan's ssl-context callback.  STARTTLS is not offered:
 * libetpan 1.9.4's STARTTLS predates the CVE-2020-15953 fix, and imaps://
 * (RFC 8314) is what every provider supports.
 *
 * Fetching is in imap_fetch.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/transport.h"
#include "receive/imap_source.h"
#include "receive/imap_stream.h"
#include "receive/mutf7.h"
#include "receive/tlsverify.h"

enum {
	IDLE_MAX_S = 29 * 60, /* RFC 2177: re-issue IDLE before 30 minutes */
	NOOP_EVERY_S = 60,    /* without IDLE */
};

static const struct source_ops imap_ops;

static struct imap_source *to_imap(struct msg_source *s)
{
	return (struct imap_source *)s;
}

/* The server's response text, for messages: printable ASCII only, short.
 * Never a body or a password: only tagged/untagged response text. */
static const char *server_says(struct imap_source *s)
{
	const char *r = s->imap && s->imap->imap_response ? s->imap->imap_response : "";
	size_t n = 0;
	for (; *r && n + 1 < sizeof s->reply; r++)
		s->reply[n++] = (*r >= 0x20 && *r < 0x7f) ? *r : '?';
	s->reply[n] = '\0';
	return n ? s->reply : "no reason given";
}

bool imap_ok(int r)
{
	return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
	       r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

int imap_fail(struct imap_source *s, int r, int refused, const char *what, struct lb_err *err)
{
	enum stream_end end = s->imap ? imap_stream_end(s->imap->imap_stream) : STREAM_OPEN;
	if (end == STREAM_EOF || end == STREAM_TIMEOUT) { /* whatever libetpan made of it */
		s->dead = true;
		if (end == STREAM_EOF)
			return err_set(err, LB_EUNAVAIL,
				       "%s:%u: %s: the server closed the connection", s->url.host,
				       s->url.port, what);
		return err_set(err, LB_EUNAVAIL,
			       "%s:%u: %s: the server sent nothing for %ld s (incoming.timeout)",
			       s->url.host, s->url.port, what, s->timeout_s);
	}
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_BAD_STATE:
		s->dead = true;
		return err_set(err, LB_EUNAVAIL, "%s:%u: %s: the connection was lost (error %d)",
			       s->url.host, s->url.port, what, r);
	case MAILIMAP_ERROR_MEMORY:
		return err_set(err, LB_ESOFTWARE, "%s: out of memory", what);
	default:
		return err_set(err, refused, "%s:%u: %s: the server refused: %s", s->url.host,
			       s->url.port, what, server_says(s));
	}
}

int imap_check_alive(struct imap_source *s, struct lb_err *err)
{
	if (s->dead)
		return err_set(err, LB_EUNAVAIL, "%s:%u: the connection was lost", s->url.host,
			       s->url.port);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- connecting ---- */

static int connect_server(struct imap_source *s, struct lb_err *err)
{
	s->imap = mailimap_new(0, NULL);
	if (!s->imap)
		return err_set(err, LB_ESOFTWARE, "cannot set up libetpan");
	/* The timeout bounds the TCP connect, the TLS handshake and every
	 * later wait for data (libetpan's drivers take it at connect time). */
	mailimap_set_timeout(s->imap, s->timeout_s);
	int r = s->url.tls ? mailimap_ssl_connect_with_callback(s->imap, s->url.host, s->url.port,
								tls_set_sni, s->url.host)
			   : mailimap_socket_connect(s->imap, s->url.host, s->url.port);
	if (!imap_ok(r)) {
		s->dead = true;
		if (r == MAILIMAP_ERROR_SSL)
			return err_set(err, LB_EUNAVAIL,
				       "%s:%u: the TLS handshake failed (is it an imaps port?)",
				       s->url.host, s->url.port);
		if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION)
			return err_set(err, LB_EUNAVAIL, "%s:%u: the server turned us away: %s",
				       s->url.host, s->url.port, server_says(s));
		return err_set(err, LB_EUNAVAIL,
			       "%s:%u: cannot connect (unknown host, connection refused or timed "
			       "out)",
			       s->url.host, s->url.port);
	}
	/* The greeting is read by now: it ends at end of file (libetpan reads
	 * lines up to EOF), literals would not. */
	if (imap_stream_guard(s->imap->imap_stream, s->timeout_s) != 0) {
		s->dead = true;
		return err_set(err, LB_ESOFTWARE, "cannot set up libetpan");
	}
	/* Before anything is sent (not even LOGOUT: dead): libetpan verified nothing. */
	if (s->url.tls &&
	    tls_verify_stream(s->imap->imap_stream, s->url.host, s->ca_file, "incoming", err)) {
		s->dead = true;
		return err->code;
	}
	return 0;
}

static int login(struct imap_source *s, const char *user, const char *password, struct lb_err *err)
{
	int r = mailimap_login(s->imap, user, password);
	if (r == MAILIMAP_ERROR_LOGIN)
		return err_set(err, LB_ECONFIG,
			       "%s: the IMAP server refused the login as %s (check "
			       "incoming.username and the password): %s",
			       s->url.host, user, server_says(s));
	if (!imap_ok(r))
		return imap_fail(s, r, LB_ECONFIG, "LOGIN", err);
	/* The capabilities after login differ from the greeting's; ask, rather
	 * than rely on the server putting them in the LOGIN reply. */
	struct mailimap_capability_data *caps = NULL;
	r = mailimap_capability(s->imap, &caps);
	if (caps)
		mailimap_capability_data_free(caps);
	return imap_ok(r) ? 0 : imap_fail(s, r, LB_EUNAVAIL, "CAPABILITY", err);
}

char *imap_wire_name(struct imap_source *s, const char *name, struct lb_err *err)
{
	struct buf b = BUF_INIT;
	if (!mutf7_encode(name, &b)) {
		err_set(err, LB_ECONFIG,
			"%s: a mailbox name in the configuration is not valid UTF-8", s->url.host);
		return NULL;
	}
	return buf_take(&b);
}

static int select_mailbox(struct imap_source *s, struct lb_err *err)
{
	char *wire = imap_wire_name(s, s->url.mailbox, err);
	if (!wire)
		return err->code;
	int r = s->read_only ? mailimap_examine(s->imap, wire) : mailimap_select(s->imap, wire);
	free(wire);
	if (!imap_ok(r))
		return imap_fail(s, r, LB_ECONFIG,
				 s->read_only ? "EXAMINE of the mailbox in incoming.sent"
					      : "SELECT of the mailbox in incoming.url",
				 err);
	s->uidvalidity =
	    s->imap->imap_selection_info ? s->imap->imap_selection_info->sel_uidvalidity : 0;
	return 0;
}

static int check_config(const struct endpoint *ep, const struct imap_source *s,
			const char *password, struct lb_err *err)
{
	if (!s->url.tls && ep->tls != TLS_NONE && !url_host_is_loopback(ep->url))
		return err_set(err, LB_ECONFIG,
			       "incoming.url: plain imap:// to %s would send the password in clear "
			       "text; use imaps:// (or set incoming.tls: none on a trusted "
			       "network)",
			       s->url.host);
	if (!ep->username)
		return err_set(err, LB_ECONFIG, "incoming.username is required for IMAP");
	if (!password)
		return err_set(err, LB_ECONFIG,
			       "incoming: IMAP needs a password (password_file or password_env)");
	return 0;
}

/* What imap_source_open checks before it connects; imap_source_check (for
 * `check`) runs the same.  The caller wipes and frees *password. */
static int imap_prepare(const struct endpoint *ep, const char *site_dir, struct imap_source *s,
			char **password, struct lb_err *err)
{
	int rc = imap_url_parse(ep->url, &s->url, err);
	if (rc || (rc = endpoint_password(ep, site_dir, password, err)) ||
	    (rc = check_config(ep, s, *password, err)))
		return rc;
	if (ep->ca_file && s->url.tls) {
		char *ca = path_join(site_dir, ep->ca_file);
		if (access(ca, R_OK) != 0)
			rc = err_sys(err, LB_ECONFIG, "incoming.ca_file %s", ca);
		free(ca);
	}
	return rc;
}

int imap_source_check(const struct endpoint *ep, const char *site_dir, struct lb_err *err)
{
	struct imap_source s = {0};
	char *password = NULL;
	int rc = imap_prepare(ep, site_dir, &s, &password, err);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	imap_url_free(&s.url);
	return rc;
}

static int open_source(const struct endpoint *ep, const char *site_dir, bool read_only,
		       struct msg_source **out, struct lb_err *err);

int imap_source_open(const struct endpoint *ep, const char *site_dir, struct msg_source **out,
		     struct lb_err *err)
{
	return open_source(ep, site_dir, false, out, err);
}

int imap_sent_open(const struct endpoint *ep, const char *site_dir, struct msg_source **out,
		   struct lb_err *err)
{
	return open_source(ep, site_dir, true, out, err);
}

static int open_source(const struct endpoint *ep, const char *site_dir, bool read_only,
		       struct msg_source **out, struct lb_err *err)
{
	*out = NULL;
	struct imap_source *s = xcalloc(1, sizeof *s);
	s->base.ops = &imap_ops;
	s->read_only = read_only;
	s->max_size = ep->max_size;
	s->timeout_s = ep->timeout > 0 ? ep->timeout : 60;
	char *password = NULL;
	int rc = imap_prepare(ep, site_dir, s, &password, err);
	if (rc)
		goto fail;
	if (ep->ca_file) {
		s->ca_file = path_join(site_dir, ep->ca_file);
		if (!s->url.tls)
			log_warn("incoming.ca_file is not used with plain imap://");
	}
	/* libetpan writes with send(2) without MSG_NOSIGNAL: a server that
	 * hangs up would kill a cron job with SIGPIPE instead of an error. */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = connect_server(s, err)) || (rc = login(s, ep->username, password, err)) ||
	    (rc = select_mailbox(s, err)))
		goto fail;
	log_info("%s: mailbox %s, UIDVALIDITY %u", s->url.host, s->url.mailbox, s->uidvalidity);
	*out = &s->base;
	goto out;
fail:
	imap_ops.close(&s->base);
out:
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}

static uint32_t imap_uidvalidity(const struct msg_source *base)
{
	return ((const struct imap_source *)base)->uidvalidity;
}

static void imap_close(struct msg_source *base)
{
	struct imap_source *s = to_imap(base);
	if (s->imap) {
		if (!s->dead) {
			mailimap_logout(s->imap);
		} else if (s->imap->imap_stream) {
			/* mailimap_free would send LOGOUT and wait for its reply. */
			mailstream_close(s->imap->imap_stream);
			s->imap->imap_stream = NULL;
		}
		mailimap_free(s->imap);
	}
	for (size_t i = 0; i < s->nfolders; i++) {
		free(s->folders[i].name);
		free(s->folders[i].wire);
	}
	free(s->folders);
	free(s->ca_file);
	imap_url_free(&s->url);
	free(s);
}

/* ---- done: MOVE to a folder ---- */

static bool has_cap(struct imap_source *s, const char *name)
{
	return mailimap_has_extension(s->imap, name) != 0;
}

/* CREATE the folder once per session, and *wire: its name as sent.  A
 * refusal is usually "already exists"; if it is anything else, the MOVE
 * that follows fails and says so. */
static int ensure_folder(struct imap_source *s, const char *folder, const char **wire,
			 struct lb_err *err)
{
	for (size_t i = 0; i < s->nfolders; i++)
		if (strcmp(s->folders[i].name, folder) == 0) {
			*wire = s->folders[i].wire;
			return 0;
		}
	char *w = imap_wire_name(s, folder, err);
	if (!w)
		return err->code;
	int r = mailimap_create(s->imap, w);
	if (r == MAILIMAP_ERROR_CREATE) {
		log_info("%s: CREATE %s: %s", s->url.host, folder, server_says(s));
	} else if (!imap_ok(r)) {
		free(w);
		return imap_fail(s, r, LB_EUNAVAIL, "CREATE", err);
	}
	s->folders = xgrowarray(s->folders, &s->capfolders, s->nfolders + 1, sizeof *s->folders);
	s->folders[s->nfolders++] = (struct folder){xstrdup(folder), w};
	*wire = w;
	return 0;
}

/* Without MOVE: COPY, then \Deleted and UID EXPUNGE of this UID only — a
 * bare EXPUNGE would also remove messages someone else marked deleted. */
static int copy_delete(struct imap_source *s, uint32_t uid, const char *wire, struct lb_err *err)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_uid_copy(s->imap, set, wire);
	int rc = 0;
	if (!imap_ok(r)) {
		rc = imap_fail(s, r, LB_ETEMP, "UID COPY", err);
		goto out;
	}
	struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(flags, mailimap_flag_new_deleted());
	struct mailimap_store_att_flags *att = mailimap_store_att_flags_new_add_flags_silent(flags);
	r = mailimap_uid_store(s->imap, set, att);
	mailimap_store_att_flags_free(att);
	if (!imap_ok(r)) {
		rc = imap_fail(s, r, LB_ETEMP, "UID STORE +FLAGS (\\Deleted)", err);
		goto out;
	}
	r = mailimap_uid_expunge(s->imap, set);
	if (!imap_ok(r))
		rc = imap_fail(s, r, LB_ETEMP, "UID EXPUNGE", err);
out:
	mailimap_set_free(set);
	return rc;
}

static int imap_done(struct msg_source *base, const struct src_msg *msg, const char *folder,
		     struct lb_err *err)
{
	struct imap_source *s = to_imap(base);
	if (!folder || s->read_only || strcmp(folder, s->url.mailbox) == 0)
		return 0;
	int rc = imap_check_alive(s, err);
	if (rc)
		return rc;
	bool move = has_cap(s, "MOVE"), uidplus = has_cap(s, "UIDPLUS");
	if (!move && !uidplus) {
		if (!s->warned)
			log_warn("%s: the server has neither MOVE nor UIDPLUS: handled messages "
				 "stay in %s (a bare EXPUNGE could remove other messages)",
				 s->url.host, s->url.mailbox);
		s->warned = true;
		return 0;
	}
	const char *wire = NULL;
	if ((rc = ensure_folder(s, folder, &wire, err)))
		return rc;
	if (move) {
		struct mailimap_set *set = mailimap_set_new_single(msg->uid);
		int r = mailimap_uid_move(s->imap, set, wire);
		mailimap_set_free(set);
		return imap_ok(r) ? 0 : imap_fail(s, r, LB_ETEMP, "UID MOVE", err);
	}
	return copy_delete(s, msg->uid, wire, err);
}

/* ---- waiting ---- */

/* One IDLE of at most secs; *news when the server said anything. */
static int idle_once(struct imap_source *s, int secs, bool *news, struct lb_err *err)
{
	mailstream *st = s->imap->imap_stream;
	if (mailstream_setup_idle(st) < 0)
		return err_set(err, LB_ESOFTWARE, "cannot set up IDLE");
	int r = mailimap_idle(s->imap);
	if (!imap_ok(r)) {
		mailstream_unsetup_idle(st);
		return imap_fail(s, r, LB_EUNAVAIL, "IDLE", err);
	}
	int w = mailstream_wait_idle(st, secs);
	r = mailimap_idle_done(s->imap);
	mailstream_unsetup_idle(st);
	if (w == MAILSTREAM_IDLE_ERROR || w == MAILSTREAM_IDLE_CANCELLED) {
		s->dead = true;
		return err_set(err, LB_EUNAVAIL, "%s:%u: the connection was lost during IDLE",
			       s->url.host, s->url.port);
	}
	if (!imap_ok(r))
		return imap_fail(s, r, LB_EUNAVAIL, "IDLE (DONE)", err);
	*news = w == MAILSTREAM_IDLE_HASDATA;
	return 0;
}

/* Mail that arrived after the last fetch's SEARCH may have been announced
 * already (in a MOVE's reply, or in untagged data that libetpan's
 * mailimap_idle() reads and drops before "+ idling"): look before waiting.
 * The NOOP first: a server searches only the messages it has announced. */
static int arrived_since_fetch(struct imap_source *s, bool *yes, struct lb_err *err)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	*yes = false;
	if (!s->fetched)
		return 0;
	int r = mailimap_noop(s->imap);
	if (!imap_ok(r))
		return imap_fail(s, r, LB_EUNAVAIL, "NOOP", err);
	int rc = imap_list_uids(s, s->seen_uid, &uids, &n, err);
	free(uids);
	*yes = n > 0;
	return rc;
}

static int imap_wait(struct msg_source *base, int timeout_s, struct lb_err *err)
{
	struct imap_source *s = to_imap(base);
	bool arrived = false;
	int rc = imap_check_alive(s, err);
	if (rc || (rc = arrived_since_fetch(s, &arrived, err)) || arrived)
		return rc;
	double deadline = now_s() + timeout_s;
	bool idle = has_cap(s, "IDLE");
	uint32_t exists =
	    s->imap->imap_selection_info ? s->imap->imap_selection_info->sel_exists : 0;
	while (!rc) {
		double left = deadline - now_s();
		if (left < 0.05)
			break;
		if (idle) {
			/* An update ends the wait if a UID above the last fetch came
			 * with it (exact, unlike counting EXISTS: an expunge plus a
			 * delivery); flag changes by other clients do not.  Before
			 * any fetch, any update does. */
			bool news = false;
			int secs = (int)left + ((double)(int)left < left); /* rounded up */
			rc = idle_once(s, secs > IDLE_MAX_S ? IDLE_MAX_S : secs, &news, err);
			if (news && s->fetched && !rc)
				rc = arrived_since_fetch(s, &news, err);
			if (news)
				break;
			continue;
		}
		double nap = left > NOOP_EVERY_S ? NOOP_EVERY_S : left;
		struct timespec ts = {(time_t)nap, (long)((nap - (double)(time_t)nap) * 1e9)};
		nanosleep(&ts, NULL);
		int r = mailimap_noop(s->imap);
		if (!imap_ok(r))
			rc = imap_fail(s, r, LB_EUNAVAIL, "NOOP", err);
		else if (s->imap->imap_selection_info &&
			 s->imap->imap_selection_info->sel_exists != exists)
			break;
	}
	return rc;
}

static const struct source_ops imap_ops = {
    .uidvalidity = imap_uidvalidity,
    .fetch = imap_fetch,
    .done = imap_done,
    .wait = imap_wait,
    .close = imap_close,
};
