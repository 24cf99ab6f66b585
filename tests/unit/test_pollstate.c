/* store/pollstate: the seen log and soft-bounce counting survive a reopen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/pollstate.h"

static char dir[64];

static void test_seen_and_soft(void)
{
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(dir, "imap://x/INBOX", &ps, &err), 0);
	CHECK(!pollstate_seen(ps, "mid:a"));
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
	CHECK(pollstate_seen(ps, "mid:a") && pollstate_logged(ps, "mid:a"));
	CHECK_STR(pollstate_seen_kind(ps, "mid:a"), "bounce");
	CHECK_STR(pollstate_seen_kind(ps, "mid:b"), "auto-reply");
	CHECK(!pollstate_seen(ps, "mid:c"));
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

/* A seen log written before keys had digests ("mid:ID"): the first message
 * with that ID takes the record up (a duplicate), any other is new; and so
 * after a reopen. */
static void test_legacy_records(void)
{
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(dir, "maildir:legacy", &ps, &err), 0);
	pollstate_mark(ps, "mid:old@x", "inquiry", 1000, "m1"); /* as an old version did */
	CHECK_INT(pollstate_close(ps, &err), 0);

	char *k1 = key("old@x", "ana@example.org", "first");
	char *k2 = key("old@x", "bob@example.org", "second");
	char *k3 = key("mem@x", "ana@example.org", "third");
	char *k4 = key("mem@x", "ana@example.org", "fourth");
	CHECK_INT(pollstate_open(dir, "maildir:legacy", &ps, &err), 0);
	CHECK(pollstate_seen(ps, k1));
	CHECK_STR(pollstate_seen_kind(ps, k1), "inquiry");
	CHECK(!pollstate_logged(ps, k1));
	pollstate_mark(ps, k1, "inquiry", 2000, "m1"); /* taken up */
	CHECK(pollstate_seen(ps, k1) && pollstate_logged(ps, k1));
	CHECK(!pollstate_seen(ps, k2));
	CHECK(pollstate_seen(ps, "mid:old@x")); /* the record itself stays */
	/* known only from an inquiry (filed before digests, not in the log) */
	pollstate_remember(ps, "mid:mem@x", "inquiry");
	CHECK(pollstate_seen(ps, k3) && !pollstate_logged(ps, k3));
	pollstate_mark(ps, k3, "inquiry", 2000, "m3");
	CHECK(!pollstate_seen(ps, k4));
	CHECK_INT(pollstate_close(ps, &err), 0);

	CHECK_INT(pollstate_open(dir, "maildir:legacy", &ps, &err), 0);
	CHECK(pollstate_seen(ps, k1) && pollstate_logged(ps, k1));
	CHECK(!pollstate_seen(ps, k2));
	pollstate_remember(ps, "mid:mem@x", "inquiry"); /* as filer_open does each run */
	CHECK(pollstate_seen(ps, k3) && pollstate_logged(ps, k3));
	CHECK(!pollstate_seen(ps, k4));
	pollstate_mark(ps, k2, "inquiry", 3000, "m2");
	CHECK_INT(pollstate_close(ps, &err), 0);
	CHECK_INT(pollstate_open(dir, "maildir:legacy", &ps, &err), 0);
	CHECK(pollstate_seen(ps, k2) && pollstate_seen(ps, k1));
	CHECK_INT(pollstate_close(ps, &err), 0);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
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
