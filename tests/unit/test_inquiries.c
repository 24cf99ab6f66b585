/* store/inquiries: the next number, a log that cannot be read, and records
 * and history as read back (escapes, an unfinished record, appends read
 * incrementally, compaction). */
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

/* The list both faces show (`inquiries list`, GET /staff/): one selection. */
static void test_select(void)
{
	struct inquiry q[6] = {
	    mk(1, 100, "new", "normal", NULL), mk(2, 50, "open", "normal", "ann"),
	    mk(3, 300, "new", "urgent", NULL), mk(4, 10, "closed", "urgent", "ann"),
	    mk(5, 20, NULL, "normal", NULL),   mk(6, 30, "answered", "normal", "bob"),
	};
	const struct inquiry *v[6];
	size_t n = 6;
#define FILL()                                                                                     \
	do {                                                                                       \
		for (size_t i = 0; i < n; i++)                                                     \
			v[i] = &q[i];                                                              \
	} while (0)
	FILL();
	size_t k = inquiries_select(v, n, NULL, NULL, false); /* waiting, urgent first, oldest */
	CHECK_INT(k, 3);
	CHECK_INT(v[0]->number, 3);
	CHECK_INT(v[1]->number, 2);
	CHECK_INT(v[2]->number, 1);
	FILL();
	CHECK_INT(inquiries_select(v, n, "waiting", NULL, false), 3);
	FILL();
	CHECK_INT(inquiries_select(v, n, "all", NULL, false), 6);
	FILL();
	k = inquiries_select(v, n, "all", "ann", true);
	CHECK_INT(k, 1);
	CHECK_INT(v[0]->number, 4);
	FILL();
	k = inquiries_select(v, n, "answered", NULL, false);
	CHECK_INT(k, 1);
	CHECK_INT(v[0]->number, 6);
	for (size_t i = 0; i < n; i++)
		inquiry_free(&q[i]);
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

/* Append text to state's inquiry log as a crash mid-write would leave it. */
static void append_raw(const char *state, const char *text)
{
	char log[192];
	snprintf(log, sizeof log, "%s/inquiries/log", state);
	FILE *f = fopen(log, "a");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* What is read back is what was written, however the log was read: whole,
 * or only what was appended since (a process's copy of it), with a record
 * cut short in between; a history is every line of its inquiry's. */
static void test_read_back(void)
{
	char state[128];
	snprintf(state, sizeof state, "%s/state2", dir);
	CHECK(mkdir(state, 0700) == 0);
	struct lb_err err = {0};
	struct inquiry q = {.received = 1000,
			    .from = strdup("ana@example.org"),
			    .from_name = strdup("Ana \\ B"),
			    .subject = strdup("two\nlines\r"),
			    .status = strdup("new"),
			    .priority = strdup("urgent"),
			    .excerpt = strdup("a: b\\n"),
			    .subscriber = true};
	CHECK_INT(inquiry_file(state, &q, "Hello.\n", 7, "filed", "", &err), 0);
	inquiry_free(&q);
	file_one(state, &err, 0); /* 2 */
	CHECK_INT(inquiry_history_add(state, 1, 2000, "ana", "status", "open", &err), 0);

	struct inquiry r;
	CHECK_INT(inquiry_load(state, 1, &r, &err), 0);
	CHECK_STR(r.from_name, "Ana \\ B");
	CHECK_STR(r.subject, "two\nlines\r");
	CHECK_STR(r.excerpt, "a: b\\n");
	CHECK_STR(r.priority, "urgent");
	CHECK(r.subscriber);
	CHECK_INT(r.received, 1000);
	CHECK_INT(r.msg_len, 7);
	inquiry_free(&r);
	const char *h1 = "1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
			 "1970-01-01T00:33:20Z\tana\tstatus\topen\n";
	char *h = inquiry_history(state, 1);
	CHECK_STR(h, h1);
	free(h);

	/* A record cut short, then more: the first is ignored, the rest read. */
	append_raw(state, "R 1\nstatus: closed\n");
	h = inquiry_history(state, 1);
	CHECK_STR(h, h1);
	free(h);
	CHECK_INT(inquiry_history_add(state, 2, 3000, "bo", "note", "called", &err), 0);
	CHECK_INT(inquiry_load(state, 1, &r, &err), 0);
	CHECK_STR(r.status, "new");
	free(r.status);
	r.status = strdup("closed");
	CHECK_INT(inquiry_save_noted(state, &r, 4000, "bo", "status", "closed", &err), 0);
	inquiry_free(&r);
	h = inquiry_history(state, 1);
	CHECK_STR(h, "1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
		     "1970-01-01T00:33:20Z\tana\tstatus\topen\n"
		     "1970-01-01T01:06:40Z\tbo\tstatus\tclosed\n");
	free(h);
	h = inquiry_history(state, 2);
	CHECK_STR(h, "1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
		     "1970-01-01T00:50:00Z\tbo\tnote\tcalled\n");
	free(h);
	h = inquiry_history(state, 3);
	CHECK_STR(h, "");
	free(h);

	/* Every record, borrowed, the latest version of each. */
	const struct inquiry **v;
	size_t n;
	CHECK_INT(inquiries_view(state, &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0]->number, 1);
		CHECK_STR(v[0]->status, "closed");
		CHECK_STR(v[0]->subject, "two\nlines\r");
		CHECK_INT(v[1]->number, 2);
		CHECK_INT(inquiry_ptr_cmp_triage(&v[0], &v[1]), -1); /* urgent first */
	}
	free(v);

	/* Odd lines, read into this process's copy of the log, then again
	 * by compaction (which reads the whole log its own way). */
	append_raw(state, "R 5\nreceived: 1970-01-01T00:16:40Z\nsubject: one\n"
			  "subject: two\\\\ \\n end\\\nfrom: x\nnote\nstatus:\n.\n");
	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT(inquiry_load(state, 5, &r, &err), 0);
		CHECK_STR(r.subject, "two\\ \n end\\");
		CHECK_STR(r.from, "x");
		CHECK(r.status == NULL);
		CHECK_INT(r.received, 1000);
		inquiry_free(&r);
		if (pass == 0)
			CHECK_INT(inquiry_remove(state, 2, &err), 0);
	}

	/* Compaction: 2 went with its history, 1 keeps its own. */
	h = inquiry_history(state, 2);
	CHECK_STR(h, "");
	free(h);
	h = inquiry_history(state, 1);
	CHECK(h && strstr(h, "\tbo\tstatus\tclosed\n") != NULL);
	free(h);
	CHECK_INT(inquiries_view(state, &v, &n, &err), 0);
	CHECK_INT(n, 2); /* 1 and 5 */
	free(v);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbinq.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_next_number);
	RUN(test_select);
	RUN(test_read_back);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("inquiries");
}
