/* What the staff pages (web/staff*.c) share: who may enter, the CSRF field,
 * times, links.  Internal to src/web/.
 *
 * Every staff handler starts with staff_enter (GET) or staff_post_enter
 * (POST) and returns at once when it gives NULL: the 403 page is then the
 * response.  Both set `Cache-Control: no-store` (inquiries are health data);
 * the CSP with frame-ancestors 'none' is on every response (web/web.h).
 */
#ifndef LB_WEB_STAFF_INT_H
#define LB_WEB_STAFF_INT_H

#include <stdbool.h>
#include <time.h>

#include "core/buf.h"
#include "web/web.h"

/* The user the web server authenticated (REMOTE_USER), when web.staff lets
 * them in (any user when it lists nobody); else NULL after a 403 page that
 * says the server must require a login (README, contrib/). */
const char *staff_enter(struct web *w);

/* staff_enter, then the checks of a state-changing request: the form's
 * `csrf` field made for this user and this path (web/csrf.h), and the
 * request's Origin (or Referer) is ours (web_same_origin, strict).  NULL
 * after a 403 page when any fails: then nothing may change. */
const char *staff_post_enter(struct web *w);

/* The one place staff pages format a time: to the minute, local time. */
void staff_time(const struct web *w, struct buf *b, time_t t);

/* <form method="post" action="LINK(path)" class="cls"> and the hidden csrf
 * field for (user, path).  The caller closes the form. */
void staff_form_open(struct web *w, struct buf *b, const char *user, const char *path,
		     const char *cls);

/* The staff pages' navigation, with who is signed in. */
void staff_nav(struct web *w, struct buf *b, const char *user);

/* An escaped href="..." value for a path of ours. */
void staff_href(struct web *w, struct buf *b, const char *path);

/* 303 See Other to a path of ours (after a POST that worked). */
void staff_redirect(struct web *w, const char *path);

/* The inquiry number in w->arg; false after a 404 page when it is none. */
bool staff_arg_number(struct web *w, unsigned *num);

/* A "take it" button: assign to user and open, then back to next
 * ("list" or "inquiry"). */
void staff_take_form(struct web *w, struct buf *b, const char *user, unsigned num,
		     const char *next);

/* An inquiry page's parts (web/staff_inquiry.c): the navigation, facts and
 * "take it" button; the set, note and reply forms (body: the reply's text
 * area, NULL for empty). */
struct inquiry;
void staff_inquiry_head(struct web *w, struct buf *b, const char *user, const struct inquiry *q);
void staff_inquiry_forms(struct web *w, struct buf *b, const char *user, const struct inquiry *q,
			 const char *body);

#endif
