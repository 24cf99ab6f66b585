/* DKIM (compose/dkim.h): the relaxed body hash against values computed by
 * python3-dkim's canonicalisation, fed whole and one byte at a time; the
 * relaxed header canonicalisation; the signature fields' shape.  Whole
 * signatures are verified by python3-dkim in tests/e2e/test_dkim.sh. */
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/dkim.h"
#include "core/buf.h"
#include "harness.h"

static void b64(const uint8_t *h, char out[64])
{
	base64_encode_raw(out, SHA256_DIGEST_SIZE, h);
	out[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE)] = '\0';
}

static void test_body_hash(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
	    {"\r\n\r\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
	    {"a  b \r\n\r\n\r\n", "SuEZjyiTjUp1XHpGpmLw9XKayjy3FMrk431guExO6cw="},
	    {"a\tb\r\nc", "Fpw9LRv98sOa9yITRAMuqnTeI6v8pmVq3GnXQ4jXZAY="},
	    {"\r\n \r\nx\r\n", "hHl0gskkj3KarB8IzxZHkNJubfPe+wREH5JIHngjIuU="},
	    {"a\rb\r\n", "LyKRrVaOri6zT8fJNyWWbX0dJvvNQVCly5aCYrYNasE="},
	    {" leading\r\n", "TpWsmdK2wYAs7Pr7u2mGmoPV1a7qTmvYEwqOWgefpZI="},
	    {"x \t \r\n\t\r\ny\r\n", "/oA7q/ba2Ub+Ru9W7KY49ZRGJgXCBH99FA2TTPVimM0="},
	    {"a\r", "mwPeYrgux0+KQmbIfBf9AZEK0RF5OSvfLSvZgGdx73g="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t h[SHA256_DIGEST_SIZE];
		char got[64];
		struct dkim_body b;
		dkim_body_init(&b);
		dkim_body_update(&b, cases[i].in, strlen(cases[i].in));
		dkim_body_final(&b, h);
		b64(h, got);
		CHECK_STR(got, cases[i].want);
		/* The same bytes in pieces of one: a CRLF or a blank run split
		 * between two pieces of the splice. */
		dkim_body_init(&b);
		for (const char *p = cases[i].in; *p; p++)
			dkim_body_update(&b, p, 1);
		dkim_body_final(&b, h);
		b64(h, got);
		CHECK_STR(got, cases[i].want);
	}
}

/* A shared piece prepared once (dkim_piece_prepare) and hashed through
 * dkim_body_update_piece gives the hash the byte-by-byte canonicalisation
 * gives, whatever comes before and after it. */
static void test_body_piece(void)
{
	static const char *const before[] = {"x",     "x ",	   "x\t", "x\r",
					     "x\r\n", "x\r\n\r\n", "",	  "x \r"};
	static const char *const piece[] = {"a b\r\nc",
					    "word",
					    "  lead\r\n",
					    "tail  \r\n\r\n",
					    "\r\n\t \r\n",
					    "\nlf first",
					    "in  side\t\tx \r\n\r\ny",
					    " "};
	static const char *const after[] = {"", " ", "\r\n\r\n", " y\r\n", "\nz"};
	for (size_t j = 0; j < sizeof piece / sizeof *piece; j++) {
		struct buf store = BUF_INIT;
		struct dkim_piece pc;
		buf_adds(&store, "earlier pieces");
		dkim_piece_prepare(piece[j], strlen(piece[j]), &store, &pc);
		for (size_t i = 0; i < sizeof before / sizeof *before; i++)
			for (size_t k = 0; k < sizeof after / sizeof *after; k++) {
				struct dkim_body x, y;
				uint8_t hx[SHA256_DIGEST_SIZE], hy[SHA256_DIGEST_SIZE];
				dkim_body_init(&x);
				dkim_body_init(&y);
				dkim_body_update(&x, before[i], strlen(before[i]));
				dkim_body_update(&y, before[i], strlen(before[i]));
				dkim_body_update(&x, piece[j], strlen(piece[j]));
				dkim_body_update_piece(&y, piece[j], strlen(piece[j]), &pc,
						       buf_cstr(&store) + pc.off);
				dkim_body_update(&x, after[k], strlen(after[k]));
				dkim_body_update(&y, after[k], strlen(after[k]));
				dkim_body_final(&x, hx);
				dkim_body_final(&y, hy);
				if (!harness_check(memcmp(hx, hy, sizeof hx) == 0, __FILE__,
						   __LINE__, "piece hash == byte-by-byte hash"))
					fprintf(stderr, "    before %zu piece %zu after %zu\n", i,
						j, k);
			}
		buf_free(&store);
	}
	/* The middle is kept canonical: blank runs made one space. */
	struct buf store = BUF_INIT;
	struct dkim_piece pc;
	dkim_piece_prepare("  a  b\t\tc \r\n", 12, &store, &pc);
	CHECK_INT(pc.lead, 2);
	CHECK_INT(pc.tail, 3);
	CHECK_STR(buf_cstr(&store), "a b c");
	buf_free(&store);
}

int main(void)
{
	RUN(test_body_hash);
	RUN(test_body_piece);
	return harness_done("dkim");
}
