/* The route table's handlers, one per route and method (router.c holds the
 * table).  Each fills w->resp; none prints.  Internal to src/web/. */
#ifndef LB_WEB_ROUTES_H
#define LB_WEB_ROUTES_H

#include "web/web.h"

typedef void (*web_handler)(struct web *w);

/* static.c */
void web_get_css(struct web *w);  /* GET /static/letterbox.css */
void web_get_home(struct web *w); /* GET / */

/* archive.c, feed.c: the sent newsletters */
void web_get_archive(struct web *w);	     /* GET /archive/ */
void web_get_archive_article(struct web *w); /* GET /archive/SLUG */
void web_get_archive_feed(struct web *w);    /* GET /archive/feed.xml */

#endif
