/* The staff's other pages: GET /staff/campaigns (each campaign's counts, as
 * `letterbox status` reads them) and GET /staff/subscribers?q= (who is on
 * which list, and whether they are suppressed). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/fsx.h"
#include "store/listedit.h"
#include "core/log.h"
#include "deliver/campaign.h"
#include "store/subscribers.h"
#include "store/suppressions.h"
#include "triage/members.h"
#include "web/routes.h"
#include "web/staff_int.h"

#define ATTENTION_MAX 100

/* Reports since the campaign started about the people it went to. */
static void later_reports(struct campaign_summary *c, const struct suppressions *sup,
			  size_t *bounces, size_t *complaints, size_t *unsubscribes)
{
	*bounces = *complaints = *unsubscribes = 0;
	size_t n = 0;
	const struct suppression *const *v = sup ? suppressions_list(sup, &n) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct suppression *x = v[i];
		if (x->when < c->started || !campaign_sent_to(c, x->key))
			continue;
		*bounces += x->reason == SUP_HARD_BOUNCE;
		*complaints += x->reason == SUP_COMPLAINT;
		*unsubscribes += x->reason == SUP_UNSUBSCRIBED;
	}
}

static void campaign_block(struct web *w, struct buf *b, struct campaign_summary *c,
			   const struct suppressions *sup)
{
	struct campaign_counts k = c->k;
	size_t bo, co, un;
	later_reports(c, sup, &bo, &co, &un);
	struct buf t = BUF_INIT;
	buf_adds(b, "<section class=\"campaign\"><h2>");
	web_html(b, c->slug);
	buf_adds(b, "</h2><p class=\"meta\">Started <time>");
	staff_time(w, &t, c->started);
	web_html(b, t.p);
	buf_printf(b, "</time>, %s</p>\n", c->finished ? "finished" : "not finished");
	buf_printf(b,
		   "<dl class=\"facts\"><dt>Sent</dt><dd>%zu</dd><dt>Deferred</dt><dd>%zu</dd>"
		   "<dt>Failed</dt><dd>%zu</dd><dt>Uncertain</dt><dd>%zu</dd><dt>Pending</dt>"
		   "<dd>%zu</dd><dt>Skipped</dt><dd>%zu</dd><dt>Bounced since</dt><dd>%zu</dd>"
		   "<dt>Complaints since</dt><dd>%zu</dd><dt>Unsubscribed since</dt><dd>%zu</dd>"
		   "</dl>\n",
		   k.sent, k.deferred, k.failed, k.uncertain, k.pending, k.skipped, bo, co, un);
	size_t shown = 0;
	for (size_t i = 0; i < c->nattn; i++) {
		const struct cattn *r = &c->attn[i];
		if (r->state == RS_SKIPPED)
			continue;
		if (!shown)
			buf_adds(b, "<h3>Needs attention</h3><ul class=\"history\">\n");
		if (shown++ == ATTENTION_MAX)
			break;
		buf_adds(b, "<li><span class=\"by\">");
		web_html(b, r->email);
		buf_printf(b, "</span> %s", rcpt_state_name(r->state));
		if (r->code)
			buf_printf(b, " (%d)", r->code);
		if (r->why && *r->why) {
			buf_adds(b, ": ");
			web_html(b, r->why);
		}
		buf_adds(b, "</li>\n");
	}
	if (shown)
		buf_adds(b, "</ul>\n");
	buf_adds(b, "</section>\n");
	buf_free(&t);
}

/* GET /staff/campaigns */
void web_get_staff_campaigns(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return;
	struct lb_err err = {0};
	char *dir = path_join(w->cfg->state_dir, "campaigns");
	char **paths = fsx_list_err(dir, "", &err);
	free(dir);
	struct suppressions *sup = NULL;
	if (!paths || suppressions_load(w->cfg->state_dir, &sup, &err)) {
		log_warn("staff: %s", err.msg);
		web_error(w, 500, "Not available", "The campaigns cannot be read right now.");
		fsx_list_free(paths);
		return;
	}
	struct buf b = BUF_INIT;
	staff_nav(w, &b, user);
	if (!paths[0])
		buf_adds(&b, "<p>No campaigns yet.</p>\n");
	/* newest first: the names start with the article's date */
	size_t n = 0;
	while (paths[n])
		n++;
	for (size_t i = n; i-- > 0;) {
		struct campaign_summary c;
		if (campaign_summary(w->cfg, strrchr(paths[i], '/') + 1, &c, &err)) {
			log_warn("staff: %s", err.msg);
			buf_adds(&b, "<p>A campaign cannot be read right now: ");
			web_html(&b, strrchr(paths[i], '/') + 1);
			buf_adds(&b, "</p>\n");
		} else {
			campaign_block(w, &b, &c, sup);
		}
		campaign_summary_free(&c);
	}
	web_page(w, 200, "Campaigns", b.p);
	buf_free(&b);
	fsx_list_free(paths);
	suppressions_free(sup);
}

/* A "remove" button for one address. */
static void remove_form(struct web *w, struct buf *b, const char *user, const char *email)
{
	staff_form_open(w, b, user, "/staff/subscribers", "f-take");
	buf_adds(b, "<input type=\"hidden\" name=\"action\" value=\"remove\"><input "
		    "type=\"hidden\" name=\"email\" value=\"");
	web_html(b, email);
	buf_adds(b, "\"><button type=\"submit\" class=\"second\">Stop mailing<span class=\"vh\"> ");
	web_html(b, email);
	buf_adds(b, "</span></button></form>");
}

static void add_form(struct web *w, struct buf *b, const char *user, const struct sublists *ls)
{
	buf_adds(b, "<h2>Add someone</h2>\n");
	staff_form_open(w, b, user, "/staff/subscribers", "f-add");
	buf_adds(b, "<input type=\"hidden\" name=\"action\" value=\"add\"><label "
		    "for=\"a-email\">Address</label><input type=\"email\" id=\"a-email\" "
		    "name=\"email\" required><label for=\"a-name\">Name (optional)</label><input "
		    "type=\"text\" id=\"a-name\" name=\"name\">");
	if (ls->n > 1) {
		buf_adds(b,
			 "<label for=\"a-list\">List</label><select id=\"a-list\" name=\"list\">");
		for (size_t i = 0; i < ls->n; i++) {
			buf_adds(b, "<option>");
			web_html(b, ls->v[i].id);
			buf_adds(b, "</option>");
		}
		buf_adds(b, "</select>");
	}
	buf_adds(b, "<button type=\"submit\">Add</button></form>\n");
}

/* GET /staff/subscribers?q=TEXT: every entry whose address or name holds
 * TEXT (any case), with its list and whether it is suppressed. */
void web_get_staff_subscribers(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return;
	const char *q = form_get(&w->form, "q");
	struct sublists ls = {0};
	struct suppressions *sup = NULL;
	struct lb_err err = {0};
	if (sublists_load(w->cfg->site_dir, &ls, NULL, NULL, &err) ||
	    suppressions_load(w->cfg->state_dir, &sup, &err)) {
		log_warn("staff: %s", err.msg);
		web_error(w, 500, "Not available", "The lists cannot be read right now.");
		sublists_free(&ls);
		suppressions_free(sup);
		return;
	}
	struct buf b = BUF_INIT;
	staff_nav(w, &b, user);
	size_t total = 0;
	for (size_t i = 0; i < ls.n; i++)
		total += ls.v[i].n;
	buf_adds(&b, "<form method=\"get\" class=\"filters\" action=\"");
	char *l = web_link(w, "/staff/subscribers");
	web_html(&b, l);
	free(l);
	buf_adds(&b, "\"><div><label for=\"q\">Address or name</label><input type=\"text\" "
		     "id=\"q\" name=\"q\" value=\"");
	web_html(&b, q ? q : "");
	buf_printf(&b,
		   "\"></div><button type=\"submit\">Search</button></form>\n"
		   "<p class=\"note\">%zu entr%s on %zu list%s.</p>\n",
		   total, total == 1 ? "y" : "ies", ls.n, ls.n == 1 ? "" : "s");
	size_t found = 0;
	for (size_t i = 0; q && *q && i < ls.n; i++)
		for (size_t j = 0; j < ls.v[i].n; j++) {
			const struct subscriber *s = &ls.v[i].v[j];
			if (!strcasestr(s->email, q) && !(s->name && strcasestr(s->name, q)))
				continue;
			if (!found++)
				buf_adds(&b, "<ul class=\"history\">\n");
			if (found > 200)
				break;
			const struct suppression *x = suppressions_get(sup, s->email);
			buf_adds(&b, "<li><span class=\"by\">");
			web_html(&b, s->email);
			buf_adds(&b, "</span> ");
			if (s->name) {
				web_html(&b, s->name);
				buf_adds(&b, " ");
			}
			buf_adds(&b, "· ");
			web_html(&b, ls.v[i].id);
			buf_adds(&b, " · ");
			if (x && x->reason != SUP_NONE && x->reason != SUP_RESUBSCRIBED) {
				struct buf t = BUF_INIT;
				staff_time(w, &t, x->when);
				buf_printf(&b, "<strong>%s</strong> since ",
					   sup_reason_name(x->reason));
				web_html(&b, t.p);
				buf_free(&t);
			} else {
				buf_adds(&b, "receives the newsletter");
				remove_form(w, &b, user, s->email);
			}
			buf_adds(&b, "</li>\n");
		}
	if (found)
		buf_adds(&b, "</ul>\n");
	else if (q && *q)
		buf_adds(&b, "<p>Nobody found.</p>\n");
	add_form(w, &b, user, &ls);
	web_page(w, 200, "Subscribers", b.p);
	buf_free(&b);
	sublists_free(&ls);
	suppressions_free(sup);
}

/* POST /staff/subscribers: action=add (email, name, list) or remove
 * (email), as `letterbox subscribers add/remove`; then back to a search for
 * the address, which shows what it is now. */
void web_post_staff_subscribers(struct web *w)
{
	const char *user = staff_post_enter(w);
	if (!user)
		return;
	const char *action = form_get(&w->form, "action");
	const char *email = form_get(&w->form, "email");
	const char *name = form_get(&w->form, "name");
	const char *list = form_get(&w->form, "list");
	bool add = action && !strcmp(action, "add");
	if (!add && !(action && !strcmp(action, "remove"))) {
		web_error(w, 400, "Not changed", "Say what to do: add or remove.");
		return;
	}
	struct addr a = {0};
	struct lb_err err = {0};
	struct buf said = BUF_INIT, how = BUF_INIT;
	const char *why = NULL;
	int rc = addr_parse_spec(span_cstr(email ? email : ""), &a, &err);
	if (rc) {
		web_error(w, 400, "Not changed", "That is not an address we can mail.");
		goto out;
	}
	if (name && !*name)
		name = NULL;
	if (add && name && !listedit_name_ok(name, &why)) {
		web_error(w, 400, "Not changed", why);
		goto out;
	}
	buf_printf(&how, "the staff pages (%s) by %s", add ? "add" : "remove", user);
	rc = add ? members_add(w->cfg, list && *list ? list : NULL, &a, name, how.p, w->req->now,
			       &said, &err)
		 : members_remove(w->cfg, &a, how.p, w->req->now, &said, &err);
	if (rc == LB_EUSAGE || rc == LB_EDATA) {
		web_error(w, 400, "Not changed", err.msg);
	} else if (rc) {
		log_warn("staff: %s", err.msg);
		web_error_rc(w, rc, 500, "Not changed",
			     "The change could not be saved; try again.");
	} else {
		struct buf p = BUF_INIT;
		buf_adds(&p, "/staff/subscribers?q=");
		for (const char *c = a.spec; *c; c++) /* an addr-spec: escape what a query needs */
			if (strchr("%&+#= ?", *c))
				buf_printf(&p, "%%%02X", (unsigned char)*c);
			else
				buf_addc(&p, *c);
		staff_redirect(w, p.p);
		buf_free(&p);
	}
out:
	buf_free(&said);
	buf_free(&how);
	addr_free(&a);
}
