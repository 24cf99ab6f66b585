/* The staff forms' CSRF token (web/csrf.h). */
#include "web/csrf.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

#define MAC_BYTES 16

static void mac_hex(const struct secret *s, const char *user, const char *action,
		    unsigned long long window, char hex[2 * MAC_BYTES + 1])
{
	struct buf m = BUF_INIT;
	buf_adds(&m, "letterbox-staff-csrf");
	buf_addc(&m, '\0');
	buf_adds(&m, user);
	buf_addc(&m, '\0');
	buf_adds(&m, action);
	buf_addc(&m, '\0');
	buf_printf(&m, "%llu", window);
	unsigned char mac[32];
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, s->key, sizeof s->key, m.p, m.n, mac);
	buf_free(&m);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < MAC_BYTES; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[2 * MAC_BYTES] = '\0';
}

static unsigned long long window_of(time_t now)
{
	return now > 0 ? (unsigned long long)now / CSRF_WINDOW : 0;
}

void csrf_make(const struct secret *s, const char *user, const char *action, time_t now,
	       char out[CSRF_MAX_LEN])
{
	unsigned long long w = window_of(now);
	char hex[2 * MAC_BYTES + 1];
	mac_hex(s, user, action, w, hex);
	snprintf(out, CSRF_MAX_LEN, "%llu.%s", w, hex);
}

bool csrf_check(const struct secret *s, const char *user, const char *action, const char *token,
		time_t now)
{
	if (!token || !user || !action)
		return false;
	/* W: 1 to 19 digits, no leading zero (one spelling per window) */
	unsigned long long w = 0;
	size_t i = 0;
	for (; token[i] >= '0' && token[i] <= '9' && i < 19; i++)
		w = w * 10 + (unsigned long long)(token[i] - '0');
	if (i == 0 || (token[0] == '0' && i > 1) || token[i] != '.' ||
	    strlen(token + i + 1) != 2 * MAC_BYTES)
		return false;
	unsigned long long cur = window_of(now);
	if (w != cur && !(cur > 0 && w == cur - 1))
		return false;
	char want[2 * MAC_BYTES + 1];
	mac_hex(s, user, action, w, want);
	const char *got = token + i + 1;
	unsigned diff = 0;
	for (size_t k = 0; k < 2 * MAC_BYTES; k++)
		diff |= (unsigned)(got[k] ^ want[k]);
	return diff == 0;
}
