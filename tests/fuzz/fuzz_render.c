/* Arbitrary Markdown through both renderers.  The first byte picks options.
 * Invariants: without raw HTML every '<' in the HTML opens or closes one of
 * our elements, properly nested and all closed; the text is valid UTF-8
 * when the input was; wrap_text keeps within the width unless a line is a
 * single word; url_resolve emits no byte that would end an attribute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/onemail.h"
#include "compose/render.h"
#include "core/log.h"
#include "core/mem.h"

static const char *const known[] = {"p",  "h1", "h2",	      "h3",  "h4",   "ul",     "ol",
				    "li", "a",	"blockquote", "pre", "code", "strong", "em"};

static int tag_id(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strlen(known[i]) == n && memcmp(known[i], p, n) == 0)
			return (int)i;
	if ((n == 3 && memcmp(p, "img", 3) == 0) || (n == 2 && memcmp(p, "hr", 2) == 0) ||
	    (n == 2 && memcmp(p, "br", 2) == 0))
		return -1; /* void element */
	LB_BUG("unknown tag in rendered HTML");
}

static void check_balanced(const char *s)
{
	size_t cap = 64, depth = 0;
	int *stack = xmalloc(cap * sizeof *stack);
	for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
		bool closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t n = 0;
		while ((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9'))
			n++;
		LB_ASSERT(name[n] == '>' || (name[n] == ' ' && !closing));
		int id = tag_id(name, n);
		if (closing) {
			LB_ASSERT(id >= 0 && depth > 0 && stack[depth - 1] == id);
			depth--;
		} else if (id >= 0) {
			stack = xgrowarray(stack, &cap, depth + 1, sizeof *stack);
			stack[depth++] = id;
		}
	}
	LB_ASSERT(depth == 0);
	free(stack);
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80		      ? 1
			     : c >= 0xC2 && c <= 0xDF ? 2
			     : c >= 0xE0 && c <= 0xEF ? 3
			     : c >= 0xF0 && c <= 0xF4 ? 4
						      : 0;
		if (!len || i + len > n)
			return false;
		uint32_t cp = len == 1 ? c : c & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += len;
	}
	return true;
}

static size_t cols(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)p[i] & 0xC0) != 0x80;
	return c;
}

/* Every wrapped line fits, or holds a single word after its prefix. */
static void check_wrap(const char *in, size_t n, int width)
{
	static const char first[] = "  * ", rest[] = "    ";
	struct buf out = BUF_INIT;
	wrap_text(&out, in, n, width, first, rest);
	const char *s = buf_cstr(&out);
	LB_ASSERT(out.n == 0 || s[out.n - 1] == '\n');
	for (size_t i = 0; i < out.n;) {
		const char *nl = memchr(s + i, '\n', out.n - i);
		size_t e = (size_t)(nl - s);
		if (cols(s + i, e - i) > (size_t)width) /* both prefixes are 4 bytes */
			LB_ASSERT(e - i > 4 && !memchr(s + i + 4, ' ', e - i - 4));
		i = e + 1;
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const char *md = (const char *)data + 1;
	size_t n = size - 1;
	bool allow_html = flags & 1;
	int width = 8 + (flags >> 1) % 72;

	struct style_table st;
	style_init(&st);
	struct lb_err err;
	style_from_template(&st, "fuzz", md, n, &err);

	cmark_node *doc =
	    cmark_parse_document(md, n, CMARK_OPT_SMART | (allow_html ? CMARK_OPT_UNSAFE : 0));
	struct render_opts o = {flags & 0x80 ? NULL : "https://example.org/blog/", allow_html, &st,
				width};
	o.web = flags & 0x20; /* the archive's page: no inline style, no image loaded */
	struct buf html = BUF_INIT, text = BUF_INIT;
	render_html(doc, &o, &html);
	render_text(doc, &o, &text);
	cmark_node_free(doc);
	style_free(&st);

	if (!allow_html)
		check_balanced(buf_cstr(&html));
	if (o.web && !allow_html)
		LB_ASSERT(!strstr(buf_cstr(&html), " style=\"") &&
			  !strstr(buf_cstr(&html), "<img"));
	if (valid_utf8((const unsigned char *)md, n)) {
		LB_ASSERT(valid_utf8((const unsigned char *)text.p, text.n));
		LB_ASSERT(allow_html || valid_utf8((const unsigned char *)html.p, html.n));
	}
	buf_free(&html);
	buf_free(&text);

	check_wrap(md, n, width);

	/* The input as a URL: the result never carries a byte that would end
	 * an attribute or a word. */
	char *href = xstrndup(md, strnlen(md, n));
	struct buf url = BUF_INIT;
	url_resolve(&url, flags & 0x40 ? "https://example.org/a/b?q#f" : "https://example.org",
		    href);
	for (size_t i = 0; i < url.n; i++) {
		unsigned char c = (unsigned char)url.p[i];
		LB_ASSERT(c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>');
	}
	(void)url_is_safe(href);
	buf_free(&url);

	/* The same bytes as a one-off mail's text (an acknowledgement, an
	 * alert): every '<' and '"' in the HTML is ours, links open and close in
	 * pairs. */
	struct buf page = BUF_INIT;
	onemail_text_html(&page, href, "en");
	size_t opened = 0, closed = 0;
	for (const char *q = strstr(page.p, "<a "); q; q = strstr(q + 1, "<a "))
		opened++;
	for (const char *q = strstr(page.p, "</a>"); q; q = strstr(q + 1, "</a>"))
		closed++;
	LB_ASSERT(opened == closed);
	LB_ASSERT(!strstr(page.p, "<script") && !strstr(page.p, "\"\""));
	buf_free(&page);
	free(href);
	return 0;
}
