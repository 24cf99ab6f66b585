/* store/inquiries: the next number, and a log that cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/inquiries.h"

static char dir[64];

static void file_one(const char *state, struct lb_err *err, int want)
{
	struct inquiry q = {.received = 1000,
			    .from = strdup("ana@example.org"),
			    .status = strdup("new"),
			    .priority = strdup("normal")};
	CHECK_INT(inquiry_file(state, &q, "Hello.\n", 7, "filed", "", err), want);
	inquiry_free(&q);
}

/* A log that cannot be read is an error: numbering again from 1 would give
 * a second person's message the number of the first. */
static void test_next_number(void)
{
	char state[128], log[192], real[192];
	snprintf(state, sizeof state, "%s/state", dir);
	CHECK(mkdir(state, 0700) == 0);
	unsigned next = 0;
	struct lb_err err = {0};
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 1); /* an empty store */
	file_one(state, &err, 0);
	file_one(state, &err, 0);
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 3);

	snprintf(log, sizeof log, "%s/inquiries/log", state);
	snprintf(real, sizeof real, "%s/log.real", dir);
	CHECK(rename(log, real) == 0);
	CHECK(symlink(real, log) == 0); /* never followed in state/ */
	next = 0;
	CHECK_INT(inquiries_next_number(state, &next, &err), LB_EIO);
	CHECK(strstr(err.msg, "inquiries/log: a symbolic link") != NULL);
	CHECK_INT(next, 0);
	file_one(state, &err, LB_EIO);
	CHECK(unlink(log) == 0);
	CHECK(mkdir(log, 0700) == 0); /* read(2) on it: EISDIR */
	CHECK_INT(inquiries_next_number(state, &next, &err), LB_EIO);
	CHECK(rmdir(log) == 0);
	CHECK(rename(real, log) == 0);
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 3);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbinq.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_next_number);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("inquiries");
}
