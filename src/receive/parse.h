/* One received message, parsed into what the poller and the staff need.
 *
 *     struct inmsg m;
 *     inmsg_parse(raw, len, &opts, &m);    never fails: see m.unparsed
 *     ... classify_message(&m, &ctx, &c) (classify.h), file it ...
 *     inmsg_free(&m);
 *
 * inmsg_parse copies what it keeps: raw may be freed as soon as it returns.
 * All strings are UTF-8, NUL-terminated, owned by the struct and freed by
 * inmsg_free; a field the message lacks is NULL (lists are empty).  Nothing
 * is written anywhere: attachments are only described, except the one
 * opts->attachment asks for, whose decoded bytes are kept (att_bytes).
 *
 * Any bytes give a result: broken MIME, bad base64, 8-bit headers, a 10 MB
 * line.  When libetpan cannot make sense of the MIME structure, unparsed is
 * set and the header fields plus a best-effort text are still filled in.
 * Cost is linear in the input (inputs up to 25 MB are expected; peak memory
 * is a few times the input).  No global state: threads may parse at once.
 *
 * Header fields are read by letterbox itself (header.h); libetpan's
 * mailmime_parse() only splits the body into parts.  The first of a
 * repeated field wins, except the address lists, which add up.
 */
#ifndef LB_PARSE_H
#define LB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "receive/dsn.h"
#include "receive/header.h"

struct attachment {
	char *filename;	    /* decoded (RFC 2231 / 2047); NULL if the part has none */
	char *content_type; /* "application/pdf", lower case */
	size_t size;	    /* decoded size in octets (estimated for QP) */
};

struct inmsg {
	bool unparsed; /* the MIME structure could not be read; text is a guess */

	char *message_id; /* without brackets */
	char *from;	  /* addr-spec as written; NULL for "Postmaster <>" */
	char *from_name;  /* decoded display name, or NULL */
	struct strv to, cc;
	struct strv delivered_to, x_original_to;
	struct strv envelope_to; /* Envelope-To, X-Envelope-To, X-Rcpt-To */
	char *subject;		 /* decoded */
	char *date;		 /* as written */
	time_t date_time;	 /* parsed Date, 0 if it is not one */
	char *in_reply_to;	 /* the first msg-id, without brackets */
	size_t body_off;	 /* where the body starts in raw (past the header) */
	struct strv references;	 /* msg-ids without brackets, oldest first */
	char *return_path;	 /* addr-spec; "" for the null sender <> */

	/* Raw values (unfolded) of the fields that tell machines from people. */
	char *auto_submitted, *precedence, *x_autoreply, *x_autorespond;
	char *x_auto_response_suppress, *list_id, *list_unsubscribe, *content_type;
	struct strv x_failed_recipients; /* Exim names failed addresses here */

	/* The message's text: text/plain parts when there are any, else the
	 * HTML parts rendered as text; transfer encodings undone, converted to
	 * UTF-8, LF line ends, format=flowed joined. */
	char *text;
	size_t text_len;
	bool text_from_html;
	/* What the writer wrote, without what they quoted (text.h text_own). */
	char *own_text;
	bool trimmed;

	struct attachment *att;
	size_t natt, att_cap;
	/* The decoded bytes (transfer encoding undone, nothing else) of
	 * attachment opts->attachment, numbered 1, 2 … as in att; NULL when not
	 * asked for or there is no such attachment.  Only that one is copied:
	 * memory stays at most the message's size. */
	char *att_bytes;
	size_t att_bytes_len;

	/* Reports.  has_dsn: a message/delivery-status part was read; has_arf:
	 * a message/feedback-report part; has_original: the header of a
	 * returned message (report part, attached or, for old bounces, quoted
	 * in the text) was found. */
	bool has_dsn, has_arf, has_original;
	struct dsn dsn;
	struct arf arf;
	struct orig_headers original;

	/* The raw header block of the message and of the first returned
	 * original (message/rfc822 or text/rfc822-headers), each at most
	 * PARSE_HEADER_MAX bytes, for the vendor fields lhost.h looks at;
	 * NULL when there is none. */
	char *header, *orig_header;
};

#define PARSE_HEADER_MAX 65536

struct parse_opts {
	/* Lines that start a copy of our newsletter in a reply (the site's
	 * name, a footer line); NULL-terminated, may be NULL. */
	const char *const *quote_markers;
	/* Keep the bytes of this attachment (1-based; 0: none). */
	size_t attachment;
};

/* Parse raw[0..n) into *m.  opts may be NULL.  Never fails; out of memory
 * aborts. */
void inmsg_parse(const char *raw, size_t n, const struct parse_opts *opts, struct inmsg *m);
void inmsg_free(struct inmsg *m);

#endif
