/* One inquiry for staff: GET /staff/inquiries/N (the conversation, its
 * attachments, history and forms) and GET .../attachments/K.  Everything
 * from mail is escaped; an HTML body is shown as the text the parser made
 * of it, never as HTML. */
#include <stdlib.h>
#include <string.h>

#include "triage/conv.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "receive/parse.h"
#include "store/conversation.h"
#include "store/inquiries.h"
#include "web/routes.h"
#include "web/staff_int.h"

/* Load inquiry num into q; false after a 404/500 page. */
static bool load(struct web *w, unsigned num, struct inquiry *q)
{
	struct lb_err err = {0};
	int rc = inquiry_load(w->cfg->state_dir, num, q, &err);
	if (rc == 0)
		return true;
	inquiry_free(q);
	if (rc == LB_EDATA || rc == LB_ENOINPUT) {
		web_error(w, 404, "Not found", "There is no inquiry with this number.");
	} else {
		log_warn("staff: %s", err.msg);
		web_error(w, 500, "Not available", "The inquiry cannot be read right now.");
	}
	return false;
}

static void text_block(struct buf *b, const char *text)
{
	buf_adds(b, "<div class=\"msg\">");
	web_html(b, text && *text ? text : "(no text)");
	buf_adds(b, "</div>\n");
}

/* One message of the conversation: heading, text, attachments. */
static void message(struct web *w, struct buf *b, const struct inquiry *q, const struct buf *raw,
		    size_t idx, bool nmsgs, const struct conv_item *it, bool full)
{
	struct inmsg m;
	const char *markers[] = {w->cfg->site_name, "You receive this because you subscribed",
				 NULL};
	struct parse_opts po = {markers};
	inmsg_parse(raw->p, raw->n, &po, &m);
	struct buf t = BUF_INIT;
	staff_time(w, &t, it->when);
	buf_printf(b, "<article class=\"message%s\"><h3>", it->copy ? " ours" : "");
	if (nmsgs)
		buf_printf(b, "%zu. ", idx);
	if (it->copy) {
		buf_adds(b, "Reply sent");
	} else {
		buf_adds(b, "From ");
		web_html(b, m.from_name && *m.from_name ? m.from_name : m.from ? m.from : "?");
		if (m.from_name && m.from) {
			buf_adds(b, " <span class=\"addr\">&lt;");
			web_html(b, m.from);
			buf_adds(b, "&gt;</span>");
		}
	}
	buf_adds(b, " <time>");
	web_html(b, t.p);
	buf_adds(b, "</time></h3>\n");
	if (m.text_from_html)
		buf_adds(b, "<p class=\"note\">Sent as HTML: shown as plain text.</p>\n");
	text_block(b, full || !m.own_text ? m.text : m.own_text);
	if (!full && m.trimmed) {
		struct buf p = BUF_INIT;
		buf_printf(&p, "/staff/inquiries/%u?full=1", q->number);
		buf_adds(b, "<p class=\"note\">Quoted text trimmed. <a ");
		staff_href(w, b, p.p);
		buf_adds(b, ">Show all</a></p>\n");
		buf_free(&p);
	}
	if (m.natt)
		buf_adds(b, "<ul class=\"att\" aria-label=\"Attachments\">\n");
	for (size_t i = 0; i < m.natt; i++) {
		struct buf p = BUF_INIT;
		buf_printf(&p, "/staff/inquiries/%u/attachments/", q->number);
		if (idx > 1)
			buf_printf(&p, "%zu.", idx);
		buf_printf(&p, "%zu", i + 1);
		buf_adds(b, "<li><a ");
		staff_href(w, b, p.p);
		buf_adds(b, " download>");
		web_html(b, m.att[i].filename ? m.att[i].filename : "unnamed");
		buf_adds(b, "</a> <span class=\"note\">(");
		web_html(b, m.att[i].content_type ? m.att[i].content_type : "?");
		buf_printf(b, ", %zu bytes)</span></li>\n", m.att[i].size);
		buf_free(&p);
	}
	if (m.natt)
		buf_adds(b, "</ul>\n");
	buf_adds(b, "</article>\n");
	buf_free(&t);
	inmsg_free(&m);
}

static void conversation(struct web *w, struct buf *b, const struct inquiry *q, bool full)
{
	const char *state = w->cfg->state_dir;
	struct buf first = BUF_INIT, raw = BUF_INIT;
	struct lb_err err = {0};
	if (inquiry_message(state, q, &first, &err)) {
		log_warn("staff: %s", err.msg);
		buf_adds(b, "<p><strong>The message cannot be read right now.</strong></p>\n");
		buf_free(&first);
		return;
	}
	size_t n = 0, k = 0;
	struct conv_msg *v;
	struct conv_item *items = conv_items(state, q, &k, &v, &n);
	if (k > 1)
		buf_printf(b, "<h2>Conversation (%zu messages)</h2>\n", k);
	else
		buf_adds(b, "<h2>Conversation</h2>\n");
	for (size_t i = 0; i < k; i++) {
		buf_reset(&raw);
		if (conv_item_raw(state, q, &items[i], &first, &raw, &err)) {
			log_warn("staff: %s", err.msg);
			buf_printf(b, "<p>Message %zu cannot be read right now.</p>\n", i + 1);
			continue;
		}
		message(w, b, q, &raw, i + 1, k > 1, &items[i], full);
	}
	free(items);
	conv_msgs_free(v, n);
	buf_free(&raw);
	buf_free(&first);
}

static void history(struct web *w, struct buf *b, unsigned num)
{
	char *h = inquiry_history(w->cfg->state_dir, num);
	buf_adds(b, "<h2>History</h2>\n");
	if (!*h)
		buf_adds(b, "<p>Nothing yet.</p>\n");
	else
		buf_adds(b, "<ul class=\"history\">\n");
	for (char *p = h; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *f[4];
		inquiry_history_fields(p, f);
		time_t t;
		struct buf when = BUF_INIT;
		if (time_parse(span_cstr(f[0]), &t))
			staff_time(w, &when, t);
		else
			buf_adds(&when, f[0]);
		buf_adds(b, "<li><time>");
		web_html(b, when.p);
		buf_adds(b, "</time> <span class=\"by\">");
		web_html(b, f[1]);
		buf_adds(b, "</span> ");
		web_html(b, f[2]);
		if (*f[3]) {
			buf_adds(b, ": ");
			web_html(b, f[3]);
		}
		buf_adds(b, "</li>\n");
		buf_free(&when);
		if (!nl)
			break;
		p = nl + 1;
	}
	if (*h)
		buf_adds(b, "</ul>\n");
	free(h);
}

static void option(struct buf *b, const char *value, const char *current)
{
	buf_printf(b, "<option value=\"%s\"%s>%s</option>", value,
		   current && !strcmp(current, value) ? " selected" : "", value);
}

/* The forms: set, note, reply (body: what to put in its text area). */
void staff_inquiry_forms(struct web *w, struct buf *b, const char *user, const struct inquiry *q,
			 const char *body)
{
	struct buf p = BUF_INIT;
	buf_printf(&p, "/staff/inquiries/%u/set", q->number);
	buf_adds(b, "<h2 id=\"change\">Status</h2>\n");
	staff_form_open(w, b, user, p.p, "f-set");
	buf_adds(b, "<div><label for=\"s-status\">Status</label><select id=\"s-status\" "
		    "name=\"status\">");
	option(b, "new", q->status);
	option(b, "open", q->status);
	option(b, "answered", q->status);
	option(b, "closed", q->status);
	buf_adds(b, "</select></div><div><label for=\"s-assign\">Assigned to</label>"
		    "<input type=\"text\" id=\"s-assign\" name=\"assign\" value=\"");
	web_html(b, q->assignee ? q->assignee : "");
	buf_adds(b, "\"></div><div><label for=\"s-priority\">Priority</label><select "
		    "id=\"s-priority\" name=\"priority\">");
	option(b, "normal", q->priority);
	option(b, "urgent", q->priority);
	buf_adds(b, "</select></div><button type=\"submit\">Save</button></form>\n");

	buf_reset(&p);
	buf_printf(&p, "/staff/inquiries/%u/note", q->number);
	buf_adds(b, "<h2 id=\"note\">Note</h2>\n");
	staff_form_open(w, b, user, p.p, "f-note");
	buf_adds(b, "<label for=\"n-text\">A note for colleagues (not sent)</label>"
		    "<textarea id=\"n-text\" name=\"text\" rows=\"3\" required></textarea>"
		    "<button type=\"submit\">Add note</button></form>\n");

	buf_reset(&p);
	buf_printf(&p, "/staff/inquiries/%u/reply", q->number);
	buf_adds(b, "<h2 id=\"reply\">Reply</h2>\n");
	staff_form_open(w, b, user, p.p, "f-reply");
	buf_adds(b, "<label for=\"r-body\">Your answer (Markdown; sent from the practice's "
		    "address, in the same thread)</label><textarea id=\"r-body\" name=\"body\" "
		    "rows=\"10\" required>");
	web_html(b, body ? body : "");
	buf_adds(b, "</textarea><div class=\"buttons\"><button type=\"submit\" name=\"preview\" "
		    "value=\"1\" class=\"second\">Preview</button> <button type=\"submit\">Send "
		    "reply</button></div></form>\n");
	buf_free(&p);
}

void staff_inquiry_head(struct web *w, struct buf *b, const char *user, const struct inquiry *q)
{
	struct buf t = BUF_INIT;
	staff_nav(w, b, user);
	if (inquiry_is_urgent(q))
		buf_adds(b, "<p><span class=\"badge\">Urgent</span></p>\n");
	buf_adds(b, "<dl class=\"facts\"><dt>From</dt><dd>");
	if (q->from_name && *q->from_name) {
		web_html(b, q->from_name);
		buf_adds(b, " ");
	}
	buf_adds(b, "<span class=\"addr\">&lt;");
	web_html(b, q->from ? q->from : "?");
	buf_adds(b, "&gt;</span></dd><dt>Received</dt><dd><time>");
	staff_time(w, &t, q->received);
	web_html(b, t.p);
	buf_adds(b, "</time></dd><dt>Subject</dt><dd>");
	web_html(b, q->subject && *q->subject ? q->subject : "(none)");
	buf_adds(b, "</dd><dt>Status</dt><dd>");
	web_html(b, q->status ? q->status : "?");
	if (q->assignee) {
		buf_adds(b, ", assigned to ");
		web_html(b, q->assignee);
	}
	buf_adds(b, "</dd>");
	if (q->article) {
		buf_adds(b, "<dt>About</dt><dd>");
		web_html(b, q->article);
		buf_adds(b, "</dd>");
	}
	buf_printf(b, "<dt>Subscriber</dt><dd>%s</dd></dl>\n", q->subscriber ? "yes" : "no");
	if (q->unparsed)
		buf_adds(b, "<p class=\"note\">The message's structure could not be read; the text "
			    "is a best guess.</p>\n");
	if (q->truncated)
		buf_adds(b, "<p class=\"note\">Larger than incoming.max_size: only its headers "
			    "were kept.</p>\n");
	if (inquiry_is_waiting(q) &&
	    !(q->assignee && !strcmp(q->assignee, user) && q->status && !strcmp(q->status, "open")))
		staff_take_form(w, b, user, q->number, "inquiry");
	buf_free(&t);
}

/* GET /staff/inquiries/N[?full=1] */
void web_get_staff_inquiry(struct web *w)
{
	const char *user = staff_enter(w);
	unsigned num;
	if (!user || !staff_arg_number(w, &num))
		return;
	struct inquiry q = {0};
	if (!load(w, num, &q))
		return;
	const char *f = form_get(&w->form, "full");
	struct buf b = BUF_INIT, title = BUF_INIT;
	staff_inquiry_head(w, &b, user, &q);
	conversation(w, &b, &q, f && !strcmp(f, "1"));
	staff_inquiry_forms(w, &b, user, &q, NULL);
	history(w, &b, num);
	buf_printf(&title, "Inquiry %u", num);
	web_page(w, 200, title.p, b.p);
	buf_free(&b);
	buf_free(&title);
	inquiry_free(&q);
}

/* GET /staff/inquiries/N/attachments/K (or M.K): the decoded bytes as a
 * download under a name we make, never shown by the browser. */
void web_get_staff_attachment(struct web *w)
{
	const char *user = staff_enter(w);
	unsigned num;
	if (!user || !staff_arg_number(w, &num))
		return;
	struct inquiry q = {0};
	if (!load(w, num, &q))
		return;
	struct buf which = BUF_INIT, name = BUF_INIT, disp = BUF_INIT;
	buf_addspan(&which, w->arg2);
	struct inmsg m;
	struct lb_err err = {0};
	int rc =
	    inquiry_attachment_get(w->cfg->state_dir, &q, which.p ? which.p : "", &m, &name, &err);
	if (rc == LB_EUSAGE || rc == LB_ENOINPUT) {
		web_error(w, 404, "Not found", "There is no such attachment.");
	} else if (rc) {
		log_warn("staff: %s", err.msg);
		web_error(w, 500, "Not available", "The attachment cannot be read right now.");
	} else {
		w->resp->content_type = "application/octet-stream";
		/* name: inquiry-N-attachment-K.EXT, [a-z0-9.-] only */
		buf_printf(&disp, "attachment; filename=\"%s\"", name.p);
		web_header(w, "Content-Disposition", disp.p);
		buf_reset(&w->resp->body);
		buf_add(&w->resp->body, m.att_bytes, m.att_bytes_len);
	}
	inmsg_free(&m);
	buf_free(&which);
	buf_free(&name);
	buf_free(&disp);
	inquiry_free(&q);
}
