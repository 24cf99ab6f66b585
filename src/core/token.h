/* Per-recipient tokens: who a reply, bounce or unsubscribe is about.
 *
 * token = base32 (lower case, RFC 4648 alphabet) of the first 10 bytes of
 * HMAC-SHA256(site secret, list_id NUL lower-cased address): 16 characters,
 * safe in URLs and in local parts (case-insensitive, so MTAs that fold case
 * in VERP addresses do not break it), 80 bits against forgery.  A token does
 * not reveal the address; the poller finds it by recomputing tokens for the
 * addresses letterbox knows and comparing.
 *
 * The secret is 32 random bytes, kept hex-encoded in state/secret (0600),
 * created on first use.
 */
#ifndef LB_TOKEN_H
#define LB_TOKEN_H

#include <nettle/hmac.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"

#define TOKEN_LEN  16
#define SECRET_LEN 32

struct secret {
	unsigned char key[SECRET_LEN];
};

/* Load state_dir/secret; with create, make it (and state_dir, 0700) when it
 * does not exist.  A secret file that is not 64 hex digits is LB_EDATA; one
 * readable by group or others is refused (LB_ECONFIG). */
int secret_load(const char *state_dir, bool create, struct secret *s, struct lb_err *err);

/* Many tokens of one list at a time (finding whose a token is means making
 * every known address's): the key and list_id are absorbed once, so each
 * token costs two SHA-256 blocks, not six and an allocation. */
struct token_maker {
	struct hmac_sha256_ctx ctx;
};
void token_maker_init(struct token_maker *m, const struct secret *s, const char *list_id);
/* The same token as token_make(s, list_id, address). */
void token_maker_make(const struct token_maker *m, const char *address, char out[TOKEN_LEN + 1]);

/* out receives TOKEN_LEN characters and a NUL. */
void token_make(const struct secret *s, const char *list_id, const char *address,
		char out[TOKEN_LEN + 1]);

/* Whether the n bytes at p have a token's shape (TOKEN_LEN characters of
 * the base32 alphabet, either case); if so out gets it lower-cased, as
 * token_make writes it, and a NUL.  What a URL or an address part brings is
 * checked with this before any look-up. */
bool token_parse(const char *p, size_t n, char out[TOKEN_LEN + 1]);

/* Constant-time comparison of token against the one for (list_id, address);
 * case-insensitive. */
bool token_verify(const struct secret *s, const char *list_id, const char *address,
		  const char *token);

/* Confirmation tokens (sign-up with double opt-in): a separate kind, never
 * taken for a recipient token (its HMAC input starts with its own label,
 * and it has another shape).  It carries what the confirmation needs, so
 * nothing is stored until the person confirms:
 *
 *     token = base64url(payload) "." base64url(first 16 bytes of
 *             HMAC-SHA256(secret, "letterbox confirm v1" NUL payload))
 *     payload = requested LF source LF list LF address LF name LF ip LF consent
 *
 * (requested: decimal seconds; source "web" or "mail"; name and ip may be
 * empty; consent: the consent text's hash, hex).  Made of [A-Za-z0-9_.-],
 * so it is one URL path segment.  It is valid for CONFIRM_TTL seconds. */
#define CONFIRM_TTL (7L * 86400)

struct confirm_req {
	time_t requested;
	char *source;  /* "web" or "mail" */
	char *list;    /* the list id */
	char *address; /* addr-spec */
	char *name;    /* "" when none */
	char *ip;      /* where the request came from; "" when unknown */
	char *consent; /* hex SHA-256 prefix of the consent text (consent_hash) */
};

/* The token for r, or NULL when a field holds a line break (so that the
 * payload could not be split back the same way).  Caller frees. */
char *confirm_token_make(const struct secret *s, const struct confirm_req *r);

enum confirm_check {
	CONFIRM_OK,
	CONFIRM_FORGED,	 /* not ours, altered, or not a token at all */
	CONFIRM_EXPIRED, /* ours, but older than CONFIRM_TTL (or issued in the future) */
};

/* Check token (a constant-time MAC comparison first) and, when it is ours,
 * fill *out (also for CONFIRM_EXPIRED; free with confirm_req_free). */
enum confirm_check confirm_token_parse(const struct secret *s, const char *token, time_t now,
				       struct confirm_req *out);
void confirm_req_free(struct confirm_req *r);

/* The hash a consent record keeps of the consent text: the first 128 bits of
 * its SHA-256, as 32 hex digits and a NUL. */
void consent_hash(const char *text, char out[33]);

#endif
