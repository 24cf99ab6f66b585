/* One-click unsubscribe: the token's shape, token -> address (store/tokens.h)
 * over list files and campaign snapshots, the masked address, and where a
 * suppression came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/token.h"
#include "store/suppressions.h"
#include "store/tokens.h"
#include "web/routes.h"
#include "harness.h"

static void test_token_parse(void)
{
	char out[TOKEN_LEN + 1];
	CHECK(token_parse("abcdefgh234567ab", 16, out));
	CHECK_STR(out, "abcdefgh234567ab");
	CHECK(token_parse("ABCDEFGH234567AB", 16, out));
	CHECK_STR(out, "abcdefgh234567ab");
	static const char *const bad[] = {
	    "abcdefgh234567a",	"abcdefgh234567abc", "abcdefgh234567a1", "abcdefgh234567a8",
	    "abcdefgh234567a0", "abcdefgh-34567ab",  "abcdefgh 34567ab", ""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!token_parse(bad[i], strlen(bad[i]), out));
	/* n counts, not the NUL: a token followed by more text is not one */
	CHECK(!token_parse("abcdefgh234567ab/x", 18, out));
	CHECK(token_parse("abcdefgh234567ab/x", 16, out));
}

static void test_mask(void)
{
	static const char *const cases[][2] = {
	    {"zoe@example.org", "z***@example.org"},
	    {"z@example.org", "z***@example.org"},
	    {"\xc3\x85sa@example.org", "\xc3\x85***@example.org"}, /* Åsa: Å whole */
	    {"a@b@example.org", "a***@example.org"},
	    {"@example.org", "***"},
	    {"nobody", "***"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;
		web_mask_address(&b, cases[i][0]);
		CHECK_STR(buf_cstr(&b), cases[i][1]);
		buf_free(&b);
	}
}

static void test_source(void)
{
	static const char *const cases[][2] = {
	    {"web: one-click unsubscribe (RFC 8058 POST to /u/) from 192.0.2.1", "web"},
	    {"`letterbox subscribers remove` by ada", "staff"},
	    {"550 5.1.1 user unknown (campaign 2026-11-25-x)", "send"},
	    {"confirmed by a 5xx at send time: 550 5.2.1 (campaign x); the report: bounce", "send"},
	    {"unsubscribe (message <a@b>); linked by the token in the unsubscribe address", "mail"},
	    {"confirmed by bounce 5.1.1 (message <x>); the report: bounce (campaign y)", "mail"},
	    {"webmaster said so", "mail"},
	    {"", "mail"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *ev = strdup(cases[i][0]);
		struct suppression x = {.evidence = ev};
		CHECK_STR(sup_source(&x), cases[i][1]);
		free(ev);
	}
	struct suppression none = {0};
	CHECK_STR(sup_source(&none), "mail");
}

static char dir[] = "/tmp/lb_unsub_XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[256];
	struct lb_err err;
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	fsx_mkdirs(path, 0700, &err);
	*slash = '/';
	CHECK_INT(fsx_write_atomic(path, text, strlen(text), 0600, &err), 0);
}

static int count_one(void *ctx, const char *address)
{
	(void)address;
	++*(size_t *)ctx;
	return 0;
}

static void test_find(void)
{
	CHECK(mkdtemp(dir) != NULL);
	char state[128];
	snprintf(state, sizeof state, "%s/state", dir);
	put("subscribers/a.yaml", "subscribers:\n  - ada@example.org\n  - Zoe@Example.org\n");
	put("subscribers/b.yaml", "subscribers:\n  - email: mei@example.org\n");
	put("subscribers/broken.yaml", "subscribers: [\n");
	put("state/campaigns/one/recipients",
	    "# snapshot\nR\tgone@example.org\tGone\nK\tskipped@example.org\tsuppressed\n"
	    "R\tada@example.org\n");
	struct config cfg = {0};
	cfg.site_dir = dir;
	cfg.state_dir = state;
	char list_id[] = "news.example.org";
	cfg.list_id = list_id;
	struct secret s;
	for (size_t i = 0; i < SECRET_LEN; i++)
		s.key[i] = (unsigned char)i;
	static const char *const known[] = {"ada@example.org", "zoe@example.org", "mei@example.org",
					    "gone@example.org"};
	struct token_index *ix = token_index_build(&cfg, &s);
	CHECK_INT(token_index_size(ix), 4); /* ada twice, one token */
	/* each address once: a forged token is not tried against the same
	 * person in every campaign's snapshot (a cheap request made costly) */
	size_t calls = 0;
	CHECK_INT(tokens_each_address(&cfg, count_one, &calls), 0);
	CHECK_INT(calls, 4);
	for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
		char tok[TOKEN_LEN + 1];
		token_make(&s, cfg.list_id, known[i], tok);
		char *a = tokens_find(&cfg, &s, tok);
		CHECK(a && strcasecmp(a, known[i]) == 0);
		free(a);
		const char *b = token_index_get(ix, tok);
		CHECK(b && strcasecmp(b, known[i]) == 0);
		for (char *p = tok; *p; p++) /* the web may bring it in upper case */
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		a = tokens_find(&cfg, &s, tok);
		CHECK(a && strcasecmp(a, known[i]) == 0);
		free(a);
	}
	char tok[TOKEN_LEN + 1];
	token_make(&s, cfg.list_id, "skipped@example.org", tok); /* K lines were never mailed */
	CHECK(tokens_find(&cfg, &s, tok) == NULL);
	CHECK(token_index_get(ix, tok) == NULL);
	token_make(&s, "other.example.org", "ada@example.org", tok); /* another list id */
	CHECK(tokens_find(&cfg, &s, tok) == NULL);
	CHECK(tokens_find(&cfg, &s, "not-a-token") == NULL);
	token_index_free(ix);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	RUN(test_token_parse);
	RUN(test_mask);
	RUN(test_source);
	RUN(test_find);
	return harness_done("unsub");
}
