/* The fast list reader (store/listscan.h) against libyaml's (sublist_stream),
 * and the streamed edit against the in-memory one (listedit_append_text). */
#include "store/listscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "store/listedit.h"
#include "store/subscribers.h"
#include "harness.h"

/* Entries as "email|name|nfields" lines. */
static int from_scan(void *ctx, const struct listscan_entry *e)
{
	if (e->email)
		buf_printf(ctx, "%s|%s|%zu\n", e->email, e->name ? e->name : "-", e->nfields);
	return 0;
}

static int from_yaml(void *ctx, const struct subscriber *s)
{
	buf_printf(ctx, "%s|%s|%zu\n", s->email, s->name ? s->name : "-", s->nfields);
	return 0;
}

static const struct {
	const char *text;
	bool scanned; /* in the subset, else LISTSCAN_OTHER */
} cases[] = {
    {"name: F\nsubscribers:\n  - email: a@example.org\n    name: Ada\n  - b@example.org\n", true},
    {"# c\nsubscribers:   # c\n- email: a@example.org # c\n  name: 'O''Brien' # c\n"
     "  city: Oslo\n\n# end\npublic: true\n",
     true},
    {"subscribers:\n    -   email: \"a@example.org\"\n        name: \"D \\\"Dee\\\" W\\u00e9\"\n",
     true},
    {"subscribers:\r\n  - email: a@example.org\r\n    name: A\r\n", true},
    {"subscribers:\n  - email: a@example.org\n    name: ~\n    x:\n  - ~\n", true},
    {"subscribers:\n  - email: a@example.org\n    name: Ada\n      Lovelace\n", false},
    {"subscribers: [a@example.org]\n", false},
    {"subscribers:\n  - {email: a@example.org}\n", false},
    {"subscribers:\n  - email: &x a@example.org\n", false},
    {"subscribers:\n  - email: a@example.org\n    name: >\n      Ada\n", false},
    {"subscribers:\n  - email: \"a@exa\n    mple.org\"\n", false},
    {"subscribers:\n\t- a@example.org\n", false},
    {"\xef\xbb\xbfsubscribers:\n  - a@example.org\n", false},
    {"subscribers:\n  - email: a@example.org\n    email: b@example.org\n", false},
    {"subscribers:\n", false},
    {"---\nsubscribers:\n  - a@example.org\n", false},
    {"subscribers:\n  - email: a@example.org\n  -\n    email: b@example.org\n", false},
    {"subscribers:\n  - \"a@example.org\": x\n", false},
    {"subscribers:\n  - email: a@example.org\n    name: a: b\n", false},
    {"subscribers:\n  - email: a@example.org\n    name: \"\\q\"\n", false},
    {"oops: 1\nsubscribers:\n  - a@example.org\n", false},
};

/* Where the scan says yes, libyaml reads the same entries. */
static void test_agrees_with_libyaml(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf a = BUF_INIT, b = BUF_INIT;
		struct listscan scan;
		struct lb_err err = {0};
		int rc = listscan_text(span_cstr(cases[i].text), from_scan, &a, &scan);
		if (!harness_check(rc == (cases[i].scanned ? 0 : LISTSCAN_OTHER), __FILE__,
				   __LINE__, "scanned as expected"))
			fprintf(stderr, "    case %zu: rc %d\n", i, rc);
		if (rc == 0) {
			CHECK_INT(sublist_stream("t.yaml", cases[i].text, strlen(cases[i].text),
						 NULL, NULL, from_yaml, NULL, &b, NULL, &err),
				  0);
			CHECK_STR(buf_cstr(&a), buf_cstr(&b));
		}
		buf_free(&a);
		buf_free(&b);
	}
}

static char dir[] = "/tmp/lbscanXXXXXX";

/* The streamed edit of a file writes what the in-memory edit makes. */
static void test_streamed_edit_is_the_same_edit(void)
{
	static const struct listedit_entry add = {"new@example.org", "New: One"};
	char path[128];
	snprintf(path, sizeof path, "%s/l.yaml", dir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf want = BUF_INIT, got = BUF_INIT;
		struct lb_err err = {0};
		struct span old = span_cstr(cases[i].text);
		int rc = listedit_append_text(path, old, &add, 1, &want, &err);
		if (!rc && sublist_stream(path, old.p, old.n, NULL, NULL, from_yaml, NULL, &got,
					  NULL, &err))
			rc = LB_EDATA; /* the edit is refused: the list does not load */
		buf_reset(&got);
		fsx_write_atomic(path, old.p, old.n, 0644, &err);
		bool already = true;
		int rc2 = listedit_add_new(path, "l", &add, &already, &err);
		CHECK_INT(rc2, rc);
		fsx_read(path, &got, 0, &err);
		if (!rc) {
			CHECK(!already);
			CHECK_STR(buf_cstr(&got), buf_cstr(&want));
		} else {
			CHECK_STR(buf_cstr(&got), cases[i].text); /* untouched */
		}
		/* the address is now there: not added again */
		if (!rc) {
			CHECK_INT(listedit_add_new(path, "l", &add, &already, &err), 0);
			CHECK(already);
			bool there = false;
			CHECK_INT(sublist_contains(path, "NEW@example.org", &there, &err), 0);
			CHECK(there);
		}
		buf_free(&want);
		buf_free(&got);
	}
	unlink(path);
}

/* Only entries the loader keeps count as being on the list. */
static void test_contains(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/c.yaml", dir);
	const char *text = "subscribers:\n  - email: a@example.org\n    name: \"A\\x01\"\n"
			   "  - email: Bo@Example.org\n  - '\"c\"@example.org'\n";
	struct lb_err err = {0};
	fsx_write_atomic(path, text, strlen(text), 0644, &err);
	bool there = true;
	CHECK_INT(sublist_contains(path, "a@example.org", &there, &err), 0);
	CHECK(!there); /* left out: a control character in the name */
	CHECK_INT(sublist_contains(path, "bo@example.org", &there, &err), 0);
	CHECK(there);
	CHECK_INT(sublist_contains(path, "c@example.org", &there, &err), 0);
	CHECK(there); /* "c"@ is c@ */
	CHECK_INT(sublist_contains(path, "d@example.org", &there, &err), 0);
	CHECK(!there);
	unlink(path);
	CHECK_INT(sublist_contains(path, "d@example.org", &there, &err), 0);
	CHECK(!there); /* no file: no one */
}

int main(void)
{
	RUN(test_agrees_with_libyaml);
	if (mkdtemp(dir)) {
		RUN(test_streamed_edit_is_the_same_edit);
		RUN(test_contains);
		rmdir(dir);
	} else {
		CHECK(!"mkdtemp");
	}
	return harness_done("listscan");
}
