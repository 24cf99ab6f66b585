#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "web/form.h"
#include "web/csrf.h"
#include "web/router.h"
#include "web/web.h"

static void test_form(void)
{
	struct form f = {0};
	const char *why = NULL;
	const char in[] = "email=z%40example.org&name=Zo%C3%AB+Q&&empty=&bare&email=second";
	CHECK(form_parse(&f, in, strlen(in), &why));
	CHECK_INT(f.n, 5);
	CHECK_STR(form_get(&f, "email"), "z@example.org"); /* the first one wins */
	CHECK_STR(form_get(&f, "name"), "Zoë Q");
	CHECK_STR(form_get(&f, "empty"), "");
	CHECK_STR(form_get(&f, "bare"), "");
	CHECK(form_get(&f, "missing") == NULL);

	/* A bad pair spoils the whole form: nothing half-read. */
	static const char *const bad[] = {"a=%zz", "a=%4",	  "a=%",   "a=%00",
					  "a=%C3", "a=%ED%A0%80", "%FF=x", "ok=1&b=%C0%AF"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why = NULL;
		CHECK(!form_parse(&f, bad[i], strlen(bad[i]), &why));
		CHECK(f.n == 0 && f.v == NULL && why != NULL);
	}
	/* More than FORM_MAX_FIELDS pairs is refused. */
	char many[FORM_MAX_FIELDS * 4 + 8] = "";
	for (int i = 0; i <= FORM_MAX_FIELDS; i++)
		strncat(many, "a=1&", sizeof many - strlen(many) - 1);
	CHECK(!form_parse(&f, many, strlen(many), &why));
	form_free(&f);

	char *d = form_decode("a+b%2Fc", 7, false);
	CHECK_STR(d, "a+b/c");
	free(d);
}

static void test_routes(void)
{
	struct span arg;
	CHECK(web_route_find("/", &arg) >= 0);
	CHECK(web_route_find("/static/letterbox.css", &arg) >= 0);
	CHECK(web_route_find("/static/letterbox.cssx", &arg) < 0);
	CHECK(web_route_find("/static/", &arg) < 0);
	CHECK(web_route_find("", &arg) < 0);
	CHECK(web_route_find("/nope", &arg) < 0);

	/* Two "*" segments: the first is arg, the second arg2. */
	struct span a2;
	int r = web_route_find2("/staff/inquiries/12/attachments/2.3", &arg, &a2);
	CHECK(r >= 0);
	CHECK(span_eq(arg, "12") && span_eq(a2, "2.3"));
	CHECK(web_route_find2("/staff/inquiries/12/set", &arg, &a2) >= 0);
	CHECK(span_eq(arg, "12") && a2.n == 0);
	CHECK(web_route_find2("/staff/inquiries/12", &arg, &a2) >= 0);
	CHECK(span_eq(arg, "12"));
	CHECK(web_route_find("/staff/inquiries/12/attachments/..", &arg) < 0);
	CHECK(web_route_find("/staff/inquiries//set", &arg) < 0);
	CHECK(web_route_find("/staff/inquiries/1/2/set", &arg) < 0);
	CHECK(web_route_find("/staff/", &arg) >= 0);
}

static void test_csrf(void)
{
	struct secret s, other;
	memset(s.key, 7, sizeof s.key);
	memset(other.key, 8, sizeof other.key);
	const char *act = "/staff/inquiries/3/set";
	time_t now = 1796300000; /* inside a window */
	char tok[CSRF_MAX_LEN];
	csrf_make(&s, "ann", act, now, tok);
	CHECK(csrf_check(&s, "ann", act, tok, now));
	CHECK(csrf_check(&s, "ann", act, tok, now + CSRF_WINDOW));	/* the next window */
	CHECK(!csrf_check(&s, "ann", act, tok, now + 2 * CSRF_WINDOW)); /* expired */
	CHECK(!csrf_check(&s, "ann", act, tok, now - CSRF_WINDOW));	/* from the future */
	CHECK(!csrf_check(&s, "bob", act, tok, now));
	CHECK(!csrf_check(&s, "ann", "/staff/inquiries/3/note", tok, now));
	CHECK(!csrf_check(&other, "ann", act, tok, now));
	/* "ann" + "x/..." must not collide with "annx" + "/...": NUL-separated */
	char t2[CSRF_MAX_LEN];
	csrf_make(&s, "annx", "/a", now, t2);
	CHECK(!csrf_check(&s, "ann", "x/a", t2, now));
	/* Garbage, a changed digit, another spelling of the window */
	static const char *const bad[] = {"", ".", "1.", "x.00", "01.0", NULL};
	for (size_t i = 0; bad[i]; i++)
		CHECK(!csrf_check(&s, "ann", act, bad[i], now));
	CHECK(!csrf_check(&s, "ann", act, NULL, now));
	char t3[CSRF_MAX_LEN + 2];
	memcpy(t3, tok, strlen(tok) + 1);
	t3[strlen(t3) - 1] ^= 1;
	CHECK(!csrf_check(&s, "ann", act, t3, now));
	t3[0] = '0';
	CHECK(!csrf_check(&s, "ann", act, t3, now));
	memcpy(t3, tok, strlen(tok) + 1);
	memmove(t3 + 1, t3, strlen(t3) + 1);
	t3[0] = '0';
	CHECK(!csrf_check(&s, "ann", act, t3, now));
}

/* A header value from data never becomes two header lines. */
static void test_header(void)
{
	struct web_resp resp;
	web_resp_init(&resp);
	struct web w = {.resp = &resp};
	web_header(&w, "Location", "/news/a\r\nSet-Cookie: x=1\n\tb");
	web_header(&w, "Retry-After", "60");
	CHECK_STR(resp.headers.p, "Location: /news/aSet-Cookie: x=1b\r\nRetry-After: 60\r\n");
	web_resp_free(&resp);
}

int main(void)
{
	RUN(test_form);
	RUN(test_routes);
	RUN(test_csrf);
	RUN(test_header);
	return harness_done("web");
}
