/* letterbox init's configuration: every key in its table is one config.c
 * reads, what it writes loads, and check's placeholder scan finds each
 * placeholder left, with its place. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/init_config.h"
#include "core/config.h"
#include "core/fsx.h"
#include "harness.h"

static char tmpdir[] = "/tmp/lbinitXXXXXX";

static int load(const char *text, struct config *c, struct lb_err *err)
{
	char *p = path_join(tmpdir, "letterbox.yaml");
	CHECK(fsx_write_atomic(p, text, strlen(text), 0600, err) == 0);
	int rc = config_load(c, tmpdir, p, err);
	free(p);
	return rc;
}

static void collect(void *ctx, const char *msg)
{
	struct buf *b = ctx;
	buf_printf(b, "%s\n", msg);
}

/* Each key uncommented, with its example value: config.c knows it. */
static void test_every_key_is_known(void)
{
	const struct init_values v = {"Smith & Jones, LLC", "Smith <news@smith.example>",
				      "1 High St", "https://smith.example", "Europe/London"};
	struct buf b = BUF_INIT;
	init_config_write(&v, true, &b);
	struct config c;
	struct lb_err err = {0};
	int rc = load(b.p, &c, &err);
	if (rc)
		fprintf(stderr, "    %s\n", err.msg);
	CHECK_INT(rc, 0);
	CHECK_STR(c.site_name, "Smith & Jones, LLC");
	CHECK_STR(c.from.spec, "news@smith.example");
	CHECK_STR(c.from.display, "Smith");
	CHECK_STR(c.list_id, "news.smith.example");
	CHECK_STR(c.reply_to, "Smith <news+{token}@smith.example>");
	CHECK_STR(c.unsub_url, "https://smith.example/news/u/{token}");
	CHECK_STR(c.test_prefix, "[TEST] ");
	CHECK(c.in.folders[FOLDER_FAILED] != NULL);
	CHECK(c.styles != NULL && c.nstyles == 1);
	config_free(&c);
	/* What init writes, as init writes it, also loads, and has no placeholder. */
	buf_reset(&b);
	init_config_write(&v, false, &b);
	CHECK_INT(load(b.p, &c, &err), 0);
	config_free(&c);
	struct buf found = BUF_INIT;
	CHECK_INT(init_placeholders("letterbox.yaml", b.p, collect, &found), 0);
	buf_free(&found);
	buf_free(&b);
}

/* Without values: placeholders that still load (preview works) and that
 * check names, each with its line and column. */
static void test_placeholders(void)
{
	const struct init_values none = {0};
	struct buf b = BUF_INIT, found = BUF_INIT;
	init_config_write(&none, false, &b);
	struct config c;
	struct lb_err err = {0};
	CHECK_INT(load(b.p, &c, &err), 0);
	config_free(&c);
	size_t n = init_placeholders("letterbox.yaml", b.p, collect, &found);
	CHECK(n >= 5);
	CHECK(strstr(found.p, "'name' still holds the placeholder CHANGE-ME") != NULL);
	CHECK(strstr(found.p, "'postal_address' still holds") != NULL);
	CHECK(strstr(found.p, "'mailto' still holds") != NULL);
	/* A placeholder in a comment is no problem; one after a value's '#' is. */
	buf_reset(&found);
	CHECK_INT(init_placeholders("f", "# name: CHANGE-ME\nsite:\n  name: \"x CHANGE-ME\"\n",
				    collect, &found),
		  1);
	CHECK_STR(found.p, "f:3:12: 'name' still holds the placeholder CHANGE-ME: fill in your "
			   "own value\n");
	buf_free(&found);
	buf_free(&b);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_every_key_is_known);
	RUN(test_placeholders);
	char *p = path_join(tmpdir, "letterbox.yaml");
	unlink(p);
	free(p);
	rmdir(tmpdir);
	return harness_done("init");
}
