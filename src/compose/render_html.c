/* Email HTML for an article: one pass over the cmark tree with cmark_iter
 * (no recursion, so a deeply nested article cannot exhaust the stack), every
 * element styled inline from the style table.
 */
#include "compose/render.h"

#include <string.h>

#include "core/mem.h"

/* The width attribute of images, for Outlook, which ignores max-width: the
 * content column of templates/newsletter.html (600px card, 40px padding each
 * side).  Other clients follow the style's width:auto;max-width:100%. */
#define IMG_WIDTH 520

/* Break text lines at a blank once they are this long: a newline is a space
 * in HTML, and short lines keep the quoted-printable source readable. */
#define LINE_SOFT_MAX 76

struct html {
	const struct render_opts *o;
	const struct style_table *st;
	struct buf *out;
	struct buf url; /* scratch for resolved URLs */
};

static void add_escaped(struct buf *out, const char *s, size_t n)
{
	buf_add_html(out, s, n);
}

static void add_escaped_cstr(struct buf *out, const char *s)
{
	add_escaped(out, s, strlen(s));
}

static size_t column(const struct buf *out)
{
	size_t i = out->n;
	while (i > 0 && out->p[i - 1] != '\n')
		i--;
	return out->n - i;
}

/* Body text: escaped, with a long line broken at a blank. */
static void add_text(struct buf *out, const char *s)
{
	size_t col = column(out);
	for (const char *sp; (sp = strchr(s, ' ')); s = sp + 1) {
		size_t n = (size_t)(sp - s);
		add_escaped(out, s, n);
		col += n;
		if (col >= LINE_SOFT_MAX) {
			buf_addc(out, '\n');
			col = 0;
		} else {
			buf_addc(out, ' ');
			col++;
		}
	}
	add_escaped_cstr(out, s);
}

/* The style attribute for k; extra (more declarations) wins over the table. */
static void add_style(struct html *h, enum style_key k, const char *extra)
{
	if (h->o->web)
		return;
	const char *css = h->st->css[k];
	size_t n = css ? strlen(css) : 0;
	if (!n && !extra)
		return;
	buf_adds(h->out, " style=\"");
	add_escaped(h->out, css, n);
	if (extra) {
		if (n && css[n - 1] != ';')
			buf_addc(h->out, ';');
		buf_adds(h->out, extra);
	}
	buf_addc(h->out, '"');
}

static void open_tag(struct html *h, const char *tag, enum style_key k)
{
	buf_printf(h->out, "<%s", tag);
	add_style(h, k, NULL);
	buf_addc(h->out, '>');
}

/* The last block in a quote, list or list item drops its bottom margin, so
 * that the container's own spacing is the only gap below it. */
static const char *block_extra(cmark_node *n)
{
	cmark_node *parent = cmark_node_parent(n);
	if (cmark_node_next(n) || !parent)
		return NULL;
	cmark_node_type t = cmark_node_get_type(parent);
	if (t == CMARK_NODE_BLOCK_QUOTE || t == CMARK_NODE_ITEM || t == CMARK_NODE_LIST)
		return "margin-bottom:0;";
	return NULL;
}

static void open_block(struct html *h, cmark_node *n, const char *tag, enum style_key k)
{
	buf_printf(h->out, "<%s", tag);
	if (cmark_node_get_type(n) == CMARK_NODE_LIST &&
	    cmark_node_get_list_type(n) == CMARK_ORDERED_LIST && cmark_node_get_list_start(n) != 1)
		buf_printf(h->out, " start=\"%d\"", cmark_node_get_list_start(n));
	add_style(h, k, block_extra(n));
	buf_addc(h->out, '>');
}

static void close_tag(struct html *h, const char *tag, bool newline)
{
	buf_printf(h->out, "</%s>%s", tag, newline ? "\n" : "");
}

/* The destination to write for a link or image, resolved and made safe, or
 * NULL when the element should be written without it. */
static const char *dest(struct html *h, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	if (!url || !url[0] || !url_is_safe(url))
		return NULL;
	buf_reset(&h->url);
	url_resolve(&h->url, h->o->base_url, url);
	return buf_cstr(&h->url);
}

static bool in_tight_item(cmark_node *para)
{
	cmark_node *item = cmark_node_parent(para);
	if (!item || cmark_node_get_type(item) != CMARK_NODE_ITEM)
		return false;
	cmark_node *list = cmark_node_parent(item);
	return list && cmark_node_get_list_tight(list);
}

static const char *heading_tag(cmark_node *n, enum style_key *k)
{
	static const char *const tags[] = {"h1", "h2", "h3", "h4"};
	int level = cmark_node_get_heading_level(n);
	if (level < 1)
		level = 1;
	if (level > 4)
		level = 4; /* h5 and h6 look like h4: mail clients' own h5 is tiny */
	*k = (enum style_key)(ST_H1 + level - 1);
	return tags[level - 1];
}

/* The alt text of an image: its children as plain text. */
static void add_alt(struct buf *out, cmark_node *img)
{
	cmark_iter *it = cmark_iter_new(img);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER)
			continue;
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			add_escaped_cstr(out, cmark_node_get_literal(n));
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			buf_addc(out, ' ');
			break;
		default:
			break;
		}
	}
	cmark_iter_free(it);
}

static void add_title(struct buf *out, cmark_node *n)
{
	const char *title = cmark_node_get_title(n);
	if (title && title[0]) {
		buf_adds(out, " title=\"");
		add_escaped_cstr(out, title);
		buf_addc(out, '"');
	}
}

static bool in_link(cmark_node *n)
{
	for (cmark_node *p = cmark_node_parent(n); p; p = cmark_node_parent(p))
		if (cmark_node_get_type(p) == CMARK_NODE_LINK)
			return true;
	return false;
}

static void image(struct html *h, cmark_iter *it, cmark_node *n)
{
	const char *src = dest(h, n);
	if (!src) {
		add_alt(h->out, n); /* a refused image is its description */
	} else if (h->o->web) {
		/* Inside a link the image is only its words: links do not nest. */
		bool linked = in_link(n);
		if (!linked) {
			buf_adds(h->out, "<a class=\"image\" href=\"");
			add_escaped_cstr(h->out, src);
			buf_addc(h->out, '"');
			add_title(h->out, n);
			buf_addc(h->out, '>');
		}
		buf_adds(h->out, "Image: ");
		size_t alt = h->out->n;
		add_alt(h->out, n);
		if (h->out->n == alt)
			buf_adds(h->out, "(no description)");
		if (!linked)
			buf_adds(h->out, "</a>");
	} else {
		buf_adds(h->out, "<img src=\"");
		add_escaped_cstr(h->out, src);
		buf_adds(h->out, "\" alt=\"");
		add_alt(h->out, n);
		buf_addc(h->out, '"');
		add_title(h->out, n);
		buf_printf(h->out, " width=\"%d\"", IMG_WIDTH);
		add_style(h, ST_IMG, NULL);
		buf_addc(h->out, '>');
	}
	/* The children were the alt text: skip them and the exit. */
	cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
}

static void raw(struct html *h, cmark_node *n, bool block)
{
	if (!h->o->allow_html)
		return;
	const char *s = cmark_node_get_literal(n);
	buf_adds(h->out, s);
	if (block && h->out->n && h->out->p[h->out->n - 1] != '\n')
		buf_addc(h->out, '\n');
}

static void enter(struct html *h, cmark_iter *it, cmark_node *n)
{
	struct buf *out = h->out;
	enum style_key k;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		open_block(h, n, "blockquote", ST_BLOCKQUOTE);
		buf_addc(out, '\n');
		break;
	case CMARK_NODE_LIST:
		if (cmark_node_get_list_type(n) == CMARK_ORDERED_LIST)
			open_block(h, n, "ol", ST_OL);
		else
			open_block(h, n, "ul", ST_UL);
		buf_addc(out, '\n');
		break;
	case CMARK_NODE_ITEM:
		open_block(h, n, "li", ST_LI);
		break;
	case CMARK_NODE_PARAGRAPH:
		if (!in_tight_item(n))
			open_block(h, n, "p", ST_P);
		break;
	case CMARK_NODE_HEADING: {
		const char *tag = heading_tag(n, &k);
		open_block(h, n, tag, k);
		break;
	}
	case CMARK_NODE_CODE_BLOCK:
		open_block(h, n, "pre", ST_PRE);
		add_escaped_cstr(out, cmark_node_get_literal(n));
		close_tag(h, "pre", true);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		open_tag(h, "hr", ST_HR);
		buf_addc(out, '\n');
		break;
	case CMARK_NODE_HTML_BLOCK:
		raw(h, n, true);
		break;
	case CMARK_NODE_HTML_INLINE:
		raw(h, n, false);
		break;
	case CMARK_NODE_TEXT:
		add_text(out, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_addc(out, '\n');
		break;
	case CMARK_NODE_LINEBREAK:
		buf_adds(out, "<br>\n");
		break;
	case CMARK_NODE_CODE:
		open_tag(h, "code", ST_CODE);
		add_escaped_cstr(out, cmark_node_get_literal(n));
		close_tag(h, "code", false);
		break;
	case CMARK_NODE_EMPH:
		open_tag(h, "em", ST_EM);
		break;
	case CMARK_NODE_STRONG:
		open_tag(h, "strong", ST_STRONG);
		break;
	case CMARK_NODE_LINK: {
		const char *href = dest(h, n);
		if (!href)
			break; /* refused or empty: the text alone */
		buf_adds(out, "<a href=\"");
		add_escaped_cstr(out, href);
		buf_addc(out, '"');
		add_title(out, n);
		add_style(h, ST_A, NULL);
		buf_addc(out, '>');
		break;
	}
	case CMARK_NODE_IMAGE:
		image(h, it, n);
		break;
	default:
		break;
	}
}

static void leave(struct html *h, cmark_node *n)
{
	enum style_key k;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		close_tag(h, "blockquote", true);
		break;
	case CMARK_NODE_LIST:
		close_tag(h, cmark_node_get_list_type(n) == CMARK_ORDERED_LIST ? "ol" : "ul", true);
		break;
	case CMARK_NODE_ITEM:
		close_tag(h, "li", true);
		break;
	case CMARK_NODE_PARAGRAPH:
		if (!in_tight_item(n))
			close_tag(h, "p", true);
		else if (cmark_node_next(n))
			buf_addc(h->out, '\n');
		break;
	case CMARK_NODE_HEADING:
		close_tag(h, heading_tag(n, &k), true);
		break;
	case CMARK_NODE_EMPH:
		close_tag(h, "em", false);
		break;
	case CMARK_NODE_STRONG:
		close_tag(h, "strong", false);
		break;
	case CMARK_NODE_LINK:
		if (dest(h, n))
			close_tag(h, "a", false);
		break;
	default:
		break;
	}
}

void render_html(cmark_node *doc, const struct render_opts *o, struct buf *out)
{
	struct style_table own;
	struct html h = {o, o->styles, out, BUF_INIT};
	if (!h.st) {
		style_init(&own);
		h.st = &own;
	}
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER)
			enter(&h, it, n);
		else
			leave(&h, n);
	}
	cmark_iter_free(it);
	buf_free(&h.url);
	if (!o->styles)
		style_free(&own);
}
