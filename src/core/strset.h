/* A set of strings (open addressing, FNV-1a), for deduplication and look-ups
 * by address key.  The set does not own the strings: they must outlive it.
 * Each entry carries a caller's value (an index, a pointer). */
#ifndef LB_STRSET_H
#define LB_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset {
	const char **keys;
	void **vals;
	size_t n, cap; /* cap is a power of two, or 0 */
	/* keys copied by strset_add_copy live in blocks that never move */
	char **blocks;
	size_t nblocks, used, room;
};

#define STRSET_INIT                                                                                \
	{                                                                                          \
		0                                                                                  \
	}

/* Add key with val unless present; returns true when added, false when the
 * key was there already (then *old, if not NULL, gets its value). */
bool strset_add(struct strset *s, const char *key, void *val, void **old);
/* The same, but the set keeps its own copy of an added key (packed into
 * large blocks: no malloc per key). */
bool strset_add_copy(struct strset *s, const char *key, void *val, void **old);
/* The value for key, or NULL; *found says whether it is there at all. */
void *strset_get(const struct strset *s, const char *key, bool *found);
/* Replace the value of a present key (no-op when absent). */
void strset_set(struct strset *s, const char *key, void *val);
void strset_free(struct strset *s);

#endif
