#include "core/json.h"

#include <stdbool.h>

/* Length of a valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0xC2 ? 0 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : p[0] < 0xF5 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xF0 && p[1] < 0x90) ||
	    (p[0] == 0xED && p[1] >= 0xA0) || (p[0] == 0xF4 && p[1] >= 0x90))
		return 0; /* overlong, surrogate, beyond U+10FFFF */
	return len;
}

void json_str(struct buf *out, const char *s)
{
	if (!s) {
		buf_adds(out, "null");
		return;
	}
	buf_addc(out, '"');
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (p[n])
		n++;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			buf_addc(out, '\\');
			buf_addc(out, (char)c);
			i++;
		} else if (c < 0x20) {
			static const char esc[] = "btn\0fr";
			if (c >= 8 && c <= 13 && c != 11 && esc[c - 8]) {
				buf_addc(out, '\\');
				buf_addc(out, esc[c - 8]);
			} else {
				buf_printf(out, "\\u%04x", c);
			}
			i++;
		} else if (c < 0x80) {
			buf_addc(out, (char)c);
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				buf_add(out, p + i, len);
				i += len;
			} else {
				buf_adds(out, "\xEF\xBF\xBD");
				i++;
			}
		}
	}
	buf_addc(out, '"');
}

void json_key(struct buf *out, const char *key, int *first)
{
	if (!*first)
		buf_addc(out, ',');
	*first = 0;
	json_str(out, key);
	buf_addc(out, ':');
}
