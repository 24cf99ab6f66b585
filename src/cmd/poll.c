/* letterbox poll: read the practice's mailbox and file every message: human
 * replies become inquiries, bounces / complaints / unsubscribes become
 * suppressions, auto-replies are set aside.  Once, and without losing any. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/fsx.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/token.h"
#include "deliver/notify.h"
#include "receive/filing.h"
#include "receive/source.h"
#include "store/pollstate.h"
#include "store/suppressions.h"

static const char usage[] =
    "letterbox poll [--json] [--watch] [--now TIME]\n"
    "\n"
    "Read new messages from incoming.url and file each one: a human reply becomes\n"
    "an inquiry (letterbox inquiries), a bounce, spam complaint or unsubscribe\n"
    "request a suppression, an auto-reply is set aside.  With incoming.folders set,\n"
    "each message is then moved to the folder for its kind; without, the mailbox is\n"
    "left exactly as it was (letterbox remembers what it has handled).\n"
    "With incoming.sent set, the staff's Sent folder is read too (never changed):\n"
    "a reply there that answers an inquiry marks it answered.\n"
    "\n"
    "  --json      a JSON object per message handled, a line each: source,\n"
    "              message_id, kind (inquiry, bounce, complaint, unsubscribe,\n"
    "              auto-reply, staff-reply), hard, addresses, status, reason,\n"
    "              inquiry, urgent, followup, article, duplicate, subscriber,\n"
    "              pending, sent (README \"Receiving\" says what each means)\n"
    "  --watch     stay connected and file messages as they arrive (IMAP IDLE)\n"
    "  --now TIME  the time to file messages at (tests)\n"
    "\n"
    "Exit 0 when done, 69 when the server is unavailable (or closed the connection,\n"
    "or sent nothing for incoming.timeout), 75 when another poll is running or the\n"
    "server withheld a message (the others are filed; the next poll asks again),\n"
    "78 for configuration errors (login refused, untrusted certificate).";

struct poll_ctx {
	struct cli *g;
	bool json;
	time_t now; /* 0: the clock */
	struct filer *f;
	struct pollstate *ps;
	struct msg_source *src;
	struct msg_source *sent; /* incoming.sent, read-only; NULL when unset */
	char *sent_url;		 /* its cursor's name */
	struct cursor sent_cur, sent_stored;
	size_t answered; /* inquiries answered from the staff's mail client */
	struct notifier *notify;
	struct cursor cur; /* advanced as messages are handled */
	size_t unsynced;   /* handled since the last checkpoint */
	/* Done at the next checkpoint, once the filing is on disk: */
	struct move {
		char *id;
		uint32_t uid;
		const char *folder;
	} * moves;
	size_t nmoves, movecap;
	struct filed_inquiry {
		unsigned number;
		bool followup; /* a later message joined it: only an alert may be due */
	} * filed;	       /* inquiries to notify about */
	size_t nfiled, filedcap;
	size_t kinds[MAIL_SUBSCRIBE + 1], urgent, hard, duplicates, suppressed, pending, followups;
	struct lb_err *err;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_json(const struct src_msg *msg, const struct filed *d)
{
	struct buf b = BUF_INIT;
	int first = 1;
	buf_addc(&b, '{');
	json_key(&b, "source", &first);
	json_str(&b, msg->id);
	json_key(&b, "message_id", &first);
	json_str(&b, d->message_id);
	json_key(&b, "duplicate", &first);
	buf_adds(&b, d->duplicate ? "true" : "false");
	if (!d->duplicate) {
		json_key(&b, "kind", &first);
		json_str(&b, mail_kind_name(d->kind));
		if (d->kind == MAIL_BOUNCE) {
			json_key(&b, "hard", &first);
			buf_adds(&b, d->severity == BOUNCE_HARD ? "true" : "false");
		}
		json_key(&b, "addresses", &first);
		buf_addc(&b, '[');
		for (size_t i = 0; i < d->addresses.n; i++) {
			if (i)
				buf_addc(&b, ',');
			json_str(&b, d->addresses.v[i]);
		}
		buf_addc(&b, ']');
		if (d->subscriber) { /* a linked report: whom it acted on */
			json_key(&b, "subscriber", &first);
			json_str(&b, d->subscriber);
		}
		if (d->pending) {
			json_key(&b, "pending", &first);
			buf_printf(&b, "%zu", d->pending);
		}
		if (d->status) {
			json_key(&b, "status", &first);
			json_str(&b, d->status);
		}
		json_key(&b, "reason", &first);
		json_str(&b, d->reason);
		if (d->inquiry) {
			json_key(&b, "inquiry", &first);
			buf_printf(&b, "%u", d->inquiry);
			json_key(&b, "urgent", &first);
			buf_adds(&b, d->urgent ? "true" : "false");
			if (d->followup) {
				json_key(&b, "followup", &first);
				buf_adds(&b, "true");
			}
		}
		if (d->article) {
			json_key(&b, "article", &first);
			json_str(&b, d->article);
		}
	}
	buf_addc(&b, '}');
	puts(b.p);
	buf_free(&b);
}

/* Group commit: everything filed since the last checkpoint is flushed to
 * disk in one go, and only then do things happen that the outside world can
 * see: messages moved on the server, the cursor advanced, alerts and
 * acknowledgements sent.  A crash before the flush loses nothing (the
 * messages are still there, unmoved, and are fetched again); a crash after
 * it files nothing twice (the seen records are on disk). */
static int checkpoint(struct poll_ctx *p)
{
	const char *state = p->g->cfg.state_dir;
	int rc = pollstate_sync(p->ps, p->err);
	if (!rc)
		rc = fsx_commit(state, p->err);
	for (size_t i = 0; i < p->nmoves; i++) {
		struct src_msg m = {.id = p->moves[i].id, .uid = p->moves[i].uid};
		if (!rc)
			rc = source_done(p->src, &m, p->moves[i].folder, p->err);
		free(p->moves[i].id);
	}
	p->nmoves = 0;
	if (!rc)
		rc = pollstate_set_cursor(p->ps, p->cur, p->err);
	/* Notifications record their intent durably before sending: no deferring. */
	fsx_defer_sync(false);
	for (size_t i = 0; i < p->nfiled && !rc; i++) {
		struct lb_err nerr = {0};
		time_t now = p->now ? p->now : time(NULL);
		unsigned n = p->filed[i].number;
		if ((p->filed[i].followup ? notifier_followup(p->notify, n, now, &nerr)
					  : notifier_inquiry_filed(p->notify, n, now, &nerr)) != 0)
			log_warn("inquiry %u: %s", n, nerr.msg);
	}
	fsx_defer_sync(true);
	p->nfiled = 0;
	if (!rc)
		p->unsynced = 0;
	return rc;
}

static int on_message(void *ctx, const struct src_msg *msg)
{
	struct poll_ctx *p = ctx;
	if (stop)
		return LB_ETEMP;
	struct filed d;
	int rc = filer_file(p->f, msg, p->now ? p->now : time(NULL), &d, p->err);
	if (rc) {
		filed_free(&d);
		return rc;
	}
	if (d.duplicate) {
		p->duplicates++;
	} else {
		p->kinds[d.kind]++;
		p->urgent += d.urgent;
		p->hard += d.kind == MAIL_BOUNCE && d.severity == BOUNCE_HARD;
		p->suppressed += d.suppressed;
		p->pending += d.pending;
		p->followups += d.followup;
	}
	/* Maildir sources always move handled messages, IMAP ones only to a folder. */
	if (d.folder || msg->uid == 0) {
		p->moves = xgrowarray(p->moves, &p->movecap, p->nmoves + 1, sizeof *p->moves);
		p->moves[p->nmoves++] = (struct move){xstrdup(msg->id), msg->uid, d.folder};
	}
	const struct config *cfg = &p->g->cfg;
	bool alert = d.urgent && cfg->urgent_to && cfg->urgent_to[0];
	/* A later message of a conversation is never acknowledged. */
	if (d.inquiry && !d.duplicate && (alert || (cfg->acknowledge && !d.followup))) {
		p->filed = xgrowarray(p->filed, &p->filedcap, p->nfiled + 1, sizeof *p->filed);
		p->filed[p->nfiled++] = (struct filed_inquiry){d.inquiry, d.followup};
	}
	/* Never past a message the server withheld (source.h). */
	uint32_t upto = msg->withheld && msg->withheld <= msg->uid ? msg->withheld - 1 : msg->uid;
	if (upto > p->cur.last_uid)
		p->cur.last_uid = upto;
	bool urgent = d.urgent && !d.duplicate;
	if (p->json)
		print_json(msg, &d);
	else if (urgent && d.inquiry)
		/* Even under cron: a human must look (README, "Running it from
		 * cron").  The number only, never the message. */
		printf("poll: inquiry %u is URGENT: letterbox inquiries show %u\n", d.inquiry,
		       d.inquiry);
	filed_free(&d);
	/* An urgent inquiry is not kept waiting for the batch to fill up. */
	if (++p->unsynced >= 200 || urgent)
		rc = checkpoint(p);
	return rc;
}

/* The Sent folder's seen records on disk, then its cursor. */
static int sent_checkpoint(struct poll_ctx *p)
{
	int rc = pollstate_sync(p->ps, p->err);
	if (!rc)
		rc = fsx_commit(p->g->cfg.state_dir, p->err);
	if (!rc && (p->sent_cur.uidvalidity != p->sent_stored.uidvalidity ||
		    p->sent_cur.last_uid != p->sent_stored.last_uid)) {
		rc = pollstate_set_cursor_of(p->ps, p->sent_url, p->sent_cur, p->err);
		if (!rc)
			p->sent_stored = p->sent_cur;
	}
	if (!rc)
		p->unsynced = 0;
	return rc;
}

static int on_sent(void *ctx, const struct src_msg *msg)
{
	struct poll_ctx *p = ctx;
	if (stop)
		return LB_ETEMP;
	struct sent_filed d;
	int rc = filer_sent(p->f, msg, p->now ? p->now : time(NULL), &d, p->err);
	if (rc)
		return rc;
	p->answered += d.inquiry != 0;
	if (p->json && !d.duplicate) {
		struct buf b = BUF_INIT;
		int first = 1;
		buf_addc(&b, '{');
		json_key(&b, "sent", &first);
		json_str(&b, msg->id);
		json_key(&b, "kind", &first);
		json_str(&b, "staff-reply");
		if (d.inquiry) {
			json_key(&b, "inquiry", &first);
			buf_printf(&b, "%u", d.inquiry);
		}
		buf_addc(&b, '}');
		puts(b.p);
		buf_free(&b);
	}
	uint32_t upto = msg->withheld && msg->withheld <= msg->uid ? msg->withheld - 1 : msg->uid;
	if (upto > p->sent_cur.last_uid)
		p->sent_cur.last_uid = upto;
	if (++p->unsynced >= 200)
		rc = sent_checkpoint(p);
	return rc;
}

/* Read what is new in the staff's Sent folder: replies sent from their mail
 * client answer their inquiries.  Nothing there is changed. */
static int poll_sent(struct poll_ctx *p)
{
	const struct config *cfg = &p->g->cfg;
	if (!cfg->in.sent || !*cfg->in.sent)
		return 0;
	if (!p->sent_url && !(p->sent_url = source_sent_url(&cfg->in)))
		return err_set(p->err, LB_ECONFIG, "cannot name that folder");
	/* Opened here, and again after a lost connection (poll --watch). */
	if (!p->sent && source_open_sent(&cfg->in, cfg->site_dir, &p->sent, p->err) != 0)
		return p->err->code;
	struct cursor c;
	int rc = pollstate_cursor_of(p->ps, p->sent_url, &c, p->err);
	if (rc)
		return rc;
	p->sent_stored = c;
	uint32_t v = source_uidvalidity(p->sent);
	if (v != c.uidvalidity)
		c = (struct cursor){v, 0}; /* read it all; the seen records dedupe */
	p->sent_cur = c;
	rc = source_fetch(p->sent, &c, 200, on_sent, p, p->err);
	if (rc == LB_EUNAVAIL) {
		source_close(p->sent);
		p->sent = NULL;
	}
	struct lb_err first = *p->err; /* the fetch's error is the one to report */
	int rc2 = sent_checkpoint(p);
	if (rc)
		*p->err = first;
	return rc ? rc : rc2;
}

static void summary(const struct poll_ctx *p)
{
	if (!log_verbose && !isatty(STDOUT_FILENO))
		return;
	if (p->json)
		return;
	printf("poll: %zu inquir%s (%zu urgent), %zu bounce%s (%zu hard), %zu complaint%s, "
	       "%zu unsubscribe%s, %zu auto-repl%s; %zu suppressed; %zu already filed\n",
	       p->kinds[MAIL_INQUIRY], p->kinds[MAIL_INQUIRY] == 1 ? "y" : "ies", p->urgent,
	       p->kinds[MAIL_BOUNCE], p->kinds[MAIL_BOUNCE] == 1 ? "" : "s", p->hard,
	       p->kinds[MAIL_COMPLAINT], p->kinds[MAIL_COMPLAINT] == 1 ? "" : "s",
	       p->kinds[MAIL_UNSUBSCRIBE], p->kinds[MAIL_UNSUBSCRIBE] == 1 ? "" : "s",
	       p->kinds[MAIL_AUTO_REPLY], p->kinds[MAIL_AUTO_REPLY] == 1 ? "y" : "ies",
	       p->suppressed, p->duplicates);
	if (p->kinds[MAIL_SUBSCRIBE])
		printf("poll: %zu sign-up request%s by mail (a confirmation sent, or confirmed)\n",
		       p->kinds[MAIL_SUBSCRIBE], p->kinds[MAIL_SUBSCRIBE] == 1 ? "" : "s");
	if (p->followups)
		printf("poll: %zu of the inquiries continued an earlier one (a follow-up): "
		       "letterbox inquiries show N\n",
		       p->followups);
	if (p->pending)
		printf("poll: %zu unlinked report%s kept as evidence, not as suppressions "
		       "(letterbox subscribers suppressions --pending)\n",
		       p->pending, p->pending == 1 ? "" : "s");
	if (p->answered)
		printf("poll: %zu inquir%s answered from the mail client (incoming.sent)\n",
		       p->answered, p->answered == 1 ? "y" : "ies");
	/* Each urgent one had its own line as it was filed (on_message). */
}

static int poll_once(struct poll_ctx *p)
{
	uint32_t v = source_uidvalidity(p->src);
	struct cursor c = pollstate_cursor(p->ps);
	if (v != c.uidvalidity) {
		/* A new or recreated mailbox: read it all; the seen records dedupe. */
		c.uidvalidity = v;
		c.last_uid = 0;
	}
	p->cur = c;
	int rc = source_fetch(p->src, &c, 200, on_message, p, p->err);
	int rc2 = checkpoint(p);
	if (!rc && !rc2 && (rc2 = poll_sent(p)) != 0 &&
	    (rc2 == LB_EUNAVAIL || rc2 == LB_ETEMP || rc2 == LB_ECONFIG)) {
		/* The inquiries are filed; the Sent folder is read next time. */
		log_warn("incoming.sent: %s", p->err->msg);
		rc2 = 0;
	}
	return rc ? rc : rc2;
}

static int run(struct poll_ctx *p, bool watch)
{
	const struct config *cfg = &p->g->cfg;
	struct lb_err *err = p->err;
	int lockfd = -1;
	struct secret secret;
	struct suppressions *sup = NULL;
	int rc;
	if ((rc = cli_lock(cfg, "poll", &lockfd, err)) ||
	    (rc = secret_load(cfg->state_dir, true, &secret, err)) ||
	    (rc = suppressions_load(cfg->state_dir, &sup, err)) ||
	    (rc = pollstate_open(cfg->state_dir, cfg->in.url, &p->ps, err)) ||
	    (rc = filer_open(cfg, &secret, sup, p->ps, &p->f, err)) ||
	    (rc = notifier_open(cfg, &secret, &p->notify, err)) ||
	    (rc = source_open(&cfg->in, cfg->site_dir, &p->src, err)))
		goto out;
	struct lb_err nerr = {0};
	if (notifier_catch_up(p->notify, p->now ? p->now : time(NULL), &nerr) != 0)
		log_warn("%s", nerr.msg);
	fsx_defer_sync(true);
	rc = poll_once(p);
	while (!rc && watch && !stop) {
		summary(p);
		memset(p->kinds, 0, sizeof p->kinds);
		p->urgent = p->hard = p->duplicates = p->suppressed = p->pending = p->followups = 0;
		p->answered = 0;
		if ((rc = source_wait(p->src, 25 * 60, err)) == 0 && !stop)
			rc = poll_once(p);
	}
	if (rc == LB_ETEMP && stop)
		rc = 0;
	summary(p);
out:
	fsx_defer_sync(false);
	free(p->moves);
	free(p->filed);
	source_close(p->src);
	source_close(p->sent);
	free(p->sent_url);
	notifier_close(p->notify);
	filer_close(p->f);
	if (p->ps) {
		struct lb_err e2;
		pollstate_close(p->ps, &e2);
	}
	suppressions_free(sup);
	cli_unlock(lockfd);
	return rc;
}

int cmd_poll(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"watch", no_argument, NULL, 'w'},
					     {"now", required_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool json = false, watch = false;
	const char *now_arg = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jwn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'w':
			watch = true;
			break;
		case 'n':
			now_arg = optarg;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			return cli_usage(usage, "poll: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (optind != argc)
		return cli_usage(usage, "poll takes no arguments");
	struct lb_err err = {0};
	struct poll_ctx p = {.g = g, .json = json, .err = &err};
	int rc = now_arg ? cli_now(now_arg, &p.now) : 0;
	if (rc || (rc = cli_config(g)))
		return rc;
	if (watch) {
		struct sigaction sa = {0};
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	rc = run(&p, watch);
	if (rc)
		cli_fail(&err);
	return rc;
}
