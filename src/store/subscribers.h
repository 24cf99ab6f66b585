/* Subscriber lists: subscribers/NAME.yaml (contract).
 *
 *     name: Friends of the practice        # optional, for people
 *     public: true                         # optional: offered on the web sign-up form
 *     subscribers:
 *       - email: ada@example.org
 *         name: Ada Lovelace               # optional
 *         city: Woodland Hills             # any other key: subscriber.city in templates
 *       - zoe@example.org                  # a bare address is fine too
 *
 * Loading validates every address; a bad one is reported by name and
 * file:line through the `bad` callback and left out, the rest of the list is
 * still usable.  Structural problems (not YAML, no `subscribers` sequence)
 * are errors (LB_EDATA, file:line:col).
 */
#ifndef LB_SUBSCRIBERS_H
#define LB_SUBSCRIBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/kv.h"
#include "core/err.h"

struct subscriber {
	char *email; /* validated addr-spec */
	char *key;   /* lower-cased email: what duplicates are judged by */
	char *name;  /* may be NULL */
	struct kv *fields;
	size_t nfields;
	size_t line; /* where it is in the file */
};

struct sublist {
	char *id; /* file name without .yaml: what articles' `lists:` name */
	char *path;
	char *title; /* `name:`, may be NULL */
	bool public; /* `public: true`: the web sign-up form offers it */
	struct subscriber *v;
	size_t n, cap;
	size_t invalid; /* entries left out */
};

typedef void (*sub_report_fn)(void *ctx, const char *msg);

int sublist_load(const char *path, struct sublist *l, sub_report_fn bad, void *ctx,
		 struct lb_err *err);
/* The same from text in memory (path names it in messages and gives the id):
 * how an edit is checked before it is written. */
int sublist_parse(const char *path, const char *text, size_t len, struct sublist *l,
		  sub_report_fn bad, void *ctx, struct lb_err *err);
void sublist_free(struct sublist *l);

/* The streaming form, for lists of any size: on_entry is called for each
 * valid subscriber (the struct and its strings are valid only during the
 * call; copy what you keep), bad for each entry left out, and *invalid counts
 * those.  *title (may be NULL) receives the list's `name:`, *public (may be
 * NULL) its `public:` (left alone when the file has none).  A non-zero
 * return from on_entry stops the parse and is returned. */
typedef int (*sub_entry_fn)(void *ctx, const struct subscriber *s);
/* bad's email is the entry's address as written (NULL when it has none). */
typedef void (*sub_invalid_fn)(void *ctx, const char *email, const char *msg);
int sublist_stream(const char *path, const char *text, size_t len, char **title, bool *public,
		   sub_entry_fn on_entry, sub_invalid_fn bad, void *ctx, size_t *invalid,
		   struct lb_err *err);

/* sublist_stream on the file at path, read through a fixed buffer: memory
 * does not grow with the file (check and send read lists this way).
 * LB_ENOINPUT when there is no such file. */
int sublist_stream_file(const char *path, char **title, bool *public, sub_entry_fn on_entry,
			sub_invalid_fn bad, void *ctx, size_t *invalid, struct lb_err *err);

/* Whether the list at path holds spec (a validated addr-spec) as a
 * subscriber the loader keeps, judged by addr_key as everywhere; a missing
 * file holds no one.  Fast on lists in the usual layout (store/listscan.h),
 * libyaml's streaming read otherwise; errors as sublist_load's. */
int sublist_contains(const char *path, const char *spec, bool *there, struct lb_err *err);

/* Every subscribers/NAME.yaml of the site, sorted by id. */
struct sublists {
	struct sublist *v;
	size_t n;
};
int sublists_load(const char *site_dir, struct sublists *ls, sub_report_fn bad, void *ctx,
		  struct lb_err *err);
void sublists_free(struct sublists *ls);
/* Paths of every subscribers/NAME.yaml, sorted; free with fsx_list_free. */
char **sublist_paths(const char *site_dir);
/* The id of the list at path: its file name without ".yaml".  Caller frees. */
char *sublist_id(const char *path);
struct sublist *sublists_find(struct sublists *ls, const char *id);

/* Whether id can name a list file (subscribers/ID.yaml): letters, digits,
 * '.', '_', '-', not starting with '.' or '-', at most 64 bytes. */
bool sublist_id_ok(const char *id);

#endif
