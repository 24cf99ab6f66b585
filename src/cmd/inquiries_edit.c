/* letterbox inquiries set / note / reply / purge: the staff's side. */
#include "cmd/inquiries_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "compose/onemail.h"
#include "compose/render.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "deliver/notify.h"
#include "receive/parse.h"
#include "receive/source.h"
#include "store/conversation.h"
#include "store/inquiries.h"

/* The same lock file deliver/notify.c takes: poll's notifier and a staff
 * member may rewrite the same record at the same moment. */

const char *inquiries_who(const char *by)
{
	if (by && *by)
		return by;
	const char *u = getlogin();
	if (u && *u)
		return u;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static int parse_number(const char *arg, unsigned *out, const char *usage)
{
	char *end;
	unsigned long v = arg ? strtoul(arg, &end, 10) : 0;
	if (!arg || *end || !v || v > 999999999UL || arg[0] < '1' || arg[0] > '9')
		return cli_usage(usage, "'%s' is not an inquiry number (1, 2, 3, ...)",
				 arg ? arg : "");
	*out = (unsigned)v;
	return 0;
}

static int lock_inquiries(struct cli *g, int *fd, struct lb_err *err)
{
	return inquiries_lock(g->cfg.state_dir, fd, err);
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

/* ---- set and note ---------------------------------------------------------------------------- */

struct change {
	const char *status, *priority, *assignee;
	bool assign, unassign;
};

static int parse_pairs(char **pairs, int n, struct change *c, const char *usage)
{
	if (n == 0)
		return cli_usage(usage, "set: say what to change: status=..., assign=NAME or "
					"priority=...");
	for (int i = 0; i < n; i++) {
		const char *p = pairs[i], *eq = strchr(p, '=');
		if (!eq)
			return cli_usage(usage, "set: '%s' is not key=value", p);
		const char *v = eq + 1;
		struct span k = {p, (size_t)(eq - p)};
		if (span_eq(k, "status")) {
			if (!valid_status(v))
				return cli_usage(usage,
						 "set: status '%s': use new, open, answered or "
						 "closed",
						 v);
			c->status = v;
		} else if (span_eq(k, "priority")) {
			if (strcmp(v, "urgent") != 0 && strcmp(v, "normal") != 0)
				return cli_usage(usage, "set: priority '%s': use urgent or normal",
						 v);
			c->priority = v;
		} else if (span_eq(k, "assign") || span_eq(k, "assignee")) {
			if (term_unsafe(v))
				return cli_usage(usage, "set: assign: a name without control "
							"characters, in UTF-8, please");
			c->assign = true;
			c->unassign = !*v || !strcmp(v, "nobody") || !strcmp(v, "-");
			c->assignee = c->unassign ? NULL : v;
		} else {
			return cli_usage(usage,
					 "set: unknown key '%.*s' (status, assign, priority)",
					 (int)k.n, k.p);
		}
	}
	return 0;
}

static void set_field(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

int inquiries_set(struct cli *g, const char *number, char **pairs, int npairs, const char *by,
		  const char *usage)
{
	unsigned num = 0;
	struct change c = {0};
	int rc = parse_number(number, &num, usage);
	if (rc || (rc = parse_pairs(pairs, npairs, &c, usage)))
		return rc;
	const char *who = inquiries_who(by);
	struct lb_err err = {0};
	struct inquiry q = {0};
	int fd = -1;
	if (lock_inquiries(g, &fd, &err) || inquiry_load(g->cfg.state_dir, num, &q, &err)) {
		if (fd >= 0)
			close(fd);
		inquiry_free(&q);
		return cli_fail(&err);
	}
	/* What changes, as history lines, before anything is written. */
	struct {
		const char *what;
		struct buf detail;
	} lines[3] = {{"status", BUF_INIT}, {"assign", BUF_INIT}, {"priority", BUF_INIT}};
	if (c.status && !same(q.status, c.status)) {
		buf_printf(&lines[0].detail, "%s -> %s", q.status ? q.status : "?", c.status);
		set_field(&q.status, c.status);
	}
	if (c.assign && !same(q.assignee, c.assignee)) {
		buf_adds(&lines[1].detail, c.assignee ? c.assignee : "(nobody)");
		set_field(&q.assignee, c.assignee);
	}
	if (c.priority && !same(q.priority, c.priority)) {
		buf_printf(&lines[2].detail, "%s -> %s", q.priority ? q.priority : "?", c.priority);
		set_field(&q.priority, c.priority);
	}
	bool any = lines[0].detail.n || lines[1].detail.n || lines[2].detail.n;
	time_t now = time(NULL);
	if (any)
		rc = inquiry_save(g->cfg.state_dir, &q, &err);
	for (int i = 0; i < 3 && !rc; i++)
		if (lines[i].detail.n)
			rc = inquiry_history_add(g->cfg.state_dir, num, now, who, lines[i].what,
						 lines[i].detail.p, &err);
	close(fd);
	if (rc) {
		cli_fail(&err);
	} else if (!any) {
		printf("inquiry %u: nothing to change\n", num);
	} else {
		printf("inquiry %u:", num);
		for (int i = 0; i < 3; i++)
			if (lines[i].detail.n)
				term_printf(stdout, " %s %s;", lines[i].what, lines[i].detail.p);
		term_printf(stdout, " by %s\n", who);
	}
	for (int i = 0; i < 3; i++)
		buf_free(&lines[i].detail);
	inquiry_free(&q);
	return rc;
}

int inquiries_note(struct cli *g, const char *number, char **words, int nwords, const char *by,
		   const char *usage)
{
	unsigned num = 0;
	int rc = parse_number(number, &num, usage);
	if (rc)
		return rc;
	struct buf text = BUF_INIT;
	for (int i = 0; i < nwords; i++) {
		if (i)
			buf_addc(&text, ' ');
		buf_adds(&text, words[i]);
	}
	if (span_trim(buf_span(&text)).n == 0) {
		buf_free(&text);
		return cli_usage(usage, "note: the note's text is missing");
	}
	const char *who = inquiries_who(by);
	struct lb_err err = {0};
	struct inquiry q = {0};
	int fd = -1;
	if (!(rc = lock_inquiries(g, &fd, &err)) &&
	    !(rc = inquiry_load(g->cfg.state_dir, num, &q, &err)))
		rc = inquiry_history_add(g->cfg.state_dir, num, time(NULL), who, "note", text.p,
					 &err);
	if (fd >= 0)
		close(fd);
	if (rc)
		cli_fail(&err);
	else
		term_printf(stdout, "inquiry %u: note added by %s\n", num, who);
	inquiry_free(&q);
	buf_free(&text);
	return rc;
}

/* ---- reply ------------------------------------------------------------------------------------
 */

struct reply {
	struct inquiry q;
	struct inmsg m;
	bool parsed;
	struct buf md, content_html, content_text, html, text, raw, subject;
	struct addr to, reply_to;
	bool have_reply_to;
	char *message_id, *mail_from;
	const char **refs;
};

static void reply_free(struct reply *r)
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
static int reply_render(struct cli *g, struct reply *r, const char *who, time_t now,
			struct lb_err *err)
{
	const struct config *cfg = &g->cfg;
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

/* Everything but sending: load, parse the original, render, compose. */
static int reply_prepare(struct cli *g, unsigned num, const char *file, const char *who, time_t now,
			 struct reply *r, struct lb_err *err)
{
	const struct config *cfg = &g->cfg;
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
	if (strcmp(file, "-") == 0) {
		char chunk[4096];
		size_t k;
		while ((k = fread(chunk, 1, sizeof chunk, stdin)) > 0)
			buf_add(&r->md, chunk, k);
	} else if ((rc = fsx_read(file, &r->md, 1 << 20, err))) {
		return rc == LB_ENOINPUT ? err_set(err, rc, "%s: no such file", file) : rc;
	}
	struct buf raw = BUF_INIT;
	if (inquiry_message(cfg->state_dir, &r->q, &raw, err) == 0) {
		const char *markers[] = {cfg->site_name, "You receive this because you subscribed",
					 NULL};
		struct parse_opts po = {markers};
		inmsg_parse(raw.p, raw.n, &po, &r->m);
		r->parsed = true;
	}
	buf_free(&raw);
	if ((rc = reply_render(g, r, who, now, err)))
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
static int reply_record(struct cli *g, unsigned num, const struct reply *r, const char *who,
			time_t now, struct lb_err *err)
{
	const struct config *cfg = &g->cfg;
	int fd = -1;
	struct inquiry q = {0};
	struct buf d = BUF_INIT;
	unsigned k = 0;
	char *old = NULL;
	int rc = lock_inquiries(g, &fd, err);
	if (!rc)
		rc = inquiry_load(cfg->state_dir, num, &q, err);
	if (!rc) {
		old = xstrdup(q.status ? q.status : "?");
		set_field(&q.status, "answered");
		rc = inquiry_add_copy(cfg->state_dir, &q, r->raw.p, r->raw.n, &k, err);
	}
	/* An answer to the reply joins this inquiry (receive/followup.h). */
	if (!rc)
		rc = inquiry_note_sent(cfg->state_dir, &q, now, r->message_id, "reply", err);
	if (!rc) {
		buf_printf(&d, "copy %u sent to %s", k, r->to.spec);
		rc = inquiry_history_add(cfg->state_dir, num, now, who, "reply", d.p, err);
	}
	if (!rc && strcmp(old, "answered") != 0) {
		buf_reset(&d);
		buf_printf(&d, "%s -> answered", old);
		rc = inquiry_history_add(cfg->state_dir, num, now, who, "status", d.p, err);
	}
	if (!rc)
		term_printf(stdout,
			    "inquiry %u: reply sent to %s; status answered (the copy: letterbox "
			    "inquiries show %u --copy %u)\n",
			    num, r->to.spec, num, k);
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
static void reply_mailbox(struct cli *g, unsigned num, const struct reply *r, const char *who,
			  time_t now)
{
	const struct config *cfg = &g->cfg;
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

int inquiries_reply(struct cli *g, const char *number, const char *file, bool dry_run,
		    const char *by, const char *usage)
{
	unsigned num = 0;
	int rc = parse_number(number, &num, usage);
	if (rc)
		return rc;
	if (!file)
		return cli_usage(usage, "reply: say which file holds the answer: --file REPLY.md");
	const char *who = inquiries_who(by);
	struct lb_err err = {0};
	struct reply r = {0};
	time_t now = time(NULL);
	rc = reply_prepare(g, num, file, who, now, &r, &err);
	if (!rc && dry_run) {
		term_printf(stdout, "To: %s%s%s%s\nSubject: %s\n", r.to.display ? r.to.display : "",
			    r.to.display ? " <" : "", r.to.spec, r.to.display ? ">" : "",
			    r.subject.p);
		if (r.q.message_id)
			term_printf(stdout, "In-Reply-To: <%s>\n", r.q.message_id);
		term_printf(stdout,
			    "\n%s\n(dry run: nothing sent, nothing recorded; the mail also has an "
			    "HTML version)\n",
			    r.text.p);
	} else if (!rc) {
		struct outcome o = {.kind = OUT_NOT_SENT};
		const char *rcpts[] = {r.to.spec, NULL};
		rc = mail_send_now(&g->cfg, r.raw.p, r.raw.n, r.mail_from, rcpts, NULL, &o, &err);
		if (rc) {
			/* Nothing changes but the history: staff see the attempt,
			 * either "not sent" or (the data went out, no answer came)
			 * "may have been delivered", never both. */
			bool uncertain = o.kind == OUT_UNCERTAIN;
			struct lb_err e2 = {0};
			struct buf d = BUF_INIT;
			if (!uncertain && strncmp(err.msg, "not sent", 8) != 0)
				buf_adds(&d, "not sent: ");
			buf_adds(&d, err.msg);
			if (inquiry_history_add(g->cfg.state_dir, num, now, who,
						uncertain ? "reply-uncertain" : "reply-failed", d.p,
						&e2))
				log_warn("%s", e2.msg);
			buf_free(&d);
			err_prefix(&err, "inquiry %u: %s", num,
				   uncertain ? "the reply may have been delivered (check with the "
					       "person before sending it again); its status is "
					       "unchanged"
					     : "the reply was not sent; its status is unchanged");
		} else {
			rc = reply_record(g, num, &r, who, now, &err);
			if (!rc)
				reply_mailbox(g, num, &r, who, now);
		}
	}
	if (rc)
		cli_fail(&err);
	reply_free(&r);
	return rc;
}

/* ---- purge ------------------------------------------------------------------------------------
 */

/* When q was closed: the last history line that set status closed, else
 * when it arrived. */
static time_t closed_at(const struct config *cfg, const struct inquiry *q)
{
	time_t when = q->received;
	char *h = inquiry_history(cfg->state_dir, q->number);
	for (char *p = h; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *f[4] = {p, NULL, NULL, NULL};
		for (int i = 1; i < 4; i++) {
			char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
			if (tab)
				*tab = '\0';
			f[i] = tab ? tab + 1 : NULL;
		}
		size_t dn = f[3] ? strlen(f[3]) : 0;
		time_t t;
		if (f[2] && !strcmp(f[2], "status") && dn >= 6 &&
		    !strcmp(f[3] + dn - 6, "closed") && time_parse(span_cstr(f[0]), &t))
			when = t;
		if (!nl)
			break;
		p = nl + 1;
	}
	free(h);
	return when;
}

int inquiries_purge(struct cli *g, const char *before, bool dry_run, const char *usage)
{
	time_t limit;
	if (!before)
		return cli_usage(usage, "purge: say which: --closed-before DATE");
	if (!time_parse(span_cstr(before), &limit))
		return cli_usage(
		    usage, "purge: --closed-before '%s': expected a date like 2026-01-31", before);
	const struct config *cfg = &g->cfg;
	struct lb_err err = {0};
	struct inquiry *v = NULL;
	size_t n = 0, removed = 0, cap = 0;
	unsigned *gone = NULL;
	int fd = -1;
	int rc = lock_inquiries(g, &fd, &err);
	if (!rc)
		rc = inquiries_load(cfg->state_dir, &v, &n, &err);
	struct buf t = BUF_INIT;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct inquiry *q = &v[i];
		if (!q->status || strcmp(q->status, "closed") != 0)
			continue;
		time_t c = closed_at(cfg, q);
		if (c >= limit)
			continue;
		buf_reset(&t);
		time_local(&t, c);
		term_printf(stdout, "%s inquiry %u (from %s, closed %s)\n",
			    dry_run ? "would remove" : "removing", q->number,
			    q->from ? q->from : "?", t.p);
		gone = xgrowarray(gone, &cap, removed + 1, sizeof *gone);
		gone[removed++] = q->number;
	}
	/* All at once: the store compacts its files once for the lot. */
	if (!rc && !dry_run && removed)
		rc = inquiries_remove(cfg->state_dir, gone, removed, &err);
	free(gone);
	if (fd >= 0)
		close(fd);
	if (rc)
		cli_fail(&err);
	else
		printf("purge: %zu inquir%s %s\n", removed, removed == 1 ? "y" : "ies",
		       dry_run ? "would be removed (dry run)" : "removed");
	buf_free(&t);
	inquiries_free(v, n);
	return rc;
}
