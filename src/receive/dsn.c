#include "receive/dsn.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "receive/charset.h"
#include "receive/words.h"

/* A report naming more recipients than this is not about one newsletter. */
#define MAX_RCPT 1000

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Call fn for each blank-line-separated block of fields in body. */
static void each_block(struct span body, void (*fn)(void *ctx, const struct hfields *h), void *ctx)
{
	struct hfields h = {0};
	size_t pos = 0;
	while (pos < body.n) {
		struct span rest = {body.p + pos, body.n - pos};
		size_t used = header_scan(rest, false, &h);
		if (h.n)
			fn(ctx, &h);
		if (used == 0) {
			/* Not a field: skip the line. */
			const char *nl = memchr(rest.p, '\n', rest.n);
			used = nl ? (size_t)(nl - rest.p) + 1 : rest.n;
		}
		pos += used;
	}
	hfields_free(&h);
}

/* The unfolded value as a UTF-8 heap string, or NULL when empty. */
static char *value_dup(struct span v)
{
	char *s = header_unfold_dup(v);
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* "rfc822; <user@example.org>" → "user@example.org". */
static struct span typed_address(struct span v)
{
	const char *semi = memchr(v.p, ';', v.n);
	if (semi)
		v = (struct span){semi + 1, (size_t)(v.p + v.n - semi - 1)};
	v = span_trim(v);
	if (v.n >= 2 && v.p[0] == '<') {
		const char *gt = memchr(v.p, '>', v.n);
		v = (struct span){v.p + 1, (size_t)((gt ? gt : v.p + v.n) - v.p - 1)};
	}
	return span_trim(v);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The address in a command ("|/usr/bin/x user@example.org", "\"|prog\""):
 * its last word holding an '@' with a dot after it, without quotes and
 * brackets; {NULL, 0} when it names none. */
static struct span command_address(struct span v)
{
	struct span best = {NULL, 0};
	size_t i = 0;
	while (i < v.n) {
		while (i < v.n && (is_space(v.p[i]) || strchr("\"'<>(),;", v.p[i])))
			i++;
		size_t s = i;
		while (i < v.n && !is_space(v.p[i]) && !strchr("\"'<>(),;", v.p[i]))
			i++;
		struct span w = {v.p + s, i - s};
		const char *at = w.n ? memchr(w.p, '@', w.n) : NULL;
		if (at && at > w.p && memchr(at, '.', (size_t)(w.p + w.n - at)) && w.p[0] != '|' &&
		    w.p[0] != '/' && w.p[0] != '-')
			best = w;
	}
	return best;
}

/* A recipient field's address as the sender wrote it: "rfc822;
 * <user@example.org>" → "user@example.org"; a quoted local part keeps its
 * quotes; a pipe or file delivery gives the address its command names, else
 * the command itself (which has no '@').  NULL when empty. */
static char *rcpt_dup(struct span v)
{
	char *s = value_dup(v);
	if (!s)
		return NULL;
	struct span a = typed_address(span_cstr(s));
	size_t lead = a.n && a.p[0] == '"' ? 1 : 0;
	if (a.n > lead && (a.p[lead] == '|' || a.p[lead] == '/')) {
		struct span c = command_address(a);
		if (c.n)
			a = c;
	}
	char *r = a.n ? span_dup(a) : NULL;
	free(s);
	return r;
}

static void rcpt_once(char **dst, struct span v)
{
	if (!*dst)
		*dst = rcpt_dup(v);
}

/* "smtp; 550 …" → "550 …" (only a short type word before the ';' counts). */
static struct span after_type(struct span v)
{
	v = span_trim(v);
	for (size_t i = 0; i < v.n && i < 24; i++) {
		if (v.p[i] == ';')
			return span_trim((struct span){v.p + i + 1, v.n - i - 1});
		if (v.p[i] == ' ' || v.p[i] == '\t')
			break;
	}
	return v;
}

bool dsn_find_status(struct span s, struct span *code)
{
	for (size_t i = 0; i + 5 <= s.n; i++) {
		if (!(s.p[i] == '2' || s.p[i] == '4' || s.p[i] == '5') || s.p[i + 1] != '.' ||
		    (i > 0 && (is_digit(s.p[i - 1]) || s.p[i - 1] == '.')))
			continue;
		size_t j = i + 2, d1 = 0, d2 = 0;
		while (j < s.n && is_digit(s.p[j]) && d1 < 4)
			j++, d1++;
		if (d1 == 0 || d1 > 3 || j >= s.n || s.p[j] != '.')
			continue;
		j++;
		while (j < s.n && is_digit(s.p[j]) && d2 < 4)
			j++, d2++;
		if (d2 == 0 || d2 > 3 || (j < s.n && (is_digit(s.p[j]) || s.p[j] == '.')))
			continue;
		*code = (struct span){s.p + i, j - i};
		return true;
	}
	return false;
}

/* "5.0.0", "4.0.0": a class and nothing more. */
static bool generic(struct span code)
{
	return code.n == 5 && memcmp(code.p + 1, ".0.0", 4) == 0;
}

static char *status_from(struct span status, const char *diagnostic)
{
	struct span code, said;
	if (dsn_find_status(status, &code)) {
		/* Exim writes 5.0.0 for every failure, a 4xx that timed out
		 * too: a specific code in the diagnostic says more. */
		if (generic(code) && diagnostic && dsn_find_status(span_cstr(diagnostic), &said) &&
		    !generic(said))
			code = said;
		return span_dup(code);
	}
	if (!diagnostic)
		return NULL;
	struct span d = span_cstr(diagnostic);
	if (dsn_find_status(d, &code))
		return span_dup(code);
	/* Only a basic reply code: "550 User unknown" means 5.0.0. */
	if (d.n >= 3 && (d.p[0] == '4' || d.p[0] == '5') && is_digit(d.p[1]) && is_digit(d.p[2]) &&
	    (d.n == 3 || !is_digit(d.p[3])))
		return xstrdup(d.p[0] == '4' ? "4.0.0" : "5.0.0");
	return NULL;
}

static enum dsn_action action_of(struct span v)
{
	static const char *const words[] = {"failed", "delayed", "delivered", "relayed",
					    "expanded"};
	struct span w = header_word(v);
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (span_eq_ci(w, words[i]))
			return (enum dsn_action)(DSN_FAILED + i);
	return DSN_ACTION_NONE;
}

struct dsn_ctx {
	struct dsn *d;
};

static struct dsn_rcpt *new_rcpt(struct dsn *d)
{
	if (d->nrcpt >= MAX_RCPT)
		return NULL;
	d->rcpt = xgrowarray(d->rcpt, &d->rcpt_cap, d->nrcpt + 1, sizeof *d->rcpt);
	d->rcpt[d->nrcpt] = (struct dsn_rcpt){0};
	return &d->rcpt[d->nrcpt++];
}

static void set_once(char **dst, struct span v)
{
	if (!*dst)
		*dst = value_dup(v);
}

static void dsn_block(void *ctx, const struct hfields *h)
{
	struct dsn *d = ((struct dsn_ctx *)ctx)->d;
	struct dsn_rcpt *r = NULL;
	struct span status = {NULL, 0};

	for (size_t i = 0; i <= h->n; i++) {
		/* A recipient ends where the next starts or the block ends. */
		bool orig = i < h->n && HEADER_IS(h->v[i].name, "original-recipient");
		bool final = i < h->n && HEADER_IS(h->v[i].name, "final-recipient");
		if (r && (i == h->n || (orig && r->original_recipient) ||
			  (final && r->final_recipient))) {
			r->status = status_from(status, r->diagnostic);
			status = (struct span){NULL, 0};
			r = NULL;
		}
		if (i == h->n)
			break;
		struct span name = h->v[i].name, v = h->v[i].value;
		if (HEADER_IS(name, "reporting-mta")) {
			set_once(&d->reporting_mta, after_type(v));
			continue;
		}
		if (HEADER_IS(name, "original-envelope-id")) {
			set_once(&d->original_envelope_id, v);
			continue;
		}
		bool per_rcpt = orig || final || HEADER_IS(name, "action") ||
				HEADER_IS(name, "status") || HEADER_IS(name, "diagnostic-code") ||
				HEADER_IS(name, "remote-mta");
		if (!per_rcpt)
			continue;
		if (!r && !(r = new_rcpt(d)))
			return;
		if (orig)
			rcpt_once(&r->original_recipient, v);
		else if (final)
			rcpt_once(&r->final_recipient, v);
		else if (HEADER_IS(name, "action"))
			r->action = action_of(v);
		else if (HEADER_IS(name, "status"))
			status = status.p ? status : v;
		else if (HEADER_IS(name, "diagnostic-code"))
			set_once(&r->diagnostic, after_type(v));
		else
			set_once(&r->remote_mta, after_type(v));
	}
}

void dsn_parse(struct span body, struct dsn *out)
{
	struct dsn_ctx c = {out};
	each_block(body, dsn_block, &c);
}

/* An address, not a command or a bare local part. */
static bool mailbox_like(const char *a)
{
	return a && a[0] != '|' && a[0] != '/' && strchr(a, '@');
}

/* a and b the same but for quotes and case ("neko..x"@h, neko..x@h). */
static bool same_unquoted(const char *a, const char *b)
{
	for (;;) {
		while (*a == '"')
			a++;
		while (*b == '"')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (lower(*a++) != lower(*b++))
			return false;
	}
}

const char *dsn_rcpt_address(const struct dsn_rcpt *r)
{
	const char *o = mailbox_like(r->original_recipient) ? r->original_recipient : NULL;
	const char *f = mailbox_like(r->final_recipient) ? r->final_recipient : NULL;
	/* Postfix writes Original-Recipient in its internal form, which drops
	 * the quotes the address needs: the quoted Final-Recipient is the one
	 * we sent to. */
	if (o && f && same_unquoted(o, f))
		return f;
	return o ? o : f;
}

void dsn_free(struct dsn *d)
{
	for (size_t i = 0; i < d->nrcpt; i++) {
		struct dsn_rcpt *r = &d->rcpt[i];
		free(r->final_recipient);
		free(r->original_recipient);
		free(r->status);
		free(r->diagnostic);
		free(r->remote_mta);
	}
	free(d->rcpt);
	free(d->reporting_mta);
	free(d->original_envelope_id);
	*d = (struct dsn){0};
}

static void arf_block(void *ctx, const struct hfields *h)
{
	struct arf *a = ctx;
	for (size_t i = 0; i < h->n; i++) {
		struct span name = h->v[i].name, v = h->v[i].value;
		if (HEADER_IS(name, "feedback-type") && !a->feedback_type) {
			struct span w = header_word(v);
			if (w.n) {
				a->feedback_type = header_dup(w);
				for (char *c = a->feedback_type; *c; c++)
					*c = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
			}
		} else if (HEADER_IS(name, "user-agent")) {
			set_once(&a->user_agent, v);
		} else if (HEADER_IS(name, "original-mail-from")) {
			set_once(&a->original_mail_from, typed_address(v));
		} else if (HEADER_IS(name, "reported-domain")) {
			set_once(&a->reported_domain, v);
		} else if (HEADER_IS(name, "source-ip")) {
			set_once(&a->source_ip, v);
		} else if (HEADER_IS(name, "original-rcpt-to") &&
			   a->original_rcpt_to.n < MAX_RCPT) {
			char *s = value_dup(typed_address(v));
			if (s)
				strv_add(&a->original_rcpt_to, span_cstr(s), true);
			free(s);
		}
	}
}

void arf_parse(struct span body, struct arf *out)
{
	each_block(body, arf_block, out);
}

void arf_free(struct arf *a)
{
	free(a->feedback_type);
	free(a->user_agent);
	free(a->original_mail_from);
	free(a->reported_domain);
	free(a->source_ip);
	strv_free(&a->original_rcpt_to);
	*a = (struct arf){0};
}

static void add_to(void *ctx, struct span spec, struct span display)
{
	struct strv *l = ctx;
	(void)display;
	if (l->n < MAX_RCPT)
		strv_add(l, spec, false);
}

static void first_spec(void *ctx, struct span spec, struct span display)
{
	char **out = ctx;
	(void)display;
	if (!*out)
		*out = header_dup(spec);
}

void orig_parse(struct span headers, struct orig_headers *out)
{
	struct hfields h = {0};
	header_scan(headers, true, &h);
	/* The first of each field, in one pass over the block. */
	struct span id = {NULL, 0}, from = {NULL, 0}, subject = {NULL, 0}, unsub = {NULL, 0};
	bool to = false;
	for (size_t i = 0; i < h.n; i++) {
		struct span name = h.v[i].name, v = h.v[i].value;
		if (!id.p && HEADER_IS(name, "message-id"))
			id = v;
		else if (!from.p && HEADER_IS(name, "from"))
			from = v;
		else if (!subject.p && HEADER_IS(name, "subject"))
			subject = v;
		else if (!unsub.p && HEADER_IS(name, "list-unsubscribe"))
			unsub = v;
		else
			to |= HEADER_IS(name, "to");
	}
	if (!out->message_id && id.p) {
		struct span first = header_first_msgid(id);
		if (first.n)
			out->message_id = header_dup(first);
	}
	if (!out->from && from.p)
		header_mailboxes(from, first_spec, &out->from);
	if (!out->subject && subject.p) {
		struct buf b = BUF_INIT;
		header_text(&b, subject);
		out->subject = buf_take(&b);
	}
	if (!out->list_unsubscribe && unsub.p)
		out->list_unsubscribe = value_dup(unsub);
	if (out->to.n == 0 && to)
		for (size_t i = 0; i < h.n; i++)
			if (HEADER_IS(h.v[i].name, "to"))
				header_mailboxes(h.v[i].value, add_to, &out->to);
	hfields_free(&h);
}

/* The banners old bounces put above the copy, most telling first. */
static const char *const quote_banners[] = {
    "below this line is a copy of the message",
    "this is a copy of the message, including all the headers",
    "original message follows",
    "unsent message follows",
    "the header of the original message is following",
    "original message headers:",
    "returned message follows",
    "----- returned message",
    "below is a copy of the original message",
    "included is a copy of the original message",
    "------ original message header",
    NULL};
static struct phrases banner_set;
static pthread_once_t banner_once = PTHREAD_ONCE_INIT;

static void banner_build(void)
{
	phrases_init(&banner_set);
	phrases_add(&banner_set, quote_banners);
	phrases_done(&banner_set);
}

bool orig_parse_quoted(const char *text, size_t n, struct orig_headers *out)
{
	/* Search only the start; the first banner of the list found wins. */
	size_t first[PHRASES_MAX];
	pthread_once(&banner_once, banner_build);
	phrases_find(&banner_set, text, n < 65536 ? n : 65536, first, NULL, NULL);
	const char *hit = NULL, *end = text + n;
	for (size_t k = 0; k < banner_set.n && !hit; k++)
		if (first[k] != PHRASE_NONE)
			hit = text + first[k];
	const char *nl = hit ? memchr(hit, '\n', (size_t)(end - hit)) : NULL;
	if (!nl)
		return false;
	const char *s = nl + 1;
	while (s < end && (*s == '\n' || *s == ' '))
		s++;
	orig_parse((struct span){s, (size_t)(end - s)}, out);
	return out->message_id || out->from || out->to.n;
}

void orig_free(struct orig_headers *o)
{
	free(o->message_id);
	free(o->from);
	free(o->subject);
	free(o->list_unsubscribe);
	strv_free(&o->to);
	*o = (struct orig_headers){0};
}

const char *const dsn_quota_words[] = {"quota",
				       "mailbox full",
				       "mailbox is full",
				       "mailbox size",
				       "insufficient storage",
				       "insufficient system storage",
				       "storage limit",
				       "exceeded storage",
				       "mailfolder is full",
				       "out of storage",
				       "5.2.2",
				       "4.2.2",
				       NULL};

bool dsn_quota_text(const char *s)
{
	if (!s)
		return false;
	/* s is a status code or a short diagnostic: a plain search is cheapest */
	for (; *s; s++) {
		char c = lower(*s);
		for (const char *const *q = dsn_quota_words; *q; q++) {
			if ((*q)[0] != c)
				continue;
			size_t i = 1;
			while ((*q)[i] && lower(s[i]) == (*q)[i])
				i++;
			if (!(*q)[i])
				return true;
		}
	}
	return false;
}
