/* Transport dispatch and the helpers every back end shares (transport.h). */
#include "deliver/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/fsx.h"
#include "core/mem.h"

int transport_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	*t = NULL;
	const char *url = o->ep && o->ep->url ? o->ep->url : "";
	if (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0)
		return smtp_open(o, t, err);
	if (strncmp(url, "maildir:", 8) == 0)
		return maildir_out_open(o, t, err);
	/* Not echoing the URL: it might carry credentials. */
	return err_set(err, LB_ECONFIG,
		       "outgoing.url must start with smtp://, smtps:// or maildir:");
}

int transport_check(const struct transport_opts *o, struct lb_err *err)
{
	const char *url = o->ep && o->ep->url ? o->ep->url : "";
	if (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0)
		return smtp_check(o, err);
	if (strncmp(url, "maildir:", 8) == 0)
		return url[8] ? 0
			      : err_set(err, LB_ECONFIG, "outgoing.url 'maildir:' needs a path");
	return err_set(err, LB_ECONFIG,
		       "outgoing.url must start with smtp://, smtps:// or maildir:");
}

/* Skip word at the start of *p (followed by a blank or the end). */
static bool skip_word(const char **p, const char *word)
{
	size_t n = strlen(word);
	if (!n || strncmp(*p, word, n) != 0 || ((*p)[n] != ' ' && (*p)[n] != '\0'))
		return false;
	*p += n;
	while (**p == ' ')
		(*p)++;
	return true;
}

void outcome_reason(struct buf *out, int code, const char *status, const char *text)
{
	const char *rest = text ? text : "";
	char c[16] = "";
	if (code > 0)
		snprintf(c, sizeof c, "%03d", code);
	skip_word(&rest, c);
	if (status && strcmp(status, "-") == 0)
		status = NULL;
	if (status)
		skip_word(&rest, status);
	size_t start = out->n;
	const char *parts[] = {c, status ? status : "", rest};
	for (size_t i = 0; i < 3; i++)
		if (*parts[i])
			buf_printf(out, "%s%s", out->n > start ? " " : "", parts[i]);
}

size_t transport_capacity(struct transport *t)
{
	return t->ops->capacity(t);
}

void transport_submit(struct transport *t, struct tx_job *job)
{
	t->ops->submit(t, job);
}

size_t transport_busy(const struct transport *t)
{
	return t->ops->busy(t);
}

int transport_wait(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done, void *ctx,
		   struct lb_err *err)
{
	return t->ops->wait(t, timeout_ms, extra_fd, on_done, ctx, err);
}

void transport_close(struct transport *t)
{
	if (t)
		t->ops->close(t);
}

/* The longest password we accept; a longer "password file" is something else. */
enum { PASSWORD_MAX = 1024 };

static int password_from_file(const char *path, char **out, struct lb_err *err)
{
	/* O_NOFOLLOW + fstat on the descriptor: the checks apply to the file we
	 * read, not to whatever a symlink or a rename swaps in between. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return err_set(err, LB_ECONFIG,
				       "%s: a password file must not be a symbolic link", path);
		return err_sys(err, LB_ECONFIG, "%s: cannot open the password file", path);
	}
	struct stat st;
	int rc = 0;
	char buf[PASSWORD_MAX + 2];
	ssize_t n = 0;
	if (fstat(fd, &st) != 0) {
		rc = err_sys(err, LB_ECONFIG, "%s: cannot stat the password file", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, LB_ECONFIG, "%s: the password file is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = err_set(err, LB_ECONFIG,
			     "%s: the password file has mode %04o; it must be 0600 or stricter "
			     "(chmod 600 %s)",
			     path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		rc = err_set(err, LB_ECONFIG,
			     "%s: the password file is owned by uid %u, not by the user running "
			     "letterbox (uid %u)",
			     path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	size_t got = 0;
	while (got < sizeof buf && (n = read(fd, buf + got, sizeof buf - got)) > 0)
		got += (size_t)n;
	if (n < 0) {
		rc = err_sys(err, LB_ECONFIG, "%s: cannot read the password file", path);
		goto out;
	}
	/* One line; a final newline (LF or CRLF) is not part of the password. */
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got > PASSWORD_MAX) {
		rc = err_set(err, LB_ECONFIG, "%s: the password file is longer than %d bytes", path,
			     PASSWORD_MAX);
		goto out;
	}
	if (got == 0) {
		rc = err_set(err, LB_ECONFIG, "%s: the password file is empty", path);
		goto out;
	}
	for (size_t i = 0; i < got; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			rc = err_set(err, LB_ECONFIG,
				     "%s: the password file holds a control character or more than "
				     "one line",
				     path);
			goto out;
		}
	}
	*out = xstrndup(buf, got);
out:
	explicit_bzero(buf, sizeof buf);
	close(fd);
	return rc;
}

int endpoint_password(const struct endpoint *ep, const char *site_dir, char **out,
		      struct lb_err *err)
{
	*out = NULL;
	if (ep->password_file) {
		char *path = path_join(site_dir, ep->password_file);
		int rc = password_from_file(path, out, err);
		free(path);
		return rc;
	}
	if (ep->password_env) {
		const char *v = getenv(ep->password_env);
		if (!v || !*v)
			return err_set(err, LB_ECONFIG,
				       "password_env: the environment variable %s is not set",
				       ep->password_env);
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return err_set(err, LB_ECONFIG,
					       "password_env: %s holds a control character",
					       ep->password_env);
		*out = xstrdup(v);
	}
	return 0;
}

static bool host_is_loopback(const char *host)
{
	size_t n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	/* curl reports IPv6 hosts in brackets, perhaps with a zone. */
	char v6[64];
	if (host[0] != '[' || n < 3 || n - 2 >= sizeof v6 || host[n - 1] != ']')
		return false;
	memcpy(v6, host + 1, n - 2);
	v6[n - 2] = '\0';
	struct in6_addr a6;
	if (inet_pton(AF_INET6, v6, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* The plain forms, "http://127.0.0.1:8080/news" or "smtp://localhost", are
 * answered without libcurl: config_load checks web.url with
 * url_host_is_loopback on every run, and a `letterbox cgi` that never talks
 * SMTP or IMAP should not open libcurl for it (curl_load.h).  True only
 * where curl's parser says the same: SCHEME://HOST[:PORT][/PATH], HOST
 * "localhost" or a dotted quad in 127/8, PORT 1-65535, PATH of unreserved
 * characters and '/'; everything else goes to curl. */
static bool plain_loopback_url(const char *url)
{
	static const char *const schemes[] = {"http://",  "https://", "smtp://",
					      "smtps://", "imap://",  "imaps://"};
	const char *p = NULL;
	for (size_t i = 0; !p && i < sizeof schemes / sizeof schemes[0]; i++)
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			p = url + strlen(schemes[i]);
	if (!p)
		return false;
	const char *host = p;
	while ((*p >= '0' && *p <= '9') || *p == '.' || (*p >= 'a' && *p <= 'z'))
		p++;
	char h[16];
	size_t n = (size_t)(p - host);
	if (n == 0 || n >= sizeof h)
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	struct in_addr a4;
	if (strcmp(h, "localhost") != 0 &&
	    !(inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127))
		return false;
	if (*p == ':') {
		long port = 0;
		const char *d = ++p;
		while (*p >= '0' && *p <= '9' && p - d < 5)
			port = port * 10 + (*p++ - '0');
		if (p == d || port < 1 || port > 65535 || *d == '0')
			return false;
	}
	if (*p && *p != '/')
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-._~/", *p)))
			return false;
	return true;
}

bool url_host_is_loopback(const char *url)
{
	if (plain_loopback_url(url))
		return true;
	/* Parse with curl's own URL parser, so that we judge the host curl
	 * will connect to (it normalises forms like 127.1 or 0x7f.1). */
	CURLU *u = curl_url();
	char *host = NULL;
	bool loop = false;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		loop = host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return loop;
}
