/* Rendering an article's Markdown (a cmark tree) for email.
 *
 * HTML: our own walk of the cmark tree, not cmark_render_html: every element
 * gets its inline style from a style table (mail clients drop <style>), links
 * and images are made absolute against a base URL, images get max-width and
 * alt text, raw HTML is dropped unless allowed.  The output is the article
 * content only, meant for the {{{content}}} hole of templates/newsletter.html,
 * which provides the table layout, preheader and footer.
 *
 * Text: a real plain-text rendering: paragraphs wrapped at a width (72),
 * headings set off (h1 underlined with '=', h2 with '-', h3 and below with
 * '~', each with a blank line around), lists with markers and hanging
 * indents, quotes with "> ", code kept verbatim and indented, links as
 * numbered references [1] listed under "Links:" at the end.
 */
#ifndef LB_RENDER_H
#define LB_RENDER_H

#include <cmark.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

/* Elements that get an inline style.  Keys, as written in style blocks and in
 * letterbox.yaml `styles:`: p h1 h2 h3 h4 a ul ol li blockquote pre code img hr
 * strong em */
enum style_key {
	ST_P,
	ST_H1,
	ST_H2,
	ST_H3,
	ST_H4,
	ST_A,
	ST_UL,
	ST_OL,
	ST_LI,
	ST_BLOCKQUOTE,
	ST_PRE,
	ST_CODE,
	ST_IMG,
	ST_HR,
	ST_STRONG,
	ST_EM,
	ST_COUNT
};

struct style_table {
	char *css[ST_COUNT]; /* owned; never NULL after style_init */
};

/* Built-in defaults: a calm, readable newsletter (serif-free system fonts,
 * 17px body, dark grey on white, muted accent for links and headings). */
void style_init(struct style_table *st);
void style_free(struct style_table *st);
/* Set one key by name; returns false for an unknown key. */
bool style_set(struct style_table *st, const char *key, const char *css);
const char *style_key_name(enum style_key k);

/* Overrides from a template: the first "{{!styles ... }}" comment block, one
 * "key: css" per line.  Unknown keys are LB_EDATA "name:line: unknown style
 * key 'x'".  Missing block: nothing changes. */
int style_from_template(struct style_table *st, const char *tpl_name, const char *src, size_t n,
			struct lb_err *err);

struct render_opts {
	const char *base_url; /* site.url: relative links/images resolved against it; may be NULL */
	bool allow_html;      /* pass raw HTML through (else dropped) */
	const struct style_table *styles;
	int width; /* text wrap width, 72 */
	/* For a web page under a strict Content-Security-Policy (the archive):
	 * no style attributes (the page's stylesheet styles the elements), and
	 * each image a link to it, named by its alt text, since the policy
	 * loads no images. */
	bool web;
};

/* How render_markdown reads line ends inside a paragraph. */
enum md_breaks {
	MD_FLOW,	/* CommonMark: a single newline is a space (articles) */
	MD_LINE_BREAKS, /* a newline is a line break, <br> and a new line (a staff
			   reply's signature, an address) */
};

/* Markdown md[0..n) to email HTML and plain text, with the site's styles:
 * the built-in table, then the {{!styles}} block of templates/STYLES_FROM
 * (when given and present), then letterbox.yaml's `styles:`.  CommonMark
 * with smart punctuation; raw HTML only with compose.allow_html.  An unknown
 * style key is LB_EDATA (template) or LB_ECONFIG (letterbox.yaml). */
int render_markdown(const struct config *cfg, const char *md, size_t n, enum md_breaks breaks,
		    const char *styles_from, struct buf *html, struct buf *text,
		    struct lb_err *err);

/* Markdown md[0..n) to HTML for a web page (render_opts.web: no inline
 * styles, images as links), links resolved against site.url, raw HTML only
 * with compose.allow_html: the archive's copy of a newsletter.  Appends to
 * html. */
void render_markdown_web(const struct config *cfg, const char *md, size_t n, struct buf *html);

/* Append the email HTML for doc to out. */
void render_html(cmark_node *doc, const struct render_opts *o, struct buf *out);

/* Append the plain text for doc to out (links listed at the end). */
void render_text(cmark_node *doc, const struct render_opts *o, struct buf *out);

/* Resolve href against base ("https://example.org/blog/"): absolute URLs
 * (scheme:), mailto:, tel: and "#frag" are kept; "/x" joins the origin;
 * "x" joins the base's directory.  Bytes that may not stand in a URL (blanks,
 * controls, quotes, <>, non-ASCII) are percent-encoded; '%' is kept. */
void url_resolve(struct buf *out, const char *base, const char *href);

/* False for a link or image destination a mail client might run: javascript:,
 * vbscript:, data: other than data:image/{png,gif,jpeg,webp} (case and
 * embedded blanks ignored, as browsers do).  Relative URLs are safe. */
bool url_is_safe(const char *url);

/* Word-wrap UTF-8 text p[0..n) at width columns (code points counted as one
 * column each, the prefix included), first line prefixed by first, later
 * lines by rest; words longer than the width stand alone on their line,
 * unbroken.  Hard line breaks (\n) in the input are kept.  Appends lines
 * ending in "\n". */
void wrap_text(struct buf *out, const char *p, size_t n, int width, const char *first,
	       const char *rest);

#endif
