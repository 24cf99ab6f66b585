/* The CGI/1.1 side of a request (RFC 3875): what the server put in the
 * environment and on stdin, and the response we print. */
#include "web/web.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v ? v : dflt;
}

extern char **environ;

/* name's value when the environment holds it exactly once.  A gateway that
 * passes a variable twice (nginx's fastcgi_params sets REMOTE_USER from any
 * Basic header; a later fastcgi_param only adds a second entry, which
 * fcgiwrap hands over as it is) leaves getenv() the first, unchecked one: a
 * login nobody checked.  Twice is taken as not at all, and said. */
static const char *env_once(const char *name)
{
	size_t n = strlen(name), seen = 0;
	const char *value = NULL;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
			value = *e + n + 1;
			seen++;
		}
	if (seen > 1) {
		log_warn("cgi: %s is set %zu times by the web server; taken as unset "
			 "(see contrib/nginx-letterbox.conf)",
			 name, seen);
		return NULL;
	}
	return value;
}

int web_request_read(struct web_req *req, FILE *in, time_t now, struct lb_err *err)
{
	memset(req, 0, sizeof *req);
	buf_init(&req->body, WEB_MAX_BODY);
	req->now = now;
	req->method = getenv("REQUEST_METHOD");
	if (!req->method || !*req->method)
		return err_set(err, LB_EUSAGE,
			       "no REQUEST_METHOD: `letterbox cgi` is run by a web server "
			       "(see README, \"The web side\")");
	const char *path = getenv("PATH_INFO");
	req->path = path && *path ? path : "/";
	req->query = env_or("QUERY_STRING", "");
	req->content_type = env_or("CONTENT_TYPE", "");
	req->remote_addr = env_or("REMOTE_ADDR", "");
	const char *user = env_once("REMOTE_USER");
	req->remote_user = user && *user ? user : NULL;
	req->origin = getenv("HTTP_ORIGIN");
	req->referer = getenv("HTTP_REFERER");
	req->fetch_site = getenv("HTTP_SEC_FETCH_SITE");
	req->host = env_or("HTTP_HOST", env_or("SERVER_NAME", ""));
	req->script_name = env_or("SCRIPT_NAME", "");
	const char *https = getenv("HTTPS"), *scheme = getenv("REQUEST_SCHEME");
	req->https = (https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
		     (scheme && strcasecmp(scheme, "https") == 0);

	const char *cl = getenv("CONTENT_LENGTH");
	if (!cl || !*cl)
		return 0;
	char *end;
	errno = 0;
	unsigned long long len = strtoull(cl, &end, 10);
	if (*end || errno || cl[0] == '-' || cl[0] == '+')
		return err_set(err, LB_EDATA, "CONTENT_LENGTH '%.40s' is not a number", cl);
	if (len > WEB_MAX_BODY) {
		req->too_large = true;
		/* Read it (up to a bound) without keeping it: Apache's cgid and
		 * fcgiwrap drop the connection, our 413 with it, when the CGI
		 * exits before taking the body they are writing. */
		char sink[8192];
		for (unsigned long long left = len < WEB_DRAIN_MAX ? len : WEB_DRAIN_MAX; left;) {
			size_t r =
			    fread(sink, 1, left < sizeof sink ? (size_t)left : sizeof sink, in);
			if (r == 0)
				break;
			left -= r;
		}
		return 0;
	}
	if (!buf_grow(&req->body, (size_t)len))
		return err_set(err, LB_EDATA, "request body too large");
	size_t got = len ? fread(req->body.p, 1, (size_t)len, in) : 0;
	req->body.n = got;
	req->body.p[got] = '\0';
	if (got != len)
		return err_set(err, LB_EDATA, "request body cut short (%zu of %llu bytes)", got,
			       len);
	return 0;
}

void web_request_free(struct web_req *req)
{
	buf_free(&req->body);
}

void web_resp_init(struct web_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	buf_init(&resp->headers, 0);
	buf_init(&resp->body, 0);
}

void web_resp_free(struct web_resp *resp)
{
	buf_free(&resp->headers);
	buf_free(&resp->body);
}

const char *web_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* Whether a handler set header name itself ("Name:" at a line's start). */
static bool has_header(const struct buf *h, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = h->p; p && *p;) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

bool web_respond(const struct web_req *req, const struct web_resp *resp, FILE *out)
{
	fprintf(out,
		"Status: %d %s\r\n"
		"Content-Type: %s\r\n"
		"Content-Security-Policy: default-src 'none'; style-src 'self'; "
		"form-action 'self'; frame-ancestors 'none'\r\n"
		"X-Content-Type-Options: nosniff\r\n",
		resp->status, web_status_text(resp->status),
		resp->content_type ? resp->content_type : "text/html; charset=utf-8");
	/* no-referrer unless a handler says otherwise: under it browsers send
	 * "Origin: null" with a form's POST, which web_same_origin refuses, so
	 * pages whose forms must pass it (the staff's) choose same-origin */
	if (!has_header(&resp->headers, "Referrer-Policy"))
		fputs("Referrer-Policy: no-referrer\r\n", out);
	fwrite(resp->headers.p, 1, resp->headers.n, out);
	fprintf(out, "Content-Length: %zu\r\n\r\n", resp->body.n);
	if (strcmp(req->method, "HEAD") != 0)
		fwrite(resp->body.p, 1, resp->body.n, out);
	return fflush(out) == 0 && !ferror(out);
}
