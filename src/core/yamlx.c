#include "core/yamlx.h"

#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

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
	int rc = 0;
	if (!yaml_parser_load(&p, &d->doc)) {
		const yaml_mark_t *m = &p.problem_mark;
		rc = err_set(err, code, "%s:%zu:%zu: %s%s%s", file, m->line + 1 + line0,
			     m->column + 1, p.problem ? p.problem : "invalid YAML",
			     p.context ? " " : "", p.context ? p.context : "");
	} else {
		d->loaded = true;
	}
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
