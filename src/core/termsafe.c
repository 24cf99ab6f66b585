#include "core/termsafe.h"

#include <stdarg.h>
#include <string.h>

#include "core/utf8.h"

/* The code point of the valid sequence p[0..len). */
static unsigned decode(const unsigned char *p, size_t len)
{
	static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	unsigned cp = p[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (p[i] & 0x3F);
	return cp;
}

/* C1 controls, the bidi controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI) and
 * the line and paragraph separators. */
static bool invisible(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void term_safe(struct buf *out, const char *p, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	if (n == 0)
		return;
	while (i < n) {
		size_t start = i;
		while (i < n && s[i] >= 0x20 && s[i] < 0x7F)
			i++;
		buf_add(out, p + start, i - start);
		if (i == n)
			break;
		size_t len = utf8_len(s + i, n - i);
		unsigned cp = len ? decode(s + i, len) : 0;
		if (len == 1 && (flags & TERM_LINES) && (s[i] == '\n' || s[i] == '\t')) {
			buf_addc(out, (char)s[i]);
		} else if (len <= 1) { /* a C0 control, DEL, or a byte that is not UTF-8 */
			char e[4] = {'\\', 'x', hex[s[i] >> 4], hex[s[i] & 15]};
			buf_add(out, e, 4);
			len = 1;
		} else if (invisible(cp)) {
			buf_printf(out, "<U+%04X>", cp);
		} else {
			buf_add(out, p + i, len);
		}
		i += len;
	}
}

const char *term_str(struct buf *scratch, const char *s)
{
	buf_reset(scratch);
	s = s ? s : "";
	term_safe(scratch, s, strlen(s), 0);
	return buf_cstr(scratch);
}

bool term_unsafe(const char *s)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(s);
	term_safe(&b, s, n, 0);
	bool changed = b.n != n || (n && memcmp(b.p, s, n) != 0);
	buf_free(&b);
	return changed;
}

int term_printf(FILE *f, const char *fmt, ...)
{
	struct buf raw = BUF_INIT, safe = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&raw, fmt, ap);
	va_end(ap);
	term_safe(&safe, raw.p, raw.n, TERM_LINES);
	size_t n = safe.n;
	int rc = n ? (fwrite(safe.p, 1, n, f) == n ? (int)n : -1) : 0;
	buf_free(&raw);
	buf_free(&safe);
	return rc;
}
