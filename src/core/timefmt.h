/* Times as people write them in front matter and on the command line, and as
 * mail headers want them. */
#ifndef LB_TIMEFMT_H
#define LB_TIMEFMT_H

#include <stdbool.h>
#include <time.h>

#include "core/buf.h"

/* Parse "2026-11-25", "2026-11-25 09:30", "2026-11-25T09:30:15", each with an
 * optional zone "Z", "+01:00", "+0100" or " UTC".  Without a zone the time is
 * local (TZ).  A date alone means 00:00.  Returns false on anything else,
 * including impossible dates (2026-02-30). */
bool time_parse(struct span s, time_t *out);

/* RFC 5322 date-time in local time: "Wed, 25 Nov 2026 17:35:00 +0000". */
void time_rfc5322(struct buf *out, time_t t);
/* For people: "25 November 2026" (local time). */
void time_human_date(struct buf *out, time_t t);
/* How long ago, briefly: "5m", "3h", "2d". */
void time_age(struct buf *out, time_t then, time_t now);
/* For people, to the minute, local time: "2026-11-25 09:00". */
void time_local(struct buf *out, time_t t);
/* ISO 8601 UTC "2026-11-25T17:35:00Z" for state files and JSON. */
void time_iso(struct buf *out, time_t t);

#endif
