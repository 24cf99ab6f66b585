#include "receive/lhost.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "receive/dsn.h"
#include "receive/lhost_ses.h"

/* Reports say what failed near the top; the rest is the returned message. */
#define SCAN_MAX  65536
#define LINE_MAX  512 /* longer lines name no recipient in any shape */
#define MAX_RCPT  20
#define MAX_SIGNS 7

/* ---- header signs ---------------------------------------------------------------------------- */

static bool has_ci(struct span s, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k && i + k <= s.n; i++)
		if (strncasecmp(s.p + i, needle, k) == 0)
			return true;
	return false;
}

enum sign_kind {
	FROM_HAS,	  /* the sender's address contains s */
	FROM_NAME_STARTS, /* the sender's display name starts with s */
	SUBJECT_IS,
	SUBJECT_STARTS,
	SUBJECT_HAS,
	FIELD_HAS,    /* "Name:value": a field Name whose value contains value ("": any) */
	RECEIVED_HAS, /* some Received field contains s */
	MSGID_HAS,    /* the Message-ID contains s */
};

struct sign {
	enum sign_kind k;
	const char *s;
};

static bool sign_holds(const struct inmsg *m, const struct hfields *h, const struct sign *g)
{
	struct span subj = span_cstr(m->subject ? m->subject : "");
	switch (g->k) {
	case FROM_HAS:
		return m->from && has_ci(span_cstr(m->from), g->s);
	case FROM_NAME_STARTS:
		return m->from_name && strncasecmp(m->from_name, g->s, strlen(g->s)) == 0;
	case SUBJECT_IS:
		return m->subject && span_eq_ci(span_trim(subj), g->s);
	case SUBJECT_STARTS:
		return span_starts_with_ci(subj, g->s);
	case SUBJECT_HAS:
		return has_ci(subj, g->s);
	case MSGID_HAS:
		return m->message_id && has_ci(span_cstr(m->message_id), g->s);
	case FIELD_HAS:
	case RECEIVED_HAS: {
		const char *name = g->k == RECEIVED_HAS ? "received" : g->s;
		size_t nn = g->k == RECEIVED_HAS ? 8 : (size_t)(strchr(g->s, ':') - g->s);
		const char *want = g->k == RECEIVED_HAS ? g->s : strchr(g->s, ':') + 1;
		for (size_t i = 0; i < h->n; i++)
			if (h->v[i].name.n == nn && strncasecmp(h->v[i].name.p, name, nn) == 0 &&
			    (!*want || has_ci(h->v[i].value, want)))
				return true;
		return false;
	}
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

struct shape {
	const char *name;
	int need; /* how many of signs must hold */
	struct sign signs[MAX_SIGNS];
	const char *start[3]; /* the report starts below a line holding one (NULL: at the top) */
	const char *stop[3];  /* and ends at a line holding one */
	const char *rcpt[4];  /* a line naming a failed recipient (pat_match) */
	struct saying says[4];
	enum bounce_severity fallback; /* when neither codes nor words decide */
};

#define HARD BOUNCE_HARD
#define SOFT BOUNCE_SOFT

static const struct shape shapes[] = {
    {"au by KDDI",
     1,
     {{FROM_HAS, "dion.ne.jp"},
      {FIELD_HAS, "reply-to:auone-net.jp"},
      {RECEIVED_HAS, "ezweb.ne.jp ("},
      {RECEIVED_HAS, ".au.com ("}},
     {"your mail sent on", "your mail attempted to be delivered on"},
     {NULL},
     {"could not be delivered to: <%a>"},
     {{"mailbox is full", SOFT}, {"remote domain doesnt exist", HARD}, {"smtp relay error", HARD}},
     HARD},
    {"au EZweb",
     2,
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
     HARD},
    {"fml",
     3,
     {{FIELD_HAS, "x-mlserver:"}, {FROM_HAS, "-admin@"}, {MSGID_HAS, ".fml"}},
     {NULL},
     {"original mail as follows:"},
     {"*<%a>"},
     {{"loop", SOFT}, {"duplicated message-id", SOFT}},
     HARD},
    {"Verizon",
     2,
     {{RECEIVED_HAS, ".vtext.com ("}, {FROM_HAS, "post_master@vtext.com"}},
     {"error:"},
     {NULL},
     {"rcpt to: %a", "rcpt to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Verizon picture mail",
     2,
     {{RECEIVED_HAS, ".vtext.com ("}, {FROM_HAS, "vzwpix.com"}},
     {"message could not be delivered to mobile"},
     {NULL},
     {"to: %a", "to: *<%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Apache James",
     1,
     {{SUBJECT_IS, "[BOUNCE]"}, {MSGID_HAS, ".JavaMail."}, {RECEIVED_HAS, "JAMES SMTP Server"}},
     {NULL},
     {NULL},
     {"rcpt to: %a", "rcpt to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"mail server (error(s) list)",
     1,
     {{SUBJECT_STARTS, "There was an error sending your mail"}},
     {"error(s):"},
     {"the attachment contains the original mail headers"},
     {"*<%a>*", "*errors: %a*"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Barracuda",
     1,
     {{SUBJECT_HAS, "our bulk email filter"}},
     {"your message to:"},
     {NULL},
     {"final-recipient: rfc822; %a", "final-recipient: rfc822; <%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Lotus Domino",
     1,
     {{SUBJECT_STARTS, "DELIVERY FAILURE:"}, {SUBJECT_STARTS, "DELIVERY_FAILURE:"}},
     {"was not delivered to:"},
     {"because:"},
     {"%a"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Lotus Notes",
     1,
     {{SUBJECT_STARTS, "Undeliverable message"}},
     {"failure reasons"},
     {"returned message"},
     {"%a", "<%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"McAfee",
     2,
     {{FIELD_HAS, "x-nai-header:modified by mcafee"}, {SUBJECT_IS, "Delivery Status"}},
     {"the following addresses had delivery problems"},
     {NULL},
     {"<%a> (*"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"SurfControl",
     2,
     {{FIELD_HAS, "x-sef-processed:"}, {FIELD_HAS, "x-mailer:surfcontrol"}},
     {"your message could not be sent"},
     {NULL},
     {"addressed to: %a"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"mail deliver system",
     2,
     {{SUBJECT_STARTS, "Returned Mail: "}, {FROM_NAME_STARTS, "Mail Deliver System"}},
     {"the original message was received at"},
     {NULL},
     {"%a [*"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"Activehunter",
     1,
     {{FIELD_HAS, "x-ahmailid:"}},
     {"the following addresses had permanent fatal errors"},
     {NULL},
     {">>> *<%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"m-FILTER",
     2,
     {{FIELD_HAS, "x-mailer:m-filter"}, {SUBJECT_IS, "failure notice"}},
     {NULL},
     {"-------original"},
     {"%a"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"InterScan MSS",
     1,
     {{FROM_NAME_STARTS, "InterScan MSS"},
      {FROM_NAME_STARTS, "InterScan Notification"},
      {SUBJECT_IS, "Mail could not be delivered"}},
     {NULL},
     {NULL},
     {"*>>> *<%a>*", "*<<< *<%a>*", "*unable to deliver message to <%a>*"},
     {{NULL, BOUNCE_NONE}},
     HARD},
    {"MailFoundry",
     2,
     {{SUBJECT_IS, "Message delivery has failed"}, {RECEIVED_HAS, "(MAILFOUNDRY) id"}},
     {NULL},
     {NULL},
     {"unable to deliver message to: <%a>"},
     {{NULL, BOUNCE_NONE}},
     HARD},
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
	for (const char *p = from; p < to;) {
		const char *nl = memchr(p, '\n', (size_t)(to - p));
		const char *e = nl ? nl : to;
		const char *s = p;
		while (s < e && is_space(*s))
			s++;
		for (size_t i = 0; e - s < LINE_MAX && i < 4 && sh->rcpt[i]; i++) {
			struct span a;
			if (pat_match(sh->rcpt[i], s, e, &a)) {
				if (out->rcpt.n < MAX_RCPT)
					strv_add(&out->rcpt, a, true);
				break;
			}
		}
		p = nl ? nl + 1 : to;
	}
	if (!out->rcpt.n)
		return false;

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
		out->severity = sh->fallback;
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
	struct hfields h = {0};
	header_scan(span_cstr(m->orig_header), false, &h);
	struct span v = header_get(&h, "X-HmXmrOriginalRecipient");
	if (v.p)
		header_mailboxes(v, add_mailbox, &out->rcpt);
	hfields_free(&h);
	if (!out->rcpt.n)
		return false;
	out->kind = LHOST_COMPLAINT;
	out->shape = "Hotmail complaint";
	out->feedback_type = xstrdup("abuse");
	return true;
}

bool lhost_report(const struct inmsg *m, struct lhost_report *out)
{
	*out = (struct lhost_report){0};
	if (lhost_ses(m, out) || hotmail_complaint(m, out))
		return true;
	struct hfields h = {0};
	header_scan(span_cstr(m->header ? m->header : ""), false, &h);
	bool found = false;
	for (size_t i = 0; !found && i < sizeof shapes / sizeof *shapes; i++) {
		const struct shape *sh = &shapes[i];
		int holds = 0;
		for (size_t j = 0; j < MAX_SIGNS && sh->signs[j].s; j++)
			holds += sign_holds(m, &h, &sh->signs[j]);
		if (holds < sh->need)
			continue;
		found = shape_read(sh, m, out);
		if (!found)
			lhost_report_free(out);
	}
	hfields_free(&h);
	return found;
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
 * "Auto:" (Sisimai takes it): in German that is a car. */
static const char *const reply_prefixes[] = {"automatic reply",
					     "auto response",
					     "autoreply",
					     "auto-reply",
					     "out of office",
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
	if (m->header) {
		struct hfields h = {0};
		header_scan(span_cstr(m->header), false, &h);
		for (size_t i = 0; !why && i < sizeof reply_fields / sizeof *reply_fields; i++) {
			struct span v = span_trim(header_get(&h, reply_fields[i].name));
			if (!v.p)
				continue;
			if (reply_fields[i].value ? span_starts_with_ci(v, reply_fields[i].value)
						  : v.n && !span_eq_ci(v, "no"))
				why = reply_fields[i].name;
		}
		hfields_free(&h);
	}
	const char *s = m->subject;
	while (!why && s && (*s == ' ' || *s == '['))
		s++;
	for (size_t i = 0; !why && s && reply_prefixes[i]; i++) {
		size_t k = strlen(reply_prefixes[i]);
		if (strncasecmp(s, reply_prefixes[i], k) != 0)
			continue;
		const char *p = s + k;
		while (*p == ' ' || (p[0] == '\xc2' && p[1] == '\xa0' && p++))
			p++;
		if (*p == ':' || strncmp(p, "\xef\xbc\x9a", 3) == 0) /* or a full-width colon */
			why = "automatic-reply subject";
	}
	return why;
}
