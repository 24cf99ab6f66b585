/* An inquiry's conversation: its first message (the record's own), then
 * every later message that joined it (receive/followup.h says which do) and
 * the mails letterbox sent about it (replies, acknowledgements).
 *
 * The store keeps them as rows of their own (inq_thread: not in N's record,
 * so that a record stays small and a new version of it, written by anyone,
 * cannot drop an entry); loading a record gathers them, oldest first, one
 * entry a line, in the record's `thread`.  An entry's fields are separated by tabs:
 *   in<TAB>TIME<TAB>OFF<TAB>LEN<TAB>KEY<TAB>MESSAGE-ID<TAB>FROM
 *       a later message: when it was filed, where its raw bytes are (OFF:
 *       their row in the store), poll's dedupe key (store/pollstate.h), its Message-ID
 *       ("" when it had none) and its sender;
 *   out<TAB>TIME<TAB>MESSAGE-ID<TAB>KIND
 *       a mail of ours (KIND "reply" or "ack"): its Message-ID, so that an
 *       answer to it joins the inquiry.  The reply's text is its copy
 *       (inquiry_copy).
 * A later message is filed like a first one: its raw bytes, its entry, the
 * record's new version when it changed, and the history lines in one
 * transaction, so a crash leaves all or nothing, and the entry's key tells
 * the next poll that it was filed.
 */
#ifndef LB_CONVERSATION_H
#define LB_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/inquiries.h"

enum conv_dir { CONV_IN, CONV_OUT };

struct conv_msg {
	enum conv_dir dir;
	time_t when;
	long long off; /* CONV_IN: where its raw bytes are */
	size_t len;
	char *key;	  /* CONV_IN: its dedupe key */
	char *message_id; /* NULL when it had none */
	char *from;	  /* CONV_IN: its sender; CONV_OUT: "reply" or "ack" */
};

/* q's thread entries, oldest first (entries that cannot be read are
 * skipped); free with conv_msgs_free. */
struct conv_msg *conv_msgs(const struct inquiry *q, size_t *n);
void conv_msgs_free(struct conv_msg *v, size_t n);

/* A history line to write together with a change. */
struct inq_note {
	const char *what, *detail;
};

/* File raw[0..n) as a later message of q's conversation: m gives when,
 * key, message_id and from (dir, off and len are set here).  Its entry joins
 * q's thread; with save, q as the caller changed it (status, priority) is
 * stored too; the notes go into the history (by "letterbox", at m->when);
 * all in one transaction.  A caller that changes q holds the lock that
 * read-modify-writes of records take (state/lock.inquiries).  Durable when
 * it returns 0 (unless syncing is deferred, see fsx.h). */
int inquiry_add_message(const char *state_dir, struct inquiry *q, struct conv_msg *m,
			const char *raw, size_t n, bool save, const struct inq_note *notes,
			size_t nnotes, struct lb_err *err);

/* Note a mail of ours (kind "reply" or "ack") sent about q at when in its
 * thread (stored at once; q->thread follows).  A NULL
 * message_id notes nothing. */
int inquiry_note_sent(const char *state_dir, struct inquiry *q, time_t when, const char *message_id,
		      const char *kind, struct lb_err *err);

/* Append a CONV_IN message's raw bytes to out. */
int conv_msg_raw(const char *state_dir, const struct conv_msg *m, struct buf *out,
		 struct lb_err *err);

/* When the conversation last had a message, either way (at least
 * q->received). */
time_t inquiry_last_message(const struct inquiry *q);

#endif
