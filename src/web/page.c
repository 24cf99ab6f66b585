/* Pages: the site's templates/page.html (or the built-in page) around what
 * a handler made, and the small helpers every handler uses. */
#include "web/web.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/onemail.h"
#include "compose/template.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"

/* The page when a site has no templates/page.html of its own. */
static const char builtin_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"{{site.lang}}\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{page.title}} · {{site.name}}</title>\n"
    "<link rel=\"stylesheet\" href=\"{{page.stylesheet}}\">\n"
    "</head>\n"
    "<body>\n"
    "<header><a class=\"site\" href=\"{{page.home}}\">{{site.name}}</a></header>\n"
    "<main>\n"
    "<h1>{{page.title}}</h1>\n"
    "{{{page.content}}}\n"
    "</main>\n"
    "<footer>{{site.name}}{{#site.postal_address}} · "
    "{{site.postal_address}}{{/site.postal_address}}</footer>\n"
    "</body>\n"
    "</html>\n";

struct page_vars {
	const struct config *cfg;
	const char *title, *content, *stylesheet, *home;
};

static enum tpl_lookup_result page_lookup(void *ctx, struct span name, struct span *v)
{
	const struct page_vars *pv = ctx;
	const struct config *cfg = pv->cfg;
	const char *s;
	if (span_eq(name, "site.name"))
		s = cfg->site_name;
	else if (span_eq(name, "site.url"))
		s = cfg->site_url;
	else if (span_eq(name, "site.postal_address"))
		s = cfg->site_postal_address;
	else if (span_eq(name, "site.lang"))
		s = cfg->site_lang ? cfg->site_lang : "en";
	else if (span_eq(name, "page.title"))
		s = pv->title;
	else if (span_eq(name, "page.content"))
		s = pv->content;
	else if (span_eq(name, "page.stylesheet"))
		s = pv->stylesheet;
	else if (span_eq(name, "page.home"))
		s = pv->home;
	else
		return TPL_UNKNOWN;
	*v = s ? span_cstr(s) : (struct span){"", 0};
	return TPL_VALUE;
}

/* The site's page template (or the installed one, as for every other
 * template), else the built-in page.  A template that does not compile is
 * the site's mistake: said in the server's log, and the built-in page is
 * used so the visitor is served. */
static struct tpl *page_template(const struct config *cfg)
{
	struct tpl *t = NULL;
	struct lb_err err = {0};
	int rc = onemail_compile(cfg, "page.html", TPL_ESC_HTML, &t, &err);
	if (rc && rc != LB_ENOINPUT)
		log_warn("%s (using the built-in page)", err.msg);
	if (!t &&
	    tpl_compile("page.html", builtin_page, sizeof builtin_page - 1, TPL_ESC_HTML, &t, &err))
		abort(); /* ours: a test compiles it */
	return t;
}

void web_page(struct web *w, int status, const char *title, const char *body_html)
{
	w->resp->status = status;
	w->resp->content_type = NULL;
	buf_reset(&w->resp->body);
	char *css = web_link(w, "/static/letterbox.css");
	char *home = web_link(w, "/");
	struct page_vars pv = {w->cfg, title, body_html, css, home};
	struct tpl *t = page_template(w->cfg);
	struct lb_err err = {0};
	if (tpl_render(t, page_lookup, &pv, &w->resp->body, &err)) {
		/* an unknown name in the site's template: say so, serve the text */
		log_warn("templates/page.html: %s", err.msg);
		buf_reset(&w->resp->body);
		buf_adds(&w->resp->body, body_html);
	}
	tpl_free(t);
	free(home);
	free(css);
}

void web_error(struct web *w, int status, const char *title, const char *text)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<p>");
	web_html(&b, text);
	buf_adds(&b, "</p>\n");
	web_page(w, status, title, buf_cstr(&b));
	buf_free(&b);
}

void web_error_rc(struct web *w, int rc, int status, const char *title, const char *text)
{
	if (rc == LB_ETEMP) {
		web_header(w, "Retry-After", "10");
		status = 503;
	}
	web_error(w, status, title, text);
}

void web_html(struct buf *b, const char *text)
{
	buf_add_html(b, text, strlen(text));
}

void web_header(struct web *w, const char *name, const char *value)
{
	/* One line whatever value holds: a CR or LF from data (a file name, an
	 * address in a Location) must never start a header of its own. */
	buf_printf(&w->resp->headers, "%s: ", name);
	for (const char *c = value; *c; c++)
		if ((unsigned char)*c >= 0x20 && *c != 0x7f)
			buf_addc(&w->resp->headers, *c);
	buf_adds(&w->resp->headers, "\r\n");
}

char *web_link(const struct web *w, const char *path)
{
	struct buf b = BUF_INIT;
	const char *base = w->req->script_name;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	buf_add(&b, base, n);
	buf_adds(&b, path);
	return buf_take(&b);
}

/* "scheme://host[:port]" of an absolute URL: its length, 0 when it has none. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p || p == url)
		return 0;
	p += 3;
	p += strcspn(p, "/?#");
	return (size_t)(p - url);
}

static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	return an && an == bn && strncasecmp(a, b, an) == 0;
}

bool web_same_origin(const struct web *w, bool strict)
{
	const struct web_req *r = w->req;
	const char *claimed = r->origin;
	size_t cn;
	/* A header only a browser sets, and never from a script: what it says
	 * is what the browser knows.  ("none", typed or bookmarked, says
	 * nothing about a form: fall through.) */
	if (r->fetch_site && strcmp(r->fetch_site, "same-origin") == 0)
		return true;
	if (r->fetch_site &&
	    (strcmp(r->fetch_site, "cross-site") == 0 || strcmp(r->fetch_site, "same-site") == 0))
		return false;
	if (claimed && strcmp(claimed, "null") != 0) {
		cn = strlen(claimed);
	} else if (claimed) {
		/* "null": a sandboxed or privacy-sensitive context, and what a
		 * browser without Sec-Fetch-Site (Safari before 16.4) sends with
		 * a form from our own no-referrer pages: it says nothing either
		 * way, like no header at all */
		return !strict;
	} else if (r->referer) {
		claimed = r->referer;
		cn = origin_len(claimed);
	} else {
		return !strict;
	}
	struct buf own = BUF_INIT;
	buf_printf(&own, "%s://%s", r->https ? "https" : "http", r->host);
	bool ok = same(claimed, cn, own.p, own.n);
	buf_free(&own);
	const char *pub = w->cfg->web_url;
	if (!ok && pub)
		ok = same(claimed, cn, pub, origin_len(pub));
	return ok;
}
