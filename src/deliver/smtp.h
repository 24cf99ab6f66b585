/* The SMTP back end's pure parts, apart from the I/O so that they can be
 * tested without a server: assembling the server's replies as curl hands
 * them over, and deciding what a finished transfer means for its job.
 */
#ifndef LB_SMTP_H
#define LB_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "deliver/ratelimit.h"
#include "deliver/transport.h"

/* The server's replies, fed line by line (curl passes every reply line of
 * an SMTP session to the header callback).  Only the last complete reply is
 * kept; a multi-line reply's lines are joined with spaces. */
struct smtp_reply {
	int code;	 /* last complete reply, 0 when none yet */
	char status[16]; /* its enhanced status code ("5.1.1") or "" */
	char text[256];	 /* "550 5.1.1 No such user", printable ASCII only */
	int cur_code;	 /* the reply being read (multi-line), 0 when none */
	char cur_status[16];
	char cur_text[256];
	size_t cur_n;
};

void smtp_reply_reset(struct smtp_reply *r);

/* Feed one line as the server sent it (with or without CRLF).  Returns the
 * code of the reply this line completes, or 0 (a continuation line, or not
 * a reply line at all: ignored). */
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
	CURLcode result;    /* of the transfer */
	int reply;	    /* last complete reply of this transfer, 0 when none */
	bool new_conn;	    /* the transfer opened a new connection (not a reused one) */
	bool data_complete; /* every byte of the message had been written to the socket */
};

/* Classify a finished transfer.  *kind is always set: for the stop and
 * retry verdicts it is OUT_NOT_SENT, or OUT_UNCERTAIN when the data had been
 * sent completely and no final reply came. */
enum smtp_verdict smtp_classify(const struct smtp_finish *f, enum outcome_kind *kind);

/* ---- the transport's state (deliver/smtp.c drives it, smtp_open.c sets it up) ---- */

struct smtp;

struct conn {
	struct smtp *s;
	CURL *easy;
	size_t index;		 /* for debug logs */
	struct tx_job *job;	 /* NULL while idle */
	const struct iovec *iov; /* read cursor over job->msg */
	size_t niov, idx, off;
	bool handed_all; /* the read callback gave curl the last byte */
	bool saw_354;	 /* the server accepted DATA: the message is going out */
	bool aborting;	 /* stop this transfer at the next chance (never mid-EOB) */
	bool in_auth;	 /* debug log: hide the AUTH exchange */
	bool url_set;
	struct curl_slist rcpt; /* the one recipient; curl only reads it */
	struct buf rcpt_buf, from_buf;
	struct smtp_reply reply;
	char errbuf[CURL_ERROR_SIZE];
	double backoff_until; /* idle until then after a "slow down" */
	double backoff;	      /* seconds; doubles while the server keeps refusing */
};

struct smtp {
	struct transport base;
	CURLM *multi;
	struct conn *conns;
	size_t nconns, busy;
	struct ratelimit rl;
	char *url;   /* as configured */
	char *where; /* scheme://host:port, for messages (never credentials) */
	char *user;  /* for messages */
	struct buf ehlo_url;
	bool url_has_path; /* the URL names the EHLO domain itself */
	long timeout_s;
	struct lb_err stop;   /* stop.code != 0: stopped, every later wait returns it */
	double stop_deadline; /* after a stop: give in-flight transfers until then */
	double slow_since;    /* first "slow down" since the last delivery, 0 = none */
	unsigned trouble;     /* connection losses since the last delivery */
};

extern const struct transport_ops smtp_ops;

/* Monotonic seconds. */
double smtp_now(void);

#endif
