/* Email addresses: a cursor parser over the caller's span (see addr.h).
 *
 * The parser is stricter than RFC 5322 where leniency would only let a typo
 * through to a bounce (unquoted commas, comments, domain literals, dotless
 * domains) and every refusal names the reason, because the person reading it
 * is fixing a subscriber list, not debugging SMTP.
 */
#include "core/addr.h"

#include <idn2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

enum {
	LOCAL_MAX = 64,	  /* RFC 5321 4.5.3.1.1 */
	DOMAIN_MAX = 253, /* 255 octets on the wire less the first and last length bytes */
	LABEL_MAX = 63,
	QUOTE_MAX = 80, /* bytes of the input repeated in an error message */
};

/* Decode one UTF-8 sequence; returns its length, or 0 if it is malformed
 * (overlong, surrogate, past U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, c = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, c = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, c = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* C0, DEL and C1: nothing a header may carry raw. */
static bool is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext */
static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Only blanks: CR and LF are refused before anything is trimmed. */
static struct span trim_wsp(struct span s)
{
	while (s.n && is_wsp(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_wsp(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Repeat (part of) the input in a message: at most max bytes, cut on a
 * character boundary, and with anything that could break a line or a
 * terminal (controls, malformed UTF-8) shown as '?'. */
static void sanitize(struct span in, size_t max, char *out)
{
	size_t i = 0, o = 0;

	while (i < in.n) {
		uint32_t cp = 0;
		size_t len = utf8_decode((const unsigned char *)in.p + i, in.n - i, &cp);
		bool bad = len == 0 || is_control(cp);
		size_t take = bad ? 1 : len;
		if (o + take > max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (bad)
			out[o] = '?';
		else
			memcpy(out + o, in.p + i, len);
		o += take;
		i += bad && len ? len : take;
	}
	out[o] = '\0';
}

static int fail(struct lb_err *err, struct span in, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct lb_err *err, struct span in, const char *fmt, ...)
{
	char quoted[QUOTE_MAX + 4];
	char why[256];
	va_list ap;

	sanitize(in, QUOTE_MAX, quoted);
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return err_set(err, LB_EDATA, "'%s': %s", quoted, why);
}

/* How a stray byte is named: a quoted space or tab would be invisible. */
static const char *stray(unsigned char c, char tmp[32])
{
	if (c == ' ')
		return "space";
	if (c == '\t')
		return "tab";
	if (c >= 0x80)
		return "non-ASCII character";
	snprintf(tmp, 32, "unexpected '%c'", c);
	return tmp;
}

/* Index of the first c outside double quotes, or in.n.  *open tells whether
 * the scan ended inside an unterminated quoted string. */
static size_t find_unquoted(struct span in, char c, bool *open)
{
	bool quoted = false;

	for (size_t i = 0; i < in.n; i++) {
		if (quoted && in.p[i] == '\\')
			i++;
		else if (in.p[i] == '"')
			quoted = !quoted;
		else if (!quoted && in.p[i] == c)
			return i;
	}
	*open = quoted;
	return in.n;
}

static int check_controls(struct span in, struct lb_err *err)
{
	for (size_t i = 0; i < in.n; i++) {
		unsigned char c = (unsigned char)in.p[i];
		/* bytes, not characters: 0x80-0x9f here are UTF-8 continuations */
		if (c == '\t' || c >= 0x80 || !is_control(c))
			continue;
		char hex[8];
		snprintf(hex, sizeof hex, "0x%02X", c);
		const char *name = c == '\r' ? "CR" : c == '\n' ? "LF" : c == '\0' ? "NUL" : hex;
		return fail(err, in, "control character %s at byte %zu", name, i + 1);
	}
	return 0;
}

static bool is_dot_atom(struct span s)
{
	if (s.n == 0 || s.p[0] == '.' || s.p[s.n - 1] == '.')
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '.' ? s.p[i - 1] == '.' : !is_atext((unsigned char)s.p[i]))
			return false;
	}
	return true;
}

static const char smtputf8[] = "non-ASCII local part needs SMTPUTF8, which letterbox does not use";

/* An unquoted local part.  Blanks and non-ASCII are looked for first because
 * "Ada Lovelace ada@x" and "zoë@x" are the likely mistakes and deserve the
 * message about their real cause, not about the first odd byte. */
static int parse_dot_atom(struct span in, struct span s, struct buf *out, struct lb_err *err)
{
	char tmp[32];

	for (size_t i = 0; i < s.n; i++)
		if (is_wsp(s.p[i]))
			return fail(err, in, "%s in local part", stray((unsigned char)s.p[i], tmp));
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] >= 0x80)
			return fail(err, in, "%s", smtputf8);
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '.') {
			if (i == 0)
				return fail(err, in, "local part starts with '.'");
			if (s.p[i - 1] == '.')
				return fail(err, in, "consecutive dots in local part");
			if (i + 1 == s.n)
				return fail(err, in, "local part ends with '.'");
		} else if (!is_atext(c)) {
			return fail(err, in, "%s in local part", stray(c, tmp));
		}
	}
	buf_addspan(out, s);
	return 0;
}

/* A quoted local part, quotes included in s.  Re-quoted with the fewest
 * escapes so that equal addresses are spelt alike; unquoted if the quotes
 * were not needed. */
static int parse_quoted_local(struct span in, struct span s, struct buf *out, struct lb_err *err)
{
	struct buf text = BUF_INIT;

	for (size_t i = 1; i + 1 < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '\\')
			c = (unsigned char)s.p[++i];
		if (c >= 0x80 || c == '\t') {
			buf_free(&text);
			if (c == '\t')
				return fail(err, in, "tab in quoted local part");
			return fail(err, in, "%s", smtputf8);
		}
		buf_addc(&text, (char)c);
	}
	if (text.n == 0)
		return fail(err, in, "empty local part");
	if (is_dot_atom(buf_span(&text))) {
		buf_addspan(out, buf_span(&text));
	} else {
		buf_addc(out, '"');
		for (size_t i = 0; i < text.n; i++) {
			if (text.p[i] == '"' || text.p[i] == '\\')
				buf_addc(out, '\\');
			buf_addc(out, text.p[i]);
		}
		buf_addc(out, '"');
	}
	buf_free(&text);
	return 0;
}

/* Lower-case an ASCII domain in place and check it label by label. */
static int check_domain(struct span in, char *d, struct lb_err *err)
{
	size_t n = strlen(d), start = 0;
	bool dot = false;
	char tmp[32];

	for (size_t i = 0; i < n; i++) {
		if (d[i] >= 'A' && d[i] <= 'Z')
			d[i] = (char)(d[i] + ('a' - 'A'));
		else if (d[i] != '.' && d[i] != '-' && !is_alnum((unsigned char)d[i]))
			return fail(err, in, "%s in domain", stray((unsigned char)d[i], tmp));
	}
	if (d[0] == '.')
		return fail(err, in, "domain starts with '.'");
	if (d[n - 1] == '.')
		return fail(err, in, "domain ends with '.'");
	for (size_t i = 0; i <= n; i++) {
		if (i < n && d[i] != '.')
			continue;
		size_t len = i - start;
		const char *label = d + start;
		if (len == 0)
			return fail(err, in, "consecutive dots in domain");
		if (len > LABEL_MAX)
			return fail(err, in, "domain label '%.20s...' is %zu bytes, longer than %d",
				    label, len, LABEL_MAX);
		if (label[0] == '-' || label[len - 1] == '-')
			return fail(err, in, "domain label '%.*s' %s with '-'", (int)len, label,
				    label[0] == '-' ? "starts" : "ends");
		if (i == n)
			break;
		dot = true;
		start = i + 1;
	}
	if (!dot)
		return fail(err, in, "domain has no dot");
	if (n > DOMAIN_MAX)
		return fail(err, in, "domain is %zu bytes, longer than %d", n, DOMAIN_MAX);
	/* A name server would never answer for it; it is an IP address typed
	 * without brackets. */
	bool numeric = true;
	for (const char *p = d + start; *p; p++)
		numeric = numeric && *p >= '0' && *p <= '9';
	if (numeric)
		return fail(err, in, "top-level domain '%s' is all digits", d + start);
	return 0;
}

/* The domain as DNS wants it: ASCII, A-labels, lower case.  Caller frees. */
static int parse_domain(struct span in, struct span s, char **out, struct lb_err *err)
{
	bool ascii = true;
	char tmp[32];

	*out = NULL;
	if (s.n == 0)
		return fail(err, in, "empty domain");
	if (s.p[0] == '[')
		return fail(err, in, "domain literal not accepted (use a host name)");
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x80)
			ascii = false;
		else if (c != '.' && c != '-' && !is_alnum(c))
			return fail(err, in, "%s in domain", stray(c, tmp));
	}
	char *d;
	if (ascii) {
		d = span_dup(s);
	} else {
		/* Four bytes per character at most: anything longer cannot fit
		 * in DOMAIN_MAX, and idn2 need not see it. */
		if (s.n > 4 * DOMAIN_MAX)
			return fail(err, in, "domain is %zu bytes, longer than %d", s.n,
				    DOMAIN_MAX);
		char *u = span_dup(s), *a = NULL;
		int rc = idn2_to_ascii_8z(u, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			/* Non-transitional processing refuses some names the
			 * older rules allowed, and registrars still sell. */
			idn2_free(a);
			a = NULL;
			int rc2 = idn2_to_ascii_8z(u, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
			if (rc2 == IDN2_OK)
				rc = IDN2_OK;
		}
		free(u);
		if (rc != IDN2_OK) {
			idn2_free(a);
			return fail(err, in, "invalid international domain name (%s)",
				    idn2_strerror(rc));
		}
		d = xstrdup(a);
		idn2_free(a);
		if (d[0] == '\0') {
			free(d);
			return fail(err, in, "empty domain");
		}
	}
	int rc = check_domain(in, d, err);
	if (rc) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* An addr-spec, s already trimmed; in is the whole input, for messages. */
static int parse_spec(struct span in, struct span s, struct addr *out, struct lb_err *err)
{
	struct buf local = BUF_INIT;
	size_t at;
	int rc;

	if (s.n == 0)
		return fail(err, in, "empty address");
	if (s.p[0] == '"') {
		size_t i = 1;
		while (i < s.n && s.p[i] != '"')
			i += s.p[i] == '\\' ? 2 : 1;
		if (i >= s.n)
			return fail(err, in, "unterminated quoted local part");
		at = i + 1;
		if (at == s.n)
			return fail(err, in, "missing '@'");
		if (s.p[at] != '@') {
			char tmp[32];
			return fail(err, in, "%s after quoted local part",
				    stray((unsigned char)s.p[at], tmp));
		}
		rc = parse_quoted_local(in, (struct span){s.p, at}, &local, err);
	} else {
		const char *p = memchr(s.p, '@', s.n);
		if (!p)
			return fail(err, in, "missing '@'");
		at = (size_t)(p - s.p);
		if (at == 0)
			return fail(err, in, "empty local part");
		rc = parse_dot_atom(in, (struct span){s.p, at}, &local, err);
	}
	if (rc)
		goto out;
	if (local.n > LOCAL_MAX) {
		rc = fail(err, in, "local part is %zu bytes, longer than %d", local.n, LOCAL_MAX);
		goto out;
	}
	char *domain;
	rc = parse_domain(in, (struct span){s.p + at + 1, s.n - at - 1}, &domain, err);
	if (rc)
		goto out;

	struct buf spec = BUF_INIT;
	buf_printf(&spec, "%s@%s", buf_cstr(&local), domain);
	out->spec = buf_take(&spec);
	out->local = buf_take(&local);
	out->domain = domain;
out:
	buf_free(&local);
	return rc;
}

/* A display name: atoms, dots (as in "Ada M. Lovelace"), raw UTF-8 and
 * quoted strings, with runs of blanks folded to one space.  Stores NULL if
 * there is no name. */
static int parse_display(struct span in, struct span s, char **out, struct lb_err *err)
{
	struct buf b = BUF_INIT;
	bool blank = false;
	int rc = 0;

	*out = NULL;
	s = trim_wsp(s);
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (is_wsp((char)c)) {
			blank = true;
			continue;
		}
		if (blank && b.n)
			buf_addc(&b, ' ');
		blank = false;
		if (c == '"') {
			for (i++; i < s.n && s.p[i] != '"'; i++) {
				if (s.p[i] == '\\' && i + 1 < s.n)
					i++;
				buf_addc(&b, s.p[i] == '\t' ? ' ' : s.p[i]);
			}
			if (i >= s.n) {
				rc = fail(err, in, "unterminated quoted string in display name");
				goto out;
			}
		} else if (c < 0x80 && c != '.' && !is_atext(c)) {
			rc =
			    fail(err, in, "'%c' in display name: put the name in double quotes", c);
			goto out;
		} else {
			buf_addc(&b, (char)c);
		}
	}
	for (size_t i = 0; i < b.n;) {
		uint32_t cp = 0;
		size_t len = utf8_decode((const unsigned char *)b.p + i, b.n - i, &cp);
		if (len == 0) {
			rc = fail(err, in, "display name is not valid UTF-8");
			goto out;
		}
		if (is_control(cp)) {
			rc = fail(err, in, "control character U+%04X in display name", cp);
			goto out;
		}
		i += len;
	}
	/* A quoted string of blanks leaves one behind at either end. */
	while (b.n && b.p[b.n - 1] == ' ')
		buf_truncate(&b, 1);
	size_t lead = 0;
	while (lead < b.n && b.p[lead] == ' ')
		lead++;
	if (b.n > lead)
		*out = span_dup((struct span){b.p + lead, b.n - lead});
out:
	buf_free(&b);
	return rc;
}

int addr_parse(struct span in, struct addr *out, struct lb_err *err)
{
	bool open = false;
	char *display = NULL;
	int rc;

	*out = (struct addr){0};
	rc = check_controls(in, err);
	if (rc)
		return rc;
	struct span s = trim_wsp(in);
	if (s.n == 0)
		return fail(err, in, "empty address");
	size_t lt = find_unquoted(s, '<', &open);
	if (lt == s.n) {
		if (open && memchr(s.p, '<', s.n))
			return fail(err, in, "unterminated quoted string in display name");
		return parse_spec(in, s, out, err);
	}
	struct span rest = {s.p + lt + 1, s.n - lt - 1};
	size_t gt = find_unquoted(rest, '>', &open);
	if (gt == rest.n)
		return fail(err, in, "missing '>'");
	rc = parse_display(in, (struct span){s.p, lt}, &display, err);
	if (rc)
		return rc;
	rc = parse_spec(in, trim_wsp((struct span){rest.p, gt}), out, err);
	if (rc == 0 && gt + 1 < rest.n) {
		addr_free(out);
		rc = fail(err, in, "unexpected text after '>'");
	}
	if (rc) {
		free(display);
		return rc;
	}
	out->display = display;
	return 0;
}

int addr_parse_spec(struct span in, struct addr *out, struct lb_err *err)
{
	*out = (struct addr){0};
	int rc = check_controls(in, err);
	if (rc)
		return rc;
	return parse_spec(in, trim_wsp(in), out, err);
}

void addr_free(struct addr *a)
{
	free(a->display);
	free(a->local);
	free(a->domain);
	free(a->spec);
	*a = (struct addr){0};
}

char *addr_key(const char *spec)
{
	char *key = xstrdup(spec);
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + ('a' - 'A'));
	return key;
}
