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

static struct inquiry mk(unsigned num, time_t when, const char *status, const char *prio,
			 const char *who)
{
	return (struct inquiry){.number = num,
				.received = when,
				.status = status ? strdup(status) : NULL,
				.priority = strdup(prio),
				.assignee = who ? strdup(who) : NULL};
}

static void free_kept(struct inquiry *v, size_t k)
{
	for (size_t i = 0; i < k; i++)
		inquiry_free(&v[i]);
}

/* The list both faces show (`inquiries list`, GET /staff/): one selection. */
static void test_select(void)
{
	struct inquiry v[6];
	size_t n = 6;
#define FILL()                                                                                     \
	do {                                                                                       \
		v[0] = mk(1, 100, "new", "normal", NULL);                                          \
		v[1] = mk(2, 50, "open", "normal", "ann");                                         \
		v[2] = mk(3, 300, "new", "urgent", NULL);                                          \
		v[3] = mk(4, 10, "closed", "urgent", "ann");                                       \
		v[4] = mk(5, 20, NULL, "normal", NULL);                                            \
		v[5] = mk(6, 30, "answered", "normal", "bob");                                     \
	} while (0)
	FILL();
	size_t k = inquiries_select(v, n, NULL, NULL, false); /* waiting, urgent first, oldest */
	CHECK_INT(k, 3);
	CHECK_INT(v[0].number, 3);
	CHECK_INT(v[1].number, 2);
	CHECK_INT(v[2].number, 1);
	free_kept(v, k);
	FILL();
	CHECK_INT(inquiries_select(v, n, "waiting", NULL, false), 3);
	free_kept(v, 3);
	FILL();
	CHECK_INT(inquiries_select(v, n, "all", NULL, false), 6);
	free_kept(v, 6);
	FILL();
	k = inquiries_select(v, n, "all", "ann", true);
	CHECK_INT(k, 1);
	CHECK_INT(v[0].number, 4);
	free_kept(v, k);
	FILL();
	k = inquiries_select(v, n, "answered", NULL, false);
	CHECK_INT(k, 1);
	CHECK_INT(v[0].number, 6);
	free_kept(v, k);
#undef FILL

	char line[] = "2026-11-24T10:00:00Z\tann\tnote\tcall back";
	char *f[4];
	inquiry_history_fields(line, f);
	CHECK_STR(f[0], "2026-11-24T10:00:00Z");
	CHECK_STR(f[1], "ann");
	CHECK_STR(f[3], "call back");
	char shorter[] = "2026-11-24T10:00:00Z\tann";
	inquiry_history_fields(shorter, f);
	CHECK_STR(f[1], "ann");
	CHECK_STR(f[2], "");
	CHECK_STR(f[3], "");
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbinq.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_next_number);
	RUN(test_select);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("inquiries");
}
