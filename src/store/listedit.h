/* Edits of subscribers/NAME.yaml that keep everything a person wrote.
 *
 * List files are edited by people: comments, blank lines, key order, quoting
 * and indentation are theirs.  So an edit is a text edit, never a re-dump:
 * new entries are inserted after the last entry of the `subscribers:`
 * sequence (before any comments that follow it), indented as the file's
 * entries are, with the file's line ends, as
 *
 *     <indent>- email: ADDRESS
 *     <indent>  name: NAME
 *
 * and values quoted when YAML needs it.  Every other byte stays as it was.
 * The result is then parsed again and must be the old list plus the new
 * entries, or nothing is written.  A flow-style list (`subscribers: [a, b]`)
 * is refused with a message saying how to rewrite it.
 */
#ifndef LB_LISTEDIT_H
#define LB_LISTEDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct listedit_entry {
	const char *email; /* a validated addr-spec (addr_parse's spec) */
	const char *name;  /* NULL, or one line of UTF-8 (see listedit_name_ok) */
};

/* Whether name can go into a list: UTF-8, no line breaks or other control
 * characters (C0, DEL, C1, U+2028, U+2029).  On false, *why says what is wrong. */
bool listedit_name_ok(const char *name, const char **why);

/* Append v[0..n) to the list in old (the file's bytes), writing the whole new
 * text to out.  file names it in messages.  LB_EDATA (file:line:col) when old
 * is not YAML, not a list, or laid out in a way that cannot be edited in place. */
int listedit_append_text(const char *file, struct span old, const struct listedit_entry *v,
			 size_t n, struct buf *out, struct lb_err *err);

/* Check that edited parses to exactly what old does plus v[0..n) at the end
 * of the list.  LB_EDATA naming the first difference otherwise. */
int listedit_verify(const char *file, struct span old, struct span edited,
		    const struct listedit_entry *v, size_t n, struct lb_err *err);

/* The whole edit of the file at path: read it (a missing file is created as
 * "name: TITLE" and an empty `subscribers:`), append, verify, and replace it
 * atomically, keeping its mode (a new file gets 0666 minus the umask).  A
 * symbolic link is followed, so the link stays a link.  Nothing is written on
 * any error.  The caller holds the subscribers lock. */
int listedit_append(const char *path, const char *title, const struct listedit_entry *v, size_t n,
		    struct lb_err *err);

/* listedit_append of e, unless the list holds its address already
 * (sublist_contains): then *already and nothing is written.  One read of
 * the list, and one of the edit to check it, streamed when the list is in
 * the usual layout (store/listscan.h): a 1,000,000-subscriber list takes
 * well under a second and a few MB.  The caller holds the subscribers lock. */
int listedit_add_new(const char *path, const char *title, const struct listedit_entry *e,
		     bool *already, struct lb_err *err);

#endif
