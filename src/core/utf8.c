#include "core/utf8.h"

size_t utf8_len(const unsigned char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	/* the lead byte gives the length; the second byte's range excludes the
	 * overlong forms (E0, F0), the surrogates (ED) and what is past U+10FFFF (F4) */
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;
	if (p[0] < 0xC2)
		return 0;
	if (p[0] < 0xE0) {
		len = 2;
	} else if (p[0] < 0xF0) {
		len = 3;
		lo = p[0] == 0xE0 ? 0xA0 : 0x80;
		hi = p[0] == 0xED ? 0x9F : 0xBF;
	} else if (p[0] < 0xF5) {
		len = 4;
		lo = p[0] == 0xF0 ? 0x90 : 0x80;
		hi = p[0] == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (len > n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return len;
}
