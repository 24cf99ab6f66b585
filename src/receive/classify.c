#include "receive/classify.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/token.h"
#include "receive/lexicon.h"
#include "receive/lhost.h"
#include "receive/words.h"
#include "store/subscribers.h"

/* Tokens are short; anything longer in a pattern's place is not one. */
#define MAX_TOKEN 64
#define MAX_TRIED 16

const char *mail_kind_name(enum mail_kind k)
{
	static const char *const names[] = {"inquiry",	   "bounce",	 "complaint",
					    "unsubscribe", "auto-reply", "subscribe"};
	return (unsigned)k < sizeof names / sizeof *names ? names[k] : "inquiry";
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

/* An address pattern ("bounces+{token}@example.org", perhaps inside
 * "Name <…>") split around its hole, once per message. */
struct pattern {
	struct span pre, suf;
	bool ok; /* the pattern is set and has a hole */
};

static struct pattern pattern_hole(const char *pattern, const char *hole_name)
{
	size_t hn = strlen(hole_name);
	struct pattern pt = {{NULL, 0}, {NULL, 0}, false};
	if (!pattern)
		return pt;
	struct span pat = span_cstr(pattern);
	const char *lt = strchr(pattern, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		pat = (struct span){lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1)};
	}
	pat = span_trim(pat);
	const char *hole = memmem(pat.p, pat.n, hole_name, hn);
	if (!hole)
		return pt;
	size_t pre = (size_t)(hole - pat.p);
	pt.pre = (struct span){pat.p, pre};
	pt.suf = (struct span){hole + hn, pat.n - pre - hn};
	pt.ok = true;
	return pt;
}

static struct pattern pattern_parse(const char *pattern)
{
	return pattern_hole(pattern, "{token}");
}

/* The token in addr if it fits the pattern, lower-cased into tok. */
static bool pattern_token(const struct pattern *pt, const char *addr, char tok[MAX_TOKEN + 1])
{
	if (!pt->ok || !addr)
		return false;
	size_t pre = pt->pre.n, suf = pt->suf.n, n = strlen(addr);
	if (n <= pre + suf || n - pre - suf > MAX_TOKEN || strncasecmp(addr, pt->pre.p, pre) != 0 ||
	    strncasecmp(addr + n - suf, pt->suf.p, suf) != 0)
		return false;
	size_t k = n - pre - suf;
	for (size_t i = 0; i < k; i++) {
		char c = lower(addr[pre + i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		tok[i] = c;
	}
	tok[k] = '\0';
	return true;
}

/* Our Message-ID "slug.TOKEN.stamp@from-domain": the token (lower-cased)
 * and the slug's span. */
static bool msgid_token(const char *id, const char *domain, char tok[MAX_TOKEN + 1],
			struct span *slug)
{
	if (!id || !domain || !*domain)
		return false;
	const char *at = strrchr(id, '@');
	if (!at || strcasecmp(at + 1, domain) != 0)
		return false;
	const char *d2 = NULL, *d1 = NULL;
	for (const char *p = at - 1; p >= id; p--) {
		if (*p != '.')
			continue;
		if (!d2) {
			d2 = p;
		} else {
			d1 = p;
			break;
		}
	}
	if (!d1 || d1 == id || at - d2 < 2 || d2 - d1 - 1 != TOKEN_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_LEN; i++) {
		char c = lower(d1[1 + i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return false;
		tok[i] = c;
	}
	tok[TOKEN_LEN] = '\0';
	*slug = (struct span){id, (size_t)(d1 - id)};
	return true;
}

struct finder {
	const struct classify_ctx *ctx;
	struct classification *out;
	char tried[MAX_TRIED][MAX_TOKEN + 1];
	size_t ntried;
	struct pattern unsubscribe, bounce_to, reply_to;
	bool to_unsubscribe, to_bounce; /* addressed to those patterns at all */
	bool slug_verified;		/* the slug came with the verified token */
};

/* Ask resolve() about tok once; true when it is now the verified token. */
static bool try_token(struct finder *f, const char *tok, enum token_source src)
{
	if (f->out->token)
		return strcmp(f->out->token, tok) == 0;
	if (!f->ctx->resolve)
		return false;
	for (size_t i = 0; i < f->ntried; i++)
		if (strcmp(f->tried[i], tok) == 0)
			return false;
	char *addr = NULL;
	if (f->ctx->resolve(f->ctx->cb, tok, &addr) && addr) {
		f->out->token = xstrdup(tok);
		f->out->subscriber = addr;
		f->out->token_from = src;
		return true;
	}
	free(addr);
	if (f->ntried < MAX_TRIED)
		memcpy(f->tried[f->ntried++], tok, strlen(tok) + 1);
	return false;
}

static void try_list(struct finder *f, const struct strv *l, const struct pattern *pattern,
		     enum token_source src)
{
	char tok[MAX_TOKEN + 1];
	for (size_t i = 0; i < l->n; i++) {
		if (!pattern_token(pattern, l->v[i], tok))
			continue;
		f->to_unsubscribe |= src == TOKEN_UNSUBSCRIBE_ADDRESS;
		f->to_bounce |= src == TOKEN_BOUNCE_ADDRESS;
		try_token(f, tok, src);
	}
}

static void try_msgid(struct finder *f, const char *id, enum token_source src)
{
	char tok[MAX_TOKEN + 1];
	struct span slug;
	if (!msgid_token(id, f->ctx->from_domain, tok, &slug))
		return;
	bool verified = try_token(f, tok, src);
	/* The article: from an id of ours, the verified token's if there is one
	 * (the first such: In-Reply-To, then the newest reference). */
	if (!f->out->slug || (verified && !f->slug_verified)) {
		free(f->out->slug);
		f->out->slug = span_dup(slug);
		f->slug_verified = verified;
	}
}

/* Our unsubscribe mailto inside a returned List-Unsubscribe field. */
static void try_list_unsubscribe(struct finder *f, const char *v)
{
	if (!v)
		return;
	for (const char *p = v; (p = strcasestr(p, "mailto:")) != NULL;) {
		p += 7;
		size_t k = strcspn(p, ">?, \t");
		char *a = xstrndup(p, k);
		char tok[MAX_TOKEN + 1];
		if (pattern_token(&f->unsubscribe, a, tok))
			try_token(f, tok, TOKEN_ORIGINAL);
		free(a);
		p += k;
	}
}

static void find_tokens(struct finder *f, const struct inmsg *m, bool report)
{
	const struct classify_ctx *c = f->ctx;
	const struct strv *lists[] = {&m->delivered_to, &m->x_original_to, &m->envelope_to, &m->to,
				      &m->cc};
	f->unsubscribe = pattern_parse(c->unsubscribe);
	f->bounce_to = pattern_parse(c->bounce_to);
	f->reply_to = pattern_parse(c->reply_to);
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		try_list(f, lists[i], &f->unsubscribe, TOKEN_UNSUBSCRIBE_ADDRESS);
		try_list(f, lists[i], &f->bounce_to, TOKEN_BOUNCE_ADDRESS);
		try_list(f, lists[i], &f->reply_to, TOKEN_REPLY_ADDRESS);
	}
	try_msgid(f, m->in_reply_to, TOKEN_IN_REPLY_TO);
	for (size_t i = m->references.n; i-- > 0;)
		try_msgid(f, m->references.v[i], TOKEN_REFERENCES);
	if (report) {
		try_msgid(f, m->original.message_id, TOKEN_ORIGINAL);
		try_list_unsubscribe(f, m->original.list_unsubscribe);
	}
}

/* Sign-up by mail: the list named by a recipient address that fits
 * subscribe.mailto ("subscribe+{list}@example.org"), as written, when it
 * can name a list file (sublist_id_ok). */
static char *subscribe_list(const char *pattern, const struct inmsg *m)
{
	struct pattern pt = pattern_hole(pattern, "{list}");
	const struct strv *lists[] = {&m->delivered_to, &m->x_original_to, &m->envelope_to, &m->to,
				      &m->cc};
	for (size_t i = 0; pt.ok && i < sizeof lists / sizeof *lists; i++) {
		for (size_t j = 0; j < lists[i]->n; j++) {
			const char *a = lists[i]->v[j];
			size_t n = strlen(a), pre = pt.pre.n, suf = pt.suf.n;
			if (n <= pre + suf || strncasecmp(a, pt.pre.p, pre) != 0 ||
			    strncasecmp(a + n - suf, pt.suf.p, suf) != 0)
				continue;
			char *id = span_dup((struct span){a + pre, n - pre - suf});
			if (sublist_id_ok(id))
				return id;
			free(id);
		}
	}
	return NULL;
}

/* ---- reports --------------------------------------------------------------------------------- */

static void set_str(char **dst, const char *s)
{
	if (!*dst && s && *s)
		*dst = xstrdup(s);
}

/* out->reason = a b c (b, c may be NULL), cut to fit as snprintf would. */
static void set_reason(struct classification *out, const char *a, const char *b, const char *c)
{
	const char *parts[] = {a, b, c};
	size_t n = 0;
	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i]; p && *p && n + 1 < sizeof out->reason; p++)
			out->reason[n++] = *p;
	out->reason[n] = '\0';
}

/* Step 2: a DSN.  Returns false when it reports no recipients at all. */
static bool from_dsn(const struct inmsg *m, struct classification *out)
{
	const struct dsn *d = &m->dsn;
	enum bounce_severity worst = BOUNCE_NONE;
	bool delayed = false, any = false;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < d->nrcpt; i++) {
			const struct dsn_rcpt *r = &d->rcpt[i];
			/* The address we sent to, where the report gives it. */
			const char *who = dsn_rcpt_address(r);
			bool failed = r->action == DSN_FAILED ||
				      (r->action == DSN_ACTION_NONE && r->status &&
				       (r->status[0] == '4' || r->status[0] == '5'));
			any |= r->action != DSN_ACTION_NONE || r->status;
			if (pass == 0 && failed) {
				enum bounce_severity s =
				    bounce_severity_of(r->status, r->diagnostic);
				if (s == BOUNCE_NONE || s == BOUNCE_DELAYED)
					s = r->action == DSN_FAILED ? BOUNCE_HARD : BOUNCE_SOFT;
				if (s == BOUNCE_HARD || worst == BOUNCE_NONE)
					worst = s;
				if (who)
					strv_add(&out->addresses, span_cstr(who), true);
				set_str(&out->status, r->status);
				set_str(&out->diagnostic, r->diagnostic);
			} else if (pass == 1 && worst == BOUNCE_NONE && r->action == DSN_DELAYED) {
				delayed = true;
				if (who)
					strv_add(&out->addresses, span_cstr(who), true);
				set_str(&out->status, r->status);
				set_str(&out->diagnostic, r->diagnostic);
			}
		}
	}
	if (!any)
		return false;
	if (worst != BOUNCE_NONE || delayed) {
		/* A pipe, a file or a bare local part in the fields: the
		 * report's text names the address ("generated by …"). */
		if (out->addresses.n == 0)
			bounce_text_addresses(m, &out->addresses);
		out->kind = MAIL_BOUNCE;
		out->severity = worst != BOUNCE_NONE ? worst : BOUNCE_DELAYED;
		set_reason(out, worst != BOUNCE_NONE ? "DSN: failed" : "DSN: delayed",
			   out->status ? " " : NULL, out->status);
	} else {
		out->kind = MAIL_AUTO_REPLY;
		set_reason(out, "DSN without a failure", NULL, NULL);
	}
	return true;
}

static void from_guess(const struct inmsg *m, struct classification *out)
{
	struct bounce_guess g;
	bounce_guess(m, &g);
	if (g.found) {
		out->kind = MAIL_BOUNCE;
		out->severity = g.severity;
		for (size_t i = 0; i < g.failed.n; i++)
			strv_add(&out->addresses, span_cstr(g.failed.v[i]), true);
		set_str(&out->status, g.status);
		set_reason(out, "bounce without a DSN", g.status ? ": " : NULL, g.status);
	}
	bounce_guess_free(&g);
}

/* Step 3b: a report in a known system's own shape (lhost.h); *original_id
 * gets the Message-ID it names, if any. */
static bool from_lhost(const struct inmsg *m, struct classification *out, char **original_id)
{
	struct lhost_report r;
	bool found = lhost_report(m, &r);
	if (found) {
		out->kind = r.kind == LHOST_COMPLAINT ? MAIL_COMPLAINT : MAIL_BOUNCE;
		out->severity = r.kind == LHOST_COMPLAINT ? BOUNCE_NONE : r.severity;
		for (size_t i = 0; i < r.rcpt.n; i++)
			strv_add(&out->addresses, span_cstr(r.rcpt.v[i]), true);
		set_str(&out->status, r.status);
		set_str(&out->diagnostic, r.diagnostic);
		set_str(&out->feedback_type, r.feedback_type);
		set_reason(out, r.shape, r.status ? ": " : NULL, r.status);
		*original_id = r.original_id;
		r.original_id = NULL;
	}
	lhost_report_free(&r);
	return found;
}

static void from_arf(const struct inmsg *m, struct classification *out)
{
	out->kind = MAIL_COMPLAINT;
	set_str(&out->feedback_type, m->arf.feedback_type);
	const struct strv *l =
	    m->arf.original_rcpt_to.n ? &m->arf.original_rcpt_to : &m->original.to;
	for (size_t i = 0; i < l->n; i++)
		strv_add(&out->addresses, span_cstr(l->v[i]), true);
	char type[41]; /* at most 40 bytes of it */
	size_t k = 0;
	for (const char *t = out->feedback_type; t && *t && k < 40; t++)
		type[k++] = *t;
	type[k] = '\0';
	set_reason(out, "ARF feedback report", out->feedback_type ? ": " : NULL, type);
}

/* ---- people and machines --------------------------------------------------------------------- */

static bool said_no(const char *v)
{
	struct span w = header_word(span_cstr(v ? v : ""));
	return w.n == 0 || span_eq_ci(w, "no");
}

static bool auto_reply(const struct inmsg *m, struct classification *out)
{
	const char *why = NULL;
	if (!said_no(m->auto_submitted))
		why = "Auto-Submitted";
	else if (!said_no(m->x_autoreply))
		why = "X-Autoreply";
	else if (!said_no(m->x_autorespond))
		why = "X-Autorespond";
	else if (m->precedence) {
		struct span w = header_word(span_cstr(m->precedence));
		if (span_eq_ci(w, "auto_reply") || span_eq_ci(w, "bulk") || span_eq_ci(w, "junk"))
			why = "Precedence";
	}
	if (!why)
		why = lhost_auto_reply(m);
	if (!why) {
		const char *body = m->own_text && *m->own_text ? m->own_text : m->text;
		bool subject = words_oof_subject(m->subject);
		bool text = words_oof_text(body);
		bool null_sender = m->return_path && !*m->return_path;
		bool suppress = m->x_auto_response_suppress && *m->x_auto_response_suppress;
		if (subject && (suppress || null_sender || text || words_noreply(m->from)))
			why = "out-of-office subject";
		else if (null_sender && text)
			why = "null sender and out-of-office text";
	}
	if (why)
		set_reason(out, "auto-reply: ", why, NULL);
	return why != NULL;
}

static void check_urgent(const struct inmsg *m, const struct classify_ctx *ctx,
			 struct classification *out)
{
	const char *body = m->own_text && *m->own_text ? m->own_text : m->text;
	const struct lexicon *builtin = lexicon_builtin();
	uint32_t langs = lexicon_languages(ctx->urgent_languages);
	struct lexicon *own = ctx->urgent_extra ? NULL : lexicon_of_phrases(ctx->urgent_words);
	const struct lexicon *extra = ctx->urgent_extra ? ctx->urgent_extra : own;
	const char *hit = NULL;
	if (m->subject)
		hit = lexicon_find(builtin, langs, extra, m->subject, strlen(m->subject));
	if (!hit && body)
		hit = lexicon_find(builtin, langs, extra, body, strlen(body));
	lexicon_free(own);
	out->urgent = hit != NULL;
	out->urgent_word = hit;
}

void classify_message(const struct inmsg *m, const struct classify_ctx *ctx,
		      struct classification *out)
{
	*out = (struct classification){0};
	out->kind = MAIL_INQUIRY;
	bool decided = false;

	if (m->has_dsn && m->dsn.nrcpt)
		decided = from_dsn(m, out);
	if (!decided && m->has_arf) {
		from_arf(m, out);
		decided = true;
	}
	char *original_id = NULL;
	if (!decided)
		decided = from_lhost(m, out, &original_id);
	if (!decided) {
		from_guess(m, out);
		decided = out->kind == MAIL_BOUNCE;
	}

	struct finder f = {.ctx = ctx, .out = out};
	find_tokens(&f, m, out->kind == MAIL_BOUNCE || out->kind == MAIL_COMPLAINT);
	if (original_id)
		try_msgid(&f, original_id, TOKEN_ORIGINAL);
	free(original_id);
	if (decided)
		return;

	bool known_from = m->from && ctx->is_subscriber && ctx->is_subscriber(ctx->cb, m->from);
	if (out->token_from == TOKEN_UNSUBSCRIBE_ADDRESS) {
		out->kind = MAIL_UNSUBSCRIBE;
		set_reason(out, "sent to the unsubscribe address", NULL, NULL);
	} else if ((out->subscriber || known_from) &&
		   (f.to_unsubscribe || words_unsubscribe(m->subject, m->own_text))) {
		out->kind = MAIL_UNSUBSCRIBE;
		if (!out->subscriber)
			out->subscriber = xstrdup(m->from);
		set_reason(out, "asks to unsubscribe", NULL, NULL);
	} else if (auto_reply(m, out)) {
		out->kind = MAIL_AUTO_REPLY;
	} else if (f.to_bounce) {
		out->kind = MAIL_AUTO_REPLY;
		set_reason(out, "sent to the bounce address", NULL, NULL);
	} else if ((out->list = subscribe_list(ctx->subscribe, m))) {
		out->kind = MAIL_SUBSCRIBE;
		set_reason(out, "sent to the subscribe address", NULL, NULL);
	} else {
		set_reason(out, "from a person", NULL, NULL);
	}
	if (out->kind == MAIL_INQUIRY || out->kind == MAIL_UNSUBSCRIBE ||
	    out->kind == MAIL_SUBSCRIBE)
		check_urgent(m, ctx, out);
	/* "Stop. I can't go on." must reach a person, not just the list. */
	if (out->kind == MAIL_UNSUBSCRIBE && out->urgent) {
		out->kind = MAIL_INQUIRY;
		set_reason(out, "asks to unsubscribe, in crisis words", NULL, NULL);
	}
	if (out->kind == MAIL_SUBSCRIBE && out->urgent) {
		out->kind = MAIL_INQUIRY;
		set_reason(out, "sent to the subscribe address, in crisis words", NULL, NULL);
	}
}

void classification_free(struct classification *c)
{
	free(c->subscriber);
	free(c->token);
	free(c->slug);
	free(c->status);
	free(c->diagnostic);
	free(c->feedback_type);
	free(c->list);
	strv_free(&c->addresses);
	*c = (struct classification){0};
}
