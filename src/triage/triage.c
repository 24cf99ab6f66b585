/* The staff's actions on an inquiry (triage/triage.h): set, note, reply. */
#include "triage/triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/onemail.h"
#include "compose/render.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "deliver/notify.h"
#include "receive/source.h"
#include "store/conversation.h"

int triage_number(const char *arg, unsigned *out, struct lb_err *err)
{
	char *end;
	unsigned long v = arg ? strtoul(arg, &end, 10) : 0;
	if (!arg || *end || !v || v > 999999999UL || arg[0] < '1' || arg[0] > '9')
		return err_set(err, LB_EUSAGE, "'%.40s' is not an inquiry number (1, 2, 3, ...)",
			       arg ? arg : "");
	*out = (unsigned)v;
	return 0;
}

static bool valid_status(const char *s)
{
	return !strcmp(s, "new") || !strcmp(s, "open") || !strcmp(s, "answered") ||
	       !strcmp(s, "closed");
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void set_field(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

/* ---- set and note ---------------------------------------------------------------------------- */

int triage_change_add(struct triage_change *c, struct span k, const char *v, struct lb_err *err)
{
	if (span_eq(k, "status")) {
		if (!valid_status(v))
			return err_set(err, LB_EUSAGE,
				       "set: status '%.40s': use new, open, answered or closed", v);
		c->status = v;
	} else if (span_eq(k, "priority")) {
		if (strcmp(v, "urgent") != 0 && strcmp(v, "normal") != 0)
			return err_set(err, LB_EUSAGE,
				       "set: priority '%.40s': use urgent or normal", v);
		c->priority = v;
	} else if (span_eq(k, "assign") || span_eq(k, "assignee")) {
		if (term_unsafe(v))
			return err_set(err, LB_EUSAGE,
				       "set: assign: a name without control characters, in UTF-8, "
				       "please");
		c->assign = true;
		bool nobody = !*v || !strcmp(v, "nobody") || !strcmp(v, "-");
		c->assignee = nobody ? NULL : v;
	} else {
		return err_set(err, LB_EUSAGE, "set: unknown key '%.*s' (status, assign, priority)",
			       (int)(k.n > 40 ? 40 : k.n), k.p);
	}
	return 0;
}

int triage_set(const struct config *cfg, unsigned num, const struct triage_change *c,
	       const char *who, time_t now, struct buf *summary, struct lb_err *err)
{
	struct inquiry q = {0};
	int fd = -1;
	int rc = inquiries_lock(cfg->state_dir, &fd, err);
	if (!rc)
		rc = inquiry_load(cfg->state_dir, num, &q, err);
	/* What changes, as history lines, before anything is written. */
	struct {
		const char *what;
		struct buf detail;
	} lines[3] = {{"status", BUF_INIT}, {"assign", BUF_INIT}, {"priority", BUF_INIT}};
	if (!rc && c->status && !same(q.status, c->status)) {
		buf_printf(&lines[0].detail, "%s -> %s", q.status ? q.status : "?", c->status);
		set_field(&q.status, c->status);
	}
	if (!rc && c->assign && !same(q.assignee, c->assignee)) {
		buf_adds(&lines[1].detail, c->assignee ? c->assignee : "(nobody)");
		set_field(&q.assignee, c->assignee);
	}
	if (!rc && c->priority && !same(q.priority, c->priority)) {
		buf_printf(&lines[2].detail, "%s -> %s", q.priority ? q.priority : "?",
			   c->priority);
		set_field(&q.priority, c->priority);
	}
	bool any = lines[0].detail.n || lines[1].detail.n || lines[2].detail.n;
	if (!rc && any)
		rc = inquiry_save(cfg->state_dir, &q, err);
	for (int i = 0; i < 3 && !rc; i++)
		if (lines[i].detail.n) {
			rc = inquiry_history_add(cfg->state_dir, num, now, who, lines[i].what,
						 lines[i].detail.p, err);
			buf_printf(summary, "%s%s %s;", summary->n ? " " : "", lines[i].what,
				   lines[i].detail.p);
		}
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 3; i++)
		buf_free(&lines[i].detail);
	inquiry_free(&q);
	return rc;
}

int triage_note(const struct config *cfg, unsigned num, const char *text, const char *who,
		time_t now, struct lb_err *err)
{
	if (!text || span_trim(span_cstr(text)).n == 0)
		return err_set(err, LB_EUSAGE, "note: the note's text is missing");
	struct inquiry q = {0};
	int fd = -1;
	int rc = inquiries_lock(cfg->state_dir, &fd, err);
	if (!rc)
		rc = inquiry_load(cfg->state_dir, num, &q, err);
	if (!rc)
		rc = inquiry_history_add(cfg->state_dir, num, now, who, "note", text, err);
	if (fd >= 0)
		close(fd);
	inquiry_free(&q);
	return rc;
}

/* ---- reply ------------------------------------------------------------------------------------
 */

void triage_reply_free(struct triage_reply *r)
{
	inquiry_free(&r->q);
	if (r->parsed)
		inmsg_free(&r->m);
	struct buf *bufs[] = {&r->md,	&r->content_html, &r->content_text, &r->html,
			      &r->text, &r->raw,	  &r->subject};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		buf_free(bufs[i]);
	addr_free(&r->to);
	addr_free(&r->reply_to);
	free(r->message_id);
	free(r->mail_from);
	free(r->refs);
}

static void quote(struct buf *out, const char *text)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		buf_adds(out, n && p[0] != '>' ? "> " : ">");
		buf_add(out, p, n);
		buf_addc(out, '\n');
		p += n + (nl != NULL);
	}
}

/* The template's values and the rendered parts. */
static int reply_render(const struct config *cfg, struct triage_reply *r, const char *who,
			time_t now, struct lb_err *err)
{
	int rc = render_markdown(cfg, r->md.p ? r->md.p : "", r->md.n, MD_LINE_BREAKS, "reply.html",
				 &r->content_html, &r->content_text, err);
	if (rc)
		return rc;
	const char *own =
	    r->parsed ? (r->m.own_text && *r->m.own_text ? r->m.own_text : r->m.text) : NULL;
	struct buf fn = BUF_INIT, num = BUF_INIT, date = BUF_INIT, quoted = BUF_INIT;
	struct span name = span_trim(span_cstr(r->q.from_name ? r->q.from_name : ""));
	const char *sp = memchr(name.p, ' ', name.n);
	buf_add(&fn, name.p, sp ? (size_t)(sp - name.p) : name.n);
	buf_printf(&num, "%u", r->q.number);
	time_human_date(&date, r->parsed && r->m.date_time ? r->m.date_time : r->q.received);
	quote(&quoted, own);
	const struct om_var vars[] = {
	    {"content", r->content_text.p, r->content_html.p},
	    {"person.name", r->q.from_name, NULL},
	    {"person.first_name", fn.p, NULL},
	    {"person.email", r->q.from, NULL},
	    {"inquiry.number", num.p, NULL},
	    {"inquiry.subject", r->q.subject, NULL},
	    {"original.date", date.p, NULL},
	    {"original.text", own, NULL},
	    {"original.quoted", quoted.p, NULL},
	    {"staff.name", who, NULL},
	};
	rc = onemail_template(cfg, "reply", vars, sizeof vars / sizeof vars[0], now, &r->text,
			      &r->html, err);
	buf_free(&fn);
	buf_free(&num);
	buf_free(&date);
	buf_free(&quoted);
	return rc;
}

int triage_reply_prepare(const struct config *cfg, unsigned num, const char *md, size_t mdn,
			 const char *who, time_t now, struct triage_reply *r, struct lb_err *err)
{
	int rc = inquiry_load(cfg->state_dir, num, &r->q, err);
	if (rc)
		return rc;
	if (!r->q.from || addr_parse_spec(span_cstr(r->q.from), &r->to, err))
		return err_set(err, LB_EDATA,
			       "inquiry %u: the sender's address '%s' cannot be "
			       "answered",
			       num, r->q.from ? r->q.from : "");
	if (r->q.from_name)
		r->to.display = xstrdup(r->q.from_name);
	buf_add(&r->md, md, mdn);
	struct buf raw = BUF_INIT;
	if (inquiry_message(cfg->state_dir, &r->q, &raw, err) == 0) {
		const char *markers[] = {cfg->site_name, "You receive this because you subscribed",
					 NULL};
		struct parse_opts po = {markers};
		inmsg_parse(raw.p, raw.n, &po, &r->m);
		r->parsed = true;
	}
	buf_free(&raw);
	if ((rc = reply_render(cfg, r, who, now, err)))
		return rc;

	struct secret secret;
	if ((rc = secret_load(cfg->state_dir, true, &secret, err)))
		return rc;
	char tok[TOKEN_LEN + 1];
	token_make(&secret, cfg->list_id, r->to.spec, tok);
	if (cfg->reply_to) {
		char *rt = config_expand(cfg->reply_to, tok, NULL);
		struct lb_err e;
		r->have_reply_to = addr_parse(span_cstr(rt), &r->reply_to, &e) == 0;
		free(rt);
	}
	/* VERP like the newsletter: a bounce of this reply leads back to the person. */
	if (cfg->bounce_to) {
		char *b = config_expand(cfg->bounce_to, tok, NULL);
		struct addr a;
		struct lb_err e;
		if (addr_parse(span_cstr(b), &a, &e) == 0) {
			r->mail_from = xstrdup(a.spec);
			addr_free(&a);
		}
		free(b);
	}
	if (!r->mail_from)
		r->mail_from = xstrdup(cfg->from.spec);
	onemail_subject(&r->subject, "Re: ", r->q.subject, "your message");
	size_t nref = r->parsed ? r->m.references.n : 0;
	r->refs = xcalloc(nref + 2, sizeof *r->refs);
	for (size_t i = 0; i < nref; i++)
		r->refs[i] = r->m.references.v[i];
	if (r->q.message_id)
		r->refs[nref] = r->q.message_id;
	struct onemail om = {.kind = OM_REPLY,
			     .from = &cfg->from,
			     .reply_to = r->have_reply_to ? &r->reply_to : NULL,
			     .to = &r->to,
			     .nto = 1,
			     .subject = r->subject.p,
			     .in_reply_to = r->q.message_id,
			     .references = r->refs,
			     .text = r->text.p,
			     .html = r->html.p,
			     .date = now};
	return onemail_compose(&om, &r->raw, &r->message_id, err);
}

/* Status answered and the copy kept, in one new version of the record. */
static int reply_record(const struct config *cfg, unsigned num, const struct triage_reply *r,
			const char *who, time_t now, unsigned *k, struct lb_err *err)
{
	int fd = -1;
	struct inquiry q = {0};
	struct buf d = BUF_INIT;
	char *old = NULL;
	int rc = inquiries_lock(cfg->state_dir, &fd, err);
	if (!rc)
		rc = inquiry_load(cfg->state_dir, num, &q, err);
	if (!rc) {
		old = xstrdup(q.status ? q.status : "?");
		set_field(&q.status, "answered");
		rc = inquiry_add_copy(cfg->state_dir, &q, r->raw.p, r->raw.n, k, err);
	}
	/* An answer to the reply joins this inquiry (receive/followup.h). */
	if (!rc)
		rc = inquiry_note_sent(cfg->state_dir, &q, now, r->message_id, "reply", err);
	if (!rc) {
		buf_printf(&d, "copy %u sent to %s", *k, r->to.spec);
		rc = inquiry_history_add(cfg->state_dir, num, now, who, "reply", d.p, err);
	}
	if (!rc && strcmp(old, "answered") != 0) {
		buf_reset(&d);
		buf_printf(&d, "%s -> answered", old);
		rc = inquiry_history_add(cfg->state_dir, num, now, who, "status", d.p, err);
	}
	if (fd >= 0)
		close(fd);
	free(old);
	buf_free(&d);
	inquiry_free(&q);
	return rc;
}

/* The reply in the account's mailbox too (IMAP sources): a copy in
 * incoming.sent, the original flagged \Answered.  The reply has gone out
 * and is recorded: a failure here is a warning and a history line. */
static void reply_mailbox(const struct config *cfg, unsigned num, const struct triage_reply *r,
			  const char *who, time_t now)
{
	struct lb_err ae = {0}, fe = {0}, he = {0};
	bool done = false;
	source_file_reply(&cfg->in, cfg->site_dir, r->raw.p, r->raw.n, r->q.message_id, &done, &ae,
			  &fe);
	if (!done)
		return;
	struct buf d = BUF_INIT;
	if (cfg->in.sent && *cfg->in.sent) {
		if (ae.code) {
			log_warn("inquiry %u: the reply was sent, but not filed in %s: %s", num,
				 cfg->in.sent, ae.msg);
			buf_printf(&d, "not filed in %s: %s", cfg->in.sent, ae.msg);
		} else {
			buf_printf(&d, "filed in %s (\\Seen)", cfg->in.sent);
		}
	}
	if (d.n)
		buf_adds(&d, "; ");
	if (fe.code) {
		log_warn("inquiry %u: the reply was sent, but the original was not flagged "
			 "\\Answered: %s",
			 num, fe.msg);
		buf_printf(&d, "original not flagged \\Answered: %s", fe.msg);
	} else {
		buf_adds(&d, "original flagged \\Answered");
	}
	if (inquiry_history_add(cfg->state_dir, num, now, who,
				ae.code || fe.code ? "mailbox-warning" : "mailbox", d.p, &he))
		log_warn("%s", he.msg);
	buf_free(&d);
}

int triage_reply_send(const struct config *cfg, struct triage_reply *r, const char *who, time_t now,
		      unsigned *copy, struct lb_err *err)
{
	unsigned num = r->q.number;
	struct outcome o = {.kind = OUT_NOT_SENT};
	const char *rcpts[] = {r->to.spec, NULL};
	int rc = mail_send_now(cfg, r->raw.p, r->raw.n, r->mail_from, rcpts, NULL, &o, err);
	if (rc) {
		/* Nothing changes but the history: staff see the attempt, either
		 * "not sent" or (the data went out, no answer came) "may have
		 * been delivered", never both. */
		bool uncertain = o.kind == OUT_UNCERTAIN;
		struct lb_err e2 = {0};
		struct buf d = BUF_INIT;
		if (!uncertain && strncmp(err->msg, "not sent", 8) != 0)
			buf_adds(&d, "not sent: ");
		buf_adds(&d, err->msg);
		if (inquiry_history_add(cfg->state_dir, num, now, who,
					uncertain ? "reply-uncertain" : "reply-failed", d.p, &e2))
			log_warn("%s", e2.msg);
		buf_free(&d);
		err_prefix(err, "inquiry %u: %s", num,
			   uncertain ? "the reply may have been delivered (check with the "
				       "person before sending it again); its status is "
				       "unchanged"
				     : "the reply was not sent; its status is unchanged");
		return rc;
	}
	rc = reply_record(cfg, num, r, who, now, copy, err);
	if (!rc)
		reply_mailbox(cfg, num, r, who, now);
	return rc;
}
