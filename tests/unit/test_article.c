/* Articles: front matter parsing, slugs, and errors that name file:line:col. */
#include <stdlib.h>
#include <string.h>

#include "compose/article.h"
#include "harness.h"

static int parse(const char *path, const char *text, struct article *a, struct lb_err *err)
{
	return article_parse(path, text, strlen(text), a, err);
}

static void test_good(void)
{
	struct article a;
	struct lb_err err = {0};
	int rc = parse("newsletters/2026-11-25-hello-world.md",
		       "---\n"
		       "title: \"Hello: world\"\n"
		       "date: 2026-11-25\n"
		       "send_at: 2026-11-26 08:00\n"
		       "preheader: A short line\n"
		       "lists: [friends, clients]\n"
		       "draft: false\n"
		       "author: Dr. Ada\n"
		       "mood: calm\n"
		       "empty:\n"
		       "---\n"
		       "# Body\n\nText.\n",
		       &a, &err);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "    %s\n", err.msg);
		return;
	}
	CHECK_STR(a.slug, "hello-world");
	CHECK_STR(a.title, "Hello: world");
	CHECK_STR(a.preheader, "A short line");
	CHECK_STR(a.author, "Dr. Ada");
	CHECK(a.lists && a.lists[0] && a.lists[1] && !a.lists[2]);
	CHECK_STR(a.lists[1], "clients");
	CHECK(!a.draft);
	CHECK(a.send_at > a.date);
	CHECK_STR(article_extra(&a, "mood"), "calm");
	CHECK(article_extra(&a, "empty") == NULL);
	CHECK_STR(a.body, "# Body\n\nText.\n");
	CHECK_INT(a.body_line, 12);
	article_free(&a);

	rc = parse("x/plain.md",
		   "---\r\ntitle: T\r\ndate: 2026-01-01\r\nlists: friends\r\n...\r\nHi\r\n", &a,
		   &err);
	CHECK_INT(rc, 0);
	CHECK_STR(a.slug, "plain");
	CHECK(a.lists && a.lists[0] && !a.lists[1]);
	CHECK_STR(a.body, "Hi\r\n");
	article_free(&a);
}

static void test_errors(void)
{
	static const struct {
		const char *path, *text, *want;
	} cases[] = {
	    {"n/2026-01-01-a.md", "---\ndate: 2026-01-01\n---\nx",
	     "n/2026-01-01-a.md:2:1: the front matter is missing the required key 'title'"},
	    {"n/2026-01-01-a.md", "---\ntitle: T\n---\nx",
	     "n/2026-01-01-a.md:2:1: the front matter is missing the required key 'date'"},
	    {"n/a.md", "---\ntitle: T\ndate: soon\n---\n", "n/a.md:3:7: 'date' must be a date"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\ndraft: maybe\n---\n",
	     "n/a.md:4:8: 'draft' must be true or false"},
	    {"n/a.md", "---\ntitle: [T\ndate: 2026-01-01\n---\n", "n/a.md:3:"},
	    {"n/a.md", "---\ntitle: T\n  date: 2026-01-01\n---\n", "n/a.md:3:7:"},
	    {"n/a.md", "title: T\n", "n/a.md:1:1: an article starts with a '---' line"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\n",
	     "n/a.md:1:1: the front matter is not closed"},
	    {"n/a.md", "---\n---\nbody", "n/a.md:2:1: the front matter is empty"},
	    {"n/a.md", "---\n- a\n- b\n---\n", "n/a.md:2:1: the front matter must be a mapping"},
	    {"n/a.md", "---\ntitle: \"  \"\ndate: 2026-01-01\n---\n",
	     "n/a.md:2:8: 'title' is empty"},
	    {"n/a.md", "---\ntitle: [a, b]\ndate: 2026-01-01\n---\n",
	     "n/a.md:2:8: 'title' must be a string"},
	    {"n/a.md", "---\ntitle: T\ntitle: U\ndate: 2026-01-01\n---\n",
	     "n/a.md:3:1: duplicate key 'title'"},
	    {"n/2026-01-01-.md", "---\ntitle: T\ndate: 2026-01-01\n---\n",
	     "n/2026-01-01-.md: the file name has no slug"},
	    {"n/héllo.md", "---\ntitle: T\ndate: 2026-01-01\n---\n",
	     "n/héllo.md: the slug 'héllo' (from the file name) may hold only lower-case"},
	    /* "." and ".." would put the journal in state/ and state/campaigns/. */
	    {"n/2026-11-19-..md", "---\ntitle: T\ndate: 2026-01-01\n---\n",
	     "n/2026-11-19-..md: the slug '.' (from the file name) may hold only"},
	    {"n/2026-11-19-...md", "---\ntitle: T\ndate: 2026-01-01\n---\n",
	     "n/2026-11-19-...md: the slug '..' (from the file name) may hold only"},
	    {"n/...md", "---\ntitle: T\ndate: 2026-01-01\n---\n", "n/...md: the slug '..'"},
	    {"n/Hello_World.md", "---\ntitle: T\ndate: 2026-01-01\n---\n",
	     "n/Hello_World.md: the slug 'Hello_World' (from"},
	    {"n/-x.md", "---\ntitle: T\ndate: 2026-01-01\n---\n", "n/-x.md: the slug '-x' (from"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\nslug: ..\n---\n",
	     "n/a.md:4:7: the slug '..' may hold only lower-case letters"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\nslug: [a]\n---\n",
	     "n/a.md:4:7: the slug '' may hold only"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\nslug: b\n---\n",
	     "n/a.md:4:7: slug: 'b' differs from the file name's slug 'a'"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\nlists: [a]\n  - b\n---\n", "n/a.md:"},
	    {"n/a.md", "---\ntitle: T\ndate: 2026-01-01\nlists: {a: b}\n---\n",
	     "n/a.md:4:8: 'lists' must be a string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct article a;
		struct lb_err err = {0};
		int rc = parse(cases[i].path, cases[i].text, &a, &err);
		CHECK_INT(rc, LB_EDATA);
		if (!harness_check(strncmp(err.msg, cases[i].want, strlen(cases[i].want)) == 0,
				   __FILE__, __LINE__, cases[i].want))
			fprintf(stderr, "    got \"%s\"\n", err.msg);
		article_free(&a);
	}
}

/* One slug, one campaign: two files that give the same slug clash, naming both. */
static void test_slug_clash(void)
{
	char p0[] = "n/2026-11-19-x.md", p1[] = "n/2026-11-25-x.md", p2[] = "n/x-2.md",
	     p3[] = "n/Bad.md";
	char *paths[] = {p0, p1, p2, p3, NULL};
	struct lb_err err = {0};
	CHECK_INT(article_slug_clash(paths, paths[1], &err), LB_EDATA);
	CHECK_STR(err.msg, "n/2026-11-25-x.md: n/2026-11-19-x.md has the same slug 'x': the two "
			   "would share one campaign (state/campaigns/x); rename one");
	CHECK_INT(article_slug_clash(paths, paths[0], &err), LB_EDATA);
	CHECK(strstr(err.msg, "n/2026-11-25-x.md has the same slug 'x'") != NULL);
	CHECK_INT(article_slug_clash(paths, "elsewhere/x.md", &err), LB_EDATA);
	CHECK_INT(article_slug_clash(paths, paths[2], &err), 0);
	CHECK_INT(article_slug_clash(paths, paths[3], &err), 0); /* article_load says why */
	char *slug = article_slug("n/2026-11-25-x-2.md");
	CHECK_STR(slug, "x-2");
	free(slug);
	CHECK(article_slug("n/2026-11-25-...md") == NULL);
	/* `slug:` repeating the file name's is fine; `lists:` keeps its place. */
	struct article a;
	CHECK_INT(parse("n/2026-01-01-a.md",
			"---\ntitle: T\ndate: 2026-01-01\nslug: a\nlists: [x]\n---\n", &a, &err),
		  0);
	CHECK_STR(a.slug, "a");
	CHECK(article_extra(&a, "slug") == NULL);
	CHECK_INT(a.lists_line, 5);
	CHECK_INT(a.lists_col, 8);
	article_free(&a);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_good);
	RUN(test_errors);
	RUN(test_slug_clash);
	return harness_done("article");
}
