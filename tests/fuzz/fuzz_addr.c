/* Fuzz the address parser: whatever it accepts must be printable, consistent
 * and stable when written back out and read again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_addr: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_failure(int rc, const struct addr *a, const struct lb_err *err)
{
	REQUIRE(rc == LB_EDATA && err->code == LB_EDATA);
	REQUIRE(!a->display && !a->local && !a->domain && !a->spec);
	REQUIRE(err->msg[0] == '\'');
	for (const char *p = err->msg; *p; p++)
		REQUIRE((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* Parse s, which must succeed, and return it for the caller to compare. */
static void reparse(int (*parse)(struct span, struct addr *, struct lb_err *), const char *s,
		    struct addr *out)
{
	struct lb_err err = {0};
	int rc = parse(span_cstr(s), out, &err);
	if (rc)
		fprintf(stderr, "fuzz_addr: re-parse of <%s> failed: %s\n", s, err.msg);
	REQUIRE(rc == 0);
}

static void check_success(const struct addr *a)
{
	size_t nl = strlen(a->local), nd = strlen(a->domain), ns = strlen(a->spec);

	REQUIRE(nl >= 1 && nl <= 64 && nd >= 3 && nd <= 253);
	REQUIRE(ns == nl + 1 + nd);
	REQUIRE(memcmp(a->spec, a->local, nl) == 0 && a->spec[nl] == '@');
	REQUIRE(strcmp(a->spec + nl + 1, a->domain) == 0);
	for (const char *p = a->spec; *p; p++)
		REQUIRE(*p >= 0x20 && *p <= 0x7e);
	for (const char *p = a->domain; *p; p++)
		REQUIRE((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			*p == '.');
	if (a->display) {
		REQUIRE(a->display[0] != '\0');
		for (const char *p = a->display; *p; p++)
			REQUIRE((unsigned char)*p >= 0x20 && *p != 0x7f);
	}

	char *key = addr_key(a->spec);
	REQUIRE(strlen(key) == ns);
	for (size_t i = 0; i < ns; i++)
		REQUIRE(key[i] ==
			(a->spec[i] >= 'A' && a->spec[i] <= 'Z' ? a->spec[i] + 32 : a->spec[i]));
	free(key);

	struct addr b;
	reparse(addr_parse_spec, a->spec, &b);
	REQUIRE(strcmp(b.spec, a->spec) == 0 && b.display == NULL);
	addr_free(&b);

	/* Written out as a header would carry it, it reads back the same. */
	struct buf out = BUF_INIT;
	if (a->display) {
		buf_addc(&out, '"');
		for (const char *p = a->display; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&out, '\\');
			buf_addc(&out, *p);
		}
		buf_adds(&out, "\" ");
	}
	buf_printf(&out, "<%s>", a->spec);
	reparse(addr_parse, buf_cstr(&out), &b);
	REQUIRE(strcmp(b.spec, a->spec) == 0);
	REQUIRE(a->display ? b.display && strcmp(b.display, a->display) == 0 : !b.display);
	addr_free(&b);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span in = {(const char *)data, size};
	int (*const parsers[])(struct span, struct addr *, struct lb_err *) = {addr_parse,
									       addr_parse_spec};

	for (size_t i = 0; i < 2; i++) {
		struct addr a;
		struct lb_err err = {0};
		int rc = parsers[i](in, &a, &err);
		if (rc)
			check_failure(rc, &a, &err);
		else
			check_success(&a);
		addr_free(&a);
	}
	return 0;
}
