/* Sign-up by mail: what `poll` does with a message to subscribe.mailto
 * (classify.h: MAIL_SUBSCRIBE; auto-replies and bounces never get here).
 *
 * A message that carries a confirmation link of ours (a reply quoting the
 * confirmation mail), valid, for this list and from the address it was
 * sent to, confirms it (store/signup.h: signup_confirm).  Any other sends
 * the sender the confirmation mail (deliver/signup_mail.h, source "mail")
 * for the list the address names, when the web form would offer that list
 * (`public: true`, or the site's only list), within the per-address limit.
 */
#ifndef LB_SIGNUP_IN_H
#define LB_SIGNUP_IN_H

#include <time.h>

#include "core/config.h"
#include "core/err.h"
#include "core/token.h"
#include "receive/parse.h"

/* Act on m, sent to list's subscribe address, at now.  What is not done
 * (no such list, the limit reached, a mail that could not be sent) is a
 * warning, not an error: the message is filed either way.  Errors are I/O
 * errors writing state (the list file, the consent record). */
int signup_by_mail(const struct config *cfg, const struct secret *secret, const struct inmsg *m,
		   const char *list, time_t now, struct lb_err *err);

#endif
