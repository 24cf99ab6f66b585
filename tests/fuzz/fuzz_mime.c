/* Fuzz the MIME encoders and decoders.
 *
 * Invariants checked:
 *   qp:    qp_decode(qp_encode(x)) == x with every lone LF turned into CRLF
 *          (a CR not followed by LF is data: encoded as =0D, decoded back);
 *          the same holds for x cut in two and the pieces encoded separately;
 *          the encoding is lines of at most 76 printable octets ending in CRLF,
 *          with no trailing whitespace and no line starting "." or "From ".
 *   hdr:   hdr_text/hdr_address output is 7-bit, every CR is part of a CRLF
 *          that is followed by whitespace (a fold) or ends the field, lines
 *          are at most 78 octets; hdr_text reads back (hdr_decode) as the
 *          value with controls made spaces, bad UTF-8 made U+FFFD, trimmed.
 *   decoders on raw input: hdr_decode gives valid UTF-8 without controls
 *          other than tab; qp_decode never grows its input.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void crlf(struct buf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_addc(out, '\r');
		buf_addc(out, p[i]);
	}
}

static void check_qp_shape(const struct buf *e)
{
	const char *s = buf_cstr(e);
	size_t i = 0;
	while (i < e->n) {
		const char *nl = memchr(s + i, '\n', e->n - i);
		assert(nl && nl > s + i && nl[-1] == '\r');
		size_t len = (size_t)(nl - 1 - (s + i));
		const char *line = s + i;
		assert(len <= 76);
		for (size_t k = 0; k < len; k++)
			assert((line[k] >= ' ' && line[k] <= '~') || line[k] == '\t');
		assert(len == 0 || (line[len - 1] != ' ' && line[len - 1] != '\t'));
		assert(len == 0 || line[0] != '.');
		assert(len < 5 || memcmp(line, "From ", 5) != 0);
		i += len + 2;
	}
}

static void check_qp(const char *p, size_t n)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT, want = BUF_INIT;
	qp_encode(&enc, p, n);
	check_qp_shape(&enc);
	qp_decode(&dec, buf_cstr(&enc), enc.n);
	crlf(&want, p, n);
	assert(dec.n == want.n && memcmp(buf_cstr(&dec), buf_cstr(&want), dec.n) == 0);

	/* Two pieces encoded apart: a cut inside a CRLF leaves a lone CR in
	 * the first piece, so compare with the pieces normalised apart. */
	size_t k = n ? (size_t)(unsigned char)p[0] * n / 256 : 0;
	buf_reset(&enc);
	buf_reset(&dec);
	buf_reset(&want);
	qp_encode(&enc, p, k);
	qp_encode(&enc, p + k, n - k);
	check_qp_shape(&enc);
	qp_decode(&dec, buf_cstr(&enc), enc.n);
	crlf(&want, p, k);
	crlf(&want, p + k, n - k);
	assert(dec.n == want.n && memcmp(buf_cstr(&dec), buf_cstr(&want), dec.n) == 0);
	buf_free(&enc);
	buf_free(&dec);
	buf_free(&want);
}

/* Code point of the well-formed UTF-8 sequence at s, its length in *len;
 * -1 (len 1) if there is none.  Written apart from mime.c on purpose. */
static long utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t l = s[0] < 0x80		   ? 1
		   : (s[0] & 0xE0) == 0xC0 ? 2
		   : (s[0] & 0xF0) == 0xE0 ? 3
		   : (s[0] & 0xF8) == 0xF0 ? 4
					   : 0;
	*len = 1;
	if (l == 0 || l > n)
		return -1;
	long cp = l == 1 ? s[0] : s[0] & (0x7F >> l);
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min[l] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*len = l;
	return cp;
}

static bool is_control(long cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp < 0xA0);
}

/* What a header value means once written: controls are spaces, bad octets
 * U+FFFD, leading and trailing whitespace gone. */
static void clean(struct buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	for (size_t i = 0, len; i < n; i += len) {
		long cp = utf8_decode(s + i, n - i, &len);
		if (cp < 0)
			buf_adds(out, "\xEF\xBF\xBD");
		else if (is_control(cp))
			buf_addc(out, ' ');
		else
			buf_add(out, p + i, len);
	}
}

static void check_utf8_clean(const struct buf *b)
{
	const unsigned char *s = (const unsigned char *)buf_cstr(b);
	for (size_t i = 0, len; i < b->n; i += len) {
		long cp = utf8_decode(s + i, b->n - i, &len);
		assert(cp >= 0 && !is_control(cp));
	}
}

static void check_field(const struct buf *h)
{
	const char *s = buf_cstr(h);
	size_t col = 0;
	assert(h->n >= 2 && s[h->n - 2] == '\r' && s[h->n - 1] == '\n');
	for (size_t i = 0; i < h->n; i++) {
		unsigned char c = (unsigned char)s[i];
		assert(c < 0x80);
		if (c == '\r') {
			assert(s[i + 1] == '\n');
			assert(i + 2 == h->n || s[i + 2] == ' ' || s[i + 2] == '\t');
			assert(col > 0);
			col = 0;
			i++;
			continue;
		}
		assert(c != '\n' && (c >= ' ' || c == '\t') && c != 0x7F);
		assert(++col <= 78);
	}
}

static void check_headers(const char *value)
{
	struct buf h = BUF_INIT, back = BUF_INIT, want = BUF_INIT;
	hdr_text(&h, "Subject", value);
	check_field(&h);
	hdr_decode(&back, buf_cstr(&h) + 8, h.n - 8);
	clean(&want, value, strlen(value));
	struct span w = span_trim(buf_span(&want)), b = buf_span(&back);
	if (b.n && b.p[0] == ' ') {
		b.p++;
		b.n--;
	}
	assert(b.n == w.n && memcmp(b.p, w.p, w.n) == 0);

	buf_reset(&h);
	hdr_address(&h, "From", value, "ada@example.org");
	check_field(&h);

	buf_reset(&h);
	mime_phrase(&h, value);
	for (size_t i = 0; i < h.n; i++)
		assert((h.p[i] >= ' ' && h.p[i] < 0x7F) || h.p[i] == '\t');
	buf_free(&h);
	buf_free(&back);
	buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	check_qp(p, size);

	struct buf out = BUF_INIT;
	qp_decode(&out, p, size);
	assert(out.n <= size);
	buf_reset(&out);
	hdr_decode(&out, p, size);
	check_utf8_clean(&out);
	buf_free(&out);

	char *value = malloc(size + 1);
	assert(value);
	memcpy(value, data, size);
	value[size] = '\0';
	check_headers(value);
	free(value);
	return 0;
}
