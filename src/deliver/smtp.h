/* The SMTP back end: its pure parts first, apart from the I/O so that they
 * can be tested without a server (assembling the server's replies line by
 * line, deciding what a finished transfer means for its job,
 * dot-stuffing), then the transport's state shared by smtp.c, smtp_open.c
 * and smtp_session.c.
 */
#ifndef LB_SMTP_H
#define LB_SMTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "deliver/ratelimit.h"
#include "deliver/transport.h"

/* The server's replies, fed line by line (while curl opens a session it
 * passes them to the header callback; after that smtp_session.c reads
 * them).  Only the last complete reply is kept; a multi-line reply's lines
 * are joined with spaces. */
struct smtp_reply {
	int code;	 /* last complete reply, 0 when none yet */
	char status[16]; /* its enhanced status code ("5.1.1") or "" */
	char text[256];	 /* "550 5.1.1 No such user", printable ASCII only */
	char bad[80];	 /* the line that was not SMTP (cleaned, cut), "" when none */
	int cur_code;	 /* the reply being read (multi-line), 0 when none */
	char cur_status[16];
	char cur_text[256];
	size_t cur_n;
};

void smtp_reply_reset(struct smtp_reply *r);

/* smtp_reply_line's answer for a line that is not SMTP. */
enum { SMTP_REPLY_MALFORMED = -1 };

/* Feed one line as the server sent it (with or without CRLF).  Returns the
 * code of the reply this line completes, 0 for a continuation line, or
 * SMTP_REPLY_MALFORMED for a line that is not part of an SMTP reply (RFC
 * 5321, 4.2: three digits, the first 2-5, then " " or "-" or the line's
 * end; every line of a multi-line reply with the same code): a blank line,
 * a line without a code, a reply whose lines disagree on the code.  The
 * line is then in r->bad and the reply being read is dropped; the last
 * complete reply stays.  Nothing a server says after such a line can be
 * trusted to belong to the command it answers: end the connection. */
int smtp_reply_line(struct smtp_reply *r, const char *line, size_t n);

/* What a finished transfer means. */
enum smtp_verdict {
	SMTP_FINAL,	   /* the job's outcome is *kind */
	SMTP_RETRY,	   /* OUT_NOT_SENT: connection lost before the data was complete */
	SMTP_SLOW_DOWN,	   /* OUT_NOT_SENT, and back off: 421 or 454 */
	SMTP_STOP_UNAVAIL, /* stop the campaign: cannot connect, TLS failed, no greeting */
	SMTP_STOP_CONFIG,  /* stop the campaign: authentication refused, certificate untrusted */
};

struct smtp_finish {
	CURLcode result;     /* of the transfer */
	int reply;	     /* last complete reply of this transfer, 0 when none */
	bool new_conn;	     /* the transfer opened a new connection (not a reused one) */
	bool data_complete;  /* the whole message and its final "." had been written */
	bool sender_refused; /* the reply refused MAIL FROM: about us, not the recipient */
	bool malformed;	     /* it ended on a reply that was not SMTP (the connection too) */
	bool opening;	     /* it failed while curl opened the session */
};

/* Classify a finished transfer.  *kind is always set: for the stop and
 * retry verdicts it is OUT_NOT_SENT, or OUT_UNCERTAIN when the data had been
 * sent completely and no valid final reply came.  A reply that is not SMTP
 * stops the campaign while the session opens (greeting, EHLO: every
 * connection would meet it), else the message is retried on a new
 * connection, unless its "." had been sent (then it is uncertain). */
enum smtp_verdict smtp_classify(const struct smtp_finish *f, enum outcome_kind *kind);

/* ---- the transport's state (deliver/smtp.c drives it, smtp_open.c sets it up) ----
 *
 * One worker thread per connection, and a queue of jobs between them and the
 * main thread (the caller of transport_*).  Who may touch what:
 *   the main thread: the fields marked "main", and a struct xfer while it is
 *     free or after a worker put it on the done list;
 *   under smtp.mu: the fields marked so (the queue, the done list, a
 *     worker's idle/held state, closing);
 *   a worker: its easy handle, everything curl's callbacks use, and the
 *     xfer it took from the queue until it puts it on the done list (the
 *     mutex orders its writes before the main thread's reads);
 *   smtp.abort: written by the main thread, read by every worker's progress
 *     callback (atomic).
 */

struct smtp;
struct conn;

/* One message's transfer, from transport_submit to on_done.  There are two
 * per connection: one being sent, one queued behind it (so that the caller
 * can compose the next message while this one goes out). */
struct xfer {
	struct tx_job *job;
	struct xfer *next; /* on the free list (main), the queue or the done list (mu) */
	struct conn *conn; /* the worker that took it */
	/* the worker's while it sends the job */
	bool new_conn;		 /* this transfer opened the session */
	bool data_complete;	 /* the whole message and its "." were written */
	bool refused;		 /* the server refused it (the session is still fine) */
	bool sender_refused;	 /* ... at MAIL FROM */
	bool opening;		 /* it failed while the session was being opened */
	bool malformed;		 /* it ended on a reply that was not SMTP */
	struct smtp_reply reply; /* the last complete reply */
	CURLcode result;	 /* see smtp_session.c */
	char errbuf[CURL_ERROR_SIZE];
};

/* How hard the transfers in flight should stop (smtp.abort). */
enum conn_abort {
	ABORT_NONE,
	ABORT_STOP, /* the campaign stopped: abort unless all the data was handed over
		       (then the server's reply is worth waiting for) */
	ABORT_NOW,  /* abort at once (closing, or the stop took too long) */
};

struct conn {
	struct smtp *s;
	CURL *tmpl;   /* every option set (smtp_open.c); copied for each session */
	CURL *easy;   /* the open session (CURLOPT_CONNECT_ONLY), or NULL */
	size_t index; /* for debug logs */
	pthread_t thread;
	bool thread_started;
	pthread_cond_t wake; /* with smtp.mu: a job, a release, or closing */

	/* main */
	bool paused;	      /* backing off after a "slow down" (and held) */
	double backoff_until; /* paused until then */
	double backoff;	      /* seconds; doubles while the server keeps refusing */

	/* under smtp.mu */
	bool idle; /* waiting for a job: wake it for one */
	bool held; /* its last transfer failed: takes no job until the main thread
		      has judged that (and released it) */

	/* the worker's */
	struct xfer *x;	   /* the transfer in progress, NULL between them */
	bool in_auth;	   /* debug log: hide the AUTH exchange */
	bool url_set;	   /* tmpl has its URL */
	bool pipelining;   /* the session's EHLO offered PIPELINING */
	curl_socket_t fd;  /* the session's socket */
	double idle_since; /* when its last transaction ended */
	struct buf out;	   /* commands, or the dot-stuffed message */
	char in[1024];	   /* replies read, in_off..in_n not parsed yet */
	size_t in_n, in_off;
	char errbuf[CURL_ERROR_SIZE];
};

struct smtp {
	struct transport base;
	/* main */
	struct conn *conns;
	size_t nconns, busy, npaused;
	struct xfer *xfers, *free_xfers; /* 2 per connection */
	struct ratelimit rl;
	char *url;	     /* as configured */
	char *where;	     /* scheme://host:port, for messages (never credentials) */
	char *user;	     /* for messages */
	struct buf ehlo_url; /* set before the first job is queued, then read-only */
	bool url_has_path;   /* the URL names the EHLO domain itself */
	long timeout_s;
	struct lb_err stop;   /* stop.code != 0: stopped, every later wait returns it */
	double stop_deadline; /* after a stop: give in-flight transfers until then */
	double slow_since;    /* first "slow down" since the last delivery, 0 = none */
	unsigned trouble;     /* connection losses since the last delivery */
	unsigned unanswered;  /* messages in a row whose final "." got no valid reply */
	unsigned uncertain;   /* messages with no valid reply to their "." (this transport) */

	pthread_mutex_t mu;
	/* under mu */
	bool closing;			      /* workers exit after the transfer in hand */
	bool stopping;			      /* workers take no more jobs */
	struct xfer *queue_head, *queue_tail; /* submitted, not taken yet */
	struct xfer *done_head, *done_tail;   /* finished, not collected yet */
	size_t ndone;			      /* how many */

	int done_fd;	   /* eventfd: a worker put a transfer on the done list */
	_Atomic int abort; /* enum conn_abort */
};

extern const struct transport_ops smtp_ops;

/* Monotonic seconds. */
double smtp_now(void);

/* The worker thread's body (smtp.c); smtp_open starts one per connection. */
void *smtp_worker(void *arg);

/* Send x's job on c's session, opening one if there is none; x's result,
 * reply, new_conn and data_complete say how it went (smtp_session.c). */
void smtp_run_job(struct conn *c, struct xfer *x);

/* End c's session: with QUIT when clean, else by shutting the socket. */
void smtp_session_close(struct conn *c, bool clean);

/* The message as DATA carries it: a '.' doubled at the start of every line,
 * and a final CRLF if it has none (the "." line is not added). */
void smtp_stuff(const struct message *m, struct buf *out);

#endif
