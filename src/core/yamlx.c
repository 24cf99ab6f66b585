#include "core/yamlx.h"

#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void yaml_problem_place(const yaml_parser_t *p, const char *data, size_t n, size_t *line,
			size_t *col)
{
	*line = p->problem_mark.line + 1;
	*col = p->problem_mark.column + 1;
	if (p->error != YAML_READER_ERROR)
		return;
	/* The reader (bad UTF-8, a control character) gives only a byte offset. */
	size_t end = p->problem_offset < n ? p->problem_offset : n;
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < end; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n' || (c == '\r' && (i + 1 >= n || data[i + 1] != '\n'))) {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*col)++; /* columns count characters, as libyaml's marks do */
		}
	}
}

/* The document being built from libyaml's events: the collections still
 * open (at most YAML_MAX_DEPTH), each with its pending mapping key, and the
 * anchors seen so far. */
struct builder {
	yaml_document_t *doc;
	struct {
		int id, key;
	} open[YAML_MAX_DEPTH];
	size_t depth;
	struct {
		char *name;
		int id;
	} * anchors;
	size_t nanchors, cap;
};

static yaml_char_t *node_tag(yaml_char_t *tag)
{
	/* A bare "!" means the default tag, as in libyaml's own loader. */
	return tag && strcmp((const char *)tag, "!") != 0 ? tag : NULL;
}

/* A finished node: the root, a sequence item, or a mapping key or value. */
static bool attach(struct builder *b, int id)
{
	if (b->depth == 0)
		return true; /* the root: node 1 */
	int parent = b->open[b->depth - 1].id;
	yaml_node_t *pn = yaml_document_get_node(b->doc, parent);
	if (pn->type == YAML_SEQUENCE_NODE)
		return yaml_document_append_sequence_item(b->doc, parent, id);
	int *key = &b->open[b->depth - 1].key;
	if (!*key) {
		*key = id;
		return true;
	}
	int k = *key;
	*key = 0;
	return yaml_document_append_mapping_pair(b->doc, parent, k, id);
}

static void remember_anchor(struct builder *b, const yaml_char_t *anchor, int id)
{
	if (!anchor)
		return;
	b->anchors = xgrowarray(b->anchors, &b->cap, b->nanchors + 1, sizeof *b->anchors);
	b->anchors[b->nanchors].name = xstrdup((const char *)anchor);
	b->anchors[b->nanchors++].id = id;
}

static int find_anchor(const struct builder *b, const yaml_char_t *anchor)
{
	for (size_t i = b->nanchors; i-- > 0;) /* the latest definition wins */
		if (strcmp(b->anchors[i].name, (const char *)anchor) == 0)
			return b->anchors[i].id;
	return 0;
}

static void set_marks(yaml_document_t *doc, int id, const yaml_event_t *e)
{
	yaml_node_t *node = yaml_document_get_node(doc, id);
	node->start_mark = e->start_mark;
	node->end_mark = e->end_mark;
}

enum build_result { BUILD_MORE, BUILD_DONE, BUILD_NOMEM, BUILD_DEEP, BUILD_NOANCHOR };

/* One event into the document. */
static enum build_result build(struct builder *b, yaml_event_t *e)
{
	int id = 0;
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		id = yaml_document_add_scalar(b->doc, node_tag(e->data.scalar.tag),
					      e->data.scalar.value, (int)e->data.scalar.length,
					      e->data.scalar.style);
		if (!id)
			return BUILD_NOMEM;
		set_marks(b->doc, id, e);
		remember_anchor(b, e->data.scalar.anchor, id);
		break;
	case YAML_ALIAS_EVENT:
		if (!(id = find_anchor(b, e->data.alias.anchor)))
			return BUILD_NOANCHOR;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth == YAML_MAX_DEPTH)
			return BUILD_DEEP;
		id = e->type == YAML_SEQUENCE_START_EVENT
			 ? yaml_document_add_sequence(b->doc, node_tag(e->data.sequence_start.tag),
						      e->data.sequence_start.style)
			 : yaml_document_add_mapping(b->doc, node_tag(e->data.mapping_start.tag),
						     e->data.mapping_start.style);
		if (!id)
			return BUILD_NOMEM;
		set_marks(b->doc, id, e);
		remember_anchor(b,
				e->type == YAML_SEQUENCE_START_EVENT ? e->data.sequence_start.anchor
								     : e->data.mapping_start.anchor,
				id);
		if (!attach(b, id))
			return BUILD_NOMEM;
		b->open[b->depth].id = id;
		b->open[b->depth++].key = 0;
		return BUILD_MORE;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		id = b->open[--b->depth].id;
		yaml_document_get_node(b->doc, id)->end_mark = e->end_mark;
		return BUILD_MORE; /* attached when it started */
	case YAML_DOCUMENT_END_EVENT:
	case YAML_STREAM_END_EVENT:
		return BUILD_DONE;
	default:
		return BUILD_MORE;
	}
	return attach(b, id) ? BUILD_MORE : BUILD_NOMEM;
}

int ydoc_load(struct ydoc *d, const char *file, const char *data, size_t n, size_t line0, int code,
	      struct lb_err *err)
{
	memset(d, 0, sizeof *d);
	d->file = xstrdup(file);
	d->line0 = line0;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return err_set(err, LB_ESOFTWARE, "%s: cannot initialise the YAML parser", file);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, n);
	if (!yaml_document_initialize(&d->doc, NULL, NULL, NULL, 1, 1)) {
		yaml_parser_delete(&p);
		return err_set(err, LB_ESOFTWARE, "%s: out of memory", file);
	}
	d->loaded = true;
	/* Built here from the events, not by yaml_parser_load: so that nesting
	 * is capped before libyaml's scanner, whose work per token grows with
	 * the depth, makes a deep [[[[...]]]] take quadratic time. */
	struct builder b = {.doc = &d->doc};
	enum build_result r = BUILD_MORE;
	yaml_event_t e;
	int rc = 0;
	while (r == BUILD_MORE) {
		if (!yaml_parser_parse(&p, &e)) {
			size_t line, col;
			yaml_problem_place(&p, data, n, &line, &col);
			rc = err_set(err, code, "%s:%zu:%zu: %s%s%s", file, line + line0, col,
				     p.problem ? p.problem : "invalid YAML", p.context ? " " : "",
				     p.context ? p.context : "");
			break;
		}
		r = build(&b, &e);
		if (r == BUILD_DEEP)
			rc = err_set(err, code, "%s:%zu:%zu: nested more than %d levels deep", file,
				     e.start_mark.line + 1 + line0, e.start_mark.column + 1,
				     YAML_MAX_DEPTH);
		else if (r == BUILD_NOANCHOR)
			rc = err_set(err, code, "%s:%zu:%zu: found undefined alias", file,
				     e.start_mark.line + 1 + line0, e.start_mark.column + 1);
		else if (r == BUILD_NOMEM)
			rc = err_set(err, LB_ESOFTWARE, "%s: out of memory", file);
		yaml_event_delete(&e);
	}
	for (size_t i = 0; i < b.nanchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	yaml_parser_delete(&p);
	return rc;
}

void ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->file);
	memset(d, 0, sizeof *d);
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

size_t yline(const struct ydoc *d, const yaml_node_t *node)
{
	return node->start_mark.line + 1 + d->line0;
}

int yerr(struct ydoc *d, const yaml_node_t *node, int code, struct lb_err *err, const char *fmt,
	 ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!node)
		return err_set(err, code, "%s: %s", d->file, what);
	return err_set(err, code, "%s:%zu:%zu: %s", d->file, yline(d, node),
		       node->start_mark.column + 1, what);
}

bool yis_map(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

bool yis_seq(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

bool yis_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

struct span yscalar(const yaml_node_t *n)
{
	if (!yis_scalar(n))
		return (struct span){"", 0};
	return (struct span){(const char *)n->data.scalar.value, n->data.scalar.length};
}

bool yis_null(const yaml_node_t *n)
{
	if (!yis_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	struct span s = yscalar(n);
	return s.n == 0 || span_eq(s, "~") || span_eq(s, "null") || span_eq(s, "Null") ||
	       span_eq(s, "NULL");
}

size_t ylen(const yaml_node_t *n)
{
	if (yis_map(n))
		return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (yis_seq(n))
		return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	return 0;
}

yaml_node_t *yseq_at(struct ydoc *d, const yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *ymap_key(struct ydoc *d, const yaml_node_t *map, size_t i)
{
	return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *ymap_value(struct ydoc *d, const yaml_node_t *map, size_t i)
{
	return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].value);
}

yaml_node_t *ymap_get(struct ydoc *d, const yaml_node_t *map, const char *key)
{
	if (!yis_map(map))
		return NULL;
	for (size_t i = 0; i < ylen(map); i++) {
		yaml_node_t *k = ymap_key(d, map, i);
		if (yis_scalar(k) && span_eq(yscalar(k), key)) {
			yaml_node_t *v = ymap_value(d, map, i);
			return yis_null(v) ? NULL : v;
		}
	}
	return NULL;
}

int ymap_check(struct ydoc *d, const yaml_node_t *map, const char *what, const char *const *allowed,
	       int code, struct lb_err *err)
{
	if (!yis_map(map))
		return yerr(d, map, code, err, "%s must be a mapping of keys to values", what);
	size_t n = ylen(map);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = ymap_key(d, map, i);
		if (!yis_scalar(k))
			return yerr(d, k, code, err, "%s: keys must be plain words", what);
		struct span ks = yscalar(k);
		if (allowed) {
			bool known = false;
			for (const char *const *a = allowed; *a && !known; a++)
				known = span_eq(ks, *a);
			if (!known)
				return yerr(d, k, code, err, "unknown key '%.*s' in %s", (int)ks.n,
					    ks.p, what);
		}
		for (size_t j = 0; j < i; j++) {
			if (span_equal(ks, yscalar(ymap_key(d, map, j))))
				return yerr(d, k, code, err, "duplicate key '%.*s' in %s",
					    (int)ks.n, ks.p, what);
		}
	}
	return 0;
}

static int want_scalar(struct ydoc *d, const yaml_node_t *n, const char *key, const char *type,
		       int code, struct lb_err *err)
{
	if (yis_scalar(n))
		return 0;
	return yerr(d, n, code, err, "'%s' must be %s", key, type);
}

int yget_str(struct ydoc *d, const yaml_node_t *n, const char *key, char **out, int code,
	     struct lb_err *err)
{
	if (!n)
		return 0;
	int rc = want_scalar(d, n, key, "a string", code, err);
	if (rc)
		return rc;
	struct span s = yscalar(n);
	if (memchr(s.p, '\0', s.n))
		return yerr(d, n, code, err, "'%s' contains a NUL byte", key);
	free(*out);
	*out = span_dup(s);
	return 0;
}

int yget_bool(struct ydoc *d, const yaml_node_t *n, const char *key, bool *out, int code,
	      struct lb_err *err)
{
	if (!n)
		return 0;
	int rc = want_scalar(d, n, key, "true or false", code, err);
	if (rc)
		return rc;
	struct span s = yscalar(n);
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "off", NULL};
	for (const char *const *w = yes; *w; w++)
		if (span_eq(s, *w))
			return *out = true, 0;
	for (const char *const *w = no; *w; w++)
		if (span_eq(s, *w))
			return *out = false, 0;
	return yerr(d, n, code, err, "'%s' must be true or false, not '%.*s'", key, (int)s.n, s.p);
}

/* Digits, then an optional unit looked up in units[] (suffix, multiplier). */
struct unit {
	const char *suffix;
	unsigned long long mult;
};

static bool parse_number_unit(struct span s, const struct unit *units, unsigned long long *out)
{
	s = span_trim(s);
	size_t i = 0;
	unsigned long long v = 0;
	if (s.n == 0)
		return false;
	for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(s.p[i] - '0');
	}
	if (i == 0)
		return false;
	struct span rest = span_trim((struct span){s.p + i, s.n - i});
	if (rest.n == 0) {
		*out = v;
		return true;
	}
	for (const struct unit *u = units; u->suffix; u++) {
		if (span_eq_ci(rest, u->suffix)) {
			if (u->mult && v > ULLONG_MAX / u->mult)
				return false;
			*out = v * u->mult;
			return true;
		}
	}
	return false;
}

int yget_long(struct ydoc *d, const yaml_node_t *n, const char *key, long min, long max, long *out,
	      int code, struct lb_err *err)
{
	if (!n)
		return 0;
	int rc = want_scalar(d, n, key, "a number", code, err);
	if (rc)
		return rc;
	static const struct unit none[] = {{NULL, 0}};
	unsigned long long v;
	struct span s = yscalar(n);
	if (!parse_number_unit(s, none, &v) || v > (unsigned long long)max || (long)v < min)
		return yerr(d, n, code, err,
			    "'%s' must be a whole number from %ld to %ld, not '%.*s'", key, min,
			    max, (int)s.n, s.p);
	*out = (long)v;
	return 0;
}

int yget_duration(struct ydoc *d, const yaml_node_t *n, const char *key, long *out, int code,
		  struct lb_err *err)
{
	if (!n)
		return 0;
	int rc = want_scalar(d, n, key, "a duration like 3d or 12h", code, err);
	if (rc)
		return rc;
	static const struct unit units[] = {{"s", 1},	  {"m", 60},	 {"min", 60}, {"h", 3600},
					    {"d", 86400}, {"w", 604800}, {NULL, 0}};
	unsigned long long v;
	struct span s = yscalar(n);
	if (!parse_number_unit(s, units, &v) || v > LONG_MAX)
		return yerr(d, n, code, err,
			    "'%s' must be a duration like 90s, 15m, 12h, 3d or 1w, not '%.*s'", key,
			    (int)s.n, s.p);
	*out = (long)v;
	return 0;
}

int yget_size(struct ydoc *d, const yaml_node_t *n, const char *key, size_t *out, int code,
	      struct lb_err *err)
{
	if (!n)
		return 0;
	int rc = want_scalar(d, n, key, "a size like 25MB", code, err);
	if (rc)
		return rc;
	static const struct unit units[] = {{"B", 1},	     {"K", 1024},     {"KB", 1024},
					    {"M", 1 << 20},  {"MB", 1 << 20}, {"G", 1 << 30},
					    {"GB", 1 << 30}, {NULL, 0}};
	unsigned long long v;
	struct span s = yscalar(n);
	if (!parse_number_unit(s, units, &v) || v > SIZE_MAX)
		return yerr(d, n, code, err, "'%s' must be a size like 512KB or 25MB, not '%.*s'",
			    key, (int)s.n, s.p);
	*out = (size_t)v;
	return 0;
}

void strlist_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

int yget_strlist(struct ydoc *d, const yaml_node_t *n, const char *key, char ***out, size_t *count,
		 int code, struct lb_err *err)
{
	if (!n)
		return 0;
	size_t len = yis_seq(n) ? ylen(n) : 1;
	char **list = xcalloc(len + 1, sizeof *list);
	for (size_t i = 0; i < len; i++) {
		const yaml_node_t *item = yis_seq(n) ? yseq_at(d, n, i) : n;
		int rc = yget_str(d, item, key, &list[i], code, err);
		if (rc) {
			strlist_free(list);
			return rc;
		}
	}
	strlist_free(*out);
	*out = list;
	if (count)
		*count = len;
	return 0;
}

int yreq(struct ydoc *d, const yaml_node_t *map, const char *what, const char *key, int code,
	 struct lb_err *err)
{
	return yerr(d, map, code, err, "%s is missing the required key '%s'", what, key);
}
