/* Reading what an inquiry's conversation holds (cmd/inquiries_files.c):
 * its messages in the order `inquiries show` numbers them, a reply copy
 * decoded, and an attachment saved to a file.  Called by cmd/inquiries.c
 * once the command line is parsed; each prints what it did and returns an
 * exit code.
 */
#ifndef LB_INQUIRIES_FILES_H
#define LB_INQUIRIES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/err.h"
#include "receive/parse.h"
#include "store/conversation.h"
#include "store/inquiries.h"

/* One message of a conversation: the first (copy 0, thread NULL), a later
 * one (thread, pointing into the conv_msg array), or a reply sent (copy
 * K); seq: the order it was stored in. */
struct conv_item {
	time_t when;
	size_t seq;
	const struct conv_msg *thread;
	unsigned copy;
};

/* q's conversation in the order it happened, as `inquiries show` numbers it
 * (1: always the first message).  *v and *nv receive the thread entries the
 * items point into (free with conv_msgs_free); the items array is the
 * caller's to free. */
struct conv_item *conv_items(const char *state_dir, const struct inquiry *q, size_t *k,
			     struct conv_msg **v, size_t *nv);

/* Append item it's raw message to raw (first: the first message's bytes). */
int conv_item_raw(const char *state_dir, const struct inquiry *q, const struct conv_item *it,
		  const struct buf *first, struct buf *raw, struct lb_err *err);

/* show N --copy K: reply copy k decoded (From, To, Date, Subject, then its
 * text in UTF-8), made safe for the terminal; raw: the source as sent. */
int inquiries_copy(struct cli *g, const struct inquiry *q, unsigned k, bool raw);

/* The attachment `which` ("K", or "M.K": of message M of q's conversation)
 * parsed into *m (m->att_bytes: its decoded bytes; inmsg_free it, also on an
 * error) and the file name it is saved under into name:
 * inquiry-N-attachment-K.EXT (inquiry-N-M-attachment-K.EXT for M > 1), EXT
 * from the declared name or type ([a-z0-9]{1,8}, else "bin"): never the name
 * the message gives.  LB_EUSAGE for a bad which, LB_ENOINPUT when there is
 * no such message or attachment.  The staff pages serve it the same way. */
int inquiry_attachment_get(const char *state, const struct inquiry *q, const char *which,
			   struct inmsg *m, struct buf *name, struct lb_err *err);

/* attachment N K [--out FILE]: the K-th attachment ("M.K": of message M of
 * the conversation; K alone: of the first message) decoded into FILE, or
 * by default ./inquiry-N-attachment-K.EXT (inquiry-N-M-attachment-K.EXT for
 * M > 1), EXT from the declared name or type ([a-z0-9]{1,8}, else "bin").
 * The name the message gives is never used as a path.  Written 0600,
 * atomically; an existing file is never replaced (LB_EDATA).  No such
 * attachment or message: LB_ENOINPUT; a bad number: LB_EUSAGE. */
int inquiries_attachment(struct cli *g, const char *number, const char *which, const char *out,
			 const char *usage);

#endif
