#include "receive/bounce.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "receive/dsn.h"
#include "receive/words.h"

/* Bounce texts say what failed near the top; past this it is the returned
 * message (or a hostile input), so the scan stays cheap. */
#define SCAN_MAX   65536
#define MAX_FAILED 20

static const char *const subjects[] = {"undeliverable",
				       "undelivered mail",
				       "mail delivery failed",
				       "returned mail",
				       "failure notice",
				       "delivery failure",
				       "mail system error",
				       "nondeliverable",
				       "non-deliverable",
				       "delivery has failed",
				       "could not send message",
				       "message delivery failure",
				       "mail delivery error",
				       "unzustellbar",
				       "nicht zustellbar",
				       "non remis",
				       "non recapitabile",
				       "returned to sender",
				       "delivery problem",
				       "delivery failed",
				       "delayed mail",
				       "delivery delayed",
				       "delivery status notification",
				       "error sending message",
				       "message not delivered",
				       "could not be delivered",
				       "notice of delivery failure",
				       "onbestelbaar",
				       "mail delivery problem",
				       "rejected:",
				       "delivery notification",
				       "warning: message",
				       "unable to deliver",
				       "failed mail",
				       "non-delivery",
				       "delivery warning",
				       "mail delivery",
				       "undeliverable",
				       NULL};

/* Wording that only delivery software uses. */
static const char *const phrases[] = {"this is the qmail-send program",
				      "created automatically by mail delivery software",
				      "delivery has failed to these recipients",
				      "could not be delivered to one or more",
				      "permanent fatal errors",
				      "i'm afraid i wasn't able to deliver",
				      "did not reach some or all of the intended recipients",
				      "delivery to the following recipient failed",
				      "delivery to the following recipients failed",
				      "we were unable to deliver your message",
				      "the original message was received at",
				      "this is the mail system at host",
				      "your message could not be delivered",
				      "your message cannot be delivered",
				      "could not be delivered to the following",
				      "the following recipient(s) could not be reached",
				      "unable to deliver message to the following",
				      "delivery to the following recipient has been delayed",
				      "has not yet been delivered",
				      "your message was not delivered",
				      "this is a warning message only",
				      "message could not be delivered",
				      "the following addresses failed",
				      "the following address(es) failed",
				      "mail delivery failed",
				      "transcript of session follows",
				      "unable to deliver your message",
				      "could not deliver message to",
				      "failed recipient",
				      "did not reach the following recipient",
				      "mail has been returned",
				      "returned mail follows",
				      "message not delivered to the following",
				      NULL};

static const char *const delay_phrases[] = {"has not yet been delivered",
					    "has been delayed",
					    "will continue trying",
					    "still trying",
					    "warning message only",
					    "delivery attempts will continue",
					    "will retry",
					    "will be retried",
					    "do not need to resend",
					    "could not send message for past",
					    "continue to try",
					    "postponed",
					    NULL};

static const char *const hard_phrases[] = {
    "user unknown",	   "unknown user",	 "no such user",	"no such mailbox",
    "mailbox unavailable", "does not exist",	 "doesn't exist",	"not exist",
    "unknown recipient",   "recipient unknown",	 "invalid recipient",	"invalid address",
    "address rejected",	   "recipient rejected", "account disabled",	"has been disabled",
    "no longer active",	   "not a valid",	 "mailbox not found",	"user not found",
    "address not found",   "no mailbox",	 "unknown or illegal",	"permanent error",
    "permanent failure",   "permanently",	 "fatal error",		"unrouteable",
    "no such domain",	   "domain not found",	 "bad destination",	"unknown local part",
    "deactivated",	   "user doesn't have",	 "not our customer",	"no valid recipients",
    "account expired",	   "mailbox disabled",	 "recipient not found", "address unknown",
    "invalid mailbox",	   "unknown address",	 "no such recipient",	"is inactive",
    "permanent fatal",	   "fatal delivery",	 "couldn't be found",	NULL};

static const char *const soft_phrases[] = {
    "temporar", "try again later", "deferred",		 "timed out",
    "greylist", "delayed",	   "connection refused", NULL};

static const char *const banners[] = {"below this line is a copy of the message",
				      "this is a copy of the message",
				      "original message follows",
				      "unsent message follows",
				      "original message headers",
				      "----- original message",
				      "returned message",
				      "original message header",
				      "the header of the original message",
				      "copy of the original message",
				      "original message as received",
				      "the first 50 lines",
				      "message header follows",
				      "header and top",
				      "unsent message below",
				      "\nreceived: from",
				      "\nreturn-path:",
				      NULL};

static bool has_any(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strstr(s, *list))
			return true;
	return false;
}

static bool daemon_sender(const struct inmsg *m)
{
	static const char *const locals[] = {"mailer-daemon", "postmaster", "mail-daemon",
					     "mailerdaemon",  "mdaemon",    "mail.delivery.system"};
	if (m->from) {
		const char *at = strchr(m->from, '@');
		size_t ln = at ? (size_t)(at - m->from) : strlen(m->from);
		for (size_t i = 0; i < sizeof locals / sizeof *locals; i++)
			if (ln == strlen(locals[i]) && strncasecmp(m->from, locals[i], ln) == 0)
				return true;
	}
	if (m->return_path && strncasecmp(m->return_path, "mailer-daemon", 13) == 0 &&
	    (m->return_path[13] == '\0' || m->return_path[13] == '@'))
		return true;
	return m->from_name && (strcasestr(m->from_name, "mail delivery") ||
				strcasestr(m->from_name, "mailer-daemon") ||
				strcasestr(m->from_name, "postmaster"));
}

static bool is_local(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static bool is_domain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

static bool excluded(const struct inmsg *m, struct span a)
{
	static const char *const locals[] = {"mailer-daemon@", "postmaster@", "root@",
					     "mail-daemon@", NULL};
	char *s = span_dup(a);
	bool ex = (m->from && strcasecmp(s, m->from) == 0) ||
		  (m->return_path && strcasecmp(s, m->return_path) == 0) || strv_has(&m->to, s) ||
		  (m->original.from && strcasecmp(s, m->original.from) == 0);
	for (const char *const *l = locals; *l && !ex; l++)
		ex = strncasecmp(s, *l, strlen(*l)) == 0;
	free(s);
	return ex;
}

/* Does the text before an address on its line mark it as the recipient
 * ("<user@x>:" alone on a line, "RCPT TO:<…>", "Final-Recipient: rfc822;")? */
static bool strong_context(const char *line, const char *a, const char *e, const char *end)
{
	static const char *const cues[] = {"rcpt to", "recipient",     "rfc822;",	 "address",
					   "mailbox", "expanded from", "message to",	 "reach",
					   "deliver", "generated by",  "generated from", NULL};
	const char *q = line;
	while (q < a && (*q == ' ' || *q == '\t' || *q == '<' || *q == '"' || *q == '*'))
		q++;
	/* A line of the SMTP transcript: "550 5.1.1 <user@example.org>: …". */
	if (a - q >= 4 && (q[0] == '4' || q[0] == '5') && q[1] >= '0' && q[1] <= '9' &&
	    q[2] >= '0' && q[2] <= '9' && (q[3] == ' ' || q[3] == '-'))
		return true;
	if (q == a) {
		while (e < end && (*e == '>' || *e == '"'))
			e++;
		if (e == end || *e == '\n' || *e == ':' || *e == ' ' || *e == '\t' || *e == '.')
			return true;
	}
	size_t back = (size_t)(a - line) < 40 ? (size_t)(a - line) : 40;
	char ctx[48];
	memcpy(ctx, a - back, back);
	ctx[back] = '\0';
	for (size_t i = 0; i < back; i++)
		ctx[i] = ctx[i] >= 'A' && ctx[i] <= 'Z' ? (char)(ctx[i] + 32) : ctx[i];
	return has_any(ctx, cues);
}

/* An echo of the original's header ("  To: list@example.org"), which names
 * where the message went, not what failed. */
static bool echo_line(const char *line, const char *end)
{
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	return end - line >= 3 &&
	       (strncasecmp(line, "to:", 3) == 0 || strncasecmp(line, "cc:", 3) == 0);
}

/* Sun's Messaging Server: "Recipient address: where it went" and, when
 * forwarding changed it, "Original address: what we sent to". */
static bool original_line(const char *line, const char *end)
{
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	return end - line >= 17 && strncasecmp(line, "original address:", 17) == 0;
}

struct found {
	struct strv original, strong, weak, echo;
};

/* Collect addresses from the report's own text (before the returned copy). */
static void scan_addresses(const struct inmsg *m, const char *text, size_t n, struct found *fd)
{
	const char *end = text + n, *line = text;
	for (const char *p = text; p < end; p++) {
		if (*p == '\n') {
			line = p + 1;
			continue;
		}
		if (*p != '@')
			continue;
		const char *a = p, *e = p + 1;
		if (p > line && p[-1] == '"') {
			/* A quoted local part, "neko....nyaan"@example.jp. */
			const char *q = p - 1;
			while (q > line && p - q < 64 && q[-1] != '"' && q[-1] != '\n')
				q--;
			if (q > line && q[-1] == '"' && q < p - 1)
				a = q - 1;
		}
		bool quoted = a != p;
		while (!quoted && a > line && p - a < 64 && is_local(a[-1]))
			a--;
		while (a < p && (*a == '.' || *a == '\''))
			a++;
		if (p - a > 5 && strncasecmp(a, "smtp=", 5) == 0) /* Exchange "dda:SMTP=" */
			a += 5;
		while (e < end && e - p < 254 && is_domain(*e))
			e++;
		while (e > p + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		struct span dom = {p + 1, (size_t)(e - p - 1)};
		if (a == p || dom.n < 3 || !memchr(dom.p, '.', dom.n) || dom.p[0] == '.') {
			p = e > p ? e - 1 : p;
			continue;
		}
		struct span addr = {a, (size_t)(e - a)};
		const char *le = memchr(line, '\n', (size_t)(end - line));
		struct strv *to = echo_line(line, le ? le : end)       ? &fd->echo
				  : original_line(line, le ? le : end) ? &fd->original
				  : strong_context(line, a, e, end)    ? &fd->strong
								       : &fd->weak;
		if (!excluded(m, addr) && to->n < MAX_FAILED)
			strv_add(to, addr, true);
		p = e - 1;
	}
}

/* A basic SMTP reply code ("550 ", "452-") standing alone in s[0..n). */
static char basic_code(const char *s, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		const char *p = s + i;
		if ((*p != '4' && *p != '5') || !(p[1] >= '0' && p[1] <= '9') ||
		    !(p[2] >= '0' && p[2] <= '9') || !(p[3] == ' ' || p[3] == '-'))
			continue;
		if (i > 0 && !(p[-1] == ' ' || p[-1] == '\n' || p[-1] == '(' || p[-1] == ':' ||
			       p[-1] == '<' || p[-1] == '\t'))
			continue;
		if (i > 0 && p[-1] == ':' && i >= 3 && p[-2] >= '0' && p[-2] <= '9')
			continue; /* a time of day, "10:550 " */
		return *p;
	}
	return 0;
}

static const char *const delay_word[] = {"delay", NULL};

/* A full mailbox in a carrier's own words, beyond dsn_quota_words: NTT
 * docomo answers "552 too much mail data". */
static const char *const full_phrases[] = {"too much mail data", NULL};

/* The word lists, looked for in one pass (words.h); the first five are all
 * bounce_severity_of() needs. */
enum {
	L_DELAY,
	L_HARD,
	L_SOFT,
	L_QUOTA,
	L_FULL,
	L_PHRASES,
	L_BANNERS,
	L_SUBJECTS,
	L_DELAY_WORD,
	L_END
};

static struct phrases lists;
static size_t list_at[L_END + 1]; /* where each list starts in lists */
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

static void lists_build(void)
{
	static const char *const *const all[L_END] = {
	    delay_phrases, hard_phrases, soft_phrases, dsn_quota_words, full_phrases,
	    phrases,	   banners,	 subjects,     delay_word,
	};
	phrases_init(&lists);
	for (int l = 0; l < L_END; l++)
		list_at[l] = phrases_add(&lists, all[l]);
	list_at[L_END] = lists.n;
	phrases_done(&lists);
}

/* A text read for all the lists at once. */
struct scan {
	size_t first[PHRASES_MAX];
};

static void scan(struct scan *s, const char *text, size_t n)
{
	pthread_once(&lists_once, lists_build);
	phrases_find(&lists, text, n, s->first, NULL, NULL);
}

/* Does a phrase of list l lie within the first end bytes scanned? */
static bool seen(const struct scan *s, int l, size_t end)
{
	return phrases_seen(&lists, s->first, list_at[l], list_at[l + 1], end);
}

/* bounce_severity_of() for text[0..end) (text == NULL: no text), from a
 * scan of text. */
static enum bounce_severity severity(const struct scan *s, const char *status, const char *text,
				     size_t end)
{
	enum bounce_severity sev = BOUNCE_NONE;
	bool delay = text && seen(s, L_DELAY, end);
	if (dsn_quota_text(status) || (text && (seen(s, L_QUOTA, end) || seen(s, L_FULL, end))))
		sev = BOUNCE_SOFT;
	else if (status && status[0] == '5')
		sev = BOUNCE_HARD;
	else if (status && status[0] == '4')
		sev = delay ? BOUNCE_DELAYED : BOUNCE_SOFT;
	else if (text && seen(s, L_HARD, end))
		sev = BOUNCE_HARD;
	else if (delay)
		sev = BOUNCE_DELAYED;
	else if (text && seen(s, L_SOFT, end))
		sev = BOUNCE_SOFT;
	if (sev == BOUNCE_NONE && text) {
		char c = basic_code(text, end);
		sev = c == '5' ? BOUNCE_HARD : c == '4' ? BOUNCE_SOFT : BOUNCE_NONE;
	}
	return sev;
}

enum bounce_severity bounce_severity_of(const char *status, const char *text)
{
	struct scan s;
	size_t n = text ? strlen(text) : 0;
	scan(&s, text ? text : "", n);
	return severity(&s, status, text, n);
}

/* The report's own words end where the returned message starts. */
static size_t own_end(const struct scan *s, size_t n)
{
	size_t own = n;
	for (size_t k = list_at[L_BANNERS]; k < list_at[L_BANNERS + 1]; k++)
		if (s->first[k] < own)
			own = s->first[k];
	return own;
}

/* The failed addresses: first (a header's list, may be empty), else what
 * text[0..own) names, the strongest kind found, else the original's To. */
static void text_failed(const struct inmsg *m, const struct strv *first, const char *text,
			size_t own, struct strv *out)
{
	struct found fd = {{0}, {0}, {0}, {0}};
	if (!first->n)
		scan_addresses(m, text, own, &fd);
	const struct strv *src = first->n	 ? first
				 : fd.original.n ? &fd.original
				 : fd.strong.n	 ? &fd.strong
				 : fd.weak.n	 ? &fd.weak
				 : fd.echo.n	 ? &fd.echo
						 : &m->original.to;
	for (size_t i = 0; i < src->n && i < MAX_FAILED; i++)
		strv_add(out, span_cstr(src->v[i]), true);
	strv_free(&fd.original);
	strv_free(&fd.strong);
	strv_free(&fd.weak);
	strv_free(&fd.echo);
}

void bounce_guess(const struct inmsg *m, struct bounce_guess *out)
{
	*out = (struct bounce_guess){0};
	size_t n = m->text_len < SCAN_MAX ? m->text_len : SCAN_MAX;
	const char *text = m->text ? m->text : "";
	if (!m->text)
		n = 0;
	/* One pass over the text for every list, one over the subject. */
	struct scan s, subj;
	scan(&subj, m->subject ? m->subject : "", m->subject ? strlen(m->subject) : 0);
	scan(&s, text, n);

	bool daemon = daemon_sender(m);
	bool null_sender = m->return_path && m->return_path[0] == '\0';
	bool subject = seen(&subj, L_SUBJECTS, SIZE_MAX);
	bool wording = seen(&s, L_PHRASES, n);
	/* Delivery software's own address is enough; a subject like one of
	 * theirs needs the null sender or failure wording as well. */
	out->found = wording || daemon || m->x_failed_recipients.n ||
		     (subject && (null_sender || seen(&s, L_HARD, n) || seen(&s, L_DELAY, n) ||
				  seen(&s, L_QUOTA, n)));
	if (!out->found)
		return;

	size_t own = own_end(&s, n);
	text_failed(m, &m->x_failed_recipients, text, own, &out->failed);

	struct span code;
	if (dsn_find_status((struct span){text, own}, &code) && code.p[0] != '2')
		out->status = span_dup(code);
	out->severity = severity(&s, out->status, text, own);
	if (out->severity == BOUNCE_NONE)
		out->severity =
		    seen(&subj, L_DELAY, SIZE_MAX) || seen(&subj, L_DELAY_WORD, SIZE_MAX)
			? BOUNCE_DELAYED
			: BOUNCE_SOFT;
}

void bounce_text_addresses(const struct inmsg *m, struct strv *out)
{
	size_t n = m->text ? (m->text_len < SCAN_MAX ? m->text_len : SCAN_MAX) : 0;
	const char *text = m->text ? m->text : "";
	struct scan s;
	scan(&s, text, n);
	static const struct strv none = {0};
	text_failed(m, &none, text, own_end(&s, n), out);
}

void bounce_guess_free(struct bounce_guess *g)
{
	strv_free(&g->failed);
	free(g->status);
	*g = (struct bounce_guess){0};
}
