/* Mail letterbox sends on its own behalf after filing an inquiry: the urgent
 * alert to staff.urgent_to and the acknowledgement to the sender.
 *
 * Both are sent at most once per inquiry, also across crashes: the intent is
 * recorded in the inquiry (durably, with the state "pending") before the
 * message goes out, and the outcome after the send returns ("sent", or
 * "failed" with the reason in the history).  Only when the mail certainly
 * did not leave (no connection, a 4xx) is the intent withdrawn, so that the
 * next poll tries again.
 *
 * A crash between intent and outcome leaves it pending: the mail may or may
 * not have gone.  The next poll reports each such intent once (stderr, the
 * inquiry's history "alert-uncertain" / "ack-uncertain", then `status` and
 * the digest through notify_doubt_*), and sends an urgent alert again, once,
 * marked "[possible repeat]" (state "uncertain", then "repeating",
 * "repeated"): a repeated alert to staff is better than a lost one.  An
 * acknowledgement is not resent (state "unknown"): the person must never get
 * two.
 *
 * The alert (staff.urgent_to set, the inquiry urgent) names the inquiry's
 * number, sender and subject, never its text unless triage.alert_body.
 * The acknowledgement (triage.acknowledge: true, templates/acknowledgement.txt)
 * is for a new inquiry only, never for a later message of its conversation;
 * it follows RFC 3834: Auto-Submitted: auto-replied, In-Reply-To/References,
 * null envelope sender; never to a message that was itself automatic
 * (Auto-Submitted, X-Autoreply, Precedence bulk/list/junk, a report), a
 * bounce (null Return-Path), a list message (List-Id, List-Unsubscribe), a
 * no-reply / MAILER-DAEMON / -request address, or one of our own addresses;
 * at most one per sender per 7 days (the store's poll_acks: keyed HMACs of
 * the addresses, not the addresses, pruned after 7 days).
 *
 * Test-only: LETTERBOX_TEST_CRASH=after-alert-intent | after-ack-intent |
 * after-repeat-intent kills the process (SIGKILL) right after the intent is
 * on disk; after-alert-sent | after-ack-sent right after the send returned,
 * before its outcome is recorded; after-acklog between the sender log and
 * the record.
 */
#ifndef LB_NOTIFY_H
#define LB_NOTIFY_H

#include <time.h>

#include "core/config.h"
#include "core/err.h"
#include "core/token.h"
#include "deliver/transport.h"
#include "store/inquiries.h"

struct notifier;

/* Nothing is connected until a mail must go out. */
int notifier_open(const struct config *cfg, const struct secret *secret, struct notifier **n,
		  struct lb_err *err);

/* Inquiry `number` has just been filed (durably): send what is due for it.
 * Failures to send are reported through err (LB_EUNAVAIL, …) but leave the
 * inquiry filed; the poller warns and carries on. */
int notifier_inquiry_filed(struct notifier *n, unsigned number, time_t now, struct lb_err *err);

/* A later message has just joined inquiry `number`'s conversation
 * (receive/followup.h): send the urgent alert if it is due (the message made
 * the inquiry urgent, filing cleared the earlier intent).  Never an
 * acknowledgement. */
int notifier_followup(struct notifier *n, unsigned number, time_t now, struct lb_err *err);

/* Send what earlier runs filed but did not get to notify (a crash between
 * filing and notifying), within the limits above. */
int notifier_catch_up(struct notifier *n, time_t now, struct lb_err *err);

void notifier_close(struct notifier *n);

/* For staff: what a crash left in doubt about q's urgent alert or its
 * acknowledgement, as reported by a poll ("the urgent alert may not have
 * been sent …"), or NULL when nothing is.  Static strings. */
const char *notify_doubt_alert(const struct inquiry *q);
const char *notify_doubt_ack(const struct inquiry *q);

/* Send one complete mail of letterbox's own (raw: CRLF, as onemail_compose
 * makes it) now, through cfg->out, to each of rcpts (addr-specs,
 * NULL-terminated), and wait for the outcomes.  mail_from "" is the null
 * sender.  *nsent (may be NULL) counts the recipients whose server took it;
 * *o gets the first other outcome (else OUT_SENT).  Returns 0 when every
 * recipient's server took it; else LB_ETEMP (deferred, not sent, or
 * uncertain: `o->kind` says which), LB_EDATA (refused with 5xx), or the
 * transport's LB_EUNAVAIL / LB_ECONFIG; err says why.  Used for replies and
 * digests; the notifier uses the same code with a connection it keeps.
 * With `dkim:` in letterbox.yaml the mail is DKIM-signed first
 * (compose/dkim.h: dkim_sign_site); a key that cannot be used is
 * LB_ECONFIG, and nothing is sent. */
int mail_send_now(const struct config *cfg, const char *raw, size_t n, const char *mail_from,
		  const char *const *rcpts, size_t *nsent, struct outcome *o, struct lb_err *err);

#endif
