/* The route table's handlers, one per route and method (router.c holds the
 * table).  Each fills w->resp; none prints.  Internal to src/web/. */
#ifndef LB_WEB_ROUTES_H
#define LB_WEB_ROUTES_H

#include "web/web.h"

typedef void (*web_handler)(struct web *w);

/* static.c */
void web_get_css(struct web *w);  /* GET /static/letterbox.css */
void web_get_home(struct web *w); /* GET / */

/* unsub.c: one-click unsubscribe (issue 12) */
void web_get_unsub(struct web *w);  /* GET /u/TOKEN: the page, no change */
void web_post_unsub(struct web *w); /* POST /u/TOKEN: unsubscribe, or resubscribe=1 */
/* "z***@example.org": the first character of the local part, then the
 * domain; what a page shows of an address. */
void web_mask_address(struct buf *b, const char *address);
/* subscribe.c */
void web_get_subscribe(struct web *w);	/* GET /subscribe: the form */
void web_post_subscribe(struct web *w); /* POST /subscribe: send the confirmation */
void web_get_confirm(struct web *w);	/* GET /confirm/TOKEN: a button */
void web_post_confirm(struct web *w);	/* POST /confirm/TOKEN: subscribed */
/* archive.c, feed.c: the sent newsletters */
void web_get_archive(struct web *w);	     /* GET /archive/ */
void web_get_archive_article(struct web *w); /* GET /archive/SLUG */
void web_get_archive_feed(struct web *w);    /* GET /archive/feed.xml */
/* staff.c, staff_inquiry.c, staff_actions.c, staff_more.c: /staff/ (issue 13) */
void web_get_staff(struct web *w);		/* GET /staff/ */
void web_get_staff_inquiry(struct web *w);	/* GET /staff/inquiries/N */
void web_get_staff_attachment(struct web *w);	/* GET /staff/inquiries/N/attachments/K */
void web_post_staff_set(struct web *w);		/* POST /staff/inquiries/N/set */
void web_post_staff_note(struct web *w);	/* POST /staff/inquiries/N/note */
void web_post_staff_reply(struct web *w);	/* POST /staff/inquiries/N/reply */
void web_get_staff_campaigns(struct web *w);	/* GET /staff/campaigns */
void web_get_staff_subscribers(struct web *w);	/* GET /staff/subscribers */
void web_post_staff_subscribers(struct web *w); /* POST /staff/subscribers */

#endif
