/* Fuzz: front matter + Markdown, through both renderers. */
#include <cmark.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/article.h"
#include "compose/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct article a;
	struct lb_err err = {0};
	int rc =
	    article_parse("newsletters/2026-01-01-fuzz.md", (const char *)data, size, &a, &err);
	if (rc == 0) {
		/* Every accepted article has what the composer relies on. */
		if (!a.title || !a.title[0] || !a.slug || !a.body)
			abort();
		struct style_table st;
		style_init(&st);
		struct render_opts o = {"https://example.org/blog/", false, &st, 72};
		cmark_node *doc = cmark_parse_document(a.body, strlen(a.body), CMARK_OPT_SMART);
		struct buf h = BUF_INIT, t = BUF_INIT;
		render_html(doc, &o, &h);
		render_text(doc, &o, &t);
		cmark_node_free(doc);
		buf_free(&h);
		buf_free(&t);
		style_free(&st);
	} else if (rc != LB_EDATA || strncmp(err.msg, "newsletters/", 12) != 0) {
		abort(); /* errors are data errors that name the file */
	}
	article_free(&a);
	return 0;
}
