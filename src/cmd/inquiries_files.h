/* Reading what an inquiry's conversation holds (cmd/inquiries_files.c): a
 * reply copy decoded, and an attachment saved to a file (the conversation's
 * order and the attachment itself: triage/conv.h).  Called by cmd/inquiries.c
 * once the command line is parsed; each prints what it did and returns an
 * exit code.
 */
#ifndef LB_INQUIRIES_FILES_H
#define LB_INQUIRIES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cmd/cmd.h"
#include "store/inquiries.h"
#include "triage/conv.h"

/* show N --copy K: reply copy k decoded (From, To, Date, Subject, then its
 * text in UTF-8), made safe for the terminal; raw: the source as sent. */
int inquiries_copy(struct cli *g, const struct inquiry *q, unsigned k, bool raw);

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
