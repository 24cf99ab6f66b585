#include "core/json.h"
#include "core/utf8.h"

#include <stdbool.h>

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
