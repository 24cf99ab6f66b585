/* The SMTP transport's pure parts: the rate limiter, reply parsing, the
 * outcome classification, loopback URLs, password files and the checks
 * transport_open makes before connecting anywhere; and its worker threads
 * against servers that never get as far as a greeting (the protocol itself
 * is tests/e2e/test_smtp_transport.sh). */
#include "deliver/ratelimit.h"
#include "deliver/smtp.h"
#include "deliver/transport.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsx.h"
#include "harness.h"

/* endpoint's strings are not const (config owns them); ours are literals. */
static char *mut(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* ---- rate limiter --------------------------------------------------------------------------- */

static void test_ratelimit_unlimited(void)
{
	struct ratelimit rl;
	ratelimit_init(&rl, 0, 100);
	CHECK_INT(ratelimit_available(&rl, 100, 99), 99);
	CHECK_INT(ratelimit_wait_ms(&rl, 100), -1);
	for (int i = 0; i < 1000; i++)
		ratelimit_take(&rl, 100);
	CHECK_INT(ratelimit_available(&rl, 100, 99), 99);
}

static void test_ratelimit_bucket(void)
{
	struct ratelimit rl;
	ratelimit_init(&rl, 10, 100); /* 10/s: a burst of one */
	CHECK_INT(ratelimit_available(&rl, 100, 99), 1);
	ratelimit_take(&rl, 100);
	CHECK_INT(ratelimit_available(&rl, 100, 99), 0);
	long ms = ratelimit_wait_ms(&rl, 100);
	CHECK(ms >= 100 && ms <= 101);
	CHECK_INT(ratelimit_available(&rl, 100.05, 99), 0);
	CHECK_INT(ratelimit_available(&rl, 100.1001, 99), 1);
	/* Idle time does not pile up more than the burst. */
	CHECK_INT(ratelimit_available(&rl, 200, 99), 1);

	ratelimit_init(&rl, 1000, 0); /* 1000/s: bursts of 50 */
	CHECK_INT(ratelimit_available(&rl, 0, 9999), 50);
	for (int i = 0; i < 50; i++)
		ratelimit_take(&rl, 0);
	CHECK_INT(ratelimit_available(&rl, 0, 9999), 0);
	CHECK_INT(ratelimit_available(&rl, 0.010, 9999), 10);

	/* Over a simulated second at most rate + burst messages start. */
	ratelimit_init(&rl, 20, 0);
	int started = 0;
	for (double t = 0; t < 1.0; t += 0.001)
		while (ratelimit_available(&rl, t, 99) > 0) {
			ratelimit_take(&rl, t);
			started++;
		}
	CHECK(started >= 19 && started <= 21);
}

static void test_ratelimit_slow_down(void)
{
	struct ratelimit rl;
	ratelimit_init(&rl, 10, 0);
	ratelimit_slow_down(&rl, 0);
	CHECK(rl.eff == 5);
	ratelimit_slow_down(&rl, 0.5); /* the same burst of refusals: once */
	CHECK(rl.eff == 5);
	ratelimit_slow_down(&rl, 1.5);
	CHECK(rl.eff == 2.5);
	/* No recovery while the server keeps refusing... */
	ratelimit_available(&rl, 2.0, 99);
	CHECK(rl.eff == 2.5);
	/* ...then slowly, never past the configured rate. */
	ratelimit_available(&rl, 3.0, 99);
	CHECK(rl.eff > 2.5 && rl.eff < 3);
	for (double t = 3; t < 60; t += 0.5)
		ratelimit_available(&rl, t, 99);
	CHECK(rl.eff == 10);
	/* Never below the floor. */
	for (int i = 0; i < 20; i++)
		ratelimit_slow_down(&rl, 100 + 2 * i);
	CHECK(rl.eff == RATELIMIT_MIN);
	CHECK_INT(ratelimit_available(&rl, 140, 99), 1);
	ratelimit_take(&rl, 140);
	CHECK(ratelimit_wait_ms(&rl, 140) >= 4000); /* about one every five seconds */
}

static void test_ratelimit_unlimited_slow_down(void)
{
	struct ratelimit rl;
	ratelimit_init(&rl, 0, 0);
	/* 400 messages in the first second, then 100 in half a second. */
	for (int i = 0; i < 400; i++)
		ratelimit_done(&rl, i / 400.0);
	for (int i = 0; i < 100; i++)
		ratelimit_done(&rl, 1.0 + i / 200.0);
	ratelimit_slow_down(&rl, 1.5);
	CHECK(rl.eff >= 100 && rl.eff <= 200); /* about half of 200-400/s */
	CHECK_INT(ratelimit_available(&rl, 1.5, 9999), 0);
	CHECK(ratelimit_wait_ms(&rl, 1.5) > 0);
	/* Calm: back to unlimited in a while. */
	unsigned avail = 0;
	for (double t = 1.5; t < 30; t += 0.1)
		avail = ratelimit_available(&rl, t, 9999);
	CHECK_INT(avail, 9999);
	CHECK_INT(ratelimit_wait_ms(&rl, 30), -1);

	/* A refusal before anything completed still slows down. */
	ratelimit_init(&rl, 0, 0);
	ratelimit_slow_down(&rl, 0.1);
	CHECK(rl.eff >= RATELIMIT_MIN && rl.eff <= 2);
}

/* ---- replies ----------------------------------------------------------------------------------
 */

static void test_reply_single(void)
{
	struct smtp_reply r;
	smtp_reply_reset(&r);
	CHECK_INT(r.code, 0);
	CHECK_INT(smtp_reply_line(&r, "250 2.1.5 Ok\r\n", 14), 250);
	CHECK_INT(r.code, 250);
	CHECK_STR(r.status, "2.1.5");
	CHECK_STR(r.text, "250 2.1.5 Ok");
	CHECK_INT(smtp_reply_line(&r, "354 End data with <CR><LF>.<CR><LF>\r\n", 38), 354);
	CHECK_STR(r.status, "");
	CHECK_STR(r.text, "354 End data with <CR><LF>.<CR><LF>");
	CHECK_INT(smtp_reply_line(&r, "250", 3), 250);
	CHECK_STR(r.text, "250");
}

static void test_reply_multiline(void)
{
	struct smtp_reply r;
	smtp_reply_reset(&r);
	const char *lines[] = {"550-5.1.1 The email account that you tried to reach does\r\n",
			       "550-5.1.1 not exist.\r\n",
			       "550 5.1.1  https://example.org/nosuchuser\r\n"};
	CHECK_INT(smtp_reply_line(&r, lines[0], strlen(lines[0])), 0);
	CHECK_INT(r.code, 0); /* not complete yet */
	CHECK_INT(smtp_reply_line(&r, lines[1], strlen(lines[1])), 0);
	CHECK_INT(smtp_reply_line(&r, lines[2], strlen(lines[2])), 550);
	CHECK_STR(r.status, "5.1.1");
	CHECK_STR(r.text, "550 5.1.1 The email account that you tried to reach does not exist. "
			  "https://example.org/nosuchuser");
	/* A complete reply stays until the next one completes. */
	CHECK_INT(smtp_reply_line(&r, "250-first\r\n", 11), 0);
	CHECK_INT(r.code, 550);
	CHECK_INT(smtp_reply_line(&r, "250 last\r\n", 10), 250);
	CHECK_STR(r.text, "250 first last");
}

/* Lines that are not SMTP: SMTP_REPLY_MALFORMED, the line in r.bad, and
 * the last complete reply kept (the caller ends the connection). */
static void test_reply_malformed(void)
{
	static const char *const bad[] = {
	    "hello\r\n", /* no code */
	    "Recipient looks fine to me\r\n",
	    "25\r\n",		   /* too short */
	    "\r\n",		   /* blank */
	    "250x\r\n",		   /* no separator */
	    "2500 Ok\r\n",	   /* four digits */
	    "250\tOk\r\n",	   /* a tab is not the separator */
	    "650 no\r\n",	   /* no such class */
	    "150 preliminary\r\n", /* not in SMTP */
	    "05 0 x\r\n",
	    " 250 Ok\r\n", /* leading space */
	    "2\x00"
	    "50 Ok\r\n", /* a NUL among the digits (9 bytes) */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct smtp_reply r;
		smtp_reply_reset(&r);
		CHECK_INT(smtp_reply_line(&r, "250 2.1.0 Ok\r\n", 14), 250);
		size_t n = i == sizeof bad / sizeof bad[0] - 1 ? 9 : strlen(bad[i]);
		int got = smtp_reply_line(&r, bad[i], n);
		if (!CHECK(got == SMTP_REPLY_MALFORMED))
			fprintf(stderr, "    line %zu: got %d\n", i, got);
		CHECK_INT(r.code, 250);
		CHECK_STR(r.text, "250 2.1.0 Ok");
		CHECK(i == 3 || r.bad[0] != '\0');
	}
	struct smtp_reply r;
	smtp_reply_reset(&r);
	CHECK_INT(smtp_reply_line(&r, "Recipient looks fine to me\r\n", 28), SMTP_REPLY_MALFORMED);
	CHECK_STR(r.bad, "Recipient looks fine to me");
	CHECK_INT(r.code, 0);
	/* The lines of one reply disagree on the code: neither can be trusted
	 * (the newer code winning would fail a recipient the server took). */
	smtp_reply_reset(&r);
	CHECK_INT(smtp_reply_line(&r, "250-2.1.5 Ok\r\n", 14), 0);
	CHECK_INT(smtp_reply_line(&r, "550 5.1.1 no such user\r\n", 24), SMTP_REPLY_MALFORMED);
	CHECK_INT(r.code, 0);
	CHECK_STR(r.bad, "550 5.1.1 no such user (after 250- lines)");
	/* A garbage line in the middle of a multi-line reply. */
	smtp_reply_reset(&r);
	CHECK_INT(smtp_reply_line(&r, "250-faultsmtp\r\n", 15), 0);
	CHECK_INT(smtp_reply_line(&r, "PIPELINING\r\n", 12), SMTP_REPLY_MALFORMED);
	/* After it the parser starts over: a valid reply parses (the caller
	 * does not go on, but the state must stay sane). */
	CHECK_INT(smtp_reply_line(&r, "250 Ok\r\n", 8), 250);
	CHECK_STR(r.text, "250 Ok");
	/* Control characters in a bad line are blanked, and a long one cut. */
	char longbad[300];
	memset(longbad, 'x', sizeof longbad);
	longbad[5] = '\x1b';
	CHECK_INT(smtp_reply_line(&r, longbad, sizeof longbad), SMTP_REPLY_MALFORMED);
	CHECK_INT(strlen(r.bad), sizeof r.bad - 1);
	CHECK(strchr(r.bad, '\x1b') == NULL);
	/* Valid all the same: the code alone, and any text after the separator. */
	CHECK_INT(smtp_reply_line(&r, "354\r\n", 5), 354);
	CHECK_INT(smtp_reply_line(&r, "250-\r\n", 6), 0);
	CHECK_INT(smtp_reply_line(&r, "250 \r\n", 6), 250);
}

/* Dot-stuffing: a '.' doubled at every line start, across iovec boundaries
 * too, and a CRLF added when the message does not end with one. */
static void stuffed(const char *const *parts, size_t n, const char *want)
{
	struct iovec iov[4];
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){(void *)(uintptr_t)parts[i], strlen(parts[i])};
		size += iov[i].iov_len;
	}
	struct message m = {.iov = iov, .niov = n, .size = size};
	struct buf out = BUF_INIT;
	smtp_stuff(&m, &out);
	if (!CHECK(out.n == strlen(want) && memcmp(out.p, want, out.n) == 0))
		fprintf(stderr, "    got '%.*s'\n", (int)out.n, out.p);
	buf_free(&out);
}

static void test_stuff(void)
{
	stuffed((const char *const[]){"a\r\n.b\r\n..c\r\nd.\r\n"}, 1, "a\r\n..b\r\n...c\r\nd.\r\n");
	stuffed((const char *const[]){".first\r\n"}, 1, "..first\r\n");
	/* a line start at an iovec boundary, and one in the middle of a line */
	stuffed((const char *const[]){"a\r\n", ".b", ".c\r\n", "."}, 4, "a\r\n..b.c\r\n..\r\n");
	stuffed((const char *const[]){"no final line break"}, 1, "no final line break\r\n");
	stuffed((const char *const[]){""}, 1, "\r\n");
	stuffed((const char *const[]){"x\r\n", ""}, 2, "x\r\n");
}

static void test_reply_odd(void)
{
	struct smtp_reply r;
	smtp_reply_reset(&r);
	/* The status must match the reply's class and have the right shape. */
	CHECK_INT(smtp_reply_line(&r, "550 4.1.1 odd\r\n", 15), 550);
	CHECK_STR(r.status, "");
	CHECK_STR(r.text, "550 4.1.1 odd");
	smtp_reply_line(&r, "451 4.7.650 x\r\n", 15);
	CHECK_STR(r.status, "4.7.650");
	smtp_reply_line(&r, "451 4.7.6500 x\r\n", 16);
	CHECK_STR(r.status, "");
	smtp_reply_line(&r, "451 4.7 x\r\n", 11);
	CHECK_STR(r.status, "");
	smtp_reply_line(&r, "451 4.7.1\r\n", 11);
	CHECK_STR(r.status, "4.7.1");
	/* Control characters dropped, non-ASCII replaced. */
	const char odd[] = "554 5.7.1 bad\x01\x1b[31m \xc3\xa9t\xc3\xa9\r\n";
	smtp_reply_line(&r, odd, sizeof odd - 1);
	CHECK_STR(r.text, "554 5.7.1 bad[31m ??t??");
	/* A long reply is cut, not overflowed. */
	char longline[600];
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "250 ", 4);
	CHECK_INT(smtp_reply_line(&r, longline, sizeof longline), 250);
	CHECK_INT(strlen(r.text), sizeof r.text - 1);
}

/* ---- classification ----------------------------------------------------------------------------
 */

static void test_classify(void)
{
	static const struct {
		CURLcode rc;
		int reply;
		bool new_conn, complete;
		enum smtp_verdict v;
		enum outcome_kind kind;
	} cases[] = {
	    {CURLE_OK, 250, false, true, SMTP_FINAL, OUT_SENT},
	    {CURLE_SEND_ERROR, 451, false, false, SMTP_FINAL, OUT_DEFERRED},
	    {CURLE_SEND_ERROR, 452, true, false, SMTP_FINAL, OUT_DEFERRED},
	    {CURLE_SEND_ERROR, 550, false, false, SMTP_FINAL, OUT_FAILED},
	    {CURLE_SEND_ERROR, 552, false, false, SMTP_FINAL, OUT_FAILED},
	    /* the final reply after the data: curl calls it a weird reply */
	    {CURLE_WEIRD_SERVER_REPLY, 554, true, true, SMTP_FINAL, OUT_FAILED},
	    {CURLE_WEIRD_SERVER_REPLY, 451, false, true, SMTP_FINAL, OUT_DEFERRED},
	    /* dropped after the data, before the reply */
	    {CURLE_RECV_ERROR, 354, false, true, SMTP_FINAL, OUT_UNCERTAIN},
	    {CURLE_OPERATION_TIMEDOUT, 354, true, true, SMTP_FINAL, OUT_UNCERTAIN},
	    {CURLE_GOT_NOTHING, 354, false, true, SMTP_FINAL, OUT_UNCERTAIN},
	    /* dropped before the data was complete */
	    {CURLE_RECV_ERROR, 354, false, false, SMTP_RETRY, OUT_NOT_SENT},
	    {CURLE_SEND_ERROR, 250, false, false, SMTP_RETRY, OUT_NOT_SENT},
	    {CURLE_RECV_ERROR, 0, false, false, SMTP_RETRY, OUT_NOT_SENT},
	    {CURLE_OPERATION_TIMEDOUT, 250, false, false, SMTP_RETRY, OUT_NOT_SENT},
	    /* slow down, wherever it came */
	    {CURLE_SEND_ERROR, 421, false, false, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    {CURLE_WEIRD_SERVER_REPLY, 421, true, false, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    {CURLE_WEIRD_SERVER_REPLY, 421, false, true, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    {CURLE_SEND_ERROR, 454, false, false, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    {CURLE_LOGIN_DENIED, 454, true, false, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    {CURLE_USE_SSL_FAILED, 454, true, false, SMTP_SLOW_DOWN, OUT_NOT_SENT},
	    /* the campaign cannot go on */
	    {CURLE_COULDNT_CONNECT, 0, false, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_COULDNT_RESOLVE_HOST, 0, false, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_SSL_CONNECT_ERROR, 220, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_USE_SSL_FAILED, 250, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_PEER_FAILED_VERIFICATION, 220, true, false, SMTP_STOP_CONFIG, OUT_NOT_SENT},
	    {CURLE_SSL_CACERT_BADFILE, 0, true, false, SMTP_STOP_CONFIG, OUT_NOT_SENT},
	    {CURLE_LOGIN_DENIED, 535, true, false, SMTP_STOP_CONFIG, OUT_NOT_SENT},
	    {CURLE_SEND_ERROR, 530, false, false, SMTP_STOP_CONFIG, OUT_NOT_SENT},
	    {CURLE_WEIRD_SERVER_REPLY, 554, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_REMOTE_ACCESS_DENIED, 550, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_OPERATION_TIMEDOUT, 0, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    {CURLE_GOT_NOTHING, 0, true, false, SMTP_STOP_UNAVAIL, OUT_NOT_SENT},
	    /* a confused reused session: a new one may do better */
	    {CURLE_WEIRD_SERVER_REPLY, 0, false, false, SMTP_RETRY, OUT_NOT_SENT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct smtp_finish f = {cases[i].rc, cases[i].reply, cases[i].new_conn,
					cases[i].complete};
		enum outcome_kind kind = (enum outcome_kind) - 1;
		enum smtp_verdict v = smtp_classify(&f, &kind);
		if (!CHECK(v == cases[i].v && kind == cases[i].kind))
			fprintf(stderr, "    case %zu: curl %d reply %d: verdict %d kind %d\n", i,
				(int)cases[i].rc, cases[i].reply, (int)v, (int)kind);
	}
	/* MAIL FROM refused: for good, it stops the campaign (nobody is marked
	 * failed); for now, it defers this message like any 4xx. */
	enum outcome_kind kind;
	struct smtp_finish f = {CURLE_SEND_ERROR, 553, false, false, .sender_refused = true};
	CHECK(smtp_classify(&f, &kind) == SMTP_STOP_CONFIG && kind == OUT_NOT_SENT);
	f.reply = 451;
	CHECK(smtp_classify(&f, &kind) == SMTP_FINAL && kind == OUT_DEFERRED);
	f.reply = 550;
	f.sender_refused = false;
	CHECK(smtp_classify(&f, &kind) == SMTP_FINAL && kind == OUT_FAILED);

	/* A reply that is not SMTP: the message goes again on a new
	 * connection; the reply before it (to MAIL FROM, say) is no verdict. */
	f = (struct smtp_finish){CURLE_WEIRD_SERVER_REPLY, 250, true, false, .malformed = true};
	CHECK(smtp_classify(&f, &kind) == SMTP_RETRY && kind == OUT_NOT_SENT);
	f.reply = 550;
	f.new_conn = false;
	CHECK(smtp_classify(&f, &kind) == SMTP_RETRY && kind == OUT_NOT_SENT);
	f.reply = 421;
	CHECK(smtp_classify(&f, &kind) == SMTP_RETRY && kind == OUT_NOT_SENT);
	/* ... after its final ".": uncertain. */
	f = (struct smtp_finish){CURLE_WEIRD_SERVER_REPLY, 354, false, true, .malformed = true};
	CHECK(smtp_classify(&f, &kind) == SMTP_FINAL && kind == OUT_UNCERTAIN);
	/* ... at the greeting or EHLO (curl's part): every connection would
	 * meet it, the campaign stops. */
	f = (struct smtp_finish){CURLE_WRITE_ERROR, 220, true, false, .malformed = true,
				 .opening = true};
	CHECK(smtp_classify(&f, &kind) == SMTP_STOP_UNAVAIL && kind == OUT_NOT_SENT);
	f.reply = 0;
	CHECK(smtp_classify(&f, &kind) == SMTP_STOP_UNAVAIL && kind == OUT_NOT_SENT);
}

/* ---- URLs
 * ---------------------------------------------------------------------------------------- */

static void test_loopback(void)
{
	static const struct {
		const char *url;
		bool loop;
	} cases[] = {
	    {"smtp://127.0.0.1:2525", true},
	    {"smtp://127.0.0.1", true},
	    {"smtps://127.1.2.3:465", true},
	    {"smtp://localhost:25", true},
	    {"smtp://LocalHost.:25", true},
	    {"smtp://[::1]:25", true},
	    {"smtp://[::ffff:127.0.0.1]:25", true},
	    {"smtp://127.1:25", true}, /* curl normalises it to 127.0.0.1 */
	    {"smtp://mail.example.org:587", false},
	    {"smtp://128.0.0.1", false},
	    {"smtp://10.0.0.1", false},
	    {"smtp://127.0.0.1.example.org", false},
	    {"smtp://localhost.example.org", false},
	    {"smtp://mylocalhost", false},
	    {"smtp://[::2]:25", false},
	    {"smtp://[fe80::1]", false},
	    {"maildir:outbox", false},
	    {"", false},
	    {"not a url", false},
	    /* the plain forms answered without libcurl, and their near misses */
	    {"http://127.0.0.1:8080/news", true},
	    {"http://localhost:8080/news/", true},
	    {"https://127.9.8.7/a-b_c.d~e/", true},
	    {"imaps://localhost", true},
	    {"http://127.0.0.1/a@evil.example", true},
	    {"http://127.0.0.1@evil.example/", false},
	    {"http://127.0.0.1:80@evil.example/", false},
	    {"http://127.0.0.1.evil.example/", false},
	    {"http://127.0.0.1:99999/news", false},
	    {"http://127.0.0.1 /news", false},
	    {"foo://127.0.0.1/", false},
	    {"http://localhostx/", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!CHECK(url_host_is_loopback(cases[i].url) == cases[i].loop))
			fprintf(stderr, "    %s\n", cases[i].url);
}

/* ---- passwords ----------------------------------------------------------------------------------
 */

static char tmpdir[] = "/tmp/lbtest_smtp.XXXXXX";

static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = path_join(tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static int password(const char *file, const char *env, char **out, struct lb_err *err)
{
	struct endpoint ep = {.password_file = mut(file), .password_env = mut(env)};
	return endpoint_password(&ep, tmpdir, out, err);
}

static void test_password_file(void)
{
	struct lb_err err = {0};
	char *pw = NULL;
	char *p;

	free(write_file("pw", "s3cret pass\n", 0600));
	CHECK_INT(password("pw", NULL, &pw, &err), 0);
	CHECK_STR(pw, "s3cret pass");
	free(pw);

	p = write_file("pw_abs", "crlf\r\n", 0400);
	CHECK_INT(password(p, NULL, &pw, &err), 0); /* absolute path, read-only */
	CHECK_STR(pw, "crlf");
	free(pw);
	free(p);

	free(write_file("pw_open", "secret\n", 0644));
	pw = NULL;
	CHECK_INT(password("pw_open", NULL, &pw, &err), LB_ECONFIG);
	CHECK(pw == NULL);
	CHECK(strstr(err.msg, "pw_open") && strstr(err.msg, "0644"));
	CHECK(!strstr(err.msg, "secret"));

	free(write_file("pw_group", "secret\n", 0640));
	CHECK_INT(password("pw_group", NULL, &pw, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "0640") != NULL);

	free(write_file("pw_empty", "\n", 0600));
	CHECK_INT(password("pw_empty", NULL, &pw, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "empty") != NULL);

	free(write_file("pw_lines", "alpha\nbeta\n", 0600));
	CHECK_INT(password("pw_lines", NULL, &pw, &err), LB_ECONFIG);
	CHECK(!strstr(err.msg, "alpha") && !strstr(err.msg, "beta"));

	CHECK_INT(password("pw_missing", NULL, &pw, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "pw_missing") != NULL);

	char *target = path_join(tmpdir, "pw");
	char *link = path_join(tmpdir, "pw_link");
	CHECK_INT(symlink(target, link), 0);
	CHECK_INT(password("pw_link", NULL, &pw, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	free(target);
	free(link);

	CHECK_INT(password(".", NULL, &pw, &err), LB_ECONFIG); /* a directory */
}

static void test_password_env(void)
{
	struct lb_err err = {0};
	char *pw = mut("junk");
	CHECK_INT(password(NULL, NULL, &pw, &err), 0);
	CHECK(pw == NULL);

	setenv("LB_TEST_SMTP_PW", "from env", 1);
	CHECK_INT(password(NULL, "LB_TEST_SMTP_PW", &pw, &err), 0);
	CHECK_STR(pw, "from env");
	free(pw);

	unsetenv("LB_TEST_SMTP_PW");
	CHECK_INT(password(NULL, "LB_TEST_SMTP_PW", &pw, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "LB_TEST_SMTP_PW") != NULL);
	setenv("LB_TEST_SMTP_PW", "", 1);
	CHECK_INT(password(NULL, "LB_TEST_SMTP_PW", &pw, &err), LB_ECONFIG);
	unsetenv("LB_TEST_SMTP_PW");
}

/* ---- transport_open: everything it refuses before connecting ----------------------------------
 */

static int open_ep(struct endpoint *ep, struct lb_err *err)
{
	struct transport_opts o = {.ep = ep, .site_dir = tmpdir, .timeout_s = 5};
	struct transport *t = (struct transport *)&o; /* must be reset */
	int rc = transport_open(&o, &t, err);
	CHECK(rc ? t == NULL : t != NULL);
	if (t) {
		CHECK_INT(transport_busy(t), 0);
		/* one message being sent and one queued, per connection */
		CHECK(transport_capacity(t) == 2 * (size_t)ep->connections);
	}
	transport_close(t);
	return rc;
}

static void test_open(void)
{
	struct lb_err err = {0};
	free(write_file("ca.pem", "not really a certificate\n", 0644));
	struct endpoint ep = {.url = mut("smtp://127.0.0.1:1"), .connections = 3};
	CHECK_INT(open_ep(&ep, &err), 0);
	/* smtp:// to a real host is STARTTLS, not an error */
	ep.url = mut("smtp://mail.example.org:587");
	CHECK_INT(open_ep(&ep, &err), 0);
	ep.url = mut("smtps://mail.example.org");
	ep.ca_file = mut("ca.pem");
	CHECK_INT(open_ep(&ep, &err), 0);

	ep.ca_file = mut("missing-ca.pem");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "missing-ca.pem") != NULL);
	ep.ca_file = NULL;

	ep.url = mut("smtps://user:secret@mail.example.org");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);
	CHECK(!strstr(err.msg, "secret"));
	ep.url = mut("imap://mail.example.org");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);
	ep.url = mut("smtp://");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);

	ep.url = mut("smtps://mail.example.org");
	ep.username = mut("news");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG); /* a username, no password */
	ep.password_file = mut("pw");
	CHECK_INT(open_ep(&ep, &err), 0);
	ep.password_file = mut("pw_open");
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "0644") != NULL);
	ep.password_file = mut("pw");
	ep.username = NULL;
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG); /* a password, no username */

	/* No password in clear text over the network; loopback is fine. */
	ep.username = mut("news");
	ep.url = mut("smtp://mail.example.org:25");
	ep.tls = TLS_NONE;
	CHECK_INT(open_ep(&ep, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "clear text") != NULL);
	ep.url = mut("smtp://127.0.0.1:25");
	CHECK_INT(open_ep(&ep, &err), 0);
	ep.username = NULL;
	ep.password_file = NULL;
	ep.url = mut("smtp://mail.example.org:25");
	CHECK_INT(open_ep(&ep, &err), 0); /* tls: none, no password: the user's choice */
}

/* ---- worker threads: stop and close without a cooperating server ------------------------------
 */

enum { NJOBS = 6 };

struct jobs {
	struct message msg;
	struct iovec iov;
	struct tx_job job[NJOBS];
	size_t submitted;
	unsigned done[NJOBS]; /* completions per job: must end up 1 each */
	size_t kinds[OUT_NOT_SENT + 1];
};

static void jobs_init(struct jobs *j)
{
	static char body[] = "Subject: test\r\n\r\nHello.\r\n";
	memset(j, 0, sizeof *j);
	j->iov = (struct iovec){body, sizeof body - 1};
	j->msg.iov = &j->iov;
	j->msg.niov = 1;
	j->msg.size = j->iov.iov_len;
	for (size_t i = 0; i < NJOBS; i++)
		j->job[i] = (struct tx_job){&j->msg, "news@example.org", "rcpt@example.net",
					    (void *)(uintptr_t)i};
}

static void jobs_done(void *ctx, struct tx_job *job, const struct outcome *o)
{
	struct jobs *j = ctx;
	j->done[(uintptr_t)job->user]++;
	j->kinds[o->kind]++;
}

static void jobs_submit(struct jobs *j, struct transport *t)
{
	while (j->submitted < NJOBS && transport_capacity(t) > 0)
		transport_submit(t, &j->job[j->submitted++]);
}

/* A TCP socket bound to 127.0.0.1, listening or not (then connecting to it
 * is refused); its URL in url. */
static int loopback_socket(bool listening, char *url, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	if (!CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, n) == 0 &&
		   getsockname(fd, (struct sockaddr *)&a, &n) == 0 &&
		   (!listening || listen(fd, 16) == 0)))
		return -1;
	snprintf(url, cap, "smtp://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	return fd;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Connection refused: the campaign stops with LB_EUNAVAIL, and every job
 * handed over (the queued ones too) comes back exactly once, not sent. */
static void test_stop_refused(void)
{
	static struct jobs j;
	char url[64];
	int fd = loopback_socket(false, url, sizeof url);
	struct endpoint ep = {.url = url, .connections = 2};
	struct transport_opts o = {.ep = &ep, .site_dir = tmpdir, .timeout_s = 5};
	struct transport *t = NULL;
	struct lb_err err = {0};
	jobs_init(&j);
	int rc = transport_open(&o, &t, &err);
	CHECK_INT(rc, 0);
	for (int round = 0; rc == 0 && round < 50; round++) {
		jobs_submit(&j, t);
		rc = transport_wait(t, 1000, -1, jobs_done, &j, &err);
	}
	CHECK_INT(rc, LB_EUNAVAIL);
	CHECK(strstr(err.msg, "cannot connect") != NULL);
	CHECK(j.submitted >= 2);
	for (size_t i = 0; i < j.submitted; i++)
		CHECK_INT(j.done[i], 1);
	CHECK_INT(j.kinds[OUT_NOT_SENT], j.submitted);
	CHECK_INT(transport_busy(t), 0);
	CHECK_INT(transport_capacity(t), 0);
	/* Stopped for good: later waits say so again, and complete nothing. */
	CHECK_INT(transport_wait(t, 10, -1, jobs_done, &j, &err), LB_EUNAVAIL);
	CHECK_INT(j.kinds[OUT_NOT_SENT], j.submitted);
	transport_close(t);
	close(fd);
}

/* A server that accepts connections and never says a word: closing with
 * jobs in flight aborts them promptly (the progress callback, about once a
 * second), joins the workers, and calls no on_done. */
static void test_close_in_flight(void)
{
	static struct jobs j;
	char url[64];
	int fd = loopback_socket(true, url, sizeof url);
	struct endpoint ep = {.url = url, .connections = 2};
	struct transport_opts o = {.ep = &ep, .site_dir = tmpdir, .timeout_s = 30};
	struct transport *t = NULL;
	struct lb_err err = {0};
	jobs_init(&j);
	CHECK_INT(transport_open(&o, &t, &err), 0);
	jobs_submit(&j, t);
	CHECK_INT(j.submitted, 4); /* two connections: one sending and one queued each */
	CHECK_INT(transport_capacity(t), 0);
	CHECK_INT(transport_wait(t, 200, -1, jobs_done, &j, &err), 0);
	CHECK_INT(transport_busy(t), 4);
	double t0 = seconds();
	transport_close(t);
	CHECK(seconds() - t0 < 5);
	for (size_t i = 0; i < NJOBS; i++)
		CHECK_INT(j.done[i], 0);
	close(fd);
}

static void cleanup(void)
{
	static const char *const names[] = {"pw",	"pw_abs",   "pw_open", "pw_group",
					    "pw_empty", "pw_lines", "pw_link", "ca.pem"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *p = path_join(tmpdir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(tmpdir);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_ratelimit_unlimited);
	RUN(test_ratelimit_bucket);
	RUN(test_ratelimit_slow_down);
	RUN(test_ratelimit_unlimited_slow_down);
	RUN(test_reply_single);
	RUN(test_reply_multiline);
	RUN(test_reply_odd);
	RUN(test_reply_malformed);
	RUN(test_stuff);
	RUN(test_classify);
	RUN(test_loopback);
	RUN(test_password_file);
	RUN(test_password_env);
	RUN(test_open);
	RUN(test_stop_refused);
	RUN(test_close_in_flight);
	cleanup();
	return harness_done("smtp");
}
