#include "compose/article.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "core/yamlx.h"

#define DATA LB_EDATA

/* Length of the line starting at p (without its \n or \r\n), and of its ending. */
static size_t line_len(const char *p, const char *end, size_t *eol)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	*eol = nl ? 1 : 0;
	if (n && p[n - 1] == '\r') {
		n--;
		(*eol)++;
	}
	return n;
}

static bool is_fence(const char *p, size_t n, bool closing)
{
	return (n == 3 && memcmp(p, "---", 3) == 0) ||
	       (closing && n == 3 && memcmp(p, "...", 3) == 0);
}

/* Split text into front matter and body; *fm_line is the front matter's first line. */
static int split(const char *path, struct span text, struct span *fm, struct span *body,
		 size_t *body_line, struct lb_err *err)
{
	const char *p = text.p, *end = text.p + text.n;
	size_t eol, n = line_len(p, end, &eol);
	if (!is_fence(p, n, false))
		return err_set(err, DATA,
			       "%s:1:1: an article starts with a '---' line, then its "
			       "front matter (title, date, ...), then another '---' line",
			       path);
	p += n + eol;
	const char *fm_start = p;
	size_t line = 2;
	while (p < end) {
		n = line_len(p, end, &eol);
		if (is_fence(p, n, true)) {
			*fm = (struct span){fm_start, (size_t)(p - fm_start)};
			p += n + eol;
			*body = (struct span){p, (size_t)(end - p)};
			*body_line = line + 1;
			return 0;
		}
		p += n + eol;
		line++;
	}
	return err_set(err, DATA, "%s:1:1: the front matter is not closed by a '---' line", path);
}

/* [a-z0-9][a-z0-9-]*: a slug names a directory (state/campaigns/SLUG) and
 * goes into Message-IDs and URLs, so "." and ".." and anything odd are out. */
static bool slug_ok(struct span s)
{
	if (s.n == 0 || s.p[0] == '-')
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

#define SLUG_RULE                                                                                  \
	"may hold only lower-case letters, digits and '-', and starts with a letter or digit"

/* The file name without its YYYY-MM-DD- prefix and ".md". */
static struct span slug_span(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	struct span s = span_cstr(base);
	if (s.n > 3 && memcmp(s.p + s.n - 3, ".md", 3) == 0)
		s.n -= 3;
	time_t t;
	if (s.n >= 11 && s.p[10] == '-' && time_parse((struct span){s.p, 10}, &t)) {
		s.p += 11;
		s.n -= 11;
	}
	return s;
}

static int slug_from_path(const char *path, struct article *a, struct lb_err *err)
{
	struct span s = slug_span(path);
	if (s.n == 0)
		return err_set(err, DATA,
			       "%s: the file name has no slug (name it YYYY-MM-DD-slug.md)", path);
	if (!slug_ok(s))
		return err_set(err, DATA, "%s: the slug '%.*s' (from the file name) " SLUG_RULE,
			       path, (int)s.n, s.p);
	a->slug = span_dup(s);
	return 0;
}

char *article_slug(const char *path)
{
	struct span s = slug_span(path);
	return slug_ok(s) ? span_dup(s) : NULL;
}

static bool same_file(const char *x, const char *y)
{
	struct stat a, b;
	if (strcmp(x, y) == 0)
		return true;
	return stat(x, &a) == 0 && stat(y, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int article_slug_clash(char *const *paths, const char *path, struct lb_err *err)
{
	char *slug = article_slug(path);
	int rc = 0;
	for (char *const *p = paths; slug && *p && !rc; p++) {
		char *other = article_slug(*p);
		if (other && strcmp(other, slug) == 0 && !same_file(*p, path))
			rc = err_set(err, DATA,
				     "%s: %s has the same slug '%s': the two would share one "
				     "campaign (state/campaigns/%s); rename one",
				     path, *p, slug, slug);
		free(other);
	}
	free(slug);
	return rc;
}

static int get_time(struct ydoc *d, yaml_node_t *n, const char *key, time_t *out,
		    struct lb_err *err)
{
	struct span s = yscalar(n);
	if (!yis_scalar(n) || !time_parse(s, out))
		return yerr(d, n, DATA, err,
			    "'%s' must be a date like 2026-11-25 or 2026-11-25 09:30, not '%.*s'",
			    key, (int)s.n, s.p);
	return 0;
}

static const char *const known[] = {"title",  "date",	 "send_at", "preheader", "lists", "draft",
				    "author", "closing", "url",	    "slug",	 NULL};

static int load_front(struct ydoc *d, struct article *a, struct lb_err *err)
{
	yaml_node_t *root = ydoc_root(d);
	if (!root)
		return err_set(err, DATA,
			       "%s:2:1: the front matter is empty (title and date are "
			       "required)",
			       a->path);
	int rc = ymap_check(d, root, "the front matter", NULL, DATA, err);
	if (rc)
		return rc;
	yaml_node_t *n;
	if (!(n = ymap_get(d, root, "title")))
		return yreq(d, root, "the front matter", "title", DATA, err);
	if ((rc = yget_str(d, n, "title", &a->title, DATA, err)))
		return rc;
	if (!span_trim(span_cstr(a->title)).n)
		return yerr(d, n, DATA, err, "'title' is empty");
	if (!(n = ymap_get(d, root, "date")))
		return yreq(d, root, "the front matter", "date", DATA, err);
	if ((rc = get_time(d, n, "date", &a->date, err)))
		return rc;
	a->send_at = a->date;
	/* The slug is the file name's; a `slug:` (as other site generators
	 * have) may only repeat it, so that no article silently gets another. */
	if ((n = ymap_get(d, root, "slug"))) {
		struct span s = yscalar(n);
		if (!yis_scalar(n) || !slug_ok(s))
			return yerr(d, n, DATA, err, "the slug '%.*s' " SLUG_RULE, (int)s.n, s.p);
		if (!span_eq(s, a->slug))
			return yerr(d, n, DATA, err,
				    "slug: '%.*s' differs from the file name's slug '%s'; the slug "
				    "is the file name (rename the file to change it)",
				    (int)s.n, s.p, a->slug);
	}
	if ((n = ymap_get(d, root, "send_at")) &&
	    (rc = get_time(d, n, "send_at", &a->send_at, err)))
		return rc;
	if ((rc = yget_str(d, ymap_get(d, root, "preheader"), "preheader", &a->preheader, DATA,
			   err)) ||
	    (rc = yget_str(d, ymap_get(d, root, "author"), "author", &a->author, DATA, err)) ||
	    (rc = yget_str(d, ymap_get(d, root, "closing"), "closing", &a->closing, DATA, err)) ||
	    (rc = yget_str(d, ymap_get(d, root, "url"), "url", &a->url, DATA, err)) ||
	    (rc = yget_bool(d, ymap_get(d, root, "draft"), "draft", &a->draft, DATA, err)) ||
	    (rc = yget_strlist(d, ymap_get(d, root, "lists"), "lists", &a->lists, NULL, DATA, err)))
		return rc;
	if ((n = ymap_get(d, root, "lists"))) {
		a->lists_line = yline(d, n);
		a->lists_col = n->start_mark.column + 1;
	}
	/* Extra keys: scalars only, for templates. */
	a->extra = xcalloc(ylen(root), sizeof *a->extra);
	for (size_t i = 0; i < ylen(root); i++) {
		struct span k = yscalar(ymap_key(d, root, i));
		bool is_known = false;
		for (const char *const *w = known; *w && !is_known; w++)
			is_known = span_eq(k, *w);
		yaml_node_t *v = ymap_value(d, root, i);
		if (is_known || yis_null(v))
			continue;
		char *key = span_dup(k);
		rc = yget_str(d, v, key, &a->extra[a->nextra].value, DATA, err);
		if (rc) {
			free(key);
			return rc;
		}
		a->extra[a->nextra++].key = key;
	}
	return 0;
}

int article_parse(const char *path, const char *data, size_t n, struct article *a,
		  struct lb_err *err)
{
	memset(a, 0, sizeof *a);
	a->path = xstrdup(path);
	struct ydoc d = {0};
	struct span fm = {"", 0}, body = {"", 0};
	int rc;
	if ((rc = slug_from_path(path, a, err)) ||
	    (rc = split(path, (struct span){data, n}, &fm, &body, &a->body_line, err)) ||
	    (rc = ydoc_load(&d, path, fm.p, fm.n, 1, DATA, err)) || (rc = load_front(&d, a, err)))
		goto out;
	if (memchr(body.p, '\0', body.n)) {
		rc = err_set(err, DATA, "%s: the article holds a NUL byte", path);
		goto out;
	}
	a->body = span_dup(body);
out:
	ydoc_free(&d);
	return rc;
}

int article_load(const char *path, struct article *a, struct lb_err *err)
{
	struct buf text = BUF_INIT;
	memset(a, 0, sizeof *a);
	int rc = fsx_read(path, &text, 8 << 20, err);
	if (!rc)
		rc = article_parse(path, buf_cstr(&text), text.n, a, err);
	buf_free(&text);
	return rc;
}

void article_free(struct article *a)
{
	free(a->path);
	free(a->slug);
	free(a->title);
	free(a->preheader);
	free(a->author);
	free(a->closing);
	free(a->url);
	strlist_free(a->lists);
	for (size_t i = 0; i < a->nextra; i++) {
		free(a->extra[i].key);
		free(a->extra[i].value);
	}
	free(a->extra);
	free(a->body);
	memset(a, 0, sizeof *a);
}

const char *article_extra(const struct article *a, const char *key)
{
	for (size_t i = 0; i < a->nextra; i++)
		if (strcmp(a->extra[i].key, key) == 0)
			return a->extra[i].value;
	return NULL;
}
