#include "receive/charset.h"

#include <errno.h>
#include <iconv.h>
#include <libetpan/libetpan.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "compose/mime.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Windows-1252 0x80-0x9F; 0 where it assigns nothing. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,	    0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,	    0x017D, 0,	    0,	    0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,	    0x017E, 0x0178,
};

size_t utf8_get(const unsigned char *s, size_t n, unsigned *cp)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return c ? 1 : 0;
	}
	size_t len;
	unsigned min;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, min = 0x80, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, min = 0x800, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

size_t utf8_encode(unsigned cp, char b[4])
{
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

void utf8_put(struct buf *out, unsigned cp)
{
	char b[4];
	buf_add(out, b, utf8_encode(cp, b));
}

unsigned cp1252_decode(unsigned char c)
{
	if (c >= 0x80 && c < 0xA0)
		return cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xFFFD;
	return c ? c : 0xFFFD;
}

bool utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;
	while (i < n) {
		if (s[i] >= 0x01 && s[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = utf8_get(s + i, n - i, &cp);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

void utf8_repair(struct buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;
	if (n == 0 || !buf_grow(out, n)) /* buf_grow alone writes no NUL */
		return;
	while (i < n) {
		size_t start = i;
		/* The common case, ASCII, is copied in runs. */
		while (i < n && s[i] >= 0x01 && s[i] < 0x80)
			i++;
		buf_add(out, p + start, i - start);
		if (i == n)
			break;
		size_t len = utf8_get(s + i, n - i, &cp);
		if (len) {
			buf_add(out, p + i, len);
			i += len;
		} else {
			buf_add(out, replacement, 3);
			i++;
		}
	}
}

void cp1252_to_utf8(struct buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < n) {
		size_t start = i; /* ASCII is copied in runs */
		while (i < n && s[i] >= 0x01 && s[i] < 0x80)
			i++;
		if (i > start)
			buf_add(out, p + start, i - start);
		if (i < n)
			utf8_put(out, cp1252_decode(s[i++]));
	}
}

enum cs_kind { CS_UTF8, CS_ASCII, CS_CP1252, CS_ICONV };

/* Names mail clients write that iconv does not know, or knows as something
 * narrower than what the senders actually use. */
static const struct {
	const char *alias, *name;
} aliases[] = {
    {"ks_c_5601-1987", "CP949"},
    {"ks_c_5601", "CP949"},
    {"euc-kr", "CP949"},
    {"gb2312", "GB18030"},
    {"gbk", "GB18030"},
    {"x-gbk", "GB18030"},
    {"cn-gb", "GB18030"},
    {"iso-8859-8-i", "ISO-8859-8"},
    {"x-sjis", "CP932"},
    {"shift-jis", "CP932"},
    {"shift_jis", "CP932"},
    {"sjis", "CP932"},
    {"x-mac-roman", "MACINTOSH"},
    {"macintosh", "MACINTOSH"},
    {"iso-2022-jp", "ISO-2022-JP-2"},
    {"tis-620", "CP874"},
    {"windows-874", "CP874"},
    {"x-euc-jp", "EUC-JP"},
};

static enum cs_kind cs_classify(struct span cs, char *name, size_t namesz)
{
	static const char *const utf8_names[] = {
	    "utf-8", "utf8", "unknown", "x-unknown", "unknown-8bit", "x-user-defined", "utf-8-bom"};
	/* No charset, or ASCII, yet 8-bit bytes: UTF-8 when they are valid
	 * UTF-8, else most likely Windows-1252. */
	static const char *const ascii_names[] = {"",	    "us-ascii",	 "ascii",  "ansi_x3.4-1968",
						  "us",	    "iso646-us", "7bit",   "8bit",
						  "binary", "none",	 "default"};
	static const char *const cp1252_names[] = {
	    "iso-8859-1",   "iso8859-1", "iso_8859-1", "latin1", "latin-1",    "l1",
	    "windows-1252", "cp1252",	 "x-cp1252",   "cp819",	 "iso-ir-100", "ibm819",
	};
	cs = span_trim(cs);
	while (cs.n && (cs.p[0] == '"' || cs.p[0] == '\''))
		cs.p++, cs.n--;
	while (cs.n && (cs.p[cs.n - 1] == '"' || cs.p[cs.n - 1] == '\''))
		cs.n--;
	cs = span_trim(cs);
	for (size_t i = 0; i < sizeof utf8_names / sizeof *utf8_names; i++)
		if (span_eq_ci(cs, utf8_names[i]))
			return CS_UTF8;
	for (size_t i = 0; i < sizeof ascii_names / sizeof *ascii_names; i++)
		if (span_eq_ci(cs, ascii_names[i]))
			return CS_ASCII;
	for (size_t i = 0; i < sizeof cp1252_names / sizeof *cp1252_names; i++)
		if (span_eq_ci(cs, cp1252_names[i]))
			return CS_CP1252;
	if (cs.n >= namesz)
		return CS_UTF8;
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
		if (span_eq_ci(cs, aliases[i].alias)) {
			size_t l = strlen(aliases[i].name);
			memcpy(name, aliases[i].name, l + 1);
			return CS_ICONV;
		}
	}
	for (size_t i = 0; i < cs.n; i++) {
		char c = cs.p[i];
		/* Only what charset names are made of: no option suffixes
		 * ("//TRANSLIT") smuggled into iconv_open. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return CS_UTF8;
		name[i] = c;
	}
	name[cs.n] = '\0';
	return CS_ICONV;
}

static void iconv_all(struct buf *out, iconv_t cd, const char *p, size_t n)
{
	char *ip, tmp[4096], *op;
	size_t il = n, ol;
	memcpy(&ip, &p, sizeof ip); /* iconv's prototype is not const-correct */
	while (il > 0) {
		op = tmp, ol = sizeof tmp;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;
		/* iconv's UTF-8 is valid; this only turns NUL into U+FFFD. */
		utf8_repair(out, tmp, (size_t)(op - tmp));
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		buf_add(out, replacement, 3);
		if (e != EILSEQ)
			break; /* EINVAL: a sequence cut off at the end */
		ip++, il--;
	}
	/* Back to the initial shift state (ISO-2022-JP ends in ASCII). */
	op = tmp, ol = sizeof tmp;
	iconv(cd, NULL, NULL, &op, &ol);
	utf8_repair(out, tmp, (size_t)(op - tmp));
}

void charset_to_utf8(struct buf *out, struct span cs, const char *p, size_t n)
{
	char name[64];
	switch (cs_classify(cs, name, sizeof name)) {
	case CS_ASCII:
		if (utf8_valid(p, n))
			buf_add(out, p, n);
		else
			cp1252_to_utf8(out, p, n);
		return;
	case CS_UTF8:
		utf8_repair(out, p, n);
		return;
	case CS_CP1252:
		cp1252_to_utf8(out, p, n);
		return;
	case CS_ICONV:
		break;
	}
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1) {
		utf8_repair(out, p, n);
		return;
	}
	iconv_all(out, cd, p, n);
	iconv_close(cd);
}

/* ---- libetpan ------------------------------------------------------------------------------- */

/* libetpan 1.9.4 runs every part's Content-Type value through its
 * encoded-word decoder, which converts each plain word from US-ASCII to
 * UTF-8 with a fresh iconv_open: most of its time on a DSN.  Its documented
 * hook takes that one conversion over, with the result its iconv path gives
 * (each byte past 0x7F is an illegal sequence, which it replaces with '?'),
 * and hands every other conversion back to iconv. */
static int ascii_to_utf8(const char *tocode, const char *fromcode, const char *str, size_t length,
			 char *result, size_t *result_len)
{
	if (strcasecmp(tocode, "utf-8") != 0 || strcasecmp(fromcode, "us-ascii") != 0)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (size_t i = 0; i < length; i++)
		result[i] = (unsigned char)str[i] < 0x80 ? str[i] : '?';
	*result_len = length;
	return MAIL_CHARCONV_NO_ERROR;
}

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

static void hook(void)
{
	if (!extended_charconv)
		extended_charconv = ascii_to_utf8;
}

void charset_libetpan(void)
{
	pthread_once(&hook_once, hook);
}

/* ---- header values ----------------------------------------------------------------------------
 */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim whitespace off what was appended to out since start. */
static void trim_from(struct buf *out, size_t start)
{
	size_t i = start;
	while (i < out->n && is_space(out->p[i]))
		i++;
	if (i > start) {
		memmove(out->p + start, out->p + i, out->n - i);
		buf_truncate(out, i - start);
	}
	size_t e = out->n;
	while (e > start && is_space(out->p[e - 1]))
		e--;
	buf_truncate(out, out->n - e);
}

void header_text(struct buf *out, struct span v)
{
	if (!v.p)
		return;
	size_t start = out->n;
	v = span_trim(v);
	bool plain_text = !memmem(v.p, v.n, "=?", 2);
	for (size_t i = 0; i < v.n && plain_text; i++)
		plain_text = v.p[i] >= 0x20 && v.p[i] < 0x7F;
	if (plain_text) { /* printable ASCII, no encoded-words: nothing to do */
		if (v.n)
			buf_add(out, v.p, v.n);
		return;
	}
	if (utf8_valid(v.p, v.n)) {
		hdr_decode(out, v.p, v.n);
	} else {
		struct buf tmp = BUF_INIT;
		cp1252_to_utf8(&tmp, v.p, v.n);
		hdr_decode(out, buf_cstr(&tmp), tmp.n);
		buf_free(&tmp);
	}
	trim_from(out, start);
}

void header_display(struct buf *out, struct span d)
{
	if (!d.p)
		return;
	d = span_trim(d);
	if (!memchr(d.p, '"', d.n)) { /* nothing to unquote */
		header_text(out, d);
		return;
	}
	struct buf tmp = BUF_INIT;
	bool inq = false;
	for (size_t i = 0; i < d.n; i++) {
		char c = d.p[i];
		if (c == '"') {
			inq = !inq;
			continue;
		}
		if (c == '\\' && inq && i + 1 < d.n)
			c = d.p[++i];
		buf_addc(&tmp, c);
	}
	header_text(out, buf_span(&tmp));
	buf_free(&tmp);
}

/* ---- base64 ---------------------------------------------------------------------------------- */

static const signed char b64[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,  ['G'] = 7,	['H'] = 8,
    ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not base64 */

/* Lenient base64: anything outside the alphabet (line breaks, padding,
 * garbage) is skipped. */
void base64_decode(struct buf *out, struct span s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	unsigned acc = 0, bits = 0;
	if (!buf_grow(out, s.n / 4 * 3 + 3))
		return;
	for (size_t i = 0; i < s.n; i++) {
		int v = b64[p[i]] - 1;
		if (p[i] == '=')
			acc = 0, bits = 0; /* padding: a concatenated block may follow */
		if (v < 0)
			continue;
		acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->p[out->n++] = (char)(acc >> bits & 0xFF);
		}
	}
	out->p[out->n] = '\0';
}

size_t base64_size(struct span s)
{
	size_t k = 0;
	for (size_t i = 0; i < s.n; i++)
		k += b64[(unsigned char)s.p[i]] != 0;
	return k / 4 * 3 + (k % 4 ? k % 4 - 1 : 0);
}
