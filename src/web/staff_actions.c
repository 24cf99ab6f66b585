/* What staff change from the inquiry pages: POST /staff/inquiries/N/set,
 * .../note and .../reply.  Each is the CLI's own action (triage/triage.h)
 * under the signed-in user's name, behind staff_post_enter (login, CSRF,
 * origin); it answers 303 back to the page, so a reload sends nothing twice. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/inquiries.h"
#include "triage/triage.h"
#include "web/routes.h"
#include "web/staff_int.h"

/* An action's error as a page: a bad value 400, no such inquiry 404, the
 * rest 500 (the reason in the server's log). */
static void failed(struct web *w, int rc, const struct lb_err *err)
{
	if (rc == LB_EUSAGE) {
		web_error(w, 400, "Not changed", err->msg);
	} else if (rc == LB_EDATA || rc == LB_ENOINPUT) {
		web_error(w, 404, "Not found", "There is no inquiry with this number.");
	} else {
		log_warn("staff: %s", err->msg);
		web_error_rc(w, rc, 500, "Not changed",
			     "The change could not be saved; try again.");
	}
}

static void back(struct web *w, unsigned num)
{
	const char *next = form_get(&w->form, "next");
	struct buf p = BUF_INIT;
	if (next && !strcmp(next, "list"))
		buf_adds(&p, "/staff/");
	else
		buf_printf(&p, "/staff/inquiries/%u", num);
	staff_redirect(w, p.p);
	buf_free(&p);
}

/* POST /staff/inquiries/N/set: status, assign, priority (those sent). */
void web_post_staff_set(struct web *w)
{
	const char *user = staff_post_enter(w);
	unsigned num;
	if (!user || !staff_arg_number(w, &num))
		return;
	struct triage_change c = {0};
	struct lb_err err = {0};
	static const char *const keys[] = {"status", "assign", "priority"};
	int rc = 0;
	bool any = false;
	for (size_t i = 0; i < 3 && !rc; i++) {
		const char *v = form_get(&w->form, keys[i]);
		/* an empty status or priority: leave it; an empty assign: nobody */
		if (!v || (!*v && i != 1))
			continue;
		any = true;
		rc = triage_change_add(&c, span_cstr(keys[i]), v, &err);
	}
	if (!rc && !any)
		rc = err_set(&err, LB_EUSAGE, "Say what to change: status, assign or priority.");
	struct buf summary = BUF_INIT;
	if (!rc)
		rc = triage_set(w->cfg, num, &c, user, w->req->now, &summary, &err);
	if (rc)
		failed(w, rc, &err);
	else
		back(w, num);
	buf_free(&summary);
}

/* POST /staff/inquiries/N/note: text. */
void web_post_staff_note(struct web *w)
{
	const char *user = staff_post_enter(w);
	unsigned num;
	if (!user || !staff_arg_number(w, &num))
		return;
	struct lb_err err = {0};
	int rc = triage_note(w->cfg, num, form_get(&w->form, "text"), user, w->req->now, &err);
	if (rc)
		failed(w, rc, &err);
	else
		back(w, num);
}

/* The reply as it will be sent, and the form to send it (or change it). */
static void preview(struct web *w, const char *user, const struct triage_reply *r, const char *body)
{
	struct buf b = BUF_INIT, title = BUF_INIT;
	staff_inquiry_head(w, &b, user, &r->q);
	buf_adds(&b, "<h2>Preview: nothing has been sent yet</h2>\n<dl class=\"facts\"><dt>To</dt>"
		     "<dd>");
	if (r->to.display) {
		web_html(&b, r->to.display);
		buf_adds(&b, " ");
	}
	buf_adds(&b, "<span class=\"addr\">&lt;");
	web_html(&b, r->to.spec);
	buf_adds(&b, "&gt;</span></dd><dt>Subject</dt><dd>");
	web_html(&b, r->subject.p ? r->subject.p : "");
	buf_adds(&b, "</dd></dl>\n<div class=\"msg preview\">");
	web_html(&b, r->text.p ? r->text.p : "");
	buf_adds(&b, "</div>\n<p class=\"note\">The mail also has an HTML version with the same "
		     "text.</p>\n");
	staff_inquiry_forms(w, &b, user, &r->q, body);
	buf_printf(&title, "Reply to inquiry %u", r->q.number);
	web_page(w, 200, title.p, b.p);
	buf_free(&b);
	buf_free(&title);
}

/* POST /staff/inquiries/N/reply: body (Markdown); preview=1 only shows it. */
void web_post_staff_reply(struct web *w)
{
	const char *user = staff_post_enter(w);
	unsigned num;
	if (!user || !staff_arg_number(w, &num))
		return;
	const char *body = form_get(&w->form, "body");
	const char *pv = form_get(&w->form, "preview");
	struct lb_err err = {0};
	if (!body || span_trim(span_cstr(body)).n == 0) {
		web_error(w, 400, "Not sent", "The reply's text is missing.");
		return;
	}
	struct triage_reply r = {0};
	int rc = triage_reply_prepare(w->cfg, num, body, strlen(body), user, w->req->now, &r, &err);
	if (rc) {
		failed(w, rc, &err);
	} else if (pv && *pv && strcmp(pv, "0") != 0) {
		preview(w, user, &r, body);
	} else {
		unsigned k = 0;
		rc = triage_reply_send(w->cfg, &r, user, w->req->now, &k, &err);
		if (rc) {
			/* said on the page with the text kept, so nothing is lost */
			log_warn("staff: %s", err.msg);
			struct buf b = BUF_INIT;
			buf_adds(&b, "<p role=\"alert\"><strong>");
			web_html(&b, err.msg);
			buf_adds(&b, "</strong></p>\n");
			staff_inquiry_forms(w, &b, user, &r.q, body);
			web_page(w, 503, "Reply not sent", b.p);
			buf_free(&b);
		} else {
			back(w, num);
		}
	}
	triage_reply_free(&r);
}
