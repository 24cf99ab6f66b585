/* The poll area of the indexed store (store/db.h): the tables of
 * store/pollstate.h and of the acknowledgement log (deliver/notify_rules.h),
 *   poll_acks   hash, inquiry, at: a row per acknowledgement within the
 *               last 7 days, indexed by hash and time
 * and the import of the files the release before the database kept:
 * state/poll/seen, state/poll/cursor.NAME, state/poll/soft-bounces and
 * state/acknowledged, read as that release read them (a torn last line is
 * no record). */
#ifndef LB_POLLSTATE_IMPORT_H
#define LB_POLLSTATE_IMPORT_H

#include "store/db.h"

extern const char pollstate_schema[];
extern const char *const pollstate_old_files[];
int pollstate_import(sqlite3 *db, const char *state_dir, struct lb_err *err);

#endif
