/* The style table the HTML renderer reads, its template overrides, and the
 * URL handling both renderers share (resolving against the site URL and
 * refusing schemes a mail client would run).
 */
#include "compose/render.h"
#include "core/datadir.h"
#include "core/fsx.h"
#include "core/config.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const char *const key_names[ST_COUNT] = {
    [ST_P] = "p",	    [ST_H1] = "h1",
    [ST_H2] = "h2",	    [ST_H3] = "h3",
    [ST_H4] = "h4",	    [ST_A] = "a",
    [ST_UL] = "ul",	    [ST_OL] = "ol",
    [ST_LI] = "li",	    [ST_BLOCKQUOTE] = "blockquote",
    [ST_PRE] = "pre",	    [ST_CODE] = "code",
    [ST_IMG] = "img",	    [ST_HR] = "hr",
    [ST_STRONG] = "strong", [ST_EM] = "em",
};

/* Font names are left unquoted (valid CSS for multi-word names) so that the
 * style attribute needs no &quot; entities, which some webmail sanitizers
 * mangle.  Sizes and line heights are in px because Outlook ignores unitless
 * line-height. */
#define BODY_FONT                                                                                  \
	"font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif;"
#define MONO_FONT "font-family:Menlo,Consolas,Liberation Mono,Courier New,monospace;"
#define BODY_TEXT BODY_FONT "font-size:17px;line-height:27px;color:#333333;"

static const char *const defaults[ST_COUNT] = {
    [ST_P] = "margin:0 0 18px 0;" BODY_TEXT,
    [ST_H1] = "margin:0 0 18px 0;" BODY_FONT
	      "font-size:28px;line-height:36px;font-weight:bold;color:#2f5d58;",
    [ST_H2] = "margin:30px 0 12px 0;" BODY_FONT
	      "font-size:22px;line-height:30px;font-weight:bold;color:#2f5d58;",
    [ST_H3] = "margin:26px 0 10px 0;" BODY_FONT
	      "font-size:19px;line-height:27px;font-weight:bold;color:#2f5d58;",
    [ST_H4] = "margin:22px 0 8px 0;" BODY_FONT
	      "font-size:17px;line-height:27px;font-weight:bold;color:#2f5d58;",
    [ST_A] = "color:#2f7a6e;text-decoration:underline;",
    [ST_UL] = "margin:0 0 18px 0;padding:0 0 0 26px;" BODY_TEXT,
    [ST_OL] = "margin:0 0 18px 0;padding:0 0 0 26px;" BODY_TEXT,
    [ST_LI] = "margin:0 0 8px 0;" BODY_TEXT,
    [ST_BLOCKQUOTE] = "margin:0 0 18px 0;padding:2px 0 2px 18px;border-left:4px solid #b9d3cb;"
		      "color:#555555;",
    [ST_PRE] = "margin:0 0 18px 0;padding:12px 14px;background-color:#f4f4f1;" MONO_FONT
	       "font-size:14px;line-height:20px;color:#333333;white-space:pre-wrap;"
	       "word-wrap:break-word;overflow-wrap:break-word;",
    [ST_CODE] = MONO_FONT "font-size:15px;background-color:#f4f4f1;padding:1px 4px;",
    [ST_IMG] = "display:block;width:auto;max-width:100%;height:auto;border:0;outline:none;",
    [ST_HR] = "border:0;border-top:1px solid #dddddd;height:1px;margin:28px 0;padding:0;",
    [ST_STRONG] = "font-weight:bold;",
    [ST_EM] = "font-style:italic;",
};

void style_init(struct style_table *st)
{
	for (int k = 0; k < ST_COUNT; k++)
		st->css[k] = xstrdup(defaults[k]);
}

void style_free(struct style_table *st)
{
	for (int k = 0; k < ST_COUNT; k++) {
		free(st->css[k]);
		st->css[k] = NULL;
	}
}

static int key_lookup(struct span key)
{
	for (int k = 0; k < ST_COUNT; k++)
		if (span_eq(key, key_names[k]))
			return k;
	return -1;
}

static void style_put(struct style_table *st, int k, struct span css)
{
	free(st->css[k]);
	st->css[k] = span_dup(css);
}

bool style_set(struct style_table *st, const char *key, const char *css)
{
	int k = key_lookup(span_cstr(key));
	if (k < 0)
		return false;
	style_put(st, k, span_trim(span_cstr(css ? css : "")));
	return true;
}

const char *style_key_name(enum style_key k)
{
	return (unsigned)k < ST_COUNT ? key_names[k] : "?";
}

static size_t find(const char *s, size_t n, size_t from, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = from; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return i;
	return n;
}

static size_t line_of(const char *s, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

/* Where the styles block opens: "{{!" then optional blanks, "styles", then
 * a blank or the closing braces, so "{{!stylesheet}}" is only a comment. */
static size_t find_block(const char *src, size_t n, size_t *body)
{
	for (size_t at = find(src, n, 0, "{{!"); at < n; at = find(src, n, at + 3, "{{!")) {
		size_t i = at + 3;
		while (i < n && (src[i] == ' ' || src[i] == '\t'))
			i++;
		if (n - i < 6 || memcmp(src + i, "styles", 6) != 0)
			continue;
		i += 6;
		if (i < n && src[i] != ' ' && src[i] != '\t' && src[i] != '\r' && src[i] != '\n' &&
		    src[i] != '}')
			continue;
		*body = i;
		return at;
	}
	return n;
}

int style_from_template(struct style_table *st, const char *tpl_name, const char *src, size_t n,
			struct lb_err *err)
{
	size_t body;
	size_t open = find_block(src, n, &body);
	if (open == n)
		return 0;
	size_t close = find(src, n, body, "}}");
	if (close == n)
		return err_set(err, LB_EDATA, "%s:%zu: unclosed {{!styles block", tpl_name,
			       line_of(src, open));
	/* Check every line before changing anything: a template with one bad
	 * key is reported, not half applied. */
	for (int pass = 0; pass < 2; pass++) {
		size_t line = line_of(src, body);
		for (size_t i = body; i < close; line++) {
			size_t e = i;
			while (e < close && src[e] != '\n')
				e++;
			struct span l = span_trim((struct span){src + i, e - i});
			i = e + 1;
			if (l.n == 0 || l.p[0] == '#')
				continue;
			const char *colon = memchr(l.p, ':', l.n);
			if (!colon)
				return err_set(err, LB_EDATA,
					       "%s:%zu: expected 'key: css' in styles", tpl_name,
					       line);
			struct span key = span_trim((struct span){l.p, (size_t)(colon - l.p)});
			struct span css =
			    span_trim((struct span){colon + 1, (size_t)(l.p + l.n - colon - 1)});
			int k = key_lookup(key);
			if (k < 0)
				return err_set(err, LB_EDATA, "%s:%zu: unknown style key '%.*s'",
					       tpl_name, line, (int)(key.n < 40 ? key.n : 40),
					       key.p);
			if (pass == 1)
				style_put(st, k, css);
		}
	}
	return 0;
}

/* ---- URLs ---- */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of "scheme:" at the start of u (RFC 3986 letters), or 0. */
static size_t scheme_len(const char *u)
{
	if (!is_alpha(u[0]))
		return 0;
	size_t i = 1;
	while (is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return u[i] == ':' ? i + 1 : 0;
}

bool url_is_safe(const char *url)
{
	/* Browsers skip leading blanks and control characters and drop tabs
	 * and newlines anywhere, so "java\tscript:" must count as javascript:. */
	char scheme[16];
	size_t n = 0;
	const unsigned char *u = (const unsigned char *)url;
	for (; *u; u++) {
		if (*u <= 0x20)
			continue;
		if (*u == ':' || *u == '/' || *u == '?' || *u == '#' || n == sizeof scheme - 1)
			break;
		scheme[n++] = (char)(*u >= 'A' && *u <= 'Z' ? *u + 32 : *u);
	}
	if (*u != ':')
		return true;
	scheme[n] = '\0';
	if (strcmp(scheme, "javascript") == 0 || strcmp(scheme, "vbscript") == 0)
		return false;
	if (strcmp(scheme, "data") != 0)
		return true;
	/* Raster images only: an SVG can carry script. */
	static const char *const images[] = {"image/png", "image/gif", "image/jpeg", "image/webp"};
	struct span rest = span_cstr((const char *)u + 1);
	for (size_t i = 0; i < sizeof images / sizeof *images; i++)
		if (span_starts_with_ci(rest, images[i]))
			return true;
	return false;
}

/* Percent-encode what may not stand in a URL (blanks, controls, quotes,
 * angle brackets, non-ASCII) so that the result is one clickable word in
 * text and a clean attribute in HTML.  '%' is kept: it is already encoded. */
static void add_url_bytes(struct buf *out, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c)) {
			buf_addc(out, '%');
			buf_addc(out, hex[c >> 4]);
			buf_addc(out, hex[c & 15]);
		} else {
			buf_addc(out, (char)c);
		}
	}
}

void url_resolve(struct buf *out, const char *base, const char *href)
{
	if (!href)
		href = "";
	if (scheme_len(href) || href[0] == '#' || !base || !base[0]) {
		add_url_bytes(out, href, strlen(href));
		return;
	}
	/* base = scheme://authority/path?query#fragment */
	size_t scheme = scheme_len(base);
	size_t auth = scheme;
	if (scheme && base[scheme] == '/' && base[scheme + 1] == '/')
		auth = scheme + 2;
	size_t path = auth == scheme ? scheme : auth + strcspn(base + auth, "/?#");
	size_t end = path + strcspn(base + path, "?#"); /* end of the path */

	if (href[0] == '/' && href[1] == '/') { /* network-path reference */
		add_url_bytes(out, base, scheme);
	} else if (href[0] == '/') {
		add_url_bytes(out, base, path);
	} else if (href[0] == '?' || href[0] == '\0') {
		add_url_bytes(out, base, end);
	} else {
		/* The base's directory: up to its last '/', or the origin plus "/". */
		size_t dir = end;
		while (dir > path && base[dir - 1] != '/')
			dir--;
		for (;;) {
			if (href[0] == '.' && href[1] == '/') {
				href += 2;
			} else if (href[0] == '.' && href[1] == '.' &&
				   (href[2] == '/' || !href[2])) {
				href += href[2] ? 3 : 2;
				/* Up one directory, never above the root. */
				if (dir > path + 1)
					dir--;
				while (dir > path + 1 && base[dir - 1] != '/')
					dir--;
			} else if (href[0] == '.' && !href[1]) {
				href++;
			} else {
				break;
			}
		}
		add_url_bytes(out, base, dir);
		if (dir == path)
			buf_addc(out, '/');
	}
	add_url_bytes(out, href, strlen(href));
}

/* Every soft break (a single newline in a paragraph) of doc becomes a hard
 * one: both renderers then keep the line. */
static void hard_breaks(cmark_node *doc)
{
	cmark_node **soft = NULL;
	size_t n = 0, cap = 0;
	cmark_iter *it = cmark_iter_new(doc);
	for (cmark_event_type ev; (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE;) {
		cmark_node *x = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(x) == CMARK_NODE_SOFTBREAK) {
			soft = xgrowarray(soft, &cap, n + 1, sizeof *soft);
			soft[n++] = x;
		}
	}
	cmark_iter_free(it);
	for (size_t i = 0; i < n; i++) { /* after the walk: the iterator is not upset */
		cmark_node_replace(soft[i], cmark_node_new(CMARK_NODE_LINEBREAK));
		cmark_node_free(soft[i]);
	}
	free(soft);
}

int render_markdown(const struct config *cfg, const char *md, size_t n, enum md_breaks breaks,
		    const char *styles_from, struct buf *html, struct buf *text, struct lb_err *err)
{
	struct style_table st;
	style_init(&st);
	int rc = 0;
	if (styles_from) {
		char *rel = path_join("templates", styles_from);
		char *path = datadir_template(cfg, styles_from, NULL);
		struct buf src = BUF_INIT;
		if (fsx_exists(path) && (rc = fsx_read(path, &src, 1 << 20, err)) == 0)
			rc = style_from_template(&st, rel, src.p, src.n, err);
		buf_free(&src);
		free(path);
		free(rel);
	}
	for (size_t i = 0; !rc && i < cfg->nstyles; i++)
		if (!style_set(&st, cfg->styles[i].key, cfg->styles[i].css))
			rc = err_set(err, LB_ECONFIG, "%s: styles: unknown style key '%s'",
				     cfg->file, cfg->styles[i].key);
	if (!rc) {
		int opts = CMARK_OPT_SMART | (cfg->allow_html ? CMARK_OPT_UNSAFE : 0);
		cmark_node *doc = cmark_parse_document(md, n, opts);
		if (breaks == MD_LINE_BREAKS)
			hard_breaks(doc);
		struct render_opts ro = {cfg->site_url, cfg->allow_html, &st, 72};
		render_html(doc, &ro, html);
		render_text(doc, &ro, text);
		cmark_node_free(doc);
	}
	style_free(&st);
	return rc;
}

void render_markdown_web(const struct config *cfg, const char *md, size_t n, struct buf *html)
{
	int opts = CMARK_OPT_SMART | (cfg->allow_html ? CMARK_OPT_UNSAFE : 0);
	cmark_node *doc = cmark_parse_document(md, n, opts);
	struct render_opts ro = {cfg->site_url, cfg->allow_html, NULL, 72, true};
	render_html(doc, &ro, html);
	cmark_node_free(doc);
}
