/* GET /archive/feed.xml: the archive as an Atom feed (RFC 4287).
 *
 * Ids are the entries' archive URLs ({web.url}/archive/SLUG): stable as long
 * as web.url is, and the slug names the campaign for good.  An entry's
 * published and updated are the time it first went out (the campaign's first
 * delivery); the feed's updated is the newest of them.  The content is the
 * archive page's HTML (type="html", escaped), the summary the front
 * matter's. */
#include <stdlib.h>
#include <string.h>

#include "compose/render.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "web/archive.h"
#include "web/routes.h"

void xml_escape(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		const char *ent = NULL;
		switch (c) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&apos;";
			break;
		default:
			break;
		}
		if (ent) {
			buf_adds(out, ent);
			i++;
		} else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			i++; /* not a character XML 1.0 allows, even as a reference */
		} else if (c < 0x80) {
			buf_addc(out, (char)c);
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				buf_add(out, s + i, len);
				i += len;
			} else {
				buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
				i++;
			}
		}
	}
}

static void xesc(struct buf *out, const char *s)
{
	xml_escape(out, s, strlen(s));
}

static void element(struct buf *b, const char *name, const char *text)
{
	buf_printf(b, "<%s>", name);
	xesc(b, text);
	buf_printf(b, "</%s>\n", name);
}

static void stamp(struct buf *b, const char *name, time_t t)
{
	struct buf iso = BUF_INIT;
	time_iso(&iso, t);
	element(b, name, buf_cstr(&iso));
	buf_free(&iso);
}

/* The absolute base of our URLs: web.url, else this request's origin and
 * script path. */
static char *base_url(const struct web *w)
{
	struct buf b = BUF_INIT;
	if (w->cfg->web_url) {
		buf_adds(&b, w->cfg->web_url);
	} else {
		char *root = web_link(w, "");
		buf_printf(&b, "%s://%s%s", w->req->https ? "https" : "http", w->req->host, root);
		free(root);
	}
	return buf_take(&b);
}

/* GET /archive/feed.xml */
void web_get_archive_feed(struct web *w)
{
	if (!w->cfg->web_archive) {
		web_error(w, 404, "Not found", "There is no page at this address.");
		return;
	}
	struct archive_entry *v;
	size_t n;
	struct lb_err err = {0};
	if (archive_list(w->cfg, &v, &n, &err)) {
		log_warn("archive: %s", err.msg);
		web_error(w, 500, "Not available", "The archive cannot be shown right now.");
		return;
	}
	char *base = base_url(w);
	time_t newest = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].sent > newest)
			newest = v[i].sent;
	struct buf *b = &w->resp->body, url = BUF_INIT, html = BUF_INIT;
	const char *lang = w->cfg->site_lang ? w->cfg->site_lang : "en";
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
	xesc(b, lang);
	buf_adds(b, "\">\n");
	buf_printf(&url, "%s/archive/", base);
	element(b, "id", url.p);
	element(b, "title", w->cfg->site_name);
	stamp(b, "updated", newest ? newest : w->req->now);
	buf_adds(b, "<link rel=\"alternate\" type=\"text/html\" href=\"");
	xesc(b, url.p);
	buf_adds(b, "\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
	buf_adds(&url, "feed.xml");
	xesc(b, url.p);
	buf_adds(b, "\"/>\n<author>");
	element(b, "name", w->cfg->site_name);
	buf_adds(b, "</author>\n");
	for (size_t i = 0; i < n; i++) {
		const struct archive_entry *e = &v[i];
		buf_reset(&url);
		buf_printf(&url, "%s/archive/%s", base, e->a.slug);
		buf_adds(b, "<entry>\n");
		element(b, "id", url.p);
		element(b, "title", e->a.title);
		stamp(b, "published", e->sent);
		stamp(b, "updated", e->sent);
		buf_adds(b, "<link rel=\"alternate\" type=\"text/html\" href=\"");
		xesc(b, url.p);
		buf_adds(b, "\"/>\n");
		if (e->a.author) {
			buf_adds(b, "<author>");
			element(b, "name", e->a.author);
			buf_adds(b, "</author>\n");
		}
		if (e->summary)
			element(b, "summary", e->summary);
		buf_reset(&html);
		const char *body = e->a.body ? e->a.body : ""; /* a loaded article has one */
		render_markdown_web(w->cfg, body, strlen(body), &html);
		buf_adds(b, "<content type=\"html\">");
		xml_escape(b, html.p ? html.p : "", html.n);
		buf_adds(b, "</content>\n</entry>\n");
	}
	buf_adds(b, "</feed>\n");
	w->resp->content_type = "application/atom+xml; charset=utf-8";
	web_header(w, "Cache-Control", "public, max-age=300");
	buf_free(&url);
	buf_free(&html);
	free(base);
	archive_list_free(v, n);
}
