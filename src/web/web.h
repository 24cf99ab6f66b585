/* The web side: `letterbox cgi` answers one HTTP request as a CGI/1.1
 * program (RFC 3875) and exits.  The web server in front does TLS, logging
 * and, for /staff/, the login; letterbox never listens on a socket.
 *
 * One request is read from the environment and stdin (web_request_read),
 * routed by method and PATH_INFO (web_dispatch: a table in router.c, one
 * handler per route and method), and answered on stdout with a
 * "Status:" line, the headers every response carries (web_respond):
 *
 *     Content-Security-Policy: default-src 'none'; style-src 'self';
 *         form-action 'self'; frame-ancestors 'none'
 *     X-Content-Type-Options: nosniff
 *     Referrer-Policy: no-referrer   (unless the handler set one: with
 *         no-referrer a browser's form POST carries "Origin: null")
 *
 * and a body.  Unknown paths are 404, a known path with another method 405
 * with Allow, a body over WEB_MAX_BODY 413.  HEAD is answered as GET without
 * the body.  Handlers never print: they fill w->resp.
 */
#ifndef LB_WEB_H
#define LB_WEB_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "web/form.h"

#define WEB_MAX_BODY (64 * 1024)
/* How much of a larger body is read and dropped before answering 413 (some
 * servers lose the answer of a CGI that leaves its body unread); the server
 * in front caps bodies anyway (contrib/: 128 KB). */
#define WEB_DRAIN_MAX (1024 * 1024)

struct web_req {
	const char *method;	  /* REQUEST_METHOD, upper case as sent */
	const char *path;	  /* PATH_INFO; "/" when empty */
	const char *query;	  /* QUERY_STRING; "" when absent */
	const char *content_type; /* CONTENT_TYPE; "" when absent */
	const char *remote_addr;  /* REMOTE_ADDR; "" when absent */
	const char *remote_user;  /* REMOTE_USER; NULL unless the server authenticated */
	const char *origin;	  /* HTTP_ORIGIN; NULL when absent */
	const char *referer;	  /* HTTP_REFERER; NULL when absent */
	const char *fetch_site;	  /* HTTP_SEC_FETCH_SITE; NULL when absent */
	const char *host;	  /* HTTP_HOST, else SERVER_NAME[:SERVER_PORT]; "" when absent */
	const char *script_name;  /* SCRIPT_NAME: where our URLs start ("" at the root) */
	bool https;		  /* HTTPS=on, or REQUEST_SCHEME=https */
	bool too_large;		  /* CONTENT_LENGTH was over WEB_MAX_BODY: body not read */
	struct buf body;	  /* the request body as sent (POST) */
	time_t now;
};

struct web_resp {
	int status;		  /* 200 unless a handler says otherwise */
	const char *content_type; /* a static string; NULL: text/html; charset=utf-8 */
	struct buf headers;	  /* extra "Name: value\r\n" lines */
	struct buf body;
};

/* What a handler has at hand. */
struct web {
	const struct config *cfg; /* the site, loaded */
	const struct web_req *req;
	struct web_resp *resp;
	struct span arg;  /* the path segment a route's "*" matched, as sent (not decoded) */
	struct span arg2; /* what a second "*" matched (empty without one) */
	struct form form; /* POST: the urlencoded body; GET/HEAD: the query string */
};

/* Read a request from the CGI environment and in (the body: CONTENT_LENGTH
 * bytes, none when it is over WEB_MAX_BODY).  LB_EUSAGE with a message when
 * this is not a CGI request (no REQUEST_METHOD), LB_EDATA for a body shorter
 * than CONTENT_LENGTH or a CONTENT_LENGTH that is not a number (answer 400). */
int web_request_read(struct web_req *req, FILE *in, time_t now, struct lb_err *err);
void web_request_free(struct web_req *req);

void web_resp_init(struct web_resp *resp);
void web_resp_free(struct web_resp *resp);

/* Route req and run its handler, filling resp.  Never fails: errors become
 * responses (a site that cannot be read is a 500 page; the reason goes to
 * stderr, the web server's log, without message bodies or secrets). */
void web_dispatch(const struct config *cfg, const struct web_req *req, struct web_resp *resp);

/* Write resp to out as a CGI response: Status, Content-Type, the security
 * headers above, resp's own headers, Content-Length, a blank line and the
 * body (not for HEAD).  Returns false when out could not be written. */
bool web_respond(const struct web_req *req, const struct web_resp *resp, FILE *out);

/* The reason phrase for an HTTP status ("Not Found"). */
const char *web_status_text(int status);

/* ---- for handlers ------------------------------------------------------------------------ */

/* Add a response header line ("Name: value"); control characters in value
 * (CR, LF) are dropped, so it stays one line. */
void web_header(struct web *w, const char *name, const char *value);

/* Answer with the site's page (templates/page.html, else a built-in one)
 * around body_html, which is HTML the caller made safe (web_html_*).  title
 * is plain text.  Sets the status. */
void web_page(struct web *w, int status, const char *title, const char *body_html);

/* A short error page: status, a title and one sentence of plain text. */
void web_error(struct web *w, int status, const char *title, const char *text);
/* web_error's page for an error of code rc: 503 with Retry-After when rc is
 * LB_ETEMP (the store busy past its timeout: another process writes), else
 * status. */
void web_error_rc(struct web *w, int rc, int status, const char *title, const char *text);

/* Append text HTML-escaped to b (& < > " '). */
void web_html(struct buf *b, const char *text);

/* The URL path of a route of ours for links and form actions:
 * SCRIPT_NAME + path ("/news" + "/u/abc").  Caller frees. */
char *web_link(const struct web *w, const char *path);

/* Whether a state-changing POST comes from one of our own pages: the
 * browser's Sec-Fetch-Site says "same-origin" (browsers send `Origin: null`
 * for a form posted from a page with our `Referrer-Policy: no-referrer`;
 * "cross-site" or "same-site" is refused), else the Origin header (or,
 * without one, the Referer's scheme://host[:port]) is this request's own
 * origin or web.url's.  With none of them, or "Origin: null", strict decides:
 * true for forms that only a browser posts (/subscribe, /staff/), false
 * where mail providers post without one (RFC 8058 one-click). */
bool web_same_origin(const struct web *w, bool strict);

#endif
