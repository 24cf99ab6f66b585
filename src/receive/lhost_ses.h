/* Amazon SES notifications, a part of lhost.h: the JSON that SES sends
 * through SNS to an e-mail subscription (notificationType Bounce or
 * Complaint), bare or wrapped in SNS's envelope (its "Message" field).
 */
#ifndef LB_LHOST_SES_H
#define LB_LHOST_SES_H

#include "receive/lhost.h"

/* Whether m, whose header has X-Amz-Sns-Message-Id (the caller looks),
 * is one; fills *out (zeroed by the caller) as lhost_report(). */
bool lhost_ses(const struct inmsg *m, struct lhost_report *out);

#endif
