/* Signing up with double opt-in: GET/POST /subscribe (the form; a request
 * sends a confirmation mail and nothing else) and GET/POST /confirm/TOKEN
 * (a page with a button; the button adds the person, store/signup.h).
 *
 * The answer to a request is the same page whether the address is new,
 * known, subscribed or suppressed, and whether the honeypot caught a robot:
 * the form tells nobody who is on a list. */
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/token.h"
#include "deliver/signup_mail.h"
#include "store/listedit.h"
#include "store/signup.h"
#include "store/subscribers.h"
#include "web/routes.h"

#define NAME_MAX_BYTES 100

/* The lists the form offers: those marked `public: true`; when none is, the
 * site's only list (a site with several lists must say which are open). */
struct offer {
	struct sublists all;
	const struct sublist **v;
	size_t n;
};

static bool offer_load(struct web *w, struct offer *o)
{
	memset(o, 0, sizeof *o);
	struct lb_err err = {0};
	if (sublists_load(w->cfg->site_dir, &o->all, NULL, NULL, &err)) {
		log_warn("cgi: %s", err.msg);
		return false;
	}
	o->v = xcalloc(o->all.n ? o->all.n : 1, sizeof *o->v);
	for (size_t i = 0; i < o->all.n; i++)
		if (o->all.v[i].public)
			o->v[o->n++] = &o->all.v[i];
	if (!o->n && o->all.n == 1)
		o->v[o->n++] = &o->all.v[0];
	return true;
}

static void offer_free(struct offer *o)
{
	free(o->v);
	sublists_free(&o->all);
}

static const struct sublist *offer_find(const struct offer *o, const char *id)
{
	if (o->n == 1 && (!id || !*id))
		return o->v[0];
	for (size_t i = 0; id && i < o->n; i++)
		if (strcmp(o->v[i]->id, id) == 0)
			return o->v[i];
	return NULL;
}

static const char *list_title(const struct sublist *l)
{
	return l->title && *l->title ? l->title : l->id;
}

/* Sign-up needs web.url (the confirmation link) and a list to offer. */
static bool signup_open(struct web *w, struct offer *o)
{
	if (!w->cfg->web_url) {
		log_warn("cgi: sign-up needs web.url in letterbox.yaml (the confirmation link)");
		web_error(w, 503, "Sign-up is closed",
			  "Signing up here is not possible right now.");
		return false;
	}
	if (!offer_load(w, o)) {
		web_error(w, 500, "Sign-up is closed",
			  "Signing up here is not possible right now.");
		return false;
	}
	if (!o->n) {
		offer_free(o);
		web_error(w, 404, "Sign-up is closed",
			  "There is no newsletter to sign up for here.");
		return false;
	}
	return true;
}

static void input(struct buf *b, const char *type, const char *name, const char *label,
		  const char *value, const char *extra)
{
	buf_printf(b, "<label for=\"%s\">", name);
	web_html(b, label);
	buf_printf(b, "</label>\n<input type=\"%s\" id=\"%s\" name=\"%s\" value=\"", type, name,
		   name);
	web_html(b, value ? value : "");
	buf_printf(b, "\"%s>\n", extra);
}

/* The form, with what was typed and a message when it was not right. */
static void show_form(struct web *w, int status, const struct offer *o, const char *problem)
{
	struct buf b = BUF_INIT;
	const char *email = form_get(&w->form, "email"), *name = form_get(&w->form, "name");
	const char *chosen = form_get(&w->form, "list");
	char *action = web_link(w, "/subscribe");
	if (problem) {
		buf_adds(&b, "<p class=\"problem\" role=\"alert\">");
		web_html(&b, problem);
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<p>Leave your address and we will send you a link to confirm. Nothing "
		     "happens until you follow it.</p>\n<form method=\"post\" action=\"");
	web_html(&b, action);
	buf_adds(&b, "\">\n");
	input(&b, "email", "email", "Email address", email,
	      " required autocomplete=\"email\" maxlength=\"254\"");
	input(&b, "text", "name", "Name (optional)", name,
	      " autocomplete=\"name\" maxlength=\"100\"");
	if (o->n > 1) {
		buf_adds(&b, "<label for=\"list\">Newsletter</label>\n<select id=\"list\" "
			     "name=\"list\">\n");
		for (size_t i = 0; i < o->n; i++) {
			buf_adds(&b, "<option value=\"");
			web_html(&b, o->v[i]->id);
			buf_adds(&b, chosen && strcmp(chosen, o->v[i]->id) == 0 ? "\" selected>"
										: "\">");
			web_html(&b, list_title(o->v[i]));
			buf_adds(&b, "</option>\n");
		}
		buf_adds(&b, "</select>\n");
	}
	/* The honeypot: hidden from people by the stylesheet, not from robots. */
	buf_adds(&b, "<div class=\"hp\" aria-hidden=\"true\">\n");
	input(&b, "text", "website", "Leave this empty", NULL,
	      " tabindex=\"-1\" autocomplete=\"off\"");
	buf_adds(&b, "</div>\n<p class=\"consent\">");
	web_html(&b, signup_consent_text(w->cfg));
	buf_adds(&b, "</p>\n<button type=\"submit\">Subscribe</button>\n</form>\n");
	web_page(w, status, "Subscribe", buf_cstr(&b));
	buf_free(&b);
	free(action);
}

/* GET /subscribe */
void web_get_subscribe(struct web *w)
{
	struct offer o;
	if (!signup_open(w, &o))
		return;
	show_form(w, 200, &o, NULL);
	offer_free(&o);
}

/* The one answer to every request that was not refused outright. */
static void requested(struct web *w)
{
	web_page(w, 200, "Check your inbox",
		 "<p>Thank you. If the address can receive our newsletter, a message with a link "
		 "to confirm is on its way to it. Follow that link within 7 days to complete "
		 "your subscription.</p>\n<p class=\"note\">No message? Look in your spam folder, "
		 "or try again in a few minutes.</p>\n");
}

static bool secret(struct web *w, bool create, struct secret *s)
{
	struct lb_err err = {0};
	if (secret_load(w->cfg->state_dir, create, s, &err) == 0)
		return true;
	if (create || err.code != LB_ENOINPUT)
		log_warn("cgi: %s", err.msg);
	return false;
}

/* POST /subscribe */
void web_post_subscribe(struct web *w)
{
	if (!web_same_origin(w, true)) {
		web_error(w, 403, "Not allowed", "This form can only be sent from our own page.");
		return;
	}
	struct offer o;
	if (!signup_open(w, &o))
		return;
	const char *hp = form_get(&w->form, "website");
	const char *email = form_get(&w->form, "email"), *name = form_get(&w->form, "name");
	struct span e = span_trim(span_cstr(email ? email : ""));
	struct span nm = span_trim(span_cstr(name ? name : ""));
	char *name_s = span_dup(nm);
	struct addr a = {0};
	struct lb_err err = {0};
	const char *why = NULL, *bad_name;
	const struct sublist *l = offer_find(&o, form_get(&w->form, "list"));
	if (hp && *hp) {
		requested(w); /* a robot: the same page, nothing sent */
		goto out;
	}
	if (!e.n)
		why = "Please enter your email address.";
	else if (e.n > 254 || addr_parse_spec(e, &a, &err))
		why = "That does not look like an email address we can write to. Please check it.";
	else if (nm.n > NAME_MAX_BYTES || (nm.n && !listedit_name_ok(name_s, &bad_name)))
		why = "Please shorten the name, or leave it out.";
	else if (!l)
		why = "Please choose a newsletter.";
	if (why) {
		show_form(w, 400, &o, why);
		goto out;
	}
	long retry = 0;
	int rc = signup_ratelimit(w->cfg->state_dir, a.spec, w->req->remote_addr, w->req->now,
				  &retry, &err);
	if (rc == LB_ETEMP && retry > 0) {
		char s[32];
		snprintf(s, sizeof s, "%ld", retry);
		web_header(w, "Retry-After", s);
		web_error(w, 429, "Please wait",
			  "There have been too many requests to sign up from here or for this "
			  "address. Please try again later.");
		goto out;
	}
	struct secret sec;
	if (rc || !secret(w, true, &sec)) {
		if (rc)
			log_warn("cgi: %s", err.msg);
		web_error_rc(w, rc, 503, "Please try later",
			     "Signing up is not possible right now.");
		goto out;
	}
	char hash[33];
	consent_hash(signup_consent_text(w->cfg), hash);
	struct confirm_req r = {w->req->now,	 xstrdup("web"),  xstrdup(l->id),
				xstrdup(a.spec), xstrdup(name_s), xstrdup(w->req->remote_addr),
				xstrdup(hash)};
	rc = signup_mail_send(w->cfg, &sec, &r, list_title(l), w->req->now, &err);
	confirm_req_free(&r);
	if (rc) {
		log_warn("cgi: confirmation mail not sent: %s", err.msg);
		web_error(w, 503, "Please try later",
			  "We could not send the confirmation message just now. Please try again "
			  "in a few minutes.");
		goto out;
	}
	requested(w);
out:
	addr_free(&a);
	free(name_s);
	offer_free(&o);
}

/* The token of /confirm/TOKEN checked: CONFIRM_OK with *r filled, or the
 * page already made. */
static bool confirm_token(struct web *w, struct confirm_req *r)
{
	struct secret sec;
	char *token = span_dup(w->arg);
	enum confirm_check c = secret(w, false, &sec)
				   ? confirm_token_parse(&sec, token, w->req->now, r)
				   : CONFIRM_FORGED;
	free(token);
	if (c == CONFIRM_OK)
		return true;
	if (c == CONFIRM_EXPIRED) {
		confirm_req_free(r);
		struct buf b = BUF_INIT;
		char *sub = web_link(w, "/subscribe");
		buf_adds(&b, "<p>This link has expired: links to confirm are valid for 7 days. "
			     "Please <a href=\"");
		web_html(&b, sub);
		buf_adds(&b, "\">sign up again</a>.</p>\n");
		web_page(w, 404, "This link has expired", buf_cstr(&b));
		free(sub);
		buf_free(&b);
	} else {
		web_error(w, 404, "Not found",
			  "This link is not valid. Please copy the whole link from the message.");
	}
	return false;
}

static void say_who(struct buf *b, const struct confirm_req *r)
{
	buf_adds(b, "<span class=\"address\">");
	web_html(b, r->address);
	buf_adds(b, "</span>");
}

/* GET /confirm/TOKEN: a button; nothing changes (mail scanners follow links). */
void web_get_confirm(struct web *w)
{
	struct confirm_req r;
	if (!confirm_token(w, &r))
		return;
	struct buf b = BUF_INIT, path = BUF_INIT;
	buf_adds(&path, "/confirm/");
	buf_addspan(&path, w->arg);
	char *action = web_link(w, path.p);
	buf_adds(&b, "<p>Subscribe ");
	say_who(&b, &r);
	buf_adds(&b, " to our newsletter?</p>\n<form method=\"post\" action=\"");
	web_html(&b, action);
	buf_adds(&b, "\">\n<p class=\"consent\">");
	web_html(&b, signup_consent_text(w->cfg));
	buf_adds(&b, "</p>\n<button type=\"submit\">Yes, subscribe me</button>\n</form>\n");
	web_page(w, 200, "Confirm your subscription", buf_cstr(&b));
	free(action);
	buf_free(&path);
	buf_free(&b);
	confirm_req_free(&r);
}

/* POST /confirm/TOKEN: on the list, with a consent record; again: no change. */
void web_post_confirm(struct web *w)
{
	if (!web_same_origin(w, false)) {
		web_error(w, 403, "Not allowed", "This form can only be sent from our own page.");
		return;
	}
	struct confirm_req r;
	if (!confirm_token(w, &r))
		return;
	struct signup_result res;
	struct lb_err err = {0};
	int rc = signup_confirm(w->cfg->site_dir, w->cfg->state_dir, &r, w->req->remote_addr,
				w->req->now, &res, &err);
	if (rc) {
		log_warn("cgi: sign-up not confirmed: %s", err.msg);
		web_error_rc(
		    w, rc, 500, "Please try later",
		    "Your subscription could not be recorded just now. Please use the link "
		    "again in a few minutes.");
	} else {
		struct buf b = BUF_INIT;
		buf_adds(&b, "<p>Thank you: ");
		say_who(&b, &r);
		buf_adds(&b,
			 " is subscribed. The next newsletter will come to this address.</p>\n"
			 "<p class=\"note\">Every newsletter has a link to unsubscribe with one "
			 "click.</p>\n");
		web_page(w, 200, "You are subscribed", buf_cstr(&b));
		buf_free(&b);
	}
	confirm_req_free(&r);
}
