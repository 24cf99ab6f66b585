/* What the poller remembers between runs, in the indexed store (store/db.h):
 *   poll_seen          a row per message handled: key, kind, when, ref;
 *                      key = "mid:<Message-ID> <digest>" or "sha:<SHA-256 of
 *                      the raw bytes>"; the latest record of a key wins
 *   poll_seen_legacy   the records from before keys had digests ("mid:ID"),
 *                      by key and ref (pollstate_key says why)
 *   poll_cursors       per mailbox (pollstate_cursor_name of its URL):
 *                      uidvalidity, last_uid
 *   poll_soft_bounces  address key, message key, when; counted by an index
 *                      on (address, when)
 * Nothing is filed twice: a message whose key is seen, or that an inquiry
 * already carries, is skipped.  Each look-up is one indexed query, so a run's
 * start, memory and per-message cost do not grow with the history.  Records
 * are added with pollstate_mark into one transaction that pollstate_sync
 * commits (the group commit: while fsx_defer_sync is on, fsx_commit makes
 * it durable).  store/pollstate_import.c reads the files of the release
 * before the database (state/poll/seen, cursor.HASH, soft-bounces).
 */
#ifndef LB_POLLSTATE_H
#define LB_POLLSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include <stdint.h>

/* Where the poller is in a mailbox.  For IMAP: UIDVALIDITY and the highest
 * UID handled.  For Maildir the cursor is unused (handled messages leave
 * new/). */
struct cursor {
	uint32_t uidvalidity;
	uint32_t last_uid;
};

struct pollstate;

int pollstate_open(const char *state_dir, const char *source_url, struct pollstate **ps,
		   struct lb_err *err);
/* Close (syncing what is pending). */
int pollstate_close(struct pollstate *ps, struct lb_err *err);

/* What a person sent: what no transport changes on the way.  A message
 * delivered twice, with other Received lines, Delivered-To, spam headers or
 * CRLF line ends, is the same; two messages that reuse a Message-ID (broken
 * clients, web forms, forgers) are not. */
struct sent {
	const char *from, *date, *subject; /* as parsed; NULL when absent */
	const char *body;		   /* the bytes after the header */
	size_t body_n;
};

/* Bytes of SHA-256 in a key's digest: 128 bits, in hex. */
#define KEY_DIGEST_BYTES 16

/* The dedupe key of a message, caller frees:
 *   "mid:ID DIGEST" when it has a Message-ID (blanks and controls in ID as
 *                   "_"); DIGEST: SHA-256 of s's From, Date, Subject and body
 *                   (CRLF as LF, trailing white space dropped), 32 hex digits;
 *   "sha:HASH"      else, SHA-256 of all the raw bytes.
 * Records written before keys had digests ("mid:ID", the legacy key: s NULL
 * gives it) are still read.  Losing a reply is worse than filing one twice,
 * so a message with that ID is a duplicate only where it is provably the
 * message recorded:
 *   an inquiry (filed before digests): the message stored with it has the
 *     same key (see pollstate_remember_inquiry);
 *   a bounce, complaint, unsubscribe or auto-reply (effects that are
 *     idempotent): the record's ref is the one the message is fetched under
 *     (the Maildir file name, "uid:N").
 * Any other message with that ID is new.  Looking a key up is O(1): one hash
 * look-up, and for a legacy inquiry one stored message read, once a run. */
char *pollstate_key(const char *message_id, const struct sent *s, const char *raw, size_t n);

/* Whether the message with key, fetched under ref (its src_msg id; may be
 * NULL), was handled before: its key is logged or remembered, or a legacy
 * record stands for it (pollstate_key). */
bool pollstate_seen(struct pollstate *ps, const char *key, const char *ref);
/* Whether key is in the seen log itself (not only remembered or legacy). */
bool pollstate_logged(const struct pollstate *ps, const char *key);
/* The kind recorded for a seen message ("inquiry", "bounce", …), or NULL. */
const char *pollstate_seen_kind(struct pollstate *ps, const char *key, const char *ref);

struct inquiry;
/* The key (pollstate_key) of a raw message, as the caller parses it (this
 * store does not parse mail); caller frees. */
typedef char *(*pollstate_key_fn)(void *ctx, const char *raw, size_t n);
/* Treat inquiry q, already filed, as seen from now on (without writing
 * anything): a crash between filing it and recording it must not file it
 * again.  By its key; one filed before keys had digests has none, and a
 * message with its Message-ID is a duplicate when its key is that of q's
 * stored message: key_of(ctx, …) computes that when the first such message
 * comes by (the stored message is read then, once; one that cannot be read
 * matches nothing, with a warning).  ctx must outlive the look-ups. */
void pollstate_remember_inquiry(struct pollstate *ps, const struct inquiry *q,
				pollstate_key_fn key_of, void *ctx);
/* Treat a message filed into an inquiry by its key (a later message of a
 * conversation, store/conversation.h) as seen, as above. */
void pollstate_remember_key(struct pollstate *ps, const char *key);
/* Add a record, in the transaction pollstate_sync commits.  A failure is
 * kept and returned by pollstate_sync (which then records none of the
 * batch). */
void pollstate_mark(struct pollstate *ps, const char *key, const char *kind, time_t when,
		    const char *ref);
/* Commit the records marked since the last call (durable at once, or, while
 * fsx_defer_sync is on, with the caller's fsx_commit). */
int pollstate_sync(struct pollstate *ps, struct lb_err *err);

struct cursor pollstate_cursor(const struct pollstate *ps);
/* Store the cursor, in one transaction with the records not yet committed
 * (call it after pollstate_sync and fsx_commit: nothing the server is told
 * before the records that cover it are durable). */
int pollstate_set_cursor(struct pollstate *ps, struct cursor c, struct lb_err *err);

/* The cursor of another mailbox of the same account (the staff's Sent
 * folder, by its URL; {0, 0} when none is stored yet), and storing it. */
int pollstate_cursor_of(const struct pollstate *ps, const char *url, struct cursor *c,
			struct lb_err *err);
int pollstate_set_cursor_of(struct pollstate *ps, const char *url, struct cursor c,
			    struct lb_err *err);

/* Record a soft bounce of address (deduplicated by key) and return how many
 * distinct soft bounces it had in the window ending at when. */
int pollstate_soft_bounce(struct pollstate *ps, const char *address, const char *key, time_t when,
			  long window, size_t *count, struct lb_err *err);

/* The name a mailbox's cursor is stored under: the first 8 bytes of the
 * SHA-256 of its URL in hex (as the release before the database named its
 * file state/poll/cursor.NAME).  Caller frees. */
char *pollstate_cursor_name(const char *url);
/* Whether key is a record from before digests ("mid:ID" without one). */
bool pollstate_legacy_record(const char *key);
/* Rows this process's look-ups and soft-bounce counts have read (tests: the
 * cost of a look-up does not grow with the history). */
unsigned long long pollstate_rows_read(void);

#endif
