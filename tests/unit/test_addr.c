#include "core/addr.h"

#include <stdlib.h>

#include "harness.h"

struct valid_case {
	const char *in;
	const char *spec;
	const char *display; /* NULL: no display name expected */
};

static const struct valid_case valid[] = {
    {"ada@example.org", "ada@example.org", NULL},
    {"  ada@example.org\t ", "ada@example.org", NULL},
    {"Ada@Example.ORG", "Ada@example.org", NULL},
    {"Ada Lovelace <ada@example.org>", "ada@example.org", "Ada Lovelace"},
    {"\"Lovelace, Ada\" <ada@example.org>", "ada@example.org", "Lovelace, Ada"},
    {"Zoë Ångström <zoe@example.org>", "zoe@example.org", "Zoë Ångström"},
    {"Zoë <zoe@bücher.example>", "zoe@xn--bcher-kva.example", "Zoë"},
    {"zoe@bücher.example", "zoe@xn--bcher-kva.example", NULL},
    {"ada@Bücher.Example", "ada@xn--bcher-kva.example", NULL},
    {"info@例え.テスト", "info@xn--r8jz45g.xn--zckzah", NULL},
    /* Non-transitional: ß stays ß, it does not become "ss". */
    {"hans@faß.de", "hans@xn--fa-hia.de", NULL},
    /* Refused by IDNA2008, accepted by the transitional fallback. */
    {"snow@☃.net", "snow@xn--n3h.net", NULL},
    /* Full-width letters and dot, as a Japanese keyboard types them. */
    {"ada@ｅｘａｍｐｌｅ．ｏｒｇ", "ada@example.org", NULL},
    {"ada@xn--bcher-kva.example", "ada@xn--bcher-kva.example", NULL},
    {"\"john doe\"@example.org", "\"john doe\"@example.org", NULL},
    {"\"a\\\"b\"@example.org", "\"a\\\"b\"@example.org", NULL},
    {"\"john..doe\"@example.org", "\"john..doe\"@example.org", NULL},
    {"\"back\\\\slash\"@example.org", "\"back\\\\slash\"@example.org", NULL},
    {"\"ada\"@example.org", "ada@example.org", NULL},
    {"\"a\\da\"@example.org", "ada@example.org", NULL},
    {"\"a<b>c\"@example.org", "\"a<b>c\"@example.org", NULL},
    {"Ada <\"john doe\"@example.org>", "\"john doe\"@example.org", "Ada"},
    {"<\"a>b\"@example.org>", "\"a>b\"@example.org", NULL},
    {"Pat O'Brien <pat@example.org>", "pat@example.org", "Pat O'Brien"},
    {"o'brien@example.org", "o'brien@example.org", NULL},
    {"\"O'Brien, Pat \\\"Paddy\\\"\" <pat@example.org>", "pat@example.org",
     "O'Brien, Pat \"Paddy\""},
    {"\"back\\\\slash\" <b@example.org>", "b@example.org", "back\\slash"},
    {"\"Ada <Work>\" <ada@example.org>", "ada@example.org", "Ada <Work>"},
    {"\"Ada\" Lovelace <ada@example.org>", "ada@example.org", "Ada Lovelace"},
    {"Dr. Ada M. Lovelace <ada@example.org>", "ada@example.org", "Dr. Ada M. Lovelace"},
    {"<ada@example.org>", "ada@example.org", NULL},
    {"\"\" <ada@example.org>", "ada@example.org", NULL},
    {"\"  \" <ada@example.org>", "ada@example.org", NULL},
    {"Ada<ada@example.org>", "ada@example.org", "Ada"},
    {"  Ada   Lovelace  <  ada@example.org  >  ", "ada@example.org", "Ada Lovelace"},
    {"\tAda\tLovelace\t<ada@example.org>", "ada@example.org", "Ada Lovelace"},
    {"hello+{token}@example.org", "hello+{token}@example.org", NULL},
    {"a.b!#$%&'*+-/=?^_`{|}~@example.org", "a.b!#$%&'*+-/=?^_`{|}~@example.org", NULL},
    {"ada@mail.sub-domain.example.co.uk", "ada@mail.sub-domain.example.co.uk", NULL},
    {"ada@123.example", "ada@123.example", NULL},
};

struct invalid_case {
	const char *in;
	size_t n;	  /* 0: strlen(in); else the length, for inputs holding a NUL */
	const char *want; /* a substring of the message */
};

static const char smtputf8[] = "non-ASCII local part needs SMTPUTF8, which letterbox does not use";

static const struct invalid_case invalid[] = {
    {"", 0, "'': empty address"},
    {"  \t ", 0, "empty address"},
    {"ada", 0, "'ada': missing '@'"},
    {"ada@@example.org", 0, "'ada@@example.org': unexpected '@' in domain"},
    {"Ada <ada@example.org", 0, "'Ada <ada@example.org': missing '>'"},
    {"ada@exa mple.org", 0, "'ada@exa mple.org': space in domain"},
    {"a..b@example.org", 0, "'a..b@example.org': consecutive dots in local part"},
    {".ada@example.org", 0, "local part starts with '.'"},
    {"ada.@example.org", 0, "local part ends with '.'"},
    {"@example.org", 0, "empty local part"},
    {"\"\"@example.org", 0, "empty local part"},
    {"ada@", 0, "empty domain"},
    {"ada@localhost", 0, "'ada@localhost': domain has no dot"},
    {"ada@☃", 0, "domain has no dot"},
    {"ada@[192.0.2.1]", 0, "domain literal not accepted"},
    {"ada@192.0.2.1", 0, "top-level domain '1' is all digits"},
    {"zoë@example.org", 0, smtputf8},
    {"Zoë <zoë@example.org>", 0, smtputf8},
    {"\"zoë\"@example.org", 0, smtputf8},
    {"Ada\r\nBcc: eve@evil.example <ada@example.org>", 0, "control character CR at byte 4"},
    {"\"Ada\nBcc: eve@evil.example\" <ada@example.org>", 0, "control character LF"},
    {"ada@example.org\n", 0, "control character LF at byte 16"},
    {"ada\0@example.org", 16, "control character NUL at byte 4"},
    {"ada@example.org\x7f", 0, "control character 0x7F"},
    {"Ada \x1b[31m <ada@example.org>", 0, "control character 0x1B"},
    {"Ada \xc2\x85 <ada@example.org>", 0, "control character U+0085 in display name"},
    {"Ada \xff <ada@example.org>", 0, "display name is not valid UTF-8"},
    {"Lovelace, Ada <ada@example.org>", 0, "',' in display name: put the name in double quotes"},
    {"Ada (work) <ada@example.org>", 0, "'(' in display name"},
    {"ada@example.org <ada@example.org>", 0, "'@' in display name"},
    {"\"Ada <ada@example.org>", 0, "unterminated quoted string in display name"},
    {"<ada@example.org> Ada", 0, "unexpected text after '>'"},
    {"Ada <ada@example.org> <bob@example.org>", 0, "unexpected text after '>'"},
    {"Ada <>", 0, "'Ada <>': empty address"},
    {"<<ada@example.org>>", 0, "unexpected '<' in local part"},
    {"ada@example.org>", 0, "unexpected '>' in domain"},
    {"\"john doe@example.org", 0, "unterminated quoted local part"},
    {"\"john\"doe@example.org", 0, "unexpected 'd' after quoted local part"},
    {"\"john\"", 0, "missing '@'"},
    {"Ada Lovelace ada@example.org", 0, "space in local part"},
    {"a\tb@example.org", 0, "tab in local part"},
    {"\"a\tb\"@example.org", 0, "tab in quoted local part"},
    {"a\"b@example.org", 0, "unexpected '\"' in local part"},
    {"a,b@example.org", 0, "unexpected ',' in local part"},
    {"ada@-example.org", 0, "domain label '-example' starts with '-'"},
    {"ada@example-.org", 0, "domain label 'example-' ends with '-'"},
    {"ada@.example.org", 0, "domain starts with '.'"},
    {"ada@example.org.", 0, "domain ends with '.'"},
    {"ada@example..org", 0, "consecutive dots in domain"},
    {"ada@exam_ple.org", 0, "unexpected '_' in domain"},
    {"ada@xn--ü.org", 0, "invalid international domain name"},
    {"ada@b\xc3.org", 0, "invalid international domain name"},
    {"ada@-ü.org", 0, "invalid international domain name"},
    /* The full-width low line maps to '_', which only the check after
     * conversion can see. */
    {"ada@a＿ü.org", 0, "unexpected '_' in domain"},
};

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		const struct valid_case *c = &valid[i];
		struct addr a;
		struct lb_err err = {0};
		int rc = addr_parse(span_cstr(c->in), &a, &err);
		if (!CHECK(rc == 0)) {
			fprintf(stderr, "    input %s: %s\n", c->in, err.msg);
			continue;
		}
		CHECK_STR(a.spec, c->spec);
		if (c->display)
			CHECK_STR(a.display, c->display);
		else if (!CHECK(a.display == NULL))
			fprintf(stderr, "    input %s: display \"%s\"\n", c->in, a.display);

		/* The spec must be local@domain and parse to itself. */
		char want[600];
		snprintf(want, sizeof want, "%s@%s", a.local, a.domain);
		CHECK_STR(a.spec, want);
		struct addr again;
		if (CHECK(addr_parse_spec(span_cstr(a.spec), &again, &err) == 0)) {
			CHECK_STR(again.spec, a.spec);
			addr_free(&again);
		}
		addr_free(&a);
		CHECK(a.spec == NULL && a.display == NULL);
	}
}

static void test_invalid(void)
{
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		const struct invalid_case *c = &invalid[i];
		struct span in = {c->in, c->n ? c->n : strlen(c->in)};
		char junk[] = "not cleared";
		struct addr a = {.display = junk, .spec = junk};
		struct lb_err err = {0};
		int rc = addr_parse(in, &a, &err);
		CHECK_INT(rc, LB_EDATA);
		CHECK_INT(err.code, LB_EDATA);
		if (!CHECK(strstr(err.msg, c->want) != NULL))
			fprintf(stderr, "    input %s\n    got  %s\n    want %s\n", c->in, err.msg,
				c->want);
		CHECK(err.msg[0] == '\'');
		/* A message may be written to a log or a terminal: never a line break. */
		CHECK(strpbrk(err.msg, "\r\n\x1b") == NULL);
		CHECK(!a.display && !a.local && !a.domain && !a.spec);
	}
}

static char *repeat(char c, size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s = malloc(n + t + 1);
	memset(s, c, n);
	memcpy(s + n, tail, t + 1);
	return s;
}

/* RFC 5321 limits: local part 64, label 63, domain 253; one over each fails. */
static void test_limits(void)
{
	static const struct {
		const char *head;
		size_t n;
		const char *tail;
		const char *want; /* NULL: valid */
	} cases[] = {
	    {"", 64, "@example.org", NULL},
	    {"", 65, "@example.org", "local part is 65 bytes, longer than 64"},
	    /* quoted: counted as it goes on the wire, quotes included */
	    {"\" ", 61, "\"@example.org", NULL},
	    {"\" ", 62, "\"@example.org", "local part is 65 bytes, longer than 64"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *body = repeat('a', cases[i].n, cases[i].tail);
		char s[128];
		snprintf(s, sizeof s, "%s%s", cases[i].head, body);
		free(body);
		struct addr a;
		struct lb_err err = {0};
		int rc = addr_parse(span_cstr(s), &a, &err);
		if (cases[i].want) {
			CHECK_INT(rc, LB_EDATA);
			CHECK(strstr(err.msg, cases[i].want) != NULL);
		} else {
			CHECK_INT(rc, 0);
			addr_free(&a);
		}
	}

	/* Labels: "a@" + label + ".org". */
	for (size_t n = 62; n <= 64; n++) {
		char *label = repeat('b', n, ".org");
		char s[128];
		snprintf(s, sizeof s, "a@%s", label);
		free(label);
		struct addr a;
		struct lb_err err = {0};
		int rc = addr_parse(span_cstr(s), &a, &err);
		if (n <= 63) {
			CHECK_INT(rc, 0);
			addr_free(&a);
		} else {
			CHECK_INT(rc, LB_EDATA);
			CHECK(strstr(err.msg, "is 64 bytes, longer than 63") != NULL);
		}
	}

	/* Domains of 253 and 254 bytes: four labels of 60, and a tail. */
	for (size_t total = 253; total <= 254; total++) {
		char s[300] = "a@";
		size_t n = 2;
		for (int l = 0; l < 4; l++) {
			memset(s + n, 'c', 60);
			n += 60;
			s[n++] = '.';
		}
		size_t tail = total - 4 * 61;
		memset(s + n, 'd', tail);
		n += tail;
		s[n] = '\0';
		struct addr a;
		struct lb_err err = {0};
		int rc = addr_parse(span_cstr(s), &a, &err);
		if (total == 253) {
			CHECK_INT(rc, 0);
			CHECK_INT(strlen(a.domain), 253);
			addr_free(&a);
		} else {
			CHECK_INT(rc, LB_EDATA);
			CHECK(strstr(err.msg, "domain is 254 bytes, longer than 253") != NULL);
		}
	}
}

/* A newline in a name must never reach a header, however it is dressed. */
static void test_header_injection(void)
{
	static const char *const cases[] = {
	    "Ada\r\nBcc: eve@evil.example <ada@example.org>",
	    "Ada\nBcc: eve@evil.example <ada@example.org>",
	    "Ada\r<ada@example.org>",
	    "\"Ada\\\r\nBcc: eve@evil.example\" <ada@example.org>",
	    "Ada <ada@example.org>\r\nBcc: eve@evil.example",
	    "ada@example.org\r\nBcc: eve@evil.example",
	    "\"ada\r\n\"@example.org",
	    "ada@exam\rple.org",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr a;
		struct lb_err err = {0};
		CHECK_INT(addr_parse(span_cstr(cases[i]), &a, &err), LB_EDATA);
		CHECK(strstr(err.msg, "control character") != NULL);
		CHECK(strpbrk(err.msg, "\r\n") == NULL);
		CHECK(a.display == NULL);
		CHECK_INT(addr_parse_spec(span_cstr(cases[i]), &a, &err), LB_EDATA);
		CHECK(strpbrk(err.msg, "\r\n") == NULL);
	}
}

static void test_message_quoting(void)
{
	struct addr a;
	struct lb_err err = {0};

	addr_parse(span_cstr("Ada\r\n <ada@example.org>"), &a, &err);
	CHECK_STR(err.msg, "'Ada?? <ada@example.org>': control character CR at byte 4");

	/* Long inputs are cut on a character boundary, never inside "ö". */
	char *s = repeat('x', 79, "ö@localhost");
	addr_parse(span_cstr(s), &a, &err);
	char want[200];
	snprintf(want, sizeof want, "'%.79s...': %s", s, smtputf8);
	CHECK_STR(err.msg, want);
	free(s);
}

static void test_parse_spec(void)
{
	struct addr a;
	struct lb_err err = {0};

	CHECK_INT(addr_parse_spec(span_cstr(" Ada@Example.org "), &a, &err), 0);
	CHECK_STR(a.spec, "Ada@example.org");
	CHECK_STR(a.local, "Ada");
	CHECK_STR(a.domain, "example.org");
	CHECK(a.display == NULL);
	addr_free(&a);

	CHECK_INT(addr_parse_spec(span_cstr("Ada <ada@example.org>"), &a, &err), LB_EDATA);
	CHECK(strstr(err.msg, "space in local part") != NULL);
	CHECK_INT(addr_parse_spec(span_cstr("<ada@example.org>"), &a, &err), LB_EDATA);
	CHECK(strstr(err.msg, "unexpected '<' in local part") != NULL);
	CHECK_INT(addr_parse_spec(span_cstr(""), &a, &err), LB_EDATA);
	CHECK(strstr(err.msg, "empty address") != NULL);

	/* Only the span is read, not up to a NUL. */
	CHECK_INT(addr_parse_spec((struct span){"ada@example.orgXYZ", 15}, &a, &err), 0);
	CHECK_STR(a.spec, "ada@example.org");
	addr_free(&a);
}

static void test_key(void)
{
	static const struct {
		const char *spec, *key;
	} cases[] = {
	    {"Ada@example.org", "ada@example.org"},
	    {"ADA.LOVELACE@EXAMPLE.ORG", "ada.lovelace@example.org"},
	    {"\"John Doe\"@example.org", "\"john doe\"@example.org"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *k = addr_key(cases[i].spec);
		CHECK_STR(k, cases[i].key);
		free(k);
	}
}

int main(void)
{
	RUN(test_valid);
	RUN(test_invalid);
	RUN(test_limits);
	RUN(test_header_injection);
	RUN(test_message_quoting);
	RUN(test_parse_spec);
	RUN(test_key);
	return harness_done("addr");
}
