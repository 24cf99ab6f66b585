/* Fuzz the web side's decoders: the form decoder, the router and the staff
 * forms' CSRF check.  The first line of the input is a path to route (and a
 * CSRF token to check), the rest a form body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "web/csrf.h"
#include "web/form.h"
#include "web/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_web: %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t plen = nl ? (size_t)(nl - s) : size;
	char *path = strndup(s, plen);
	struct span arg, arg2;
	int r = web_route_find2(path, &arg, &arg2);
	REQUIRE(r == web_route_find(path, &arg2));
	if (r >= 0) {
		/* what "*" matched lies inside the path, and is a clean segment */
		REQUIRE(arg.n == 0 || (arg.p >= path && arg.p + arg.n <= path + strlen(path)));
		for (size_t i = 0; i < arg.n; i++)
			REQUIRE(arg.p[i] != '/' && arg.p[i] != '%');
		REQUIRE(!(arg.n == 2 && memcmp(arg.p, "..", 2) == 0));
	}
	/* any text as a token: never accepted unless it is the one made */
	static struct secret sec = {{1, 2, 3}};
	char tok[CSRF_MAX_LEN];
	csrf_make(&sec, "ann", "/staff/inquiries/1/set", 1796300000, tok);
	bool ok = csrf_check(&sec, "ann", "/staff/inquiries/1/set", path, 1796300000);
	REQUIRE(ok == (strcmp(path, tok) == 0));
	free(path);

	const char *body = nl ? nl + 1 : s + size;
	size_t blen = (size_t)(s + size - body);
	struct form f = {0};
	const char *why = NULL;
	if (form_parse(&f, body, blen, &why)) {
		REQUIRE(f.n <= FORM_MAX_FIELDS);
		for (size_t i = 0; i < f.n; i++) {
			REQUIRE(f.v[i].name && f.v[i].value);
			REQUIRE(form_get(&f, f.v[i].name) != NULL);
		}
	} else {
		REQUIRE(why && f.n == 0 && !f.v);
	}
	form_free(&f);
	return 0;
}
