#include "store/listedit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "store/subscribers.h"
#include "harness.h"

static const struct listedit_entry ZOE = {"zoe@example.org", "Zoë Ångström"};
static const struct listedit_entry BARE = {"bo@example.org", NULL};

/* Edit old; the result must re-load as old's list plus v and, when the edit
 * is a pure insertion, hold every byte of old unchanged around the new text. */
static char *edit(const char *old, const struct listedit_entry *v, size_t n, bool insertion)
{
	struct buf out = BUF_INIT;
	struct lb_err err = {0};
	struct span o = span_cstr(old);
	int rc = listedit_append_text("t.yaml", o, v, n, &out, &err);
	if (rc) {
		fprintf(stderr, "    edit: %s\n", err.msg);
		CHECK_INT(rc, 0);
		buf_free(&out);
		return NULL;
	}
	rc = listedit_verify("t.yaml", o, buf_span(&out), v, n, &err);
	if (rc)
		fprintf(stderr, "    verify: %s\n    text:\n%s\n", err.msg, buf_cstr(&out));
	CHECK_INT(rc, 0);
	if (insertion) {
		size_t k = 0;
		while (k < o.n && k < out.n && o.p[k] == out.p[k])
			k++;
		size_t rest = o.n - k;
		CHECK(out.n >= o.n && memcmp(out.p + out.n - rest, o.p + k, rest) == 0);
	}
	return buf_take(&out);
}

static void expect(const char *old, const struct listedit_entry *v, size_t n, const char *want)
{
	char *got = edit(old, v, n, true);
	if (got)
		CHECK_STR(got, want);
	free(got);
}

static void test_comments_and_order_kept(void)
{
	const char *old = "# The list.  Comments stay.\n"
			  "name: Friends   # inline comment\n"
			  "\n"
			  "subscribers:\n"
			  "  # first the founders\n"
			  "  - email: ada@example.org\n"
			  "    name: Ada Lovelace\n"
			  "\n"
			  "  - mei@example.org   # bare is fine\n"
			  "\n"
			  "# - old@example.org (left in 2025)\n"
			  "# end of file\n";
	const struct listedit_entry two[] = {ZOE, BARE};
	expect(old, two, 2,
	       "# The list.  Comments stay.\n"
	       "name: Friends   # inline comment\n"
	       "\n"
	       "subscribers:\n"
	       "  # first the founders\n"
	       "  - email: ada@example.org\n"
	       "    name: Ada Lovelace\n"
	       "\n"
	       "  - mei@example.org   # bare is fine\n"
	       "  - email: zoe@example.org\n"
	       "    name: Zoë Ångström\n"
	       "  - email: bo@example.org\n"
	       "\n"
	       "# - old@example.org (left in 2025)\n"
	       "# end of file\n");
}

static void test_indentation_styles(void)
{
	expect("subscribers:\n    -   email: a@example.org\n        name: A\n", &ZOE, 1,
	       "subscribers:\n    -   email: a@example.org\n        name: A\n"
	       "    -   email: zoe@example.org\n        name: Zoë Ångström\n");
	expect("subscribers:\n- a@example.org\n- email: b@example.org\n  name: B\n", &ZOE, 1,
	       "subscribers:\n- a@example.org\n- email: b@example.org\n  name: B\n"
	       "- email: zoe@example.org\n  name: Zoë Ångström\n");
	expect("subscribers:\n  -\n    email: a@example.org\n", &ZOE, 1,
	       "subscribers:\n  -\n    email: a@example.org\n"
	       "  - email: zoe@example.org\n    name: Zoë Ångström\n");
	/* a key after the list: the entry goes before it */
	expect("subscribers:\n  - a@example.org\nname: Later\n", &BARE, 1,
	       "subscribers:\n  - a@example.org\n  - email: bo@example.org\nname: Later\n");
	/* the whole document indented */
	expect("  name: X\n  subscribers:\n    - a@example.org\n", &BARE, 1,
	       "  name: X\n  subscribers:\n    - a@example.org\n    - email: bo@example.org\n");
}

static void test_line_ends(void)
{
	char *got = edit("# c\r\nname: X\r\nsubscribers:\r\n  - a@example.org\r\n", &ZOE, 1, true);
	CHECK_STR(got, "# c\r\nname: X\r\nsubscribers:\r\n  - a@example.org\r\n"
		       "  - email: zoe@example.org\r\n    name: Zoë Ångström\r\n");
	free(got);
	expect("subscribers:\n  - a@example.org", &BARE, 1,
	       "subscribers:\n  - a@example.org\n  - email: bo@example.org\n");
	expect("subscribers:\r\n  - a@example.org  # no newline at the end", &BARE, 1,
	       "subscribers:\r\n  - a@example.org  # no newline at the end\r\n"
	       "  - email: bo@example.org\r\n");
	expect("\xef\xbb\xbfname: Zoë's list\nsubscribers:\n  - a@example.org\n", &ZOE, 1,
	       "\xef\xbb\xbfname: Zoë's list\nsubscribers:\n  - a@example.org\n"
	       "  - email: zoe@example.org\n    name: Zoë Ångström\n");
}

static void test_no_entries_yet(void)
{
	expect("", &BARE, 1, "subscribers:\n  - email: bo@example.org\n");
	expect("# only a comment", &BARE, 1,
	       "# only a comment\nsubscribers:\n  - email: bo@example.org\n");
	expect("name: X   # c\n", &BARE, 1,
	       "name: X   # c\nsubscribers:\n  - email: bo@example.org\n");
	expect("name: X\nsubscribers:\n# none yet\n", &BARE, 1,
	       "name: X\nsubscribers:\n  - email: bo@example.org\n# none yet\n");
	expect("subscribers:   # none yet\nname: X\n", &BARE, 1,
	       "subscribers:   # none yet\n  - email: bo@example.org\nname: X\n");
	char *got = edit("name: X\nsubscribers: ~\n", &BARE, 1, false);
	CHECK_STR(got, "name: X\nsubscribers:\n  - email: bo@example.org\n");
	free(got);
	got = edit("subscribers: []   # empty\n", &BARE, 1, false);
	CHECK_STR(got, "subscribers:    # empty\n  - email: bo@example.org\n");
	free(got);
}

static void test_last_entry_shapes(void)
{
	/* a block scalar: its end is where the next line starts */
	expect("subscribers:\n  - email: a@example.org\n    note: |\n      two\n      lines\n\n"
	       "# tail\n",
	       &BARE, 1,
	       "subscribers:\n  - email: a@example.org\n    note: |\n      two\n      lines\n\n"
	       "  - email: bo@example.org\n# tail\n");
	/* a flow mapping over several lines */
	expect("subscribers:\n  - {email: a@example.org,\n     name: A\n    }\n# tail\n", &BARE, 1,
	       "subscribers:\n  - {email: a@example.org,\n     name: A\n    }\n"
	       "  - email: bo@example.org\n# tail\n");
	/* a plain scalar over two lines */
	expect("subscribers:\n  - email: a@example.org\n    name: Ada\n      Lovelace\n", &BARE, 1,
	       "subscribers:\n  - email: a@example.org\n    name: Ada\n      Lovelace\n"
	       "  - email: bo@example.org\n");
}

static void test_names_needing_quotes(void)
{
	static const struct {
		const char *name, *written;
	} cases[] = {
	    {"Zoë Ångström", "Zoë Ångström"},
	    {"Seán O'Brien", "Seán O'Brien"},
	    {"Dana \"Dee\" Whitfield", "Dana \"Dee\" Whitfield"},
	    {"Smith, Jo (Dr.)", "Smith, Jo (Dr.)"},
	    {"\"Kit\" Marlowe", "\"\\\"Kit\\\" Marlowe\""},
	    {"Dr. Eze: therapist", "\"Dr. Eze: therapist\""},
	    {"Jo #1 fan", "\"Jo #1 fan\""},
	    {"#hashtag", "\"#hashtag\""},
	    {": colon", "\": colon\""},
	    {"ends with colon:", "\"ends with colon:\""},
	    {"- dash", "\"- dash\""},
	    {"'single'", "\"'single'\""},
	    {"@handle", "\"@handle\""},
	    {"&anchor", "\"&anchor\""},
	    {"*star", "\"*star\""},
	    {"!bang", "\"!bang\""},
	    {"%pct", "\"%pct\""},
	    {"`tick`", "\"`tick`\""},
	    {"[brackets]", "\"[brackets]\""},
	    {"{braces}", "\"{braces}\""},
	    {"|pipe", "\"|pipe\""},
	    {">gt", "\">gt\""},
	    {"?q", "\"?q\""},
	    {"null", "\"null\""},
	    {"Null", "\"Null\""},
	    {"~", "\"~\""},
	    {"yes", "\"yes\""},
	    {"No", "\"No\""},
	    {"off", "\"off\""},
	    {"1234", "\"1234\""},
	    {"12:30", "\"12:30\""},
	    {"back\\slash \"q\"", "back\\slash \"q\""},
	    {"a\\b: c", "\"a\\\\b: c\""},
	    {"\xef\xbb\xbf"
	     "bom",
	     "\"\\uFEFFbom\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct listedit_entry e = {"q@example.org", cases[i].name};
		const char *old = "# c\nsubscribers:\n  - a@example.org\n";
		struct buf want = BUF_INIT;
		buf_printf(&want, "%s  - email: q@example.org\n    name: %s\n", old,
			   cases[i].written);
		char *got = edit(old, &e, 1, true);
		if (got && strcmp(got, want.p) != 0)
			fprintf(stderr, "    case %zu: %s\n", i, cases[i].name);
		if (got)
			CHECK_STR(got, want.p);
		free(got);
		buf_free(&want);
	}
	/* addresses are quoted the same way when they must be */
	struct listedit_entry q = {"\"john doe\"@example.org", "J"};
	char *got = edit("subscribers:\n  - a@example.org\n", &q, 1, true);
	CHECK(got && strstr(got, "  - email: \"\\\"john doe\\\"@example.org\"\n") != NULL);
	free(got);
}

static void test_refused(void)
{
	static const char *const bad[] = {
	    "subscribers: [a@example.org, b@example.org]\n",
	    "subscribers:\n  [a@example.org]\n",
	    "{name: X, subscribers: [a@example.org]}\n",
	    "- a@example.org\n",
	    "subscribers: a@example.org\n",
	    "subscribers:\n  - a@example.org\n bad: [\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf out = BUF_INIT;
		struct lb_err err = {0};
		CHECK_INT(listedit_append_text("t.yaml", span_cstr(bad[i]), &BARE, 1, &out, &err),
			  LB_EDATA);
		CHECK(strncmp(err.msg, "t.yaml:", 7) == 0);
		if (i < 3)
			CHECK(strstr(err.msg, "flow style") != NULL);
		buf_free(&out);
	}
}

static void test_verify_catches_a_bad_edit(void)
{
	const char *old = "subscribers:\n  - email: a@example.org\n    name: A\n";
	struct lb_err err = {0};
	static const char *const wrong[] = {
	    "subscribers:\n  - email: a@example.org\n    name: A\n",
	    "subscribers:\n  - email: a@example.org\n    name: B\n  - email: bo@example.org\n",
	    "subscribers:\n  - email: a@example.org\n    name: A\n  - email: bo@example.org\n"
	    "    name: x\n",
	    "subscribers:\n  - email: bo@example.org\n  - email: a@example.org\n    name: A\n",
	    "name: new\nsubscribers:\n  - email: a@example.org\n    name: A\n"
	    "  - email: bo@example.org\n",
	    "subscribers:\n  - email: a@example.org\n    name: A\n  - email: bo@example.org\n"
	    "  - not-an-address\n",
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
		CHECK_INT(
		    listedit_verify("t.yaml", span_cstr(old), span_cstr(wrong[i]), &BARE, 1, &err),
		    LB_EDATA);
	CHECK_INT(listedit_verify("t.yaml", span_cstr(old),
				  span_cstr("subscribers:\n  - email: a@example.org\n    name: A\n"
					    "  - email: bo@example.org\n"),
				  &BARE, 1, &err),
		  0);
}

static void test_name_ok(void)
{
	const char *why = NULL;
	CHECK(listedit_name_ok("Zoë Ångström", &why));
	CHECK(listedit_name_ok("\"Kit\" Marlowe: #1", &why));
	CHECK(!listedit_name_ok("two\nlines", &why));
	CHECK(why && strstr(why, "line break"));
	CHECK(!listedit_name_ok("tab\there", &why));
	CHECK(!listedit_name_ok("ls\xe2\x80\xa8here", &why));
	CHECK(!listedit_name_ok("nel\xc2\x85here", &why));
	CHECK(!listedit_name_ok("latin1 \xe9", &why));
	CHECK(why && strstr(why, "UTF-8"));
}

static char dir[] = "/tmp/lb_listedit_XXXXXX";

static size_t entries_in(const char *d)
{
	size_t n = 0;
	DIR *dp = opendir(d);
	struct dirent *de;
	while (dp && (de = readdir(dp)))
		n += de->d_name[0] != '.';
	if (dp)
		closedir(dp);
	return n;
}

static void test_files(void)
{
	struct lb_err err = {0};
	char path[128], link[128], fresh[128];
	snprintf(path, sizeof path, "%s/friends.yaml", dir);
	snprintf(link, sizeof link, "%s/alias.yaml", dir);
	snprintf(fresh, sizeof fresh, "%s/sub/new list.yaml", dir);
	const char *old = "# mine\nname: Friends\nsubscribers:\n  - a@example.org\n";
	fsx_write_atomic(path, old, strlen(old), 0640, &err);

	/* the mode stays */
	CHECK_INT(listedit_append(path, "friends", &BARE, 1, &err), 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	struct buf text = BUF_INIT;
	fsx_read(path, &text, 0, &err);
	CHECK_STR(buf_cstr(&text), "# mine\nname: Friends\nsubscribers:\n  - a@example.org\n"
				   "  - email: bo@example.org\n");
	buf_free(&text);

	/* a symbolic link stays a link; the target is edited */
	CHECK(symlink("friends.yaml", link) == 0);
	CHECK_INT(listedit_append(link, "alias", &ZOE, 1, &err), 0);
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	struct sublist l;
	CHECK_INT(sublist_load(path, &l, NULL, NULL, &err), 0);
	CHECK_INT(l.n, 3);
	CHECK_STR(l.v[2].name, "Zoë Ångström");
	sublist_free(&l);

	/* a new list: created with its name, directory and all */
	mode_t um = umask(022);
	CHECK_INT(listedit_append(fresh, "new: list", &ZOE, 1, &err), 0);
	umask(um);
	CHECK(stat(fresh, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK_INT(sublist_load(fresh, &l, NULL, NULL, &err), 0);
	CHECK_STR(l.title, "new: list");
	CHECK_INT(l.n, 1);
	sublist_free(&l);

	/* refused: the file is left byte for byte, and no temporary file stays */
	const char *flow = "# flow\nsubscribers: [a@example.org]\n";
	fsx_write_atomic(path, flow, strlen(flow), 0640, &err);
	size_t before = entries_in(dir);
	CHECK_INT(listedit_append(path, "friends", &BARE, 1, &err), LB_EDATA);
	text = (struct buf)BUF_INIT;
	fsx_read(path, &text, 0, &err);
	CHECK_STR(buf_cstr(&text), flow);
	buf_free(&text);
	CHECK_INT(entries_in(dir), before);

	/* a list that does not parse is not touched */
	const char *broken = "subscribers:\n  - a@example.org\n  - [\n";
	fsx_write_atomic(path, broken, strlen(broken), 0640, &err);
	CHECK_INT(listedit_append(path, "friends", &BARE, 1, &err), LB_EDATA);
	text = (struct buf)BUF_INIT;
	fsx_read(path, &text, 0, &err);
	CHECK_STR(buf_cstr(&text), broken);
	buf_free(&text);

	unlink(fresh);
	snprintf(fresh, sizeof fresh, "%s/sub", dir);
	rmdir(fresh);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_comments_and_order_kept);
	RUN(test_indentation_styles);
	RUN(test_line_ends);
	RUN(test_no_entries_yet);
	RUN(test_last_entry_shapes);
	RUN(test_names_needing_quotes);
	RUN(test_refused);
	RUN(test_verify_catches_a_bad_edit);
	RUN(test_name_ok);
	if (mkdtemp(dir))
		RUN(test_files);
	else
		CHECK(!"mkdtemp");
	return harness_done("listedit");
}
