/* A file mapped read-only, for reading files too large to hold (a
 * campaign's snapshot, a subscriber list of a million entries).
 *
 * Pages of a mapping count in the process's resident set once touched, and
 * stay there while memory is plentiful.  The reader says how much it has
 * read (fmap_used); every FMAP_WINDOW bytes the mapping's pages are given
 * back (madvise MADV_DONTNEED: clean file pages, so nothing is lost; a page
 * read again is faulted in again from the page cache).  So the resident
 * cost of reading a file of any size stays near FMAP_WINDOW. */
#ifndef LB_FMAP_H
#define LB_FMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define FMAP_WINDOW (1u << 20)

struct fmap {
	const char *p; /* the contents (not NUL-terminated); "" when empty */
	size_t n;
	size_t since; /* bytes read since the pages were last given back */
};

/* Map path (state: refused through a symbolic link, fsx_open_state).
 * LB_ENOINPUT when missing, LB_ENOPERM, LB_EIO. */
int fmap_open(const char *path, bool state, struct fmap *m, struct lb_err *err);
/* Map the first n bytes of an open descriptor (which the caller keeps). */
int fmap_fd(int fd, size_t n, const char *path, struct fmap *m, struct lb_err *err);
/* The reader has read n more bytes: give the pages back every FMAP_WINDOW. */
void fmap_used(struct fmap *m, size_t n);
void fmap_close(struct fmap *m);

#endif
