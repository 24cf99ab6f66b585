/* Source dispatch by URL scheme, and IMAP URL parsing (source.h). */
#include "receive/source.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"

int source_open(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		struct lb_err *err)
{
	*s = NULL;
	const char *url = ep && ep->url ? ep->url : "";
	if (strncasecmp(url, "imaps://", 8) == 0 || strncasecmp(url, "imap://", 7) == 0)
		return imap_source_open(ep, site_dir, s, err);
	if (strncmp(url, "maildir:", 8) == 0) {
		if (!url[8])
			return err_set(err, LB_ECONFIG, "incoming.url: maildir: needs a path");
		char *dir = path_join(site_dir, url + 8);
		int rc = maildir_source_open(ep, dir, s, err);
		free(dir);
		return rc;
	}
	/* Not echoing the URL: it might carry credentials. */
	return err_set(err, LB_ECONFIG,
		       "incoming.url must start with imaps://, imap:// or maildir:");
}

char *source_sent_url(const struct endpoint *ep)
{
	const char *url = ep && ep->url ? ep->url : "";
	if (!ep || !ep->sent || !*ep->sent)
		return NULL;
	if (strncmp(url, "maildir:", 8) == 0) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "maildir:%s", ep->sent);
		return buf_take(&b);
	}
	struct imap_url u;
	struct lb_err e;
	if (imap_url_parse(url, &u, &e) != 0)
		return NULL;
	char *box = curl_easy_escape(NULL, ep->sent, 0);
	struct buf b = BUF_INIT;
	bool v6 = u.host && strchr(u.host, ':') != NULL;
	buf_printf(&b, "%s://%s%s%s:%u/%s", u.tls ? "imaps" : "imap", v6 ? "[" : "",
		   u.host ? u.host : "", v6 ? "]" : "", u.port, box ? box : "");
	curl_free(box);
	imap_url_free(&u);
	return buf_take(&b);
}

int source_open_sent(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		     struct lb_err *err)
{
	*s = NULL;
	const char *url = ep && ep->url ? ep->url : "";
	if (!ep || !ep->sent || !*ep->sent)
		return err_set(err, LB_ESOFTWARE, "incoming.sent is not set");
	if (strncmp(url, "maildir:", 8) == 0) {
		char *dir = path_join(site_dir, ep->sent);
		int rc = maildir_sent_open(dir, ep->max_size, s, err);
		free(dir);
		return rc;
	}
	char *sent_url = source_sent_url(ep);
	if (!sent_url)
		return err_set(err, LB_ECONFIG, "cannot name that folder on incoming.url's server");
	struct endpoint e = *ep;
	e.url = sent_url;
	for (size_t i = 0; i < sizeof e.folders / sizeof e.folders[0]; i++)
		e.folders[i] = NULL; /* nothing is ever moved out of Sent */
	int rc = imap_sent_open(&e, site_dir, s, err);
	free(sent_url);
	return rc;
}

int source_file_reply(const struct endpoint *ep, const char *site_dir, const char *raw, size_t n,
		      const char *original_mid, bool *done, struct lb_err *append_err,
		      struct lb_err *flag_err)
{
	const char *url = ep && ep->url ? ep->url : "";
	append_err->code = flag_err->code = 0;
	*done = false;
	if (strncasecmp(url, "imaps://", 8) != 0 && strncasecmp(url, "imap://", 7) != 0)
		return 0;
	*done = true;
	return imap_file_reply(ep, site_dir, raw, n, original_mid, append_err, flag_err);
}

int source_check(const struct endpoint *ep, const char *site_dir, struct lb_err *err)
{
	const char *url = ep && ep->url ? ep->url : "";
	if (strncasecmp(url, "imaps://", 8) == 0 || strncasecmp(url, "imap://", 7) == 0)
		return imap_source_check(ep, site_dir, err);
	if (strncmp(url, "maildir:", 8) == 0) {
		if (!url[8])
			return err_set(err, LB_ECONFIG, "incoming.url: maildir: needs a path");
		char *dir = path_join(site_dir, url + 8);
		int rc = maildir_source_check(ep, dir, err);
		free(dir);
		if (!rc && ep->sent && *ep->sent) {
			/* poll only warns (the inquiries matter more); check says it */
			char *sent = path_join(site_dir, ep->sent), *cur = path_join(sent, "cur");
			struct stat st;
			if (stat(cur, &st) != 0 || !S_ISDIR(st.st_mode))
				rc = err_set(err, LB_ECONFIG, "incoming.sent: %s is not a Maildir",
					     sent);
			free(sent);
			free(cur);
		}
		return rc;
	}
	return err_set(err, LB_ECONFIG,
		       "incoming.url must start with imaps://, imap:// or maildir:");
}

uint32_t source_uidvalidity(const struct msg_source *s)
{
	return s->ops->uidvalidity(s);
}

int source_fetch(struct msg_source *s, const struct cursor *c, size_t batch, src_msg_fn fn,
		 void *ctx, struct lb_err *err)
{
	return s->ops->fetch(s, c, batch ? batch : 100, fn, ctx, err);
}

int source_done(struct msg_source *s, const struct src_msg *msg, const char *folder,
		struct lb_err *err)
{
	return s->ops->done(s, msg, folder && *folder ? folder : NULL, err);
}

int source_wait(struct msg_source *s, int timeout_s, struct lb_err *err)
{
	return s->ops->wait(s, timeout_s < 0 ? 0 : timeout_s, err);
}

void source_close(struct msg_source *s)
{
	if (s)
		s->ops->close(s);
}

/* ---- imap[s]://host[:port][/mailbox] ---- */

/* A part of the URL that must be absent. */
static bool has_part(CURLU *cu, CURLUPart part)
{
	char *v = NULL;
	bool has = curl_url_get(cu, part, &v, 0) == CURLUE_OK && v && *v;
	curl_free(v);
	return has;
}

static int url_port(CURLU *cu, bool tls, uint16_t *port, struct lb_err *err)
{
	char *v = NULL;
	CURLUcode uc = curl_url_get(cu, CURLUPART_PORT, &v, 0);
	*port = tls ? 993 : 143;
	if (uc == CURLUE_NO_PORT)
		return 0;
	unsigned long n = 0;
	char *end = NULL;
	if (uc == CURLUE_OK && v)
		n = strtoul(v, &end, 10);
	bool ok = uc == CURLUE_OK && v && end != v && !*end && n > 0 && n <= 65535;
	curl_free(v);
	if (!ok)
		return err_set(err, LB_ECONFIG, "incoming.url: the port must be 1 to 65535");
	*port = (uint16_t)n;
	return 0;
}

static int url_mailbox(CURLU *cu, char **mailbox, struct lb_err *err)
{
	char *raw = NULL, *path = NULL;
	int rc = 0;
	if (curl_url_get(cu, CURLUPART_PATH, &raw, 0) != CURLUE_OK) {
		rc = err_set(err, LB_ECONFIG, "incoming.url: cannot read the mailbox name");
		goto out;
	}
	/* RFC 5092's ";UIDVALIDITY=" and friends name a message, not a
	 * mailbox; a ';' in a mailbox name can be written %3B. */
	if (strchr(raw, ';')) {
		rc = err_set(err, LB_ECONFIG,
			     "incoming.url: IMAP URL parameters (;...) are not supported; write a "
			     "';' in a mailbox name as %%3B");
		goto out;
	}
	/* curl refuses to decode to control characters (%00, %0A, ...). */
	if (curl_url_get(cu, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
		rc = err_set(err, LB_ECONFIG,
			     "incoming.url: the mailbox name holds a control character");
		goto out;
	}
	const char *name = path[0] == '/' ? path + 1 : path;
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '/')
		n--;
	*mailbox = n ? xstrndup(name, n) : xstrdup("INBOX");
out:
	curl_free(raw);
	curl_free(path);
	return rc;
}

int imap_url_parse(const char *url, struct imap_url *u, struct lb_err *err)
{
	memset(u, 0, sizeof *u);
	if (strncasecmp(url, "imaps://", 8) == 0)
		u->tls = true;
	else if (strncasecmp(url, "imap://", 7) != 0)
		return err_set(err, LB_ECONFIG, "incoming.url must start with imaps:// or imap://");
	CURLU *cu = curl_url();
	if (!cu)
		return err_set(err, LB_ESOFTWARE, "cannot initialise libcurl's URL parser");
	int rc = 0;
	char *host = NULL;
	CURLUcode uc = curl_url_set(cu, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		rc = err_set(err, LB_ECONFIG, "incoming.url is not a valid URL: %s",
			     curl_url_strerror(uc));
		goto out;
	}
	if (has_part(cu, CURLUPART_USER) || has_part(cu, CURLUPART_PASSWORD) ||
	    has_part(cu, CURLUPART_OPTIONS)) {
		rc = err_set(err, LB_ECONFIG,
			     "incoming.url must not carry a user name or password; use "
			     "incoming.username and password_file");
		goto out;
	}
	if (has_part(cu, CURLUPART_QUERY) || has_part(cu, CURLUPART_FRAGMENT)) {
		rc = err_set(err, LB_ECONFIG,
			     "incoming.url: a query (?...) or fragment (#...) is not supported");
		goto out;
	}
	if (curl_url_get(cu, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		rc = err_set(err, LB_ECONFIG, "incoming.url has no host name");
		goto out;
	}
	size_t n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		u->host = xstrndup(host + 1, n - 2);
	else
		u->host = xstrdup(host);
	if ((rc = url_port(cu, u->tls, &u->port, err)) || (rc = url_mailbox(cu, &u->mailbox, err)))
		goto out;
out:
	curl_free(host);
	curl_url_cleanup(cu);
	if (rc)
		imap_url_free(u);
	return rc;
}

void imap_url_free(struct imap_url *u)
{
	free(u->host);
	free(u->mailbox);
	memset(u, 0, sizeof *u);
}
