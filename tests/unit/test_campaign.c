/* deliver: the journal (group commit, torn tails) and the campaign's replay. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "deliver/campaign.h"
#include "deliver/journal.h"
#include "harness.h"

static char dir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_journal(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/journal", dir);
	struct journal *j;
	struct lb_err err = {0};
	struct buf old = BUF_INIT;
	CHECK_INT(journal_open(path, &old, &j, &err), 0);
	CHECK_INT(old.n, 0);
	uint64_t a = journal_append(j, "A %d %d\n", 1, 100);
	uint64_t b = journal_append(j, "S %d %d 250 2.0.0 ok\n", 1, 101);
	CHECK(a < b);
	CHECK(journal_synced(j) < a); /* nothing durable before a flush */
	CHECK_INT(journal_flush(j, &err), 0);
	CHECK_INT(journal_sync(j, &err), 0);
	CHECK(journal_synced(j) >= b);
	CHECK_INT(journal_close(j, &err), 0);

	/* A torn last record (a crash mid-write) is cut on open. */
	int fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, "A 2 1", 5) == 5);
	close(fd);
	buf_reset(&old);
	CHECK_INT(journal_open(path, &old, &j, &err), 0);
	CHECK_STR(buf_cstr(&old), "A 1 100\nS 1 101 250 2.0.0 ok\n");
	journal_append(j, "A 2 102\n");
	CHECK_INT(journal_close(j, &err), 0);
	buf_reset(&old);
	CHECK_INT(fsx_read(path, &old, 0, &err), 0);
	CHECK_STR(buf_cstr(&old), "A 1 100\nS 1 101 250 2.0.0 ok\nA 2 102\n");
	buf_free(&old);
}

static void test_replay(void)
{
	struct config cfg = {0};
	cfg.state_dir = dir;
	char cdir[128], path[160];
	snprintf(cdir, sizeof cdir, "%s/campaigns/x", dir);
	struct lb_err err = {0};
	CHECK_INT(fsx_mkdirs(cdir, 0700, &err), 0);
	snprintf(path, sizeof path, "%s/recipients", cdir);
	write_file(path, "# letterbox campaign x started 1000\n"
			 "R\ta@example.org\tAda\tfriends\tcity=Paris\n"
			 "R\tb@example.org\t\tfriends\n"
			 "R\tc@example.org\tC\\tTab\tfriends\n"
			 "R\td@example.org\t\tfriends\n"
			 "R\te@example.org\t\tfriends\n"
			 "K\tf@example.org\tsuppressed: unsubscribed\n");
	snprintf(path, sizeof path, "%s/journal", cdir);
	write_file(path, "A 0 1001\nS 0 1002 250 2.0.0 queued\n"
			 "A 1 1001\nD 1 1002 451 4.3.0 try later\n"
			 "A 2 1001\n"
			 "A 3 1001\nF 3 1002 550 5.1.1 no such user\n"
			 "A 4 1001\nN 4 1002\n"
			 "S 4 10"); /* torn: ignored */
	struct campaign c;
	CHECK_INT(campaign_load(&cfg, "x", &c, &err), 0);
	CHECK_INT(c.n, 5);
	CHECK_INT(c.nskip, 1);
	CHECK_INT(c.started, 1000);
	struct crcpt r = {0};
	struct rcpt_detail d;
	campaign_rcpt(&c, 0, &r);
	CHECK_STR(r.name, "Ada");
	CHECK(r.nfields == 1 && strcmp(r.fields[0].value, "Paris") == 0);
	campaign_rcpt(&c, 1, &r);
	CHECK(r.name == NULL);
	CHECK_STR(r.email, "b@example.org");
	campaign_rcpt(&c, 2, &r);
	CHECK_STR(r.name, "C\tTab");
	CHECK_INT(campaign_state(&c, 0), RS_SENT);
	CHECK_INT(campaign_state(&c, 1), RS_DEFERRED);
	campaign_detail(&c, 1, &d);
	CHECK_INT(d.next_at, 1002 + 15 * 60);
	CHECK_STR(d.why, "try later");
	CHECK_INT(campaign_state(&c, 2), RS_UNCERTAIN);
	CHECK_INT(campaign_state(&c, 3), RS_FAILED);
	campaign_detail(&c, 3, &d);
	CHECK_INT(d.code, 550);
	CHECK_INT(campaign_state(&c, 4), RS_PENDING);
	campaign_skip(&c, 0, &r);
	CHECK_STR(r.email, "f@example.org");
	CHECK_STR(r.reason, "suppressed: unsubscribed");
	crcpt_free(&r);
	struct campaign_counts k;
	campaign_count(&c, &k);
	CHECK(k.sent == 1 && k.deferred == 1 && k.uncertain == 1 && k.failed == 1 &&
	      k.pending == 1 && k.skipped == 1 && k.total == 6);
	CHECK(!c.finished);
	/* A second deferral doubles the wait; R releases an uncertain one. */
	const char *d2 = "D 1 3000 451 4.3.0 still busy";
	campaign_apply(&c, d2, strlen(d2));
	campaign_detail(&c, 1, &d);
	CHECK_INT(d.next_at, 3000 + 30 * 60);
	CHECK_INT(d.first_deferred, 1002);
	campaign_apply(&c, "R 2 3000", 8);
	CHECK_INT(campaign_state(&c, 2), RS_PENDING);
	/* K: suppressed after the snapshot, skipped with its reason */
	const char *k1 = "K 1 3100 suppressed: removed";
	campaign_apply(&c, k1, strlen(k1));
	CHECK_INT(campaign_state(&c, 1), RS_SKIPPED);
	campaign_detail(&c, 1, &d);
	CHECK_STR(d.why, "suppressed: removed");
	CHECK_STR(rcpt_state_name(RS_SKIPPED), "skipped");
	campaign_count(&c, &k);
	CHECK(k.deferred == 0 && k.skipped == 2 && k.total == 6);
	campaign_apply(&c, "S 99 1 250 - out of range", 25); /* ignored, no crash */
	campaign_apply(&c, "E 4000", 6);
	CHECK(c.finished && c.finished_at == 4000);
	campaign_free(&c);
	CHECK_INT(campaign_backoff(0, 1), 900);
	CHECK_INT(campaign_backoff(0, 3), 3600);
}

/* Whether a campaign went out, and when: the journal's first S record. */
static void test_first_sent(void)
{
	struct config cfg = {0};
	cfg.state_dir = dir;
	char cdir[128], path[160];
	struct lb_err err = {0};
	time_t when = 1;
	CHECK_INT(campaign_first_sent(&cfg, "none", &when, &err), 0);
	CHECK_INT(when, 0); /* no campaign: not sent */
	snprintf(cdir, sizeof cdir, "%s/campaigns/fs", dir);
	CHECK_INT(fsx_mkdirs(cdir, 0700, &err), 0);
	snprintf(path, sizeof path, "%s/journal", cdir);
	struct {
		const char *journal;
		long long want;
	} cases[] = {
	    {"", 0},
	    {"A 0 100\nA 1 100\n", 0}, /* uncertain only */
	    {"A 0 100\nD 0 101 450 4.2.0 busy\nF 0 200 550 5.1.1 no\nE 300\n", 0}, /* failed */
	    {"A 0 100\nS 0 105 250 2.0.0 ok\nS 1 109 250 2.0.0 ok\n", 105},
	    {"A 0 100\nF 0 101 550 5.1.1 no\nA 1 102\nS 1 107 250 2.0.0 ok\nE 110\n", 107},
	    {"A 0 100\nS 0 105 250 2.0", 0},		 /* a torn last line is not trusted */
	    {"S 0 x\nS 0 0 250 ok\nSS 1 5 250 ok\n", 0}, /* not records */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		write_file(path, cases[i].journal);
		CHECK_INT(campaign_first_sent(&cfg, "fs", &when, &err), 0);
		CHECK_INT(when, cases[i].want);
	}
	/* The first S far past the first read, across a read boundary, after a
	 * line longer than the buffer. */
	struct buf big = BUF_INIT;
	for (int k = 0; k < 2000; k++)
		buf_printf(&big, "A %d 100\nD %d 101 421 4.3.0 try later\n", k, k);
	buf_addc(&big, 'K');
	for (int k = 0; k < 9000; k++)
		buf_addc(&big, 'x');
	buf_adds(&big, "\nS 7 4242 250 2.0.0 ok\n");
	write_file(path, big.p);
	CHECK_INT(campaign_first_sent(&cfg, "fs", &when, &err), 0);
	CHECK_INT(when, 4242);
	buf_free(&big);
	/* A journal that cannot be read is an error, never "not sent". */
	unlink(path);
	CHECK(symlink("/etc/passwd", path) == 0);
	CHECK(campaign_first_sent(&cfg, "fs", &when, &err) != 0);
	unlink(path);
}

/* The summary: the journal's numbers, rebuilt when missing or stale; the
 * index answers "was it sent to this address". */
static void test_summary(void)
{
	struct config cfg = {0};
	cfg.state_dir = dir;
	char cdir[128], path[160], spath[160];
	snprintf(cdir, sizeof cdir, "%s/campaigns/sum", dir);
	struct lb_err err = {0};
	CHECK_INT(fsx_mkdirs(cdir, 0700, &err), 0);
	snprintf(path, sizeof path, "%s/recipients", cdir);
	write_file(path, "# letterbox campaign sum started 1000\n"
			 "R\ta@example.org\tAda\tfriends\n"
			 "R\tB@Example.org\t\tfriends\n"
			 "K\tz@example.org\tsuppressed: unsubscribed\n"
			 "R\tc@example.org\t\tfriends\n"
			 "R\td@example.org\t\tfriends\n");
	snprintf(path, sizeof path, "%s/journal", cdir);
	write_file(path, "A 0 1001\nS 0 1002 250 2.0.0 queued\n"
			 "A 1 1001\nS 1 1002 250 2.0.0 queued\n"
			 "A 2 1001\nD 2 1002 451 4.3.0 try later\n");
	snprintf(spath, sizeof spath, "%s/summary", cdir);
	CHECK(!fsx_exists(spath)); /* as a site from before summaries has it */
	struct campaign_summary s;
	CHECK_INT(campaign_summary(&cfg, "sum", &s, &err), 0);
	CHECK(fsx_exists(spath));
	CHECK(s.k.sent == 2 && s.k.deferred == 1 && s.k.pending == 1 && s.k.skipped == 1 &&
	      s.k.total == 5);
	CHECK_INT(s.started, 1000);
	CHECK(!s.finished);
	CHECK_INT(s.nattn, 1);
	CHECK(s.nattn == 1 && s.attn[0].idx == 2 && s.attn[0].state == RS_DEFERRED &&
	      s.attn[0].code == 451 && strcmp(s.attn[0].why, "try later") == 0 &&
	      strcmp(s.attn[0].email, "c@example.org") == 0 && s.attn[0].next_at == 1002 + 15 * 60);
	CHECK(s.nskip == 1 && strcmp(s.skip[0].reason, "suppressed: unsubscribed") == 0);
	CHECK(campaign_sent_to(&s, "a@example.org"));
	CHECK(campaign_sent_to(&s, "b@example.org"));  /* keys are lower-cased */
	CHECK(!campaign_sent_to(&s, "c@example.org")); /* deferred, not sent */
	CHECK(!campaign_sent_to(&s, "nobody@example.org"));
	campaign_summary_free(&s);
	/* The journal moves on: the summary is stale and rebuilt. */
	FILE *f = fopen(path, "a");
	fputs("A 2 2000\nS 2 2001 250 2.0.0 ok\nA 3 2000\nF 3 2001 550 5.1.1 gone\nE 2002\n", f);
	fclose(f);
	CHECK_INT(campaign_summary(&cfg, "sum", &s, &err), 0);
	CHECK(s.k.sent == 3 && s.k.failed == 1 && s.k.deferred == 0 && s.k.pending == 0);
	CHECK(s.finished && s.finished_at == 2002);
	CHECK(campaign_sent_to(&s, "c@example.org"));
	campaign_summary_free(&s);
	CHECK(campaign_finished_fast(&cfg, "sum"));
	/* Whatever the summary says, what a load replays is the journal's. */
	struct buf b = BUF_INIT;
	CHECK_INT(fsx_read(spath, &b, 0, &err), 0);
	char *fin = strstr(b.p, "counts 4 1 3 0 1 0 0 1\n");
	CHECK(fin != NULL);
	if (fin)
		memcpy(fin, "counts 4 1 4 0 0 0 0 1\n", 23);
	CHECK_INT(fsx_write_atomic(spath, b.p, b.n, 0600, &err), 0);
	buf_free(&b);
	CHECK_INT(campaign_summary(&cfg, "sum", &s, &err), 0);
	CHECK_INT(s.k.sent, 4); /* readers trust a summary of this very journal... */
	campaign_summary_free(&s);
	struct campaign c;
	CHECK_INT(campaign_load(&cfg, "sum", &c, &err), 0);
	CHECK_INT(campaign_state(&c, 3), RS_FAILED); /* ...a run, the journal */
	campaign_free(&c);
	/* A torn last record: not finished as far as the tail says. */
	f = fopen(path, "a");
	fputs("A 1", f);
	fclose(f);
	CHECK(!campaign_finished_fast(&cfg, "sum"));
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lbcamp.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_journal);
	RUN(test_replay);
	RUN(test_first_sent);
	RUN(test_summary);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("campaign");
}
