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
/* For people, to the minute, local time with its zone: "2026-11-25 09:00 GMT"
 * ("+03" where the zone has no abbreviation).  Every time shown to a person
 * goes through here; state files and JSON keep time_iso. */
void time_local(struct buf *out, time_t t);
/* time_local of an ISO 8601 time from a state file; s as it is when it does
 * not parse. */
void time_local_iso(struct buf *out, const char *s);
/* ISO 8601 UTC "2026-11-25T17:35:00Z" for state files and JSON. */
void time_iso(struct buf *out, time_t t);

/* Whether name is a zone of the time zone database (TZDIR, else
 * /usr/share/zoneinfo): "Europe/London", "America/Los_Angeles", "UTC".  A
 * relative path of letters, digits and "_+-." naming a TZif file; nothing
 * else ("../x", "/etc/localtime", "GMT+1" that is no file). */
bool time_zone_known(const char *name);
/* From now on, local time is in zone name (a time_zone_known one): sets TZ
 * for this process and calls tzset.  Call it before starting threads. */
void time_zone_use(const char *name);

#endif
