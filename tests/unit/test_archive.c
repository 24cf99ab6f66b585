/* web: the archive's pure parts: XML escaping for the Atom feed, and its
 * routes (feed.xml is not taken for a slug). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "web/archive.h"
#include "web/router.h"

static void test_xml_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"Fish <&> \"chips\" 'n'", "Fish &lt;&amp;&gt; &quot;chips&quot; &apos;n&apos;"},
	    {"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
	    {"bell\a esc\x1b vt\v ff\f", "bell esc vt ff"},	    /* not XML 1.0 characters */
	    {"Zo\xc3\xab \xe2\x80\x94", "Zo\xc3\xab \xe2\x80\x94"}, /* UTF-8 kept */
	    {"bad\xff\xc3(", "bad\xef\xbf\xbd\xef\xbf\xbd("},	    /* not UTF-8: U+FFFD */
	    {"cut\xe2\x80", "cut\xef\xbf\xbd\xef\xbf\xbd"},
	    {"&amp;", "&amp;amp;"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;
		xml_escape(&b, cases[i].in, strlen(cases[i].in));
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
	struct buf b = BUF_INIT;
	xml_escape(&b, "a\0b", 3); /* a NUL inside the length is dropped */
	CHECK_INT(b.n, 2);
	buf_free(&b);
}

static void test_archive_routes(void)
{
	struct span arg;
	int list = web_route_find("/archive/", &arg);
	int feed = web_route_find("/archive/feed.xml", &arg);
	int art = web_route_find("/archive/healing-through-connection", &arg);
	CHECK(list >= 0 && feed >= 0 && art >= 0);
	CHECK(feed != art && list != art && list != feed);
	CHECK(arg.n == 26 && memcmp(arg.p, "healing-through-connection", 26) == 0);
	CHECK(web_route_find("/archive", &arg) >= 0);
	CHECK(web_route_find("/archive/a/b", &arg) < 0);
	CHECK(web_route_find("/archive/..", &arg) < 0);
	CHECK(web_route_find("/archive/a%2Fb", &arg) < 0);
}

int main(void)
{
	RUN(test_xml_escape);
	RUN(test_archive_routes);
	return harness_done("archive");
}
