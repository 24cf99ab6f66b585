#include "core/token.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int secret_parse(const char *path, struct span text, struct secret *s, struct lb_err *err)
{
	text = span_trim(text);
	if (text.n != 2 * SECRET_LEN)
		return err_set(err, LB_EDATA, "%s: expected %d hex digits", path, 2 * SECRET_LEN);
	for (size_t i = 0; i < SECRET_LEN; i++) {
		int hi = hexval(text.p[2 * i]), lo = hexval(text.p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return err_set(err, LB_EDATA, "%s: expected %d hex digits", path,
				       2 * SECRET_LEN);
		s->key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int secret_create(const char *state_dir, const char *path, struct secret *s,
			 struct lb_err *err)
{
	int rc = fsx_mkdirs(state_dir, 0700, err);
	if (rc)
		return rc;
	if (gnutls_rnd(GNUTLS_RND_KEY, s->key, sizeof s->key) < 0)
		return err_set(err, LB_ESOFTWARE, "cannot get random bytes for the site secret");
	static const char hex[] = "0123456789abcdef";
	char text[2 * SECRET_LEN + 1];
	for (size_t i = 0; i < SECRET_LEN; i++) {
		text[2 * i] = hex[s->key[i] >> 4];
		text[2 * i + 1] = hex[s->key[i] & 15];
	}
	text[2 * SECRET_LEN] = '\n';
	return fsx_write_atomic(path, text, sizeof text, 0600, err);
}

int secret_load(const char *state_dir, bool create, struct secret *s, struct lb_err *err)
{
	char *path = path_join(state_dir, "secret");
	struct buf text = BUF_INIT;
	struct stat st;
	int rc;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && create)
			rc = secret_create(state_dir, path, s, err);
		else
			rc = err_sys(err, errno == ENOENT ? LB_ENOINPUT : fsx_errno_code(errno),
				     "%s", path);
		goto out;
	}
	/* the group may read it only in a shared state/ (fsx_state_dir) */
	if (st.st_mode & (fsx_group_mode() ? 007 : 077)) {
		rc = err_set(err, LB_ECONFIG, "%s: readable by others (mode %03o): chmod %s it",
			     path, (unsigned)(st.st_mode & 0777), fsx_group_mode() ? "660" : "600");
		goto out;
	}
	rc = fsx_read_state(path, &text, 1024, err);
	if (!rc)
		rc = secret_parse(path, buf_span(&text), s, err);
out:
	buf_free(&text);
	free(path);
	return rc;
}

void token_make(const struct secret *s, const char *list_id, const char *address,
		char out[TOKEN_LEN + 1])
{
	/* list_id NUL address, address lower-cased: the same person on two sites
	 * (or lists ids) gets unrelated tokens, and case never matters. */
	char msg[512];
	size_t ln = strlen(list_id), an = strlen(address);
	struct buf big = BUF_INIT;
	char *m = msg;
	if (ln + an + 1 > sizeof msg) {
		buf_grow(&big, ln + an + 1);
		m = big.p;
	}
	memcpy(m, list_id, ln);
	m[ln] = '\0';
	for (size_t i = 0; i < an; i++) {
		char c = address[i];
		m[ln + 1 + i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	unsigned char mac[32];
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, s->key, sizeof s->key, m, ln + 1 + an, mac);
	buf_free(&big);
	/* 10 bytes = 80 bits = 16 base32 digits, 5 bits at a time. */
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned long long hi = 0, lo = 0;
	for (int i = 0; i < 5; i++) {
		hi = hi << 8 | mac[i];
		lo = lo << 8 | mac[5 + i];
	}
	for (int i = 7; i >= 0; i--) {
		out[i] = b32[hi & 31];
		out[8 + i] = b32[lo & 31];
		hi >>= 5;
		lo >>= 5;
	}
	out[TOKEN_LEN] = '\0';
}

bool token_parse(const char *p, size_t n, char out[TOKEN_LEN + 1])
{
	if (n != TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return false;
		out[i] = c;
	}
	out[TOKEN_LEN] = '\0';
	return true;
}

bool token_verify(const struct secret *s, const char *list_id, const char *address,
		  const char *token)
{
	char want[TOKEN_LEN + 1];
	token_make(s, list_id, address, want);
	if (strlen(token) != TOKEN_LEN)
		return false;
	unsigned diff = 0;
	for (size_t i = 0; i < TOKEN_LEN; i++) {
		char c = token[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		diff |= (unsigned)(c ^ want[i]);
	}
	return diff == 0;
}
