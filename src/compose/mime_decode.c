/* MIME decoding, for the receive side and the tests: quoted-printable
 * bodies, and RFC 2047 encoded-words in header values (any charset iconv
 * knows), always to clean UTF-8.  The encoders are mime.c.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/mime.h"
#include "compose/mime_int.h"

/* ---- quoted-printable ------------------------------------------------------------------------ */

void qp_decode(struct buf *out, const char *p, size_t n)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *brk = nl ? nl : end; /* where the line break starts */
		if (nl && brk > p && brk[-1] == '\r')
			brk--;
		/* Trailing whitespace was added in transit (RFC 2045 6.7 (3)). */
		const char *e = brk;
		while (e > p && is_wsp(e[-1]))
			e--;
		/* '=' is no hex digit, so a final '=' always is a soft break. */
		bool soft = e > p && e[-1] == '=';
		e -= soft;
		while (p < e) {
			const char *eq = memchr(p, '=', (size_t)(e - p));
			if (!eq) {
				buf_add(out, p, (size_t)(e - p));
				break;
			}
			buf_add(out, p, (size_t)(eq - p));
			int hi = e - eq >= 3 ? hex_value(eq[1]) : -1;
			int lo = hi >= 0 ? hex_value(eq[2]) : -1;
			if (lo >= 0) {
				buf_addc(out, (char)(hi << 4 | lo));
				p = eq + 3;
			} else {
				buf_addc(out, '=');
				p = eq + 1;
			}
		}
		if (nl && !soft)
			buf_add(out, brk, (size_t)(nl + 1 - brk));
		p = nl ? nl + 1 : end;
	}
}

/* ---- decoding encoded-words ------------------------------------------------------------------ */

struct ew {
	struct span charset; /* without an RFC 2231 "*language" */
	char enc;	     /* 'Q' or 'B' */
	struct span text;
	size_t len; /* of the whole "=?...?=" */
};

static bool is_charset_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-_.:*", c));
}

static bool is_ew_text_char(char c)
{
	return c > ' ' && c < 0x7F && c != '?';
}

/* Recognise "=?charset?Q?text?=" at p.  Lenient like the mailers we read:
 * no length limit, and it need not stand alone between spaces. */
static bool ew_parse(const char *p, const char *end, struct ew *ew)
{
	if (end - p < 8 || p[0] != '=' || p[1] != '?')
		return false;
	const char *cs = p + 2, *q = cs;
	while (q < end && is_charset_char(*q))
		q++;
	if (q == cs || q - cs > 64 || end - q < 5 || q[0] != '?' || q[2] != '?')
		return false;
	const char *star = memchr(cs, '*', (size_t)(q - cs));
	ew->charset = (struct span){cs, (size_t)((star ? star : q) - cs)};
	ew->enc = q[1] == 'q' || q[1] == 'Q' ? 'Q' : q[1] == 'b' || q[1] == 'B' ? 'B' : 0;
	q += 3;
	const char *t = q;
	while (q < end && is_ew_text_char(*q))
		q++;
	if (ew->enc == 0 || ew->charset.n == 0 || end - q < 2 || q[0] != '?' || q[1] != '=')
		return false;
	ew->text = (struct span){t, (size_t)(q - t)};
	ew->len = (size_t)(q + 2 - p);
	return true;
}

static int b64_value(char c)
{
	const char *d = c ? strchr(mime_b64_digits, c) : NULL;
	return d ? (int)(d - mime_b64_digits) : -1;
}

/* Append the octets ew carries; false if its base64 is broken. */
static bool ew_octets(struct buf *out, const struct ew *ew)
{
	const char *p = ew->text.p, *end = p + ew->text.n;
	if (ew->enc == 'Q') {
		for (; p < end; p++) {
			int hi = *p == '=' && end - p >= 3 ? hex_value(p[1]) : -1;
			int lo = hi >= 0 ? hex_value(p[2]) : -1;
			if (lo >= 0) {
				buf_addc(out, (char)(hi << 4 | lo));
				p += 2;
			} else {
				buf_addc(out, *p == '_' ? ' ' : *p);
			}
		}
		return true;
	}
	unsigned acc = 0, bits = 0;
	for (; p < end && *p != '='; p++) {
		int v = b64_value(*p);
		if (v < 0)
			return false;
		acc = (acc << 6 | (unsigned)v) & 0xFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)(acc >> bits & 0xFF));
		}
	}
	for (; p < end; p++)
		if (*p != '=')
			return false;
	return true;
}

/* UTF-8 needs no conversion (and US-ASCII is a subset); anything else goes
 * through iconv, which knows every charset a mailer is likely to use. */
static bool is_utf8(struct span charset)
{
	return span_eq_ci(charset, "UTF-8") || span_eq_ci(charset, "UTF8") ||
	       span_eq_ci(charset, "US-ASCII") || span_eq_ci(charset, "ASCII");
}

/* Octets of adjacent encoded-words in one charset, converted together: some
 * mailers split a multi-octet character across words. */
struct pending {
	bool active;
	iconv_t cd; /* (iconv_t)-1 for UTF-8 */
	char charset[65];
	struct buf octets, scratch, utf8;
};

static void pending_flush(struct buf *out, struct pending *pd)
{
	if (!pd->active)
		return;
	if (pd->cd == (iconv_t)-1) {
		mime_put_clean(out, buf_cstr(&pd->octets), pd->octets.n);
	} else {
		char *ip = pd->octets.p, tmp[256], *op;
		size_t il = pd->octets.n, ol;
		buf_reset(&pd->utf8);
		while (il > 0) {
			op = tmp, ol = sizeof tmp;
			size_t r = iconv(pd->cd, &ip, &il, &op, &ol);
			buf_add(&pd->utf8, tmp, (size_t)(op - tmp));
			if (r == (size_t)-1 && errno != E2BIG) {
				buf_add(&pd->utf8, mime_replacement, 3);
				ip++, il--;
			}
		}
		op = tmp, ol = sizeof tmp;
		iconv(pd->cd, NULL, NULL, &op, &ol); /* end a stateful encoding */
		buf_add(&pd->utf8, tmp, (size_t)(op - tmp));
		iconv_close(pd->cd);
		mime_put_clean(out, buf_cstr(&pd->utf8), pd->utf8.n);
	}
	buf_reset(&pd->octets);
	pd->active = false;
}

/* Take a decoded encoded-word into pd; false (pd untouched) when its
 * charset is unknown or its content broken. */
static bool pending_take(struct buf *out, struct pending *pd, const struct ew *ew)
{
	buf_reset(&pd->scratch);
	if (!ew_octets(&pd->scratch, ew))
		return false;
	if (!pd->active || !span_eq_ci(ew->charset, pd->charset)) {
		char name[sizeof pd->charset];
		memcpy(name, ew->charset.p, ew->charset.n);
		name[ew->charset.n] = '\0';
		iconv_t cd = is_utf8(ew->charset) ? (iconv_t)-1 : iconv_open("UTF-8", name);
		if (cd == (iconv_t)-1 && !is_utf8(ew->charset))
			return false;
		pending_flush(out, pd);
		memcpy(pd->charset, name, sizeof name);
		pd->cd = cd;
		pd->active = true;
	}
	buf_addspan(&pd->octets, buf_span(&pd->scratch));
	return true;
}

static void put_wsp(struct buf *out, struct span s)
{
	/* Unfolding: a CRLF in a header value only ever is a fold. */
	for (size_t i = 0; i < s.n; i++)
		if (is_wsp(s.p[i]))
			buf_addc(out, s.p[i]);
}

void hdr_decode(struct buf *out, const char *p, size_t n)
{
	const char *end = p + n;
	struct pending pd = {0};
	struct span held = {NULL, 0}; /* whitespace after an encoded-word */
	bool after_ew = false;

	while (p < end) {
		struct ew ew;
		if (is_wsp(*p) || *p == '\r' || *p == '\n') {
			const char *s = p;
			while (p < end && (is_wsp(*p) || *p == '\r' || *p == '\n'))
				p++;
			struct span ws = {s, (size_t)(p - s)};
			if (after_ew)
				held = ws;
			else
				put_wsp(out, ws);
			continue;
		}
		bool parsed = ew_parse(p, end, &ew);
		if (parsed && pending_take(out, &pd, &ew)) {
			/* RFC 2047 6.2: whitespace between encoded-words goes */
			held = (struct span){NULL, 0};
			after_ew = true;
			p += ew.len;
			continue;
		}
		pending_flush(out, &pd);
		put_wsp(out, held);
		held = (struct span){NULL, 0};
		after_ew = false;
		/* Plain text up to whitespace or a possible encoded-word; one
		 * we cannot decode is kept whole. */
		const char *q = parsed ? p + ew.len : p + 1;
		while (q < end && !is_wsp(*q) && *q != '\r' && *q != '\n' &&
		       !(q[0] == '=' && q + 1 < end && q[1] == '?'))
			q++;
		mime_put_clean(out, p, (size_t)(q - p));
		p = q;
	}
	pending_flush(out, &pd);
	put_wsp(out, held);
	buf_free(&pd.octets);
	buf_free(&pd.scratch);
	buf_free(&pd.utf8);
}
