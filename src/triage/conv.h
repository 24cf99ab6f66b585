/* An inquiry's conversation as `inquiries show` numbers it, each message's
 * raw bytes, and an attachment decoded under a name we make
 * (triage/conv.c): one implementation for the CLI (cmd/inquiries_files.c)
 * and the staff pages (web/staff_inquiry.c). */
#ifndef LB_TRIAGE_CONV_H
#define LB_TRIAGE_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

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

/* The attachment `which` ("K", or "M.K": of message M of q's conversation)
 * parsed into *m (m->att_bytes: its decoded bytes; inmsg_free it, also on an
 * error) and the file name it is saved under into name:
 * inquiry-N-attachment-K.EXT (inquiry-N-M-attachment-K.EXT for M > 1), EXT
 * from the declared name or type ([a-z0-9]{1,8}, else "bin"): never the name
 * the message gives.  LB_EUSAGE for a bad which, LB_ENOINPUT when there is
 * no such message or attachment.  The staff pages serve it the same way. */
int inquiry_attachment_get(const char *state, const struct inquiry *q, const char *which,
			   struct inmsg *m, struct buf *name, struct lb_err *err);

/* Whether which is "K" or "M.K" (each 1..100000): *msg (1 for "K"), *k. */
bool attachment_which_parse(const char *which, unsigned long *msg, unsigned long *k);

#endif
