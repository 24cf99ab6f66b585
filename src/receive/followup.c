#include "receive/followup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/crash.h"
#include "core/addr.h"
#include "core/mem.h"
#include "core/strset.h"
#include "core/fsx.h"
#include "receive/classify.h"
#include "store/conversation.h"

struct followups {
	struct strset ids;	/* Message-ID -> number */
	struct strset subjects; /* "sender-key<TAB>subject" -> number */
	time_t *last;		/* by number: when its last message came or went */
	size_t cap;
};

struct followups *followups_new(void)
{
	return xcalloc(1, sizeof(struct followups));
}

void followups_free(struct followups *x)
{
	if (!x)
		return;
	strset_free(&x->ids);
	strset_free(&x->subjects);
	free(x->last);
	free(x);
}

/* ---- subjects -------------------------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length of a reply or forward prefix at s ("Re:", "RE[2]:", "Fwd :"),
 * or 0. */
static size_t prefix_len(const char *s)
{
	static const char *const words[] = {"re",  "fwd",  "fw",  "aw",	  "wg",	     "sv",
					    "vs",  "rv",   "tr",  "antw", "antwort", "ref",
					    "réf", "auto", "enc", "odp",  NULL};
	size_t w = 0;
	while (s[w] && !is_space(s[w]) && s[w] != ':' && s[w] != '[' && s[w] != '^' && s[w] != '(')
		w++;
	bool known = false;
	for (size_t i = 0; words[i] && !known; i++)
		known = strlen(words[i]) == w && strncasecmp(s, words[i], w) == 0;
	if (!known)
		return 0;
	size_t p = w;
	if (s[p] == '[' || s[p] == '(' || s[p] == '^') { /* Re[2]: Re(2): Re^2: */
		char close = s[p] == '[' ? ']' : s[p] == '(' ? ')' : 0;
		p++;
		size_t d = p;
		while (s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == d || (close && s[p++] != close))
			return 0;
	}
	while (s[p] == ' ' || s[p] == '\t')
		p++;
	if (s[p] == ':')
		return p + 1;
	if (strncmp(s + p, "\xef\xbc\x9a", 3) == 0) /* a full-width colon */
		return p + 3;
	return 0;
}

void followup_subject(struct buf *out, const char *subject)
{
	const char *s = subject ? subject : "";
	for (;;) {
		while (is_space(*s))
			s++;
		size_t k = prefix_len(s);
		if (!k)
			break;
		s += k;
	}
	bool blank = false;
	for (; *s; s++) {
		if (is_space(*s)) {
			blank = true;
			continue;
		}
		if (blank && out->n)
			buf_addc(out, ' ');
		blank = false;
		buf_addc(out, *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s);
	}
}

/* ---- the index ------------------------------------------------------------------------------- */

static void touch(struct followups *x, unsigned number, time_t when)
{
	if (number >= x->cap) {
		size_t old = x->cap;
		x->last = xgrowarray(x->last, &x->cap, (size_t)number + 1, sizeof *x->last);
		memset(x->last + old, 0, (x->cap - old) * sizeof *x->last);
	}
	if (when > x->last[number])
		x->last[number] = when;
}

static time_t last_of(const struct followups *x, unsigned number)
{
	return number < x->cap ? x->last[number] : 0;
}

static void add_id(struct followups *x, const char *id, unsigned number)
{
	if (!id || !*id)
		return;
	void *val = (void *)(uintptr_t)number;
	if (!strset_add_copy(&x->ids, id, val, NULL))
		strset_set(&x->ids, id, val); /* a reused Message-ID: the latest wins */
}

static char *subject_key(const char *from, const char *subject)
{
	struct buf s = BUF_INIT;
	followup_subject(&s, subject);
	if (!from || !*from || !s.n) {
		buf_free(&s);
		return NULL;
	}
	char *a = addr_key(from);
	struct buf k = BUF_INIT;
	buf_printf(&k, "%s\t%s", a, s.p);
	free(a);
	buf_free(&s);
	return buf_take(&k);
}

static void add_subject(struct followups *x, const char *from, const char *subject, unsigned number)
{
	char *k = subject_key(from, subject);
	if (!k)
		return;
	void *old = NULL, *val = (void *)(uintptr_t)number;
	if (!strset_add_copy(&x->subjects, k, val, &old) &&
	    last_of(x, number) >= last_of(x, (unsigned)(uintptr_t)old))
		strset_set(&x->subjects, k, val);
	free(k);
}

void followup_note(struct followups *x, unsigned number, const char *message_id, const char *from,
		   const char *subject, time_t when)
{
	touch(x, number, when);
	add_id(x, message_id, number);
	add_subject(x, from, subject, number);
}

void followup_add(struct followups *x, const struct inquiry *q)
{
	size_t n;
	struct conv_msg *v = conv_msgs(q, &n);
	touch(x, q->number, q->received);
	for (size_t i = 0; i < n; i++)
		touch(x, q->number, v[i].when);
	add_id(x, q->message_id, q->number);
	for (size_t i = 0; i < n; i++) {
		add_id(x, v[i].message_id, q->number);
		/* a later message's subject is not kept: the first one's stands */
		if (v[i].dir == CONV_IN)
			add_subject(x, v[i].from, q->subject, q->number);
	}
	add_subject(x, q->from, q->subject, q->number);
	conv_msgs_free(v, n);
}

static unsigned by_id(const struct followups *x, const char *id)
{
	return id && *id ? (unsigned)(uintptr_t)strset_get(&x->ids, id, NULL) : 0;
}

unsigned followup_find(const struct followups *x, const struct inmsg *m, time_t now,
		       bool *by_reference)
{
	if (by_reference)
		*by_reference = false;
	unsigned n = by_id(x, m->in_reply_to);
	for (size_t i = m->references.n; !n && i > 0; i--)
		n = by_id(x, m->references.v[i - 1]);
	if (n) {
		if (by_reference)
			*by_reference = true;
		return n;
	}
	char *k = subject_key(m->from, m->subject);
	if (!k)
		return 0;
	n = (unsigned)(uintptr_t)strset_get(&x->subjects, k, NULL);
	free(k);
	return n && now - last_of(x, n) <= FOLLOWUP_WINDOW ? n : 0;
}

/* ---- filing a later message ------------------------------------------------------------------ */

/* Crash points here (core/crash.h): after-followup-message (its raw bytes
 * are stored, the record does not point at them yet) and after-followup
 * (filed, not yet recorded as seen). */

/* Whether text holds crisis language (receive/classify.h). */
static bool crisis(const struct config *cfg, const char *text)
{
	return text && urgent(text, strlen(text), (const char *const *)cfg->urgent_words,
			      (const char *const *)cfg->urgent_languages, NULL);
}

/* The changes a later message brings to q, as history lines: it reopens an
 * answered or closed inquiry, and crisis language in it (its own words, or a
 * subject other than the conversation's) makes the inquiry urgent.  The
 * urgent alert goes out again when the inquiry becomes urgent, or when staff
 * may think it settled (answered, closed); so its earlier intent is
 * cleared.  Returns whether the message holds crisis language. */
static bool followup_changes(const struct config *cfg, const struct inmsg *m, struct inquiry *q,
			     struct buf *status, struct buf *priority)
{
	const char *own = m->own_text && *m->own_text ? m->own_text : m->text;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;
	followup_subject(&s1, m->subject);
	followup_subject(&s2, q->subject);
	bool urgent_now = crisis(cfg, own) ||
			  (strcmp(buf_cstr(&s1), buf_cstr(&s2)) != 0 && crisis(cfg, m->subject));
	buf_free(&s1);
	buf_free(&s2);
	bool was_urgent = inquiry_is_urgent(q), waiting = inquiry_is_waiting(q);
	if (!waiting) {
		buf_printf(status, "%s -> open", q->status ? q->status : "?");
		free(q->status);
		q->status = xstrdup("open");
	}
	if (urgent_now && !was_urgent) {
		buf_printf(priority, "%s -> urgent: crisis language in a new message",
			   q->priority ? q->priority : "?");
		free(q->priority);
		q->priority = xstrdup("urgent");
	}
	if (urgent_now && (!was_urgent || !waiting)) {
		free(q->alerted);
		free(q->alert_state);
		q->alerted = q->alert_state = NULL;
	}
	return urgent_now;
}

int followup_file(struct followups *x, const struct config *cfg, const struct src_msg *msg,
		  const struct inmsg *m, const char *from, const char *key, time_t now,
		  unsigned number, bool by_reference, struct followup_filed *out,
		  struct lb_err *err)
{
	const char *dir = cfg->state_dir;
	int fd = -1;
	struct inquiry q = {0};
	struct buf what = BUF_INIT, status = BUF_INIT, priority = BUF_INIT;
	*out = (struct followup_filed){0};
	int rc = inquiry_lock_load(dir, number, &fd, &q, err);
	if (rc || !q.number)
		goto out; /* an error, or the inquiry is gone */
	/* Its place in the conversation as `inquiries show` numbers it: after
	 * the first message, the later ones and the replies sent (every copy;
	 * those from before the thread noted replies came first). */
	size_t later = 0, replies = 0, copies = 0;
	for (const char *t = q.thread; t && *t;) {
		const char *nl = strchr(t, '\n');
		struct span line = {t, nl ? (size_t)(nl - t) : strlen(t)};
		later += span_starts_with(line, "in\t");
		replies += span_starts_with(line, "out\t") && line.n > 6 &&
			   memcmp(line.p + line.n - 6, "\treply", 6) == 0;
		t = nl ? nl + 1 : NULL;
	}
	for (const char *c = q.copies; c && *c; c++)
		copies += c == q.copies || c[-1] == ' ';
	size_t nth = 2 + later + (copies > replies ? copies : replies);
	bool urgent_now = followup_changes(cfg, m, &q, &status, &priority);
	buf_printf(&what, "message %zu of the conversation, from %s (%s)%s", nth, from,
		   by_reference ? "an answer in the same thread"
				: "same sender and subject, no reference",
		   urgent_now ? "; crisis language" : "");
	struct inq_note notes[3] = {{"new message", what.p}};
	size_t nn = 1;
	if (status.n)
		notes[nn++] = (struct inq_note){"status", status.p};
	if (priority.n)
		notes[nn++] = (struct inq_note){"priority", priority.p};
	char *who = xstrdup(from), *dkey = xstrdup(key);
	struct conv_msg cm = {.when = now, .key = dkey, .message_id = m->message_id, .from = who};
	bool save = status.n || priority.n; /* an alert cleared goes with one of them */
	if ((rc = inquiry_add_message(dir, &q, &cm, msg->raw, msg->n, save, notes, nn, err)) == 0) {
		crash_point("after-followup");
		out->joined = true;
		out->urgent = urgent_now;
		followup_note(x, number, m->message_id, from, q.subject, now);
	}
	free(who);
	free(dkey);
out:
	if (fd >= 0)
		close(fd);
	inquiry_free(&q);
	buf_free(&what);
	buf_free(&status);
	buf_free(&priority);
	return rc;
}
