/* Adding and removing a subscriber, for both faces: `letterbox subscribers
 * add/remove` (cmd/subscribers.c) and the staff pages (web/staff_more.c).
 * List files are edited in place (store/listedit.h); removing someone is a
 * suppression, never an edit of a file people write.  Each takes
 * state/lock.subscribers for the whole change, so two edits never
 * interleave.  *said receives what happened, one line each ending in "\n"
 * (the CLI prints it; the web shows it).  how is the evidence's "who did
 * it" ("`letterbox subscribers add` by ann").
 */
#ifndef LB_MEMBERS_H
#define LB_MEMBERS_H

#include <stdbool.h>
#include <time.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "store/subscribers.h"
#include "store/suppressions.h"

/* The suppressions and, with lists, every list loaded (with lock, the lock
 * taken: lock_fd >= 0 until members_close).  Without lists, ls is empty:
 * read the lists streamed (store/subscribers.h), as add and remove do. */
struct members {
	struct sublists ls;
	struct suppressions *sup;
	int lock_fd;
};
int members_open(const struct config *cfg, bool lock, bool lists, sub_report_fn warn,
		 struct members *m, struct lb_err *err);
void members_close(struct members *m);

/* Add a (name: NULL or checked with listedit_name_ok) to list (NULL: the
 * only list; LB_EUSAGE when there are several or none), unless it is on it
 * already; lift a suppression of the address (re-subscribed). */
int members_add(const struct config *cfg, const char *list, const struct addr *a, const char *name,
		const char *how, time_t now, struct buf *said, struct lb_err *err);

/* Stop mailing a: a suppression "removed", unless it is suppressed already. */
int members_remove(const struct config *cfg, const struct addr *a, const char *how, time_t now,
		   struct buf *said, struct lb_err *err);

#endif
