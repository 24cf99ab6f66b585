#include "receive/lhost_ses.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "receive/charset.h"

#define MAX_RCPT 20

/* Just enough JSON: find a key's value, take a string or a bracketed
 * value whole.  Not a validator: a notification that is not JSON gives no
 * recipients, so nothing. */

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Past the string that starts at p (at its opening quote), or e. */
static const char *string_end(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return e;
}

/* The value of the first "key" in j (at any depth), from its first byte
 * to the end of j; {NULL, 0} when there is none. */
static struct span value_of(struct span j, const char *key)
{
	if (!j.p)
		return (struct span){NULL, 0};
	const char *p = j.p, *e = j.p + j.n;
	size_t k = strlen(key);
	while (p < e) {
		if (*p != '"') {
			p++;
			continue;
		}
		const char *s = string_end(p, e);
		if ((size_t)(s - p) == k + 2 && memcmp(p + 1, key, k) == 0) {
			const char *v = skip_ws(s, e);
			if (v < e && *v == ':') {
				v = skip_ws(v + 1, e);
				return (struct span){v, (size_t)(e - v)};
			}
		}
		p = s;
	}
	return (struct span){NULL, 0};
}

/* v starts a [ … ] or { … }: the span of it, brackets included. */
static struct span container(struct span v)
{
	if (!v.p || !v.n || (*v.p != '[' && *v.p != '{'))
		return (struct span){NULL, 0};
	int depth = 0;
	for (const char *p = v.p, *e = v.p + v.n; p < e;) {
		if (*p == '"') {
			p = string_end(p, e);
			continue;
		}
		if (*p == '[' || *p == '{')
			depth++;
		else if ((*p == ']' || *p == '}') && --depth == 0)
			return (struct span){v.p, (size_t)(p + 1 - v.p)};
		p++;
	}
	return v;
}

static unsigned hex4(const char *p)
{
	unsigned u = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		u = u * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
					: c >= 'A' && c <= 'F' ? c - 'A' + 10
							       : 0);
	}
	return u;
}

/* v starts a JSON string: its value unescaped into b (emptied first). */
static bool string_value(struct span v, struct buf *b)
{
	b->n = 0;
	if (!v.p || !v.n || *v.p != '"')
		return false;
	const char *e = string_end(v.p, v.p + v.n) - 1;
	for (const char *p = v.p + 1; p < e; p++) {
		if (*p != '\\' || p + 1 >= e) {
			buf_add(b, p, 1);
			continue;
		}
		char c = *++p;
		if (c == 'u' && e - p > 4) {
			unsigned u = hex4(p + 1);
			p += 4;
			utf8_put(b, u);
			continue;
		}
		const char *from = "nrtbf", *to = "\n\r\t\b\f";
		const char *x = strchr(from, c);
		char o = c && x ? to[x - from] : c;
		buf_add(b, &o, 1);
	}
	buf_addc(b, '\0');
	b->n--;
	return true;
}

static void add_addresses(struct span list, struct lhost_report *out, struct buf *b)
{
	while (list.p && out->rcpt.n < MAX_RCPT) {
		struct span v = value_of(list, "emailAddress");
		if (!v.p)
			break;
		if (string_value(v, b) && memchr(b->p, '@', b->n))
			strv_add(&out->rcpt, (struct span){b->p, b->n}, true);
		const char *next = string_end(v.p, v.p + v.n);
		list.n -= (size_t)(next - list.p);
		list.p = next;
	}
}

static char *string_dup(struct span j, const char *key, struct buf *b)
{
	return string_value(value_of(j, key), b) && b->n ? xstrndup(b->p, b->n) : NULL;
}

bool lhost_ses(const struct inmsg *m, struct lhost_report *out)
{
	if (!m->text)
		return false;
	struct span j = span_trim((struct span){m->text, m->text_len});
	if (!j.n || *j.p != '{')
		return false;
	struct buf inner = BUF_INIT, b = BUF_INIT;
	/* SNS's envelope carries SES's notification as a string. */
	if (string_value(value_of(j, "Message"), &inner))
		j = (struct span){inner.p, inner.n};
	string_value(value_of(j, "notificationType"), &b);
	bool bounce = b.n == 6 && memcmp(b.p, "Bounce", 6) == 0;
	bool complaint = b.n == 9 && memcmp(b.p, "Complaint", 9) == 0;
	if (bounce || complaint) {
		struct span rep = container(value_of(j, bounce ? "bounce" : "complaint"));
		add_addresses(
		    container(value_of(rep, bounce ? "bouncedRecipients" : "complainedRecipients")),
		    out, &b);
		if (bounce) {
			out->status = string_dup(rep, "status", &b);
			out->diagnostic = string_dup(rep, "diagnosticCode", &b);
			string_value(value_of(rep, "bounceType"), &b);
			out->severity = b.n == 9 && memcmp(b.p, "Permanent", 9) == 0 ? BOUNCE_HARD
					: b.n == 9 && memcmp(b.p, "Transient", 9) == 0
					    ? BOUNCE_SOFT
					    : bounce_severity_of(out->status, out->diagnostic);
			if (out->severity == BOUNCE_NONE || out->severity == BOUNCE_DELAYED)
				out->severity = BOUNCE_SOFT;
		} else {
			out->feedback_type = string_dup(rep, "complaintFeedbackType", &b);
		}
		struct span common = container(value_of(j, "commonHeaders"));
		if (string_value(value_of(common, "messageId"), &b) && b.n) {
			struct span id = span_trim((struct span){b.p, b.n});
			if (id.n > 2 && id.p[0] == '<' && id.p[id.n - 1] == '>')
				id = (struct span){id.p + 1, id.n - 2};
			out->original_id = span_dup(id);
		}
	}
	buf_free(&inner);
	buf_free(&b);
	if (!out->rcpt.n) {
		lhost_report_free(out);
		return false;
	}
	out->kind = bounce ? LHOST_BOUNCE : LHOST_COMPLAINT;
	out->shape = bounce ? "Amazon SES bounce" : "Amazon SES complaint";
	return true;
}
