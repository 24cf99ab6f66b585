/* letterbox status: where each campaign stands, recipient by recipient. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "deliver/campaign.h"
#include "deliver/notify.h"
#include "deliver/transport.h"
#include "store/inquiries.h"
#include "store/suppressions.h"

static const char usage[] =
    "letterbox status [ARTICLE] [--json]\n"
    "\n"
    "For each campaign (or ARTICLE's): how many recipients were sent, deferred,\n"
    "failed, uncertain (the message may have been delivered; never resent without\n"
    "send --resend-uncertain), pending, and skipped (suppressed or invalid), then\n"
    "the recipients that need attention, with reasons, and what followed the\n"
    "sending (\"since: 1 bounced later, 1 unsubscribed\": suppressions of its\n"
    "recipients recorded after it, each counted for the latest campaign that\n"
    "reached the address).  Articles reported as missed\n"
    "(older than send.catch_up when first seen) are listed too.  Without ARTICLE,\n"
    "the waiting inquiries whose urgent alert or acknowledgement may not have been\n"
    "sent (poll was interrupted) are listed last.\n"
    "\n"
    "--json prints one JSON object per campaign, one per line:\n"
    "  {\"article\", \"started\", \"finished\", \"counts\": {sent, deferred, failed,\n"
    "   uncertain, pending, skipped}, \"after\": {bounced, complained, unsubscribed},\n"
    "   \"recipients\": [{\"email\", \"state\", \"code\",\n"
    "   \"reason\"}] (those not sent), \"skipped\": [{\"email\", \"reason\"}]}\n"
    "  and {\"article\", \"missed\": reason} for missed articles.\n"
    "Then reports about subscribers that are not tied to a message of ours, kept\n"
    "as evidence and suppressing nobody until confirmed (letterbox subscribers\n"
    "suppressions --pending); with --json one last line {\"pending_reports\":\n"
    "[{\"address\", \"reason\", \"when\", \"evidence\"}]} when there are any.";

static void iso(struct buf *b, time_t t)
{
	if (t)
		time_iso(b, t);
}

/* The JSON "recipients": those not sent (and not skipped), in order: the
 * summary's, and the pending ones read from the snapshot between them. */
struct json_rcpts {
	struct buf *b;
	const struct campaign_summary *c;
	size_t next; /* the next attention entry */
	int any;
};

static void json_rcpt(struct json_rcpts *j, const char *email, enum rcpt_state st, int code,
		      const char *why)
{
	int f = 1;
	buf_adds(j->b, j->any++ ? ",{" : "{");
	json_key(j->b, "email", &f);
	json_str(j->b, email);
	json_key(j->b, "state", &f);
	json_str(j->b, rcpt_state_name(st));
	json_key(j->b, "code", &f);
	buf_printf(j->b, "%d", code);
	json_key(j->b, "reason", &f);
	json_str(j->b, why);
	buf_addc(j->b, '}');
}

/* The attention entries before idx (all of them for SIZE_MAX). */
static void json_attn_until(struct json_rcpts *j, size_t idx)
{
	for (; j->next < j->c->nattn && j->c->attn[j->next].idx < idx; j->next++) {
		const struct cattn *r = &j->c->attn[j->next];
		if (r->state != RS_SKIPPED)
			json_rcpt(j, r->email, r->state, r->code, r->why);
	}
}

static void json_pending(void *ctx, size_t idx, const char *email)
{
	struct json_rcpts *j = ctx;
	json_attn_until(j, idx);
	json_rcpt(j, email, RS_PENDING, 0, NULL);
}

static int print_json(struct campaign_summary *c, const struct campaign_after *after)
{
	const struct campaign_counts *k = &c->k;
	struct buf b = BUF_INIT, t = BUF_INIT;
	int first = 1;
	buf_addc(&b, '{');
	json_key(&b, "article", &first);
	json_str(&b, c->slug);
	iso(&t, c->started);
	json_key(&b, "started", &first);
	json_str(&b, t.p);
	buf_reset(&t);
	iso(&t, c->finished_at);
	json_key(&b, "finished", &first);
	json_str(&b, c->finished ? t.p : NULL);
	json_key(&b, "counts", &first);
	buf_printf(&b,
		   "{\"sent\":%zu,\"deferred\":%zu,\"failed\":%zu,\"uncertain\":%zu,"
		   "\"pending\":%zu,\"skipped\":%zu}",
		   k->sent, k->deferred, k->failed, k->uncertain, k->pending, k->skipped);
	json_key(&b, "after", &first);
	buf_printf(&b, "{\"bounced\":%zu,\"complained\":%zu,\"unsubscribed\":%zu}", after->bounced,
		   after->complained, after->unsubscribed);
	json_key(&b, "recipients", &first);
	buf_addc(&b, '[');
	struct json_rcpts j = {&b, c, 0, 0};
	struct lb_err err = {0};
	int rc = campaign_each_pending(c, json_pending, &j, &err);
	json_attn_until(&j, SIZE_MAX);
	buf_addc(&b, ']');
	int any = 0;
	json_key(&b, "skipped", &first);
	buf_addc(&b, '[');
	/* in the snapshot, then suppressed since */
	for (size_t i = 0; i < c->nskip + c->nattn; i++) {
		bool snap = i < c->nskip;
		const char *email = snap ? c->skip[i].email : c->attn[i - c->nskip].email;
		const char *why = snap ? c->skip[i].reason : c->attn[i - c->nskip].why;
		if (!snap && c->attn[i - c->nskip].state != RS_SKIPPED)
			continue;
		int f = 1;
		buf_adds(&b, any++ ? ",{" : "{");
		json_key(&b, "email", &f);
		json_str(&b, email);
		json_key(&b, "reason", &f);
		json_str(&b, why);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}");
	if (!rc)
		puts(b.p);
	buf_free(&b);
	buf_free(&t);
	return rc ? cli_fail(&err) : 0;
}

static void print_text(const struct campaign_summary *c, const struct campaign_after *after)
{
	const struct campaign_counts *k = &c->k;
	struct buf t = BUF_INIT;
	if (c->started)
		time_local(&t, c->started);
	printf("%s: started %s, %s\n", c->slug, buf_cstr(&t),
	       c->finished ? "finished" : "not finished");
	printf("  %zu sent, %zu deferred, %zu failed, %zu uncertain, %zu pending, %zu skipped\n",
	       k->sent, k->deferred, k->failed, k->uncertain, k->pending, k->skipped);
	buf_reset(&t);
	campaign_after_text(&t, after);
	if (t.n)
		printf("  since: %s\n", t.p);
	for (size_t i = 0; i < c->nattn; i++) {
		const struct cattn *r = &c->attn[i];
		if (r->state == RS_SKIPPED)
			continue;
		struct buf line = BUF_INIT;
		buf_printf(&line, "  %-9s %s", rcpt_state_name(r->state), r->email);
		if (r->state == RS_UNCERTAIN) {
			buf_adds(&line, ": the message may have been delivered "
					"(send --resend-uncertain)");
		} else if (r->why) {
			buf_adds(&line, ": ");
			outcome_reason(&line, r->code, NULL, r->why);
		}
		if (r->state == RS_DEFERRED) {
			buf_adds(&line, " (next try ");
			time_local(&line, r->next_at);
			buf_addc(&line, ')');
		}
		term_printf(stdout, "%s\n", line.p);
		buf_free(&line);
	}
	for (size_t i = 0; i < c->nskip; i++)
		term_printf(stdout, "  skipped   %s: %s\n", c->skip[i].email, c->skip[i].reason);
	for (size_t i = 0; i < c->nattn; i++)
		if (c->attn[i].state == RS_SKIPPED)
			term_printf(stdout, "  skipped   %s: %s (since the campaign started)\n",
				    c->attn[i].email,
				    c->attn[i].why ? c->attn[i].why : "suppressed");
	buf_free(&t);
}

/* An article reported as missed (no campaign): say so. */
static int show_missed(struct cli *g, const char *slug, bool json)
{
	struct lb_err err = {0};
	char *dir = campaign_dir(&g->cfg, slug);
	char *missed = path_join(dir, "missed");
	int rc = 0;
	/* Not there: nothing to say.  One we cannot read is an error. */
	struct buf why = BUF_INIT;
	int r = fsx_read_state(missed, &why, 4096, &err);
	if (r && r != LB_ENOINPUT)
		rc = cli_fail(&err);
	if (r == 0) {
		struct span s = span_trim(buf_span(&why));
		if (json) {
			struct buf b = BUF_INIT;
			int first = 1;
			buf_addc(&b, '{');
			json_key(&b, "article", &first);
			json_str(&b, slug);
			char *w = span_dup(s);
			json_key(&b, "missed", &first);
			json_str(&b, w);
			free(w);
			buf_addc(&b, '}');
			puts(b.p);
			buf_free(&b);
		} else {
			term_printf(stdout, "%s: missed: %.*s\n", slug, (int)s.n, s.p);
		}
	}
	buf_free(&why);
	free(missed);
	free(dir);
	return rc;
}

/* Every campaign in state/campaigns, its summary read (so that what followed
 * each can be told apart), and printed: all, or only slug's. */
static int show_all(struct cli *g, const char *only, bool json)
{
	struct lb_err err = {0};
	char *dir = path_join(g->cfg.state_dir, "campaigns");
	char **paths = fsx_list_err(dir, "", &err);
	free(dir);
	if (!paths)
		return cli_fail(&err);
	if (!paths[0] && !json && !only)
		printf("no campaigns yet\n");
	size_t np = 0;
	while (paths[np])
		np++;
	struct campaign_summary *cs = xcalloc(np + 1, sizeof *cs);
	int *loaded = xcalloc(np + 1, sizeof *loaded); /* 1 loaded, 0 none, -1 error */
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < np; i++) {
		const char *slug = strrchr(paths[i], '/') + 1;
		if (!campaign_exists(&g->cfg, slug))
			continue;
		if (campaign_summary(&g->cfg, slug, &cs[n], &err) != 0) {
			campaign_summary_free(&cs[n]); /* what it read before the error */
			loaded[i] = -1;
			if (!only || strcmp(only, slug) == 0)
				rc = rc ? rc : cli_fail(&err);
			continue;
		}
		loaded[i] = 1;
		n++;
	}
	struct suppressions *sup = NULL;
	struct campaign_after *after = xcalloc(n + 1, sizeof *after);
	if (suppressions_load(g->cfg.state_dir, &sup, &err) != 0)
		rc = rc ? rc : cli_fail(&err);
	else
		campaign_after(cs, n, sup, after);
	suppressions_free(sup);
	for (size_t i = 0, k = 0; i < np; i++) {
		const char *slug = strrchr(paths[i], '/') + 1;
		bool shown = !only || strcmp(only, slug) == 0;
		if (loaded[i] == 1) {
			int r = 0;
			if (shown && json)
				r = print_json(&cs[k], &after[k]);
			else if (shown)
				print_text(&cs[k], &after[k]);
			rc = rc ? rc : r;
			k++;
		} else if (loaded[i] == 0 && shown) {
			int r = show_missed(g, slug, json);
			rc = rc ? rc : r;
		}
	}
	for (size_t i = 0; i < n; i++)
		campaign_summary_free(&cs[i]);
	free(cs);
	free(after);
	free(loaded);
	fsx_list_free(paths);
	return rc;
}

/* Unlinked reports waiting for a confirmation (README: What a report can do). */
static int show_pending(struct cli *g, bool json)
{
	struct suppressions *sup = NULL;
	struct lb_err err = {0};
	if (suppressions_load(g->cfg.state_dir, &sup, &err) != 0)
		return cli_fail(&err);
	size_t n;
	const struct suppression *const *v = suppressions_pending_list(sup, &n);
	struct buf b = BUF_INIT, t = BUF_INIT;
	if (n && json)
		buf_adds(&b, "{\"pending_reports\":[");
	else if (n)
		buf_printf(&b,
			   "%zu report%s not tied to a message of ours (evidence, nobody "
			   "suppressed; letterbox subscribers suppressions --pending):\n",
			   n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&t);
		if (json)
			time_iso(&t, v[i]->when);
		else
			time_local(&t, v[i]->when);
		if (json) {
			int f = 1;
			buf_adds(&b, i ? ",{" : "{");
			json_key(&b, "address", &f);
			json_str(&b, v[i]->address);
			json_key(&b, "reason", &f);
			json_str(&b, sup_reason_name(v[i]->reason));
			json_key(&b, "when", &f);
			json_str(&b, t.p);
			json_key(&b, "evidence", &f);
			json_str(&b, v[i]->evidence);
			buf_addc(&b, '}');
		} else {
			buf_printf(&b, "  pending   %s: %s? %s: %s\n", v[i]->address,
				   sup_reason_name(v[i]->reason), t.p, v[i]->evidence);
		}
	}
	if (n && json)
		buf_adds(&b, "]}\n");
	if (json)
		fwrite(buf_cstr(&b), 1, b.n, stdout);
	else
		term_printf(stdout, "%s", buf_cstr(&b)); /* addresses and evidence from mail */
	buf_free(&b);
	buf_free(&t);
	suppressions_free(sup);
	return 0;
}

/* Alerts and acknowledgements a crash left in doubt (deliver/notify.h), for
 * the inquiries still waiting: staff must check them. */
static int print_doubts(const struct config *cfg)
{
	struct inquiry *v;
	size_t n;
	struct lb_err err = {0};
	if (inquiries_query(cfg->state_dir, &(struct inq_query){.status = "waiting"}, &v, &n, NULL,
			    &err))
		return cli_fail(&err);
	bool head = false;
	for (size_t i = 0; i < n; i++) {
		const char *doubts[] = {notify_doubt_alert(&v[i]), notify_doubt_ack(&v[i])};
		for (size_t j = 0; j < 2 && inquiry_is_waiting(&v[i]); j++) {
			if (!doubts[j])
				continue;
			if (!head)
				printf("notifications that may not have been sent:\n");
			head = true;
			printf("  inquiry %u: %s\n", v[i].number, doubts[j]);
		}
	}
	inquiries_free(v, n);
	return 0;
}

int cmd_status(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h')
			return printf("usage: %s\n", usage), 0;
		else
			return cli_usage(usage, "status: unknown option or missing value: %s",
					 cli_bad_option(argv));
	}
	if (argc - optind > 1)
		return cli_usage(usage, "status: at most one article");
	int rc = cli_config(g);
	if (rc)
		return rc;
	if (optind < argc) {
		struct article a;
		struct lb_err err = {0};
		if (cli_article(g, argv[optind], &a, &err) != 0) {
			article_free(&a);
			return cli_fail(&err);
		}
		if (!campaign_exists(&g->cfg, a.slug) && !json) {
			char *dir = campaign_dir(&g->cfg, a.slug);
			char *missed = path_join(dir, "missed");
			if (!fsx_exists(missed))
				printf("%s: not sent yet\n", a.slug);
			free(missed);
			free(dir);
		}
		rc = show_all(g, a.slug, json);
		article_free(&a);
		return rc;
	}
	/* No state/campaigns yet: nothing sent yet.  One we cannot read is an
	 * error, never "no campaigns". */
	rc = show_all(g, NULL, json);
	int prc = show_pending(g, json);
	rc = rc ? rc : prc;
	if (!json) {
		int r = print_doubts(&g->cfg);
		rc = rc ? rc : r;
	}
	return rc;
}
