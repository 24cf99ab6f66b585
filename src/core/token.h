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

#include <stdbool.h>
#include <stddef.h>

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

#endif
