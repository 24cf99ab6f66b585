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
	RUN(test_unreadable_logs);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("pollstate");
}
