/* store/pollstate: the seen log and soft-bounce counting survive a reopen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/inquiries.h"
#include "store/pollstate.h"

static char dir[64];

static void test_seen_and_soft(void)
{
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(dir, "imap://x/INBOX", &ps, &err), 0);
	CHECK(!pollstate_seen(ps, "mid:a", NULL));
	pollstate_mark(ps, "mid:a", "bounce", 1000, "uid:1");
	pollstate_mark(ps, "mid:b", "inquiry", 1000, "uid:2");
	pollstate_mark(ps, "mid:b", "auto-reply", 1001, "uid:2"); /* the latest wins */
	size_t k = 0;
	CHECK_INT(pollstate_soft_bounce(ps, "Ada@Example.org", "mid:s1", 1000, 86400, &k, &err), 0);
	CHECK_INT(k, 1);
	CHECK_INT(pollstate_soft_bounce(ps, "ada@example.org", "mid:s2", 2000, 86400, &k, &err), 0);
	CHECK_INT(k, 2);
	CHECK_INT(pollstate_close(ps, &err), 0);

	CHECK_INT(pollstate_open(dir, "imap://x/INBOX", &ps, &err), 0);
	CHECK(pollstate_seen(ps, "mid:a", NULL) && pollstate_logged(ps, "mid:a"));
	CHECK_STR(pollstate_seen_kind(ps, "mid:a", NULL), "bounce");
	CHECK_STR(pollstate_seen_kind(ps, "mid:b", NULL), "auto-reply");
	CHECK(!pollstate_seen(ps, "mid:c", NULL));
	/* the same bounce again counts once; one outside the window not at all */
	CHECK_INT(pollstate_soft_bounce(ps, "ada@example.org", "mid:s2", 2000, 86400, &k, &err), 0);
	CHECK_INT(k, 2);
	CHECK_INT(pollstate_soft_bounce(ps, "ada@example.org", "mid:s3", 1000 + 86400 + 500, 86400,
					&k, &err),
		  0);
	CHECK_INT(k, 2);
	CHECK_INT(pollstate_close(ps, &err), 0);
}

static char *key(const char *id, const char *from, const char *body)
{
	struct sent s = {from, "Tue, 24 Nov 2026 10:00:00 +0000", "question", body, strlen(body)};
	return pollstate_key(id, &s, "raw", 3);
}

/* The key is the Message-ID and what the person sent: transport changes do
 * not change it, a different message under the same ID does. */
static void test_key(void)
{
	char *a = key("x@y", "ana@example.org", "Hello.\nBye.\n");
	CHECK(strncmp(a, "mid:x@y ", 8) == 0 && strlen(a) == 8 + 2 * KEY_DIGEST_BYTES);
	char *same[] = {key("x@y", "ana@example.org", "Hello.\r\nBye.\r\n"),
			key("x@y", "ana@example.org", "Hello.\nBye.\n\n\n"),
			key("x@y", "ana@example.org", "Hello.\nBye.")};
	for (size_t i = 0; i < 3; i++) {
		CHECK_STR(same[i], a);
		free(same[i]);
	}
	char *other[] = {key("x@y", "ana@example.org", "Hello.\nBye!\n"),
			 key("x@y", "bob@example.org", "Hello.\nBye.\n"),
			 key("x@z", "ana@example.org", "Hello.\nBye.\n"),
			 key("x@y", "ana@example.org", "Hello.\rBye.\n")};
	for (size_t i = 0; i < 4; i++) {
		CHECK(strcmp(other[i], a) != 0);
		free(other[i]);
	}
	char *id_tab = pollstate_key("x\ty z", NULL, NULL, 0);
	CHECK_STR(id_tab, "mid:x_y_z"); /* the form records had before digests */
	char *none = pollstate_key(NULL, NULL, "raw", 3);
	CHECK(strncmp(none, "sha:", 4) == 0 && strlen(none) == 4 + 64);
	free(id_tab);
	free(none);
	free(a);
}

/* The test's stand-in for filer's parse: the stored raw message is the body
 * of a message from ana with Message-ID ctx. */
static int stored_reads;
static char *raw_key(void *ctx, const char *raw, size_t n)
{
	stored_reads++;
	char *body = strndup(raw, n);
	char *k = key(ctx, "ana@example.org", body);
	free(body);
	return k;
}

/* File an inquiry as a version before digests did: no key, its Message-ID. */
static void file_old_inquiry(const char *state, const char *id, const char *raw)
{
	struct inquiry q = {.received = 1000,
			    .from = strdup("ana@example.org"),
			    .message_id = strdup(id),
			    .status = strdup("new"),
			    .priority = strdup("normal")};
	struct lb_err err = {0};
	CHECK_INT(inquiry_file(state, &q, raw, strlen(raw), "filed", "", &err), 0);
	inquiry_free(&q);
}

static char old_id[] = "old@x";

/* as filer_open does each run */
static void remember_all(struct pollstate *ps, const char *state)
{
	struct inquiry *v;
	size_t n;
	struct lb_err err = {0};
	CHECK_INT(inquiries_load(state, &v, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		pollstate_remember_inquiry(ps, &v[i], raw_key, old_id);
	inquiries_free(v, n);
}

/* Records from before keys had digests ("mid:ID") stand only for the message
 * they recorded: losing a reply is worse than filing one twice.  An inquiry
 * by the message stored with it; other kinds by the ref they were fetched
 * under.  A new message that reuses the ID is new, whichever comes first. */
static void test_legacy_records(void)
{
	char state[128];
	snprintf(state, sizeof state, "%s/legacy", dir);
	CHECK(mkdir(state, 0700) == 0);
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(state, "maildir:legacy", &ps, &err), 0);
	/* as an old version did */
	pollstate_mark(ps, "mid:old@x", "inquiry", 1000, "m1");
	pollstate_mark(ps, "mid:gone@x", "inquiry", 1000, "m5"); /* its inquiry purged since */
	pollstate_mark(ps, "mid:dsn@x", "bounce", 1000, "uid:7");
	CHECK_INT(pollstate_close(ps, &err), 0);
	file_old_inquiry(state, "old@x", "first");

	char *k1 = key("old@x", "ana@example.org", "first");
	char *k2 = key("old@x", "bob@example.org", "second");
	char *kg = key("gone@x", "ana@example.org", "fifth");
	char *kb = key("dsn@x", "ana@example.org", "bounce");
	CHECK_INT(pollstate_open(state, "maildir:legacy", &ps, &err), 0);
	remember_all(ps, state);
	stored_reads = 0;
	/* the new message first, under the old one's ref even: new */
	CHECK(!pollstate_seen(ps, k2, "m1"));
	CHECK(pollstate_seen_kind(ps, k2, "m1") == NULL);
	/* the old message, fetched again under another name: a duplicate */
	CHECK(pollstate_seen(ps, k1, "m9"));
	CHECK_STR(pollstate_seen_kind(ps, k1, "m9"), "inquiry");
	CHECK(!pollstate_logged(ps, k1));
	CHECK_INT(stored_reads, 1); /* the stored message is read once */
	/* an inquiry record whose inquiry is gone proves nothing */
	CHECK(!pollstate_seen(ps, kg, "m5"));
	/* a bounce: the same ref is the same message; another ref is another */
	CHECK(pollstate_seen(ps, kb, "uid:7"));
	CHECK_STR(pollstate_seen_kind(ps, kb, "uid:7"), "bounce");
	CHECK(!pollstate_seen(ps, kb, "uid:8"));
	CHECK(!pollstate_seen(ps, kb, NULL));
	pollstate_mark(ps, k1, "inquiry", 2000, "m9");
	pollstate_mark(ps, k2, "inquiry", 2000, "m1");
	CHECK_INT(pollstate_close(ps, &err), 0);

	/* after a reopen: both by their own keys, and still nothing else */
	char *k3 = key("old@x", "ana@example.org", "third");
	CHECK_INT(pollstate_open(state, "maildir:legacy", &ps, &err), 0);
	remember_all(ps, state);
	CHECK(pollstate_seen(ps, k1, "m10") && pollstate_logged(ps, k1));
	CHECK(pollstate_seen(ps, k2, "m11") && pollstate_logged(ps, k2));
	CHECK(!pollstate_seen(ps, k3, "m1"));
	CHECK_INT(pollstate_close(ps, &err), 0);

	/* two inquiries filed before digests under one ID (the seen log lost):
	 * each stands for its own message */
	file_old_inquiry(state, "old@x", "third");
	char *k4 = key("old@x", "ana@example.org", "fourth");
	CHECK_INT(pollstate_open(state, "maildir:other", &ps, &err), 0);
	remember_all(ps, state);
	CHECK(pollstate_seen(ps, k3, NULL) && !pollstate_logged(ps, k3));
	CHECK(pollstate_seen(ps, k1, NULL));
	CHECK(!pollstate_seen(ps, k4, NULL));
	CHECK_INT(pollstate_close(ps, &err), 0);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
	free(kg);
	free(kb);
}

/* A log that cannot be read is an error, not an empty log: taken for empty,
 * every message would be filed again. */
static void test_unreadable_logs(void)
{
	char sub[128], path[192];
	snprintf(sub, sizeof sub, "%s/unreadable", dir);
	snprintf(path, sizeof path, "%s/poll/seen", sub);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll", sub);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll/seen", sub);
	CHECK(mkdir(path, 0700) == 0); /* read(2) on it: EISDIR */
	struct pollstate *ps = NULL;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), LB_EIO);
	CHECK(strstr(err.msg, "poll/seen") != NULL);
	CHECK(rmdir(path) == 0);
	snprintf(path, sizeof path, "%s/poll/soft-bounces", sub);
	CHECK(mkdir(path, 0700) == 0);
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), 0);
	size_t k = 0;
	CHECK_INT(pollstate_soft_bounce(ps, "ada@example.org", "mid:s1", 1000, 86400, &k, &err),
		  LB_EIO);
	CHECK_INT(pollstate_close(ps, &err), 0);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbpoll.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_seen_and_soft);
	RUN(test_key);
	RUN(test_legacy_records);
	RUN(test_unreadable_logs);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("pollstate");
}
