/* Fuzz the DKIM relaxed body hash (compose/dkim.h): fed whole, and fed in
 * pieces cut where the input says, every other piece prepared once and
 * hashed the newsletter's way (dkim_piece_prepare, dkim_body_update_piece),
 * it must equal the hash of a plain line-by-line reading of RFC 6376 3.4.4. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/dkim.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_dkim: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The RFC's words, line by line: blank runs become one SP, blanks at line
 * ends go, empty lines at the end go, a last line gets its CRLF. */
static void reference(const char *p, size_t n, struct buf *out)
{
	size_t keep = 0; /* out's length up to the last line that was not empty */
	const char *end = p + n;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *le = eol ? eol : end;
		size_t start = out->n;
		bool blank = false;
		for (const char *q = p; q < le; q++) {
			if (*q == ' ' || *q == '\t') {
				blank = true;
				continue;
			}
			if (blank)
				buf_addc(out, ' ');
			blank = false;
			buf_addc(out, *q);
		}
		bool empty = out->n == start;
		buf_add(out, "\r\n", 2);
		if (!empty)
			keep = out->n;
		p = eol ? eol + 2 : end;
	}
	out->n = keep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned cut = data[0] | 1u; /* piece lengths come from this */
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	uint8_t whole[SHA256_DIGEST_SIZE], pieces[SHA256_DIGEST_SIZE], ref[SHA256_DIGEST_SIZE];
	struct dkim_body b;
	dkim_body_init(&b);
	dkim_body_update(&b, p, n);
	dkim_body_final(&b, whole);

	dkim_body_init(&b);
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t len = 1 + (cut * (k + 7)) % 29;
		if (len > n - off)
			len = n - off;
		if (k % 2) {
			struct buf store = BUF_INIT;
			struct dkim_piece pc;
			dkim_piece_prepare(p + off, len, &store, &pc);
			dkim_body_update_piece(&b, p + off, len, &pc, buf_cstr(&store) + pc.off);
			buf_free(&store);
		} else {
			dkim_body_update(&b, p + off, len);
		}
		off += len;
	}
	dkim_body_final(&b, pieces);

	struct buf canon = BUF_INIT;
	reference(p, n, &canon);
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, canon.n, (const uint8_t *)buf_cstr(&canon));
	sha256_digest(&c, SHA256_DIGEST_SIZE, ref);
	buf_free(&canon);

	REQUIRE(memcmp(whole, ref, sizeof ref) == 0);
	REQUIRE(memcmp(pieces, ref, sizeof ref) == 0);
	return 0;
}
