/* GET /archive/ and /archive/SLUG: the newsletters that have gone out, as
 * pages of the site (archive.h says what "sent" means).
 *
 * An article page is the article's Markdown through the mail's renderer in
 * its web mode (render_markdown_web): the same HTML elements, links resolved
 * the same way, but no inline styles (the CSP allows only our stylesheet)
 * and images as links (the CSP loads none).  It is set in the site's page,
 * not in templates/newsletter.html: that template is an inline-styled email
 * table, and its per-recipient holes have no business on a public page.
 * What the mail fills per recipient is left out or made neutral: no
 * greeting (the mail's "Dear NAME," appears only with a name), no token, no
 * address, and where the mail has its unsubscribe link the page invites the
 * reader to subscribe. */
#include "web/archive.h"

#include <stdlib.h>
#include <string.h>

#include "compose/render.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "deliver/campaign.h"
#include "web/routes.h"

void archive_entry_free(struct archive_entry *e)
{
	article_free(&e->a);
	memset(e, 0, sizeof *e);
}

void archive_list_free(struct archive_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		archive_entry_free(&v[i]);
	free(v);
}

/* Load path as e when its campaign has gone out and it is not a draft:
 * 0 (e->a.path set), 0 with e->a.path NULL (not in the archive), or an
 * error reading state. */
static int entry_load(const struct config *cfg, const char *path, const char *slug,
		      struct archive_entry *e, struct lb_err *err)
{
	memset(e, 0, sizeof *e);
	int rc = campaign_first_sent(cfg, slug, &e->sent, err);
	if (rc || !e->sent)
		return rc;
	struct lb_err aerr = {0};
	if (article_load(path, &e->a, &aerr)) {
		log_warn("archive: %s (left out)", aerr.msg);
		archive_entry_free(e);
		return 0;
	}
	if (e->a.draft) {
		archive_entry_free(e);
		return 0;
	}
	e->summary = article_extra(&e->a, "summary");
	if (!e->summary || !*e->summary)
		e->summary = e->a.preheader && *e->a.preheader ? e->a.preheader : NULL;
	return 0;
}

struct named {
	char *slug;
	const char *path;
};

static int by_slug(const void *x, const void *y)
{
	return strcmp(((const struct named *)x)->slug, ((const struct named *)y)->slug);
}

static int newest_first(const void *x, const void *y)
{
	const struct archive_entry *a = x, *b = y;
	if (a->a.date != b->a.date)
		return a->a.date > b->a.date ? -1 : 1;
	if (a->sent != b->sent)
		return a->sent > b->sent ? -1 : 1;
	return strcmp(a->a.slug, b->a.slug);
}

static char **article_paths(const struct config *cfg, struct lb_err *err)
{
	char *dir = path_join(cfg->site_dir, "newsletters");
	char **paths = fsx_list_err(dir, ".md", err);
	free(dir);
	return paths;
}

int archive_list(const struct config *cfg, struct archive_entry **out, size_t *nout,
		 struct lb_err *err)
{
	*out = NULL;
	*nout = 0;
	char **paths = article_paths(cfg, err);
	if (!paths)
		return err->code;
	/* Slugs from the file names alone; two files with one slug share a
	 * campaign, so neither is shown (send refuses both too). */
	size_t np = 0, nn = 0;
	while (paths[np])
		np++;
	struct named *nv = xcalloc(np + 1, sizeof *nv);
	for (size_t i = 0; i < np; i++)
		if ((nv[nn].slug = article_slug(paths[i])))
			nv[nn++].path = paths[i];
	qsort(nv, nn, sizeof *nv, by_slug);
	struct archive_entry *v = xcalloc(nn + 1, sizeof *v);
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < nn && !rc; i++) {
		bool clash = (i > 0 && strcmp(nv[i - 1].slug, nv[i].slug) == 0) ||
			     (i + 1 < nn && strcmp(nv[i + 1].slug, nv[i].slug) == 0);
		if (clash) {
			log_warn("archive: %s shares its slug with another article (left out)",
				 nv[i].path);
			continue;
		}
		rc = entry_load(cfg, nv[i].path, nv[i].slug, &v[n], err);
		if (!rc && v[n].a.path)
			n++;
	}
	for (size_t i = 0; i < nn; i++)
		free(nv[i].slug);
	free(nv);
	fsx_list_free(paths);
	if (rc) {
		archive_list_free(v, n);
		return rc;
	}
	qsort(v, n, sizeof *v, newest_first);
	*out = v;
	*nout = n;
	return 0;
}

int archive_find(const struct config *cfg, const char *slug, struct archive_entry *e,
		 struct lb_err *err)
{
	memset(e, 0, sizeof *e);
	char **paths = article_paths(cfg, err);
	if (!paths)
		return err->code;
	const char *found = NULL;
	size_t matches = 0;
	for (char **p = paths; *p; p++) {
		char *s = article_slug(*p);
		if (s && strcmp(s, slug) == 0) {
			found = *p;
			matches++;
		}
		free(s);
	}
	int rc = 0;
	if (matches == 1)
		rc = entry_load(cfg, found, slug, e, err);
	else if (matches > 1)
		log_warn("archive: two articles have the slug '%s' (left out)", slug);
	if (!rc && !e->a.path)
		rc = err_set(err, LB_ENOINPUT, "no sent newsletter '%s'", slug);
	fsx_list_free(paths);
	return rc;
}

/* ---- pages ------------------------------------------------------------------------------ */

/* "<time datetime="2026-11-25">25 November 2026</time>", local time. */
static void add_date(struct buf *b, time_t t)
{
	struct tm tm;
	char iso[16];
	localtime_r(&t, &tm);
	strftime(iso, sizeof iso, "%Y-%m-%d", &tm);
	struct buf human = BUF_INIT;
	time_human_date(&human, t);
	buf_printf(b, "<time datetime=\"%s\">", iso);
	web_html(b, buf_cstr(&human));
	buf_adds(b, "</time>");
	buf_free(&human);
}

static void add_link(struct buf *b, const struct web *w, const char *path, const char *text)
{
	char *href = web_link(w, path);
	buf_adds(b, "<a href=\"");
	web_html(b, href);
	buf_adds(b, "\">");
	web_html(b, text);
	buf_adds(b, "</a>");
	free(href);
}

static void archive_failed(struct web *w, const struct lb_err *err)
{
	log_warn("archive: %s", err->msg);
	web_error(w, 500, "Not available", "The archive cannot be shown right now.");
}

static bool archive_on(struct web *w)
{
	if (w->cfg->web_archive)
		return true;
	web_error(w, 404, "Not found", "There is no page at this address.");
	return false;
}

/* GET /archive/ */
void web_get_archive(struct web *w)
{
	if (!archive_on(w))
		return;
	struct archive_entry *v;
	size_t n;
	struct lb_err err = {0};
	if (archive_list(w->cfg, &v, &n, &err)) {
		archive_failed(w, &err);
		return;
	}
	struct buf b = BUF_INIT;
	if (n == 0)
		buf_adds(&b, "<p>No newsletter has been sent yet.</p>\n");
	else
		buf_adds(&b, "<ul class=\"archive\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct archive_entry *e = &v[i];
		struct buf path = BUF_INIT;
		buf_printf(&path, "/archive/%s", e->a.slug);
		buf_adds(&b, "<li>");
		add_link(&b, w, path.p, e->a.title);
		buf_adds(&b, "<span class=\"date\">");
		add_date(&b, e->a.date);
		buf_adds(&b, "</span>");
		if (e->summary) {
			buf_adds(&b, "<span class=\"summary\">");
			web_html(&b, e->summary);
			buf_adds(&b, "</span>");
		}
		buf_adds(&b, "</li>\n");
		buf_free(&path);
	}
	if (n)
		buf_adds(&b, "</ul>\n");
	buf_adds(&b, "<p class=\"note\">");
	add_link(&b, w, "/subscribe", "Subscribe");
	buf_adds(&b, " to receive the next one by mail · ");
	add_link(&b, w, "/archive/feed.xml", "Atom feed");
	buf_adds(&b, "</p>\n");
	web_header(w, "Cache-Control", "public, max-age=300");
	web_page(w, 200, "Past newsletters", buf_cstr(&b));
	buf_free(&b);
	archive_list_free(v, n);
}

/* GET /archive/SLUG */
void web_get_archive_article(struct web *w)
{
	if (!archive_on(w))
		return;
	char *slug = span_dup(w->arg);
	struct archive_entry e;
	struct lb_err err = {0};
	int rc = archive_find(w->cfg, slug, &e, &err);
	free(slug);
	if (rc == LB_ENOINPUT) {
		web_error(w, 404, "Not found", "There is no newsletter at this address.");
		return;
	}
	if (rc) {
		archive_failed(w, &err);
		return;
	}
	const struct article *a = &e.a;
	struct buf b = BUF_INIT;
	buf_adds(&b, "<p class=\"date\">");
	add_date(&b, a->date);
	if (a->author) {
		buf_adds(&b, " · ");
		web_html(&b, a->author);
	}
	buf_adds(&b, "</p>\n<div class=\"article\">\n");
	const char *body = a->body ? a->body : ""; /* a loaded article has one */
	render_markdown_web(w->cfg, body, strlen(body), &b);
	buf_adds(&b, "</div>\n");
	if (a->closing) {
		buf_adds(&b, "<blockquote class=\"closing\"><p>");
		web_html(&b, a->closing);
		buf_adds(&b, "</p><p class=\"signature\">— ");
		web_html(&b, a->author ? a->author : w->cfg->site_name);
		buf_adds(&b, "</p></blockquote>\n");
	}
	/* Where the mail has the reader's own unsubscribe link. */
	buf_adds(&b, "<p class=\"note\">");
	add_link(&b, w, "/subscribe", "Subscribe");
	buf_adds(&b, " to receive our newsletter by mail · ");
	add_link(&b, w, "/archive/", "All past newsletters");
	buf_adds(&b, "</p>\n");
	web_header(w, "Cache-Control", "public, max-age=300");
	web_page(w, 200, a->title, buf_cstr(&b));
	buf_free(&b);
	archive_entry_free(&e);
}
