/* store/inquiries: numbers (never given twice), the selections staff ask
 * for (SQL, triage order, limits and counts), records and history as read
 * back, removal (the rows really go), and the import of the release's
 * log and messages file (store/inquiries_import.c). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/conversation.h"
#include "store/db.h"
#include "store/inquiries.h"

static char dir[64];

static unsigned file_one(const char *state, time_t when, const char *status, const char *prio,
			 const char *who)
{
	struct inquiry q = {.received = when,
			    .from = strdup("ana@example.org"),
			    .status = status ? strdup(status) : NULL,
			    .priority = strdup(prio),
			    .assignee = who ? strdup(who) : NULL};
	struct lb_err err = {0};
	CHECK_INT(inquiry_file(state, &q, "Hello.\n", 7, "filed", "", &err), 0);
	unsigned n = q.number;
	inquiry_free(&q);
	return n;
}

static void mkstate(char *state, size_t n, const char *name)
{
	snprintf(state, n, "%s/%s", dir, name);
	CHECK(mkdir(state, 0700) == 0);
}

/* One number per inquiry, ever: purging the highest does not give it
 * again, nor does a caller's stale starting point. */
static void test_numbers(void)
{
	char state[128];
	mkstate(state, sizeof state, "numbers");
	unsigned next = 0;
	struct lb_err err = {0};
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 1); /* an empty store */
	CHECK_INT(file_one(state, 1000, "new", "normal", NULL), 1);
	CHECK_INT(file_one(state, 1000, "new", "normal", NULL), 2);
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 3);
	CHECK_INT(inquiry_remove(state, 2, &err), 0);
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 3);
	struct inquiry q = {.number = 1, .received = 5, .from = strdup("b@example.org")};
	CHECK_INT(inquiry_file(state, &q, "x", 1, NULL, NULL, &err), 0);
	CHECK_INT(q.number, 3);
	inquiry_free(&q);
	CHECK_INT(inquiry_load(state, 2, &q, &err), LB_EDATA);
	CHECK(strstr(err.msg, "no inquiry 2") != NULL);
}

/* The list both faces show (`inquiries list`, GET /staff/) and the
 * digest's: selected and ordered by the store. */
static void test_query(void)
{
	char state[128];
	mkstate(state, sizeof state, "query");
	file_one(state, 100, "new", "normal", NULL);	  /* 1 */
	file_one(state, 50, "open", "normal", "ann");	  /* 2 */
	file_one(state, 300, "new", "urgent", NULL);	  /* 3 */
	file_one(state, 10, "closed", "urgent", "ann");	  /* 4 */
	file_one(state, 20, NULL, "normal", NULL);	  /* 5 */
	file_one(state, 30, "answered", "normal", "bob"); /* 6 */
	file_one(state, 50, "new", "normal", NULL);	  /* 7: as old as 2, after it */
	struct lb_err err = {0};
	struct inquiry *v;
	size_t n, total;
	CHECK_INT(inquiries_query(state, &(struct inq_query){0}, &v, &n, &total, &err), 0);
	CHECK_INT(n, 4); /* waiting, urgent first, then oldest */
	CHECK_INT(total, 4);
	if (n == 4) {
		CHECK_INT(v[0].number, 3);
		CHECK_INT(v[1].number, 2);
		CHECK_INT(v[2].number, 7);
		CHECK_INT(v[3].number, 1);
		CHECK(inquiry_cmp_triage(&v[0], &v[1]) < 0);
	}
	inquiries_free(v, n);
	struct inq_query two = {.status = "waiting", .limit = 2};
	CHECK_INT(inquiries_query(state, &two, &v, &n, &total, &err), 0);
	CHECK_INT(n, 2);
	CHECK_INT(total, 4);
	inquiries_free(v, n);
	CHECK_INT(inquiries_count(state, &(struct inq_query){.status = "all"}, &total, &err), 0);
	CHECK_INT(total, 7);
	struct inq_query anns = {.status = "all", .assignee = "ann", .urgent_only = true};
	CHECK_INT(inquiries_query(state, &anns, &v, &n, NULL, &err), 0);
	CHECK_INT(n, 1);
	CHECK_INT(n ? v[0].number : 0, 4);
	inquiries_free(v, n);
	CHECK_INT(
	    inquiries_query(state, &(struct inq_query){.status = "answered"}, &v, &n, NULL, &err),
	    0);
	CHECK_INT(n, 1);
	CHECK_INT(n ? v[0].number : 0, 6);
	inquiries_free(v, n);
	CHECK_INT(inquiries_count(state, &(struct inq_query){.urgent_only = true}, &total, &err),
		  0);
	CHECK_INT(total, 1); /* waiting and urgent */
	CHECK_INT(inquiries_count_after(state, false, 5, &total, &err), 0);
	CHECK_INT(total, 2);
	CHECK_INT(inquiries_count_after(state, true, 50, &total, &err), 0);
	CHECK_INT(total, 2); /* 100 and 300 */

	char line[] = "2026-11-24T10:00:00Z\tann\tnote\tcall back";
	char *f[4];
	inquiry_history_fields(line, f);
	CHECK_STR(f[0], "2026-11-24T10:00:00Z");
	CHECK_STR(f[1], "ann");
	CHECK_STR(f[3], "call back");
}

static long long count_rows(const char *state, const char *sql)
{
	sqlite3 *db;
	struct lb_err err = {0};
	sqlite3_stmt *st;
	long long n = -1;
	if (db_get(state, &db, &err) == 0 && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return n;
}

/* What is read back is what was written; removal takes every row. */
static void test_read_back(void)
{
	char state[128];
	mkstate(state, sizeof state, "readback");
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
	file_one(state, 1000, "new", "normal", NULL); /* 2 */
	CHECK_INT(inquiry_history_add(state, 1, 2000, "ana", "status", "open\twide", &err), 0);

	struct inquiry r;
	CHECK_INT(inquiry_load(state, 1, &r, &err), 0);
	CHECK_STR(r.from_name, "Ana \\ B");
	CHECK_STR(r.subject, "two\nlines\r");
	CHECK_STR(r.excerpt, "a: b\\n");
	CHECK_STR(r.priority, "urgent");
	CHECK(r.subscriber);
	CHECK_INT(r.received, 1000);
	CHECK_INT(r.msg_len, 7);
	CHECK_INT(r.noted, 0);
	struct buf raw = BUF_INIT;
	CHECK_INT(inquiry_message(state, &r, &raw, &err), 0);
	CHECK_STR(buf_cstr(&raw), "Hello.\n");
	buf_reset(&raw);
	unsigned k = 0;
	CHECK_INT(inquiry_add_copy(state, &r, "Reply.\n", 7, &k, &err), 0);
	CHECK_INT(k, 1);
	CHECK_INT(inquiry_note_sent(state, &r, 3000, "out-1@example.org", "reply", &err), 0);
	free(r.status);
	r.status = strdup("answered");
	CHECK_INT(inquiry_save_noted(state, &r, 4000, "letterbox", "acknowledged", "", &err), 0);
	inquiry_free(&r);
	CHECK_INT(inquiry_load(state, 1, &r, &err), 0);
	CHECK_STR(r.status, "answered");
	CHECK_INT(r.noted, INQ_NOTED_ACK);
	CHECK_INT(inquiry_copy(state, &r, 1, &raw, &err), 0);
	CHECK_STR(buf_cstr(&raw), "Reply.\n");
	CHECK(r.thread && strstr(r.thread, "out-1@example.org") != NULL);
	inquiry_free(&r);
	char *h = inquiry_history(state, 1);
	CHECK_STR(h, "1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
		     "1970-01-01T00:33:20Z\tana\tstatus\topen wide\n"
		     "1970-01-01T01:06:40Z\tletterbox\tacknowledged\t\n");
	free(h);
	h = inquiry_history(state, 3);
	CHECK_STR(h, "");
	free(h);

	CHECK_INT(inquiry_remove(state, 1, &err), 0);
	CHECK_INT(count_rows(state, "SELECT count(*) FROM inq_blobs WHERE number = 1"), 0);
	CHECK_INT(count_rows(state, "SELECT count(*) FROM inq_history WHERE number = 1"), 0);
	CHECK_INT(count_rows(state, "SELECT count(*) FROM inq_thread WHERE number = 1"), 0);
	CHECK_INT(count_rows(state, "SELECT count(*) FROM inq_records"), 1);
	h = inquiry_history(state, 2);
	CHECK(h && strstr(h, "\tletterbox\tfiled\t") != NULL);
	free(h);
	struct inq_closed *c;
	size_t nc;
	CHECK_INT(inquiries_closed(state, 1L << 40, &c, &nc, &err), 0);
	CHECK_INT(nc, 0);
	inq_closed_free(c, nc);
	buf_free(&raw);
}

static void put_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(text, 1, n, f);
		fclose(f);
	}
}

/* The release's files, read in on the upgrade: the latest version of a
 * record wins, one cut short is ignored, a purged one (D) is not read, the
 * messages and conversations keep their bytes. */
static void test_import(void)
{
	char state[128], inq[192], path[256];
	mkstate(state, sizeof state, "import");
	snprintf(inq, sizeof inq, "%s/inquiries", state);
	CHECK(mkdir(inq, 0700) == 0);
	/* messages.3: #1's first message at 5, its copy at 18, a follow-up at 32 */
	static const char msgs[] = "#1 7\nHello.\n\n#1 8\nReplied\n\n#1 6\nAgain\n\n#2 3\nabc\n";
	snprintf(path, sizeof path, "%s/messages.3", inq);
	put_file(path, msgs, sizeof msgs - 1);
	static const char log[] =
	    "# letterbox inquiries messages.3\n"
	    "R 1\nreceived: 1970-01-01T00:16:40Z\nfrom: ana@example.org\nsubject: old\n"
	    "status: new\nmessage: 5 7\n.\n"
	    "R 2\nreceived: 1970-01-01T00:16:40Z\nfrom: bo@example.org\nmessage: 44 3\n.\n"
	    "M 1\tin\t1970-01-01T01:00:00Z\t32\t6\tmid:a x\ta@x\tana@example.org\n"
	    "M 1\tout\t1970-01-01T01:00:00Z\tack-1@example.org\tack\n"
	    "H 1\t1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
	    "H 2\t1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
	    "R 1\nreceived: 1970-01-01T00:16:40Z\nfrom: ana@example.org\n"
	    "subject: two\\\\ \\n end\\\nstatus: answered\npriority: urgent\nkey: k1\n"
	    "acknowledged: 1970-01-01T00:16:40Z\nnote\nmessage: 5 7\ncopies: 18:8\n.\n"
	    "H 1\t1970-01-01T00:20:00Z\tletterbox\tacknowledged\t\n"
	    "D 2\n"
	    "R 7\nreceived: 1970-01-01T00:16:40Z\nfrom: cut@example.org\n"
	    "R 1\nstatus: closed\n";
	snprintf(path, sizeof path, "%s/log", inq);
	put_file(path, log, sizeof log - 1);

	struct lb_err err = {0};
	struct inquiry r;
	CHECK_INT(inquiry_load(state, 1, &r, &err), 0);
	CHECK_STR(r.subject, "two\\ \n end\\");
	CHECK_STR(r.status, "answered");
	CHECK_STR(r.key, "k1");
	CHECK(inquiry_is_urgent(&r));
	CHECK_INT(r.noted, INQ_NOTED_ACK);
	struct buf raw = BUF_INIT;
	CHECK_INT(inquiry_message(state, &r, &raw, &err), 0);
	CHECK_STR(buf_cstr(&raw), "Hello.\n");
	buf_reset(&raw);
	CHECK_INT(inquiry_copy(state, &r, 1, &raw, &err), 0);
	CHECK_STR(buf_cstr(&raw), "Replied\n");
	size_t n;
	struct conv_msg *m = conv_msgs(&r, &n);
	CHECK_INT(n, 2);
	if (n == 2) {
		buf_reset(&raw);
		CHECK_INT(conv_msg_raw(state, &m[0], &raw, &err), 0);
		CHECK_STR(buf_cstr(&raw), "Again\n");
		CHECK_STR(m[0].key, "mid:a x");
		CHECK_STR(m[1].message_id, "ack-1@example.org");
	}
	conv_msgs_free(m, n);
	inquiry_free(&r);
	buf_free(&raw);
	CHECK_INT(inquiry_load(state, 2, &r, &err), LB_EDATA); /* purged */
	CHECK_INT(inquiry_load(state, 7, &r, &err), LB_EDATA); /* cut short */
	char *h = inquiry_history(state, 1);
	CHECK_STR(h, "1970-01-01T00:16:40Z\tletterbox\tfiled\t\n"
		     "1970-01-01T00:20:00Z\tletterbox\tacknowledged\t\n");
	free(h);
	unsigned next = 0;
	CHECK_INT(inquiries_next_number(state, &next, &err), 0);
	CHECK_INT(next, 8); /* after the highest the log named */
	CHECK(access(inq, F_OK) != 0);
	snprintf(path, sizeof path, "%s.pre-%d", inq, DB_VERSION);
	CHECK(access(path, F_OK) == 0);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbinq.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_numbers);
	RUN(test_query);
	RUN(test_read_back);
	db_done(false);
	RUN(test_import);
	db_done(false);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("inquiries");
}
