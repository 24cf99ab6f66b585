/* Every read from an IMAP server ends: on data, end of file, an error or a
 * timeout.
 *
 * libetpan's plain-socket driver returns 0 at end of file, and its IMAP
 * parser reads a literal in a loop that subtracts what each read returned
 * until the literal is complete: a server that closes in the middle of a
 * literal makes it spin for ever on a socket in CLOSE-WAIT.  The guard sits
 * between the mailstream and its low-level driver and turns end of file into
 * an error (-1), which every libetpan caller handles, and remembers why the
 * last read failed, for messages.  Timeouts are the driver's own (the
 * timeout given to mailimap_set_timeout before connecting, applied to every
 * wait for data); the guard only tells them from other errors.
 */
#ifndef LB_IMAP_STREAM_H
#define LB_IMAP_STREAM_H

#include <libetpan/libetpan.h>

enum stream_end {
	STREAM_OPEN,	/* no read has failed */
	STREAM_EOF,	/* the server closed the connection */
	STREAM_TIMEOUT, /* nothing arrived within the timeout */
	STREAM_ERROR,	/* any other failure (reset, TLS error, ...) */
};

/* Put the guard under st (connected, timeout_s its driver's timeout).
 * Returns 0, or -1 when out of memory (st is then unchanged).  The guard is
 * freed with the stream. */
int imap_stream_guard(mailstream *st, long timeout_s);

/* Why the last read on st failed; STREAM_OPEN when none has, or when st has
 * no guard. */
enum stream_end imap_stream_end(mailstream *st);

#endif
