#include "receive/mutf7.h"

#include <stdint.h>
#include <string.h>

#include "core/utf8.h"

/* RFC 2045's base64 alphabet with ',' for '/'. */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static uint32_t decode(const unsigned char *p, size_t k)
{
	if (k == 1)
		return p[0];
	uint32_t cp = p[0] & (0x7f >> k);
	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

bool mutf7_encode(const char *name, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name), i = 0, start = out->n;
	while (i < n) {
		if (printable(p[i])) {
			if (p[i] == '&')
				buf_adds(out, "&-");
			else
				buf_addc(out, (char)p[i]);
			i++;
			continue;
		}
		/* A run of anything else: its UTF-16 code units, base64, in &...-. */
		buf_addc(out, '&');
		uint32_t bits = 0;
		unsigned nbits = 0;
		while (i < n && !printable(p[i])) {
			size_t k = utf8_len(p + i, n - i);
			if (k == 0) {
				buf_truncate(out, out->n - start);
				return false;
			}
			uint32_t cp = decode(p + i, k);
			i += k;
			uint16_t unit[2] = {(uint16_t)cp, 0};
			size_t units = 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				unit[0] = (uint16_t)(0xd800 | cp >> 10);
				unit[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
				units = 2;
			}
			for (size_t u = 0; u < units; u++) {
				bits = bits << 16 | unit[u];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					buf_addc(out, b64[bits >> nbits & 0x3f]);
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits)
			buf_addc(out, b64[bits << (6 - nbits) & 0x3f]);
		buf_addc(out, '-');
	}
	return true;
}
