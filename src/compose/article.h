/* Articles: newsletters/YYYY-MM-DD-slug.md, YAML front matter between "---"
 * lines, then a CommonMark body.
 *
 * Front matter keys: title (required), date (required), send_at, preheader,
 * lists, draft, author, closing, url, slug (only the file name's again); any
 * other key with a scalar value is kept for templates as article.KEY.  Errors
 * name file:line:col (LB_EDATA).
 *
 * The slug is the file name without its date and ".md"; it names the
 * campaign (state/campaigns/SLUG), so it must match [a-z0-9][a-z0-9-]* and
 * no two articles may have the same one.
 */
#ifndef LB_ARTICLE_H
#define LB_ARTICLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "core/kv.h"

struct article {
	char *path;
	char *slug; /* file name without the date prefix and ".md" */
	char *title;
	char *preheader; /* may be NULL */
	char *author;	 /* may be NULL */
	char *closing;	 /* may be NULL: a closing note under the article */
	char *url;	 /* may be NULL: web link (front matter or site.article_url) */
	time_t date;
	time_t send_at; /* send_at, or date when absent */
	bool draft;
	char **lists;		      /* NULL-terminated; NULL means every list */
	size_t lists_line, lists_col; /* where `lists:` is, for messages */
	struct kv *extra;
	size_t nextra;
	char *body;	  /* the Markdown after the front matter */
	size_t body_line; /* 1-based line of the body's first line in the file */
};

/* Load and validate one article file. */
int article_load(const char *path, struct article *a, struct lb_err *err);
/* The same for text already in memory; path names it in messages and gives the slug. */
int article_parse(const char *path, const char *data, size_t n, struct article *a,
		  struct lb_err *err);
void article_free(struct article *a);

/* The slug path's file name gives, or NULL when it gives none that is valid
 * (article_load says why).  Caller frees. */
char *article_slug(const char *path);
/* LB_EDATA, naming both files, when another of paths (NULL-terminated; the
 * site's articles) has path's slug: they would share one campaign. */
int article_slug_clash(char *const *paths, const char *path, struct lb_err *err);

/* Value of an extra front-matter key, or NULL. */
const char *article_extra(const struct article *a, const char *key);

#endif
