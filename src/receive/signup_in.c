/* Sign-up by mail (signup_in.h). */
#include "receive/signup_in.h"

#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/signup_mail.h"
#include "store/signup.h"
#include "store/subscribers.h"

/* The first confirmation token of ours in text ("/confirm/TOKEN"), valid
 * now, into *r. */
static bool find_token(const struct secret *secret, const char *text, time_t now,
		       struct confirm_req *r)
{
	static const char tok_chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	for (const char *p = text; p && (p = strstr(p, "/confirm/")); p++) {
		const char *t = p + 9;
		size_t n = strspn(t, tok_chars);
		if (!n || n > 4096)
			continue;
		char *tok = xstrndup(t, n);
		enum confirm_check c = confirm_token_parse(secret, tok, now, r);
		free(tok);
		if (c == CONFIRM_OK)
			return true;
		if (c == CONFIRM_EXPIRED)
			confirm_req_free(r);
	}
	return false;
}

/* The web form's rule: a public list, or the site's only list.  *title
 * gets its name (caller frees). */
static bool list_open(const struct config *cfg, const char *id, char **title)
{
	struct sublists ls;
	struct lb_err err = {0};
	*title = NULL;
	if (sublists_load(cfg->site_dir, &ls, NULL, NULL, &err)) {
		log_warn("sign-up by mail: %s", err.msg);
		return false;
	}
	bool any_public = false, ok = false;
	for (size_t i = 0; i < ls.n; i++)
		any_public |= ls.v[i].public;
	struct sublist *l = sublists_find(&ls, id);
	if (l && (l->public || (!any_public && ls.n == 1))) {
		ok = true;
		*title = xstrdup(l->title && *l->title ? l->title : l->id);
	}
	sublists_free(&ls);
	return ok;
}

int signup_by_mail(const struct config *cfg, const struct secret *secret, const struct inmsg *m,
		   const char *list, time_t now, struct lb_err *err)
{
	struct addr from = {0};
	struct lb_err e = {0};
	struct confirm_req r = {0};
	char *title = NULL, *key = NULL, *tkey = NULL;
	int rc = 0;
	if (!m->from || (m->return_path && !*m->return_path) ||
	    addr_parse_spec(span_cstr(m->from), &from, &e)) {
		log_warn("sign-up by mail: no sender to answer (a null or unreadable address)");
		goto out;
	}
	key = addr_key(from.spec);
	if (find_token(secret, m->text, now, &r)) {
		tkey = addr_key(r.address);
		if (strcmp(tkey, key) == 0 && strcmp(r.list, list) == 0) {
			struct signup_result res;
			rc = signup_confirm(cfg->site_dir, cfg->state_dir, &r, "", now, &res, err);
			goto out;
		}
		/* someone else's link: a new request of their own */
		confirm_req_free(&r);
	}
	if (!list_open(cfg, list, &title)) {
		log_warn("sign-up by mail: list '%s' is not open for sign-up", list);
		goto out;
	}
	long retry;
	if (signup_ratelimit(cfg->state_dir, from.spec, "", now, &retry, &e)) {
		log_warn("sign-up by mail: no confirmation sent: %s", e.msg);
		goto out;
	}
	char hash[33];
	consent_hash(signup_consent_text(cfg), hash);
	const char *name = m->from_name && !strpbrk(m->from_name, "\r\n") ? m->from_name : "";
	r = (struct confirm_req){now,		xstrdup("mail"), xstrdup(list), xstrdup(from.spec),
				 xstrdup(name), xstrdup(""),	 xstrdup(hash)};
	if (signup_mail_send(cfg, secret, &r, title, now, &e))
		log_warn("sign-up by mail: confirmation not sent: %s", e.msg);
out:
	confirm_req_free(&r);
	addr_free(&from);
	free(title);
	free(key);
	free(tkey);
	return rc;
}
