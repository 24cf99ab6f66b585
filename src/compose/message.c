#include "compose/message.h"

#include <cmark.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/dkim.h"
#include "compose/mime.h"
#include "compose/render.h"
#include "core/datadir.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"

/* A bound template with every literal piece already quoted-printable. */
struct part {
	struct tpl *tpl;
	struct tpl_plan plan;
	struct span *enc;      /* per piece: encoded TP_TEXT, else empty */
	struct dkim_piece *dk; /* per piece: prepared for the DKIM body hash (dkim.h) */
	struct buf dkbuf;      /* their canonical middles */
	struct buf encbuf;
	char *content; /* the rendered article for {{{content}}} */
};

struct newsletter {
	const struct config *cfg;
	const struct article *a;
	const struct secret *secret;
	time_t stamp;
	char stamp36[16];
	char *date_human;
	char *year;
	char *web_url;
	char *closing_text;		  /* the closing, wrapped for the text part */
	char *reply_spec, *reply_display; /* reply_to split once; spec holds {token} */
	char *unsub_spec, *bounce_spec;
	struct part text, html;
	/* Header fields identical for everyone, in the order they are written:
	 * Date, [From], To, Reply-To, [Subject], Message-ID, [List-Id],
	 * List-Unsubscribe(-Post), [Precedence ... Content-Type]. */
	struct buf h_from, h_subject, h_list_id, h_tail;
	struct buf mime_text; /* boundary + headers opening the text part */
	struct buf mime_html; /* boundary + headers opening the HTML part */
	struct buf mime_end;
	time_t date_cached;
	char date_hdr[64];
	struct dkim *dkim; /* NULL: not signing */
};

/* ---- template values -------------------------------------------------------------------- */

struct static_ctx {
	struct newsletter *nl;
	const char *content;
	bool text; /* the plain-text template: long values come wrapped */
};

static enum tpl_lookup_result value(struct span *v, const char *s)
{
	*v = s ? span_cstr(s) : (struct span){"", 0};
	return TPL_VALUE;
}

static enum tpl_lookup_result static_lookup(void *ctx, struct span name, struct span *v)
{
	struct static_ctx *c = ctx;
	const struct config *cfg = c->nl->cfg;
	const struct article *a = c->nl->a;
	if (span_starts_with(name, "subscriber.") || span_starts_with(name, "unsubscribe."))
		return TPL_LATER;
	if (span_eq(name, "content"))
		return value(v, c->content);
	if (span_eq(name, "year"))
		return value(v, c->nl->year);
	if (span_eq(name, "site.name"))
		return value(v, cfg->site_name);
	if (span_eq(name, "site.url"))
		return value(v, cfg->site_url);
	if (span_eq(name, "site.postal_address"))
		return value(v, cfg->site_postal_address);
	if (span_eq(name, "site.lang"))
		return value(v, cfg->site_lang);
	if (span_eq(name, "site.crisis_line"))
		return value(v, cfg->crisis_line);
	if (!span_starts_with(name, "article."))
		return TPL_UNKNOWN;
	struct span k = {name.p + 8, name.n - 8};
	if (span_eq(k, "title"))
		return value(v, a->title);
	if (span_eq(k, "date"))
		return value(v, c->nl->date_human);
	if (span_eq(k, "author"))
		return value(v, a->author);
	if (span_eq(k, "preheader"))
		return value(v, a->preheader);
	if (span_eq(k, "slug"))
		return value(v, a->slug);
	if (span_eq(k, "url"))
		return value(v, c->nl->web_url);
	if (span_eq(k, "closing"))
		return value(v, c->text ? c->nl->closing_text : a->closing);
	for (size_t i = 0; i < a->nextra; i++)
		if (span_eq(k, a->extra[i].key))
			return value(v, a->extra[i].value);
	/* An optional key this article does not set: empty, so sections hide. */
	return value(v, NULL);
}

enum tpl_lookup_result newsletter_known_name(void *ctx, struct span name, struct span *v)
{
	const struct template_names *t = ctx;
	static const char *const fixed[] = {"content",
					    "year",
					    "site.name",
					    "site.url",
					    "site.postal_address",
					    "site.lang",
					    "site.crisis_line",
					    "article.title",
					    "article.date",
					    "article.author",
					    "article.preheader",
					    "article.slug",
					    "article.url",
					    "article.closing",
					    "subscriber.email",
					    "subscriber.name",
					    "subscriber.first_name",
					    "unsubscribe.url",
					    "unsubscribe.mailto",
					    NULL};
	*v = (struct span){"", 0};
	for (const char *const *f = fixed; *f; f++)
		if (span_eq(name, *f))
			return TPL_VALUE;
	if (span_starts_with(name, "article.") && t && t->article_keys)
		for (const char *const *k = t->article_keys; *k; k++)
			if (span_eq((struct span){name.p + 8, name.n - 8}, *k))
				return TPL_VALUE;
	if (span_starts_with(name, "subscriber.") && t && t->subscriber_keys)
		for (const char *const *k = t->subscriber_keys; *k; k++)
			if (span_eq((struct span){name.p + 11, name.n - 11}, *k))
				return TPL_VALUE;
	return TPL_UNKNOWN;
}

/* Per-recipient values; unsubscribe links and first name computed by compose. */
struct person_ctx {
	const struct recipient *r;
	struct span first_name;
	struct span unsub_url, unsub_mailto;
};

static enum tpl_lookup_result person_lookup(void *ctx, struct span name, struct span *v)
{
	struct person_ctx *c = ctx;
	*v = (struct span){"", 0};
	if (span_eq(name, "unsubscribe.url"))
		return *v = c->unsub_url, TPL_VALUE;
	if (span_eq(name, "unsubscribe.mailto"))
		return *v = c->unsub_mailto, TPL_VALUE;
	if (!span_starts_with(name, "subscriber."))
		return TPL_UNKNOWN;
	struct span k = {name.p + 11, name.n - 11};
	if (span_eq(k, "email"))
		return value(v, c->r->email);
	for (size_t i = 0; i < c->r->nfields; i++)
		if (span_eq(k, c->r->fields[i].key))
			return value(v, c->r->fields[i].value);
	if (span_eq(k, "name"))
		return value(v, c->r->name);
	if (span_eq(k, "first_name"))
		return *v = c->first_name, TPL_VALUE;
	return TPL_VALUE; /* a key this subscriber lacks is empty */
}

/* ---- preparing ------------------------------------------------------------------------ */

static int load_template(const struct config *cfg, const char *file, enum tpl_escape esc,
			 struct tpl **out, struct buf *src, struct lb_err *err)
{
	char *rel = path_join("templates", file);
	bool installed;
	char *path = datadir_template(cfg, file, &installed);
	int rc = fsx_read(path, src, 1 << 20, err);
	if (rc == LB_ENOINPUT)
		datadir_missing(file, err);
	if (!rc)
		rc = tpl_compile(installed ? path : rel, src->p, src->n, esc, out, err);
	free(path);
	free(rel);
	return rc;
}

static void encode_plan(struct part *pt, bool dkim)
{
	/* Encode into one buffer first, then point the spans: the buffer moves while it grows. */
	size_t *off = xcalloc(pt->plan.n + 1, sizeof *off);
	for (size_t i = 0; i < pt->plan.n; i++) {
		off[i] = pt->encbuf.n;
		const struct tpl_piece *pc = &pt->plan.pieces[i];
		if (pc->kind == TP_TEXT)
			qp_encode(&pt->encbuf, pc->text.p, pc->text.n);
	}
	off[pt->plan.n] = pt->encbuf.n;
	pt->enc = xcalloc(pt->plan.n + 1, sizeof *pt->enc);
	pt->dk = dkim ? xcalloc(pt->plan.n + 1, sizeof *pt->dk) : NULL;
	for (size_t i = 0; i < pt->plan.n; i++) {
		pt->enc[i] = (struct span){buf_cstr(&pt->encbuf) + off[i], off[i + 1] - off[i]};
		if (dkim)
			dkim_piece_prepare(pt->enc[i].p, pt->enc[i].n, &pt->dkbuf, &pt->dk[i]);
	}
	free(off);
}

static int prepare_part(struct newsletter *nl, struct part *pt, const char *file,
			enum tpl_escape esc, struct buf *src, struct lb_err *err)
{
	int rc = load_template(nl->cfg, file, esc, &pt->tpl, src, err);
	if (rc)
		return rc;
	struct static_ctx sc = {nl, pt->content, esc == TPL_ESC_NONE};
	if ((rc = tpl_bind(pt->tpl, static_lookup, &sc, &pt->plan, err)))
		return rc;
	encode_plan(pt, nl->cfg->dkim_keys[0].selector != NULL);
	return 0;
}

static int render_article(struct newsletter *nl, struct lb_err *err)
{
	struct buf h = BUF_INIT, t = BUF_INIT;
	int rc = render_markdown(nl->cfg, nl->a->body, strlen(nl->a->body), MD_FLOW,
				 "newsletter.html", &h, &t, err);
	nl->html.content = buf_take(&h);
	nl->text.content = buf_take(&t);
	return rc;
}

static void base36(char *out, size_t cap, unsigned long long v)
{
	char tmp[32];
	size_t n = 0;
	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v && n < sizeof tmp);
	size_t i = 0;
	for (; i < n && i + 1 < cap; i++)
		out[i] = tmp[n - 1 - i];
	out[i] = '\0';
}

void newsletter_subject_prefix(struct newsletter *nl, const char *prefix)
{
	struct buf subject = BUF_INIT;
	buf_printf(&subject, "%s%s", prefix, nl->a->title);
	buf_reset(&nl->h_subject);
	hdr_text(&nl->h_subject, "Subject", buf_cstr(&subject));
	buf_free(&subject);
}

static void prepare_headers(struct newsletter *nl)
{
	const struct config *cfg = nl->cfg;
	hdr_address(&nl->h_from, "From", cfg->from.display, cfg->from.spec);
	hdr_text(&nl->h_subject, "Subject", nl->a->title);
	struct buf lid = BUF_INIT;
	mime_phrase(&lid, cfg->site_name);
	buf_printf(&lid, " <%s>", cfg->list_id);
	hdr_raw(&nl->h_list_id, "List-Id", lid.p);
	buf_free(&lid);
	struct buf *h = &nl->h_tail;
	hdr_raw(h, "Precedence", "bulk");
	hdr_raw(h, "Auto-Submitted", "auto-generated");
	hdr_raw(h, "MIME-Version", "1.0");
	/* "=_" cannot occur in quoted-printable text (= is always =XX there), so the
	 * boundary can never collide with the body. */
	struct buf ct = BUF_INIT;
	buf_printf(&ct, "multipart/alternative; boundary=\"=_lb_%s_%s\"", nl->stamp36, nl->a->slug);
	hdr_raw(h, "Content-Type", ct.p);
	buf_free(&ct);
	buf_printf(&nl->mime_text,
		   "\r\nThis is a message in MIME format: a text and an HTML version.\r\n"
		   "\r\n--=_lb_%s_%s\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   nl->stamp36, nl->a->slug);
	buf_printf(&nl->mime_html,
		   "\r\n--=_lb_%s_%s\r\n"
		   "Content-Type: text/html; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   nl->stamp36, nl->a->slug);
	buf_printf(&nl->mime_end, "\r\n--=_lb_%s_%s--\r\n", nl->stamp36, nl->a->slug);
}

/* Address patterns are parsed once; per recipient only {token} is filled in.
 * '{' and '}' are atext, so a pattern parses as an address as it stands. */
static int split_pattern(const char *pattern, char **spec, char **display, struct lb_err *err)
{
	struct addr a;
	int rc = addr_parse(span_cstr(pattern), &a, err);
	if (rc)
		return rc;
	*spec = xstrdup(a.spec);
	if (display && a.display)
		*display = xstrdup(a.display);
	addr_free(&a);
	return 0;
}

static int split_patterns(struct newsletter *nl, struct lb_err *err)
{
	const struct config *cfg = nl->cfg;
	int rc = 0;
	if (cfg->reply_to)
		rc = split_pattern(cfg->reply_to, &nl->reply_spec, &nl->reply_display, err);
	if (!rc)
		rc = split_pattern(cfg->unsub_mailto, &nl->unsub_spec, NULL, err);
	if (!rc && cfg->bounce_to)
		rc = split_pattern(cfg->bounce_to, &nl->bounce_spec, NULL, err);
	return rc;
}

int newsletter_prepare(const struct config *cfg, const struct article *a, const struct secret *s,
		       time_t stamp, struct newsletter **out, struct lb_err *err)
{
	struct newsletter *nl = xcalloc(1, sizeof *nl);
	nl->cfg = cfg;
	nl->a = a;
	nl->secret = s;
	nl->stamp = stamp;
	base36(nl->stamp36, sizeof nl->stamp36, (unsigned long long)stamp);
	struct buf b = BUF_INIT;
	time_human_date(&b, a->date);
	nl->date_human = buf_take(&b);
	struct tm tm;
	localtime_r(&stamp, &tm);
	buf_printf(&b, "%d", tm.tm_year + 1900);
	nl->year = buf_take(&b);
	if (a->url)
		nl->web_url = xstrdup(a->url);
	else if (cfg->article_url)
		nl->web_url = config_expand(cfg->article_url, NULL, a->slug);
	nl->date_cached = (time_t)-1;
	if (a->closing) {
		wrap_text(&b, a->closing, strlen(a->closing), 72, "", "");
		while (b.n && b.p[b.n - 1] == '\n')
			buf_truncate(&b, 1);
		nl->closing_text = buf_take(&b);
	}

	struct buf html_src = BUF_INIT, text_src = BUF_INIT;
	int rc = render_article(nl, err);
	if (!rc)
		rc = prepare_part(nl, &nl->html, "newsletter.html", TPL_ESC_HTML, &html_src, err);
	if (!rc)
		rc = prepare_part(nl, &nl->text, "newsletter.txt", TPL_ESC_NONE, &text_src, err);
	buf_free(&html_src);
	buf_free(&text_src);
	if (rc) {
		newsletter_free(nl);
		return rc;
	}
	if ((rc = split_patterns(nl, err))) {
		newsletter_free(nl);
		return rc;
	}
	prepare_headers(nl);
	if ((rc = dkim_open(cfg, &nl->dkim, err))) {
		newsletter_free(nl);
		return rc;
	}
	*out = nl;
	return 0;
}

static void part_free(struct part *pt)
{
	tpl_free(pt->tpl);
	tpl_plan_free(&pt->plan);
	free(pt->enc);
	free(pt->dk);
	buf_free(&pt->dkbuf);
	buf_free(&pt->encbuf);
	free(pt->content);
}

void newsletter_free(struct newsletter *nl)
{
	if (!nl)
		return;
	part_free(&nl->text);
	part_free(&nl->html);
	free(nl->date_human);
	free(nl->year);
	free(nl->web_url);
	free(nl->closing_text);
	free(nl->reply_spec);
	free(nl->reply_display);
	free(nl->unsub_spec);
	free(nl->bounce_spec);
	buf_free(&nl->h_from);
	buf_free(&nl->h_subject);
	buf_free(&nl->h_list_id);
	buf_free(&nl->h_tail);
	buf_free(&nl->mime_text);
	buf_free(&nl->mime_html);
	buf_free(&nl->mime_end);
	dkim_free(nl->dkim);
	free(nl);
}

/* ---- per recipient ---------------------------------------------------------------------- */

void message_init(struct message *m)
{
	memset(m, 0, sizeof *m);
}

void message_free(struct message *m)
{
	buf_free(&m->head);
	buf_free(&m->own);
	buf_free(&m->scratch);
	buf_free(&m->envelope_from);
	buf_free(&m->message_id);
	buf_free(&m->unsub_url);
	buf_free(&m->unsub_mailto);
	if (m->dkim)
		buf_free(&m->dkim->fields);
	free(m->dkim);
	free(m->seg);
	free(m->iov);
	memset(m, 0, sizeof *m);
}

static void seg_shared(struct message *m, struct span s, const struct dkim_piece *dk,
		       const struct buf *dkbuf)
{
	if (s.n == 0)
		return;
	m->seg = xgrowarray(m->seg, &m->segcap, m->nseg + 1, sizeof *m->seg);
	m->seg[m->nseg++] =
	    (struct msg_seg){s.p, 0, s.n, dk, dk ? buf_cstr(dkbuf) + dk->off : NULL};
}

static void seg_own(struct message *m, size_t off)
{
	if (m->own.n == off)
		return;
	m->seg = xgrowarray(m->seg, &m->segcap, m->nseg + 1, sizeof *m->seg);
	m->seg[m->nseg++] = (struct msg_seg){NULL, off, m->own.n - off, NULL, NULL};
}

static bool span_empty(struct span s)
{
	return s.n == 0;
}

static int compose_part(const struct part *pt, struct person_ctx *pc, struct message *m,
			struct lb_err *err)
{
	const struct tpl_plan *plan = &pt->plan;
	for (size_t i = 0; i < plan->n; i++) {
		const struct tpl_piece *pc_i = &plan->pieces[i];
		struct span v;
		if (pc_i->kind == TP_TEXT) {
			seg_shared(m, pt->enc[i], pt->dk ? &pt->dk[i] : NULL, &pt->dkbuf);
			continue;
		}
		if (pc_i->kind == TP_END)
			continue;
		if (person_lookup(pc, pc_i->text, &v) != TPL_VALUE)
			return err_set(err, LB_ESOFTWARE, "template hole '%.*s' has no value",
				       (int)pc_i->text.n, pc_i->text.p);
		if (pc_i->kind == TP_SECTION && span_empty(v))
			i = pc_i->end;
		else if (pc_i->kind == TP_INVERTED && !span_empty(v))
			i = pc_i->end;
		else if (pc_i->kind == TP_VAR) {
			buf_reset(&m->scratch);
			tpl_escape(&m->scratch, v, pc_i->escape);
			size_t off = m->own.n;
			qp_encode(&m->own, m->scratch.p, m->scratch.n);
			seg_own(m, off);
		}
	}
	return 0;
}

static void person_setup(struct newsletter *nl, const struct recipient *r, struct message *m,
			 struct person_ctx *pc)
{
	const struct config *cfg = nl->cfg;
	token_make(nl->secret, cfg->list_id, r->email, m->token);
	pc->r = r;
	pc->first_name = span_trim(span_cstr(r->name));
	const char *sp = memchr(pc->first_name.p, ' ', pc->first_name.n);
	if (sp)
		pc->first_name.n = (size_t)(sp - pc->first_name.p);
	buf_reset(&m->unsub_url);
	buf_reset(&m->unsub_mailto);
	if (cfg->unsub_url) {
		char *u = config_expand(cfg->unsub_url, m->token, nl->a->slug);
		buf_adds(&m->unsub_url, u);
		free(u);
	}
	char *mt = config_expand(nl->unsub_spec, m->token, NULL);
	buf_printf(&m->unsub_mailto, "mailto:%s?subject=unsubscribe", mt);
	free(mt);
	pc->unsub_url = buf_span(&m->unsub_url);
	pc->unsub_mailto = buf_span(&m->unsub_mailto);
}

static void person_headers(struct newsletter *nl, const struct recipient *r, time_t now,
			   struct person_ctx *pc, struct message *m)
{
	const struct config *cfg = nl->cfg;
	struct buf *h = &m->head;
	if (now != nl->date_cached) {
		struct buf d = BUF_INIT;
		time_rfc5322(&d, now);
		size_t n = d.n < sizeof nl->date_hdr - 1 ? d.n : sizeof nl->date_hdr - 1;
		memcpy(nl->date_hdr, d.p, n);
		nl->date_hdr[n] = '\0';
		buf_free(&d);
		nl->date_cached = now;
	}
	buf_adds(h, "Date: ");
	buf_adds(h, nl->date_hdr);
	buf_adds(h, "\r\n");
	buf_addspan(h, buf_span(&nl->h_from));
	hdr_address(h, "To", r->name, r->email);
	if (nl->reply_spec) {
		char *rt = config_expand(nl->reply_spec, m->token, NULL);
		hdr_address(h, "Reply-To", nl->reply_display, rt);
		free(rt);
	}
	buf_addspan(h, buf_span(&nl->h_subject));
	buf_reset(&m->message_id);
	buf_printf(&m->message_id, "%s.%s.%s@%s", nl->a->slug, m->token, nl->stamp36,
		   cfg->from.domain);
	buf_reset(&m->scratch);
	buf_printf(&m->scratch, "<%s>", m->message_id.p);
	hdr_raw(h, "Message-ID", m->scratch.p);
	buf_addspan(h, buf_span(&nl->h_list_id));
	buf_reset(&m->scratch);
	buf_printf(&m->scratch, "<%.*s>", (int)pc->unsub_mailto.n, pc->unsub_mailto.p);
	if (pc->unsub_url.n)
		buf_printf(&m->scratch, ", <%.*s>", (int)pc->unsub_url.n, pc->unsub_url.p);
	hdr_raw(h, "List-Unsubscribe", m->scratch.p);
	if (pc->unsub_url.n)
		hdr_raw(h, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	buf_addspan(h, buf_span(&nl->h_tail));

	buf_reset(&m->envelope_from);
	if (nl->bounce_spec) {
		char *b = config_expand(nl->bounce_spec, m->token, NULL);
		buf_adds(&m->envelope_from, b);
		free(b);
	} else {
		buf_adds(&m->envelope_from, cfg->from.spec);
	}
}

int newsletter_compose(struct newsletter *nl, const struct recipient *r, time_t now,
		       struct message *m, struct lb_err *err)
{
	struct person_ctx pc;
	buf_reset(&m->head);
	buf_reset(&m->own);
	m->nseg = 0;
	person_setup(nl, r, m, &pc);
	person_headers(nl, r, now, &pc, m);
	seg_shared(m, buf_span(&nl->mime_text), NULL, NULL);
	int rc = compose_part(&nl->text, &pc, m, err);
	if (rc)
		return rc;
	seg_shared(m, buf_span(&nl->mime_html), NULL, NULL);
	if ((rc = compose_part(&nl->html, &pc, m, err)))
		return rc;
	seg_shared(m, buf_span(&nl->mime_end), NULL, NULL);
	if (nl->dkim && !m->dkim)
		m->dkim = xcalloc(1, sizeof *m->dkim);
	if (m->dkim) {
		m->dkim->signer = nl->dkim;
		m->dkim->when = now;
	}
	message_build_iov(m);
	return 0;
}

int newsletter_render_parts(struct newsletter *nl, const struct recipient *r, struct buf *html,
			    struct buf *text, struct lb_err *err)
{
	struct message m;
	struct person_ctx pc;
	message_init(&m);
	person_setup(nl, r, &m, &pc);
	int rc = tpl_plan_render(&nl->html.plan, person_lookup, &pc, html, err);
	if (!rc)
		rc = tpl_plan_render(&nl->text.plan, person_lookup, &pc, text, err);
	message_free(&m);
	return rc;
}
