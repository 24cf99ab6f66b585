/* Sign-up: confirmation tokens (core/token.h), the limits and the confirmed
 * request's effects (store/signup.h), `public:` in list files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/crypto.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/token.h"
#include "harness.h"
#include "store/db.h"
#include "store/signup.h"
#include "store/subscribers.h"
#include "store/suppressions.h"

static char tmpdir[64];
static struct secret key;

static struct confirm_req req(time_t t, char *list, char *address)
{
	static char web[] = "web", name[] = "Zoë Quinn", ip[] = "192.0.2.7",
		    hash[] = "00112233445566778899aabbccddeeff";
	return (struct confirm_req){t, web, list, address, name, ip, hash};
}

static void test_confirm_tokens(void)
{
	char list[] = "friends", addr[] = "zoe@example.org";
	struct confirm_req r = req(1000000, list, addr), got;
	char *t = confirm_token_make(&key, &r);
	CHECK(t && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
		       strlen(t));
	CHECK_INT(confirm_token_parse(&key, t, 1000000 + 3600, &got), CONFIRM_OK);
	CHECK_STR(got.address, "zoe@example.org");
	CHECK_STR(got.list, "friends");
	CHECK_STR(got.name, "Zoë Quinn");
	CHECK_STR(got.ip, "192.0.2.7");
	CHECK_STR(got.source, "web");
	CHECK_INT(got.requested, 1000000);
	confirm_req_free(&got);
	/* valid for 7 days, not one second more; never from the future */
	CHECK_INT(confirm_token_parse(&key, t, 1000000 + CONFIRM_TTL, &got), CONFIRM_OK);
	confirm_req_free(&got);
	CHECK_INT(confirm_token_parse(&key, t, 1000000 + CONFIRM_TTL + 1, &got), CONFIRM_EXPIRED);
	CHECK_STR(got.address, "zoe@example.org");
	confirm_req_free(&got);
	CHECK_INT(confirm_token_parse(&key, t, 1000000 - 3600, &got), CONFIRM_EXPIRED);
	confirm_req_free(&got);
	/* any change is a forgery: each character, another secret */
	size_t n = strlen(t), forged = 0;
	for (size_t i = 0; i < n; i++) {
		char keep = t[i];
		t[i] = keep == 'A' ? 'B' : keep == '.' ? 'x' : 'A';
		forged += confirm_token_parse(&key, t, 1000000, &got) == CONFIRM_FORGED;
		t[i] = keep;
	}
	CHECK_INT(forged, n);
	struct secret other = key;
	other.key[0] ^= 1;
	CHECK_INT(confirm_token_parse(&other, t, 1000000, &got), CONFIRM_FORGED);
	free(t);
	/* not tokens at all, and a recipient token */
	const char *junk[] = {
	    "", ".", "abc", "a.b.c", "abcdefghijklmnop", "====.====", "YQ.AAAAAAAAAAAAAAAAAAAAAA"};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
		CHECK_INT(confirm_token_parse(&key, junk[i], 1000000, &got), CONFIRM_FORGED);
	/* a line break in a field would split differently: refused */
	char bad[] = "zoe@example.org\nfriends";
	struct confirm_req rb = req(1000000, list, bad);
	CHECK(confirm_token_make(&key, &rb) == NULL);
	char h[33];
	consent_hash("abc", h); /* SHA-256("abc") begins ba7816bf8f01cfea414140de5dae2223 */
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223");
}

static void b64u(struct buf *b, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		v = v << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_addc(b, a[(v >> bits) & 63]);
		}
	}
	if (bits)
		buf_addc(b, a[(v << (6 - bits)) & 63]);
}

/* The kind's own label: the same payload with a MAC made without it (as a
 * plain HMAC over the data, the way another kind of token might be) is
 * not a confirmation token. */
static void test_confirm_label(void)
{
	const char payload[] = "1000000\nweb\nfriends\nzoe@example.org\n\n\n00";
	unsigned char mac[32];
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, key.key, sizeof key.key, payload, sizeof payload - 1,
			 mac);
	struct buf t = BUF_INIT;
	b64u(&t, (const unsigned char *)payload, sizeof payload - 1);
	buf_addc(&t, '.');
	b64u(&t, mac, 16);
	struct confirm_req got;
	CHECK_INT(confirm_token_parse(&key, t.p, 1000000, &got), CONFIRM_FORGED);
	/* and the encoder above is right: the real token has this payload part */
	char list[] = "friends", addr[] = "zoe@example.org", web[] = "web", none[] = "", h[] = "00";
	struct confirm_req r = {1000000, web, list, addr, none, none, h};
	char *real = confirm_token_make(&key, &r);
	CHECK(real && strncmp(real, t.p, (size_t)(strchr(t.p, '.') - t.p) + 1) == 0);
	free(real);
	buf_free(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_limits(void)
{
	char state[128];
	snprintf(state, sizeof state, "%s/limits", tmpdir);
	struct lb_err err;
	long retry;
	time_t t = 2000000000;
	for (int i = 0; i < SIGNUP_PER_ADDRESS; i++)
		CHECK_INT(
		    signup_ratelimit(state, "Zoe@Example.org", "192.0.2.1", t + i, &retry, &err),
		    0);
	CHECK_INT(signup_ratelimit(state, "zoe@example.org", "192.0.2.2", t + 10, &retry, &err),
		  LB_ETEMP);
	CHECK_INT(retry, 86400 - 10);
	/* a day later the first is forgotten */
	CHECK_INT(signup_ratelimit(state, "zoe@example.org", "192.0.2.2", t + 86400, &retry, &err),
		  0);
	/* per IP: 20 an hour, whatever the addresses */
	int ok = 0;
	for (int i = 0; i < SIGNUP_PER_IP + 5; i++) {
		char a[64];
		snprintf(a, sizeof a, "p%d@example.org", i);
		ok += signup_ratelimit(state, a, "198.51.100.9", t + 100000, &retry, &err) == 0;
	}
	CHECK_INT(ok, SIGNUP_PER_IP);
	CHECK_INT(retry, 3600);
	CHECK_INT(
	    signup_ratelimit(state, "q@example.org", "198.51.100.9", t + 103600, &retry, &err), 0);
	/* in the store, and only the last day's hits kept */
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK_INT(db_get(state, &db, &err), 0);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*), min(at) FROM sup_signup", -1, &st, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	/* zoe's of t + 86400, the 20 addresses of t + 100000 (their IP's hour
	 * is over), q's address and IP */
	CHECK_INT(sqlite3_column_int64(st, 0), 1 + 20 + 2);
	CHECK_INT(sqlite3_column_int64(st, 1), t + 86400);
	sqlite3_finalize(st);
	db_done(true);
}

/* The files of the release before the store, read in by the upgrade as its
 * readers read them. */
static void test_import(void)
{
	char state[128], path[300];
	snprintf(state, sizeof state, "%s/old", tmpdir);
	mkdir(state, 0700);
	snprintf(path, sizeof path, "%s/consent", state);
	write_file(path, "# letterbox consent records: machine-written, append-only, never edit\n"
			 "# confirmed\trequested\tsource\tlist\taddress\tip-request\tip-confirm\t"
			 "consent-sha256\n"
			 "2026-11-25T17:55:00Z\t2026-11-25T17:50:00Z\tweb\tfriends\t"
			 "Zoe@Example.org\t192.0.2.7\t-\t00112233445566778899aabbccddeeff\n"
			 "2026-11-25T18:00:00Z\t2026-11-25T17:59:00Z\tmail\tfriends\t"
			 "bea@example.net\t-\t-\t-\n"
			 "1970-01-12T13:46:40Z\t1970");
	snprintf(path, sizeof path, "%s/signup.limits", state);
	time_t t = 2000000000; /* 2033-05-18T03:33:20Z */
	write_file(path, "# letterbox sign-up limits: machine-written, pruned after a day\n"
			 "2033-05-18T03:00:00Z\ta\tzoe@example.org\n"
			 "2033-05-18T03:10:00Z\ta\tzoe@example.org\n"
			 "2033-05-18T03:20:00Z\ta\tzoe@example.org\n"
			 "not a hit\n");
	struct lb_err err = {0};
	struct consents c;
	CHECK_INT(consents_load(state, &c, &err), 0);
	CHECK_INT(c.n, 2);
	if (c.n == 2) {
		CHECK_STR(c.v[0].address, "Zoe@Example.org");
		CHECK_STR(c.v[0].ip_request, "192.0.2.7");
		CHECK_STR(c.v[0].ip_confirm, "");
		CHECK_INT(c.v[0].confirmed, 1795629300);
		CHECK_INT(c.v[0].requested, 1795629000);
		CHECK_STR(c.v[1].source, "mail");
		CHECK_STR(c.v[1].hash, "");
	}
	consents_free(&c);
	CHECK(!fsx_exists(path)); /* read in: kept as signup.limits.pre-1 */
	/* the three hits of the file count */
	long retry;
	CHECK_INT(signup_ratelimit(state, "zoe@example.org", "", t, &retry, &err), LB_ETEMP);
	CHECK_INT(retry, 86400 - 2000);
	/* the same request as the imported record is known */
	char site[160], lists[200], list[] = "friends", addr[] = "zoe@example.org";
	snprintf(site, sizeof site, "%s/oldsite", tmpdir);
	snprintf(lists, sizeof lists, "%s/subscribers", site);
	mkdir(site, 0700);
	mkdir(lists, 0700);
	snprintf(path, sizeof path, "%s/friends.yaml", lists);
	write_file(path, "subscribers:\n  - zoe@example.org\n");
	struct confirm_req r = req(1795629000, list, addr);
	struct signup_result res;
	CHECK_INT(signup_confirm(site, state, &r, "", 1795629600, &res, &err), 0);
	CHECK(!res.added && !res.recorded);
	db_done(true);
}

static void test_confirm(void)
{
	char site[128], state[160], lists[160], path[200];
	snprintf(site, sizeof site, "%s/site", tmpdir);
	snprintf(state, sizeof state, "%s/state", site);
	snprintf(lists, sizeof lists, "%s/subscribers", site);
	snprintf(path, sizeof path, "%s/friends.yaml", lists);
	mkdir(site, 0700);
	mkdir(lists, 0700);
	write_file(path, "# our friends\nname: Friends\npublic: true\nsubscribers:\n"
			 "  - ada@example.org   # the first\n");
	struct lb_err err;
	struct sublist l;
	CHECK_INT(sublist_load(path, &l, NULL, NULL, &err), 0);
	CHECK(l.public);
	sublist_free(&l);

	char list[] = "friends", addr[] = "zoe@example.org";
	struct confirm_req r = req(1000000, list, addr);
	struct signup_result res;
	CHECK_INT(signup_confirm(site, state, &r, "192.0.2.8", 1000100, &res, &err), 0);
	CHECK(res.added && res.recorded && !res.resubscribed);
	struct buf text = BUF_INIT;
	fsx_read(path, &text, 0, &err);
	CHECK(strstr(text.p, "# our friends\n") && strstr(text.p, "# the first\n") &&
	      strstr(text.p, "  - email: zoe@example.org\n    name: Zoë Quinn\n"));
	/* the same request again: nothing new */
	CHECK_INT(signup_confirm(site, state, &r, "192.0.2.8", 1000200, &res, &err), 0);
	CHECK(!res.added && !res.recorded && !res.resubscribed);
	struct consents c;
	CHECK_INT(consents_load(state, &c, &err), 0);
	CHECK_INT(c.n, 1);
	if (c.n) {
		CHECK_INT(c.v[0].requested, 1000000);
		CHECK_INT(c.v[0].confirmed, 1000100);
		CHECK_STR(c.v[0].ip_request, "192.0.2.7");
		CHECK_STR(c.v[0].ip_confirm, "192.0.2.8");
		CHECK_STR(c.v[0].hash, "00112233445566778899aabbccddeeff");
		CHECK_STR(c.v[0].source, "web");
	}
	consents_free(&c);
	/* a suppressed subscriber: lifted, not added twice, a second record */
	struct suppressions *sup;
	CHECK_INT(suppressions_load(state, &sup, &err), 0);
	CHECK_INT(suppressions_add(sup, "ada@example.org", SUP_UNSUBSCRIBED, 1000300, "test", &err),
		  0);
	suppressions_free(sup);
	char ada[] = "ADA@example.org";
	struct confirm_req r2 = req(1000400, list, ada);
	CHECK_INT(signup_confirm(site, state, &r2, "", 1000500, &res, &err), 0);
	CHECK(!res.added && res.resubscribed && res.recorded);
	CHECK_INT(suppressions_load(state, &sup, &err), 0);
	CHECK_INT(suppressions_check(sup, "ada@example.org"), SUP_NONE);
	suppressions_free(sup);
	CHECK_INT(consents_load(state, &c, &err), 0);
	CHECK_INT(c.n, 2);
	if (c.n == 2)
		CHECK_STR(c.v[1].ip_confirm, "");
	consents_free(&c);
	/* a list name that is not one */
	char evil[] = "../letterbox";
	struct confirm_req r3 = req(1000000, evil, addr);
	CHECK_INT(signup_confirm(site, state, &r3, "", 1000500, &res, &err), LB_EDATA);
	buf_free(&text);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/lbsignup.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	for (int i = 0; i < SECRET_LEN; i++)
		key.key[i] = (unsigned char)(i * 7);
	RUN(test_confirm_tokens);
	RUN(test_confirm_label);
	RUN(test_limits);
	RUN(test_confirm);
	RUN(test_import);
	db_done(true);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("signup");
}
