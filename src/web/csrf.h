/* The staff forms' CSRF token: a state-changing POST under /staff/ must
 * carry, in its hidden field `csrf`, a token made for this user, this action
 * (the form's path, "/staff/inquiries/12/set") and a recent time window:
 *
 *     token = W "." hex(first 16 bytes of HMAC-SHA256(site secret,
 *             "letterbox-staff-csrf" NUL user NUL action NUL W))
 *
 * where W is the decimal number of the CSRF_WINDOW-second window the page
 * was made in.  A token is accepted in its own window and the next one (a
 * form stays usable for CSRF_WINDOW to 2 * CSRF_WINDOW seconds), compared in
 * constant time.  Another user's, another action's or an older token is
 * refused.  No state is kept: the secret (state/secret) is the state.
 */
#ifndef LB_CSRF_H
#define LB_CSRF_H

#include <stdbool.h>
#include <time.h>

#include "core/token.h"

#define CSRF_WINDOW  (4 * 3600)
#define CSRF_MAX_LEN 64

/* out receives the token for (user, action) at now and a NUL. */
void csrf_make(const struct secret *s, const char *user, const char *action, time_t now,
	       char out[CSRF_MAX_LEN]);

/* Whether token is one csrf_make gave for (user, action) in now's window or
 * the one before.  Any text is safe to pass (NULL: false). */
bool csrf_check(const struct secret *s, const char *user, const char *action, const char *token,
		time_t now);

#endif
