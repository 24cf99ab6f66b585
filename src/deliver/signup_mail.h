/* The mail that asks a person to confirm a sign-up (double opt-in), for the
 * web form and for sign-up by mail alike.
 *
 * templates/confirm.txt (and .html, when there) is rendered with
 * confirm.url ({web.url}/confirm/TOKEN), person.email, person.name,
 * list.name (the list's `name:`, else its id), consent (the consent text)
 * and the usual site.* names; it goes to the address that asked, from
 * `from`, with Reply-To subscribe.mailto for the list when that is set (a
 * reply confirms too), Auto-Submitted: auto-generated, through outgoing.url.
 */
#ifndef LB_SIGNUP_MAIL_H
#define LB_SIGNUP_MAIL_H

#include <time.h>

#include "core/config.h"
#include "core/err.h"
#include "core/token.h"

/* The consent text people agree to: web.consent, or the default. */
const char *signup_consent_text(const struct config *cfg);

/* Compose and send the confirmation for r (its token made with s) now.
 * list_title may be NULL.  Errors: LB_ENOINPUT for a site without
 * templates/confirm.txt, LB_EDATA for a template that does not render or
 * a request whose fields cannot go into a token, and mail_send_now's. */
int signup_mail_send(const struct config *cfg, const struct secret *s, const struct confirm_req *r,
		     const char *list_title, time_t now, struct lb_err *err);

#endif
