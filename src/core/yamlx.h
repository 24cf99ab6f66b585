/* YAML helpers over libyaml's document API.
 *
 * libyaml gives untyped nodes with positions; these helpers add what every
 * loader needs: loading with errors as "file:line:col: problem", typed reads
 * of scalars (string, bool, integer, duration, size), mapping look-up with
 * unknown-key and duplicate-key detection, and error messages that point at
 * the node that is wrong.  Nodes stay owned by the ydoc.
 */
#ifndef LB_YAMLX_H
#define LB_YAMLX_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/err.h"

struct ydoc {
	yaml_document_t doc;
	char *file;   /* for messages */
	size_t line0; /* added to libyaml's 0-based lines (front matter starts later) */
	bool loaded;
};

/* No YAML we read nests deeper than this; deeper input is an error at the
 * place where it goes too deep (libyaml's scanner would take quadratic time). */
enum { YAML_MAX_DEPTH = 64 };

/* Where the parser's problem is, 1-based.  A reader error (invalid UTF-8, a
 * control character) has no mark, only an offset into data: counted here. */
void yaml_problem_place(const yaml_parser_t *p, const char *data, size_t n, size_t *line,
			size_t *col);

/* Parse data as one YAML document (the first, when there are more).  Syntax errors are LB_EDATA
 * with "file:line:col: problem".  line0 shifts reported lines (0 for a file of its own; the front
 * matter's first line - 1 for an article).  An empty document is fine: ydoc_root() is then NULL.
 * Nesting deeper than YAML_MAX_DEPTH is an error at its place.  Free with ydoc_free even on error.
 */
int ydoc_load(struct ydoc *d, const char *file, const char *data, size_t n, size_t line0, int code,
	      struct lb_err *err);
void ydoc_free(struct ydoc *d);
yaml_node_t *ydoc_root(struct ydoc *d);

/* An error at node: "file:line:col: <fmt>", with the given exit code. */
int yerr(struct ydoc *d, const yaml_node_t *node, int code, struct lb_err *err, const char *fmt,
	 ...) __attribute__((format(printf, 5, 6)));
/* line (1-based) of a node, for "file:line" references */
size_t yline(const struct ydoc *d, const yaml_node_t *node);

bool yis_map(const yaml_node_t *n);
bool yis_seq(const yaml_node_t *n);
bool yis_scalar(const yaml_node_t *n);
/* A plain ~, null, Null, NULL or empty scalar. */
bool yis_null(const yaml_node_t *n);
struct span yscalar(const yaml_node_t *n);

size_t ylen(const yaml_node_t *n); /* pairs of a map, items of a seq, 0 otherwise */
yaml_node_t *yseq_at(struct ydoc *d, const yaml_node_t *seq, size_t i);
yaml_node_t *ymap_key(struct ydoc *d, const yaml_node_t *map, size_t i);
yaml_node_t *ymap_value(struct ydoc *d, const yaml_node_t *map, size_t i);
/* Value for key (a scalar key), NULL if absent or null-valued. */
yaml_node_t *ymap_get(struct ydoc *d, const yaml_node_t *map, const char *key);

/* Check that node is a mapping whose keys are all scalars from `allowed`
 * (NULL-terminated), each at most once.  `what` names the mapping in messages
 * ("site", "front matter").  Errors name the offending key's position. */
int ymap_check(struct ydoc *d, const yaml_node_t *map, const char *what, const char *const *allowed,
	       int code, struct lb_err *err);

/* Typed reads.  Each takes the node (may be NULL: then the out value is left
 * untouched and 0 returned, except yreq which errors) and the key name for
 * messages, and reports wrong types at the node's position. */
int yget_str(struct ydoc *d, const yaml_node_t *n, const char *key, char **out, int code,
	     struct lb_err *err);
int yget_bool(struct ydoc *d, const yaml_node_t *n, const char *key, bool *out, int code,
	      struct lb_err *err);
int yget_long(struct ydoc *d, const yaml_node_t *n, const char *key, long min, long max, long *out,
	      int code, struct lb_err *err);
/* "90s" "15m" "12h" "3d" "1w" or a bare number of seconds. */
int yget_duration(struct ydoc *d, const yaml_node_t *n, const char *key, long *out, int code,
		  struct lb_err *err);
/* "25MB" "512KB" "1GB" or bytes (powers of 1024). */
int yget_size(struct ydoc *d, const yaml_node_t *n, const char *key, size_t *out, int code,
	      struct lb_err *err);
/* A scalar or a sequence of scalars; *out is a NULL-terminated array. */
int yget_strlist(struct ydoc *d, const yaml_node_t *n, const char *key, char ***out, size_t *count,
		 int code, struct lb_err *err);
/* A missing required key, reported at the mapping. */
int yreq(struct ydoc *d, const yaml_node_t *map, const char *what, const char *key, int code,
	 struct lb_err *err);

void strlist_free(char **list);

#endif
