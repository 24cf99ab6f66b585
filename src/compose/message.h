/* Newsletter messages: an article made into the exact bytes each subscriber
 * receives.
 *
 * newsletter_prepare() does all the work that is the same for everyone, once
 * per campaign: front matter and Markdown rendered to HTML and text, the
 * templates bound, every static piece quoted-printable encoded, the static
 * header fields encoded, the DKIM keys loaded (when letterbox.yaml has
 * `dkim:`).  newsletter_compose() then only fills the personal
 * holes (name, token, unsubscribe links) and assembles the message as an
 * iovec over the shared pieces and a small per-recipient buffer: no copy of
 * the article per recipient, so composing costs microseconds and memory does
 * not grow with the list.
 *
 * The message: one recipient in To; From, Reply-To, Subject, Date,
 * Message-ID <slug.token.stamp@from-domain>, List-Id, List-Unsubscribe
 * (+ List-Unsubscribe-Post when an https URL is configured), Precedence: bulk,
 * Auto-Submitted: auto-generated, MIME-Version, multipart/alternative with
 * text/plain then text/html, UTF-8, quoted-printable.  CRLF, 7-bit, no line
 * over 78 octets.
 */
#ifndef LB_MESSAGE_H
#define LB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <time.h>

#include "compose/article.h"
#include "compose/template.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/token.h"

/* One person a message is addressed to. */
struct recipient {
	const char *email;	 /* validated ASCII addr-spec */
	const char *name;	 /* display name, may be NULL */
	const struct kv *fields; /* other list keys, as subscriber.KEY */
	size_t nfields;
};

struct newsletter; /* opaque: the prepared campaign */

/* Prepare article a for sending from site cfg.  stamp is the campaign's time
 * (it goes into Message-IDs and the multipart boundary).  Template and
 * Markdown problems are LB_EDATA naming the file; a DKIM key that cannot be
 * used, LB_ECONFIG (dkim_open).  nl borrows cfg, a and s:
 * they must outlive it. */
int newsletter_prepare(const struct config *cfg, const struct article *a, const struct secret *s,
		       time_t stamp, struct newsletter **nl, struct lb_err *err);
void newsletter_free(struct newsletter *nl);
/* A test send's subject: PREFIX then the article's title (send --to). */
void newsletter_subject_prefix(struct newsletter *nl, const char *prefix);

/* The rendered parts, as the templates produced them before encoding, for
 * preview files: HTML with a placeholder recipient filled in. */
int newsletter_render_parts(struct newsletter *nl, const struct recipient *r, struct buf *html,
			    struct buf *text, struct lb_err *err);

struct dkim;
struct dkim_piece;

struct msg_seg {
	const char *p; /* shared piece, or NULL: `off` into the message's own buffer */
	size_t off, n;
	/* A shared piece's preparation for the DKIM body hash (dkim.h), or NULL. */
	const struct dkim_piece *dk;
	const char *dk_canon;
};

/* The DKIM part of a message: its body hash is taken while compose splices
 * the body; the signature is made by message_seal, on the transport's
 * thread (compose/dkim.h). */
struct message_dkim {
	const struct dkim *signer;
	time_t when;
	unsigned char bh[32];
	struct buf fields; /* the DKIM-Signature fields, once sealed */
	bool sealed;
};

struct message {
	struct buf head;    /* header fields, per recipient */
	struct buf own;	    /* per-recipient body pieces, encoded */
	struct buf scratch; /* working space */
	struct msg_seg *seg;
	size_t nseg, segcap;
	struct iovec *iov; /* valid after compose, until the next compose; iov[0] is
			      the DKIM-Signature fields (empty until message_seal) */
	size_t niov, iovcap;
	size_t size;		   /* total octets, without the DKIM-Signature fields */
	struct message_dkim *dkim; /* NULL: not signed */
	char token[TOKEN_LEN + 1];
	struct buf envelope_from;	    /* MAIL FROM: bounce_to (VERP) or the From address */
	struct buf message_id;		    /* without angle brackets */
	struct buf unsub_url, unsub_mailto; /* this recipient's unsubscribe links */
};

void message_init(struct message *m);
void message_free(struct message *m);

/* Compose the message for r, sent at time now, into m (reusing its memory).
 * Fails only on a template hole that has no value source (a bug). */
int newsletter_compose(struct newsletter *nl, const struct recipient *r, time_t now,
		       struct message *m, struct lb_err *err);

/* Make m a message of the finished bytes raw[0..n) (copied): for mails
 * letterbox composes whole, such as replies and alerts. */
void message_from_bytes(struct message *m, const char *raw, size_t n);

/* Sign m, if its newsletter signs and it is not signed yet: the
 * DKIM-Signature fields go in front (iov[0]).  Called by the transports,
 * on their worker threads (a message is in one thread's hands at a time),
 * and by message_flatten and message_write; m is const for the caller's
 * sake, only its dkim part changes.  LB_ESOFTWARE when the crypto library
 * fails. */
int message_seal(const struct message *m, struct lb_err *err);

/* For message.c: the iovec over head and segments, with the body hashed
 * on the way when m->dkim is set (one pass: the body is never flattened). */
void message_build_iov(struct message *m);

/* Append the whole message to out (for previews and tests); sealed first
 * (a signing failure leaves it unsigned: only a broken crypto library). */
void message_flatten(const struct message *m, struct buf *out);
/* Write the whole message to fd, sealed first; LB_EIO on failure. */
int message_write(const struct message *m, int fd, struct lb_err *err);

/* For `letterbox check`: answer TPL_VALUE or TPL_LATER for every name a
 * newsletter template may use, TPL_UNKNOWN otherwise.  ctx is a
 * `struct template_names` describing what the site offers. */
struct template_names {
	const char *const *article_keys;    /* extra front-matter keys seen, NULL-terminated */
	const char *const *subscriber_keys; /* extra list keys seen, NULL-terminated */
};
enum tpl_lookup_result newsletter_known_name(void *ctx, struct span name, struct span *value);

#endif
