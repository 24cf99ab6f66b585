/* Bounces without a delivery-status part: qmail's "Hi. This is the
 * qmail-send program", old Exim's "This message was created automatically
 * by mail delivery software", Exchange's "Delivery has failed to these
 * recipients", sendmail transcripts, and the many local variations.
 *
 * bounce_guess() recognises one from the sender (MAILER-DAEMON, postmaster,
 * the null Return-Path), the subject and the wording of its text, then pulls
 * the failed addresses from the text (or from Exim's X-Failed-Recipients, or
 * failing those from the returned original's To) and decides from codes and
 * phrases whether the failure is permanent.
 */
#ifndef LB_BOUNCE_H
#define LB_BOUNCE_H

#include <stdbool.h>

#include "receive/header.h"
#include "receive/parse.h"

enum bounce_severity {
	BOUNCE_NONE,	/* not a failure */
	BOUNCE_HARD,	/* permanent: 5.x.x, "user unknown", "no such user", … */
	BOUNCE_SOFT,	/* temporary: 4.x.x, "mailbox full", "over quota", … */
	BOUNCE_DELAYED, /* a warning: still being retried, nothing failed yet */
};

struct bounce_guess {
	bool found;
	enum bounce_severity severity;
	struct strv failed; /* addresses, as the bounce wrote them */
	char *status;	    /* an enhanced status code seen in the text, or NULL */
};

/* Decide whether m is a bounce without a DSN part; fills *out (free with
 * bounce_guess_free even when nothing was found). */
void bounce_guess(const struct inmsg *m, struct bounce_guess *out);
void bounce_guess_free(struct bounce_guess *g);

/* Severity for a failure described by an enhanced status code (may be NULL)
 * and free text (may be NULL): quota wording or x.2.2 is soft even under 5,
 * then 5 → hard, 4 → soft; with no code, the wording decides; BOUNCE_NONE
 * when neither says anything. */
enum bounce_severity bounce_severity_of(const char *status, const char *text);

#endif
