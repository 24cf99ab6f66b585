#include "receive/source.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "harness.h"
#include "receive/mutf7.h"

/* ---- IMAP URLs ---- */

static void test_url_ok(void)
{
	static const struct {
		const char *url;
		bool tls;
		const char *host;
		unsigned port;
		const char *mailbox;
	} cases[] = {
	    {"imaps://mail.example.org", true, "mail.example.org", 993, "INBOX"},
	    {"imaps://mail.example.org/", true, "mail.example.org", 993, "INBOX"},
	    {"imap://127.0.0.1/INBOX", false, "127.0.0.1", 143, "INBOX"},
	    {"imaps://mail.example.org:9993/Replies", true, "mail.example.org", 9993, "Replies"},
	    {"imap://localhost:1143/Archive%2F2024", false, "localhost", 1143, "Archive/2024"},
	    {"imaps://h/Lists/Letterbox/", true, "h", 993, "Lists/Letterbox"},
	    {"imaps://h/My%20Mail", true, "h", 993, "My Mail"},
	    {"imaps://h/a%3Bb", true, "h", 993, "a;b"},
	    {"IMAPS://Mail.Example.ORG/INBOX", true, "Mail.Example.ORG", 993, "INBOX"},
	    {"imaps://[::1]:9993/INBOX", true, "::1", 9993, "INBOX"},
	    /* curl's normalisation, the same url_host_is_loopback() judges */
	    {"imap://127.1/", false, "127.0.0.1", 143, "INBOX"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct imap_url u;
		struct lb_err err = {0};
		int rc = imap_url_parse(cases[i].url, &u, &err);
		CHECK_INT(rc, 0);
		if (rc) {
			fprintf(stderr, "    %s: %s\n", cases[i].url, err.msg);
			continue;
		}
		CHECK(u.tls == cases[i].tls);
		CHECK_STR(u.host, cases[i].host);
		CHECK_INT(u.port, cases[i].port);
		CHECK_STR(u.mailbox, cases[i].mailbox);
		imap_url_free(&u);
	}
}

static void test_url_bad(void)
{
	static const struct {
		const char *url, *says;
	} cases[] = {
	    {"pop3://mail.example.org/", "imaps://"},
	    {"imaps://", "URL"},
	    {"imaps://user:pw@mail.example.org/", "user name or password"},
	    {"imaps://user@mail.example.org/", "user name or password"},
	    {"imaps://mail.example.org/INBOX?x=1", "query"},
	    {"imaps://mail.example.org/INBOX#x", "fragment"},
	    {"imaps://mail.example.org:0/", "port"},
	    {"imaps://mail.example.org:99999/", "URL"},
	    {"imaps://mail.example.org/a%00b", "control character"},
	    {"imaps://mail.example.org/a%0Ab", "control character"},
	    {"imaps://mail.example.org/INBOX;UIDVALIDITY=5", "%3B"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct imap_url u;
		struct lb_err err = {0};
		CHECK_INT(imap_url_parse(cases[i].url, &u, &err), LB_ECONFIG);
		if (!strstr(err.msg, cases[i].says))
			fprintf(stderr, "    %s: \"%s\" lacks \"%s\"\n", cases[i].url, err.msg,
				cases[i].says);
		CHECK(strstr(err.msg, cases[i].says) != NULL);
		/* never echo what might be a password */
		CHECK(strstr(err.msg, "pw@") == NULL);
		CHECK(u.host == NULL && u.mailbox == NULL);
	}
}

/* The Sent folder's URL (its cursor's name, and what poll connects to):
 * the same server and scheme, the folder %-encoded so that imap_url_parse
 * gives it back unchanged. */
static void test_sent_url(void)
{
	static const struct {
		const char *url, *sent, *want, *mailbox;
	} cases[] = {
	    {"imaps://mail.example.org/INBOX", "Sent", "imaps://mail.example.org:993/Sent", "Sent"},
	    {"imap://127.0.0.1:1143/INBOX", "Sent Items", "imap://127.0.0.1:1143/Sent%20Items",
	     "Sent Items"},
	    {"imaps://[::1]:9993/", "Gesendete Objekte/Ä", NULL, "Gesendete Objekte/Ä"},
	    {"maildir:inbox", "sent", "maildir:sent", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char url[64], sent[64];
		snprintf(url, sizeof url, "%s", cases[i].url);
		snprintf(sent, sizeof sent, "%s", cases[i].sent);
		struct endpoint ep = {.url = url, .sent = sent};
		char *u = source_sent_url(&ep);
		CHECK(u != NULL);
		if (!u)
			continue;
		if (cases[i].want)
			CHECK_STR(u, cases[i].want);
		if (cases[i].mailbox) {
			struct imap_url iu;
			struct lb_err err = {0};
			CHECK_INT(imap_url_parse(u, &iu, &err), 0);
			CHECK_STR(iu.mailbox, cases[i].mailbox);
			imap_url_free(&iu);
		}
		free(u);
	}
	char url[] = "imaps://h/INBOX";
	struct endpoint none = {.url = url};
	CHECK(source_sent_url(&none) == NULL);
}

/* Checks made before any connection is attempted. */
static void test_open_config(void)
{
	char pop3[] = "pop3://h/", plain[] = "imap://mail.example.org/",
	     tls[] = "imaps://mail.example.org/", nopath[] = "maildir:", ann[] = "ann",
	     pw_var[] = "LB_TEST_SOURCE_PW", unset_var[] = "LB_TEST_SOURCE_UNSET";
	struct msg_source *s = NULL;
	struct lb_err err = {0};
	struct endpoint ep = {.url = pop3, .tls = TLS_REQUIRED};
	CHECK_INT(source_open(&ep, "/tmp", &s, &err), LB_ECONFIG);
	CHECK(s == NULL);

	setenv(pw_var, "secret", 1);
	ep.url = plain;
	ep.username = ann;
	ep.password_env = pw_var;
	CHECK_INT(source_open(&ep, "/tmp", &s, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "clear text") != NULL);
	CHECK(strstr(err.msg, "secret") == NULL);

	ep.url = tls;
	ep.username = NULL;
	CHECK_INT(source_open(&ep, "/tmp", &s, &err), LB_ECONFIG);
	CHECK(strstr(err.msg, "username") != NULL);

	ep.username = ann;
	ep.password_env = unset_var;
	unsetenv(unset_var);
	CHECK_INT(source_open(&ep, "/tmp", &s, &err), LB_ECONFIG);

	ep.url = nopath;
	CHECK_INT(source_open(&ep, "/tmp", &s, &err), LB_ECONFIG);
	CHECK(s == NULL);
}

/* ---- the Maildir source ---- */

static char tmpdir[64];

static char *at(const char *rel)
{
	return path_join(tmpdir, rel);
}

static void put(const char *rel, const char *data)
{
	char *p = at(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
		close(fd);
	}
	free(p);
}

static bool exists(const char *rel)
{
	char *p = at(rel);
	bool e = fsx_exists(p);
	free(p);
	return e;
}

struct seen {
	struct buf log; /* "id size truncated n|" per message */
	struct buf last;
	int stop_after; /* return 99 after this many, 0 = never */
	int count;
};

static int collect(void *ctx, const struct src_msg *m)
{
	struct seen *s = ctx;
	buf_printf(&s->log, "%s %zu %d %zu|", m->id, m->size, m->truncated, m->n);
	buf_reset(&s->last);
	buf_add(&s->last, m->raw, m->n);
	CHECK_INT(m->uid, 0);
	s->count++;
	return s->stop_after && s->count >= s->stop_after ? 99 : 0;
}

static struct msg_source *open_md(const char *rel, size_t max_size)
{
	char url[128];
	snprintf(url, sizeof url, "maildir:%s", rel);
	struct endpoint ep = {.url = url, .max_size = max_size};
	struct msg_source *s = NULL;
	struct lb_err err = {0};
	CHECK_INT(source_open(&ep, tmpdir, &s, &err), 0);
	return s;
}

static void test_maildir_fetch(void)
{
	struct msg_source *s = open_md("in", 0);
	if (!s)
		return;
	CHECK(exists("in/new") && exists("in/cur") && exists("in/tmp"));
	CHECK_INT(source_uidvalidity(s), 0);
	struct seen seen = {BUF_INIT, BUF_INIT, 0, 0};
	struct lb_err err = {0};
	CHECK_INT(source_fetch(s, NULL, 10, collect, &seen, &err), 0);
	CHECK_STR(buf_cstr(&seen.log), "");

	put("in/new/1700000002.b.host", "Subject: b\n\nbee\n");
	put("in/new/1700000001.a.host", "Subject: a\n\nay\n");
	put("in/new/1700000003.c.host", "Subject: c\n\nsee\n");
	put("in/new/.hidden", "not mail");
	char *sub = at("in/new/1700000000.dir");
	mkdir(sub, 0700);
	free(sub);
	struct cursor c = {7, 9}; /* ignored by Maildir */
	CHECK_INT(source_fetch(s, &c, 1, collect, &seen, &err), 0);
	CHECK_STR(buf_cstr(&seen.log), "1700000001.a.host 15 0 15|1700000002.b.host 16 0 16|"
				       "1700000003.c.host 16 0 16|");
	CHECK_STR(buf_cstr(&seen.last), "Subject: c\n\nsee\n");

	/* the callback's error stops the fetch and comes back */
	buf_reset(&seen.log);
	seen.count = 0;
	seen.stop_after = 2;
	CHECK_INT(source_fetch(s, NULL, 10, collect, &seen, &err), 99);
	CHECK_STR(buf_cstr(&seen.log), "1700000001.a.host 15 0 15|1700000002.b.host 16 0 16|");
	source_close(s);
	buf_free(&seen.log);
	buf_free(&seen.last);
}

/* A Sent Maildir (incoming.sent): new/ and cur/ are read, messages are
 * named without their flags, nothing is created, moved or renamed. */
static void test_maildir_sent(void)
{
	struct msg_source *s = NULL;
	struct lb_err err = {0};
	char *dir = at("sent");
	CHECK_INT(maildir_sent_open(dir, 0, &s, &err), LB_EUNAVAIL); /* missing: not created */
	CHECK(!exists("sent"));
	mkdir(dir, 0700);
	for (int i = 0; i < 2; i++) {
		char *sub = at(i ? "sent/cur" : "sent/new");
		mkdir(sub, 0700);
		free(sub);
	}
	put("sent/new/1700000002.b.host", "Subject: b\n\nbee\n");
	put("sent/cur/1700000001.a.host:2,S", "Subject: a\n\nay\n");
	CHECK_INT(maildir_sent_open(dir, 0, &s, &err), 0);
	CHECK(!exists("sent/tmp"));
	struct seen seen = {BUF_INIT, BUF_INIT, 0, 0};
	CHECK_INT(source_fetch(s, NULL, 10, collect, &seen, &err), 0);
	CHECK_STR(buf_cstr(&seen.log), "1700000002.b.host 16 0 16|1700000001.a.host 15 0 15|");
	struct src_msg m = {.id = "1700000002.b.host"};
	CHECK_INT(source_done(s, &m, NULL, &err), 0);
	CHECK_INT(source_done(s, &m, "Folder", &err), 0);
	CHECK(exists("sent/new/1700000002.b.host") && exists("sent/cur/1700000001.a.host:2,S"));
	CHECK(!exists("sent/cur/1700000002.b.host:2,S") && !exists("sent/.Folder"));
	source_close(s);
	free(dir);
	buf_free(&seen.log);
	buf_free(&seen.last);
}

static void test_maildir_truncate(void)
{
	struct msg_source *s = open_md("big", 64);
	if (!s)
		return;
	struct buf big = BUF_INIT;
	buf_adds(&big, "Subject: big\r\nX-A: 1\r\n\r\n");
	for (int i = 0; i < 100; i++)
		buf_adds(&big, "body body body\r\n");
	put("big/new/1.big", buf_cstr(&big));
	put("big/new/2.long", "Subject: a header far longer than the limit of sixty-four bytes "
			      "set for this test\n\nbody\n");
	put("big/new/3.small", "Subject: s\n\nsmall\n");
	struct seen seen = {BUF_INIT, BUF_INIT, 0, 0};
	struct lb_err err = {0};
	CHECK_INT(source_fetch(s, NULL, 10, collect, &seen, &err), 0);
	char want[256];
	snprintf(want, sizeof want, "1.big %zu 1 24|2.long 88 1 64|3.small 18 0 18|", big.n);
	CHECK_STR(buf_cstr(&seen.log), want);
	source_close(s);
	buf_free(&big);
	buf_free(&seen.log);
	buf_free(&seen.last);
}

static void test_maildir_done(void)
{
	struct msg_source *s = open_md("box", 0);
	if (!s)
		return;
	put("box/new/1.one", "Subject: 1\n\n1\n");
	put("box/new/2.two:2,", "Subject: 2\n\n2\n");
	put("box/new/3.three", "Subject: 3\n\n3\n");
	struct lb_err err = {0};
	struct src_msg m = {.id = "1.one"};
	CHECK_INT(source_done(s, &m, NULL, &err), 0);
	CHECK(!exists("box/new/1.one"));
	CHECK(exists("box/cur/1.one:2,S"));
	/* done again (a retry after a crash): already in place, fine */
	CHECK_INT(source_done(s, &m, NULL, &err), 0);

	m.id = "2.two:2,";
	CHECK_INT(source_done(s, &m, "", &err), 0); /* "" is no folder */
	CHECK(exists("box/cur/2.two:2,S"));

	m.id = "3.three";
	CHECK_INT(source_done(s, &m, "Letterbox/Bounces", &err), 0);
	if (err.code)
		fprintf(stderr, "    %s\n", err.msg);
	CHECK(!exists("box/new/3.three"));
	CHECK(exists("box/.Letterbox.Bounces/cur/3.three:2,S"));
	CHECK(exists("box/.Letterbox.Bounces/new") && exists("box/.Letterbox.Bounces/tmp"));
	CHECK(exists("box/.Letterbox.Bounces/maildirfolder"));

	static const char *const bad[] = {"../x", ".x", "a//b", "a/", "/a", "a/../b", "a/.b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put("box/new/4.four", "x\n");
		m.id = "4.four";
		CHECK_INT(source_done(s, &m, bad[i], &err), LB_ECONFIG);
		CHECK(exists("box/new/4.four"));
	}
	m.id = "../4.four";
	CHECK(source_done(s, &m, NULL, &err) != 0);
	m.id = "9.missing";
	CHECK_INT(source_done(s, &m, NULL, &err), LB_EIO);

	struct seen seen = {BUF_INIT, BUF_INIT, 0, 0};
	CHECK_INT(source_fetch(s, NULL, 10, collect, &seen, &err), 0);
	CHECK_STR(buf_cstr(&seen.log), "4.four 2 0 2|");
	source_close(s);
	buf_free(&seen.log);
	buf_free(&seen.last);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_maildir_wait(void)
{
	struct msg_source *s = open_md("wait", 0);
	if (!s)
		return;
	struct lb_err err = {0};
	double t0 = now_s();
	CHECK_INT(source_wait(s, 1, &err), 0);
	double dt = now_s() - t0;
	CHECK(dt >= 0.9 && dt < 2.5);

	/* a delivery (tmp/ then rename into new/) ends the wait at once; by a
	 * shell, so that the child is not this process under valgrind */
	char script[256];
	snprintf(script, sizeof script,
		 "sleep 0.2 && : >%s/wait/tmp/5.five && mv %s/wait/tmp/5.five %s/wait/new/", tmpdir,
		 tmpdir, tmpdir);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	t0 = now_s();
	CHECK_INT(source_wait(s, 10, &err), 0);
	dt = now_s() - t0;
	CHECK(dt < 1.5);
	int status = 1;
	waitpid(pid, &status, 0);
	CHECK_INT(status, 0);
	CHECK(exists("wait/new/5.five"));

	/* mail already there: no wait */
	t0 = now_s();
	CHECK_INT(source_wait(s, 10, &err), 0);
	CHECK(now_s() - t0 < 0.5);
	source_close(s);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Mailbox names in modified UTF-7 (RFC 3501, 5.1.3; its own example first). */
static void test_mutf7(void)
{
	static const struct {
		const char *utf8, *wire;
	} cases[] = {
	    {"~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	    {"INBOX", "INBOX"},
	    {"Entw\u00fcrfe", "Entw&APw-rfe"},
	    {"A&B", "A&-B"},
	    {"\U0001F4EC Replies", "&2D3c7A- Replies"}, /* a surrogate pair */
	    {"\u00dcn\u00efc\u00f6d\u00e9/Sub", "&ANw-n&AO8-c&APY-d&AOk-/Sub"},
	    {"tab\there", "tab&AAk-here"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		CHECK(mutf7_encode(cases[i].utf8, &b));
		CHECK_STR(buf_cstr(&b), cases[i].wire);
		buf_free(&b);
	}
	struct buf b = BUF_INIT;
	buf_adds(&b, "kept");
	CHECK(!mutf7_encode("bad \xc3\x28 utf-8", &b)); /* refused, out unchanged */
	CHECK(!mutf7_encode("\xed\xa0\x80", &b));	/* an encoded surrogate */
	CHECK_STR(buf_cstr(&b), "kept");
	buf_free(&b);
}

int main(void)
{
	RUN(test_url_ok);
	RUN(test_url_bad);
	RUN(test_sent_url);
	RUN(test_mutf7);
	RUN(test_open_config);

	snprintf(tmpdir, sizeof tmpdir, "/tmp/lbsrc-test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_maildir_fetch);
	RUN(test_maildir_sent);
	RUN(test_maildir_truncate);
	RUN(test_maildir_done);
	RUN(test_maildir_wait);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(!fsx_exists(tmpdir));
	return harness_done("source");
}
