/* Transports: where composed messages go.  One interface, two kinds:
 *   smtp://host[:port], smtps://host[:port]   libcurl, N parallel reused connections
 *   maildir:PATH                               PATH/new, atomically (tmp → new)
 *
 * The campaign drives a transport asynchronously:
 *     while (work) {
 *         while (transport_capacity(t) > 0 && next job) transport_submit(t, job);
 *         rc = transport_wait(t, timeout_ms, extra_fd, on_done, ctx);
 *     }
 * A job's message and strings must stay valid until on_done is called for it.
 * Every submitted job is completed exactly once, with an outcome.
 */
#ifndef LB_TRANSPORT_H
#define LB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "compose/message.h"
#include "core/config.h"
#include "core/err.h"

enum outcome_kind {
	OUT_SENT,      /* 2xx after DATA (or written to the Maildir) */
	OUT_DEFERRED,  /* 4xx for this recipient: try again later */
	OUT_FAILED,    /* 5xx for this recipient: never again */
	OUT_UNCERTAIN, /* the whole message went out but no reply came: may have been delivered */
	OUT_NOT_SENT,  /* never reached the point of delivery (connection lost before or during
			  DATA, campaign stopped): send it again, it does not count as an attempt */
};

struct outcome {
	enum outcome_kind kind;
	int code;	 /* SMTP reply code, 0 when there was none */
	char status[16]; /* enhanced status code "5.1.1" when the server gave one, else "" */
	char text[256];	 /* the server's reply (one line, control characters removed) */
};

struct tx_job {
	const struct message *msg; /* the bytes: msg->iov / msg->niov */
	const char *mail_from;	   /* envelope sender (may be "" for the null sender) */
	const char *rcpt;	   /* envelope recipient */
	void *user;		   /* the caller's, handed back in on_done */
	/* NULL, or the gate before the point of no return, which the transport
	 * may call from its own thread.  With wait true it is called when all
	 * but the commit has been done (SMTP: all the data sent but its last
	 * byte, so the server cannot have accepted the message; Maildir: the
	 * file written to tmp/, before the rename into new/) and may block:
	 * true = deliver, false = abandon the job (OUT_NOT_SENT).  With wait
	 * false it must not block, and says whether the gate is open already
	 * (then SMTP sends the message in one piece).  The sender waits here
	 * until the job's attempt record is durable, so that the journal's
	 * fsync overlaps the transfer instead of preceding it. */
	bool (*commit)(struct tx_job *job, bool wait);
};

/* An outcome's reason for people: the server's reply text already starts
 * with its code and enhanced status ("452 4.5.3 Too many recipients"), so
 * they are put in front only when the text lacks them (status NULL or "-":
 * none).  Appends to out. */
void outcome_reason(struct buf *out, int code, const char *status, const char *text);

typedef void (*tx_done_fn)(void *ctx, struct tx_job *job, const struct outcome *o);

struct transport;

struct transport_opts {
	const struct endpoint *ep; /* url, credentials, tls, ca_file, connections, rate */
	const char *site_dir; /* relative paths (maildir, password_file, ca_file) resolve here */
	long timeout_s;	      /* per SMTP command (0: 60); ep->timeout, if set, wins */
};

/* Open a transport (for SMTP: nothing is connected yet).  Bad URLs, an
 * unreadable or group/other-readable password file, a missing password_env
 * variable: LB_ECONFIG.  smtp:// means STARTTLS, required, unless the host is
 * loopback (then used when offered) or `tls: none` (never); certificates are
 * always verified.  A password without TLS to a host that is not loopback:
 * LB_ECONFIG. */
int transport_open(const struct transport_opts *o, struct transport **t, struct lb_err *err);
/* What transport_open checks before it creates or connects anything (the
 * same code): the URL, the password file or variable, a password only over
 * TLS, the CA file.  For `check`. */
int transport_check(const struct transport_opts *o, struct lb_err *err);

/* How many more jobs may be submitted now: SMTP takes one being sent and one
 * queued per connection (so a connection goes straight on to its next
 * message); 0 when they are all taken or the rate limit says wait. */
size_t transport_capacity(struct transport *t);

/* Start a job.  Only call when transport_capacity() > 0. */
void transport_submit(struct transport *t, struct tx_job *job);

/* Jobs in flight. */
size_t transport_busy(const struct transport *t);

/* Drive I/O for up to timeout_ms (returns earlier when something completed,
 * extra_fd, if >= 0, became readable, or capacity that was 0 came back: a
 * rate-limit token, the end of a back-off), calling on_done for every
 * finished job.
 * Returns 0, or a campaign-stopping error: LB_EUNAVAIL (cannot connect, TLS
 * failure, a greeting or EHLO reply that is not SMTP, or no valid reply to
 * the final "." of two messages in a row or of connections + 1 in all: so
 * that a stalled server leaves at most 2 x connections uncertain per
 * transport, as a crash would), LB_ECONFIG (authentication refused,
 * certificate not trusted).
 * After such an error every job in flight has been completed as OUT_NOT_SENT
 * (or OUT_UNCERTAIN if its data had been sent completely, or with its real
 * outcome if it finished before it could be stopped).  SMTP: each connection
 * is a worker thread with its own session (deliver/smtp.c); on_done is only
 * ever called from here, in the caller's thread. */
int transport_wait(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done, void *ctx,
		   struct lb_err *err);

/* Close connections (QUIT) and free.  NULL is fine. */
void transport_close(struct transport *t);

/* Transport-specific back ends, used by transport_open (deliver/transport.c). */
int smtp_open(const struct transport_opts *o, struct transport **t, struct lb_err *err);
int smtp_check(const struct transport_opts *o, struct lb_err *err);
int maildir_out_open(const struct transport_opts *o, struct transport **t, struct lb_err *err);

/* The vtable each back end fills in (struct transport's first member). */
struct transport_ops {
	size_t (*capacity)(struct transport *t);
	void (*submit)(struct transport *t, struct tx_job *job);
	size_t (*busy)(const struct transport *t);
	int (*wait)(struct transport *t, int timeout_ms, int extra_fd, tx_done_fn on_done,
		    void *ctx, struct lb_err *err);
	void (*close)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
};

/* Read the password for an endpoint from password_file (must be 0600 or
 * stricter, owned by us) or password_env.  *out NULL when neither is set.
 * Caller frees (and should wipe) *out. */
int endpoint_password(const struct endpoint *ep, const char *site_dir, char **out,
		      struct lb_err *err);

/* True when url's host is 127.0.0.0/8, ::1 or "localhost". */
bool url_host_is_loopback(const char *url);

#endif
