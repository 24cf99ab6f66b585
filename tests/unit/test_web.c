#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "web/form.h"
#include "web/router.h"

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
}

int main(void)
{
	RUN(test_form);
	RUN(test_routes);
	return harness_done("web");
}
