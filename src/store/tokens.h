/* Which address a per-recipient token (core/token.h) stands for.
 *
 * A token does not reveal its address: it is found by recomputing the
 * tokens of every address letterbox knows and comparing.  Those are
 * everyone on a list file now, and everyone any campaign was sent to (its
 * recipients snapshot, state/campaigns/SLUG/recipients): people leave lists,
 * and their replies, bounces and unsubscribe clicks still arrive.
 *
 * Two forms over the same enumeration: tokens_find() for one look-up (the
 * web's /u/TOKEN: it stops at the first match and keeps nothing), and a
 * token_index for many (a poll filing hundreds of messages).  Both cost one
 * HMAC per known address; see README "The web side" for figures.
 */
#ifndef LB_TOKENS_H
#define LB_TOKENS_H

#include <stddef.h>

#include "core/config.h"
#include "core/token.h"

/* Call fn for each address letterbox knows: each campaign's recipients
 * (newest campaign first), then the list files' entries (in file order,
 * lists sorted by name), each address (as spelled) once.  A non-zero return from fn stops the
 * walk and is returned.  A list file or snapshot that cannot be read is left out (a snapshot with a
 * warning): its people's tokens stay unknown, so a report of theirs acts on nobody. */
typedef int (*tokens_address_fn)(void *ctx, const char *address);
int tokens_each_address(const struct config *cfg, tokens_address_fn fn, void *ctx);

/* The address whose token (for cfg->list_id) is token, or NULL when none
 * is (or token has not a token's shape, token_parse); token is compared
 * case-insensitively.  Caller frees. */
char *tokens_find(const struct config *cfg, const struct secret *s, const char *token);

/* token -> address for every known address, built once. */
struct token_index;
struct token_index *token_index_build(const struct config *cfg, const struct secret *s);
/* The address for token (lower-case, as token_make writes it), or NULL.
 * Valid until token_index_free. */
const char *token_index_get(const struct token_index *ix, const char *token);
/* How many distinct tokens it holds. */
size_t token_index_size(const struct token_index *ix);
void token_index_free(struct token_index *ix);

#endif
