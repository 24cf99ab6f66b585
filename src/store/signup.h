/* Sign-up with double opt-in: what a confirmed request changes, the consent
 * records kept as proof, and the limits on confirmation mails.
 *
 * A request changes nothing: it only sends a mail holding a confirmation
 * token (core/token.h) that carries the request.  Confirming it, under the
 * lock `letterbox subscribers add` takes (state/lock.subscribers):
 *   - appends the address to subscribers/LIST.yaml with the comment-keeping
 *     edit (store/listedit.h), unless it is on the list already;
 *   - lifts a suppression of the address (a "resubscribed" record);
 *   - records consent in the store (state/letterbox.db, table sup_consent;
 *     before it, state/consent), durable when it returns, one record per
 *     request: confirming the same token again records nothing new.
 *
 * A consent record: confirmed requested source list address ip-request
 * ip-confirm consent; source "web" or "mail", consent the consent text's
 * hash (consent_hash: the first 128 bits of SHA-256, hex).
 *
 * Limits (the store's sup_signup, one write transaction per request): at
 * most SIGNUP_PER_ADDRESS confirmation mails per address per day and
 * SIGNUP_PER_IP per requesting IP per hour.
 */
#ifndef LB_SIGNUP_H
#define LB_SIGNUP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "core/token.h"

#define SIGNUP_PER_ADDRESS 3
#define SIGNUP_PER_IP	   20

struct consent {
	time_t confirmed, requested;
	char *source, *list, *address, *ip_request, *ip_confirm, *hash;
};

struct consents {
	struct consent *v;
	size_t n, cap;
};

/* Every consent record of state_dir, in the order recorded (no state_dir:
 * none). */
int consents_load(const char *state_dir, struct consents *c, struct lb_err *err);
void consents_free(struct consents *c);

struct signup_result {
	bool added;	   /* appended to the list file */
	bool resubscribed; /* a suppression was lifted */
	bool recorded;	   /* a new consent record was written */
};

/* Apply a confirmed request r (a verified token) from confirm_ip at now, as
 * above.  Errors: the list edit's (LB_EDATA for a list file that cannot be
 * edited in place), I/O errors writing state. */
int signup_confirm(const char *site_dir, const char *state_dir, const struct confirm_req *r,
		   const char *confirm_ip, time_t now, struct signup_result *res,
		   struct lb_err *err);

/* Count one confirmation mail to address requested from ip (may be "") at
 * now, if the limits allow it: 0.  LB_ETEMP when they do not (nothing is
 * counted), *retry_after saying in how many seconds one is allowed again. */
int signup_ratelimit(const char *state_dir, const char *address, const char *ip, time_t now,
		     long *retry_after, struct lb_err *err);

#endif
