#include "core/token.h"

#include <errno.h>
#include <stdint.h>
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

void token_maker_init(struct token_maker *m, const struct secret *s, const char *list_id)
{
	hmac_sha256_set_key(&m->ctx, sizeof s->key, s->key);
	/* list_id NUL address: the same person on two sites (or list ids)
	 * gets unrelated tokens */
	hmac_sha256_update(&m->ctx, strlen(list_id) + 1, (const uint8_t *)list_id);
}

void token_maker_make(const struct token_maker *m, const char *address, char out[TOKEN_LEN + 1])
{
	struct hmac_sha256_ctx c = m->ctx;
	/* the address lower-cased: case never matters */
	uint8_t chunk[256];
	size_t k = 0;
	for (const char *p = address; *p; p++) {
		chunk[k++] = (uint8_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (k == sizeof chunk) {
			hmac_sha256_update(&c, k, chunk);
			k = 0;
		}
	}
	hmac_sha256_update(&c, k, chunk);
	uint8_t mac[SHA256_DIGEST_SIZE];
	hmac_sha256_digest(&c, sizeof mac, mac);
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

void token_make(const struct secret *s, const char *list_id, const char *address,
		char out[TOKEN_LEN + 1])
{
	struct token_maker m;
	token_maker_init(&m, s, list_id);
	token_maker_make(&m, address, out);
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

/* ---- confirmation tokens ----------------------------------------------------------------- */

static const char confirm_label[] = "letterbox confirm v1";
#define CONFIRM_MAC_LEN 16

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64u_encode(struct buf *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		if (k > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		for (size_t j = 0; j < k + 1; j++)
			buf_addc(out, b64u[(v >> (18 - 6 * j)) & 63]);
	}
}

/* Strict: only the alphabet, no padding, no bits left over. */
static bool b64u_decode(struct buf *out, const char *s, size_t n)
{
	if (n % 4 == 1)
		return false;
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = memchr(b64u, s[i], 64);
		if (!c || !s[i])
			return false;
		v = (v << 6) | (unsigned)(c - b64u);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((v >> bits) & 255));
		}
	}
	return (v & ((1u << bits) - 1)) == 0;
}

static void confirm_mac(const struct secret *s, const char *payload, size_t n,
			unsigned char mac[32])
{
	gnutls_hmac_hd_t h;
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, s->key, sizeof s->key) < 0)
		abort();				     /* SHA-256 HMAC is always there */
	gnutls_hmac(h, confirm_label, sizeof confirm_label); /* with its NUL */
	gnutls_hmac(h, payload, n);
	gnutls_hmac_deinit(h, mac);
}

char *confirm_token_make(const struct secret *s, const struct confirm_req *r)
{
	const char *f[] = {r->source,	       r->list,
			   r->address,	       r->name ? r->name : "",
			   r->ip ? r->ip : "", r->consent ? r->consent : ""};
	struct buf p = BUF_INIT, out = BUF_INIT;
	buf_printf(&p, "%lld", (long long)r->requested);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (strpbrk(f[i], "\r\n")) {
			buf_free(&p);
			return NULL;
		}
		buf_printf(&p, "\n%s", f[i]);
	}
	unsigned char mac[32];
	confirm_mac(s, p.p, p.n, mac);
	b64u_encode(&out, (const unsigned char *)p.p, p.n);
	buf_addc(&out, '.');
	b64u_encode(&out, mac, CONFIRM_MAC_LEN);
	buf_free(&p);
	return buf_take(&out);
}

static char *next_field(char **cur)
{
	char *s = *cur, *nl = s ? strchr(s, '\n') : NULL;
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = NULL;
	}
	return s ? xstrdup(s) : NULL;
}

enum confirm_check confirm_token_parse(const struct secret *s, const char *token, time_t now,
				       struct confirm_req *out)
{
	memset(out, 0, sizeof *out);
	const char *dot = strchr(token, '.');
	if (!dot || strchr(dot + 1, '.') || strlen(token) > 4096)
		return CONFIRM_FORGED;
	struct buf p = BUF_INIT, m = BUF_INIT;
	enum confirm_check rc = CONFIRM_FORGED;
	if (!b64u_decode(&p, token, (size_t)(dot - token)) ||
	    !b64u_decode(&m, dot + 1, strlen(dot + 1)) || m.n != CONFIRM_MAC_LEN || !p.n)
		goto out;
	unsigned char mac[32];
	confirm_mac(s, p.p, p.n, mac);
	unsigned diff = 0;
	for (size_t i = 0; i < CONFIRM_MAC_LEN; i++)
		diff |= (unsigned)(mac[i] ^ (unsigned char)m.p[i]);
	if (diff || memchr(p.p, '\0', p.n))
		goto out;
	char *cur = p.p, *end;
	errno = 0;
	long long t = strtoll(cur, &end, 10);
	if (end == cur || *end != '\n' || errno)
		goto out;
	cur = end + 1;
	out->requested = (time_t)t;
	char **f[] = {&out->source, &out->list, &out->address, &out->name, &out->ip, &out->consent};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		*f[i] = next_field(&cur);
	if (!out->consent || cur) {
		confirm_req_free(out);
		goto out;
	}
	rc = t > (long long)now + 300 || (long long)now - t > CONFIRM_TTL ? CONFIRM_EXPIRED
									  : CONFIRM_OK;
out:
	buf_free(&p);
	buf_free(&m);
	return rc;
}

void confirm_req_free(struct confirm_req *r)
{
	free(r->source);
	free(r->list);
	free(r->address);
	free(r->name);
	free(r->ip);
	free(r->consent);
	memset(r, 0, sizeof *r);
}

void consent_hash(const char *text, char out[33])
{
	unsigned char h[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), h);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < 16; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[32] = '\0';
}
