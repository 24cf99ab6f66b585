/* Which handler answers a request: the route table and the rules every
 * route shares (405 with Allow, 413, the form decoded before the handler). */
#include "web/router.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "web/routes.h"

/* A pattern is a path; a "*" segment matches one non-empty segment of
 * [A-Za-z0-9._~-] (what our tokens and slugs are made of), which the
 * handler gets as w->arg (a second "*": w->arg2, as in
 * /staff/inquiries/N/attachments/K). */
struct route {
	const char *pattern;
	web_handler get, post;
};

static const struct route routes[] = {
    {"/", web_get_home, NULL},
    {"/static/letterbox.css", web_get_css, NULL},
    /* unsub.c (issue 12) */
    {"/u/*", web_get_unsub, web_post_unsub},
    /* subscribe.c */
    {"/subscribe", web_get_subscribe, web_post_subscribe},
    {"/confirm/*", web_get_confirm, web_post_confirm},
    /* archive.c, feed.c (feed.xml before the slug: "*" would match it) */
    {"/archive/", web_get_archive, NULL},
    {"/archive", web_get_archive, NULL},
    {"/archive/feed.xml", web_get_archive_feed, NULL},
    {"/archive/*", web_get_archive_article, NULL},
    /* staff (issue 13) */
    {"/staff/", web_get_staff, NULL},
    {"/staff/inquiries/*", web_get_staff_inquiry, NULL},
    {"/staff/inquiries/*/attachments/*", web_get_staff_attachment, NULL},
    {"/staff/inquiries/*/set", NULL, web_post_staff_set},
    {"/staff/inquiries/*/note", NULL, web_post_staff_note},
    {"/staff/inquiries/*/reply", NULL, web_post_staff_reply},
    {"/staff/campaigns", web_get_staff_campaigns, NULL},
    {"/staff/subscribers", web_get_staff_subscribers, web_post_staff_subscribers},
};

static bool seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

/* Whether path matches pattern; arg[0], arg[1] get what each "*" matched. */
static bool match(const char *pattern, const char *path, struct span arg[2])
{
	const char *p = pattern, *s = path;
	int nargs = 0;
	while (*p) {
		if (*p == '*') {
			const char *start = s;
			while (*s && seg_char(*s))
				s++;
			if (s == start || (s - start == 1 && *start == '.') ||
			    (s - start == 2 && start[0] == '.' && start[1] == '.'))
				return false;
			if (nargs < 2)
				arg[nargs++] = (struct span){start, (size_t)(s - start)};
			p++;
			continue;
		}
		if (*p++ != *s++)
			return false;
	}
	return *s == '\0';
}

int web_route_find2(const char *path, struct span *arg, struct span *arg2)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct span a[2] = {{"", 0}, {"", 0}};
		if (match(routes[i].pattern, path, a)) {
			*arg = a[0];
			*arg2 = a[1];
			return (int)i;
		}
	}
	*arg = *arg2 = (struct span){"", 0};
	return -1;
}

int web_route_find(const char *path, struct span *arg)
{
	struct span arg2;
	return web_route_find2(path, arg, &arg2);
}

static void allow(struct web *w, const struct route *r)
{
	char value[32] = "";
	if (r->get)
		strncat(value, "GET, HEAD", sizeof value - strlen(value) - 1);
	if (r->post)
		strncat(value, r->get ? ", POST" : "POST", sizeof value - strlen(value) - 1);
	web_header(w, "Allow", value);
}

void web_dispatch(const struct config *cfg, const struct web_req *req, struct web_resp *resp)
{
	struct web w = {.cfg = cfg, .req = req, .resp = resp};
	if (strncmp(req->path, "/staff", 6) == 0) {
		/* Health data: no copy kept by any cache, whatever the answer.
		 * same-origin: a form's POST then carries our Origin (under
		 * no-referrer browsers send "Origin: null", which is refused). */
		web_header(&w, "Cache-Control", "no-store");
		web_header(&w, "Referrer-Policy", "same-origin");
	}
	int i = web_route_find2(req->path, &w.arg, &w.arg2);
	if (i < 0) {
		web_error(&w, 404, "Not found", "There is no page at this address.");
		return;
	}
	if (req->too_large) {
		web_error(&w, 413, "Too large", "The form sent was too large.");
		return;
	}
	const struct route *r = &routes[i];
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool post = strcmp(req->method, "POST") == 0;
	web_handler h = get ? r->get : post ? r->post : NULL;
	if (!h) {
		allow(&w, r);
		web_error(&w, 405, "Method not allowed", "This page cannot be used that way.");
		return;
	}
	const char *why = NULL;
	bool ok;
	if (post) {
		/* A form's type may carry parameters ("; charset=UTF-8"); an empty
		 * body (RFC 8058's senders always send one) needs no type. */
		const char *ct = req->content_type;
		size_t ctn = strcspn(ct, "; \t");
		bool urlenc =
		    ctn == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
		/* RFC 8058 says a one-click POST SHOULD be multipart/form-data:
		 * taken, with no fields read (a handler that needs fields finds
		 * none; /u/ needs none) */
		bool multipart = ctn == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0;
		if (req->body.n && !urlenc && !multipart) {
			web_error(&w, 415, "Unsupported form",
				  "Send the form as application/x-www-form-urlencoded.");
			return;
		}
		ok = multipart ||
		     form_parse(&w.form, req->body.p ? req->body.p : "", req->body.n, &why);
	} else {
		ok = form_parse(&w.form, req->query, strlen(req->query), &why);
	}
	if (!ok) {
		web_error(&w, 400, "Bad request", why);
		return;
	}
	h(&w);
	form_free(&w.form);
}
