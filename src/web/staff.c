/* The staff pages' door and the inquiry list: GET /staff/. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "store/inquiries.h"
#include "triage/triage.h"
#include "web/csrf.h"
#include "web/routes.h"
#include "web/staff_int.h"

static void forbidden(struct web *w, const char *text)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<p>");
	web_html(&b, text);
	buf_adds(&b, "</p>\n");
	web_page(w, 403, "Staff only", b.p);
	buf_free(&b);
}

const char *staff_enter(struct web *w)
{
	/* Cache-Control and Referrer-Policy: web_dispatch, for every answer
	 * under /staff/ (its 404s, 405s and 413s too) */
	const char *user = w->req->remote_user;
	if (!user) {
		forbidden(w, "These pages are only served behind a login. The web server must "
			     "ask for one (basic authentication or the single sign-on of a proxy) "
			     "before it runs letterbox for /staff/: see \"Staff pages\" in the "
			     "README and the examples in contrib/.");
		return NULL;
	}
	/* The name goes into history lines (TAB-separated): nothing odd in it,
	 * and no blank or space-padded name (" " is no one; "ann " is not ann). */
	size_t un = strlen(user);
	bool blank = span_trim(span_cstr(user)).n != un;
	bool listed = !w->cfg->web_staff;
	for (char **s = w->cfg->web_staff; s && *s && !listed; s++)
		listed = strcmp(*s, user) == 0;
	if (blank || term_unsafe(user) || strchr(user, '\t') || !listed) {
		forbidden(w, "You are signed in, but not as one of the staff named in web.staff "
			     "of letterbox.yaml.");
		return NULL;
	}
	return user;
}

/* The site secret, read once per request (a CGI process answers one). */
static const struct secret *secret_for(const struct web *w)
{
	static struct secret s;
	static int state;
	if (state == 0) {
		struct lb_err err = {0};
		state = secret_load(w->cfg->state_dir, true, &s, &err) ? -1 : 1;
		if (state < 0)
			log_warn("staff: %s", err.msg);
	}
	return state > 0 ? &s : NULL;
}

const char *staff_post_enter(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return NULL;
	const struct secret *s = secret_for(w);
	if (!s) {
		web_error(w, 500, "Not available", "The site's secret cannot be read.");
		return NULL;
	}
	if (!web_same_origin(w, true) ||
	    !csrf_check(s, user, w->req->path, form_get(&w->form, "csrf"), w->req->now)) {
		forbidden(w, "This form has expired or did not come from these pages, so nothing "
			     "was changed. Go back, reload the page and send it again.");
		return NULL;
	}
	return user;
}

void staff_time(const struct web *w, struct buf *b, time_t t)
{
	(void)w; /* config_load set the process's zone to site.timezone */
	time_local(b, t);
}

void staff_href(struct web *w, struct buf *b, const char *path)
{
	char *l = web_link(w, path);
	buf_adds(b, "href=\"");
	web_html(b, l);
	buf_addc(b, '"');
	free(l);
}

void staff_form_open(struct web *w, struct buf *b, const char *user, const char *path,
		     const char *cls)
{
	char *l = web_link(w, path);
	char tok[CSRF_MAX_LEN] = "";
	const struct secret *s = secret_for(w);
	if (s)
		csrf_make(s, user, path, w->req->now, tok);
	buf_adds(b, "<form method=\"post\" action=\"");
	web_html(b, l);
	buf_printf(b, "\" class=\"%s\"><input type=\"hidden\" name=\"csrf\" value=\"", cls);
	web_html(b, tok);
	buf_adds(b, "\">");
	free(l);
}

void staff_nav(struct web *w, struct buf *b, const char *user)
{
	buf_adds(b, "<nav class=\"staff\" aria-label=\"Staff pages\"><a ");
	staff_href(w, b, "/staff/");
	buf_adds(b, ">Inquiries</a> <a ");
	staff_href(w, b, "/staff/campaigns");
	buf_adds(b, ">Campaigns</a> <a ");
	staff_href(w, b, "/staff/subscribers");
	buf_adds(b, ">Subscribers</a> <span class=\"who\">Signed in as ");
	web_html(b, user);
	buf_adds(b, "</span></nav>\n");
}

void staff_redirect(struct web *w, const char *path)
{
	char *l = web_link(w, path);
	struct buf abs = BUF_INIT;
	web_header(w, "Location", l);
	buf_adds(&abs, "<p><a href=\"");
	web_html(&abs, l);
	buf_adds(&abs, "\">Continue</a></p>\n");
	web_page(w, 303, "Done", abs.p);
	buf_free(&abs);
	free(l);
}

bool staff_arg_number(struct web *w, unsigned *num)
{
	struct buf a = BUF_INIT;
	buf_addspan(&a, w->arg);
	struct lb_err err = {0};
	bool ok = triage_number(a.p ? a.p : "", num, &err) == 0;
	buf_free(&a);
	if (!ok)
		web_error(w, 404, "Not found", "There is no inquiry with this number.");
	return ok;
}

void staff_take_form(struct web *w, struct buf *b, const char *user, unsigned num, const char *next)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "/staff/inquiries/%u/set", num);
	staff_form_open(w, b, user, path.p, "f-take");
	buf_adds(b, "<input type=\"hidden\" name=\"assign\" value=\"");
	web_html(b, user);
	buf_printf(b,
		   "\"><input type=\"hidden\" name=\"status\" value=\"open\">"
		   "<input type=\"hidden\" name=\"next\" value=\"%s\">"
		   "<button type=\"submit\">Take it<span class=\"vh\"> (inquiry %u)</span>"
		   "</button></form>",
		   next, num);
	buf_free(&path);
}

/* ---- GET /staff/ ------------------------------------------------------------------------------
 */

static const char *const statuses[] = {"new", "open", "answered", "closed"};

#define LIST_MAX 300 /* rows on one page; the rest are counted */

static void list_filters(struct web *w, struct buf *b, const char *status, const char *assignee,
			 bool urgent)
{
	buf_adds(b, "<form method=\"get\" class=\"filters\" action=\"");
	char *l = web_link(w, "/staff/");
	web_html(b, l);
	free(l);
	buf_adds(b, "\"><div><label for=\"f-status\">Status</label><select id=\"f-status\" "
		    "name=\"status\">");
	static const char *const opts[][2] = {{"waiting", "waiting (new or open)"},
					      {"new", "new"},
					      {"open", "open"},
					      {"answered", "answered"},
					      {"closed", "closed"},
					      {"all", "all"}};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		buf_printf(b, "<option value=\"%s\"%s>%s</option>", opts[i][0],
			   strcmp(status, opts[i][0]) == 0 ? " selected" : "", opts[i][1]);
	buf_adds(b, "</select></div><div><label for=\"f-assignee\">Assigned to</label>"
		    "<input type=\"text\" id=\"f-assignee\" name=\"assignee\" value=\"");
	web_html(b, assignee ? assignee : "");
	buf_printf(b,
		   "\"></div><div class=\"check\"><input type=\"checkbox\" id=\"f-urgent\" "
		   "name=\"urgent\" value=\"1\"%s><label for=\"f-urgent\">Urgent only</label></div>"
		   "<button type=\"submit\">Show</button></form>\n",
		   urgent ? " checked" : "");
}

void web_get_staff(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return;
	const char *status = form_get(&w->form, "status");
	const char *assignee = form_get(&w->form, "assignee");
	const char *u = form_get(&w->form, "urgent");
	bool urgent = u && *u && strcmp(u, "0") != 0;
	if (!status || !*status)
		status = "waiting";
	if (assignee && !*assignee)
		assignee = NULL;
	bool known = !strcmp(status, "waiting") || !strcmp(status, "all");
	for (size_t i = 0; i < 4; i++)
		known = known || !strcmp(status, statuses[i]);
	if (!known) {
		web_error(w, 400, "Bad request",
			  "Status: waiting, new, open, answered, closed or all.");
		return;
	}
	/* The first LIST_MAX in triage order, and how many there are: one
	 * query through the triage index, and a count per status. */
	struct inquiry *v = NULL;
	size_t n = 0, k = 0, counts[4] = {0};
	struct lb_err err = {0};
	struct inq_query sel = {
	    .status = status, .assignee = assignee, .urgent_only = urgent, .limit = LIST_MAX};
	int rc = inquiries_query(w->cfg->state_dir, &sel, &v, &n, &k, &err);
	for (size_t s = 0; !rc && s < 4; s++)
		rc = inquiries_count(w->cfg->state_dir, &(struct inq_query){.status = statuses[s]},
				     &counts[s], &err);
	if (rc) {
		log_warn("staff: %s", err.msg);
		web_error(w, 500, "Not available", "The inquiries cannot be read right now.");
		inquiries_free(v, n);
		return;
	}

	struct buf b = BUF_INIT, t = BUF_INIT;
	staff_nav(w, &b, user);
	buf_adds(&b, "<ul class=\"counts\" aria-label=\"Inquiries by status\">");
	for (size_t s = 0; s < 4; s++) {
		struct buf p = BUF_INIT;
		buf_printf(&p, "/staff/?status=%s", statuses[s]);
		buf_adds(&b, "<li><a ");
		staff_href(w, &b, p.p);
		buf_printf(&b, ">%s <strong>%zu</strong></a></li>", statuses[s], counts[s]);
		buf_free(&p);
	}
	buf_adds(&b, "</ul>\n");
	list_filters(w, &b, status, assignee, urgent);
	buf_printf(&b, "<h2>%zu inquir%s</h2>\n", k, k == 1 ? "y" : "ies");
	if (!k)
		buf_adds(&b, "<p>Nothing here.</p>\n");
	else
		buf_adds(&b, "<ol class=\"inq\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct inquiry *q = &v[i];
		bool urg = inquiry_is_urgent(q);
		struct buf p = BUF_INIT;
		buf_printf(&p, "/staff/inquiries/%u", q->number);
		buf_printf(&b, "<li%s><a class=\"subject\" ", urg ? " class=\"urgent\"" : "");
		staff_href(w, &b, p.p);
		buf_adds(&b, ">");
		if (urg)
			buf_adds(&b, "<span class=\"badge\">Urgent</span> ");
		buf_printf(&b, "#%u ", q->number);
		web_html(&b, q->subject && *q->subject ? q->subject : "(no subject)");
		buf_adds(&b, "</a><span class=\"meta\">");
		web_html(&b, q->from_name && *q->from_name ? q->from_name
			     : q->from			   ? q->from
							   : "?");
		buf_adds(&b, " · <time>");
		buf_reset(&t);
		staff_time(w, &t, q->received);
		web_html(&b, t.p);
		buf_adds(&b, "</time> · ");
		web_html(&b, q->status ? q->status : "?");
		buf_adds(&b, " · ");
		if (q->assignee) {
			buf_adds(&b, "assigned to ");
			web_html(&b, q->assignee);
		} else {
			buf_adds(&b, "nobody's yet");
		}
		buf_adds(&b, "</span>");
		if (inquiry_is_waiting(q) && !(q->assignee && !strcmp(q->assignee, user) &&
					       q->status && !strcmp(q->status, "open")))
			staff_take_form(w, &b, user, q->number, "list");
		buf_adds(&b, "</li>\n");
		buf_free(&p);
	}
	if (k)
		buf_adds(&b, "</ol>\n");
	if (k > LIST_MAX)
		buf_printf(&b, "<p class=\"note\">%zu more not shown: narrow the filters.</p>\n",
			   k - LIST_MAX);
	web_page(w, 200, "Inquiries", b.p);
	buf_free(&b);
	buf_free(&t);
	inquiries_free(v, n);
}
