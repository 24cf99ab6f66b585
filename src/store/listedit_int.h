/* Inside store/listedit: where an edit goes, found with libyaml's events
 * (listedit_yaml.c), and the check of an edit against the old list. */
#ifndef LB_LISTEDIT_INT_H
#define LB_LISTEDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/listedit.h"

/* The edit of old: old[0..cut_from) + old[cut_to..ins) + (a line end when
 * ins is the end of a text without one) + (with add_key "subscribers:") +
 * the new entries at dash/content + old[ins..). */
struct listedit_plan {
	size_t cut_from, cut_to, ins, dash, content;
	bool add_key;
	const char *eol;
};

/* Where entries go in old, read with libyaml's event parser: memory does
 * not grow with the list.  LB_EDATA (file:line:col) as listedit_append_text. */
int listedit_plan(const char *file, struct span old, struct listedit_plan *p, struct lb_err *err);

/* What the loader reads of a list, to compare two readings: one hash per
 * subscriber kept, the title and the count left out. */
struct list_reading {
	uint64_t *hash;
	size_t n, cap, invalid;
	char *title;
	/* with want (the edited list): hash[0..cap) are the old reading's, which
	 * the first entries must match; entries from index skip on are compared
	 * with want[0..nwant) */
	const struct listedit_entry *want;
	size_t skip, nwant;
	size_t bad; /* 1 + the first entry (from skip) that differs, 0 none */
	char *key;  /* an addr_key to look for (the caller's, may be NULL)... */
	bool found; /* ...and whether a subscriber kept has it */
};

/* Read text (text.p NULL: the file at file) into r. */
int list_read(const char *file, struct span text, struct list_reading *r, struct lb_err *err);
void list_reading_free(struct list_reading *r);

/* Whether edited reads as old plus want: LB_EDATA naming the difference. */
int list_compare(const char *file, const struct list_reading *old,
		 const struct list_reading *edited, struct lb_err *err);

#endif
