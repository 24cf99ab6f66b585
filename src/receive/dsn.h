/* Machine reports about mail we sent: delivery status notifications
 * (RFC 3464), abuse feedback reports (ARF, RFC 5965), the header of the
 * returned original, and bounces that follow no standard at all.
 *
 * The *_parse functions read a report part's decoded body (libetpan leaves
 * message/delivery-status, message/feedback-report and text/rfc822-headers
 * as opaque single parts) and add what they find to *out, which starts
 * zeroed and is freed with the matching *_free.  They never fail: missing
 * fields stay NULL, garbage is skipped.  Strings are UTF-8, trimmed, owned by
 * the struct.
 */
#ifndef LB_DSN_H
#define LB_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "receive/header.h"

enum dsn_action {
	DSN_ACTION_NONE, /* absent or not one of the RFC 3464 words */
	DSN_FAILED,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,
	DSN_EXPANDED,
};

struct dsn_rcpt {
	/* The address, "rfc822;" and brackets removed, quotes kept; for a pipe
	 * or file delivery the address in the command, else the command. */
	char *final_recipient;
	char *original_recipient; /* the same, as we sent it; may be NULL */
	enum dsn_action action;
	char *status;	  /* "5.1.1": the enhanced code only, else NULL */
	char *diagnostic; /* Diagnostic-Code without its "smtp;" type */
	char *remote_mta;
};

struct dsn {
	char *reporting_mta;
	char *original_envelope_id;
	struct dsn_rcpt *rcpt;
	size_t nrcpt, rcpt_cap;
};

/* The address a recipient block is about, as we sent it: Original-Recipient
 * (forwarding changes Final-Recipient, not what we sent), else
 * Final-Recipient; but the quoted Final-Recipient when Original-Recipient
 * is the same address with its quotes lost.  NULL when neither names an
 * address (a pipe, a file, a bare local part): the report's text may. */
const char *dsn_rcpt_address(const struct dsn_rcpt *r);

/* Read the body of a message/delivery-status part (per-message fields,
 * then one block per recipient).  A status missing from a recipient's block
 * is taken from its Diagnostic-Code ("550 5.1.1 …" or a bare "550"). */
void dsn_parse(struct span body, struct dsn *out);
void dsn_free(struct dsn *d);

struct arf {
	char *feedback_type; /* "abuse", "fraud", "not-spam", … (lower case) */
	char *user_agent;
	char *original_mail_from;
	char *reported_domain;
	char *source_ip;
	struct strv original_rcpt_to;
};

/* Read the body of a message/feedback-report part. */
void arf_parse(struct span body, struct arf *out);
void arf_free(struct arf *a);

/* The header of the message a report or bounce returns to us. */
struct orig_headers {
	char *message_id;	/* without brackets */
	char *from;		/* addr-spec */
	char *subject;		/* decoded */
	char *list_unsubscribe; /* raw, unfolded: our mailto carries the token */
	struct strv to;		/* addr-specs */
};

/* Read a header block (text/rfc822-headers, or the start of a
 * message/rfc822 part, or the copy in a non-standard bounce).  Fields
 * already set in *out are kept. */
void orig_parse(struct span headers, struct orig_headers *out);
void orig_free(struct orig_headers *o);

/* Old bounces quote the returned message in their text after a banner
 * ("Below this line is a copy of the message", …): find one in the first
 * 64 KB of text[0..n) (UTF-8, no NUL) and orig_parse the header below it.
 * Returns whether that header named the message (Message-ID, From or To). */
bool orig_parse_quoted(const char *text, size_t n, struct orig_headers *out);

/* Find the first enhanced status code "c.sss.ddd" (c = 2, 4 or 5) in s. */
bool dsn_find_status(struct span s, struct span *code);

/* Whether the enhanced status code or SMTP text says "mailbox full / over
 * quota", which even a 5.x.x code does not make permanent: one of
 * dsn_quota_words (lower case, NULL-terminated) in s, ignoring case. */
bool dsn_quota_text(const char *s);
extern const char *const dsn_quota_words[];

#endif
