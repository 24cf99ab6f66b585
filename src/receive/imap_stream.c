/* The read guard under a libetpan mailstream (imap_stream.h): a low-level
 * driver that forwards everything to the driver it wraps (plain socket or
 * TLS), except that a read returning 0 for a non-empty buffer (end of file)
 * fails instead, and that after a failed read or write every read and write
 * fails at once: the stream is broken, and each retry would cost another
 * timeout. */
#include "receive/imap_stream.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/mem.h"

struct guard {
	mailstream_low *inner;
	long timeout_s;
	enum stream_end end;
};

static struct guard *guard_of(mailstream_low *s)
{
	return s->data;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Why a read or write that began at t0 returned -1.  The drivers return -1
 * for a timeout as for any error (errno is not set by an expired poll):
 * tell them apart by the time taken.  The TLS driver returns -1 at end of
 * file too (a server that closes without close_notify): a peek at the
 * socket tells that apart. */
static enum stream_end failure(struct guard *g, double t0)
{
	if (now_s() - t0 >= (double)g->timeout_s - 0.05)
		return STREAM_TIMEOUT;
	int fd = mailstream_low_get_fd(g->inner);
	char c;
	if (fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		return STREAM_EOF;
	return STREAM_ERROR;
}

static ssize_t guard_read(mailstream_low *s, void *buf, size_t count)
{
	struct guard *g = guard_of(s);
	if (g->end != STREAM_OPEN) /* libetpan may read again after a failure */
		return -1;
	double t0 = now_s();
	ssize_t r = mailstream_low_read(g->inner, buf, count);
	if (r > 0 || count == 0)
		return r;
	g->end = r == 0 ? STREAM_EOF : failure(g, t0);
	return -1;
}

static ssize_t guard_write(mailstream_low *s, const void *buf, size_t count)
{
	struct guard *g = guard_of(s);
	if (g->end != STREAM_OPEN)
		return -1;
	double t0 = now_s();
	ssize_t r = mailstream_low_write(g->inner, buf, count);
	if (r < 0)
		g->end = failure(g, t0);
	return r;
}

static int guard_close(mailstream_low *s)
{
	return mailstream_low_close(guard_of(s)->inner);
}

static int guard_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(guard_of(s)->inner);
}

static void guard_free(mailstream_low *s)
{
	struct guard *g = guard_of(s);
	mailstream_low_free(g->inner);
	free(g);
	free(s); /* as libetpan's own drivers do: mailstream_low_free leaves it to us */
}

static void guard_cancel(mailstream_low *s)
{
	mailstream_low_cancel(guard_of(s)->inner);
}

static struct mailstream_cancel *guard_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(guard_of(s)->inner);
}

static carray *guard_get_certificate_chain(mailstream_low *s)
{
	return mailstream_low_get_certificate_chain(guard_of(s)->inner);
}

/* IDLE: the socket driver has its own interruptible wait, the TLS one has
 * not (these return -1 then, and mailstream falls back to select()). */
static int guard_setup_idle(mailstream_low *s)
{
	return mailstream_low_setup_idle(guard_of(s)->inner);
}

static int guard_unsetup_idle(mailstream_low *s)
{
	return mailstream_low_unsetup_idle(guard_of(s)->inner);
}

static int guard_interrupt_idle(mailstream_low *s)
{
	return mailstream_low_interrupt_idle(guard_of(s)->inner);
}

static mailstream_low_driver guard_driver = {
    .mailstream_read = guard_read,
    .mailstream_write = guard_write,
    .mailstream_close = guard_close,
    .mailstream_get_fd = guard_get_fd,
    .mailstream_free = guard_free,
    .mailstream_cancel = guard_cancel,
    .mailstream_get_cancel = guard_get_cancel,
    .mailstream_get_certificate_chain = guard_get_certificate_chain,
    .mailstream_setup_idle = guard_setup_idle,
    .mailstream_unsetup_idle = guard_unsetup_idle,
    .mailstream_interrupt_idle = guard_interrupt_idle,
};

int imap_stream_guard(mailstream *st, long timeout_s)
{
	mailstream_low *inner = mailstream_get_low(st);
	struct guard *g = xcalloc(1, sizeof *g);
	mailstream_low *outer = inner ? mailstream_low_new(g, &guard_driver) : NULL;
	if (!outer) {
		free(g);
		return -1;
	}
	*g = (struct guard){.inner = inner, .timeout_s = timeout_s, .end = STREAM_OPEN};
	mailstream_low_set_timeout(outer, mailstream_low_get_timeout(inner));
	mailstream_set_low(st, outer);
	return 0;
}

enum stream_end imap_stream_end(mailstream *st)
{
	mailstream_low *low = st ? mailstream_get_low(st) : NULL;
	if (!low || low->driver != &guard_driver)
		return STREAM_OPEN;
	return guard_of(low)->end;
}
