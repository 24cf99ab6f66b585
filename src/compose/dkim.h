/* DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463)
 * on every mail letterbox sends, when letterbox.yaml has a `dkim:` section.
 *
 * Canonicalisation relaxed/relaxed.  Signed header fields, each as often as
 * the message has it: From, To, Subject, Date, Message-ID, MIME-Version,
 * Content-Type, List-Id, List-Unsubscribe, List-Unsubscribe-Post (RFC 8058
 * wants the last two signed for one-click); From once more than it occurs
 * ("oversigned": nobody can add a second From).  With two keys configured
 * (an RSA and an Ed25519 one, as RFC 8463 recommends while verifiers catch
 * up) every message gets two DKIM-Signature fields.  The crypto is GnuTLS
 * (RSA PKCS#1 v1.5, Ed25519) and nettle (SHA-256, base64); only the
 * canonicalisation is ours.
 *
 * Two ways in:
 *   - dkim_sign(): a finished message in a buffer gets its signature fields
 *     put in front.  For mails composed whole (replies, acknowledgements,
 *     alerts, digests, confirmations); deliver/notify.h's mail_send_now()
 *     already calls it, so mails sent that way need nothing more.
 *   - dkim_body_*() + dkim_sign_head(): the newsletter path, where the body
 *     is hashed piece by piece while compose splices it (compose/message.c)
 *     and the signature is made later, on the transport's worker thread.
 *
 * A struct dkim may be used by several threads at once (each signature takes
 * a key object of its own from a small pool).
 */
#ifndef LB_DKIM_H
#define LB_DKIM_H

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

struct dkim; /* opaque: the domain and one or two loaded keys */

/* "rsa-sha256" / "ed25519-sha256" → alg; false for anything else. */
bool dkim_alg_parse(const char *name, enum dkim_alg *alg);
const char *dkim_alg_name(enum dkim_alg alg);

/* Load cfg's dkim keys.  *out is NULL (and 0 returned) when cfg has no
 * `dkim:` section.  A key file that is missing, not a regular file of ours,
 * readable by group or others (it must be 0600; in a shared-group state/,
 * core/fsx.h, 0640 and the group's, owned by either user), not a PEM private key, or
 * of another kind than `algorithm` says: LB_ECONFIG naming the file.
 * Free with dkim_free (NULL is fine). */
int dkim_open(const struct config *cfg, struct dkim **out, struct lb_err *err);
/* The same from explicit parts (tests, keygen's self-check): PEM key text. */
int dkim_open_pem(const char *domain, const char *selector, enum dkim_alg alg, const char *pem,
		  size_t pem_len, struct dkim **out, struct lb_err *err);
/* Add a second signature (another selector and key) to d. */
int dkim_add_pem(struct dkim *d, const char *selector, enum dkim_alg alg, const char *pem,
		 size_t pem_len, struct lb_err *err);
void dkim_free(struct dkim *d);

/* Sign the finished message msg (header, blank line, body; CRLF line ends)
 * at time now: its DKIM-Signature field(s) are inserted at the front.
 * LB_EDATA when msg has no header/body separator; LB_ESOFTWARE when the
 * crypto library fails.  The one call for mails composed whole. */
int dkim_sign(const struct dkim *d, struct buf *msg, time_t now, struct lb_err *err);

/* dkim_open + dkim_sign + dkim_free: sign msg with cfg's keys; nothing
 * (and 0) when cfg has no `dkim:`.  For a mail of letterbox's own that does
 * not go through mail_send_now (deliver/notify.h), e.g. one written to a
 * file for a later send.  Errors as dkim_open and dkim_sign. */
int dkim_sign_site(const struct config *cfg, struct buf *msg, time_t now, struct lb_err *err);

/* ---- the parts dkim_sign is made of ---------------------------------------------------- */

/* The relaxed body hash, fed in pieces of any size (a CRLF or a run of
 * blanks may straddle two pieces). */
struct dkim_body {
	struct sha256_ctx sha;
	size_t crlfs;	     /* line ends seen but not hashed yet: empty lines at the end are not */
	bool blank;	     /* a run of SP/HTAB seen but not hashed yet */
	bool cr;	     /* the last byte was a CR */
	bool midline;	     /* hashed something since the last line end */
	bool any;	     /* hashed something at all */
	struct buf *capture; /* dkim_piece_prepare's: bytes go here, not to the hash */
	size_t nstage;
	uint8_t stage[4096]; /* canonical bytes not hashed yet */
};
void dkim_body_init(struct dkim_body *b);
void dkim_body_update(struct dkim_body *b, const char *p, size_t n);
void dkim_body_final(struct dkim_body *b, uint8_t hash[SHA256_DIGEST_SIZE]);

/* A piece of body that many messages share (a newsletter's template text),
 * canonicalised once: only its ends depend on what comes before and after
 * it, so per message the ends are canonicalised and the middle, kept in
 * canonical form, is hashed as it is.  This is how the body hash folds into
 * compose/message.c's splice without a scan of the shared bytes. */
struct dkim_piece {
	size_t lead, tail; /* bytes at the start and end: blanks and line ends */
	size_t off, n;	   /* the canonical middle: store->p + off, n bytes (n 0: none) */
};
/* Prepare p[0..n): the canonical middle is appended to store. */
void dkim_piece_prepare(const char *p, size_t n, struct buf *store, struct dkim_piece *pc);
/* The same as dkim_body_update(b, p, n) for a piece prepared as pc whose
 * canonical middle is at canon. */
void dkim_body_update_piece(struct dkim_body *b, const char *p, size_t n,
			    const struct dkim_piece *pc, const char *canon);

/* Make d's DKIM-Signature field(s) for the header section head[0..n)
 * (fields with their CRLFs, without the empty line) and the body hash bh,
 * signed at time now; appended to out, CRLF-terminated, folded under 78
 * octets.  Thread-safe. */
int dkim_sign_head(const struct dkim *d, const char *head, size_t n,
		   const uint8_t bh[SHA256_DIGEST_SIZE], time_t now, struct buf *out,
		   struct lb_err *err);

/* ---- keys and DNS --------------------------------------------------------------------- */

/* A new private key for alg (RSA: 2048 bits) as PKCS#8 PEM in pem, and the
 * TXT record's text to publish at SELECTOR._domainkey.DOMAIN in record
 * ("v=DKIM1; k=rsa; p=..."). */
int dkim_keygen(enum dkim_alg alg, struct buf *pem, struct buf *record, struct lb_err *err);

/* The public key of d's signature i (0 or 1) as the p= value of its DNS
 * record (base64), with its selector and algorithm; false when there is no
 * signature i. */
bool dkim_public(const struct dkim *d, size_t i, struct buf *p, const char **selector,
		 enum dkim_alg *alg);
const char *dkim_domain(const struct dkim *d);

#endif
