/* Who may get an acknowledgement (RFC 3834) and what it says, the log that
 * keeps it to one per sender per 7 days, and the states of an intent.  See
 * notify_rules.h. */
#include "deliver/notify_rules.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "compose/onemail.h"
#include "core/addr.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "deliver/notify.h"
#include "store/db.h"
#include "store/conversation.h"

#define ACK_WINDOW     (7L * 86400) /* one acknowledgement per sender per 7 days */
#define ACK_HMAC_LABEL "letterbox acknowledged senders"

/* Local parts of addresses that no person reads, or that a reply must never
 * go to (RFC 3834 3.1.1 and list conventions). */
bool ack_machine_local(const char *local)
{
	static const char *const exact[] = {
	    "mailer-daemon", "postmaster",    "daemon",	      "listserv", "majordomo", "autoreply",
	    "auto-reply",    "autoresponder", "nobody",	      "root",	  "abuse",     "bounce",
	    "bounces",	     "notifications", "notification", NULL};
	static const char *const starts[] = {
	    "noreply",	    "no-reply",	     "no_reply", "donotreply",
	    "do-not-reply", "do_not_reply",  "bounce+",	 "bounces+",
	    "owner-",	    "mailer-daemon", NULL};
	static const char *const ends[] = {"-request", "-bounces",  "-owner",
					   "-noreply", "-no-reply", NULL};
	char *l = addr_key(local ? local : "");
	size_t n = strlen(l);
	bool hit = false;
	for (size_t i = 0; exact[i] && !hit; i++)
		hit = strcmp(l, exact[i]) == 0;
	for (size_t i = 0; starts[i] && !hit; i++)
		hit = strncmp(l, starts[i], strlen(starts[i])) == 0;
	for (size_t i = 0; ends[i] && !hit; i++) {
		size_t k = strlen(ends[i]);
		hit = n > k && strcmp(l + n - k, ends[i]) == 0;
	}
	free(l);
	return hit;
}

/* Does key (an addr_key) fit pattern ("Name <hello+{token}@example.org>"):
 * any token, or the address without its sub-address (hello@example.org)? */
static bool fits_pattern(const char *pattern, const char *key)
{
	struct addr a;
	struct lb_err e;
	if (!pattern || addr_parse(span_cstr(pattern), &a, &e))
		return false;
	char *p = addr_key(a.spec);
	addr_free(&a);
	bool hit = strcmp(p, key) == 0;
	char *t = strstr(p, "{token}");
	if (!hit && t) {
		size_t pre = (size_t)(t - p), kn = strlen(key);
		const char *suf = t + 7;
		size_t sn = strlen(suf);
		hit = kn >= pre + sn + 1 && strncmp(key, p, pre) == 0 &&
		      strcmp(key + kn - sn, suf) == 0;
		/* hello+{token}@x also means hello@x */
		size_t base = pre;
		while (!hit && base > 0 && strchr("+-.", p[base - 1])) {
			base--;
			hit = kn == base + sn && strncmp(key, p, base) == 0 &&
			      strcmp(key + base, suf) == 0;
		}
	}
	free(p);
	return hit;
}

bool ack_own_address(const struct config *cfg, const char *spec)
{
	char *k = addr_key(spec);
	bool hit = fits_pattern(cfg->from.spec, k) || fits_pattern(cfg->reply_to, k) ||
		   fits_pattern(cfg->unsub_mailto, k) || fits_pattern(cfg->bounce_to, k);
	char *const *lists[] = {cfg->digest_to, cfg->urgent_to};
	for (size_t l = 0; l < 2 && !hit; l++)
		for (size_t i = 0; lists[l] && lists[l][i] && !hit; i++)
			hit = fits_pattern(lists[l][i], k);
	free(k);
	return hit;
}

/* The first word of a header value ("no", "auto-replied (vacation)"). */
static bool first_word_is(const char *v, const char *const *words)
{
	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = 0;
	while (v[n] && !strchr(" \t;(\r\n", v[n]))
		n++;
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncasecmp(v, words[i], n) == 0)
			return true;
	return false;
}

static bool present(const char *v)
{
	return v && *v;
}

/* Why the message must not be answered automatically, or NULL. */
const char *ack_machine_message(const struct inmsg *m)
{
	static const char *const no[] = {"no", NULL};
	static const char *const bulk[] = {"bulk", "list", "junk", "auto_reply", NULL};
	static const char *const report[] = {"multipart/report", NULL};
	if (!m->from)
		return "no From address";
	if (m->return_path && !*m->return_path)
		return "null sender (a bounce or report)";
	if (m->has_dsn || m->has_arf || first_word_is(m->content_type, report))
		return "a delivery or feedback report";
	if (present(m->auto_submitted) && !first_word_is(m->auto_submitted, no))
		return "automatic (Auto-Submitted)";
	if ((present(m->x_autoreply) && !first_word_is(m->x_autoreply, no)) ||
	    (present(m->x_autorespond) && !first_word_is(m->x_autorespond, no)))
		return "an auto-reply";
	if (first_word_is(m->precedence, bulk))
		return "bulk or list mail (Precedence)";
	if (present(m->list_id) || present(m->list_unsubscribe))
		return "a mailing-list message";
	if (present(m->x_auto_response_suppress))
		return "the sender asks for no automatic replies";
	return NULL;
}

/* The acknowledgement log: a row per acknowledgement within the last
 * ACK_WINDOW in the indexed store (poll_acks, store/pollstate_import.h).
 * The HMAC (keyed with the site secret) stands for the address, so the log
 * names nobody. */
static void sender_hash(const struct secret *secret, const char *spec, char out[TOKEN_LEN + 1])
{
	token_make(secret, ACK_HMAC_LABEL, spec, out);
}

static int ack_step(sqlite3 *db, sqlite3_stmt *st, struct lb_err *err)
{
	int rc =
	    sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, "state/" DB_FILE ": poll_acks", err);
	sqlite3_finalize(st);
	return rc;
}

/* In one transaction: entries older than the window dropped, the entry for
 * drop_number removed (0: none), and hash's entry for number added (hash
 * NULL: none). */
static int ack_write(const struct config *cfg, time_t now, unsigned drop_number, const char *hash,
		     struct lb_err *err)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = db_get(cfg->state_dir, &db, err);
	if (rc || (rc = db_begin(db, err)))
		return rc;
	rc = db_prepare(db, "DELETE FROM poll_acks WHERE at < ? OR inquiry = ?", &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(now - ACK_WINDOW));
		sqlite3_bind_int64(st, 2, drop_number ? (sqlite3_int64)drop_number : -1);
		rc = ack_step(db, st, err);
	}
	if (!rc && hash &&
	    !(rc = db_prepare(db, "INSERT INTO poll_acks(hash, inquiry, at) VALUES (?, ?, ?)", &st,
			      err))) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, drop_number);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		rc = ack_step(db, st, err);
	}
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

/* Whether spec was acknowledged within the window, for an inquiry other
 * than number: one look-up in the (hash, at) index. */
static int acked_recently(const struct config *cfg, const struct secret *secret, const char *spec,
			  unsigned number, time_t now, bool *hit, struct lb_err *err)
{
	char h[TOKEN_LEN + 1];
	sender_hash(secret, spec, h);
	*hit = false;
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = db_get(cfg->state_dir, &db, err);
	/* Not this inquiry's own entry: that is a run that died before the
	 * intent reached the record, so nothing went out.  The record, not this
	 * log, keeps an inquiry from being acknowledged twice. */
	if (!rc && !(rc = db_prepare(db,
				     "SELECT 1 FROM poll_acks WHERE hash = ? AND at >= ?"
				     " AND inquiry <> ? LIMIT 1",
				     &st, err))) {
		sqlite3_bind_text(st, 1, h, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(now - ACK_WINDOW));
		sqlite3_bind_int64(st, 3, number);
		int r = sqlite3_step(st);
		*hit = r == SQLITE_ROW;
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			rc = db_fail(db, "state/" DB_FILE ": poll_acks", err);
		sqlite3_finalize(st);
	}
	return rc;
}

/* Why q must not be acknowledged, or NULL.  *m receives the parsed message
 * (for threading) when it could be read. */
const char *ack_refusal(const struct config *cfg, const struct secret *secret,
			const struct inquiry *q, time_t now, struct inmsg *m, bool *parsed,
			struct lb_err *err)
{
	*parsed = false;
	err->code = 0;
	if (!q->status || strcmp(q->status, "new") != 0)
		return "staff have already taken it up";
	struct addr a;
	struct lb_err e;
	if (!q->from || addr_parse_spec(span_cstr(q->from), &a, &e))
		return "no usable sender address";
	bool own = ack_own_address(cfg, a.spec), machine = ack_machine_local(a.local);
	addr_free(&a);
	if (own)
		return "one of our own addresses";
	if (machine)
		return "a no-reply, list or MAILER-DAEMON address";
	struct buf raw = BUF_INIT;
	if (inquiry_message(cfg->state_dir, q, &raw, &e)) {
		buf_free(&raw);
		return "its message cannot be read";
	}
	const char *markers[] = {cfg->site_name, NULL};
	struct parse_opts po = {markers};
	inmsg_parse(raw.p, raw.n, &po, m);
	buf_free(&raw);
	*parsed = true;
	const char *why = ack_machine_message(m);
	if (!why && m->return_path && *m->return_path &&
	    addr_parse_spec(span_cstr(m->return_path), &a, &e) == 0) {
		if (ack_machine_local(a.local))
			why = "a no-reply, list or MAILER-DAEMON return path";
		addr_free(&a);
	}
	bool recent = false;
	if (!why && acked_recently(cfg, secret, q->from, q->number, now, &recent, err))
		why = "the log of acknowledgements cannot be read";
	else if (!why && recent)
		why = "this sender was acknowledged within the last 7 days";
	return why;
}

int acklog_add(const struct config *cfg, const struct secret *secret, const char *spec,
	       unsigned number, time_t now, struct lb_err *err)
{
	char h[TOKEN_LEN + 1];
	sender_hash(secret, spec, h);
	return ack_write(cfg, now, number, h, err);
}

int acklog_drop(const struct config *cfg, unsigned number, time_t now, struct lb_err *err)
{
	return ack_write(cfg, now, number, NULL, err);
}

/* ---- the acknowledgement's text -------------------------------------------------------------- */

static void first_name(struct buf *out, const char *name)
{
	struct span s = span_trim(span_cstr(name ? name : ""));
	const char *sp = memchr(s.p, ' ', s.n);
	buf_add(out, s.p, sp ? (size_t)(sp - s.p) : s.n);
}

int ack_compose(const struct config *cfg, const struct secret *secret, const struct inquiry *q,
		const struct inmsg *m, time_t now, struct buf *raw, char **message_id,
		struct lb_err *err)
{
	struct buf text = BUF_INIT, html = BUF_INIT, subj = BUF_INIT, fn = BUF_INIT, num = BUF_INIT;
	first_name(&fn, q->from_name);
	buf_printf(&num, "%u", q->number);
	const struct om_var vars[] = {{"person.name", q->from_name, NULL},
				      {"person.first_name", fn.p, NULL},
				      {"person.email", q->from, NULL},
				      {"inquiry.number", num.p, NULL},
				      {"inquiry.subject", q->subject, NULL}};
	struct addr to = {0}, reply_to = {0};
	bool have_reply_to = false;
	int rc = onemail_template(cfg, "acknowledgement", vars, sizeof vars / sizeof vars[0], now,
				  &text, &html, err);
	if (!rc && !(rc = addr_parse_spec(span_cstr(q->from), &to, err))) {
		if (q->from_name)
			to.display = xstrdup(q->from_name);
		if (cfg->reply_to) {
			char tok[TOKEN_LEN + 1];
			token_make(secret, cfg->list_id, q->from, tok);
			char *rt = config_expand(cfg->reply_to, tok, NULL);
			struct lb_err e;
			have_reply_to = addr_parse(span_cstr(rt), &reply_to, &e) == 0;
			free(rt);
		}
		onemail_subject(&subj, "Auto: ", q->subject, "your message");
		/* References: theirs, then their message itself (RFC 5322 3.6.4). */
		size_t nref = m->references.n;
		const char **refs = xcalloc(nref + 2, sizeof *refs);
		for (size_t i = 0; i < nref; i++)
			refs[i] = m->references.v[i];
		if (q->message_id)
			refs[nref] = q->message_id;
		struct onemail om = {.kind = OM_ACK,
				     .from = &cfg->from,
				     .reply_to = have_reply_to ? &reply_to : NULL,
				     .to = &to,
				     .nto = 1,
				     .subject = subj.p,
				     .in_reply_to = q->message_id,
				     .references = refs,
				     .text = text.p,
				     .html = html.p,
				     .date = now};
		rc = onemail_compose(&om, raw, message_id, err);
		free(refs);
	}
	addr_free(&to);
	addr_free(&reply_to);
	buf_free(&text);
	buf_free(&html);
	buf_free(&subj);
	buf_free(&fn);
	buf_free(&num);
	return rc;
}

/* ---- what became of an intent ---------------------------------------------------------------- */

bool notify_same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool notify_in_doubt(const char *intent, const char *state, bool noted)
{
	if (!intent)
		return false;
	if (!state)
		return !noted;
	return notify_same(state, OUTCOME_PENDING) || notify_same(state, ALERT_REPEATING);
}

const char *notify_doubt_alert(const struct inquiry *q)
{
	if (notify_same(q->alert_state, ALERT_DOUBTED))
		return "the urgent alert may not have been sent (poll was interrupted); a repeat "
		       "marked \"possible repeat\" is due";
	if (notify_same(q->alert_state, ALERT_REPEATED))
		return "the urgent alert may not have been sent (poll was interrupted); it was "
		       "sent again, marked \"possible repeat\"";
	if (notify_same(q->alert_state, OUTCOME_UNKNOWN))
		return "the urgent alert may not have been sent (poll was interrupted) "
		       "\xe2\x80\x94 check";
	return NULL;
}

const char *notify_doubt_ack(const struct inquiry *q)
{
	return notify_same(q->ack_state, OUTCOME_UNKNOWN)
		   ? "the acknowledgement may not have been sent (poll was interrupted) "
		     "\xe2\x80\x94 check; it is not resent"
		   : NULL;
}

/* The text part lists the facts as aligned lines; the HTML part as a table,
 * so that no mail client runs them together. */
void alert_compose_text(const struct config *cfg, const struct inquiry *q, bool repeat,
			struct buf *t, struct buf *html)
{
	size_t n, last = 0;
	struct conv_msg *v = conv_msgs(q, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].dir == CONV_IN)
			last = i + 1;
	const struct conv_msg *later = last ? &v[last - 1] : NULL;
	struct buf when = BUF_INIT;
	time_local(&when, later ? later->when : q->received);
	struct buf before = BUF_INIT, after = BUF_INIT, from = BUF_INIT, num = BUF_INIT;
	if (repeat)
		buf_adds(&before,
			 "POSSIBLE REPEAT: letterbox was interrupted while it sent this alert\n"
			 "and cannot tell whether it went out, so it is sent again.  If you\n"
			 "already have it, this copy changes nothing.\n\n");
	if (later)
		buf_printf(&before,
			   "A new message in inquiry %u is URGENT: its words suggest a crisis.\n",
			   q->number);
	else
		buf_printf(&before, "Inquiry %u was filed as URGENT: its words suggest a crisis.\n",
			   q->number);
	if (later)
		buf_adds(&from, later->from);
	else if (q->from_name)
		buf_printf(&from, "%s <%s>", q->from_name, q->from);
	else
		buf_adds(&from, q->from ? q->from : "");
	buf_printf(&num, "%u", q->number);
	const struct om_row rows[] = {{"Inquiry", num.p},
				      {"From", from.p},
				      {"Subject", q->subject ? q->subject : "(none)"},
				      {"Received", when.p}};
	buf_printf(&after,
		   "Read it and answer it:\n\n"
		   "    letterbox inquiries show %u\n"
		   "    letterbox inquiries reply %u --file REPLY.md\n\n",
		   q->number, q->number);
	struct buf raw = BUF_INIT;
	struct lb_err e = {0};
	if (!cfg->alert_body)
		buf_adds(&after,
			 "The message itself is not in this mail, so that health details stay in\n"
			 "as few mailboxes as possible.\n");
	else if ((later ? conv_msg_raw(cfg->state_dir, later, &raw, &e)
			: inquiry_message(cfg->state_dir, q, &raw, &e)) == 0) {
		struct inmsg m;
		const char *markers[] = {cfg->site_name, NULL};
		struct parse_opts po = {markers};
		inmsg_parse(raw.p, raw.n, &po, &m);
		const char *text = m.own_text && *m.own_text ? m.own_text : m.text;
		buf_adds(&after, "They wrote:\n\n");
		buf_adds(&after, text && *text ? text : "(no text)");
		buf_adds(&after, "\n");
		inmsg_free(&m);
	}
	buf_printf(t, "%s\n", before.p);
	/* The number is in the sentence above already. */
	for (size_t i = 1; i < sizeof rows / sizeof *rows; i++)
		buf_printf(t, "%s:%*s%s\n", rows[i].label, (int)(9 - strlen(rows[i].label)), "",
			   rows[i].value);
	buf_printf(t, "\n%s", after.p);
	onemail_rows_html(html, cfg->site_lang, before.p, rows, sizeof rows / sizeof *rows,
			  after.p);
	buf_free(&raw);
	buf_free(&before);
	buf_free(&after);
	buf_free(&from);
	buf_free(&num);
	buf_free(&when);
	conv_msgs_free(v, n);
}
