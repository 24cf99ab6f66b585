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
	     "n/héllo.md: the slug 'héllo' may hold only"},
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

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_good);
	RUN(test_errors);
	return harness_done("article");
}
