#include "core/config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config_dkim.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "core/yamlx.h"
#include "deliver/transport.h"
#include "receive/lexicon.h"

#define CFG LB_ECONFIG

char *config_expand(const char *pattern, const char *token, const char *slug)
{
	struct buf b = BUF_INIT;
	for (const char *p = pattern; *p;) {
		if (token && strncmp(p, "{token}", 7) == 0) {
			buf_adds(&b, token);
			p += 7;
		} else if (slug && strncmp(p, "{slug}", 6) == 0) {
			buf_adds(&b, slug);
			p += 6;
		} else {
			buf_addc(&b, *p++);
		}
	}
	return buf_take(&b);
}

char *config_path(const struct config *cfg, const char *rel)
{
	return path_join(cfg->site_dir, rel);
}

/* An address pattern must be a valid address once {token} is filled in. */
static int check_pattern(struct ydoc *d, const yaml_node_t *n, const char *key, const char *pat,
			 struct lb_err *err)
{
	char *sample = config_expand(pat, "abcdefghijklmnop", NULL);
	struct addr a;
	struct lb_err aerr;
	int rc = addr_parse(span_cstr(sample), &a, &aerr);
	free(sample);
	if (rc)
		return yerr(d, n, CFG, err, "'%s': %s", key, aerr.msg);
	addr_free(&a);
	return 0;
}

/* Each of a list of mailboxes (staff.digest_to, urgent_to) must parse as
 * the digest and the alerts will parse it; the error is at its item. */
static int check_mailboxes(struct ydoc *d, const yaml_node_t *n, const char *key, char *const *list,
			   struct lb_err *err)
{
	for (size_t i = 0; list && list[i]; i++) {
		struct addr a;
		struct lb_err aerr;
		if (addr_parse(span_cstr(list[i]), &a, &aerr))
			return yerr(d, yis_seq(n) ? yseq_at(d, n, i) : n, CFG, err, "'%s': %s", key,
				    aerr.msg);
		addr_free(&a);
	}
	return 0;
}

static int load_site(struct ydoc *d, yaml_node_t *site, struct config *c, struct lb_err *err)
{
	static const char *const keys[] = {
	    "name", "url", "postal_address", "lang", "article_url", "timezone", NULL};
	int rc = ymap_check(d, site, "site", keys, CFG, err);
	if (rc)
		return rc;
	if ((rc = yget_str(d, ymap_get(d, site, "name"), "name", &c->site_name, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, site, "url"), "url", &c->site_url, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, site, "postal_address"), "postal_address",
			   &c->site_postal_address, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, site, "lang"), "lang", &c->site_lang, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, site, "article_url"), "article_url", &c->article_url, CFG,
			   err)) ||
	    (rc = yget_str(d, ymap_get(d, site, "timezone"), "timezone", &c->site_timezone, CFG,
			   err)))
		return rc;
	if (c->site_timezone && !time_zone_known(c->site_timezone))
		return yerr(d, ymap_get(d, site, "timezone"), CFG, err,
			    "'timezone': '%s' is not a zone of the time zone database (an IANA "
			    "name such as Europe/London or America/Los_Angeles)",
			    c->site_timezone);
	if (!c->site_name)
		return yreq(d, site, "site", "name", CFG, err);
	if (!c->site_postal_address)
		return yreq(d, site, "site", "postal_address", CFG, err);
	if (c->site_url && strncmp(c->site_url, "https://", 8) != 0 &&
	    strncmp(c->site_url, "http://", 7) != 0)
		return yerr(d, ymap_get(d, site, "url"), CFG, err,
			    "'url' must start with https:// (or http://)");
	return 0;
}

static int load_tls(struct ydoc *d, yaml_node_t *n, enum tls_mode *tls, struct lb_err *err)
{
	if (!n)
		return 0;
	struct span s = yscalar(n);
	if (yis_scalar(n) && span_eq(s, "required"))
		*tls = TLS_REQUIRED;
	else if (yis_scalar(n) && span_eq(s, "none"))
		*tls = TLS_NONE;
	else
		return yerr(d, n, CFG, err, "'tls' must be 'required' or 'none'");
	return 0;
}

/* "20/s", "600/min", "3600/h" or a bare number per second. */
static int load_rate(struct ydoc *d, yaml_node_t *n, double *rate, struct lb_err *err)
{
	if (!n)
		return 0;
	struct span s = yscalar(n);
	const char *slash = yis_scalar(n) ? memchr(s.p, '/', s.n) : NULL;
	struct span num = slash ? (struct span){s.p, (size_t)(slash - s.p)} : s;
	struct span unit =
	    slash ? (struct span){slash + 1, s.n - (size_t)(slash - s.p) - 1} : SPAN_LIT("s");
	unsigned long v = 0;
	bool ok = yis_scalar(n) && num.n > 0 && num.n < 10;
	for (size_t i = 0; ok && i < num.n; i++) {
		ok = num.p[i] >= '0' && num.p[i] <= '9';
		v = v * 10 + (unsigned long)(num.p[i] - '0');
	}
	double per = 0;
	if (span_eq(unit, "s") || span_eq(unit, "sec"))
		per = 1;
	else if (span_eq(unit, "m") || span_eq(unit, "min"))
		per = 60;
	else if (span_eq(unit, "h") || span_eq(unit, "hour"))
		per = 3600;
	if (!ok || per == 0 || v == 0)
		return yerr(d, n, CFG, err, "'rate' must look like 20/s, 600/min or 5000/h");
	*rate = (double)v / per;
	return 0;
}

/* outgoing.timeout and incoming.timeout: how long a server may keep us waiting. */
static int load_timeout(struct ydoc *d, yaml_node_t *n, long *timeout, struct lb_err *err)
{
	int rc = yget_duration(d, n, "timeout", timeout, CFG, err);
	if (!rc && n && (*timeout < 1 || *timeout > 3600))
		return yerr(d, n, CFG, err, "'timeout' must be from 1s to 1h");
	return rc;
}

static int load_endpoint(struct ydoc *d, yaml_node_t *m, const char *what, bool outgoing,
			 struct endpoint *e, struct lb_err *err)
{
	static const char *const out_keys[] = {
	    "url",     "username",    "password_file", "password_env", "tls",
	    "ca_file", "connections", "rate",	       "timeout",      NULL};
	static const char *const in_keys[] = {
	    "url",     "username", "password_file", "password_env", "tls", "ca_file",
	    "folders", "max_size", "timeout",	    "sent",	    NULL};
	int rc = ymap_check(d, m, what, outgoing ? out_keys : in_keys, CFG, err);
	if (rc)
		return rc;
	if ((rc = yget_str(d, ymap_get(d, m, "url"), "url", &e->url, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, m, "username"), "username", &e->username, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, m, "password_file"), "password_file", &e->password_file,
			   CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, m, "password_env"), "password_env", &e->password_env, CFG,
			   err)) ||
	    (rc = yget_str(d, ymap_get(d, m, "ca_file"), "ca_file", &e->ca_file, CFG, err)) ||
	    (rc = load_tls(d, ymap_get(d, m, "tls"), &e->tls, err)) ||
	    (rc = load_timeout(d, ymap_get(d, m, "timeout"), &e->timeout, err)))
		return rc;
	if (outgoing) {
		if ((rc = yget_long(d, ymap_get(d, m, "connections"), "connections", 1, 64,
				    &e->connections, CFG, err)) ||
		    (rc = load_rate(d, ymap_get(d, m, "rate"), &e->rate, err)))
			return rc;
	} else {
		if ((rc = yget_size(d, ymap_get(d, m, "max_size"), "max_size", &e->max_size, CFG,
				    err)) ||
		    (rc = yget_str(d, ymap_get(d, m, "sent"), "sent", &e->sent, CFG, err)))
			return rc;
		yaml_node_t *f = ymap_get(d, m, "folders");
		static const char *const fkeys[] = {"inquiries",    "bounces", "auto_replies",
						    "unsubscribes", "failed",  NULL};
		if (f && (rc = ymap_check(d, f, "incoming.folders", fkeys, CFG, err)))
			return rc;
		for (int i = 0; f && fkeys[i]; i++)
			if ((rc = yget_str(d, ymap_get(d, f, fkeys[i]), fkeys[i], &e->folders[i],
					   CFG, err)))
				return rc;
	}
	if (!e->url)
		return yreq(d, m, what, "url", CFG, err);
	static const char *const out_schemes[] = {"smtp://", "smtps://", "maildir:", NULL};
	static const char *const in_schemes[] = {"imap://", "imaps://", "maildir:", NULL};
	bool known = false;
	for (const char *const *s = outgoing ? out_schemes : in_schemes; *s && !known; s++)
		known = strncmp(e->url, *s, strlen(*s)) == 0;
	if (!known)
		return yerr(d, ymap_get(d, m, "url"), CFG, err, "%s.url must start with %s", what,
			    outgoing ? "smtp://, smtps:// or maildir:"
				     : "imap://, imaps:// or maildir:");
	if (e->password_file && e->password_env)
		return yerr(d, ymap_get(d, m, "password_env"), CFG, err,
			    "give either password_file or password_env, not both");
	return 0;
}

static const char *const top_keys[] = {
    "site",	"from",	    "reply_to",	 "list_id", "unsubscribe", "bounce_to",
    "outgoing", "incoming", "send",	 "staff",   "triage",	   "compose",
    "styles",	"web",	    "subscribe", "dkim",    NULL};

/* triage.urgent_words are phrases in the lexicon's notation (lexicon.h);
 * triage.urgent_languages name its built-in files. */
static int check_urgent(struct ydoc *d, const yaml_node_t *n, char **list, bool languages,
			struct lb_err *err)
{
	for (size_t i = 0; list && list[i]; i++) {
		const yaml_node_t *item = yis_seq(n) ? yseq_at(d, n, i) : n;
		if (languages && !lexicon_language_known(list[i])) {
			struct buf known = BUF_INIT;
			for (size_t l = 0; lexicon_files[l].lang; l++)
				buf_printf(&known, "%s%s", l ? ", " : "", lexicon_files[l].lang);
			int rc = yerr(d, item, CFG, err,
				      "'triage.urgent_languages': no built-in lexicon for '%s' "
				      "(there are: %s)",
				      list[i], buf_cstr(&known));
			buf_free(&known);
			return rc;
		}
		const char *why = languages ? NULL : lexicon_phrase_error(list[i]);
		if (why)
			return yerr(d, item, CFG, err, "'triage.urgent_words': \"%s\": %s", list[i],
				    why);
	}
	return 0;
}

/* web.* and subscribe.*: the CGI's settings.  web.url must be https://
 * (mail links and RFC 8058 need it) unless its host is loopback (a test or
 * `make serve`); it gives unsubscribe.url its default. */
static int load_web(struct ydoc *d, yaml_node_t *root, struct config *c, struct lb_err *err)
{
	yaml_node_t *n;
	int rc;
	c->web_archive = true;
	if ((n = ymap_get(d, root, "web"))) {
		static const char *const wkeys[] = {"url", "consent", "archive", "staff", NULL};
		yaml_node_t *un = ymap_get(d, n, "url");
		if ((rc = ymap_check(d, n, "web", wkeys, CFG, err)) ||
		    (rc = yget_str(d, un, "url", &c->web_url, CFG, err)) ||
		    (rc = yget_str(d, ymap_get(d, n, "consent"), "consent", &c->web_consent, CFG,
				   err)) ||
		    (rc = yget_bool(d, ymap_get(d, n, "archive"), "archive", &c->web_archive, CFG,
				    err)) ||
		    (rc = yget_strlist(d, ymap_get(d, n, "staff"), "staff", &c->web_staff, NULL,
				       CFG, err)))
			return rc;
		if (c->web_url) {
			size_t len = strlen(c->web_url);
			while (len && c->web_url[len - 1] == '/')
				c->web_url[--len] = '\0';
			bool https = strncmp(c->web_url, "https://", 8) == 0;
			if (!https && !(strncmp(c->web_url, "http://", 7) == 0 &&
					url_host_is_loopback(c->web_url)))
				return yerr(d, un, CFG, err,
					    "'web.url' must be an https:// URL (http:// only on "
					    "127.0.0.1 or localhost)");
		}
	}
	if ((n = ymap_get(d, root, "subscribe"))) {
		static const char *const skeys[] = {"mailto", NULL};
		yaml_node_t *mn = ymap_get(d, n, "mailto");
		if ((rc = ymap_check(d, n, "subscribe", skeys, CFG, err)) ||
		    (rc = yget_str(d, mn, "mailto", &c->subscribe_mailto, CFG, err)))
			return rc;
		if (c->subscribe_mailto) {
			char *sample = config_expand(c->subscribe_mailto, NULL, NULL);
			char *p = strstr(sample, "{list}");
			if (p)
				memcpy(p, "alist_", 6);
			struct addr a;
			struct lb_err aerr;
			rc = addr_parse(span_cstr(sample), &a, &aerr);
			free(sample);
			if (rc)
				return yerr(d, mn, CFG, err, "'subscribe.mailto': %s", aerr.msg);
			addr_free(&a);
		}
	}
	return 0;
}

static int load_root(struct ydoc *d, yaml_node_t *root, struct config *c, struct lb_err *err)
{
	int rc = ymap_check(d, root, "letterbox.yaml", top_keys, CFG, err);
	if (rc)
		return rc;
	yaml_node_t *n;
	if (!(n = ymap_get(d, root, "site")))
		return yreq(d, root, "letterbox.yaml", "site", CFG, err);
	if ((rc = load_site(d, n, c, err)))
		return rc;

	if (!(n = ymap_get(d, root, "from")))
		return yreq(d, root, "letterbox.yaml", "from", CFG, err);
	char *from = NULL;
	if ((rc = yget_str(d, n, "from", &from, CFG, err)))
		return rc;
	struct lb_err aerr;
	rc = addr_parse(span_cstr(from), &c->from, &aerr);
	free(from);
	if (rc)
		return yerr(d, n, CFG, err, "'from': %s", aerr.msg);

	if (!(n = ymap_get(d, root, "list_id")))
		return yreq(d, root, "letterbox.yaml", "list_id", CFG, err);
	if ((rc = yget_str(d, n, "list_id", &c->list_id, CFG, err)))
		return rc;
	for (const char *p = c->list_id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return yerr(
			    d, n, CFG, err,
			    "'list_id' must be a domain-like name such as news.example.org");

	if ((n = ymap_get(d, root, "reply_to")) &&
	    ((rc = yget_str(d, n, "reply_to", &c->reply_to, CFG, err)) ||
	     (rc = check_pattern(d, n, "reply_to", c->reply_to, err))))
		return rc;
	if ((n = ymap_get(d, root, "bounce_to")) &&
	    ((rc = yget_str(d, n, "bounce_to", &c->bounce_to, CFG, err)) ||
	     (rc = check_pattern(d, n, "bounce_to", c->bounce_to, err))))
		return rc;

	if (!(n = ymap_get(d, root, "unsubscribe")))
		return yreq(d, root, "letterbox.yaml", "unsubscribe", CFG, err);
	static const char *const ukeys[] = {"mailto", "url", NULL};
	if ((rc = ymap_check(d, n, "unsubscribe", ukeys, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, n, "mailto"), "mailto", &c->unsub_mailto, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, n, "url"), "url", &c->unsub_url, CFG, err)))
		return rc;
	if (!c->unsub_mailto)
		return yreq(d, n, "unsubscribe", "mailto", CFG, err);
	if ((rc = check_pattern(d, ymap_get(d, n, "mailto"), "unsubscribe.mailto", c->unsub_mailto,
				err)))
		return rc;
	if (c->unsub_url && strncmp(c->unsub_url, "https://", 8) != 0)
		return yerr(d, ymap_get(d, n, "url"), CFG, err,
			    "'unsubscribe.url' must be an https:// URL (RFC 8058 one-click)");
	if ((rc = load_web(d, root, c, err)))
		return rc;
	if (!c->unsub_url && c->web_url) {
		struct buf u = BUF_INIT;
		buf_printf(&u, "%s/u/{token}", c->web_url);
		c->unsub_url = buf_take(&u);
	}

	if ((n = ymap_get(d, root, "outgoing")) &&
	    (rc = load_endpoint(d, n, "outgoing", true, &c->out, err)))
		return rc;
	if ((n = ymap_get(d, root, "incoming")) &&
	    (rc = load_endpoint(d, n, "incoming", false, &c->in, err)))
		return rc;

	if ((n = ymap_get(d, root, "send"))) {
		static const char *const skeys[] = {"catch_up", "give_up", "test_prefix", NULL};
		if ((rc = ymap_check(d, n, "send", skeys, CFG, err)) ||
		    (rc = yget_str(d, ymap_get(d, n, "test_prefix"), "test_prefix", &c->test_prefix,
				   CFG, err)) ||
		    (rc = yget_duration(d, ymap_get(d, n, "catch_up"), "catch_up", &c->catch_up,
					CFG, err)) ||
		    (rc = yget_duration(d, ymap_get(d, n, "give_up"), "give_up", &c->give_up, CFG,
					err)))
			return rc;
	}
	if ((n = ymap_get(d, root, "staff"))) {
		static const char *const skeys[] = {"digest_to", "urgent_to", NULL};
		yaml_node_t *dn = ymap_get(d, n, "digest_to"), *un = ymap_get(d, n, "urgent_to");
		if ((rc = ymap_check(d, n, "staff", skeys, CFG, err)) ||
		    (rc = yget_strlist(d, dn, "digest_to", &c->digest_to, NULL, CFG, err)) ||
		    (rc = yget_strlist(d, un, "urgent_to", &c->urgent_to, NULL, CFG, err)) ||
		    (rc = check_mailboxes(d, dn, "staff.digest_to", c->digest_to, err)) ||
		    (rc = check_mailboxes(d, un, "staff.urgent_to", c->urgent_to, err)))
			return rc;
	}
	if ((n = ymap_get(d, root, "triage"))) {
		static const char *const tkeys[] = {"urgent_words", "urgent_languages",
						    "acknowledge",  "alert_body",
						    "crisis_line",  NULL};
		if ((rc = ymap_check(d, n, "triage", tkeys, CFG, err)) ||
		    (rc = yget_strlist(d, ymap_get(d, n, "urgent_words"), "urgent_words",
				       &c->urgent_words, NULL, CFG, err)) ||
		    (rc = check_urgent(d, ymap_get(d, n, "urgent_words"), c->urgent_words, false,
				       err)) ||
		    (rc = yget_strlist(d, ymap_get(d, n, "urgent_languages"), "urgent_languages",
				       &c->urgent_languages, NULL, CFG, err)) ||
		    (rc = check_urgent(d, ymap_get(d, n, "urgent_languages"), c->urgent_languages,
				       true, err)) ||
		    (rc = yget_bool(d, ymap_get(d, n, "acknowledge"), "acknowledge",
				    &c->acknowledge, CFG, err)) ||
		    (rc = yget_bool(d, ymap_get(d, n, "alert_body"), "alert_body", &c->alert_body,
				    CFG, err)) ||
		    (rc = yget_str(d, ymap_get(d, n, "crisis_line"), "crisis_line", &c->crisis_line,
				   CFG, err)))
			return rc;
	}
	if ((n = ymap_get(d, root, "compose"))) {
		static const char *const ckeys[] = {"allow_html", NULL};
		if ((rc = ymap_check(d, n, "compose", ckeys, CFG, err)) ||
		    (rc = yget_bool(d, ymap_get(d, n, "allow_html"), "allow_html", &c->allow_html,
				    CFG, err)))
			return rc;
	}
	if ((n = ymap_get(d, root, "dkim")) && (rc = config_load_dkim(d, n, c, err)))
		return rc;
	if ((n = ymap_get(d, root, "styles"))) {
		if ((rc = ymap_check(d, n, "styles", NULL, CFG, err)))
			return rc;
		c->nstyles = ylen(n);
		c->styles = xcalloc(c->nstyles, sizeof *c->styles);
		for (size_t i = 0; i < c->nstyles; i++) {
			c->styles[i].key = span_dup(yscalar(ymap_key(d, n, i)));
			yaml_node_t *v = ymap_value(d, n, i);
			if ((rc = yget_str(d, v, c->styles[i].key, &c->styles[i].css, CFG, err)))
				return rc;
		}
	}
	return 0;
}

static void endpoint_defaults(struct endpoint *e)
{
	e->tls = TLS_REQUIRED;
	e->connections = 4;
	e->max_size = 25u << 20;
	e->timeout = 60;
}

int config_load(struct config *c, const char *site_dir, const char *path, struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	c->site_dir = xstrdup(site_dir ? site_dir : ".");
	c->file = path ? xstrdup(path) : path_join(c->site_dir, "letterbox.yaml");
	c->state_dir = path_join(c->site_dir, "state");
	c->site_lang = xstrdup("en");
	endpoint_defaults(&c->out);
	endpoint_defaults(&c->in);
	c->catch_up = c->give_up = 3 * 86400;
	c->test_prefix = xstrdup("[TEST] ");

	struct buf text = BUF_INIT;
	struct ydoc d = {0};
	int rc = fsx_read(c->file, &text, 1 << 20, err);
	if (rc) {
		rc = LB_ECONFIG;
		err->code = rc;
		goto out;
	}
	if ((rc = ydoc_load(&d, c->file, text.p, text.n, 0, CFG, err)))
		goto out;
	yaml_node_t *root = ydoc_root(&d);
	if (!root) {
		rc = err_set(err, CFG, "%s: the file is empty", c->file);
		goto out;
	}
	rc = load_root(&d, root, c, err);
	if (!rc && !c->out.url)
		c->out.url = xstrdup("maildir:outbox");
	if (!rc && !c->in.url)
		c->in.url = xstrdup("maildir:inbox");
	if (!rc && c->site_timezone)
		time_zone_use(c->site_timezone);
out:
	ydoc_free(&d);
	buf_free(&text);
	return rc;
}

static void endpoint_free(struct endpoint *e)
{
	free(e->url);
	free(e->username);
	free(e->password_file);
	free(e->password_env);
	free(e->ca_file);
	for (size_t i = 0; i < sizeof e->folders / sizeof e->folders[0]; i++)
		free(e->folders[i]);
	free(e->sent);
}

void config_free(struct config *c)
{
	free(c->file);
	free(c->site_dir);
	free(c->state_dir);
	free(c->site_name);
	free(c->site_url);
	free(c->site_postal_address);
	free(c->site_lang);
	free(c->site_timezone);
	free(c->crisis_line);
	free(c->test_prefix);
	free(c->article_url);
	addr_free(&c->from);
	free(c->reply_to);
	free(c->list_id);
	free(c->unsub_mailto);
	free(c->unsub_url);
	free(c->bounce_to);
	for (size_t i = 0; i < c->nstyles; i++) {
		free(c->styles[i].key);
		free(c->styles[i].css);
	}
	free(c->styles);
	endpoint_free(&c->out);
	endpoint_free(&c->in);
	strlist_free(c->digest_to);
	strlist_free(c->urgent_to);
	strlist_free(c->urgent_words);
	strlist_free(c->urgent_languages);
	free(c->web_url);
	free(c->web_consent);
	strlist_free(c->web_staff);
	free(c->subscribe_mailto);
	config_free_dkim(c);
	memset(c, 0, sizeof *c);
}
