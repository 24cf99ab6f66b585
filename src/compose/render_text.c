/* The text/plain rendering of an article: one pass over the cmark tree with
 * cmark_iter.  Containers (block quotes, list items) push a line prefix;
 * a paragraph collects its inline text and is wrapped with that prefix when
 * it ends.  Links become numbered references listed at the end.
 */
#include "compose/render.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

/* Past this much indentation deeper containers add none: nobody reads a
 * quote nested twenty deep, and a hostile article must not make every line
 * carry a prefix as long as the input (quadratic output). */
#define PREFIX_MAX 40

#define DEFAULT_WIDTH 72

/* ---- wrapping ---- */

static size_t utf8_cols(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)p[i] & 0xC0) != 0x80;
	return c;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void add_rtrimmed(struct buf *out, const char *s, size_t n)
{
	while (n && is_blank(s[n - 1]))
		n--;
	buf_add(out, s, n);
}

/* One input line (no '\n'); *prefix is the next output line's prefix and
 * becomes rest once a line is written. */
static void wrap_line(struct buf *out, const char *p, size_t n, long long width,
		      const char **prefix, const char *rest)
{
	bool open = false;
	long long used = 0, avail = 0;
	for (size_t i = 0; i < n;) {
		if (is_blank(p[i])) {
			i++;
			continue;
		}
		size_t w = i;
		while (i < n && !is_blank(p[i]))
			i++;
		long long wc = (long long)utf8_cols(p + w, i - w);
		if (open && used + 1 + wc > avail) {
			buf_addc(out, '\n');
			open = false;
		}
		if (!open) {
			buf_adds(out, *prefix);
			avail = width - (long long)utf8_cols(*prefix, strlen(*prefix));
			*prefix = rest;
			used = 0;
			open = true;
		} else {
			buf_addc(out, ' ');
			used++;
		}
		buf_add(out, p + w, i - w);
		used += wc;
	}
	if (!open) {
		add_rtrimmed(out, *prefix, strlen(*prefix));
		*prefix = rest;
	}
	buf_addc(out, '\n');
}

void wrap_text(struct buf *out, const char *p, size_t n, int width, const char *first,
	       const char *rest)
{
	const char *prefix = first ? first : "";
	if (!rest)
		rest = "";
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		wrap_line(out, p + i, e - i, width, &prefix, rest);
		i = e + 1;
	}
}

/* ---- the tree walk ---- */

struct level {
	size_t rest_len, first_len; /* prefix lengths to restore on exit */
	long next;		    /* LIST: number of the next item */
	int digits;		    /* LIST: digits of its largest number */
};

struct text {
	struct buf *out;
	size_t start; /* out->n when we began */
	const char *base_url;
	int width;
	struct buf rest;    /* prefix of every line in the current container */
	struct buf first;   /* prefix of the next line, while first_pending */
	bool first_pending; /* a list marker waits for the item's first line */
	bool need_sep;	    /* a block ended: the next one is set off */
	bool sep_pending;   /* a blank line (sep) goes before the next line */
	struct buf sep;
	struct buf inl; /* the current paragraph's or heading's text */
	int in_image;
	size_t image_at;
	struct level *lv;
	size_t nlv, lvcap;
	char **links;
	size_t nlinks, linkcap;
	struct buf url;
};

static const char *prefix_now(const struct text *t)
{
	return buf_cstr(t->first_pending ? &t->first : &t->rest);
}

static void set_len(struct buf *b, size_t n)
{
	if (n < b->n)
		buf_truncate(b, b->n - n);
}

static void flush_sep(struct text *t)
{
	if (t->sep_pending) {
		buf_addspan(t->out, buf_span(&t->sep));
		buf_addc(t->out, '\n');
		t->sep_pending = false;
	}
}

static void line_begin(struct text *t)
{
	flush_sep(t);
	buf_adds(t->out, prefix_now(t));
	t->first_pending = false;
}

static void line_blank(struct text *t)
{
	flush_sep(t);
	const char *p = prefix_now(t);
	add_rtrimmed(t->out, p, strlen(p));
	buf_addc(t->out, '\n');
	t->first_pending = false;
}

static bool tight(cmark_node *list)
{
	return list && cmark_node_get_list_tight(list);
}

/* Blocks are set off by a blank line, except the items of a tight list and
 * the blocks inside them. */
static bool sep_allowed(cmark_node *n)
{
	cmark_node *parent = cmark_node_parent(n);
	if (cmark_node_get_type(n) == CMARK_NODE_ITEM)
		return !tight(parent);
	if (parent && cmark_node_get_type(parent) == CMARK_NODE_ITEM)
		return !tight(cmark_node_parent(parent));
	return true;
}

static void begin_block(struct text *t, cmark_node *n)
{
	if (t->need_sep && sep_allowed(n)) {
		buf_reset(&t->sep);
		add_rtrimmed(&t->sep, buf_cstr(&t->rest), t->rest.n);
		t->sep_pending = true;
	}
	t->need_sep = false;
}

static struct level *push(struct text *t)
{
	t->lv = xgrowarray(t->lv, &t->lvcap, t->nlv + 1, sizeof *t->lv);
	struct level *l = &t->lv[t->nlv++];
	*l = (struct level){t->rest.n, t->first.n, 0, 0};
	return l;
}

static void pop(struct text *t)
{
	LB_ASSERT(t->nlv > 0); /* cmark pairs every exit with an enter */
	struct level *l = &t->lv[--t->nlv];
	set_len(&t->rest, l->rest_len);
	if (t->first_pending)
		set_len(&t->first, l->first_len);
	t->need_sep = true;
}

/* The hanging indent under a list marker of n columns. */
static void indent(struct text *t, size_t n)
{
	if (t->rest.n >= PREFIX_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		buf_addc(&t->rest, ' ');
}

static void enter_list(struct text *t, cmark_node *n)
{
	begin_block(t, n);
	struct level *l = push(t);
	long items = 0;
	for (cmark_node *c = cmark_node_first_child(n); c; c = cmark_node_next(c))
		items++;
	l->next = cmark_node_get_list_start(n);
	l->digits = 1;
	for (long last = l->next + (items ? items - 1 : 0); last >= 10; last /= 10)
		l->digits++;
}

static void enter_item(struct text *t, cmark_node *n)
{
	begin_block(t, n);
	LB_ASSERT(t->nlv > 0); /* an item's parent, the list, pushed a level */
	size_t list_at = t->nlv - 1;
	cmark_node *parent = cmark_node_parent(n);
	push(t); /* may move t->lv: the list's level is found again by index */
	struct level *list = &t->lv[list_at];
	if (!t->first_pending) {
		buf_reset(&t->first);
		buf_addspan(&t->first, buf_span(&t->rest));
	}
	t->first_pending = true;
	size_t at = t->first.n;
	if (cmark_node_get_list_type(parent) == CMARK_ORDERED_LIST) {
		bool paren = cmark_node_get_list_delim(parent) == CMARK_PAREN_DELIM;
		buf_printf(&t->first, "  %ld%c ", list->next++, paren ? ')' : '.');
		/* Pad so that the text of items 9 and 10 lines up. */
		while (t->first.n - at < 4 + (size_t)list->digits)
			buf_addc(&t->first, ' ');
	} else {
		buf_adds(&t->first, "  * ");
	}
	indent(t, t->first.n - at);
}

static void leave_item(struct text *t)
{
	if (t->first_pending)
		line_blank(t); /* an empty item still shows its marker */
	pop(t);
	t->first_pending = false;
}

static void enter_quote(struct text *t, cmark_node *n)
{
	begin_block(t, n);
	push(t);
	if (t->rest.n < PREFIX_MAX) {
		buf_adds(&t->rest, "> ");
		if (t->first_pending)
			buf_adds(&t->first, "> ");
	}
}

static void code_block(struct text *t, cmark_node *n)
{
	begin_block(t, n);
	const char *s = cmark_node_get_literal(n);
	size_t len = strlen(s);
	if (!len)
		return;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - s) : len;
		size_t k = i;
		while (k < e && is_blank(s[k]))
			k++;
		if (k == e) {
			line_blank(t);
		} else {
			line_begin(t);
			buf_adds(t->out, "    ");
			buf_add(t->out, s + i, e - i);
			buf_addc(t->out, '\n');
		}
		i = e + 1;
	}
	t->need_sep = true;
}

static void thematic_break(struct text *t, cmark_node *n)
{
	begin_block(t, n);
	line_begin(t);
	long long avail = t->width - (long long)utf8_cols(buf_cstr(&t->rest), t->rest.n);
	for (long long pad = (avail - 5) / 2; pad > 0; pad--)
		buf_addc(t->out, ' ');
	buf_adds(t->out, "* * *\n");
	t->need_sep = true;
}

/* End of a paragraph or heading: wrap the collected text.  Returns its
 * widest line in columns (0: nothing was written). */
static size_t flush_inline(struct text *t)
{
	struct span s = span_trim(buf_span(&t->inl));
	if (!s.n)
		return 0;
	flush_sep(t);
	wrap_text(t->out, s.p, s.n, t->width, prefix_now(t), buf_cstr(&t->rest));
	t->first_pending = false;
	t->need_sep = true;
	size_t widest = 0;
	for (size_t i = 0; i < s.n;) {
		const char *nl = memchr(s.p + i, '\n', s.n - i);
		size_t e = nl ? (size_t)(nl - s.p) : s.n;
		size_t c = utf8_cols(s.p + i, e - i);
		widest = c > widest ? c : widest;
		i = e + 1;
	}
	return widest;
}

static void leave_heading(struct text *t, cmark_node *n)
{
	size_t len = flush_inline(t);
	if (!len)
		return;
	long long avail = t->width - (long long)utf8_cols(buf_cstr(&t->rest), t->rest.n);
	if (avail < 1)
		avail = 1;
	if ((long long)len > avail)
		len = (size_t)avail;
	int level = cmark_node_get_heading_level(n);
	char c = level == 1 ? '=' : level == 2 ? '-' : '~';
	line_begin(t);
	for (size_t i = 0; i < len; i++)
		buf_addc(t->out, c);
	buf_addc(t->out, '\n');
}

/* ---- links ---- */

static size_t link_number(struct text *t, const char *url)
{
	for (size_t i = 0; i < t->nlinks; i++)
		if (strcmp(t->links[i], url) == 0)
			return i + 1;
	t->links = xgrowarray(t->links, &t->linkcap, t->nlinks + 1, sizeof *t->links);
	t->links[t->nlinks++] = xstrdup(url);
	return t->nlinks;
}

/* " [n]" for a link or image we keep the destination of. */
static void add_reference(struct text *t, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	if (!url || !url[0] || !url_is_safe(url))
		return;
	buf_reset(&t->url);
	url_resolve(&t->url, t->base_url, url);
	buf_printf(&t->inl, " [%zu]", link_number(t, buf_cstr(&t->url)));
}

/* An autolink (<https://x> or <a@b>) whose text is its URL: written as is. */
static const char *autolink_text(cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	cmark_node *c = cmark_node_first_child(n);
	if (!url || !url_is_safe(url) || !c || cmark_node_next(c) ||
	    cmark_node_get_type(c) != CMARK_NODE_TEXT)
		return NULL;
	const char *s = cmark_node_get_literal(c);
	if (!s[0])
		return NULL;
	if (strcmp(s, url) == 0 || (strncmp(url, "mailto:", 7) == 0 && strcmp(url + 7, s) == 0))
		return s;
	return NULL;
}

static void enter_inline(struct text *t, cmark_iter *it, cmark_node *n)
{
	const char *s;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		buf_adds(&t->inl, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_addc(&t->inl, ' ');
		break;
	case CMARK_NODE_LINEBREAK:
		buf_addc(&t->inl, t->in_image ? ' ' : '\n');
		break;
	case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG:
		if (!t->in_image)
			buf_addc(&t->inl, cmark_node_get_type(n) == CMARK_NODE_EMPH ? '_' : '*');
		break;
	case CMARK_NODE_LINK:
		if (!t->in_image && (s = autolink_text(n))) {
			buf_adds(&t->inl, s);
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT); /* skip text and exit */
		}
		break;
	case CMARK_NODE_IMAGE:
		if (t->in_image++ == 0) {
			t->image_at = t->inl.n;
			buf_adds(&t->inl, "[image: ");
		}
		break;
	default:
		break; /* raw HTML has no place in text */
	}
}

static void leave_inline(struct text *t, cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG:
		if (!t->in_image)
			buf_addc(&t->inl, cmark_node_get_type(n) == CMARK_NODE_EMPH ? '_' : '*');
		break;
	case CMARK_NODE_LINK:
		if (!t->in_image)
			add_reference(t, n);
		break;
	case CMARK_NODE_IMAGE:
		if (--t->in_image == 0) {
			if (t->inl.n == t->image_at + strlen("[image: "))
				buf_truncate(&t->inl, 2); /* no alt text: "[image]" */
			buf_addc(&t->inl, ']');
			add_reference(t, n);
		}
		break;
	default:
		break;
	}
}

static void enter(struct text *t, cmark_iter *it, cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_DOCUMENT:
	case CMARK_NODE_HTML_BLOCK:
	case CMARK_NODE_CUSTOM_BLOCK:
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		enter_quote(t, n);
		break;
	case CMARK_NODE_LIST:
		enter_list(t, n);
		break;
	case CMARK_NODE_ITEM:
		enter_item(t, n);
		break;
	case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING:
		begin_block(t, n);
		buf_reset(&t->inl);
		t->in_image = 0;
		break;
	case CMARK_NODE_CODE_BLOCK:
		code_block(t, n);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		thematic_break(t, n);
		break;
	default:
		enter_inline(t, it, n);
		break;
	}
}

static void leave(struct text *t, cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
	case CMARK_NODE_LIST:
		pop(t);
		break;
	case CMARK_NODE_ITEM:
		leave_item(t);
		break;
	case CMARK_NODE_PARAGRAPH:
		flush_inline(t);
		break;
	case CMARK_NODE_HEADING:
		leave_heading(t, n);
		break;
	default:
		leave_inline(t, n);
		break;
	}
}

void render_text(cmark_node *doc, const struct render_opts *o, struct buf *out)
{
	struct text t = {
	    .out = out,
	    .start = out->n,
	    .base_url = o->base_url,
	    .width = o->width > 0 ? o->width : DEFAULT_WIDTH,
	};
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER)
			enter(&t, it, n);
		else
			leave(&t, n);
	}
	cmark_iter_free(it);
	if (t.nlinks) {
		if (out->n > t.start)
			buf_addc(out, '\n');
		buf_adds(out, "Links:\n");
	}
	for (size_t i = 0; i < t.nlinks; i++) {
		buf_printf(out, "[%zu] %s\n", i + 1, t.links[i]);
		free(t.links[i]);
	}
	free(t.links);
	free(t.lv);
	buf_free(&t.rest);
	buf_free(&t.first);
	buf_free(&t.sep);
	buf_free(&t.inl);
	buf_free(&t.url);
}
