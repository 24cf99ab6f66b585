#include "compose/render.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BASE "https://example.org/blog/"

/* A style table whose css for each key is the key's name, so that expected
 * HTML stays short and shows which key styled which element. */
static void short_styles(struct style_table *st)
{
	style_init(st);
	for (int k = 0; k < ST_COUNT; k++)
		style_set(st, style_key_name((enum style_key)k), style_key_name((enum style_key)k));
}

static char *render(const char *md, int cmark_opts, bool allow_html, bool text, int width)
{
	struct style_table st;
	short_styles(&st);
	cmark_node *doc = cmark_parse_document(md, strlen(md), cmark_opts);
	struct render_opts o = {BASE, allow_html, &st, width};
	struct buf out = BUF_INIT;
	if (text)
		render_text(doc, &o, &out);
	else
		render_html(doc, &o, &out);
	cmark_node_free(doc);
	style_free(&st);
	return buf_take(&out);
}

struct md_case {
	const char *md;
	const char *want;
};

static void run_cases(const struct md_case *c, size_t n, bool text, bool allow_html)
{
	for (size_t i = 0; i < n; i++) {
		char *got = render(c[i].md, CMARK_OPT_SMART | (allow_html ? CMARK_OPT_UNSAFE : 0),
				   allow_html, text, 72);
		CHECK_STR(got, c[i].want);
		free(got);
	}
}

static void test_html_blocks(void)
{
	static const struct md_case cases[] = {
	    {"Hello *a* **b** `c<`",
	     "<p style=\"p\">Hello <em style=\"em\">a</em> <strong style=\"strong\">b</strong> "
	     "<code style=\"code\">c&lt;</code></p>\n"},
	    {"# A\n## B\n### C\n#### D\n##### E\n###### F",
	     "<h1 style=\"h1\">A</h1>\n<h2 style=\"h2\">B</h2>\n<h3 style=\"h3\">C</h3>\n"
	     "<h4 style=\"h4\">D</h4>\n<h4 style=\"h4\">E</h4>\n<h4 style=\"h4\">F</h4>\n"},
	    {"- a\n- b", "<ul style=\"ul\">\n<li style=\"li\">a</li>\n<li "
			 "style=\"li;margin-bottom:0;\">b</li>\n"
			 "</ul>\n"},
	    {"3. a\n4. b", "<ol start=\"3\" style=\"ol\">\n<li style=\"li\">a</li>\n"
			   "<li style=\"li;margin-bottom:0;\">b</li>\n</ol>\n"},
	    {"- a\n  - b",
	     "<ul style=\"ul\">\n<li style=\"li;margin-bottom:0;\">a\n"
	     "<ul style=\"ul;margin-bottom:0;\">\n<li style=\"li;margin-bottom:0;\">b</li>\n"
	     "</ul>\n</li>\n</ul>\n"},
	    {"- a\n\n- b",
	     "<ul style=\"ul\">\n<li style=\"li\"><p style=\"p;margin-bottom:0;\">a</p>\n"
	     "</li>\n<li style=\"li;margin-bottom:0;\"><p style=\"p;margin-bottom:0;\">b</p>\n"
	     "</li>\n</ul>\n"},
	    {"> q\n>\n> r", "<blockquote style=\"blockquote\">\n<p style=\"p\">q</p>\n"
			    "<p style=\"p;margin-bottom:0;\">r</p>\n</blockquote>\n"},
	    {"```c\nx < y\n```", "<pre style=\"pre\">x &lt; y\n</pre>\n"},
	    {"a\n\n---\n\nb", "<p style=\"p\">a</p>\n<hr style=\"hr\">\n<p style=\"p\">b</p>\n"},
	    {"a  \nb\nc", "<p style=\"p\">a<br>\nb\nc</p>\n"},
	    {"\"Hi\" -- it's",
	     "<p style=\"p\">\xe2\x80\x9cHi\xe2\x80\x9d \xe2\x80\x93 it\xe2\x80\x99s</p>\n"},
	    {"", ""},
	};
	run_cases(cases, sizeof cases / sizeof *cases, false, false);
}

static void test_html_links_images(void)
{
	static const struct md_case cases[] = {
	    {"[x](/about \"T&\")",
	     "<p style=\"p\"><a href=\"https://example.org/about\" title=\"T&amp;\" "
	     "style=\"a\">x</a></p>\n"},
	    {"[x](notes.html?a=1&b=2)",
	     "<p style=\"p\"><a href=\"https://example.org/blog/notes.html?a=1&amp;b=2\" "
	     "style=\"a\">x</a></p>\n"},
	    {"![A *cat*](cat.png)",
	     "<p style=\"p\"><img src=\"https://example.org/blog/cat.png\" alt=\"A cat\" "
	     "width=\"520\" style=\"img\"></p>\n"},
	    {"[x](javascript:alert(1))", "<p style=\"p\">x</p>\n"},
	    {"[x](JaVaScRiPt:alert(1)) [y](vbscript:x)", "<p style=\"p\">x y</p>\n"},
	    {"[x](data:text/html;base64,AAAA)", "<p style=\"p\">x</p>\n"},
	    {"![pic](javascript:x)", "<p style=\"p\">pic</p>\n"},
	    {"![d](data:image/png;base64,AAAA)",
	     "<p style=\"p\"><img src=\"data:image/png;base64,AAAA\" alt=\"d\" width=\"520\" "
	     "style=\"img\"></p>\n"},
	    {"[](x) [e]()", "<p style=\"p\"><a href=\"https://example.org/blog/x\" "
			    "style=\"a\"></a> e</p>\n"},
	};
	run_cases(cases, sizeof cases / sizeof *cases, false, false);
}

static void test_html_escape_and_raw(void)
{
	char *got = render("a < b & c > d \"q\" 'r'", CMARK_OPT_DEFAULT, false, false, 72);
	CHECK_STR(got, "<p style=\"p\">a &lt; b &amp; c &gt; d &quot;q&quot; &#39;r&#39;</p>\n");
	free(got);

	static const char raw[] = "<div>x</div>\n\nA <b>b</b>";
	got = render(raw, CMARK_OPT_UNSAFE, false, false, 72);
	CHECK_STR(got, "<p style=\"p\">A b</p>\n");
	free(got);
	got = render(raw, CMARK_OPT_UNSAFE, true, false, 72);
	CHECK_STR(got, "<div>x</div>\n<p style=\"p\">A <b>b</b></p>\n");
	free(got);
}

/* With the built-in table every element we open carries explicit styles. */
static void test_html_default_styles(void)
{
	static const char md[] = "# H\n\np *e* **s** `c` [a](/x) ![i](i.png)\n\n- l\n\n1. o\n\n"
				 "> q\n\n```\npre\n```\n\n---\n\n## h2\n### h3\n#### h4\n";
	struct style_table st;
	style_init(&st);
	cmark_node *doc = cmark_parse_document(md, strlen(md), 0);
	struct render_opts o = {BASE, false, &st, 72};
	struct buf out = BUF_INIT;
	buf_adds(&out, "KEEP:");
	render_html(doc, &o, &out);
	const char *s = buf_cstr(&out);
	CHECK(strncmp(s, "KEEP:<h1 style=\"margin:", 23) == 0);
	int opens = 0, unstyled = 0;
	for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
		if (p[1] == '/' || strncmp(p, "<br>", 4) == 0)
			continue;
		opens++;
		const char *end = strchr(p, '>');
		const char *style = strstr(p, "style=\"");
		unstyled += !end || !style || style > end;
	}
	CHECK_INT(opens, 18);
	CHECK_INT(unstyled, 0);
	CHECK(strstr(s, "<p style=\"margin:0 0 18px 0;font-family:") != NULL);
	CHECK(strstr(st.css[ST_P], "color:#") && strstr(st.css[ST_P], "line-height:"));
	/* An empty css drops the attribute; a quote in css is escaped. */
	style_set(&st, "em", "");
	style_set(&st, "strong", "font-family:\"A B\"");
	buf_reset(&out);
	render_html(doc, &o, &out);
	CHECK(strstr(buf_cstr(&out), "<em>e</em>") != NULL);
	CHECK(strstr(buf_cstr(&out), "<strong style=\"font-family:&quot;A B&quot;\">") != NULL);
	/* No table at all falls back on the defaults. */
	o.styles = NULL;
	buf_reset(&out);
	render_html(doc, &o, &out);
	CHECK(strstr(buf_cstr(&out), "<em style=\"font-style:italic;\">e</em>") != NULL);
	buf_free(&out);
	cmark_node_free(doc);
	style_free(&st);
}

static void test_style_table(void)
{
	struct style_table st;
	style_init(&st);
	for (int k = 0; k < ST_COUNT; k++)
		CHECK(st.css[k] && style_set(&st, style_key_name((enum style_key)k), "x"));
	CHECK_STR(style_key_name(ST_BLOCKQUOTE), "blockquote");
	CHECK(!style_set(&st, "table", "x"));
	CHECK(style_set(&st, "p", "  color:red  "));
	CHECK_STR(st.css[ST_P], "color:red");
	style_free(&st);
}

static void test_style_from_template(void)
{
	struct style_table st;
	struct lb_err err = {0};
	style_init(&st);
	char *h2 = strdup(st.css[ST_H2]);
	static const char tpl[] = "<!-- x -->\n{{!styles\np: color:red;\n# a comment\n\n"
				  "h1:  font-size:40px  \n}}\n<html>{{site.name}}";
	CHECK_INT(style_from_template(&st, "t.html", tpl, strlen(tpl), &err), 0);
	CHECK_STR(st.css[ST_P], "color:red;");
	CHECK_STR(st.css[ST_H1], "font-size:40px");
	CHECK_STR(st.css[ST_H2], h2);

	static const char bad[] = "x\n{{! styles\np: color:blue\nbogus: b\n}}";
	CHECK_INT(style_from_template(&st, "t.html", bad, strlen(bad), &err), LB_EDATA);
	CHECK_STR(err.msg, "t.html:4: unknown style key 'bogus'");
	CHECK_STR(st.css[ST_P], "color:red;"); /* not half applied */

	static const struct {
		const char *src;
		int rc;
		const char *msg;
	} errs[] = {
	    {"{{!styles\np: a\n", LB_EDATA, "t.html:1: unclosed {{!styles block"},
	    {"\n\n{{!styles\np a\n}}", LB_EDATA, "t.html:4: expected 'key: css' in styles"},
	    {"{{!stylesheet p: a }}", 0, NULL},
	    {"no block here {{! comment }}", 0, NULL},
	    {"{{!styles p: color:green }}", 0, NULL},
	};
	for (size_t i = 0; i < sizeof errs / sizeof *errs; i++) {
		err.msg[0] = '\0';
		CHECK_INT(
		    style_from_template(&st, "t.html", errs[i].src, strlen(errs[i].src), &err),
		    errs[i].rc);
		if (errs[i].msg)
			CHECK_STR(err.msg, errs[i].msg);
	}
	CHECK_STR(st.css[ST_P], "color:green"); /* the one-line block applied */
	free(h2);
	style_free(&st);
}

static void test_url_resolve(void)
{
	static const struct {
		const char *base, *href, *want;
	} cases[] = {
	    {BASE, "https://x.org/a", "https://x.org/a"},
	    {BASE, "mailto:a@b.org", "mailto:a@b.org"},
	    {BASE, "tel:+1-818", "tel:+1-818"},
	    {BASE, "#frag", "#frag"},
	    {BASE, "/x", "https://example.org/x"},
	    {BASE, "x", "https://example.org/blog/x"},
	    {BASE, "./x", "https://example.org/blog/x"},
	    {BASE, "../x", "https://example.org/x"},
	    {BASE, "../../../x", "https://example.org/x"},
	    {BASE, "//cdn.example.net/a", "https://cdn.example.net/a"},
	    {BASE, "?q=1", "https://example.org/blog/?q=1"},
	    {BASE, "a b\xc3\xbc", "https://example.org/blog/a%20b%C3%BC"},
	    {BASE, "a%20b", "https://example.org/blog/a%20b"},
	    {"https://example.org", "x", "https://example.org/x"},
	    {"https://example.org", "/x", "https://example.org/x"},
	    {"https://example.org/blog/post.html?a=1#f", "img.png",
	     "https://example.org/blog/img.png"},
	    {"https://example.org:8080/a/b", "c", "https://example.org:8080/a/c"},
	    {NULL, "x", "x"},
	    {"", "/x", "/x"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;
		url_resolve(&b, cases[i].base, cases[i].href);
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
}

static void test_url_is_safe(void)
{
	static const struct {
		const char *url;
		bool safe;
	} cases[] = {
	    {"javascript:alert(1)", false},
	    {"JAVASCRIPT:x", false},
	    {" java\tscript:x", false},
	    {"vbscript:x", false},
	    {"data:text/html,<b>", false},
	    {"data:image/svg+xml,<svg>", false},
	    {"data:image/png;base64,AA", true},
	    {"DATA:IMAGE/JPEG;base64,AA", true},
	    {"https://example.org/", true},
	    {"/javascript:x", true},
	    {"page.html", true},
	    {"mailto:a@b.org", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (!CHECK(url_is_safe(cases[i].url) == cases[i].safe))
			fprintf(stderr, "    url: %s\n", cases[i].url);
}

static void test_wrap_text(void)
{
	static const struct {
		const char *in;
		int width;
		const char *first, *rest, *want;
	} cases[] = {
	    {"aaa bbb ccc", 7, "", "", "aaa bbb\nccc\n"},
	    {"aaa bbb ccc", 6, "", "", "aaa\nbbb\nccc\n"},
	    {"a verylongword b", 5, "", "", "a\nverylongword\nb\n"},
	    {"\xc3\xa4\xc3\xa4\xc3\xa4 \xc3\xb6\xc3\xb6\xc3\xb6", 7, "", "",
	     "\xc3\xa4\xc3\xa4\xc3\xa4 \xc3\xb6\xc3\xb6\xc3\xb6\n"},
	    {"\xc3\xa4\xc3\xa4\xc3\xa4 \xc3\xb6\xc3\xb6\xc3\xb6", 6, "", "",
	     "\xc3\xa4\xc3\xa4\xc3\xa4\n\xc3\xb6\xc3\xb6\xc3\xb6\n"},
	    {"aa bb cc", 7, "> ", "> ", "> aa bb\n> cc\n"},
	    {"aa bb cc dd", 9, "  * ", "    ", "  * aa bb\n    cc dd\n"},
	    {"a\nb c", 72, "", "", "a\nb c\n"},
	    {"a\n\nb", 72, "> ", "> ", "> a\n>\n> b\n"},
	    {"see https://example.org/a/very/long/path/beyond/the/width ok", 20, "", "",
	     "see\nhttps://example.org/a/very/long/path/beyond/the/width\nok\n"},
	    {"a   b\t c", 72, NULL, NULL, "a b c\n"},
	    {"", 72, "> ", "> ", ""},
	    {"a b", 1, "> ", "> ", "> a\n> b\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;
		wrap_text(&b, cases[i].in, strlen(cases[i].in), cases[i].width, cases[i].first,
			  cases[i].rest);
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
}

static void test_text_blocks(void)
{
	static const struct md_case cases[] = {
	    {"# Title\n\ntext", "Title\n=====\n\ntext\n"},
	    {"## Sub\n### Third\n#### Fourth", "Sub\n---\n\nThird\n~~~~~\n\nFourth\n~~~~~~\n"},
	    {"# \xc3\x9c"
	     "ber",
	     "\xc3\x9c"
	     "ber\n====\n"},
	    {"*a* **b** `c  d`", "_a_ *b* c d\n"},
	    {"a  \nb\nc", "a\nb c\n"},
	    {"- a\n- b", "  * a\n  * b\n"},
	    {"- a\n\n- b", "  * a\n\n  * b\n"},
	    {"- a\n  - b\n- c", "  * a\n      * b\n  * c\n"},
	    {"3. a\n4. b", "  3. a\n  4. b\n"},
	    {"9. a\n10. b", "  9.  a\n  10. b\n"},
	    {"1) a", "  1) a\n"},
	    {"-\n- a", "  *\n  * a\n"},
	    {"- > q", "  * > q\n"},
	    {"> a\n>\n> b", "> a\n>\n> b\n"},
	    {"> a\n> > b", "> a\n>\n> > b\n"},
	    {"para\n\n```\nx\n\n  y\n```\n\nafter", "para\n\n    x\n\n      y\n\nafter\n"},
	    {"a\n\n***\n\nb", "a\n\n                                 * * *\n\nb\n"},
	    {"\"Hi\" -- it's", "\xe2\x80\x9cHi\xe2\x80\x9d \xe2\x80\x93 it\xe2\x80\x99s\n"},
	    {"<div>x</div>\n\na <b>b</b>", "a b\n"},
	    {"", ""},
	};
	run_cases(cases, sizeof cases / sizeof *cases, true, true);
}

static void test_text_wrapping(void)
{
	char *got = render("- one two three four five six", 0, false, true, 16);
	CHECK_STR(got, "  * one two\n    three four\n    five six\n");
	free(got);
	got = render("> one two three four five", 0, false, true, 12);
	CHECK_STR(got, "> one two\n> three four\n> five\n");
	free(got);
	/* The underline follows the heading, capped at the width. */
	got = render("# aaaaaaaaaaaaaaaaaaaa", 0, false, true, 10);
	CHECK_STR(got, "aaaaaaaaaaaaaaaaaaaa\n==========\n");
	free(got);
	got = render("1. one two three", 0, false, true, 12);
	CHECK_STR(got, "  1. one two\n     three\n");
	free(got);
}

static void test_text_links(void)
{
	static const struct md_case cases[] = {
	    {"[a](/x) [b](https://y.org) [c](/x)",
	     "a [1] b [2] c [1]\n\nLinks:\n[1] https://example.org/x\n[2] https://y.org\n"},
	    {"<https://example.org/z> and <me@example.org>",
	     "https://example.org/z and me@example.org\n"},
	    {"[https://example.org/z](https://example.org/other)",
	     "https://example.org/z [1]\n\nLinks:\n[1] https://example.org/other\n"},
	    {"![A *cat*](cat.png)",
	     "[image: A cat] [1]\n\nLinks:\n[1] https://example.org/blog/cat.png\n"},
	    {"![](i.png)", "[image] [1]\n\nLinks:\n[1] https://example.org/blog/i.png\n"},
	    {"[![logo](l.png)](/)",
	     "[image: logo] [1] [2]\n\nLinks:\n"
	     "[1] https://example.org/blog/l.png\n[2] https://example.org/\n"},
	    {"[x](javascript:alert(1)) [y](#top)", "x y [1]\n\nLinks:\n[1] #top\n"},
	};
	run_cases(cases, sizeof cases / sizeof *cases, true, false);
}

/* A list item deep enough in quotes that pushing its level moves the level
 * array (7, 15, 31, 63 quotes, then the list): the item must still count on
 * its list, not on the array it had before (a use-after-free once). */
static void test_text_deep_list(void)
{
	static const int depths[] = {7, 15, 31, 63};
	for (size_t d = 0; d < sizeof depths / sizeof *depths; d++) {
		struct buf md = BUF_INIT;
		for (int line = 1; line <= 2; line++) {
			for (int i = 0; i < depths[d]; i++)
				buf_adds(&md, "> ");
			buf_printf(&md, "%d. item\n", line);
		}
		/* the prefix is capped, so only the numbering is compared */
		char *got = render(buf_cstr(&md), 0, false, true, 200);
		CHECK(got && strstr(got, "1. item\n") != NULL);
		CHECK(got && strstr(got, "2. item\n") != NULL);
		free(got);
		buf_free(&md);
	}
}

/* The archive's web mode: the same elements, no style attribute anywhere
 * (the page's CSP allows only its stylesheet), images as links to them. */
static void test_html_web(void)
{
	static const struct md_case cases[] = {
	    {"# T\n\n> q\n\n- a\n- b\n\n`c` *e* **s**\n\n---\n",
	     "<h1>T</h1>\n<blockquote>\n<p>q</p>\n</blockquote>\n<ul>\n<li>a</li>\n<li>b</li>\n"
	     "</ul>\n<p><code>c</code> <em>e</em> <strong>s</strong></p>\n<hr>\n"},
	    {"![A *cat*](cat.png \"T\")",
	     "<p><a class=\"image\" href=\"https://example.org/blog/cat.png\" title=\"T\">Image: A "
	     "cat</a></p>\n"},
	    {"![](x.png)",
	     "<p><a class=\"image\" href=\"https://example.org/blog/x.png\">Image: (no "
	     "description)</a></p>\n"},
	    {"[![logo](l.png)](/home)",
	     "<p><a href=\"https://example.org/home\">Image: logo</a></p>\n"},
	    {"![pic](javascript:x)", "<p>pic</p>\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		cmark_node *doc = cmark_parse_document(cases[i].md, strlen(cases[i].md), 0);
		struct render_opts o = {BASE, false, NULL, 72, true};
		struct buf out = BUF_INIT;
		render_html(doc, &o, &out);
		CHECK_STR(buf_cstr(&out), cases[i].want);
		cmark_node_free(doc);
		buf_free(&out);
	}
}

int main(void)
{
	RUN(test_html_web);
	RUN(test_html_blocks);
	RUN(test_html_links_images);
	RUN(test_html_escape_and_raw);
	RUN(test_html_default_styles);
	RUN(test_style_table);
	RUN(test_style_from_template);
	RUN(test_url_resolve);
	RUN(test_url_is_safe);
	RUN(test_wrap_text);
	RUN(test_text_blocks);
	RUN(test_text_wrapping);
	RUN(test_text_links);
	RUN(test_text_deep_list);
	return harness_done("render");
}
