/* letterbox digest: one mail to staff with the inquiries waiting for an
 * answer and what the newsletter did since the last digest. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "compose/onemail.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "deliver/campaign.h"
#include "deliver/notify.h"
#include "store/inquiries.h"
#include "store/suppressions.h"

static const char usage[] =
    "letterbox digest [--to ADDR] [--html FILE] [--always] [--dry-run]\n"
    "                 [--now TIME]\n"
    "\n"
    "Mail staff.digest_to one report: the new and open inquiries (urgent first,\n"
    "then oldest; age, sender, subject, article, and an urgent alert or\n"
    "acknowledgement that may not have been sent), how many inquiries have each\n"
    "status, and the newsletter since the last digest: campaigns sent with their\n"
    "delivered, deferred and failed counts, bounces, complaints and new\n"
    "unsubscribes.  No message text is included.  When nothing is new since the\n"
    "last digest nothing is sent.  Run it from cron, e.g. every morning.\n"
    "\n"
    "  --to ADDR    send to ADDR instead (the last-digest time is not moved)\n"
    "  --html FILE  also write the report as a standalone HTML page (0600)\n"
    "  --always     send even when nothing is new\n"
    "  --dry-run    print the report; send and remember nothing\n"
    "  --now TIME   report as if at TIME (tests)\n"
    "\n"
    "The first digest covers the last 7 days.  Exit 0 when done (or nothing was\n"
    "new), 69/75 when the mail could not be sent, 78 when no recipient is set.";

#define FIRST_WINDOW (7L * 86400)

struct report {
	const struct config *cfg;
	time_t now, since;
	unsigned highest; /* the last digest's highest inquiry number */
	unsigned top;	  /* this one's */
	bool first;
	struct inquiry *inq;
	size_t ninq, nwaiting; /* the first DIGEST_LISTED waiting (new, open) of nwaiting */
	size_t status[4];      /* new, open, answered, closed */
	size_t arrived, urgent_waiting;
	struct campaign_summary *camp; /* every campaign; listed: those with news */
	struct campaign_after *after;
	bool *active, *listed;
	size_t ncamp, nlisted;
	size_t started;
	size_t bounces, complaints, unsubscribes, removed;
	size_t pending, pending_new; /* unlinked reports awaiting confirmation */
};

static const char *const status_names[] = {"new", "open", "answered", "closed"};

/* The waiting inquiries a digest lists (the most pressing: urgent first,
 * then oldest); the rest are counted, and the web's staff pages list them
 * all. */
#define DIGEST_LISTED 50

/* ---- gathering ------------------------------------------------------------------------------- */

/* state/digest: "time: ISO" and "inquiry: N", the highest inquiry number the
 * last digest reported: numbers only grow, so "new since" is exact for
 * inquiries even within the same second. */
static int last_digest(const struct config *cfg, bool *found, time_t *when, unsigned *highest,
		       struct lb_err *err)
{
	char *path = path_join(cfg->state_dir, "digest");
	struct buf b = BUF_INIT;
	*found = false;
	*when = 0;
	*highest = 0;
	int rc = fsx_read_state(path, &b, 4096, err);
	if (rc == LB_ENOINPUT) /* no digest yet */
		rc = 0;
	else if (rc == 0) {
		for (char *p = b.p; p && *p;) {
			char *nl = strchr(p, '\n');
			struct span line = {p, nl ? (size_t)(nl - p) : strlen(p)};
			if (span_starts_with(line, "time: "))
				*found =
				    time_parse(span_trim((struct span){p + 6, line.n - 6}), when);
			else if (span_starts_with(line, "inquiry: "))
				*highest = (unsigned)strtoul(p + 9, NULL, 10);
			p = nl ? nl + 1 : NULL;
		}
	}
	buf_free(&b);
	free(path);
	return rc;
}

static time_t mtime(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mtime : 0;
}

static int gather_campaigns(struct report *r, struct lb_err *err)
{
	char *dir = path_join(r->cfg->state_dir, "campaigns");
	char **paths = fsx_list_err(dir, "", err);
	free(dir);
	if (!paths)
		return err->code;
	size_t cap = 0, acap = 0;
	int rc = 0;
	for (char **p = paths; *p && !rc; p++) {
		const char *slug = strrchr(*p, '/') + 1;
		char *journal = path_join(*p, "journal");
		bool active = mtime(journal) > r->since;
		free(journal);
		/* Every campaign: one sent long ago may have had bounces since. */
		if (!campaign_exists(r->cfg, slug))
			continue;
		r->camp = xgrowarray(r->camp, &cap, r->ncamp + 1, sizeof *r->camp);
		r->active = xgrowarray(r->active, &acap, r->ncamp + 1, sizeof *r->active);
		r->active[r->ncamp] = active;
		rc = campaign_summary(r->cfg, slug, &r->camp[r->ncamp], err);
		if (!rc && r->camp[r->ncamp].started > r->since)
			r->started++;
		r->ncamp++;
	}
	fsx_list_free(paths);
	return rc;
}

static int gather(struct report *r, struct lb_err *err)
{
	/* Counts and the first DIGEST_LISTED, each a query through an index:
	 * a digest costs the same with 100 inquiries or 100,000. */
	const char *state = r->cfg->state_dir;
	struct inq_query waiting = {.status = "waiting", .limit = DIGEST_LISTED};
	int rc = inquiries_query(state, &waiting, &r->inq, &r->ninq, &r->nwaiting, err);
	for (size_t s = 0; !rc && s < 4; s++)
		rc = inquiries_count(state, &(struct inq_query){.status = status_names[s]},
				     &r->status[s], err);
	if (!rc)
		rc = inquiries_count(state, &(struct inq_query){.urgent_only = true},
				     &r->urgent_waiting, err);
	if (!rc)
		rc = r->first
			 ? inquiries_count_after(state, true, (long long)r->since, &r->arrived, err)
			 : inquiries_count_after(state, false, r->highest, &r->arrived, err);
	unsigned next = 1;
	if (!rc)
		rc = inquiries_next_number(state, &next, err);
	r->top = next - 1;
	if (rc)
		return rc;
	if ((rc = gather_campaigns(r, err)))
		return rc;
	struct suppressions *sup = NULL;
	if ((rc = suppressions_load(r->cfg->state_dir, &sup, err)))
		return rc;
	size_t n;
	const struct suppression *const *v = suppressions_list(sup, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->when <= r->since)
			continue;
		switch (v[i]->reason) {
		case SUP_HARD_BOUNCE:
		case SUP_FAILED:
			r->bounces++;
			break;
		case SUP_COMPLAINT:
			r->complaints++;
			break;
		case SUP_UNSUBSCRIBED:
			r->unsubscribes++;
			break;
		case SUP_REMOVED:
			r->removed++;
			break;
		default:
			break;
		}
	}
	/* A campaign is listed when its journal moved, or when what followed it
	 * (a bounce, a complaint, an unsubscribe) is among what is new. */
	r->after = xcalloc(r->ncamp + 1, sizeof *r->after);
	r->listed = xcalloc(r->ncamp + 1, sizeof *r->listed);
	campaign_after(r->camp, r->ncamp, sup, r->after);
	bool news = r->bounces || r->complaints || r->unsubscribes;
	for (size_t i = 0; i < r->ncamp; i++) {
		const struct campaign_after *a = &r->after[i];
		r->listed[i] =
		    r->active[i] || (news && (a->bounced || a->complained || a->unsubscribed));
		r->nlisted += r->listed[i];
	}
	v = suppressions_pending_list(sup, &r->pending);
	for (size_t i = 0; i < r->pending; i++)
		r->pending_new += v[i]->when > r->since;
	suppressions_free(sup);
	return 0;
}

static bool anything_new(const struct report *r)
{
	return r->arrived || r->nlisted || r->bounces || r->complaints || r->unsubscribes ||
	       r->removed || r->pending_new;
}

static void report_free(struct report *r)
{
	inquiries_free(r->inq, r->ninq);
	for (size_t i = 0; i < r->ncamp; i++)
		campaign_summary_free(&r->camp[i]);
	free(r->camp);
	free(r->after);
	free(r->active);
	free(r->listed);
}

/* ---- writing ----------------------------------------------------------------------------------
 */

/* "since the last digest (2026-11-24 08:00 UTC)" or "in the last 7 days". */
static void since(const struct report *r, struct buf *b)
{
	if (r->first) {
		buf_adds(b, "in the last 7 days");
		return;
	}
	buf_adds(b, "since the last digest (");
	time_local(b, r->since);
	buf_addc(b, ')');
}

static void subject(const struct report *r, struct buf *b)
{
	buf_printf(b, "Digest: %zu inquir%s waiting", r->nwaiting, r->nwaiting == 1 ? "y" : "ies");
	if (r->urgent_waiting)
		buf_printf(b, " (%zu URGENT)", r->urgent_waiting);
	buf_printf(b, " - %s", r->cfg->site_name);
}

static void campaign_line(struct buf *b, const struct campaign_summary *c,
			  const struct campaign_after *after)
{
	struct campaign_counts k = c->k;
	buf_printf(b, "%zu delivered, %zu deferred, %zu failed", k.sent, k.deferred, k.failed);
	if (k.uncertain)
		buf_printf(b, ", %zu uncertain", k.uncertain);
	if (k.pending)
		buf_printf(b, ", %zu pending", k.pending);
	buf_adds(b, c->finished ? " (finished)" : " (in progress)");
	if (after->bounced || after->complained || after->unsubscribed) {
		buf_adds(b, "; since: ");
		campaign_after_text(b, after);
	}
}

static void text_report(const struct report *r, struct buf *t)
{
	struct buf s = BUF_INIT;
	time_local(&s, r->now);
	buf_printf(t, "%s: the digest of %s\n\n", r->cfg->site_name, s.p);
	buf_reset(&s);
	since(r, &s);
	buf_printf(t, "Inquiries: %zu new, %zu open, %zu answered, %zu closed; %zu arrived %s.\n\n",
		   r->status[0], r->status[1], r->status[2], r->status[3], r->arrived, s.p);
	if (!r->nwaiting)
		buf_adds(t, "No inquiry is waiting for an answer.\n\n");
	else
		buf_adds(t, "Waiting for an answer, urgent first:\n\n");
	for (size_t i = 0; i < r->ninq; i++) {
		const struct inquiry *q = &r->inq[i];
		buf_reset(&s);
		time_age(&s, q->received, r->now);
		buf_printf(t, "  #%u%s  %s, %s old%s%s\n", q->number,
			   inquiry_is_urgent(q) ? "  URGENT" : "", q->status, s.p,
			   q->assignee ? ", assigned to " : "", q->assignee ? q->assignee : "");
		if (q->from_name)
			buf_printf(t, "      From: %s <%s>\n", q->from_name, q->from);
		else
			buf_printf(t, "      From: %s\n", q->from ? q->from : "?");
		buf_printf(t, "      Subject: %s\n", q->subject ? q->subject : "(none)");
		if (q->article)
			buf_printf(t, "      Article: %s\n", q->article);
		const char *doubts[] = {notify_doubt_alert(q), notify_doubt_ack(q)};
		for (size_t j = 0; j < 2; j++)
			if (doubts[j])
				buf_printf(t, "      Check: %s\n", doubts[j]);
		buf_addc(t, '\n');
	}
	if (r->nwaiting > r->ninq)
		buf_printf(t, "  and %zu more\n\n", r->nwaiting - r->ninq);
	if (r->nwaiting && r->cfg->web_url)
		buf_printf(t, "All of them: %s/staff/\n", r->cfg->web_url);
	if (r->nwaiting)
		buf_adds(t, "Read one with: letterbox inquiries show N\n\n");
	buf_reset(&s);
	since(r, &s);
	buf_printf(t, "Newsletter %s:\n\n", s.p);
	buf_printf(t, "  Campaigns sent: %zu started", r->started);
	buf_adds(t, r->nlisted ? "; with activity:\n" : "\n");
	for (size_t i = 0; i < r->ncamp; i++) {
		if (!r->listed[i])
			continue;
		buf_printf(t, "    %s: ", r->camp[i].slug);
		campaign_line(t, &r->camp[i], &r->after[i]);
		buf_addc(t, '\n');
	}
	buf_printf(t, "  Bounces: %zu\n  Complaints: %zu\n  New unsubscribes: %zu\n", r->bounces,
		   r->complaints, r->unsubscribes);
	if (r->removed)
		buf_printf(t, "  Removed by staff: %zu\n", r->removed);
	if (r->pending)
		buf_printf(t,
			   "  Reports not tied to a message of ours, awaiting confirmation "
			   "(nobody suppressed): %zu\n"
			   "    see: letterbox subscribers suppressions --pending\n",
			   r->pending);
	buf_free(&s);
}

#define FONT                                                                                       \
	"font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif;"
#define CELL "padding:6px 10px;border-bottom:1px solid #e3ddd1;vertical-align:top;"

static void esc(struct buf *b, const char *s)
{
	tpl_escape(b, span_cstr(s ? s : ""), TPL_ESC_HTML);
}

static void html_report(const struct report *r, struct buf *h)
{
	struct buf s = BUF_INIT, title = BUF_INIT;
	subject(r, &title);
	buf_adds(h, "<!DOCTYPE html>\n<html lang=\"");
	esc(h, r->cfg->site_lang);
	buf_adds(h, "\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>");
	esc(h, title.p);
	buf_adds(h, "</title>\n</head>\n<body style=\"margin:0;padding:20px 12px;"
		    "background-color:#ffffff;color:#3b3a36;" FONT "font-size:15px;\">\n"
		    "<div style=\"max-width:760px;\">\n<h1 style=\"margin:0 0 6px 0;font-size:22px;"
		    "font-weight:normal;color:#2e4f48;\">");
	esc(h, r->cfg->site_name);
	time_local(&s, r->now);
	buf_adds(h, "</h1>\n<p style=\"margin:0 0 18px 0;color:#6b6a64;\">Digest of ");
	esc(h, s.p);
	buf_reset(&s);
	since(r, &s);
	buf_printf(h,
		   "</p>\n<p style=\"margin:0 0 14px 0;\">Inquiries: <b>%zu new</b>, %zu open, "
		   "%zu answered, %zu closed; %zu arrived %s.</p>\n",
		   r->status[0], r->status[1], r->status[2], r->status[3], r->arrived, s.p);
	if (r->nwaiting) {
		buf_adds(h, "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" "
			    "style=\"border-collapse:collapse;width:100%;margin:0 0 18px 0;" FONT
			    "font-size:14px;\">\n<tr style=\"text-align:left;color:#6b6a64;\">"
			    "<th style=\"" CELL "\">#</th><th style=\"" CELL "\">age</th>"
			    "<th style=\"" CELL "\">from</th><th style=\"" CELL "\">subject</th>"
			    "<th style=\"" CELL "\">article</th><th style=\"" CELL
			    "\">status</th></tr>\n");
	} else {
		buf_adds(h, "<p style=\"margin:0 0 18px 0;\">No inquiry is waiting for an "
			    "answer.</p>\n");
	}
	for (size_t i = 0; i < r->ninq; i++) {
		const struct inquiry *q = &r->inq[i];
		buf_reset(&s);
		time_age(&s, q->received, r->now);
		buf_printf(
		    h, "<tr%s><td style=\"" CELL "\">%u%s</td><td style=\"" CELL "\">%s</td>",
		    inquiry_is_urgent(q) ? " style=\"background-color:#fbe9e7;\"" : "", q->number,
		    inquiry_is_urgent(q) ? " <b style=\"color:#b3261e;\">URGENT</b>" : "", s.p);
		buf_adds(h, "<td style=\"" CELL "\">");
		esc(h, q->from_name ? q->from_name : q->from);
		if (q->from_name) {
			buf_adds(h, "<br><span style=\"color:#6b6a64;\">");
			esc(h, q->from);
			buf_adds(h, "</span>");
		}
		buf_adds(h, "</td><td style=\"" CELL "\">");
		esc(h, q->subject ? q->subject : "(none)");
		buf_adds(h, "</td><td style=\"" CELL "\">");
		esc(h, q->article ? q->article : "-");
		buf_adds(h, "</td><td style=\"" CELL "\">");
		esc(h, q->status);
		if (q->assignee) {
			buf_adds(h, "<br>");
			esc(h, q->assignee);
		}
		const char *doubts[] = {notify_doubt_alert(q), notify_doubt_ack(q)};
		for (size_t j = 0; j < 2; j++) {
			if (!doubts[j])
				continue;
			buf_adds(h, "<br><b style=\"color:#b3261e;\">Check:</b> ");
			esc(h, doubts[j]);
		}
		buf_adds(h, "</td></tr>\n");
	}
	if (r->nwaiting)
		buf_adds(h, "</table>\n");
	if (r->nwaiting > r->ninq)
		buf_printf(h, "<p style=\"margin:0 0 12px 0;\">and %zu more</p>\n",
			   r->nwaiting - r->ninq);
	if (r->nwaiting && r->cfg->web_url) {
		struct buf u = BUF_INIT;
		buf_printf(&u, "%s/staff/", r->cfg->web_url);
		buf_adds(h, "<p style=\"margin:0 0 12px 0;\">All of them: <a href=\"");
		esc(h, u.p);
		buf_adds(h, "\">");
		esc(h, u.p);
		buf_adds(h, "</a></p>\n");
		buf_free(&u);
	}
	buf_reset(&s);
	since(r, &s);
	buf_adds(h, "<h2 style=\"margin:18px 0 8px 0;font-size:18px;font-weight:normal;"
		    "color:#2e4f48;\">Newsletter ");
	esc(h, s.p);
	buf_printf(h,
		   "</h2>\n<ul style=\"margin:0 0 12px 0;padding:0 0 0 20px;\">\n"
		   "<li>Campaigns sent: %zu started",
		   r->started);
	for (size_t i = 0; i < r->ncamp; i++) {
		if (!r->listed[i])
			continue;
		buf_adds(h, "<br>\n");
		esc(h, r->camp[i].slug);
		buf_adds(h, ": ");
		buf_reset(&s);
		campaign_line(&s, &r->camp[i], &r->after[i]);
		esc(h, s.p);
	}
	buf_printf(h,
		   "</li>\n<li>Bounces: %zu</li>\n<li>Complaints: %zu</li>\n"
		   "<li>New unsubscribes: %zu</li>\n",
		   r->bounces, r->complaints, r->unsubscribes);
	if (r->removed)
		buf_printf(h, "<li>Removed by staff: %zu</li>\n", r->removed);
	if (r->pending)
		buf_printf(h,
			   "<li>Reports not tied to a message of ours, awaiting confirmation "
			   "(nobody suppressed): %zu</li>\n",
			   r->pending);
	buf_adds(h, "</ul>\n</div>\n</body>\n</html>\n");
	buf_free(&s);
	buf_free(&title);
}

/* ---- sending ----------------------------------------------------------------------------------
 */

static int recipients(const struct config *cfg, const char *to, struct addr **v, size_t *n,
		      struct lb_err *err)
{
	char *one[] = {(char *)(uintptr_t)to, NULL};
	char *const *list = to ? one : cfg->digest_to;
	size_t cap = 0;
	*v = NULL;
	*n = 0;
	for (size_t i = 0; list && list[i]; i++) {
		*v = xgrowarray(*v, &cap, *n + 1, sizeof **v);
		if (addr_parse(span_cstr(list[i]), &(*v)[*n], err)) {
			err_prefix(err, "%s", to ? "--to" : "staff.digest_to");
			return err->code = to ? LB_EUSAGE : LB_ECONFIG;
		}
		(*n)++;
	}
	return 0;
}

static int send_report(const struct report *r, const struct addr *to, size_t nto,
		       const struct buf *text, const struct buf *html, struct lb_err *err)
{
	struct buf subj = BUF_INIT, raw = BUF_INIT;
	subject(r, &subj);
	struct onemail om = {.kind = OM_DIGEST,
			     .from = &r->cfg->from,
			     .to = to,
			     .nto = nto,
			     .subject = subj.p,
			     .text = text->p,
			     .html = html->p,
			     .date = r->now};
	const char **rcpts = xcalloc(nto + 1, sizeof *rcpts);
	for (size_t i = 0; i < nto; i++)
		rcpts[i] = to[i].spec;
	struct outcome o = {.kind = OUT_NOT_SENT};
	int rc = onemail_compose(&om, &raw, NULL, err);
	if (!rc)
		rc = mail_send_now(r->cfg, raw.p, raw.n, r->cfg->from.spec, rcpts, NULL, &o, err);
	if (rc)
		err_prefix(err, "digest not sent");
	free(rcpts);
	buf_free(&subj);
	buf_free(&raw);
	return rc;
}

static int run(struct cli *g, const char *to, const char *html_file, bool always, bool dry_run,
	       time_t now)
{
	const struct config *cfg = &g->cfg;
	struct lb_err err = {0};
	struct report r = {.cfg = cfg, .now = now};
	struct addr *rcpt = NULL;
	size_t nrcpt = 0;
	struct buf text = BUF_INIT, html = BUF_INIT;
	int lockfd = -1;
	int rc = recipients(cfg, to, &rcpt, &nrcpt, &err);
	if (!rc && !nrcpt && !html_file && !dry_run)
		rc = err_set(&err, LB_ECONFIG,
			     "%s: staff.digest_to is not set: say whom to send the digest to "
			     "(or use --to ADDR)",
			     cfg->file);
	if (!rc && !dry_run)
		rc = cli_lock(cfg, "digest", &lockfd, &err);
	if (rc)
		goto out;
	bool found;
	if ((rc = last_digest(cfg, &found, &r.since, &r.highest, &err)))
		goto out;
	r.first = !found;
	if (r.first)
		r.since = now - FIRST_WINDOW;
	if ((rc = gather(&r, &err)))
		goto out;
	text_report(&r, &text);
	html_report(&r, &html);
	if (html_file && !dry_run && (rc = fsx_write_atomic(html_file, html.p, html.n, 0600, &err)))
		goto out;
	if (dry_run) {
		term_printf(stdout, "%s", text.p); /* subjects and names from mail */
		printf("\n(dry run: %s)\n", anything_new(&r) || always
						? "this would be sent"
						: "nothing new: nothing would be sent");
		goto out;
	}
	if (!nrcpt)
		goto out;
	if (!anything_new(&r) && !always) {
		if (isatty(STDOUT_FILENO))
			printf("digest: nothing new since the last one: nothing sent\n");
		goto out;
	}
	if ((rc = send_report(&r, rcpt, nrcpt, &text, &html, &err)))
		goto out;
	if (!to) {
		/* Remembered only once it went out: a failed digest is retried whole. */
		struct buf stamp = BUF_INIT;
		buf_adds(&stamp, "time: ");
		time_iso(&stamp, now);
		buf_printf(&stamp, "\ninquiry: %u\n", r.top);
		char *path = path_join(cfg->state_dir, "digest");
		rc = fsx_write_atomic(path, stamp.p, stamp.n, 0600, &err);
		free(path);
		buf_free(&stamp);
	}
	if (!rc && isatty(STDOUT_FILENO))
		printf("digest: sent to %zu recipient%s\n", nrcpt, nrcpt == 1 ? "" : "s");
out:
	if (rc)
		cli_fail(&err);
	for (size_t i = 0; i < nrcpt; i++)
		addr_free(&rcpt[i]);
	free(rcpt);
	report_free(&r);
	buf_free(&text);
	buf_free(&html);
	cli_unlock(lockfd);
	return rc;
}

int cmd_digest(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {"html", required_argument, NULL, 'H'},
					     {"always", no_argument, NULL, 'a'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"now", required_argument, NULL, 'N'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *to = NULL, *html = NULL, *now_arg = NULL;
	bool always = false, dry_run = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:H:anN:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		case 'a':
			always = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'N':
			now_arg = optarg;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			return cli_usage(usage, "digest: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (optind != argc)
		return cli_usage(usage, "digest takes no arguments");
	time_t now;
	int rc = cli_now(now_arg, &now);
	if (rc || (rc = cli_config(g)))
		return rc;
	return run(g, to, html, always, dry_run, now);
}
