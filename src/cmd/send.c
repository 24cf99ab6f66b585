/* letterbox send: the main job.  Sends each due article to its recipients
 * exactly once, resumes what an earlier run left, and tells the truth about
 * every recipient (letterbox status). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/init_config.h"
#include "compose/message.h"
#include "core/addr.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "deliver/campaign.h"
#include "deliver/sender.h"
#include "deliver/transport.h"
#include "store/suppressions.h"

static const char usage[] =
    "letterbox send [ARTICLE] [--dry-run] [--to ADDR] [--limit N]\n"
    "               [--resend-uncertain] [--now TIME]\n"
    "\n"
    "Without ARTICLE: send every due article (send_at, else date, has passed; not a\n"
    "draft; not sent yet), oldest first, and resume any campaign an earlier run left\n"
    "unfinished.  Articles older than send.catch_up are reported as missed, not sent.\n"
    "With ARTICLE: send that article now, whatever its date.\n"
    "\n"
    "  --dry-run           compose everything, list who would get what; send nothing\n"
    "  --to ADDR           a test send of ARTICLE to ADDR only, the subject marked\n"
    "                      send.test_prefix (\"[TEST] \"); recorded nowhere\n"
    "  --limit N           at most N messages in this run\n"
    "  --resend-uncertain  send again where an earlier delivery is uncertain\n"
    "  --now TIME          act as if it were TIME (e.g. \"2026-11-25 09:00\")\n"
    "\n"
    "Exit 0 when done, 75 when deferred recipients remain or another send is\n"
    "running (cron will retry), 69 when the server is unavailable, 78 for\n"
    "configuration errors.";

struct send_ctx {
	struct cli *g;
	bool dry_run, resend_uncertain, progress;
	long limit;
	time_t now;
	struct secret secret;
	struct suppressions *sup;
	struct transport *t;
	int worst; /* the exit code to return if nothing stops the run */
};

static void note_code(struct send_ctx *s, int code)
{
	/* 65 and 75 are "carry on" codes; keep the most serious one seen. */
	if (code && (s->worst == 0 || (s->worst == LB_ETEMP && code != LB_ETEMP)))
		s->worst = code;
}

static void report_invalid(void *ctx, const char *msg)
{
	(void)ctx;
	term_printf(stderr, "letterbox: %s (not sent)\n", msg);
}

static int open_transport(struct send_ctx *s, struct lb_err *err)
{
	if (s->t)
		return 0;
	struct transport_opts o = {&s->g->cfg.out, s->g->cfg.site_dir, 60};
	return transport_open(&o, &s->t, err);
}

static void say_summary(const struct campaign *c, const struct send_stats *st)
{
	struct campaign_counts k;
	campaign_count(c, &k);
	if (log_verbose || isatty(STDOUT_FILENO))
		printf("%s: %zu sent, %zu deferred, %zu failed, %zu uncertain, %zu pending, "
		       "%zu skipped (this run: %zu attempted in %.1f s)\n",
		       c->slug, k.sent, k.deferred, k.failed, k.uncertain, k.pending, k.skipped,
		       st->attempted, st->seconds);
	if (st->skipped)
		fprintf(stderr,
			"letterbox: %s: %zu recipient%s suppressed since the campaign started: "
			"skipped (see letterbox status)\n",
			c->slug, st->skipped, st->skipped == 1 ? "" : "s");
	if (k.deferred)
		fprintf(stderr, "letterbox: %s: %zu recipient%s deferred, will retry\n", c->slug,
			k.deferred, k.deferred == 1 ? "" : "s");
	if (st->uncertain)
		fprintf(stderr,
			"letterbox: %s: %zu recipient%s uncertain (see letterbox status; "
			"send --resend-uncertain to send again)\n",
			c->slug, st->uncertain, st->uncertain == 1 ? "" : "s");
}

/* Compose every message without sending, to prove it can be done. */
static int dry_run(struct send_ctx *s, const struct article *a, struct lb_err *err)
{
	struct campaign c;
	int rc = campaign_recipients(&s->g->cfg, a, s->sup, s->now, false, &c, report_invalid, NULL,
				     err);
	struct newsletter *nl = NULL;
	if (!rc)
		rc = newsletter_prepare(&s->g->cfg, a, &s->secret, s->now, &nl, err);
	struct message m;
	message_init(&m);
	size_t bytes = 0;
	struct crcpt who = {0};
	for (size_t i = 0; !rc && i < c.n; i++) {
		campaign_rcpt(&c, i, &who);
		struct recipient r = {who.email, who.name, who.fields, who.nfields};
		rc = newsletter_compose(nl, &r, s->now, &m, err);
		bytes += m.size;
		if (!rc)
			term_printf(stdout, "  would send to %s\n", who.email);
	}
	if (!rc) {
		printf("%s: would send %zu message%s (%.0f KB each), skip %zu\n", a->slug, c.n,
		       c.n == 1 ? "" : "s", c.n ? (double)bytes / (double)c.n / 1024 : 0.0,
		       c.nskip);
		for (size_t i = 0; i < c.nskip; i++) {
			campaign_skip(&c, i, &who);
			term_printf(stdout, "  skip %s: %s\n", who.email, who.reason);
		}
	}
	crcpt_free(&who);
	message_free(&m);
	newsletter_free(nl);
	campaign_free(&c);
	return rc;
}

static int run_campaign(struct send_ctx *s, const struct article *a, struct lb_err *err)
{
	const struct config *cfg = &s->g->cfg;
	struct campaign c;
	int rc;
	/* Nothing to do: known from the journal's last record, without loading. */
	if (!s->resend_uncertain && campaign_finished_fast(cfg, a->slug)) {
		if (log_verbose)
			printf("%s: already sent\n", a->slug);
		return 0;
	}
	if (campaign_exists(cfg, a->slug)) {
		rc = campaign_load(cfg, a->slug, &c, err);
	} else {
		rc = campaign_recipients(cfg, a, s->sup, s->now, true, &c, report_invalid, NULL,
					 err);
	}
	struct newsletter *nl = NULL;
	if (!rc && c.finished && !s->resend_uncertain) {
		if (log_verbose)
			printf("%s: already sent\n", a->slug);
		campaign_free(&c);
		return 0;
	}
	if (!rc)
		rc = newsletter_prepare(cfg, a, &s->secret, c.started, &nl, err);
	if (!rc)
		rc = open_transport(s, err);
	if (!rc) {
		struct send_opts o = {
		    s->now, s->limit, s->resend_uncertain, s->progress,
		    2 * (size_t)(cfg->out.connections ? cfg->out.connections : 1)};
		struct send_stats st;
		rc = campaign_send(cfg, &c, nl, s->t, s->sup, &o, &st, err);
		say_summary(&c, &st);
		struct campaign_counts k;
		campaign_count(&c, &k);
		if (!rc && k.deferred)
			note_code(s, LB_ETEMP);
	}
	newsletter_free(nl);
	campaign_free(&c);
	return rc;
}

static void test_done(void *ctx, struct tx_job *job, const struct outcome *o)
{
	(void)job;
	*(struct outcome *)ctx = *o;
}

/* A test send: one message, not journaled, not counted. */
static int test_send(struct send_ctx *s, const struct article *a, const char *to,
		     struct lb_err *err)
{
	struct addr rcpt = {0};
	if (addr_parse(span_cstr(to), &rcpt, err)) {
		err_prefix(err, "--to");
		return err->code = LB_EUSAGE;
	}
	struct newsletter *nl = NULL;
	struct message m;
	message_init(&m);
	int rc = newsletter_prepare(&s->g->cfg, a, &s->secret, s->now, &nl, err);
	if (!rc && s->g->cfg.test_prefix && *s->g->cfg.test_prefix)
		newsletter_subject_prefix(nl, s->g->cfg.test_prefix);
	struct recipient r = {rcpt.spec, rcpt.display, NULL, 0};
	if (!rc)
		rc = newsletter_compose(nl, &r, time(NULL), &m, err);
	if (!rc)
		rc = open_transport(s, err);
	struct outcome o = {.kind = OUT_NOT_SENT};
	if (!rc) {
		struct tx_job job = {&m, buf_cstr(&m.envelope_from), rcpt.spec, NULL};
		transport_submit(s->t, &job);
		while (!rc && transport_busy(s->t))
			rc = transport_wait(s->t, 1000, -1, test_done, &o, err);
	}
	if (!rc && o.kind == OUT_SENT)
		printf("%s: test message sent to %s\n", a->slug, rcpt.spec);
	else if (!rc) {
		struct buf why = BUF_INIT;
		outcome_reason(&why, o.code, o.status, o.text);
		rc = err_set(err, o.kind == OUT_DEFERRED ? LB_ETEMP : LB_EUNAVAIL,
			     "%s: test message to %s not sent: %s", a->slug, rcpt.spec,
			     buf_cstr(&why));
		buf_free(&why);
	}
	message_free(&m);
	newsletter_free(nl);
	addr_free(&rcpt);
	return rc;
}

/* Has the article's moment come, and is it still within the catch-up window? */
enum due { DUE_NOT_YET, DUE_NOW, DUE_MISSED, DUE_DRAFT };

static enum due article_due(const struct config *cfg, const struct article *a, time_t now)
{
	if (a->draft)
		return DUE_DRAFT;
	if (a->send_at > now)
		return DUE_NOT_YET;
	return now - a->send_at > cfg->catch_up ? DUE_MISSED : DUE_NOW;
}

/* Report a missed article once: a marker in its campaign directory. */
static void report_missed(struct send_ctx *s, const struct article *a)
{
	char *dir = campaign_dir(&s->g->cfg, a->slug);
	char *marker = path_join(dir, "missed");
	if (!fsx_exists(marker)) {
		struct buf when = BUF_INIT, text = BUF_INIT;
		time_local(&when, a->send_at); /* said to a person, and by status */
		buf_printf(&text, "%s was due at %s, more than send.catch_up ago: not sent\n",
			   a->slug, when.p);
		fprintf(stderr, "letterbox: %s", text.p);
		struct lb_err err = {0};
		if (fsx_mkdirs(dir, 0700, &err) ||
		    fsx_write_atomic(marker, text.p, text.n, 0600, &err))
			log_warn("%s", err.msg);
		buf_free(&when);
		buf_free(&text);
	}
	free(marker);
	free(dir);
}

static int by_send_at(const void *x, const void *y)
{
	const struct article *a = x, *b = y;
	return a->send_at < b->send_at ? -1 : a->send_at > b->send_at;
}

/* Every article that is due, or has an unfinished campaign, oldest first. */
static int send_due(struct send_ctx *s, struct lb_err *err)
{
	char **paths = cli_article_paths(s->g);
	size_t n = 0;
	for (char **p = paths; *p; p++)
		n++;
	struct article *v = xcalloc(n + 1, sizeof *v);
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		struct lb_err aerr = {0};
		if (article_slug_clash(paths, paths[i], &aerr) ||
		    article_load(paths[i], &v[nv], &aerr) != 0) {
			term_printf(stderr, "letterbox: %s (not sent)\n", aerr.msg);
			note_code(s, aerr.code);
			article_free(&v[nv]);
			continue;
		}
		nv++;
	}
	qsort(v, nv, sizeof *v, by_send_at);
	int rc = 0;
	for (size_t i = 0; i < nv && !rc; i++) {
		const struct article *a = &v[i];
		bool started = campaign_exists(&s->g->cfg, a->slug);
		enum due d = article_due(&s->g->cfg, a, s->now);
		if (!started && d == DUE_MISSED) {
			report_missed(s, a);
			continue;
		}
		if (!started && d != DUE_NOW)
			continue;
		rc = s->dry_run ? dry_run(s, a, err) : run_campaign(s, a, err);
		if (rc == LB_EDATA) {
			term_printf(stderr, "letterbox: %s\n", err->msg);
			note_code(s, rc);
			rc = 0;
		}
	}
	for (size_t i = 0; i < nv; i++)
		article_free(&v[i]);
	free(v);
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
	return rc;
}

static void report_placeholder(void *ctx, const char *msg)
{
	(void)ctx;
	term_printf(stderr, "letterbox: %s\n", msg);
}

static int send_main(struct send_ctx *s, const char *name, const char *to)
{
	struct lb_err err = {0};
	const struct config *cfg = &s->g->cfg;
	int lockfd = -1, rc;
	struct article a = {0};
	/* Never a newsletter whose footer says CHANGE-ME: a dry run and a test
	 * send are how one looks at it first. */
	if (!to && !s->dry_run && init_placeholders_file(cfg->file, report_placeholder, NULL)) {
		term_printf(stderr, "letterbox: send: letterbox.yaml still holds placeholders "
				    "(above): nothing sent; fill them in (letterbox check)\n");
		return LB_ECONFIG;
	}
	if ((rc = fsx_mkdirs(cfg->state_dir, 0700, &err)) ||
	    (!to && !s->dry_run && (rc = cli_lock(cfg, "send", &lockfd, &err))) ||
	    (rc = secret_load(cfg->state_dir, true, &s->secret, &err)) ||
	    (rc = suppressions_load(cfg->state_dir, &s->sup, &err)))
		goto out;
	if (name) {
		if ((rc = cli_article(s->g, name, &a, &err)))
			goto out;
		if (to)
			rc = test_send(s, &a, to, &err);
		else if (a.draft)
			rc = err_set(&err, LB_EDATA,
				     "%s is a draft (draft: true): not sent; "
				     "use --to ADDR for a test send",
				     a.path);
		else
			rc = s->dry_run ? dry_run(s, &a, &err) : run_campaign(s, &a, &err);
	} else {
		rc = send_due(s, &err);
	}
out:
	if (rc)
		cli_fail(&err);
	article_free(&a);
	transport_close(s->t);
	suppressions_free(s->sup);
	cli_unlock(lockfd);
	return rc ? rc : s->worst;
}

int cmd_send(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"dry-run", no_argument, NULL, 'd'},
					     {"to", required_argument, NULL, 't'},
					     {"limit", required_argument, NULL, 'l'},
					     {"resend-uncertain", no_argument, NULL, 'r'},
					     {"now", required_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct send_ctx s = {.g = g};
	const char *to = NULL, *now_arg = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "dt:l:rn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			s.dry_run = true;
			break;
		case 't':
			to = optarg;
			break;
		case 'l': {
			char *end;
			s.limit = strtol(optarg, &end, 10);
			if (*end || s.limit <= 0)
				return cli_usage(usage, "--limit wants a positive number");
			break;
		}
		case 'r':
			s.resend_uncertain = true;
			break;
		case 'n':
			now_arg = optarg;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			return cli_usage(usage, "send: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (argc - optind > 1)
		return cli_usage(usage, "send: at most one article");
	const char *name = optind < argc ? argv[optind] : NULL;
	if (to && !name)
		return cli_usage(usage, "send --to needs an ARTICLE");
	int rc = cli_now(now_arg, &s.now);
	if (rc || (rc = cli_config(g)))
		return rc;
	s.progress = isatty(STDERR_FILENO) && !s.dry_run;
	return send_main(&s, name, to);
}
