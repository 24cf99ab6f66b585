/* Fuzz the receive side: any bytes must parse and classify without a
 * crash, a leak or undefined behaviour, and what comes out must be valid
 * UTF-8 strings that agree with their lengths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receive/charset.h"
#include "receive/classify.h"
#include "receive/followup.h"
#include "receive/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_receive: %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool resolve(void *cb, const char *token, char **address_out)
{
	(void)cb;
	if (strcmp(token, "abcdefghijklmnop") != 0)
		return false;
	*address_out = strdup("ana@example.net");
	return *address_out != NULL;
}

static bool is_subscriber(void *cb, const char *address)
{
	(void)cb;
	return strcmp(address, "ana@example.net") == 0;
}

static void require_text(const char *s)
{
	if (s)
		REQUIRE(utf8_valid(s, strlen(s)));
}

static void require_list(const struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		REQUIRE(l->v[i] && l->v[i][0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const markers[] = {"Center for Relationship and Intimacy Wellbeing",
					      NULL};
	static const char *const words[] = {"panic attack", NULL};
	const struct classify_ctx ctx = {"bounces+{token}@example.org",
					 "unsubscribe+{token}@example.org",
					 "Center <hello+{token}@example.org>",
					 "example.org",
					 resolve,
					 is_subscriber,
					 NULL,
					 words,
					 NULL /* every built-in language */};
	/* Ask for one attachment's bytes, as `inquiries attachment` does. */
	struct parse_opts opts = {markers};
	opts.attachment = 1 + size % 3;
	struct inmsg m;
	struct classification c;

	inmsg_parse((const char *)data, size, &opts, &m);
	REQUIRE(m.text && m.own_text);
	/* Only an attachment that is listed has bytes, never more than came in. */
	REQUIRE(!m.att_bytes || (opts.attachment <= m.natt && m.att_bytes_len <= size));
	REQUIRE(strlen(m.text) == m.text_len && utf8_valid(m.text, m.text_len));
	REQUIRE(strlen(m.own_text) <= m.text_len + 1);
	require_text(m.own_text);
	require_text(m.subject);
	require_text(m.from_name);
	require_text(m.original.subject);
	require_list(&m.to);
	require_list(&m.references);
	for (size_t i = 0; i < m.natt; i++) {
		REQUIRE(m.att[i].content_type);
		require_text(m.att[i].filename);
	}
	for (size_t i = 0; i < m.dsn.nrcpt; i++)
		require_text(m.dsn.rcpt[i].diagnostic);

	/* The crisis matcher on the raw bytes too (any bytes, not only an
	 * inquiry's decoded text), with a configured phrase and exception. */
	static const char *const phrases[] = {"{hit*,kick} ... me", "-hit me with", NULL};
	const char *hit = NULL;
	if (urgent((const char *)data, size, phrases, NULL, &hit))
		REQUIRE(hit && *hit);
	classify_message(&m, &ctx, &c);
	REQUIRE((unsigned)c.kind <= MAIL_SUBSCRIBE && (unsigned)c.severity <= BOUNCE_DELAYED);
	REQUIRE((c.kind == MAIL_BOUNCE) == (c.severity != BOUNCE_NONE));
	REQUIRE(!c.token || c.subscriber);
	REQUIRE(c.reason[0] != '\0' && memchr(c.reason, '\0', sizeof c.reason));
	require_list(&c.addresses);
	classification_free(&c);

	/* The subject a follow-up is matched by: valid UTF-8 in, valid out, and
	 * normalising twice changes nothing. */
	if (m.subject) {
		struct buf once = BUF_INIT, twice = BUF_INIT;
		followup_subject(&once, m.subject);
		REQUIRE(utf8_valid(once.p ? once.p : "", once.n));
		followup_subject(&twice, buf_cstr(&once));
		REQUIRE(once.n == twice.n &&
			memcmp(buf_cstr(&once), buf_cstr(&twice), once.n) == 0);
		buf_free(&once);
		buf_free(&twice);
	}
	inmsg_free(&m);
	return 0;
}
