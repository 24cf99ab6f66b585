#include "receive/lhost.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "receive/dsn.h"
#include "receive/lhost_ses.h"

/* Reports say what failed near the top; the rest is the returned message. */
#define SCAN_MAX   65536
#define LINE_MAX   512 /* longer lines name no recipient in any shape */
#define MAX_RCPT   20
#define REASON_MAX 1024 /* how far past the last recipient the reason is looked for */
#define MAX_SIGNS  7

static bool pat_match(const char *pat, const char *s, const char *e, struct span *addr);

/* ---- header signs ---------------------------------------------------------------------------- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Whether s holds needle, ignoring ASCII case. */
static bool has_ci(struct span s, const char *needle)
{
	size_t k = strlen(needle);
	if (!k || k > s.n)
		return false;
	char first = lower(needle[0]);
	for (size_t i = 0; i + k <= s.n; i++)
		if (lower(s.p[i]) == first && strncasecmp(s.p + i + 1, needle + 1, k - 1) == 0)
			return true;
	return false;
}

/* One field of a raw header block: *p moves past it (and its folds). */
static bool next_field(const char **p, const char *end, struct span *name, struct span *value)
{
	while (*p < end) {
		const char *line = *p, *e = line;
		/* the field and its folds */
		do {
			const char *nl = memchr(e, '\n', (size_t)(end - e));
			e = nl ? nl + 1 : end;
		} while (e < end && (*e == ' ' || *e == '\t'));
		*p = e;
		const char *colon = memchr(line, ':', (size_t)(e - line));
		if (!colon || colon == line || memchr(line, ' ', (size_t)(colon - line)))
			continue;
		*name = (struct span){line, (size_t)(colon - line)};
		const char *v = colon + 1;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		*value = (struct span){v, (size_t)(e - v)}; /* the line end and folds stay */
		return true;
	}
	return false;
}

enum sign_kind {
	FROM_HAS,	  /* the sender's address contains s (holding '*': matches it) */
	FROM_NAME_STARTS, /* the sender's display name starts with s */
	SUBJECT_IS,
	SUBJECT_STARTS,
	SUBJECT_HAS,
	FIELD_HAS,    /* "name:value": a field name whose value contains value ("": any) */
	RECEIVED_HAS, /* some Received field contains s (lower case) */
	MSGID_HAS,    /* the Message-ID contains s */
};

struct sign {
	enum sign_kind k;
	const char *s;
};

/* The message's own values, measured once. */
struct seen {
	struct span from, subject, msgid;
};

/* Whether a sign that is not about a header field holds. */
static bool sign_holds(const struct inmsg *m, const struct seen *v, const struct sign *g)
{
	switch (g->k) {
	case FROM_HAS:
		if (m->from && strchr(g->s, '*')) {
			struct span a;
			return pat_match(g->s, v->from.p, v->from.p + v->from.n, &a);
		}
		return has_ci(v->from, g->s);
	case FROM_NAME_STARTS:
		return m->from_name && strncasecmp(m->from_name, g->s, strlen(g->s)) == 0;
	case SUBJECT_IS:
		return m->subject && span_eq_ci(span_trim(v->subject), g->s);
	case SUBJECT_STARTS:
		return span_starts_with_ci(v->subject, g->s);
	case SUBJECT_HAS:
		return has_ci(v->subject, g->s);
	case MSGID_HAS:
		return has_ci(v->msgid, g->s);
	case FIELD_HAS:
	case RECEIVED_HAS:
		break;
	}
	return false;
}

/* ---- recipient lines ------------------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_local(char c)
{
	return c > ' ' && c != 0x7f && !strchr("<>()[],;:\"@\\", c);
}

static bool is_domain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

/* Match the line s[0..e) against pat: letters compare without case, ' '
 * is any run of white space (none too), '*' any run of bytes, "%a" an
 * address (captured into *addr); the end of pat allows only white space
 * and full stops after it. */
static bool pat_match(const char *pat, const char *s, const char *e, struct span *addr)
{
	for (;; pat++) {
		if (!*pat) {
			while (s < e && (is_space(*s) || *s == '.'))
				s++;
			return s == e;
		}
		if (*pat == '*') {
			for (const char *q = s; q <= e; q++)
				if (pat_match(pat + 1, q, e, addr))
					return true;
			return false;
		}
		if (*pat == ' ') {
			while (s < e && is_space(*s))
				s++;
			continue;
		}
		if (pat[0] == '%' && pat[1] == 'a') {
			const char *a = s;
			while (s < e && is_local(*s))
				s++;
			if (s == a || s == e || *s != '@')
				return false;
			const char *d = ++s;
			while (s < e && is_domain(*s))
				s++;
			while (s > d && (s[-1] == '.' || s[-1] == '-'))
				s--;
			if (s - d < 3 || !memchr(d, '.', (size_t)(s - d)))
				return false;
			*addr = (struct span){a, (size_t)(s - a)};
			pat++;
			continue;
		}
		char c = *s, p = *pat;
		if (s == e || (c != p && !((c | 0x20) == (p | 0x20) && (p | 0x20) >= 'a' &&
					   (p | 0x20) <= 'z')))
			return false;
		s++;
	}
}

/* ---- the shapes ------------------------------------------------------------------------------ */

struct saying {
	const char *phrase; /* lower case */
	enum bounce_severity sev;
};

/* When neither a code nor the words decide, a report in a shape we know
 * names a failure, and a failure is permanent. */
struct shape {
	const char *name;
	struct sign signs[MAX_SIGNS];
	const char *start[3]; /* the report starts below a line holding one (NULL: at the top) */
	const char *stop[3];  /* and ends at a line holding one */
	const char *rcpt[4];  /* a line naming a failed recipient (pat_match) */
	struct saying says[4];
	int need; /* how many of signs must hold */
};

#define HARD BOUNCE_HARD
#define SOFT BOUNCE_SOFT

static const struct shape shapes[] = {
    {"au by KDDI",
     {{FROM_HAS, "no-reply@*dion.ne.jp"},
      {FIELD_HAS, "reply-to:auone-net.jp"},
      {RECEIVED_HAS, "ezweb.ne.jp ("},
      {RECEIVED_HAS, ".au.com ("}},
     {"your mail sent on", "your mail attempted to be delivered on"},
     {NULL},
     {"could not be delivered to: <%a>"},
     {{"mailbox is full", SOFT}, {"remote domain doesnt exist", HARD}, {"smtp relay error", HARD}},
     1},
    {"au EZweb",
     {{FROM_HAS, "postmaster@ezweb.ne.jp"},
      {FROM_HAS, "postmaster@au.com"},
      {SUBJECT_IS, "Mail System Error - Returned Mail"},
      {RECEIVED_HAS, "ezweb.ne.jp (EZweb Mail) with"},
      {RECEIVED_HAS, ".au.com ("},
      {MSGID_HAS, ".ezweb.ne.jp"},
      {MSGID_HAS, ".au.com"}},
     {NULL},
     {"--------------------------------------------------"},
     {"<%a>", "<%a>:*", "recipient: <%a>*"},
     {{"temporarily over quota", SOFT},
      {"account is disabled", SOFT},
      {"temporarily limited", SOFT},
      {"not delivered within", SOFT}},
     2},
    {"fml",
     {{FIELD_HAS, "x-mlserver:"}, {FROM_HAS, "-admin@"}, {MSGID_HAS, ".fml"}},
     {NULL},
     {"original mail as follows:"},
     {"*<%a>"},
     {{"loop", SOFT}, {"duplicated message-id", SOFT}},
     3},
    {"Verizon",
     {{RECEIVED_HAS, ".vtext.com ("}, {FROM_HAS, "post_master@vtext.com"}},
     {"error:"},
     {NULL},
     {"rcpt to: %a", "rcpt to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"Verizon picture mail",
     {{RECEIVED_HAS, ".vtext.com ("}, {FROM_HAS, "vzwpix.com"}},
     {"message could not be delivered to mobile"},
     {NULL},
     {"to: %a", "to: *<%a>"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"Apache James",
     {{SUBJECT_IS, "[BOUNCE]"}, {MSGID_HAS, ".JavaMail."}, {RECEIVED_HAS, "JAMES SMTP Server"}},
     {NULL},
     {NULL},
     {"rcpt to: %a", "rcpt to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"mail server (error(s) list)",
     {{SUBJECT_STARTS, "There was an error sending your mail"}},
     {"error(s):"},
     {"the attachment contains the original mail headers"},
     {"*<%a>*", "*errors: %a*"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"Barracuda",
     {{SUBJECT_HAS, "our bulk email filter"}},
     {"your message to:"},
     {NULL},
     {"final-recipient: rfc822; %a", "final-recipient: rfc822; <%a>"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"Lotus Domino",
     {{SUBJECT_STARTS, "DELIVERY FAILURE:"}, {SUBJECT_STARTS, "DELIVERY_FAILURE:"}},
     {"was not delivered to:"},
     {"because:"},
     {"%a"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"Lotus Notes",
     {{SUBJECT_STARTS, "Undeliverable message"}},
     {"failure reasons"},
     {"returned message"},
     {"%a", "<%a>"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"McAfee",
     {{FIELD_HAS, "x-nai-header:modified by mcafee"}, {SUBJECT_IS, "Delivery Status"}},
     {"the following addresses had delivery problems"},
     {NULL},
     {"<%a> (*"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"SurfControl",
     {{FIELD_HAS, "x-sef-processed:"}, {FIELD_HAS, "x-mailer:surfcontrol"}},
     {"your message could not be sent"},
     {NULL},
     {"addressed to: %a"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"mail deliver system",
     {{SUBJECT_STARTS, "Returned Mail: "}, {FROM_NAME_STARTS, "Mail Deliver System"}},
     {"the original message was received at"},
     {NULL},
     {"%a [*"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"Activehunter",
     {{FIELD_HAS, "x-ahmailid:"}},
     {"the following addresses had permanent fatal errors"},
     {NULL},
     {">>> *<%a>"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"m-FILTER",
     {{FIELD_HAS, "x-mailer:m-filter"}, {SUBJECT_IS, "failure notice"}},
     {NULL},
     {"-------original"},
     {"%a"},
     {{NULL, BOUNCE_NONE}},
     2},
    {"InterScan MSS",
     {{FROM_NAME_STARTS, "InterScan MSS"},
      {FROM_NAME_STARTS, "InterScan Notification"},
      {SUBJECT_IS, "Mail could not be delivered"}},
     {NULL},
     {NULL},
     {"*>>> *<%a>*", "*<<< *<%a>*", "*unable to deliver message to <%a>*"},
     {{NULL, BOUNCE_NONE}},
     1},
    {"MailFoundry",
     {{SUBJECT_IS, "Message delivery has failed"}, {RECEIVED_HAS, "(MAILFOUNDRY) id"}},
     {NULL},
     {NULL},
     {"unable to deliver message to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     2},
};

/* The bytes of the line holding any of marks at or after p, or NULL. */
static const char *line_with(const char *p, const char *end, const char *const *marks,
			     size_t nmarks, const char **line_end)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		for (size_t i = 0; i < nmarks && marks[i]; i++)
			if (has_ci((struct span){p, (size_t)(le - p)}, marks[i])) {
				*line_end = le;
				return p;
			}
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

/* Whether a is the returned message's sender or an address the report was
 * sent to: ours, not the failed one.  (The report's own sender may be the
 * failed address: Lotus Notes writes from it.) */
static bool ours(const struct inmsg *m, struct span a)
{
	char *s = span_dup(a);
	bool yes =
	    (m->original.from && strcasecmp(s, m->original.from) == 0) || strv_has(&m->to, s);
	free(s);
	return yes;
}

static bool shape_read(const struct shape *sh, const struct inmsg *m, struct lhost_report *out)
{
	const char *text = m->text ? m->text : "";
	const char *end = text + (m->text_len < SCAN_MAX ? m->text_len : SCAN_MAX);
	const char *from = text, *le;
	if (sh->start[0]) {
		if (!line_with(text, end, sh->start, 3, &le))
			return false;
		from = le < end ? le + 1 : end;
	}
	const char *to = end;
	if (sh->stop[0]) {
		const char *st = line_with(from, end, sh->stop, 3, &le);
		if (st)
			to = st;
	}
	const char *last = NULL; /* the end of the last line naming a recipient */
	for (const char *p = from; p < to;) {
		const char *nl = memchr(p, '\n', (size_t)(to - p));
		const char *e = nl ? nl : to;
		const char *s = p;
		while (s < e && is_space(*s))
			s++;
		for (size_t i = 0; e - s < LINE_MAX && i < 4 && sh->rcpt[i]; i++) {
			struct span a = {NULL, 0};
			if (!pat_match(sh->rcpt[i], s, e, &a) || !a.p)
				continue;
			if (out->rcpt.n < MAX_RCPT && !ours(m, a))
				strv_add(&out->rcpt, a, true);
			last = e;
			break;
		}
		p = nl ? nl + 1 : to;
	}
	if (!out->rcpt.n)
		return false;

	/* The reason is given near the recipient, not in the returned text. */
	if ((size_t)(to - last) > REASON_MAX)
		to = last + REASON_MAX;
	struct span sec = {from, (size_t)(to - from)}, code;
	out->kind = LHOST_BOUNCE;
	out->shape = sh->name;
	if (dsn_find_status(sec, &code) && code.p[0] != '2')
		out->status = span_dup(code);
	out->severity = BOUNCE_NONE;
	for (size_t i = 0; i < 4 && sh->says[i].phrase && out->severity == BOUNCE_NONE; i++)
		if (has_ci(sec, sh->says[i].phrase))
			out->severity = sh->says[i].sev;
	if (out->severity == BOUNCE_NONE) {
		char *t = span_dup(sec);
		out->severity = bounce_severity_of(out->status, t);
		free(t);
	}
	if (out->severity == BOUNCE_NONE)
		out->severity = BOUNCE_HARD;
	return true;
}

/* ---- Hotmail's older complaints -------------------------------------------------------------- */

static void add_mailbox(void *ctx, struct span spec, struct span display)
{
	(void)display;
	struct strv *l = ctx;
	if (l->n < MAX_RCPT)
		strv_add(l, spec, true);
}

/* The complained-about message comes back whole, carrying the address it
 * reached in X-HmXmrOriginalRecipient. */
static bool hotmail_complaint(const struct inmsg *m, struct lhost_report *out)
{
	if (!m->orig_header || !strcasestr(m->orig_header, "x-hmxmroriginalrecipient") ||
	    !((m->from && has_ci(span_cstr(m->from), "hotmail.com")) ||
	      (m->subject && has_ci(span_cstr(m->subject), "complaint about message from"))))
		return false;
	const char *p = m->orig_header, *end = p + strlen(p);
	struct span name, value;
	while (!out->rcpt.n && next_field(&p, end, &name, &value))
		if (HEADER_IS(name, "x-hmxmroriginalrecipient"))
			header_mailboxes(value, add_mailbox, &out->rcpt);
	if (!out->rcpt.n)
		return false;
	out->kind = LHOST_COMPLAINT;
	out->shape = "Hotmail complaint";
	out->feedback_type = xstrdup("abuse");
	return true;
}

#define NSHAPES (sizeof shapes / sizeof *shapes)

/* The signs about header fields, gathered once: whose they are, the field's
 * name and what its value must hold ("": anything). */
static struct {
	unsigned char shape, sign;
	struct span name;
	const char *value;
} field_signs[NSHAPES * MAX_SIGNS];
static size_t nfield_signs;
static pthread_once_t field_signs_once = PTHREAD_ONCE_INIT;

static void field_signs_build(void)
{
	for (size_t i = 0; i < NSHAPES; i++) {
		for (size_t j = 0; j < MAX_SIGNS && shapes[i].signs[j].s; j++) {
			const struct sign *g = &shapes[i].signs[j];
			if (g->k != FIELD_HAS && g->k != RECEIVED_HAS)
				continue;
			const char *colon = g->k == FIELD_HAS ? strchr(g->s, ':') : NULL;
			field_signs[nfield_signs].shape = (unsigned char)i;
			field_signs[nfield_signs].sign = (unsigned char)j;
			field_signs[nfield_signs].name =
			    colon ? (struct span){g->s, (size_t)(colon - g->s)}
				  : span_cstr("received");
			field_signs[nfield_signs].value = colon ? colon + 1 : g->s;
			nfield_signs++;
		}
	}
}

bool lhost_report(const struct inmsg *m, struct lhost_report *out)
{
	*out = (struct lhost_report){0};
	/* One pass over the header for the field signs of every shape. */
	pthread_once(&field_signs_once, field_signs_build);
	bool field[NSHAPES][MAX_SIGNS] = {{false}}, sns = false;
	const char *p = m->header ? m->header : "", *end = p + strlen(p);
	struct span name, value;
	while (next_field(&p, end, &name, &value)) {
		char c = lower(name.p[0]);
		if (c != 'x' && c != 'r') /* the signs' fields: X-…, Received, Reply-To */
			continue;
		sns |= HEADER_IS(name, "x-amz-sns-message-id");
		for (size_t k = 0; k < nfield_signs; k++)
			if (field_signs[k].name.n == name.n &&
			    strncasecmp(field_signs[k].name.p, name.p, name.n) == 0 &&
			    (!*field_signs[k].value || has_ci(value, field_signs[k].value)))
				field[field_signs[k].shape][field_signs[k].sign] = true;
	}
	if ((sns && lhost_ses(m, out)) || hotmail_complaint(m, out))
		return true;
	struct seen v = {span_cstr(m->from ? m->from : ""), span_cstr(m->subject ? m->subject : ""),
			 span_cstr(m->message_id ? m->message_id : "")};
	for (size_t i = 0; i < NSHAPES; i++) {
		const struct shape *sh = &shapes[i];
		int holds = 0;
		for (size_t j = 0; j < MAX_SIGNS && sh->signs[j].s && holds < sh->need; j++)
			holds += field[i][j] || sign_holds(m, &v, &sh->signs[j]);
		if (holds < sh->need)
			continue;
		if (shape_read(sh, m, out))
			return true;
		lhost_report_free(out);
	}
	return false;
}

void lhost_report_free(struct lhost_report *r)
{
	strv_free(&r->rcpt);
	free(r->status);
	free(r->diagnostic);
	free(r->feedback_type);
	free(r->original_id);
	*r = (struct lhost_report){0};
}

/* ---- auto-replies ---------------------------------------------------------------------------- */

/* Fields vendors put on auto-replies: name, and a word the value must start
 * with (NULL: any value but "no"). */
static const struct {
	const char *name, *value;
} reply_fields[] = {
    {"X-Apple-Action", "vacation"}, {"X-Mail-Autoreply", NULL},
    {"X-AutoReply-From", NULL},	    {"X-FC-MachineGenerated", "true"},
    {"X-Autogenerated", "reply"},   {"X-POST-MessageClass", "9; autoresponder"},
    {"Precedence", "auto-reply"},   {"Precedence", "autoreply"},
};

/* Subject prefixes that mail programs put on their automatic replies, each
 * followed by a colon; a person does not start a subject so.  Not a bare
 * "Auto:" (Sisimai takes it): in German that is a car; nor "Out of office:",
 * which a person may write (it needs a second sign: classify.c). */
static const char *const reply_prefixes[] = {"automatic reply",
					     "auto response",
					     "autoreply",
					     "auto-reply",
					     "automatische antwort",
					     "réponse automatique",
					     "respuesta automática",
					     "risposta automatica",
					     "automatisch antwoord",
					     "resposta automática",
					     "autosvar",
					     "automaattinen vastaus",
					     "automatisk svar",
					     "odpowiedź automatyczna",
					     "automatická odpověď",
					     "otomatik yanıt",
					     "автоматический ответ",
					     "自動応答",
					     "自動返信",
					     "自动回复",
					     "自動回覆",
					     "자동 응답",
					     NULL};

const char *lhost_auto_reply(const struct inmsg *m)
{
	const char *why = NULL;
	const char *p = m->header ? m->header : "", *end = p + strlen(p);
	struct span name, v;
	while (!why && next_field(&p, end, &name, &v)) {
		char c = lower(name.p[0]);
		for (size_t i = 0; (c == 'x' || c == 'p') && !why &&
				   i < sizeof reply_fields / sizeof *reply_fields;
		     i++) {
			if (!span_eq_ci(name, reply_fields[i].name))
				continue;
			v = span_trim(v);
			if (reply_fields[i].value ? span_starts_with_ci(v, reply_fields[i].value)
						  : v.n && !span_eq_ci(v, "no"))
				why = reply_fields[i].name;
		}
	}
	/* Each prefix ends in a colon (perhaps a full-width one). */
	const char *s =
	    m->subject && (strchr(m->subject, ':') || strstr(m->subject, "\xef\xbc\x9a"))
		? m->subject
		: NULL;
	while (!why && s && (*s == ' ' || *s == '['))
		s++;
	for (size_t i = 0; !why && s && reply_prefixes[i]; i++) {
		size_t k = strlen(reply_prefixes[i]);
		if (strncasecmp(s, reply_prefixes[i], k) != 0)
			continue;
		const char *q = s + k;
		while (*q == ' ' || (q[0] == '\xc2' && q[1] == '\xa0' && q++))
			q++;
		if (*q == ':' || strncmp(q, "\xef\xbc\x9a", 3) == 0) /* or a full-width colon */
			why = "automatic-reply subject";
	}
	return why;
}
