/* letterbox.yaml, loaded into a typed struct.
 *
 * Every key is documented in README.md ("Configuration").  Unknown keys,
 * wrong types and missing required keys are LB_ECONFIG errors naming
 * file:line:col.  Relative paths in the file are relative to the site
 * directory.  Address patterns may contain {token}, the recipient's token.
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "core/err.h"

enum tls_mode {
	TLS_REQUIRED, /* TLS (implicit or STARTTLS), certificate and host verified */
	TLS_NONE,     /* plain text; only sensible on loopback or a trusted network */
};

/* Where mail goes to or comes from. */
struct endpoint {
	char *url; /* smtp://, smtps://, imap://, imaps://, maildir:PATH */
	char *username;
	char *password_file; /* must be 0600 */
	char *password_env;
	enum tls_mode tls;
	char *ca_file;
	long connections; /* outgoing: parallel SMTP connections */
	double rate;	  /* outgoing: messages per second, 0 = unlimited */
	size_t max_size;  /* incoming: larger messages are filed headers-only */
	long timeout;	  /* seconds a server may keep us waiting: per SMTP step, per IMAP read */
	char *folders[5]; /* incoming: MOVE targets, see FOLDER_* */
	char *sent;	  /* incoming: the staff's Sent folder (IMAP) or Maildir path, or NULL */
};

enum { FOLDER_INQUIRIES, FOLDER_BOUNCES, FOLDER_AUTO_REPLIES, FOLDER_UNSUBSCRIBES, FOLDER_FAILED };

/* One DKIM key of the `dkim:` section (compose/dkim.h). */
struct dkim_key_cfg {
	char *selector;
	char *key_file;	 /* PEM private key, must be 0600 */
	char *algorithm; /* "rsa-sha256" (default) or "ed25519-sha256" */
};

struct style_override {
	char *key, *css;
};

struct config {
	char *file;	/* path of letterbox.yaml, for messages */
	char *site_dir; /* everything relative resolves here */
	char *state_dir;

	char *site_name, *site_url, *site_postal_address, *site_lang;
	char *article_url;   /* pattern with {slug}; optional web link */
	char *site_timezone; /* IANA zone for times shown to people; NULL: the system's */

	struct addr from;
	char *reply_to;	    /* pattern, may hold {token}; NULL: replies go to From */
	char *list_id;	    /* e.g. news.example.org */
	char *unsub_mailto; /* pattern, required */
	char *unsub_url;    /* pattern, optional: enables RFC 8058 one-click */
	char *bounce_to;    /* pattern, optional VERP envelope sender */

	bool allow_html;
	struct style_override *styles;
	size_t nstyles;

	struct endpoint out, in;
	long catch_up, give_up; /* seconds */
	char *test_prefix;	/* send.test_prefix: a test send's subject starts with it */

	char **digest_to, **urgent_to; /* NULL-terminated */
	char **urgent_words;	       /* extra crisis phrases (receive/lexicon.h) */
	char **urgent_languages;       /* the built-in lexicon's languages; NULL: all */
	char *crisis_line;	       /* where to turn in an emergency; NULL: unset */
	bool acknowledge;
	bool alert_body; /* include the message text in urgent alerts (off) */

	/* web: `letterbox cgi` (src/web/) */
	char *web_url;	   /* public base, no trailing '/'; NULL: no web side */
	char *web_consent; /* the consent text the sign-up form shows; NULL: a default */
	bool web_archive;  /* serve /archive/ (default on) */
	char **web_staff;  /* who may use /staff/ (REMOTE_USER names); NULL: any logged-in user */
	char *subscribe_mailto; /* pattern with {list}: sign-up by mail; NULL: off */
	/* dkim: sign every outgoing mail; dkim_keys[0].selector NULL: do not sign.
	 * dkim_keys[1] is the optional second signature (`dkim.second`). */
	char *dkim_domain; /* default: From's domain */
	struct dkim_key_cfg dkim_keys[2];
};

/* Load path (site_dir/letterbox.yaml unless given) into cfg.  On error cfg is
 * still safe to config_free.  With site.timezone set, local time in this
 * process is that zone's from then on (time_zone_use). */
int config_load(struct config *cfg, const char *site_dir, const char *path, struct lb_err *err);
void config_free(struct config *cfg);

/* Expand a pattern: {token} → token (may be NULL: left as is), {slug} → slug. */
char *config_expand(const char *pattern, const char *token, const char *slug);

/* site_dir/rel (or rel when absolute); caller frees. */
char *config_path(const struct config *cfg, const char *rel);

#endif
