/* /u/TOKEN: one-click unsubscribe (RFC 8058) and the way back.
 *
 * GET shows whose newsletter it is and the address, masked, with one button;
 * it changes nothing (mail scanners and link previewers follow links).
 * POST unsubscribes: what mail providers send (List-Unsubscribe=One-Click,
 * no Origin, no cookies) and what our button sends are the same request.  A
 * POST with resubscribe=1, from our own page only, lifts an unsubscription.
 * Both are idempotent: a second POST records nothing new.
 *
 * The token is the per-recipient one of core/token.h; store/tokens.h finds
 * its address.  One that is not ours (forged, or of an address letterbox no
 * longer knows) is a 404 and nothing is written.  Records go to
 * state/suppressions (store/suppressions.h, fsync'd, under its flock, so
 * many requests and a running `send` or `poll` never lose one), their
 * evidence starting SUP_WEB_EVIDENCE: their source is "web".
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "store/suppressions.h"
#include "store/tokens.h"
#include "web/routes.h"

void web_mask_address(struct buf *b, const char *address)
{
	const char *at = strrchr(address, '@');
	if (!at || at == address) {
		buf_adds(b, "***");
		return;
	}
	/* the first character whole, even when it is not ASCII */
	size_t first = 1;
	while (first < 4 && address + first < at && ((unsigned char)address[first] & 0xC0) == 0x80)
		first++;
	buf_add(b, address, first);
	buf_adds(b, "***");
	buf_adds(b, at);
}

/* What a /u/ page needs: the address the token stands for. */
struct unsub {
	char token[TOKEN_LEN + 1];
	char *address;
	struct suppressions *sup;
};

static void unsub_free(struct unsub *u)
{
	free(u->address);
	suppressions_free(u->sup);
}

/* Find the token's address and load the suppressions; false when a page
 * (404 or 500) has been made instead. */
static bool unsub_open(struct web *w, struct unsub *u)
{
	*u = (struct unsub){.address = NULL};
	struct secret s;
	struct lb_err err = {0};
	int rc;
	if (!token_parse(w->arg.p, w->arg.n, u->token))
		goto unknown;
	/* No secret yet: no newsletter was ever sent, so no token is ours. */
	rc = secret_load(w->cfg->state_dir, false, &s, &err);
	if (rc == LB_ENOINPUT)
		goto unknown;
	if (rc)
		goto broken;
	u->address = tokens_find(w->cfg, &s, u->token);
	if (!u->address)
		goto unknown;
	if (suppressions_load(w->cfg->state_dir, &u->sup, &err) != 0)
		goto broken;
	return true;
unknown:
	web_error(w, 404, "Link not recognised",
		  "This unsubscribe link is not one of ours, or it was copied incompletely. "
		  "Use the link at the end of a newsletter you received.");
	unsub_free(u);
	return false;
broken:
	log_warn("cgi: /u/: %s", err.msg);
	web_error_rc(w, err.code, 500, "Not available",
		     "This page is not available right now. Please try "
		     "again later, or reply to the newsletter.");
	unsub_free(u);
	return false;
}

/* A form posting back to this page: hidden fields, then a button. */
static void form(struct web *w, const struct unsub *u, struct buf *b, const char *fields,
		 const char *label)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "/u/%s", u->token);
	char *action = web_link(w, path.p);
	buf_adds(b, "<form method=\"post\" action=\"");
	web_html(b, action);
	buf_printf(b, "\">%s<button type=\"submit\">", fields);
	web_html(b, label);
	buf_adds(b, "</button></form>\n");
	free(action);
	buf_free(&path);
}

#define UNSUB_FIELDS                                                                               \
	"<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"                    \
	"<input type=\"hidden\" name=\"from\" value=\"page\">"
#define RESUB_FIELDS "<input type=\"hidden\" name=\"resubscribe\" value=\"1\">"

static void who(struct buf *b, const struct unsub *u)
{
	buf_adds(b, "<span class=\"address\">");
	struct buf m = BUF_INIT;
	web_mask_address(&m, u->address);
	web_html(b, m.p);
	buf_free(&m);
	buf_adds(b, "</span>");
}

/* The page for an address that is mailed: the question and the button. */
static void page_ask(struct web *w, const struct unsub *u, const char *title, const char *note)
{
	struct buf b = BUF_INIT;
	if (note) {
		buf_adds(&b, "<p>");
		web_html(&b, note);
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<p>Stop sending the newsletter of ");
	web_html(&b, w->cfg->site_name);
	buf_adds(&b, " to ");
	who(&b, u);
	buf_adds(&b, "?</p>\n");
	form(w, u, &b, UNSUB_FIELDS, "Unsubscribe");
	buf_adds(&b, "<p class=\"note\">Nothing changes until you press the button.</p>\n");
	web_page(w, 200, title, b.p);
	buf_free(&b);
}

/* The page for an address that is not mailed. */
static void page_done(struct web *w, const struct unsub *u, const struct suppression *x)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<p>");
	who(&b, u);
	buf_adds(&b, " will get no more newsletters from ");
	web_html(&b, w->cfg->site_name);
	buf_adds(&b, ".</p>\n");
	if (x->reason == SUP_UNSUBSCRIBED) {
		buf_adds(&b,
			 "<p class=\"note\">Pressed by mistake? You can subscribe again.</p>\n");
		form(w, u, &b, RESUB_FIELDS, "Re-subscribe");
	} else {
		/* a bounce, a complaint or a staff member's removal is not
		 * undone by a click: people are asked to write */
		buf_adds(&b, "<p class=\"note\">To receive it again, reply to a newsletter or "
			     "write to us.</p>\n");
	}
	web_page(w, 200, "You are unsubscribed", b.p);
	buf_free(&b);
}

/* GET /u/TOKEN: the page, never a change. */
void web_get_unsub(struct web *w)
{
	struct unsub u;
	if (!unsub_open(w, &u))
		return;
	web_header(w, "Cache-Control", "no-store");
	const struct suppression *x = suppressions_get(u.sup, u.address);
	if (x)
		page_done(w, &u, x);
	else
		page_ask(w, &u, "Unsubscribe", NULL);
	unsub_free(&u);
}

static bool record(struct web *w, struct unsub *u, enum sup_reason reason, const char *how)
{
	struct buf ev = BUF_INIT;
	struct lb_err err = {0};
	buf_printf(&ev, "%s%s", SUP_WEB_EVIDENCE, how);
	if (*w->req->remote_addr)
		buf_printf(&ev, " from %s", w->req->remote_addr);
	int rc = suppressions_add(u->sup, u->address, reason, w->req->now, ev.p, &err);
	buf_free(&ev);
	if (rc) {
		log_warn("cgi: /u/: %s", err.msg);
		web_error_rc(w, rc, 500, "Not available",
			     "Your request could not be recorded right now. Please try again in a "
			     "few minutes.");
		return false;
	}
	return true;
}

/* POST /u/TOKEN: unsubscribe (one-click or the button), or resubscribe=1. */
void web_post_unsub(struct web *w)
{
	struct unsub u;
	if (!unsub_open(w, &u))
		return;
	web_header(w, "Cache-Control", "no-store");
	const struct suppression *x = suppressions_get(u.sup, u.address);
	if (form_get(&w->form, "resubscribe")) {
		/* only from our own page: a cross-site form must not sign anyone up */
		if (!web_same_origin(w, true)) {
			web_error(w, 403, "Not allowed",
				  "Please use the button on this site's own page.");
		} else if (!x) {
			page_ask(w, &u, "You are subscribed",
				 "The newsletter comes to this address.");
		} else if (x->reason != SUP_UNSUBSCRIBED) {
			page_done(w, &u, x);
		} else {
			struct buf how = BUF_INIT;
			buf_adds(&how,
				 "re-subscribed with the button on /u/ after unsubscribed since ");
			time_iso(&how, x->when);
			if (record(w, &u, SUP_RESUBSCRIBED, how.p))
				page_ask(w, &u, "You are subscribed again",
					 "Welcome back: the next newsletter will come to you.");
			buf_free(&how);
		}
		unsub_free(&u);
		return;
	}
	/* Unsubscribe.  RFC 8058 asks for the body List-Unsubscribe=One-Click;
	 * a POST without it is taken as the same wish: to stop the mail. */
	bool ok = true;
	if (!x) {
		const char *from = form_get(&w->form, "from");
		ok = record(w, &u, SUP_UNSUBSCRIBED,
			    from && strcmp(from, "page") == 0
				? "unsubscribed with the button on /u/"
				: "one-click unsubscribe (RFC 8058 POST to /u/)");
		x = ok ? suppressions_get(u.sup, u.address) : NULL;
	}
	if (ok && x)
		page_done(w, &u, x);
	unsub_free(&u);
}
