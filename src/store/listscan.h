/* A fast reader of subscriber lists in the layout people and letterbox
 * write them (store/subscribers.h), for edits of lists of any size.
 *
 * libyaml reads about 40 MB/s: a 1,000,000-subscriber list takes it well
 * over a second.  Most list files are a handful of top-level keys and a
 * block sequence of one-line entries:
 *
 *     name: Friends             # comments and blank lines anywhere
 *     subscribers:
 *       - email: ada@example.org
 *         name: "Ada \"A\" L."
 *       - zoe@example.org
 *
 * That subset is read here a line at a time, from a file descriptor through
 * a fixed buffer (memory does not grow with the file), ten times faster.
 * Anything outside it (flow style, multi-line or block scalars, tabs,
 * anchors, tags, unusual escapes or indentation, a BOM, no entries yet,
 * anything not YAML) makes the scan answer LISTSCAN_OTHER, and the caller
 * uses the libyaml reader, which is exact and gives file:line:col errors.
 * Within the subset both read the same values: tests/fuzz/fuzz_lists.c
 * checks it.
 */
#ifndef LB_LISTSCAN_H
#define LB_LISTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define LISTSCAN_OTHER (-2) /* outside the subset: read it with libyaml */

/* One entry as written.  A NULL email/name is absent or null (~, empty);
 * the strings are valid only during the callback. */
struct listscan_entry {
	const char *email, *name;
	size_t email_len, name_len;
	size_t nfields; /* keys other than email and name */
	bool nul;	/* a value holds a NUL byte: the loader leaves it out */
	bool scalar;	/* "- VALUE" rather than "- email: VALUE" */
	size_t line;
};
typedef int (*listscan_fn)(void *ctx, const struct listscan_entry *e);

/* What a scan found: enough to insert entries after the last one. */
struct listscan {
	size_t entries;
	uint64_t hash;	     /* of every entry, in order */
	uint64_t meta;	     /* of the title and public */
	uint64_t ins;	     /* byte offset where new entries go */
	int dash;	     /* column of the entries' '-' */
	int content;	     /* column of the last entry's content */
	bool crlf;	     /* the first line ends in CR LF */
	bool newline_at_ins; /* a line break ends the text before ins */
	uint64_t size;	     /* bytes read */
	uint64_t hash_at;    /* hash after the first hash_n entries (see listscan_fd) */
};

/* Scan the file open on fd from its start.  on_entry (may be NULL) is
 * called for each entry; a non-zero return stops the scan and is returned.
 * hash_n: also record in out->hash_at the hash after that many entries.
 * LISTSCAN_OTHER when the text is outside the subset; LB_EIO (with err)
 * when reading fails. */
int listscan_fd(int fd, const char *path, listscan_fn on_entry, void *ctx, size_t hash_n,
		struct listscan *out, struct lb_err *err);

/* The same on text in memory (tests and the fuzz target). */
int listscan_text(struct span text, listscan_fn on_entry, void *ctx, struct listscan *out);

/* Looking for one address: listscan_key_match is a listscan_fn that sets
 * found (and stops the scan, returning 1) at an entry the loader keeps
 * (store/subscribers.h) whose addr_key is spec's. */
struct listscan_key {
	char *key;
	size_t local_n;
	bool found;
};
void listscan_key_init(struct listscan_key *k, const char *spec);
void listscan_key_free(struct listscan_key *k);
int listscan_key_match(void *k, const struct listscan_entry *e);

#endif
