/* What suppressions.c shares with pending.c (the unconfirmed reports) and
 * signup.c (the consent records): the record format and the durable
 * append.  Not for modules outside src/store/. */
#ifndef LB_SUPPRESSIONS_INT_H
#define LB_SUPPRESSIONS_INT_H

#include <stdbool.h>
#include <time.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/suppressions.h"

struct sup_pending;

/* Append line (whole lines) to path under an exclusive flock, fsync'd
 * (fsx_fsync), the file created 0600 in dir (0700) with header as its first
 * line; a torn tail left by a crash is cut off first. */
int sup_append(const char *dir, const char *path, const char *header, const struct buf *line,
	       struct lb_err *err);
/* "2026-11-25T17:35:00Z" */
bool sup_parse_when(struct span t, time_t *out);
/* Evidence as one line of at most 500 bytes (appended to out). */
void sup_sanitise(struct buf *out, const char *in);
/* One record, "when TAB reason TAB address TAB evidence LF", into line (and
 * the evidence alone, sanitised, into ev); a holds the parsed address
 * (caller frees with addr_free, also on error).  LB_EDATA for an address
 * that is not one or holds a control character. */
int sup_format(struct buf *line, struct buf *ev, struct addr *a, const char *address,
	       enum sup_reason reason, time_t when, const char *evidence, struct lb_err *err);
/* When the latest suppression record of address was written, a lift
 * (resubscribed) included; false when there is none. */
bool sup_last_record(const struct suppressions *s, const char *address, time_t *when);
struct sup_pending *sup_pending_of(const struct suppressions *s);
const char *sup_dir(const struct suppressions *s);

/* pending.c: load state_dir/suppressions.pending (missing = none). */
int sup_pending_load(const char *state_dir, struct sup_pending **out, struct lb_err *err);
void sup_pending_free(struct sup_pending *p);

#endif
