/* The confirmation mail of a sign-up (signup_mail.h). */
#include "deliver/signup_mail.h"

#include <stdlib.h>
#include <string.h>

#include "compose/onemail.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/mem.h"
#include "deliver/notify.h"

static const char default_consent[] =
    "I would like to receive this newsletter by email. I can unsubscribe at any time with "
    "the link in every issue; my address is used for nothing else.";

const char *signup_consent_text(const struct config *cfg)
{
	return cfg->web_consent && *cfg->web_consent ? cfg->web_consent : default_consent;
}

/* subscribe.mailto for list, or NULL. */
static char *mailto_for(const struct config *cfg, const char *list)
{
	if (!cfg->subscribe_mailto)
		return NULL;
	struct buf b = BUF_INIT;
	const char *p = cfg->subscribe_mailto, *at;
	while ((at = strstr(p, "{list}"))) {
		buf_add(&b, p, (size_t)(at - p));
		buf_adds(&b, list);
		p = at + 6;
	}
	buf_adds(&b, p);
	return buf_take(&b);
}

int signup_mail_send(const struct config *cfg, const struct secret *s, const struct confirm_req *r,
		     const char *list_title, time_t now, struct lb_err *err)
{
	struct buf text = BUF_INIT, html = BUF_INIT, url = BUF_INIT, subj = BUF_INIT,
		   raw = BUF_INIT;
	struct addr to = {0}, reply_to = {0};
	bool have_reply_to = false;
	char *token = confirm_token_make(s, r), *rt = NULL;
	int rc;
	if (!token) {
		rc = err_set(err, LB_EDATA, "a sign-up request with a line break in a field");
		goto out;
	}
	buf_printf(&url, "%s/confirm/%s", cfg->web_url ? cfg->web_url : "", token);
	const struct om_var vars[] = {{"confirm.url", url.p, NULL},
				      {"person.email", r->address, NULL},
				      {"person.name", r->name, NULL},
				      {"list.name", list_title ? list_title : r->list, NULL},
				      {"consent", signup_consent_text(cfg), NULL}};
	if ((rc = onemail_template(cfg, "confirm", vars, sizeof vars / sizeof vars[0], now, &text,
				   &html, err)) ||
	    (rc = addr_parse_spec(span_cstr(r->address), &to, err)))
		goto out;
	if ((rt = mailto_for(cfg, r->list))) {
		struct lb_err e;
		have_reply_to = addr_parse(span_cstr(rt), &reply_to, &e) == 0;
	}
	buf_printf(&subj, "Please confirm your subscription to %s",
		   cfg->site_name ? cfg->site_name : "our newsletter");
	struct onemail om = {.kind = OM_CONFIRM,
			     .from = &cfg->from,
			     .reply_to = have_reply_to ? &reply_to : NULL,
			     .to = &to,
			     .nto = 1,
			     .subject = subj.p,
			     .text = text.p,
			     .html = html.p,
			     .date = now};
	if ((rc = onemail_compose(&om, &raw, NULL, err)))
		goto out;
	const char *rcpts[] = {to.spec, NULL};
	struct outcome o;
	rc = mail_send_now(cfg, raw.p, raw.n, cfg->from.spec, rcpts, NULL, &o, err);
out:
	if (have_reply_to)
		addr_free(&reply_to);
	addr_free(&to);
	buf_free(&text);
	buf_free(&html);
	buf_free(&url);
	buf_free(&subj);
	buf_free(&raw);
	free(token);
	free(rt);
	return rc;
}
