/* Fuzz the web side's decoders: the form decoder, the router, the
 * confirmation token's decoder, the token shape check and the address mask
 * of /u/, the staff forms' CSRF check.  The first line of the input is a
 * path to route (and what "*" matched, a token to check), the rest a form
 * body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/token.h"
#include "core/utf8.h"
#include "web/archive.h"
#include "web/csrf.h"
#include "web/form.h"
#include "web/router.h"
#include "web/routes.h"

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
		/* a token from the path: forged unless its MAC is right; then every
		 * field is there and it is made again the same */
		static struct secret key; /* all zero: a fixed secret */
		char *tok = strndup(arg.p, arg.n);
		struct confirm_req r;
		enum confirm_check c = confirm_token_parse(&key, tok, 1000000000, &r);
		if (c == CONFIRM_FORGED) {
			REQUIRE(!r.address && !r.list && !r.consent);
		} else {
			REQUIRE(r.source && r.list && r.address && r.name && r.ip && r.consent);
			confirm_req_free(&r);
		}
		free(tok);
	}
	/* unsub.c: a /u/ segment's token shape; what a page shows of an address */
	char tok[TOKEN_LEN + 1], again[TOKEN_LEN + 1];
	if (token_parse(path, strlen(path), tok)) {
		for (size_t i = 0; i < TOKEN_LEN; i++)
			REQUIRE((tok[i] >= 'a' && tok[i] <= 'z') ||
				(tok[i] >= '2' && tok[i] <= '7'));
		REQUIRE(tok[TOKEN_LEN] == '\0' && token_parse(tok, TOKEN_LEN, again));
		REQUIRE(memcmp(tok, again, sizeof tok) == 0);
	}
	struct buf masked = BUF_INIT;
	web_mask_address(&masked, path);
	const char *at = strrchr(path, '@');
	/* never more of the local part than its first character */
	REQUIRE(at && at != path ? strcmp(buf_cstr(&masked) + masked.n - strlen(at), at) == 0 &&
				       masked.n <= 3 + 4 + strlen(at)
				 : strcmp(buf_cstr(&masked), "***") == 0);
	buf_free(&masked);
	/* any text as a token: never accepted unless it is the one made */
	static struct secret sec = {{1, 2, 3}};
	char ctok[CSRF_MAX_LEN];
	csrf_make(&sec, "ann", "/staff/inquiries/1/set", 1796300000, ctok);
	bool ok = csrf_check(&sec, "ann", "/staff/inquiries/1/set", path, 1796300000);
	REQUIRE(ok == (strcmp(path, ctok) == 0));
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

	/* The body as text for the Atom feed (archive.h): well-formed XML
	 * character data whatever the bytes, every '&' an entity of ours. */
	struct buf x = BUF_INIT;
	xml_escape(&x, body, blen);
	for (size_t i = 0; i < x.n;) {
		unsigned char c = (unsigned char)x.p[i];
		REQUIRE(c != '<' && c != '>' && c != '"' && c != '\'');
		REQUIRE(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
		if (c == '&')
			REQUIRE(strncmp(x.p + i, "&amp;", 5) == 0 ||
				strncmp(x.p + i, "&lt;", 4) == 0 ||
				strncmp(x.p + i, "&gt;", 4) == 0 ||
				strncmp(x.p + i, "&quot;", 6) == 0 ||
				strncmp(x.p + i, "&apos;", 6) == 0);
		size_t len = utf8_len((const unsigned char *)x.p + i, x.n - i);
		REQUIRE(len > 0);
		i += len;
	}
	buf_free(&x);
	return 0;
}
