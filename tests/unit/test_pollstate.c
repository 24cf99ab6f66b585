/* store/pollstate: the seen log and soft-bounce counting survive a reopen. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "core/timefmt.h"
#include "store/db.h"
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
	db_done(true);
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
	db_done(true);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The files the release before the database kept (its poll/seen,
 * cursor.NAME, soft-bounces and acknowledged) are read in on the first
 * open, as that release read them: the latest record of a key wins, a torn
 * last line is no record, legacy records keep their refs. */
static void test_import(void)
{
	char sub[128], path[256];
	snprintf(sub, sizeof sub, "%s/import", dir);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll", sub);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll/seen", sub);
	write_file(path, "mid:a d1\tbounce\t2026-11-20T12:00:00Z\tuid:1\n"
			 "mid:b d2\tinquiry\t2026-11-20T12:00:00Z\tuid:2\n"
			 "mid:b d2\tauto-reply\t2026-11-20T12:00:01Z\tuid:2\n"
			 "mid:old@x\tbounce\t2026-11-20T12:00:00Z\tm7\n"
			 "mid:s d5\tsent\t2026-11-20T12:00:00Z\tuid:3\n"
			 "mid:torn d3\tinquiry\t2026-11-20T12:0");
	char *name = pollstate_cursor_name("imap://x/INBOX");
	CHECK_INT(strlen(name), 16);
	snprintf(path, sizeof path, "%s/poll/cursor.%s", sub, name);
	write_file(path, "1796304633 41\n");
	free(name);
	name = pollstate_cursor_name("imap://x/Sent");
	snprintf(path, sizeof path, "%s/poll/cursor.%s", sub, name);
	write_file(path, "7 3\n");
	free(name);
	snprintf(path, sizeof path, "%s/poll/soft-bounces", sub);
	write_file(path, "2026-11-20T12:00:00Z\tada@example.org\tmid:q1 d\n"
			 "2026-11-20T13:00:00Z\tada@example.org\tmid:q2 d\n"
			 "2026-11-20T14:00:00Z\tada@example.org\tmid:q3");
	snprintf(path, sizeof path, "%s/acknowledged", sub);
	write_file(path, "2026-11-20T12:00:00Z\tza5sei5hovvd3pu2\t1\n");

	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), 0);
	CHECK_STR(pollstate_seen_kind(ps, "mid:a d1", NULL), "bounce");
	CHECK_STR(pollstate_seen_kind(ps, "mid:b d2", NULL), "auto-reply");
	CHECK(pollstate_logged(ps, "mid:s d5") && !pollstate_seen_kind(ps, "mid:s d5", NULL));
	CHECK(!pollstate_seen(ps, "mid:torn d3", NULL));
	CHECK(pollstate_seen(ps, "mid:old@x 0123", "m7"));
	CHECK(!pollstate_seen(ps, "mid:old@x 0123", "m8"));
	struct cursor c = pollstate_cursor(ps), s;
	CHECK_INT(c.uidvalidity, 1796304633);
	CHECK_INT(c.last_uid, 41);
	CHECK_INT(pollstate_cursor_of(ps, "imap://x/Sent", &s, &err), 0);
	CHECK_INT(s.uidvalidity, 7);
	CHECK_INT(s.last_uid, 3);
	CHECK_INT(pollstate_cursor_of(ps, "imap://x/Other", &s, &err), 0);
	CHECK_INT(s.uidvalidity, 0);
	/* q1 and q2 read in, the torn q3 not; q2 again counts once */
	time_t t;
	CHECK(time_parse(span_cstr("2026-11-20T15:00:00Z"), &t));
	size_t k = 0;
	CHECK_INT(pollstate_soft_bounce(ps, "ada@example.org", "mid:q2 d", t, 86400, &k, &err), 0);
	CHECK_INT(k, 2);
	CHECK_INT(pollstate_close(ps, &err), 0);
	/* the old files are kept aside until the next successful command */
	snprintf(path, sizeof path, "%s/poll.pre-1/seen", sub);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/acknowledged.pre-1", sub);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/poll", sub);
	CHECK(!exists(path));
	sqlite3 *db;
	CHECK_INT(db_get(sub, &db, &err), 0);
	sqlite3_stmt *st;
	CHECK_INT(db_prepare(db, "SELECT hash, inquiry, at FROM poll_acks", &st, &err), 0);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "za5sei5hovvd3pu2");
	CHECK_INT(sqlite3_column_int64(st, 1), 1);
	CHECK(time_parse(span_cstr("2026-11-20T12:00:00Z"), &t));
	CHECK_INT(sqlite3_column_int64(st, 2), t);
	sqlite3_finalize(st);
	db_done(true);
}

/* Records, the cursor and a mark's failure: the cursor goes with the
 * records not yet committed; a failed mark records none of its batch. */
static void test_transaction(void)
{
	char sub[128];
	snprintf(sub, sizeof sub, "%s/tx", dir);
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), 0);
	pollstate_mark(ps, "mid:p1 d", "inquiry", 1000, "uid:1");
	/* The mark is committed at once (durable at poll's checkpoint, with
	 * syncing deferred): the write lock is not held across a batch, so
	 * another process (a web request) writes meanwhile without waiting. */
	char path[256];
	snprintf(path, sizeof path, "%s/letterbox.db", sub);
	sqlite3 *other;
	CHECK_INT(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	const char *count = "SELECT (SELECT count(*) FROM poll_seen),"
			    " (SELECT count(*) FROM poll_cursors)";
	CHECK_INT(sqlite3_prepare_v2(other, count, -1, &st, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 1);
	CHECK_INT(sqlite3_column_int(st, 1), 0);
	sqlite3_reset(st);
	CHECK_INT(pollstate_set_cursor(ps, (struct cursor){5, 9}, &err), 0);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 1), 1);
	sqlite3_finalize(st);
	/* a mark that fails (the table gone): pollstate_sync says so, and the
	 * cursor is not moved past it */
	sqlite3 *db;
	CHECK_INT(db_get(sub, &db, &err), 0);
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE poll_seen RENAME TO poll_seen_x", NULL, NULL, NULL),
		  SQLITE_OK);
	pollstate_mark(ps, "mid:p3 d", "inquiry", 1000, "uid:3");
	CHECK(pollstate_set_cursor(ps, (struct cursor){5, 10}, &err) != 0);
	CHECK(err.msg[0] != '\0');
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE poll_seen_x RENAME TO poll_seen", NULL, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(other, "SELECT last_uid FROM poll_cursors", -1, &st, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 9);
	sqlite3_finalize(st);
	sqlite3_close(other);
	CHECK_INT(pollstate_close(ps, &err), 0);
	db_done(true);
}

/* Peak resident memory since the last reset (kB); resetting it. */
static long peak_kb(bool reset)
{
	long kb = -1;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	if (reset && (f = fopen("/proc/self/clear_refs", "w"))) {
		fputs("5", f);
		fclose(f);
	}
	return kb;
}

#ifndef __has_feature
#define __has_feature(x) 0
#endif
/* Whether this process's peak RSS is the program's own. */
static bool measured_memory(void)
{
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
	return false;
#else
	const char *vg = getenv("LB_VALGRIND");
	return !(vg && strcmp(vg, "1") == 0);
#endif
}

/* A poll's start, memory and per-message cost do not grow with history: a
 * seen log of 200,000 records and 50,000 soft bounces (2,000 of them of the
 * one address, all older than the window) are not held in memory, and a
 * look-up or a soft bounce reads only what it needs. */
static void test_scale(void)
{
	enum { SEEN = 200000, SOFT = 50000, MINE = 2000 };
	char sub[128], path[256];
	snprintf(sub, sizeof sub, "%s/scale", dir);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll", sub);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll/seen", sub);
	FILE *f = fopen(path, "w");
	for (int i = 0; f && i < SEEN; i++)
		fprintf(f,
			"mid:%08d@mail.example.net 0123456789abcdef0123456789abcdef\tinquiry"
			"\t2026-11-20T12:00:00Z\t1796304633.%08d.localhost\n",
			i, i);
	if (f)
		fclose(f);
	snprintf(path, sizeof path, "%s/poll/soft-bounces", sub);
	f = fopen(path, "w");
	for (int i = 0; f && i < SOFT; i++)
		fprintf(f, "2026-%02d-01T12:00:00Z\t%s%d@example.org\tmid:%d@mx.example.org d\n",
			1 + i % 9, i < MINE ? "ada" : "user", i < MINE ? 0 : i, i);
	if (f)
		fclose(f);

	/* the upgrade reads them in, streaming */
	peak_kb(true);
	struct pollstate *ps;
	struct lb_err err = {0};
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), 0);
	CHECK_INT(pollstate_close(ps, &err), 0);
	db_done(true);
	long upgrade_kb = peak_kb(true);

	/* a run: open, 1,000 look-ups and soft bounces */
	long before = peak_kb(false);
	unsigned long long rows = pollstate_rows_read();
	CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), 0);
	CHECK(pollstate_seen(ps, "mid:00000007@mail.example.net 0123456789abcdef0123456789abcdef",
			     NULL));
	time_t t;
	CHECK(time_parse(span_cstr("2026-12-01T12:00:00Z"), &t));
	char key[64];
	size_t k = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "mid:%08d@mail.example.net 0000", SEEN + i);
		CHECK(!pollstate_seen(ps, key, "uid:1"));
		pollstate_mark(ps, key, "bounce", t + i, "uid:1");
		CHECK_INT(
		    pollstate_soft_bounce(ps, "ada0@example.org", key, t + i, 86400, &k, &err), 0);
	}
	CHECK_INT(k, 1000);
	CHECK_INT(pollstate_close(ps, &err), 0);
	long run_kb = peak_kb(false);
	/* the look-ups found nothing but the one key; the counts read the
	 * window's bounces only (0 + 1 + … + 999), none of the 2,000 old ones */
	CHECK_INT(pollstate_rows_read() - rows, 1 + 999 * 1000 / 2);
	/* and by the indexes, whatever the table's size */
	sqlite3 *db;
	CHECK_INT(db_get(sub, &db, &err), 0);
	static const struct {
		const char *sql, *plan;
	} plans[] = {
	    {"SELECT kind FROM poll_seen WHERE key = ?", "USING PRIMARY KEY (key=?)"},
	    {"SELECT kind FROM poll_seen_legacy WHERE key = ? AND ref = ?",
	     "USING PRIMARY KEY (key=? AND ref=?)"},
	    {"SELECT count(*) FROM poll_soft_bounces WHERE address = ? AND at > ? AND at <= ?"
	     " AND key <> ?",
	     "USING COVERING INDEX poll_soft_bounces_at (address=? AND at>? AND at<?)"},
	    {"SELECT 1 FROM poll_acks WHERE hash = ? AND at >= ? AND inquiry <> ? LIMIT 1",
	     "USING INDEX poll_acks_hash (hash=? AND at>?)"},
	};
	for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
		char q[512];
		snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", plans[i].sql);
		sqlite3_stmt *st;
		CHECK_INT(db_prepare(db, q, &st, &err), 0);
		CHECK_INT(sqlite3_step(st), SQLITE_ROW);
		const char *plan = (const char *)sqlite3_column_text(st, 3);
		if (!CHECK(plan && strstr(plan, plans[i].plan)))
			fprintf(stderr, "    %s: %s\n", plans[i].sql, plan ? plan : "(none)");
		sqlite3_finalize(st);
	}
	/* the release held the whole log: ~22 MB of text and as much in a set
	 * (a sanitizer's or valgrind's own memory is not the program's) */
	if (measured_memory()) {
		CHECK(upgrade_kb - before < 16 * 1024 || upgrade_kb < 0);
		CHECK(run_kb - before < 8 * 1024 || run_kb < 0);
		if (run_kb - before >= 8 * 1024)
			fprintf(stderr, "    peak grew by %ld kB in a run\n", run_kb - before);
	}
	db_done(true);
}

/* A log that cannot be read is an error, not an empty log: taken for empty,
 * every message would be filed again.  The upgrade stops, nothing moves. */
static void test_unreadable_logs(void)
{
	char sub[128], path[192];
	snprintf(sub, sizeof sub, "%s/unreadable", dir);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof path, "%s/poll", sub);
	CHECK(mkdir(path, 0700) == 0);
	const char *logs[] = {"poll/seen", "poll/soft-bounces", "acknowledged"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", sub, logs[i]);
		CHECK(mkdir(path, 0700) == 0); /* read(2) on it: EISDIR */
		struct pollstate *ps = NULL;
		struct lb_err err = {0};
		CHECK_INT(pollstate_open(sub, "imap://x/INBOX", &ps, &err), LB_EIO);
		CHECK(strstr(err.msg, logs[i]) != NULL);
		CHECK(exists(path));
		CHECK(rmdir(path) == 0);
		db_done(false);
	}
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbpoll.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_scale); /* first: it measures the process's peak memory */
	RUN(test_seen_and_soft);
	RUN(test_key);
	RUN(test_legacy_records);
	RUN(test_import);
	RUN(test_transaction);
	RUN(test_unreadable_logs);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("pollstate");
}
