/* Reports in the shapes of particular mail systems ("local hosts"): the
 * bounces, complaints and auto-replies that follow no standard, or follow
 * one only in their own way, and that the general rules (classify.h,
 * bounce.h) would take for a person's mail or read wrongly.
 *
 * A table of shapes, one per system: the header signs that tell it is
 * one (sender, subject, Received, a vendor field), where in the text the
 * report starts and ends, how a line naming the failed recipient looks, and
 * which phrases of its own say permanent or temporary.  A shape counts only
 * when it yields a recipient, so a look-alike header alone decides nothing.
 * Besides the table: Amazon SES notifications (JSON sent by SNS: bounces
 * and complaints), Hotmail's older complaint format (the complained-about
 * message returned with X-HmXmrOriginalRecipient), and the vendors' fields
 * that mark an auto-reply (Apple's X-Apple-Action: VACATION and others).
 *
 * The shapes are learnt from the documentation of Sisimai's Lhost modules
 * (Debian libsisimai-perl); the code is letterbox's own.
 */
#ifndef LB_LHOST_H
#define LB_LHOST_H

#include "receive/bounce.h"
#include "receive/header.h"
#include "receive/parse.h"

enum lhost_kind {
	LHOST_NONE,
	LHOST_BOUNCE,
	LHOST_COMPLAINT,
};

struct lhost_report {
	enum lhost_kind kind;
	const char *shape; /* the system's name, static ("au by KDDI", …) */
	enum bounce_severity severity;
	struct strv rcpt;    /* failed or complaining addresses, as written */
	char *status;	     /* an enhanced status code, or NULL */
	char *diagnostic;    /* the report's explanation, or NULL */
	char *feedback_type; /* complaints: "abuse", … or NULL */
	/* The Message-ID (without brackets) of what we sent, when the report
	 * names it somewhere parse.h does not look (SES: commonHeaders). */
	char *original_id;
};

/* Whether m is a report in one of the known shapes; fills *out (free with
 * lhost_report_free whatever it returns). */
bool lhost_report(const struct inmsg *m, struct lhost_report *out);
void lhost_report_free(struct lhost_report *r);

/* The vendor sign that makes m an auto-reply ("X-Apple-Action", a
 * localised "Automatic reply:" subject, …), or NULL.  Signs a person's
 * mail client never sets. */
const char *lhost_auto_reply(const struct inmsg *m);

#endif
