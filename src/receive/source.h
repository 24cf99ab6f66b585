/* Sources of incoming mail: where `letterbox poll` reads replies from.
 *   imaps://host[:port]/MAILBOX, imap://host[:port]/MAILBOX   libetpan
 *   maildir:PATH                                              PATH/new and PATH/cur
 *
 * The poller's contract with a source ("never lose, never file twice"):
 *   - source_fetch() hands over messages it has not been told are done, in
 *     order, in batches, without changing them on the server (IMAP:
 *     UID FETCH BODY.PEEK[] — never sets \Seen);
 *   - only after the poller has filed a message durably does it call
 *     source_done() (IMAP: MOVE to a folder if one is configured, else
 *     nothing; Maildir: rename into cur/ with the S flag, or into the folder)
 *     and then advance the cursor it keeps itself: to the message's UID, or
 *     to just below `withheld` when the server withheld an earlier message,
 *     so that the cursor never passes a message that was not filed.
 */
#ifndef LB_SOURCE_H
#define LB_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/pollstate.h"

/* struct cursor (where the poller is in a mailbox) is kept by the poller's
 * state, store/pollstate.h. */

struct src_msg {
	const char *id;	 /* "uid:1234" or the Maildir file name, for logs and --json */
	uint32_t uid;	 /* IMAP UID, 0 for Maildir */
	const char *raw; /* the message (at most max_size bytes; see truncated) */
	size_t n;
	size_t size;	/* the message's real size */
	bool truncated; /* larger than incoming.max_size: raw holds the headers only */
	/* IMAP: the lowest UID below this one that the server would not send in
	 * this fetch (0: none).  This message is filed all the same, but the
	 * cursor must stay below `withheld`, so the next poll asks for it again. */
	uint32_t withheld;
};

/* Called for each message; a non-zero return stops the fetch and is
 * returned by source_fetch.  msg is valid only during the call. */
typedef int (*src_msg_fn)(void *ctx, const struct src_msg *msg);

struct msg_source;

/* Connect (and log in).  Errors: LB_EUNAVAIL (cannot connect, TLS failure),
 * LB_ECONFIG (login refused, certificate not trusted, plain IMAP to a host
 * that is not loopback without `tls: none`, bad URL, password file mode). */
int source_open(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		struct lb_err *err);
/* Open the staff's Sent folder, ep->sent, read-only: on an IMAP account a
 * second connection to that mailbox of the same account (the same host,
 * user, password and TLS settings); for a maildir: source, the Maildir at
 * ep->sent (relative to site_dir), whose new/ and cur/ are both read.
 * Nothing in it is ever moved, flagged or changed: source_done does
 * nothing on it.  Messages are named by UID (IMAP) or by their file name
 * without its flags (Maildir).  Errors as source_open; LB_EUNAVAIL when the
 * Maildir is missing.  Messages are not prefixed: the caller names
 * incoming.sent. */
int source_open_sent(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		     struct lb_err *err);
/* After `inquiries reply` sent raw (n bytes), answering the message with
 * Message-ID original_mid: on an IMAP source, APPEND a copy to ep->sent
 * (when set) with \Seen, and flag the original \Answered where poll filed it
 * (incoming.folders' inquiries or failed folder, else the mailbox of
 * incoming.url; found by its Message-ID).  The two outcomes are reported
 * apart, in append_err and flag_err (code 0: done).  Nothing is done for
 * other sources (returns 0 with both codes 0 and *done false). */
int source_file_reply(const struct endpoint *ep, const char *site_dir, const char *raw, size_t n,
		      const char *original_mid, bool *done, struct lb_err *append_err,
		      struct lb_err *flag_err);

/* The URL of ep's Sent folder, for its cursor (store/pollstate.h); caller
 * frees.  NULL when ep->sent is unset or the URL cannot be built. */
char *source_sent_url(const struct endpoint *ep);

/* What source_open checks before it connects (the same code): the URL, the
 * password file or variable, a user name, a password only over TLS.  For
 * `check`. */
int source_check(const struct endpoint *ep, const char *site_dir, struct lb_err *err);

/* The mailbox's UIDVALIDITY now (IMAP; 0 for Maildir). */
uint32_t source_uidvalidity(const struct msg_source *s);

/* Hand over every message after cursor c (IMAP: UIDs > c->last_uid when
 * c->uidvalidity matches, else all), in UID order, in batches of `batch`
 * (memory stays flat), calling fn for each.  LB_EUNAVAIL when the connection
 * is lost, closed by the server or silent for incoming.timeout (the next poll
 * continues).  IMAP: a message the server leaves out of a FETCH is asked for
 * once more; if it is still missing and still in the mailbox, it is passed
 * over, the messages after it are handed over with src_msg.withheld set to
 * the lowest such UID (the cursor stays below it) and the fetch ends with
 * LB_ETEMP naming it.  One expunged meanwhile is skipped.  So one message
 * the server cannot send holds up no other, and is asked for at every poll
 * until it comes (or is expunged); the ones after it are then fetched again
 * too and found already filed (the seen keys need their bodies), unless
 * incoming.folders moved them out of the mailbox. */
int source_fetch(struct msg_source *s, const struct cursor *c, size_t batch, src_msg_fn fn,
		 void *ctx, struct lb_err *err);

/* The message has been filed durably: move it to `folder` when not NULL
 * (IMAP: UID MOVE, RFC 6851; without MOVE: UID COPY + \Deleted + UID EXPUNGE
 * of that UID only, never a bare EXPUNGE), else leave it as it is (IMAP) or
 * mark it seen in cur/ (Maildir).  Only msg->uid (IMAP) and msg->id
 * (Maildir) are used: a copy of those will do after the fetch callback. */
int source_done(struct msg_source *s, const struct src_msg *msg, const char *folder,
		struct lb_err *err);

/* Wait for new mail (IMAP IDLE, re-issued before 29 minutes; Maildir:
 * inotify or a poll of new/) for at most timeout_s seconds.  Returns 0 on
 * new mail or timeout. */
int source_wait(struct msg_source *s, int timeout_s, struct lb_err *err);

void source_close(struct msg_source *s);

/* ---- for the back ends (receive/imap.c, receive/maildir_in.c) and tests ---- */

/* An imap:// or imaps:// URL taken apart (RFC 5092, server and mailbox
 * only).  Parsed with libcurl's URL parser, as url_host_is_loopback() is,
 * so that the host judged and the host connected to are the same. */
struct imap_url {
	bool tls;      /* imaps:// (implicit TLS) */
	char *host;    /* IPv6 without brackets */
	uint16_t port; /* default 993 for imaps, 143 for imap */
	char *mailbox; /* the %-decoded path, "INBOX" when empty */
};

/* LB_ECONFIG for anything but imap[s]://host[:port][/mailbox] (user info,
 * a query or a fragment are refused).  Free with imap_url_free. */
int imap_url_parse(const char *url, struct imap_url *u, struct lb_err *err);
void imap_url_free(struct imap_url *u);

/* The vtable each back end fills in (struct msg_source's first member). */
struct source_ops {
	uint32_t (*uidvalidity)(const struct msg_source *s);
	int (*fetch)(struct msg_source *s, const struct cursor *c, size_t batch, src_msg_fn fn,
		     void *ctx, struct lb_err *err);
	int (*done)(struct msg_source *s, const struct src_msg *msg, const char *folder,
		    struct lb_err *err);
	int (*wait)(struct msg_source *s, int timeout_s, struct lb_err *err);
	void (*close)(struct msg_source *s);
};

struct msg_source {
	const struct source_ops *ops;
};

int imap_source_open(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		     struct lb_err *err);
/* ep's mailbox opened read-only (EXAMINE; source_open_sent). */
int imap_sent_open(const struct endpoint *ep, const char *site_dir, struct msg_source **s,
		   struct lb_err *err);
int imap_file_reply(const struct endpoint *ep, const char *site_dir, const char *raw, size_t n,
		    const char *original_mid, struct lb_err *append_err, struct lb_err *flag_err);
int imap_source_check(const struct endpoint *ep, const char *site_dir, struct lb_err *err);
/* dir: the Maildir, already resolved against the site directory. */
int maildir_source_open(const struct endpoint *ep, const char *dir, struct msg_source **s,
			struct lb_err *err);
/* A Maildir opened read-only (source_open_sent). */
int maildir_sent_open(const char *dir, size_t max_size, struct msg_source **s, struct lb_err *err);
/* What maildir_source_open checks before it creates anything: dir is a
 * directory (or absent), the folder names are Maildir++ names. */
int maildir_source_check(const struct endpoint *ep, const char *dir, struct lb_err *err);

#endif
