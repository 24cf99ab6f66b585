#include "store/suppressions.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "harness.h"
#include "store/db.h"

static char tmp[] = "/tmp/lb_sup_XXXXXX";
static char state[64], file[96], pfile[128];
static const time_t T0 = 1795629300; /* 2026-11-25T17:55:00Z */

/* A state/ of nothing: every connection closed, every file gone. */
static void fresh(void)
{
	db_done(false);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
	if (system(cmd) != 0)
		fprintf(stderr, "    cannot remove %s\n", state);
}

/* One number from the store (the suppressions area's tables). */
static long long query(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct lb_err err = {0};
	long long v = -1;
	if (db_get(state, &db, &err) == 0 &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static void write_text(const char *text)
{
	struct lb_err err;
	fsx_mkdirs(state, 0700, &err);
	fsx_write_atomic(file, text, strlen(text), 0600, &err);
}

static struct suppressions *load(void)
{
	struct suppressions *s = NULL;
	struct lb_err err = {0};
	int rc = suppressions_load(state, &s, &err);
	if (rc)
		fprintf(stderr, "    load: %s\n", err.msg);
	CHECK_INT(rc, 0);
	return s;
}

static int add(struct suppressions *s, const char *a, enum sup_reason r, time_t t, const char *ev)
{
	struct lb_err err = {0};
	int rc = suppressions_add(s, a, r, t, ev, &err);
	if (rc)
		fprintf(stderr, "    add %s: %s\n", a, err.msg);
	return rc;
}

static void test_missing_file_is_empty(void)
{
	fresh();
	struct suppressions *s = load();
	size_t n = 99;
	suppressions_list(s, &n);
	CHECK_INT(n, 0);
	CHECK_INT(suppressions_check(s, "ada@example.org"), SUP_NONE);
	CHECK(suppressions_get(s, "ada@example.org") == NULL);
	CHECK(!fsx_exists(state)); /* reading creates nothing */
	suppressions_free(s);
}

static void test_add_check_list(void)
{
	fresh();
	struct suppressions *s = load();
	CHECK_INT(add(s, "ada@example.org", SUP_UNSUBSCRIBED, T0, "List-Unsubscribe-Post"), 0);
	CHECK_INT(add(s, "Zoe@Example.org", SUP_HARD_BOUNCE, T0 + 60, "550 5.1.1 user unknown"), 0);
	CHECK_INT(add(s, "mei@example.org", SUP_COMPLAINT, T0 + 120, "<abc@example.org>"), 0);
	for (int pass = 0; pass < 2; pass++) { /* in memory, then read back from disk */
		CHECK_INT(suppressions_check(s, "ada@example.org"), SUP_UNSUBSCRIBED);
		CHECK_INT(suppressions_check(s, "ADA@EXAMPLE.ORG"), SUP_UNSUBSCRIBED);
		CHECK_INT(suppressions_check(s, "zoe@example.org"), SUP_HARD_BOUNCE);
		CHECK_INT(suppressions_check(s, "mei@example.org"), SUP_COMPLAINT);
		CHECK_INT(suppressions_check(s, "other@example.org"), SUP_NONE);
		CHECK_INT(suppressions_check(s, "ada@example.or"), SUP_NONE);
		const struct suppression *z = suppressions_get(s, "ZOE@example.org");
		CHECK(z != NULL);
		if (z) {
			CHECK_STR(z->address,
				  "Zoe@example.org"); /* as recorded (domain lower-cased) */
			CHECK_STR(z->key, "zoe@example.org");
			CHECK_INT(z->when, T0 + 60);
			CHECK_STR(z->evidence, "550 5.1.1 user unknown");
		}
		size_t n;
		const struct suppression *const *v = suppressions_list(s, &n);
		CHECK_INT(n, 3);
		if (n == 3) {
			CHECK_STR(v[0]->key, "ada@example.org");
			CHECK_STR(v[1]->key, "zoe@example.org");
			CHECK_STR(v[2]->key, "mei@example.org");
			CHECK_STR(v[2]->evidence, "<abc@example.org>");
		}
		suppressions_free(s);
		s = load();
	}
	suppressions_free(s);
}

static void test_latest_wins_and_resubscribe(void)
{
	fresh();
	struct suppressions *s = load();
	add(s, "ada@example.org", SUP_HARD_BOUNCE, T0, "first");
	add(s, "bob@example.org", SUP_REMOVED, T0 + 1, "by staff");
	add(s, "ada@example.org", SUP_COMPLAINT, T0 + 2, "second");
	add(s, "bob@example.org", SUP_RESUBSCRIBED, T0 + 3, "added again");
	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT(suppressions_check(s, "ada@example.org"), SUP_COMPLAINT);
		CHECK_STR(suppressions_get(s, "ada@example.org")->evidence, "second");
		CHECK_INT(suppressions_check(s, "bob@example.org"), SUP_NONE);
		CHECK(suppressions_get(s, "bob@example.org") == NULL);
		size_t n;
		const struct suppression *const *v = suppressions_list(s, &n);
		CHECK_INT(n, 1);
		CHECK_STR(v[0]->key, "ada@example.org");
		suppressions_free(s);
		s = load();
	}
	/* suppressed again after the lift: back in the list, in first-suppressed order */
	add(s, "bob@example.org", SUP_UNSUBSCRIBED, T0 + 4, "");
	size_t n;
	const struct suppression *const *v = suppressions_list(s, &n);
	CHECK_INT(n, 2);
	CHECK_STR(v[1]->key, "bob@example.org");
	CHECK_INT(v[1]->reason, SUP_UNSUBSCRIBED);
	CHECK_STR(v[1]->evidence, "");
	suppressions_free(s);
}

/* The file the release before the store wrote is read in once, as it read
 * it: a torn last line (an append a crash cut short) never counted. */
static void test_torn_last_line(void)
{
	fresh();
	write_text("# comment\n"
		   "2026-11-25T17:55:00Z\tremoved\tada@example.org\tby staff\n"
		   "2026-11-25T17:56:00Z\thard-bounce\tzoe@exa");
	struct suppressions *s = load();
	CHECK_INT(suppressions_check(s, "ada@example.org"), SUP_REMOVED);
	CHECK_STR(suppressions_get(s, "ada@example.org")->evidence, "by staff");
	CHECK_INT(suppressions_check(s, "zoe@exa"), SUP_NONE);
	CHECK_INT(query("SELECT count(*) FROM sup_records"), 1);
	/* the old file is kept beside the store until the next good run */
	CHECK(!fsx_exists(file));
	char pre[160];
	snprintf(pre, sizeof pre, "%s.pre-1", file);
	CHECK(fsx_exists(pre));
	CHECK_INT(add(s, "mei@example.org", SUP_FAILED, T0, "gave up"), 0);
	suppressions_free(s);
	s = load();
	size_t n;
	suppressions_list(s, &n);
	CHECK_INT(n, 2);
	suppressions_free(s);
	db_done(true); /* the run that upgraded keeps them */
	CHECK(fsx_exists(pre));
	s = load();
	suppressions_free(s);
	db_done(true); /* the next good one removes them */
	CHECK(!fsx_exists(pre));

	/* a torn first write leaves no complete line at all */
	fresh();
	write_text("2026-11-25T17:5");
	s = load();
	suppressions_list(s, &n);
	CHECK_INT(n, 0);
	CHECK_INT(add(s, "ada@example.org", SUP_REMOVED, T0, "x"), 0);
	suppressions_free(s);
	s = load();
	CHECK_INT(suppressions_check(s, "ada@example.org"), SUP_REMOVED);
	suppressions_free(s);
}

static void test_damage_is_an_error(void)
{
	static const char *const bad[] = {
	    "2026-11-25T17:55:00Z\tremoved\tada@example.org\n",	    /* no evidence field */
	    "2026-11-25 17:55:00\tremoved\tada@example.org\tx\n",   /* wrong time shape */
	    "2026-11-25T17:55:00Z\tvanished\tada@example.org\tx\n", /* unknown reason */
	    "2026-13-25T17:55:00Z\tremoved\tada@example.org\tx\n",  /* month 13 */
	    "2026-11-25T17:55:00Z\tremoved\t\tx\n",		    /* no address */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fresh();
		struct buf t = BUF_INIT;
		buf_printf(&t, "2026-11-25T17:55:00Z\tremoved\tok@example.org\tfine\n%s", bad[i]);
		write_text(t.p);
		buf_free(&t);
		struct suppressions *s = NULL;
		struct lb_err err = {0};
		CHECK_INT(suppressions_load(state, &s, &err), LB_EDATA);
		CHECK(s == NULL);
		CHECK(strstr(err.msg, "suppressions:2: not a suppression record") != NULL);
		/* the upgrade undone: the file where it was, nothing read in */
		CHECK(fsx_exists(file));
		db_done(false);
		char dbf[128];
		snprintf(dbf, sizeof dbf, "%s/" DB_FILE, state);
		sqlite3 *raw = NULL;
		sqlite3_stmt *st = NULL;
		long long tables = -1;
		if (sqlite3_open(dbf, &raw) == SQLITE_OK &&
		    sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) ==
			SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			tables = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(raw);
		CHECK_INT(tables, 0);
	}
}

static void test_evidence_one_line(void)
{
	fresh();
	struct suppressions *s = load();
	add(s, "a@example.org", SUP_HARD_BOUNCE, T0,
	    "  550-5.1.1 The account\r\n 550 5.1.1 does not\texist \x01 here \xff!\n\n");
	struct buf big = BUF_INIT;
	for (int i = 0; i < 300; i++)
		buf_adds(&big, "é"); /* 600 bytes of two-byte characters */
	add(s, "b@example.org", SUP_FAILED, T0, big.p);
	add(s, "c@example.org", SUP_FAILED, T0, "line\xe2\x80\xa8sep\xc2\x85nel");
	add(s, "d@example.org", SUP_FAILED, T0, NULL);
	for (int pass = 0; pass < 2; pass++) {
		CHECK_STR(suppressions_get(s, "a@example.org")->evidence,
			  "550-5.1.1 The account 550 5.1.1 does not exist here ?!");
		const char *b = suppressions_get(s, "b@example.org")->evidence;
		CHECK_INT(strlen(b), 500);
		CHECK(strncmp(b, big.p, 500) == 0);
		CHECK_STR(suppressions_get(s, "c@example.org")->evidence, "line sep nel");
		CHECK_STR(suppressions_get(s, "d@example.org")->evidence, "");
		suppressions_free(s);
		s = load();
	}
	suppressions_free(s);
	buf_free(&big);
	CHECK_INT(query("SELECT count(*) FROM sup_records"), 4);
	CHECK_INT(query("SELECT count(*) FROM sup_records WHERE instr(evidence, char(10)) > 0"), 0);
}

static void test_modes(void)
{
	fresh();
	mode_t um = umask(0);
	struct suppressions *s = load();
	CHECK_INT(add(s, "a@example.org", SUP_REMOVED, T0, "x"), 0);
	struct stat st;
	char dbf[128];
	snprintf(dbf, sizeof dbf, "%s/" DB_FILE, state);
	CHECK(stat(state, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(dbf, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_INT(add(s, "b@example.org", SUP_REMOVED, T0, "x"), 0);
	CHECK(stat(dbf, &st) == 0 && (st.st_mode & 0777) == 0600);
	umask(um);
	suppressions_free(s);
}

static void test_bad_input(void)
{
	fresh();
	struct suppressions *s = load();
	struct lb_err err = {0};
	CHECK_INT(suppressions_add(s, "not an address", SUP_REMOVED, T0, "", &err), LB_EDATA);
	CHECK_INT(suppressions_add(s, "a@example.org", SUP_NONE, T0, "", &err), LB_ESOFTWARE);
	CHECK_INT(query("SELECT count(*) FROM sup_records"), 0);
	suppressions_free(s);
}

static void test_reason_names(void)
{
	for (int r = SUP_UNSUBSCRIBED; r <= SUP_RESUBSCRIBED; r++)
		CHECK_INT(sup_reason_parse(sup_reason_name((enum sup_reason)r)), r);
	CHECK_STR(sup_reason_name(SUP_HARD_BOUNCE), "hard-bounce");
	CHECK_INT(sup_reason_parse("bogus"), SUP_NONE);
	CHECK_INT(sup_reason_parse(NULL), SUP_NONE);
}

/* A campaign of 100,000 recipients consults the store: the file read in
 * once, then each look-up an index probe. */
static void test_hundred_thousand(void)
{
	fresh();
	struct buf t = BUF_INIT;
	for (int i = 0; i < 100000; i++)
		buf_printf(&t,
			   "2026-11-25T17:55:00Z\thard-bounce\tUser%d@example.org\tsmtp; 550 5.1.1 "
			   "<user%d@example.org>: Recipient address rejected: User unknown\n",
			   i, i);
	write_text(t.p);
	buf_free(&t);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct suppressions *s = load();
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("  100000 records read in in %.3f s\n", secs);
	CHECK(secs < 120); /* generous: valgrind and the sanitizers run this too */
	clock_gettime(CLOCK_MONOTONIC, &a);
	char addr[64];
	size_t hits = 0;
	for (int i = 0; i < 100000; i++) {
		snprintf(addr, sizeof addr, "user%d@example.org", i % 2 ? 100000 + i : i);
		hits += suppressions_check(s, addr) == SUP_HARD_BOUNCE;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("  100000 look-ups in %.3f s\n", secs);
	CHECK_INT(hits, 50000);
	CHECK_INT(suppressions_check(s, "user0@example.org"), SUP_HARD_BOUNCE);
	CHECK_INT(suppressions_check(s, "USER99999@EXAMPLE.ORG"), SUP_HARD_BOUNCE);
	CHECK_INT(suppressions_check(s, "user100000@example.org"), SUP_NONE);
	CHECK_STR(suppressions_get(s, "user4242@example.org")->evidence,
		  "smtp; 550 5.1.1 <user4242@example.org>: Recipient address rejected: User "
		  "unknown");
	size_t n;
	suppressions_list(s, &n);
	CHECK_INT(n, 100000);
	suppressions_free(s);
}

static const struct suppression *pend(struct suppressions *s, const char *a)
{
	return suppressions_pending_get(s, a);
}

/* Unlinked reports: kept, listed, settled by a confirmation or any later
 * record about the address, never a suppression on their own. */
static void test_pending(void)
{
	fresh();
	struct suppressions *s = load();
	struct lb_err err = {0};
	CHECK_INT(
	    suppressions_add_pending(s, "Zoe@Example.org", SUP_HARD_BOUNCE, T0, "first", &err), 0);
	CHECK_INT(
	    suppressions_add_pending(s, "mei@example.org", SUP_COMPLAINT, T0 + 1, "arf", &err), 0);
	CHECK_INT(suppressions_add_pending(s, "zoe@example.org", SUP_HARD_BOUNCE, T0 + 2,
					   "second\nline", &err),
		  0);
	CHECK_INT(suppressions_add_pending(s, "x@example.org", SUP_RESUBSCRIBED, T0, "", &err),
		  LB_ESOFTWARE);
	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT(suppressions_check(s, "zoe@example.org"), SUP_NONE);
		const struct suppression *z = pend(s, "ZOE@example.org");
		CHECK(z != NULL);
		if (z) {
			CHECK_INT(z->reason, SUP_HARD_BOUNCE);
			CHECK_INT(z->when, T0 + 2);
			CHECK_STR(z->evidence, "second line");
		}
		size_t n;
		const struct suppression *const *v = suppressions_pending_list(s, &n);
		CHECK_INT(n, 2);
		if (n == 2) {
			CHECK_STR(v[0]->key, "mei@example.org");
			CHECK_STR(v[1]->key, "zoe@example.org");
		}
		suppressions_free(s);
		s = load();
	}
	bool done = true;
	CHECK_INT(suppressions_confirm(s, "nobody@example.org", SUP_HARD_BOUNCE, T0 + 3, "x", &done,
				       &err),
		  0);
	CHECK(!done);
	/* evidence of another kind confirms nothing */
	CHECK_INT(suppressions_confirm(s, "zoe@example.org", SUP_COMPLAINT, T0 + 3, "a complaint",
				       &done, &err),
		  0);
	CHECK(!done);
	CHECK(pend(s, "zoe@example.org") != NULL);
	CHECK_INT(suppressions_confirm(s, "zoe@example.org", SUP_HARD_BOUNCE, T0 + 3, "a 5xx",
				       &done, &err),
		  0);
	CHECK(done);
	CHECK_INT(suppressions_check(s, "zoe@example.org"), SUP_HARD_BOUNCE);
	CHECK_STR(suppressions_get(s, "zoe@example.org")->evidence,
		  "confirmed by a 5xx; the report: second line");
	CHECK(pend(s, "zoe@example.org") == NULL);
	/* a removal and a re-subscription after it settle mei's report too */
	add(s, "mei@example.org", SUP_REMOVED, T0 + 4, "staff");
	add(s, "mei@example.org", SUP_RESUBSCRIBED, T0 + 5, "staff");
	CHECK(pend(s, "mei@example.org") == NULL);
	/* but a report after the lift is pending again */
	CHECK_INT(
	    suppressions_add_pending(s, "mei@example.org", SUP_COMPLAINT, T0 + 6, "again", &err),
	    0);
	CHECK(pend(s, "mei@example.org") != NULL);
	suppressions_free(s);
	s = load();
	size_t n;
	suppressions_pending_list(s, &n);
	CHECK_INT(n, 1);
	suppressions_free(s);
	/* every report kept, the settled ones too */
	CHECK_INT(query("SELECT count(*) FROM sup_pending"), 4);
	fresh();
}

/* state/suppressions.pending of the release before the store: read in once,
 * a torn last line left out, damage an error with its line. */
static void test_pending_import(void)
{
	fresh();
	struct lb_err err;
	fsx_mkdirs(state, 0700, &err);
	static const char text[] =
	    "# letterbox reports not tied to a message of ours\n"
	    "2026-11-25T17:55:00Z\thard-bounce\tzoe@example.org\tbounce 5.1.1 (unlinked)\n"
	    "2026-11-25T17:56:00Z\tcomplaint\tmei@example.org\tarf\n"
	    "2026-11-25T17:57:00Z\tunsubscribed\tada@example.org\tlist-unsub\n"
	    "2026-11-25T18:00:00Z\tcompl";
	fsx_write_atomic(pfile, text, strlen(text), 0600, &err);
	/* ada was suppressed after her report; mei before hers */
	write_text("2026-11-25T17:50:00Z\tcomplaint\tmei@example.org\tearlier\n"
		   "2026-11-25T17:58:00Z\tresubscribed\tada@example.org\tstaff\n");
	struct suppressions *s = load();
	size_t n;
	const struct suppression *const *v = suppressions_pending_list(s, &n);
	CHECK_INT(n, 1); /* mei is suppressed, ada's report was settled by the lift */
	if (n == 1) {
		CHECK_STR(v[0]->address, "zoe@example.org");
		CHECK_STR(v[0]->evidence, "bounce 5.1.1 (unlinked)");
		CHECK_STR(sup_source(v[0]), "mail");
	}
	CHECK_INT(query("SELECT count(*) FROM sup_pending"), 3);
	suppressions_free(s);

	fresh();
	fsx_mkdirs(state, 0700, &err);
	fsx_write_atomic(pfile, "garbage\n", 8, 0600, &err);
	s = NULL;
	CHECK_INT(suppressions_load(state, &s, &err), LB_EDATA);
	CHECK(strstr(err.msg, "suppressions.pending:1: not a pending-report record") != NULL);
	fresh();
}

/* Every record ever written stays (the audit of who changed what, when);
 * what another process records is seen at once by a handle already open
 * (a web unsubscribe during a send). */
static void test_history_and_concurrent_writers(void)
{
	fresh();
	struct suppressions *a = load(), *b = load();
	CHECK_INT(add(a, "ada@example.org", SUP_UNSUBSCRIBED, T0, "web: one-click"), 0);
	CHECK_INT(suppressions_check(b, "ada@example.org"), SUP_UNSUBSCRIBED);
	CHECK_INT(
	    add(b, "ada@example.org", SUP_RESUBSCRIBED, T0 + 1, "`letterbox subscribers add`"), 0);
	CHECK_INT(suppressions_check(a, "ada@example.org"), SUP_NONE);
	CHECK_INT(add(a, "ada@example.org", SUP_COMPLAINT, T0 + 2, "arf"), 0);
	const struct suppression *x = suppressions_get(a, "ada@example.org");
	CHECK(x && x->reason == SUP_COMPLAINT);
	/* a record handed out stays valid while the handle lives */
	CHECK_INT(add(a, "ada@example.org", SUP_HARD_BOUNCE, T0 + 3, "550"), 0);
	const struct suppression *y = suppressions_get(a, "ada@example.org");
	CHECK(y && y->reason == SUP_HARD_BOUNCE && x->reason == SUP_COMPLAINT);
	CHECK(suppressions_get(a, "ada@example.org") == y); /* unchanged: the same record */
	CHECK_INT(query("SELECT count(*) FROM sup_records WHERE key = 'ada@example.org'"), 4);
	CHECK_INT(query("SELECT count(*) FROM sup_records WHERE reason = 'resubscribed'"), 1);
	suppressions_free(a);
	suppressions_free(b);
	fresh();
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 2;
	snprintf(state, sizeof state, "%s/state", tmp);
	snprintf(file, sizeof file, "%s/suppressions", state);
	snprintf(pfile, sizeof pfile, "%s/suppressions.pending", state);
	RUN(test_missing_file_is_empty);
	RUN(test_add_check_list);
	RUN(test_latest_wins_and_resubscribe);
	RUN(test_torn_last_line);
	RUN(test_damage_is_an_error);
	RUN(test_evidence_one_line);
	RUN(test_modes);
	RUN(test_bad_input);
	RUN(test_reason_names);
	RUN(test_hundred_thousand);
	RUN(test_pending);
	RUN(test_pending_import);
	RUN(test_history_and_concurrent_writers);
	fresh();
	rmdir(tmp);
	return harness_done("suppressions");
}
