/* YAML input at its limits: nesting depth, bytes libyaml's reader refuses
 * (reported at their place, not at 1:1), NUL bytes in subscriber lists. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/yamlx.h"
#include "store/subscribers.h"
#include "harness.h"

/* prefix, then depth '[' and as many ']' */
static char *nested(const char *prefix, size_t depth)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, prefix);
	for (size_t i = 0; i < depth; i++)
		buf_addc(&b, '[');
	for (size_t i = 0; i < depth; i++)
		buf_addc(&b, ']');
	buf_addc(&b, '\n');
	return buf_take(&b);
}

static int load(const char *text, size_t line0, struct lb_err *err)
{
	struct ydoc d;
	int rc = ydoc_load(&d, "x.yaml", text, strlen(text), line0, LB_EDATA, err);
	ydoc_free(&d);
	return rc;
}

static void test_depth(void)
{
	struct lb_err err = {0};
	/* "site:" is one level, so 63 more brackets are the most. */
	char *ok = nested("a: b\nsite: ", YAML_MAX_DEPTH - 1);
	CHECK_INT(load(ok, 0, &err), 0);
	free(ok);
	char *deep = nested("a: b\nsite: ", YAML_MAX_DEPTH);
	CHECK_INT(load(deep, 0, &err), LB_EDATA);
	CHECK_STR(err.msg, "x.yaml:2:70: nested more than 64 levels deep");
	free(deep);
	/* 100,000 levels (the quadratic case took minutes): an error with the
	 * line, at once; the front matter's line shift applies. */
	char *huge = nested("a: b\nsite: ", 100000);
	clock_t t0 = clock();
	CHECK_INT(load(huge, 1, &err), LB_EDATA);
	CHECK_STR(err.msg, "x.yaml:3:70: nested more than 64 levels deep");
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	free(huge);
}

/* The document built from events is what yaml_parser_load built: positions,
 * anchors and aliases, styles, the first document only. */
static void test_document(void)
{
	static const char text[] = "a: &x [1, 2]\n"
				   "b: *x\n"
				   "c: {d: 'q'}\n"
				   "---\n"
				   "ignored: [\n";
	struct ydoc d;
	struct lb_err err = {0};
	CHECK_INT(ydoc_load(&d, "x.yaml", text, strlen(text), 10, LB_EDATA, &err), 0);
	yaml_node_t *root = ydoc_root(&d);
	CHECK(yis_map(root) && ylen(root) == 3);
	yaml_node_t *a = ymap_get(&d, root, "a"), *b = ymap_get(&d, root, "b");
	CHECK(yis_seq(a) && ylen(a) == 2 && a == b);
	CHECK_INT(yline(&d, a), 11);
	CHECK_INT(a->start_mark.column, 3);
	yaml_node_t *c = ymap_get(&d, root, "c");
	CHECK(yis_map(c));
	yaml_node_t *q = ymap_get(&d, c, "d");
	CHECK(yis_scalar(q) && span_eq(yscalar(q), "q") &&
	      q->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE);
	CHECK_INT(yline(&d, q), 13);
	ydoc_free(&d);
	CHECK_INT(load("a: *nowhere\n", 0, &err), LB_EDATA);
	CHECK_STR(err.msg, "x.yaml:1:4: found undefined alias");
	struct ydoc e;
	CHECK_INT(ydoc_load(&e, "x.yaml", "# nothing\n", 10, 0, LB_EDATA, &err), 0);
	CHECK(ydoc_root(&e) == NULL);
	ydoc_free(&e);
}

static void test_reader_errors_have_a_place(void)
{
	struct lb_err err = {0};
	CHECK_INT(load("a: 1\nname: Zoë \xff\n", 0, &err), LB_EDATA);
	CHECK_STR(err.msg, "x.yaml:2:11: invalid leading UTF-8 octet");
	static const char nul[] = "a: 1\nb: 2\nname: x\0y\n";
	struct ydoc d;
	CHECK_INT(ydoc_load(&d, "x.yaml", nul, sizeof nul - 1, 0, LB_EDATA, &err), LB_EDATA);
	CHECK_STR(err.msg, "x.yaml:3:8: control characters are not allowed");
	ydoc_free(&d);
}

static void report(void *ctx, const char *msg)
{
	struct buf *b = ctx;
	buf_adds(b, msg);
	buf_addc(b, '\n');
}

static void test_list_nul(void)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		int rc;
		size_t n;
		const char *want;
	} cases[] = {
	    {"subscribers:\n  - email: ada@example.org\n    name: \"Ada\\0Lovelace\"\n"
	     "  - zoe@example.org\n",
	     0, 0, 1, "l.yaml:3:11: 'ada@example.org': the name holds a NUL byte: left out\n"},
	    {"subscribers:\n  - \"ada@example.org\\0.evil\"\n  - zoe@example.org\n", 0, 0, 1,
	     "l.yaml:2:5: 'ada@example.org\\0.evil': the email holds a NUL byte: left out\n"},
	    {"subscribers:\n  - email: \"ada@example.org\\0\"\n    city: x\n", 0, 0, 0,
	     "l.yaml:2:12: 'ada@example.org\\0': the email holds a NUL byte: left out\n"},
	    {"subscribers:\n  - email: ada@example.org\n    city: \"a\\0b\"\n", 0, 0, 0,
	     "l.yaml:3:11: 'ada@example.org': the city holds a NUL byte: left out\n"},
	    /* A raw NUL byte: libyaml's reader stops; the place is the byte's. */
	    {"subscribers:\n  - email: ada@example.org\n    name: Ada\0Lovelace\n", 63, LB_EDATA, 0,
	     NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sublist l;
		struct buf msgs = BUF_INIT;
		struct lb_err err = {0};
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		int rc = sublist_parse("l.yaml", cases[i].text, len, &l, report, &msgs, &err);
		CHECK_INT(rc, cases[i].rc);
		if (!rc) {
			CHECK_INT(l.n, cases[i].n);
			CHECK_INT(l.invalid, 1);
			CHECK_STR(buf_cstr(&msgs), cases[i].want);
			for (size_t j = 0; j < l.n; j++)
				CHECK(strcmp(l.v[j].email, "ada@example.org") != 0);
		} else {
			CHECK_STR(err.msg, "l.yaml:3:14: control characters are not allowed");
		}
		sublist_free(&l);
		buf_free(&msgs);
	}
}

static void test_list_depth(void)
{
	char *deep = nested("name: x\nsubscribers:\n  - email: a@example.org\n    city: ", 100000);
	struct sublist l;
	struct lb_err err = {0};
	int rc = sublist_parse("l.yaml", deep, strlen(deep), &l, NULL, NULL, &err);
	CHECK_INT(rc, LB_EDATA);
	CHECK(strncmp(err.msg, "l.yaml:4:11: ", 13) == 0);
	sublist_free(&l);
	free(deep);
}

int main(void)
{
	RUN(test_depth);
	RUN(test_document);
	RUN(test_reader_errors_have_a_place);
	RUN(test_list_nul);
	RUN(test_list_depth);
	return harness_done("yaml");
}
