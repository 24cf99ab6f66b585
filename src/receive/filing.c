#include "receive/filing.h"
#include "receive/signup_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strset.h"
#include "receive/followup.h"
#include "receive/lexicon.h"
#include "receive/staffreply.h"
#include "receive/parse.h"
#include "store/conversation.h"
#include "store/inquiries.h"
#include "store/subscribers.h"
#include "store/tokens.h"

#define SOFT_BOUNCE_LIMIT  3
#define SOFT_BOUNCE_WINDOW (30L * 86400)

struct filer {
	const struct config *cfg;
	const struct secret *secret;
	struct suppressions *sup;
	struct pollstate *ps;
	struct strset subscribers;  /* addr keys of everyone on a list */
	struct token_index *tokens; /* built when first needed */
	unsigned next_number;	    /* the next inquiry number to try */
	struct followups *threads;  /* which inquiry a message continues */
	char *from_domain;
	const char *markers[3];
	struct classify_ctx cctx;
	struct lexicon *urgent_extra; /* cctx.urgent_extra, owned */
};

/* ---- who our subscribers are, and their tokens -------------------------------------------- */

static int note_subscriber(void *ctx, const struct subscriber *s)
{
	struct filer *f = ctx;
	strset_add_copy(&f->subscribers, s->key, NULL, NULL);
	return 0;
}

/* Tokens are looked up only when a message carries one: the index (one
 * HMAC per known address) is built on the first. */
static bool resolve(void *cb, const char *token, char **address_out)
{
	struct filer *f = cb;
	if (!f->tokens)
		f->tokens = token_index_build(f->cfg, f->secret);
	const char *a = token_index_get(f->tokens, token);
	if (!a)
		return false;
	*address_out = xstrdup(a);
	return true;
}

static bool is_subscriber(void *cb, const char *address)
{
	struct filer *f = cb;
	char *k = addr_key(address);
	bool found;
	strset_get(&f->subscribers, k, &found);
	free(k);
	return found;
}

/* A message's dedupe key, from its parse m. */
static char *message_key(const struct inmsg *m, const char *raw, size_t n)
{
	struct sent sent = {m->from, m->date, m->subject, raw + m->body_off, n - m->body_off};
	return pollstate_key(m->message_id, &sent, raw, n);
}

/* The key of an inquiry's stored message (pollstate_remember_inquiry). */
static char *stored_key(void *ctx, const char *raw, size_t n)
{
	struct filer *f = ctx;
	struct inmsg m;
	struct parse_opts po = {f->markers};
	inmsg_parse(raw, n, &po, &m);
	char *key = message_key(&m, raw, n);
	inmsg_free(&m);
	return key;
}

/* An inquiry filed already (inquiries_scan): indexed for its conversation,
 * and its messages count as seen. */
static int remember_inquiry(void *ctx, const struct inquiry *q)
{
	struct filer *f = ctx;
	followup_add(f->threads, q);
	size_t nlater;
	struct conv_msg *later = conv_msgs(q, &nlater);
	for (size_t j = 0; j < nlater; j++)
		if (later[j].dir == CONV_IN && later[j].key)
			pollstate_remember_key(f->ps, later[j].key);
	conv_msgs_free(later, nlater);
	pollstate_remember_inquiry(f->ps, q, stored_key, f);
	return 0;
}

int filer_open(const struct config *cfg, const struct secret *secret, struct suppressions *sup,
	       struct pollstate *ps, struct filer **out, struct lb_err *err)
{
	struct filer *f = xcalloc(1, sizeof *f);
	f->cfg = cfg;
	f->secret = secret;
	f->sup = sup;
	f->ps = ps;
	char **paths = sublist_paths(cfg->site_dir);
	int rc = 0;
	for (char **p = paths; *p && !rc; p++)
		rc = sublist_stream_file(*p, NULL, NULL, note_subscriber, NULL, f, NULL, err);
	fsx_list_free(paths);
	/* Inquiries already filed count as seen, and so do the later messages
	 * of their conversations: a crash between filing one and recording it
	 * must not file it again. */
	f->threads = followups_new();
	if (!rc)
		rc = inquiries_scan(cfg->state_dir, remember_inquiry, f, err);
	if (!rc)
		rc = inquiries_next_number(cfg->state_dir, &f->next_number, err);
	if (rc) {
		filer_close(f);
		return rc;
	}
	f->from_domain = xstrdup(cfg->from.domain);
	f->markers[0] = cfg->site_name;
	f->markers[1] = "You receive this because you subscribed";
	f->cctx = (struct classify_ctx){cfg->bounce_to,
					cfg->unsub_mailto,
					cfg->reply_to,
					f->from_domain,
					resolve,
					is_subscriber,
					f,
					(const char *const *)cfg->urgent_words,
					(const char *const *)cfg->urgent_languages,
					NULL,
					cfg->subscribe_mailto};
	/* The site's own crisis phrases, compiled once for the whole poll. */
	f->urgent_extra = lexicon_of_phrases((const char *const *)cfg->urgent_words);
	f->cctx.urgent_extra = f->urgent_extra;
	*out = f;
	return 0;
}

void filer_close(struct filer *f)
{
	if (!f)
		return;
	strset_free(&f->subscribers);
	token_index_free(f->tokens);
	free(f->from_domain);
	followups_free(f->threads);
	lexicon_free(f->urgent_extra);
	free(f);
}

/* ---- effects ------------------------------------------------------------------------------ */

/* What a suppression or a pending report records as its evidence: written
 * only when one is (most bounces are of addresses suppressed already).  It
 * says how the report was tied to us and whom it names: for a linked report
 * those addresses are evidence, never the target. */
struct evidence {
	const struct inmsg *m;
	const struct classification *c;
	const char *key;
	struct buf text;
};

static const char *linked_by(enum token_source t)
{
	switch (t) {
	case TOKEN_UNSUBSCRIBE_ADDRESS:
		return "the token in the unsubscribe address";
	case TOKEN_BOUNCE_ADDRESS:
		return "the token in the bounce address";
	case TOKEN_REPLY_ADDRESS:
		return "the token in the reply address";
	case TOKEN_IN_REPLY_TO:
		return "our Message-ID in In-Reply-To";
	case TOKEN_REFERENCES:
		return "our Message-ID in References";
	case TOKEN_ORIGINAL:
		return "the returned message (our Message-ID or unsubscribe address)";
	case TOKEN_NONE:
		break;
	}
	return "?";
}

static const char *evidence(struct evidence *e)
{
	const struct classification *c = e->c;
	if (e->text.n)
		return e->text.p;
	buf_adds(&e->text, mail_kind_name(c->kind));
	if (c->kind == MAIL_BOUNCE && c->severity == BOUNCE_SOFT)
		buf_adds(&e->text, " (soft)");
	if (c->status)
		buf_printf(&e->text, " %s", c->status);
	if (c->diagnostic)
		buf_printf(&e->text, " %s", c->diagnostic);
	buf_printf(&e->text, " (message %s)", e->m->message_id ? e->m->message_id : e->key);
	if (c->token)
		buf_printf(&e->text, "; linked by %s", linked_by(c->token_from));
	else
		buf_adds(&e->text, "; not linked to a message of ours");
	for (size_t i = 0; i < c->addresses.n && i < 5; i++)
		buf_printf(&e->text, "%s%s", i ? ", " : "; the report names ", c->addresses.v[i]);
	if (c->addresses.n > 5)
		buf_printf(&e->text, " and %zu more", c->addresses.n - 5);
	return e->text.p;
}

/* soft: the number of soft bounces that made a failure of it, or 0. */
static int suppress(struct filer *f, struct filed *d, const char *address, enum sup_reason reason,
		    time_t now, struct evidence *ev, size_t soft, struct lb_err *err)
{
	enum sup_reason have = suppressions_check(f->sup, address);
	if (have == reason)
		return 0; /* already recorded (a re-poll after a crash, or a second bounce) */
	struct lb_err e = {0};
	struct buf why = BUF_INIT;
	if (soft)
		buf_printf(&why, "%zu soft bounces within 30 days; last: %s", soft, evidence(ev));
	int rc = suppressions_add(f->sup, address, reason, now, soft ? why.p : evidence(ev), &e);
	buf_free(&why);
	if (rc == LB_EDATA) {
		log_warn("not suppressing '%s': %s", address, e.msg);
		return 0;
	}
	if (rc) {
		*err = e;
		return rc;
	}
	d->suppressed++;
	return 0;
}

/* What a report asks for: SUP_NONE for a delay (nothing failed). */
static enum sup_reason report_reason(const struct classification *c)
{
	switch (c->kind) {
	case MAIL_BOUNCE:
		return c->severity == BOUNCE_HARD   ? SUP_HARD_BOUNCE
		       : c->severity == BOUNCE_SOFT ? SUP_FAILED
						    : SUP_NONE;
	case MAIL_COMPLAINT:
		return SUP_COMPLAINT;
	case MAIL_UNSUBSCRIBE:
		return SUP_UNSUBSCRIBED;
	case MAIL_INQUIRY:
	case MAIL_AUTO_REPLY:
	case MAIL_SUBSCRIBE:
		break;
	}
	return SUP_NONE;
}

/* A linked report (a verified token, README "What a report can do") acts on
 * its subscriber, whatever addresses it names.  The token is proof enough
 * that we mailed the address: it was made for a list entry or a campaign's
 * snapshot (store/tokens.h), so an address since deleted from its list file
 * but still in an unfinished campaign is suppressed too.  A soft bounce
 * counts toward SOFT_BOUNCE_LIMIT and confirms nothing else. */
static int act_linked(struct filer *f, struct filed *d, const struct classification *c,
		      enum sup_reason reason, time_t now, struct evidence *ev, struct lb_err *err)
{
	const char *who = c->subscriber;
	if (reason != SUP_FAILED)
		return suppress(f, d, who, reason, now, ev, 0, err);
	size_t k = 0;
	int rc = pollstate_soft_bounce(f->ps, who, d->key, now, SOFT_BOUNCE_WINDOW, &k, err);
	if (rc || k >= SOFT_BOUNCE_LIMIT)
		return rc ? rc : suppress(f, d, who, SUP_FAILED, now, ev, k, err);
	return 0;
}

/* An unlinked report: for each address it names that is on a list and not
 * suppressed, a pending report; nothing for anyone else.  An unlinked soft
 * bounce is not kept: a temporary failure that anyone could have sent is no
 * evidence worth a staff member's time. */
static int act_unlinked(struct filer *f, struct filed *d, const struct strv *who,
			enum sup_reason reason, time_t now, struct evidence *ev, struct lb_err *err)
{
	if (reason == SUP_FAILED)
		return 0;
	for (size_t i = 0; i < who->n; i++) {
		const char *a = who->v[i];
		if (!is_subscriber(f, a) || suppressions_check(f->sup, a) != SUP_NONE)
			continue;
		struct lb_err e = {0};
		int rc = suppressions_add_pending(f->sup, a, reason, now, evidence(ev), &e);
		if (rc == LB_EDATA) {
			log_warn("not keeping a report about '%s': %s", a, e.msg);
			continue;
		}
		if (rc) {
			*err = e;
			return rc;
		}
		d->pending++;
	}
	return 0;
}

static void excerpt(struct buf *b, const char *text, size_t max)
{
	struct span s = span_trim(span_cstr(text));
	size_t n = s.n < max ? s.n : max;
	/* do not cut a UTF-8 character in two */
	while (n < s.n && n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
		n--;
	buf_add(b, s.p, n);
	if (n < s.n)
		buf_adds(b, "…");
}

static void attachments(struct buf *b, const struct inmsg *m)
{
	for (size_t i = 0; i < m->natt; i++) {
		if (i)
			buf_adds(b, "; ");
		buf_printf(b, "%s (%s, %zu bytes)",
			   m->att[i].filename ? m->att[i].filename : "unnamed",
			   m->att[i].content_type ? m->att[i].content_type : "?", m->att[i].size);
	}
}

static int file_inquiry(struct filer *f, const struct src_msg *msg, const struct inmsg *m,
			const struct classification *c, time_t now, struct filed *d,
			struct lb_err *err)
{
	const char *sender = m->from ? m->from : c->subscriber ? c->subscriber : "";
	bool by_reference = false;
	unsigned thread = followup_find(f->threads, m, now, &by_reference);
	if (thread) {
		struct followup_filed ff = {0};
		int rc = followup_file(f->threads, f->cfg, msg, m, sender, d->key, now, thread,
				       by_reference, &ff, err);
		if (!rc && ff.joined) {
			d->inquiry = thread;
			d->followup = true;
			d->urgent = ff.urgent;
		}
		if (rc || ff.joined)
			return rc;
	}
	struct buf ex = BUF_INIT, att = BUF_INIT;
	excerpt(&ex, m->own_text ? m->own_text : m->text ? m->text : "", 400);
	attachments(&att, m);
	char *from = xstrdup(sender);
	char status[] = "new", urgent[] = "urgent", normal[] = "normal";
	struct inquiry q = {
	    .received = now,
	    .from = from,
	    .from_name = m->from_name,
	    .subject = m->subject,
	    .message_id = m->message_id,
	    .key = d->key,
	    .article = c->slug,
	    .subscriber = c->subscriber || (m->from && is_subscriber(f, m->from)),
	    .status = status,
	    .priority = c->urgent ? urgent : normal,
	    .unparsed = m->unparsed,
	    .truncated = msg->truncated,
	    .excerpt = ex.p,
	    .attachments = att.n ? att.p : NULL,
	};
	q.number = f->next_number;
	int rc = inquiry_file(f->cfg->state_dir, &q, msg->raw, msg->n, "filed",
			      c->urgent ? "urgent: crisis language" : "", err);
	if (!rc) {
		f->next_number = q.number + 1;
		d->inquiry = q.number;
		d->urgent = c->urgent;
		followup_note(f->threads, q.number, m->message_id, from, m->subject, now);
	}
	buf_free(&ex);
	buf_free(&att);
	free(from);
	return rc;
}

static int apply(struct filer *f, const struct src_msg *msg, const struct inmsg *m,
		 const struct classification *c, time_t now, struct filed *d, struct lb_err *err)
{
	struct evidence ev = {m, c, d->key, BUF_INIT};
	int rc = 0;
	/* Whom the report names: its addresses, else the subscriber it is
	 * about (an unsubscribe request: its sender). */
	const struct strv *who = &c->addresses;
	struct strv one = {0};
	const char *from = c->subscriber		 ? c->subscriber
			   : c->kind == MAIL_UNSUBSCRIBE ? m->from
							 : NULL;
	if (!who->n && from && c->kind != MAIL_INQUIRY && c->kind != MAIL_AUTO_REPLY &&
	    c->kind != MAIL_SUBSCRIBE) {
		strv_add(&one, span_cstr(from), true);
		who = &one;
	}
	enum sup_reason reason = report_reason(c);
	bool linked = c->token && c->subscriber;
	if (c->kind == MAIL_INQUIRY)
		rc = file_inquiry(f, msg, m, c, now, d, err);
	else if (c->kind == MAIL_SUBSCRIBE)
		rc = signup_by_mail(f->cfg, f->secret, m, c->list, now, err);
	else if (reason != SUP_NONE && linked)
		rc = act_linked(f, d, c, reason, now, &ev, err);
	else if (reason != SUP_NONE)
		rc = act_unlinked(f, d, who, reason, now, &ev, err);
	for (size_t i = 0; i < who->n; i++)
		strv_add(&d->addresses, span_cstr(who->v[i]), true);
	if (linked && c->kind != MAIL_INQUIRY && c->kind != MAIL_AUTO_REPLY &&
	    c->kind != MAIL_SUBSCRIBE)
		d->subscriber = xstrdup(c->subscriber);
	strv_free(&one);
	buf_free(&ev.text);
	return rc;
}

static const char *folder_for(const struct config *cfg, const struct filed *d)
{
	const char *const *f = (const char *const *)cfg->in.folders;
	if (d->unparsed && f[FOLDER_FAILED])
		return f[FOLDER_FAILED];
	switch (d->kind) {
	case MAIL_INQUIRY:
		return f[FOLDER_INQUIRIES];
	case MAIL_BOUNCE:
	case MAIL_COMPLAINT:
		return f[FOLDER_BOUNCES];
	case MAIL_UNSUBSCRIBE:
		return f[FOLDER_UNSUBSCRIBES];
	case MAIL_AUTO_REPLY:
		return f[FOLDER_AUTO_REPLIES];
	case MAIL_SUBSCRIBE:
		return NULL; /* no folder of its own: it stays where it came */
	}
	return NULL;
}

int filer_file(struct filer *f, const struct src_msg *msg, time_t now, struct filed *d,
	       struct lb_err *err)
{
	memset(d, 0, sizeof *d);
	struct inmsg m;
	struct parse_opts po = {f->markers};
	inmsg_parse(msg->raw, msg->n, &po, &m);
	d->key = message_key(&m, msg->raw, msg->n);
	d->message_id = m.message_id ? xstrdup(m.message_id) : NULL;
	int rc = 0;
	if (pollstate_seen(f->ps, d->key, msg->id)) {
		/* Filed before (a crash may have come before the move): move it now
		 * where its kind belongs, file nothing. */
		d->duplicate = true;
		const char *k = pollstate_seen_kind(f->ps, d->key, msg->id);
		/* Filed by a run that died before recording it: record it now. */
		if (k && !pollstate_logged(f->ps, d->key))
			pollstate_mark(f->ps, d->key, k, now, msg->id);
		for (enum mail_kind i = MAIL_INQUIRY; k && i <= MAIL_SUBSCRIBE; i++)
			if (strcmp(k, mail_kind_name(i)) == 0)
				d->folder = folder_for(f->cfg, &(struct filed){.kind = i});
		goto out;
	}
	struct classification c;
	classify_message(&m, &f->cctx, &c);
	d->kind = c.kind;
	d->severity = c.severity;
	d->unparsed = m.unparsed || msg->truncated;
	d->article = c.slug ? xstrdup(c.slug) : NULL;
	d->status = c.status ? xstrdup(c.status) : NULL;
	d->reason = xstrdup(c.reason);
	rc = apply(f, msg, &m, &c, now, d, err);
	if (!rc) {
		pollstate_mark(f->ps, d->key, mail_kind_name(c.kind), now, msg->id);
		d->folder = folder_for(f->cfg, d);
	}
	classification_free(&c);
out:
	inmsg_free(&m);
	return rc;
}

int filer_sent(struct filer *f, const struct src_msg *msg, time_t now, struct sent_filed *out,
	       struct lb_err *err)
{
	*out = (struct sent_filed){0};
	struct inmsg m;
	struct parse_opts po = {f->markers};
	inmsg_parse(msg->raw, msg->n, &po, &m);
	char *key = message_key(&m, msg->raw, msg->n);
	int rc = 0;
	if (pollstate_seen(f->ps, key, msg->id)) {
		out->duplicate = true;
		goto out;
	}
	bool by_reference = false;
	unsigned n = followup_find(f->threads, &m, now, &by_reference);
	bool recorded = false;
	if (n && by_reference &&
	    (rc = staff_reply_file(f->threads, f->cfg, msg, &m, now, n, &recorded, err)) != 0)
		goto out;
	if (recorded)
		out->inquiry = n;
	pollstate_mark(f->ps, key, "sent", now, msg->id);
out:
	free(key);
	inmsg_free(&m);
	return rc;
}

void filed_free(struct filed *d)
{
	free(d->key);
	free(d->message_id);
	free(d->article);
	free(d->status);
	free(d->reason);
	free(d->subscriber);
	strv_free(&d->addresses);
	memset(d, 0, sizeof *d);
}
