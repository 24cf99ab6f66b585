/* What a received message is, and whom it is about.
 *
 * classify_message() looks at a parsed message (parse.h) in this order:
 *   1. our tokens: in the recipient addresses (Delivered-To, X-Original-To,
 *      Envelope-To, To, Cc) matched against our address patterns, in
 *      In-Reply-To / References holding one of our Message-IDs
 *      <slug.TOKEN.stamp@from-domain>, and, for bounces and complaints, in
 *      the returned original; the first token resolve() vouches for names
 *      the subscriber;
 *   2. bounce with a DSN: failed + 5.x.x is hard, 4.x.x or quota is soft,
 *      Action: delayed is a warning (BOUNCE_DELAYED: nothing failed);
 *   3. complaint (ARF feedback report);
 *   4. a bounce or complaint in a system's own shape (lhost.h: KDDI, SES,
 *      Hotmail, …), else a bounce without a DSN (bounce.h);
 *   5. unsubscribe: mail to our unsubscribe address with a good token, or a
 *      short "unsubscribe" / "remove me" / "stop" (English, German, French,
 *      Spanish, Italian, Dutch) from a known subscriber; but one that holds
 *      crisis language (urgent()) is an urgent inquiry instead, so that a
 *      person reads it;
 *   6. auto-reply: RFC 3834 Auto-Submitted, X-Autoreply, X-Autorespond,
 *      Precedence auto_reply/bulk/junk, the vendors' fields and subject
 *      prefixes (lhost_auto_reply); an out-of-office subject together
 *      with a second sign (X-Auto-Response-Suppress, the null sender, an
 *      out-of-office text); also delivery reports that report no failure
 *      and anything else sent to our bounce address;
 *   7. sign-up: mail to subscribe.mailto ("subscribe+{list}@…"), which
 *      names the list; one in crisis words is an urgent inquiry instead;
 *   8. otherwise an inquiry.
 * A person's reply from an ordinary mail client carries none of the
 * machine signs, so it is never taken for a bounce or an auto-reply.
 */
#ifndef LB_CLASSIFY_H
#define LB_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "receive/bounce.h"
#include "receive/header.h"
#include "receive/parse.h"

enum mail_kind {
	MAIL_INQUIRY,
	MAIL_BOUNCE,
	MAIL_COMPLAINT,
	MAIL_UNSUBSCRIBE,
	MAIL_AUTO_REPLY,
	MAIL_SUBSCRIBE, /* a sign-up request (or a reply to its confirmation) */
};

/* "inquiry", "bounce", "complaint", "unsubscribe", "auto-reply", "subscribe". */
const char *mail_kind_name(enum mail_kind k);

enum token_source {
	TOKEN_NONE,
	TOKEN_UNSUBSCRIBE_ADDRESS, /* sent to unsubscribe+TOKEN@ */
	TOKEN_BOUNCE_ADDRESS,	   /* sent to bounces+TOKEN@ (VERP) */
	TOKEN_REPLY_ADDRESS,	   /* sent to hello+TOKEN@ */
	TOKEN_IN_REPLY_TO,
	TOKEN_REFERENCES,
	TOKEN_ORIGINAL, /* the returned message's Message-ID or List-Unsubscribe */
};

struct lexicon; /* receive/lexicon.h */

struct classify_ctx {
	/* Our address patterns, each holding "{token}"; any may be NULL, and
	 * a display name around the address ("Name <a+{token}@b>") is fine. */
	const char *bounce_to, *unsubscribe, *reply_to;
	const char *from_domain; /* the domain of our Message-IDs */
	/* Verify token (lower case) and say whose it is: on true, *address_out
	 * is a malloc'd address the classifier takes over.  May be NULL: then
	 * no token is ever trusted. */
	bool (*resolve)(void *cb, const char *token, char **address_out);
	/* Optional: whether address is on a list (for "unsubscribe" mails that
	 * carry no token).  May be NULL. */
	bool (*is_subscriber)(void *cb, const char *address);
	void *cb;
	/* Extra crisis phrases from the configuration (NULL-terminated, may be
	 * NULL), on top of the built-in lexicon; see urgent(). */
	const char *const *urgent_words;
	/* The built-in lexicon's languages to use ("en", "es"; NULL-terminated);
	 * NULL: all of them. */
	const char *const *urgent_languages;
	/* urgent_words compiled (lexicon_of_phrases), when the caller keeps
	 * them for many messages, as a poll does; NULL: compiled per message. */
	const struct lexicon *urgent_extra;
	/* subscribe.mailto, holding "{list}"; NULL: no sign-up by mail. */
	const char *subscribe;
};

struct classification {
	enum mail_kind kind;
	enum bounce_severity severity; /* for MAIL_BOUNCE; BOUNCE_NONE otherwise */
	char *subscriber;	       /* whose mail this is about, or NULL */
	char *token;		       /* the verified token, or NULL */
	enum token_source token_from;
	char *slug; /* the article replied to / bounced, or NULL */
	/* Bounce: the failed addresses (a DSN's Original-Recipient, the address
	 * we sent to, when it gives one; else Final-Recipient).  Complaint: the
	 * reported recipients.  As the report wrote them. */
	struct strv addresses;
	char *status;		 /* enhanced status code of a failure */
	char *diagnostic;	 /* the remote server's explanation */
	char *feedback_type;	 /* ARF Feedback-Type */
	bool urgent;		 /* inquiries: crisis language in the subject or text */
	const char *urgent_word; /* the phrase that matched (built in or config) */
	char reason[96];	 /* why, for logs; holds no message content */
	char *list;		 /* MAIL_SUBSCRIBE: the list the address names */
};

/* Classify m.  Never fails and keeps no state of its own (reentrant as far
 * as ctx's callbacks are).  *out is freed with classification_free. */
void classify_message(const struct inmsg *m, const struct classify_ctx *ctx,
		      struct classification *out);
void classification_free(struct classification *c);

/* Whether text[0..n) (UTF-8) contains crisis language: the built-in lexicon
 * for a mental-health practice (data/urgent/, lexicon.h: ideation, plans and
 * acts, self-harm, violence and abuse, danger at home) in the languages
 * named (NULL: all), plus extra_words (NULL-terminated, may be NULL; the same
 * notation), matched as phrases over words: case, accents and apostrophes
 * do not matter, words may be inflected ("hits", "hitting"), "I'm not
 * suicidal" does not count.  *matched (may be NULL) gets the phrase that
 * matched, as written. */
bool urgent(const char *text, size_t n, const char *const *extra_words,
	    const char *const *languages, const char **matched);

#endif
