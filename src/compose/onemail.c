#include "compose/onemail.h"

#include <cmark.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "compose/mime.h"
#include "compose/render.h"
#include "core/datadir.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"

/* At most this many References: the first (the thread's root) and the most
 * recent ones, as mail clients do, so a long thread cannot grow the header
 * without bound. */
#define MAX_REFERENCES 10

static const char *const kind_names[] = {"reply", "ack", "alert", "digest", "confirm"};

/* A msg-id we may copy into our header: printable ASCII, no blanks, no
 * angle brackets (hdr_raw would otherwise have to refuse it). */
static bool usable_id(const char *id)
{
	if (!id || !*id || strlen(id) > 250)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

static void base36(struct buf *out, uint64_t v)
{
	char tmp[16];
	size_t n = 0;
	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v && n < sizeof tmp);
	while (n)
		buf_addc(out, tmp[--n]);
}

static uint64_t random64(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* No entropy source: pid and address bits still keep ids of
		 * this process apart; uniqueness, not secrecy, is the point. */
		r = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&r;
	}
	return r;
}

static void address_list(struct buf *out, const struct addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(out, ", ");
		if (v[i].display && *v[i].display) {
			mime_phrase(out, v[i].display);
			buf_addc(out, ' ');
		}
		buf_printf(out, "<%s>", v[i].spec);
	}
}

static void threading(struct buf *out, const struct onemail *om)
{
	struct buf b = BUF_INIT;
	if (usable_id(om->in_reply_to)) {
		buf_printf(&b, "<%s>", om->in_reply_to);
		hdr_raw(out, "In-Reply-To", b.p);
		buf_reset(&b);
	}
	size_t n = 0;
	const char *const *refs = om->references;
	while (refs && refs[n])
		n++;
	/* The ids to keep: the first, then the newest ones. */
	size_t skip_to = n > MAX_REFERENCES ? n - (MAX_REFERENCES - 1) : 1;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i < skip_to)
			continue;
		if (!usable_id(refs[i]))
			continue;
		if (b.n)
			buf_addc(&b, ' ');
		buf_printf(&b, "<%s>", refs[i]);
	}
	if (b.n)
		hdr_raw(out, "References", b.p);
	buf_free(&b);
}

int onemail_compose(const struct onemail *om, struct buf *out, char **message_id,
		    struct lb_err *err)
{
	if (!om->from || !om->from->spec)
		return err_set(err, LB_EDATA, "a mail without a From address");
	if (!om->nto)
		return err_set(err, LB_EDATA, "a mail without a recipient");
	struct buf id = BUF_INIT, tmp = BUF_INIT, boundary = BUF_INIT;
	buf_printf(&id, "lb.%s.", kind_names[om->kind]);
	base36(&id, (uint64_t)om->date);
	buf_addc(&id, '.');
	base36(&id, random64());
	buf_printf(&id, "@%s", om->from->domain);
	/* "=_" never occurs in quoted-printable text, so the boundary cannot
	 * collide with a body line. */
	buf_adds(&boundary, "=_lb_");
	base36(&boundary, random64());

	buf_adds(out, "Date: ");
	time_rfc5322(out, om->date);
	buf_adds(out, "\r\n");
	hdr_address(out, "From", om->from->display, om->from->spec);
	address_list(&tmp, om->to, om->nto);
	hdr_raw(out, "To", tmp.p);
	if (om->reply_to)
		hdr_address(out, "Reply-To", om->reply_to->display, om->reply_to->spec);
	hdr_text(out, "Subject", om->subject ? om->subject : "");
	buf_reset(&tmp);
	buf_printf(&tmp, "<%s>", id.p);
	hdr_raw(out, "Message-ID", tmp.p);
	threading(out, om);
	if (om->kind != OM_REPLY) {
		hdr_raw(out, "Auto-Submitted",
			om->kind == OM_ACK ? "auto-replied" : "auto-generated");
		/* Exchange and Outlook: do not answer this with an out-of-office. */
		hdr_raw(out, "X-Auto-Response-Suppress", "All");
	}
	hdr_raw(out, "MIME-Version", "1.0");
	buf_reset(&tmp);
	buf_printf(&tmp, "multipart/alternative; boundary=\"%s\"", boundary.p);
	hdr_raw(out, "Content-Type", tmp.p);

	buf_printf(out,
		   "\r\nThis is a message in MIME format: a text and an HTML version.\r\n"
		   "\r\n--%s\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   boundary.p);
	const char *text = om->text ? om->text : "";
	qp_encode(out, text, strlen(text));
	buf_printf(out,
		   "\r\n--%s\r\n"
		   "Content-Type: text/html; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   boundary.p);
	struct buf made = BUF_INIT;
	const char *html = om->html;
	if (!html) {
		onemail_text_html(&made, text, "en");
		html = made.p;
	}
	qp_encode(out, html, strlen(html));
	buf_printf(out, "\r\n--%s--\r\n", boundary.p);

	if (message_id)
		*message_id = xstrdup(id.p);
	buf_free(&made);
	buf_free(&id);
	buf_free(&tmp);
	buf_free(&boundary);
	return 0;
}

void onemail_subject(struct buf *out, const char *prefix, const char *subject, const char *fallback)
{
	struct span s = span_trim(span_cstr(subject ? subject : ""));
	/* "Re: " matches "re:foo" and "RE: foo" alike: compare without the blank. */
	char *bare = span_dup(span_trim(span_cstr(prefix)));
	if (!s.n) {
		buf_adds(out, prefix);
		buf_adds(out, fallback);
	} else if (*bare && span_starts_with_ci(s, bare)) {
		buf_addspan(out, s);
	} else {
		buf_adds(out, prefix);
		buf_addspan(out, s);
	}
	free(bare);
}

static void page_open(struct buf *html, const char *lang)
{
	buf_adds(html, "<!DOCTYPE html>\n<html lang=\"");
	tpl_escape(html, span_cstr(lang ? lang : "en"), TPL_ESC_HTML);
	buf_adds(html, "\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		       "</head>\n<body style=\"margin:0;padding:24px;background-color:#ffffff;\">\n"
		       "<div style=\"max-width:600px;font-family:-apple-system,BlinkMacSystemFont,"
		       "Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;"
		       "color:#3b3a36;\">\n");
}

static void page_close(struct buf *html)
{
	buf_adds(html, "</div>\n</body>\n</html>\n");
}

/* Where a web address starts in [p, end) ("http://" or "https://"), or NULL. */
static const char *find_url(const char *p, const char *end)
{
	for (const char *h; p < end && (h = memmem(p, (size_t)(end - p), "http", 4)); p = h + 4) {
		size_t left = (size_t)(end - h);
		if ((left > 7 && memcmp(h + 4, "://", 3) == 0) ||
		    (left > 8 && memcmp(h + 4, "s://", 4) == 0))
			return h;
	}
	return NULL;
}

/* line, escaped, with its web addresses as links: the crisis line's address
 * must be one tap away in every mail client, not only in those that guess. */
static void linked_line(struct buf *html, struct span line)
{
	const char *p = line.p, *end = line.p + line.n, *u;
	while ((u = find_url(p, end))) {
		const char *e = u;
		while (e < end && *e != ' ' && *e != '\t' && *e != '<' && *e != '>' && *e != '"')
			e++;
		while (e > u && strchr(".,;:!?)'", e[-1]))
			e--; /* the sentence's punctuation, not the address's */
		size_t scheme = u[4] == 's' ? 8 : 7;
		if ((size_t)(e - u) <= scheme) { /* "https://" and no more: text */
			tpl_escape(html, (struct span){p, (size_t)(e - p)}, TPL_ESC_HTML);
			p = e; /* e > u: past "http" at least */
			continue;
		}
		tpl_escape(html, (struct span){p, (size_t)(u - p)}, TPL_ESC_HTML);
		struct span url = {u, (size_t)(e - u)};
		buf_adds(html, "<a href=\"");
		tpl_escape(html, url, TPL_ESC_HTML);
		buf_adds(html, "\">");
		tpl_escape(html, url, TPL_ESC_HTML);
		buf_adds(html, "</a>");
		p = e;
	}
	tpl_escape(html, (struct span){p, (size_t)(end - p)}, TPL_ESC_HTML);
}

/* Columns of s: code points, not bytes. */
static size_t columns(struct span s)
{
	size_t c = 0;
	for (size_t i = 0; i < s.n; i++)
		c += ((unsigned char)s.p[i] & 0xC0) != 0x80;
	return c;
}

/* Whether the line break after prev is where a writer wrapping at WRAP_WIDTH
 * had to break: line's first word would not have fit after prev.  Any other
 * break was meant (a sign-off, a name above an address) and stays. */
#define WRAP_WIDTH 72
static bool wrapped(struct span prev, struct span line)
{
	size_t word = 0;
	while (word < line.n && line.p[word] != ' ' && line.p[word] != '\t')
		word++;
	return columns(span_trim(prev)) + 1 + columns((struct span){line.p, word}) > WRAP_WIDTH;
}

static void paragraphs(struct buf *html, const char *text)
{
	const char *p = text ? text : "";
	bool open = false, code = false;
	struct span prev = {p, 0};
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		struct span line = {p, n};
		bool command = n >= 4 && (memcmp(line.p, "    ", 4) == 0 || line.p[0] == '\t');
		if (code && !command)
			buf_adds(html, "</div>\n");
		code = code && command;
		if (span_trim(line).n == 0) {
			if (open)
				buf_adds(html, "</p>\n");
			open = false;
		} else if (command) {
			/* A command to type: one piece on a narrow screen too
			 * (the block scrolls rather than the command breaks). */
			if (open)
				buf_adds(html, "</p>\n");
			open = false;
			if (!code)
				buf_adds(html,
					 "<div style=\"margin:0 0 16px 0;overflow-x:auto;\">\n");
			code = true;
			buf_adds(html,
				 "<code style=\"display:block;white-space:nowrap;font-family:"
				 "Menlo,Consolas,monospace;font-size:14px;line-height:24px;\">");
			linked_line(html, span_trim(line));
			buf_adds(html, "</code>\n");
		} else {
			/* A line break is a line break (a sign-off, an address, a
			 * list), except where the text was wrapped to fit 72
			 * columns: that paragraph flows again, or a phone would
			 * show every wrapped line as a long one and a short one. */
			bool own_line = line.p[0] == ' ' || line.p[0] == '\t' || line.p[0] == '-' ||
					line.p[0] == '*' || !wrapped(prev, line);
			if (!open)
				buf_adds(html, "<p style=\"margin:0 0 16px 0;\">");
			else
				buf_adds(html, own_line ? "<br>\n" : "\n");
			open = true;
			linked_line(html, line);
			prev = line;
		}
		p += n + (nl != NULL);
	}
	if (open)
		buf_adds(html, "</p>\n");
	if (code)
		buf_adds(html, "</div>\n");
}

void onemail_text_html(struct buf *html, const char *text, const char *lang)
{
	page_open(html, lang);
	paragraphs(html, text);
	page_close(html);
}

void onemail_rows_html(struct buf *html, const char *lang, const char *before,
		       const struct om_row *rows, size_t nrows, const char *after)
{
	page_open(html, lang);
	paragraphs(html, before);
	buf_adds(html, "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" "
		       "style=\"margin:0 0 16px 0;border-collapse:collapse;\">\n");
	for (size_t i = 0; i < nrows; i++) {
		buf_adds(html, "<tr><th scope=\"row\" style=\"padding:2px 16px 2px 0;"
			       "text-align:left;vertical-align:top;font-weight:bold;\">");
		tpl_escape(html, span_cstr(rows[i].label), TPL_ESC_HTML);
		buf_adds(html, "</th><td style=\"padding:2px 0;vertical-align:top;\">");
		tpl_escape(html, span_cstr(rows[i].value ? rows[i].value : ""), TPL_ESC_HTML);
		buf_adds(html, "</td></tr>\n");
	}
	buf_adds(html, "</table>\n");
	paragraphs(html, after);
	page_close(html);
}

/* ---- templates ---------------------------------------------------------------------------- */

struct var_ctx {
	const struct config *cfg;
	const struct om_var *vars;
	size_t n;
	bool html;
	const char *year;
};

static enum tpl_lookup_result var_lookup(void *ctx, struct span name, struct span *v)
{
	const struct var_ctx *c = ctx;
	const struct config *cfg = c->cfg;
	const char *s = NULL;
	bool found = true;
	if (span_eq(name, "site.name"))
		s = cfg->site_name;
	else if (span_eq(name, "site.url"))
		s = cfg->site_url;
	else if (span_eq(name, "site.postal_address"))
		s = cfg->site_postal_address;
	else if (span_eq(name, "site.lang"))
		s = cfg->site_lang;
	else if (span_eq(name, "site.crisis_line"))
		s = cfg->crisis_line;
	else if (span_eq(name, "year"))
		s = c->year;
	else
		found = false;
	for (size_t i = 0; !found && i < c->n; i++) {
		if (span_eq(name, c->vars[i].name)) {
			found = true;
			s = c->html && c->vars[i].html ? c->vars[i].html : c->vars[i].text;
		}
	}
	if (!found)
		return TPL_UNKNOWN;
	*v = s ? span_cstr(s) : (struct span){"", 0};
	return TPL_VALUE;
}

/* templates/FILE, compiled.  A missing one is LB_ENOINPUT, said so. */
int onemail_compile(const struct config *cfg, const char *file, enum tpl_escape esc, struct tpl **t,
		    struct lb_err *err)
{
	char *rel = path_join("templates", file);
	bool installed;
	char *path = datadir_template(cfg, file, &installed);
	struct buf src = BUF_INIT;
	*t = NULL;
	int rc = fsx_read(path, &src, 1 << 20, err);
	if (rc == LB_ENOINPUT)
		datadir_missing(file, err);
	if (!rc)
		rc = tpl_compile(installed ? path : rel, src.p, src.n, esc, t, err);
	buf_free(&src);
	free(path);
	free(rel);
	return rc;
}

static int render_file(const struct config *cfg, const char *file, enum tpl_escape esc,
		       struct var_ctx *vc, struct buf *out, struct lb_err *err)
{
	struct tpl *t = NULL;
	int rc = onemail_compile(cfg, file, esc, &t, err);
	if (!rc)
		rc = tpl_render(t, var_lookup, vc, out, err);
	tpl_free(t);
	return rc;
}

/* The names each one-off mail's template has besides site.* and year (what
 * notify.c and inquiries_edit.c pass to onemail_template). */
static const char *const person_names[] = {"person.name", "person.first_name", "person.email",
					   "inquiry.number", "inquiry.subject"};
static const char *const reply_names[] = {"content", "original.date", "original.text",
					  "original.quoted", "staff.name"};
/* deliver/signup_mail.c's */
static const char *const confirm_names[] = {"confirm.url", "list.name", "consent"};

size_t onemail_check(const struct config *cfg, const char *name, bool required,
		     void (*report)(void *rctx, const char *msg), void *rctx)
{
	struct om_var vars[sizeof person_names / sizeof *person_names +
			   sizeof reply_names / sizeof *reply_names +
			   sizeof confirm_names / sizeof *confirm_names];
	size_t n = 0;
	for (size_t i = 0; i < sizeof person_names / sizeof *person_names; i++)
		vars[n++] = (struct om_var){person_names[i], "", NULL};
	for (size_t i = 0;
	     strcmp(name, "reply") == 0 && i < sizeof reply_names / sizeof *reply_names; i++)
		vars[n++] = (struct om_var){reply_names[i], "", NULL};
	for (size_t i = 0;
	     strcmp(name, "confirm") == 0 && i < sizeof confirm_names / sizeof *confirm_names; i++)
		vars[n++] = (struct om_var){confirm_names[i], "", NULL};
	struct var_ctx vc = {cfg, vars, n, false, "2026"};
	size_t files = 0;
	for (int html = 0; html < 2; html++) {
		struct buf file = BUF_INIT;
		buf_printf(&file, "%s.%s", name, html ? "html" : "txt");
		char *path = datadir_template(cfg, file.p, NULL);
		if ((!html && required) || fsx_exists(path)) {
			struct tpl *t = NULL;
			struct lb_err err = {0};
			if (onemail_compile(cfg, file.p, html ? TPL_ESC_HTML : TPL_ESC_NONE, &t,
					    &err))
				report(rctx, err.msg);
			else
				tpl_check(t, var_lookup, &vc, report, rctx);
			tpl_free(t);
			files++;
		}
		free(path);
		buf_free(&file);
	}
	return files;
}

int onemail_template(const struct config *cfg, const char *name, const struct om_var *vars,
		     size_t nvars, time_t now, struct buf *text, struct buf *html,
		     struct lb_err *err)
{
	struct tm tm;
	localtime_r(&now, &tm);
	char year[16];
	snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
	struct var_ctx vc = {cfg, vars, nvars, false, year};
	struct buf file = BUF_INIT;
	buf_printf(&file, "%s.txt", name);
	int rc = render_file(cfg, file.p, TPL_ESC_NONE, &vc, text, err);
	buf_reset(&file);
	buf_printf(&file, "%s.html", name);
	char *path = datadir_template(cfg, file.p, NULL);
	if (!rc && fsx_exists(path)) {
		vc.html = true;
		rc = render_file(cfg, file.p, TPL_ESC_HTML, &vc, html, err);
	} else if (!rc) {
		onemail_text_html(html, buf_cstr(text), cfg->site_lang);
	}
	free(path);
	buf_free(&file);
	return rc;
}
