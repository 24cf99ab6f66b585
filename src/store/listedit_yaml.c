/* Where an edit of a list goes, and the check that it read back as meant,
 * with libyaml's event parser: no document tree (a 1,000,000-subscriber
 * list as one took 1.2 GB), memory that does not grow with the list. */
#include "store/listedit_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/mem.h"
#include "core/yamlx.h"
#include "store/subscribers.h"

struct evp {
	yaml_parser_t p;
	yaml_event_t e;
	bool have;
	size_t depth;
	const char *file;
	struct span text;
	struct lb_err *err;
};

static int at(struct evp *s, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int at(struct evp *s, yaml_mark_t m, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(s->err, LB_EDATA, "%s:%zu:%zu: %s", s->file, m.line + 1, m.column + 1, what);
}

/* The next event; errors as ydoc_load gives them. */
static int next(struct evp *s)
{
	if (s->have)
		yaml_event_delete(&s->e);
	s->have = false;
	if (!yaml_parser_parse(&s->p, &s->e)) {
		size_t line, col;
		yaml_problem_place(&s->p, s->text.p, s->text.n, &line, &col);
		return err_set(s->err, LB_EDATA, "%s:%zu:%zu: %s%s%s", s->file, line, col,
			       s->p.problem ? s->p.problem : "invalid YAML",
			       s->p.context ? " " : "", s->p.context ? s->p.context : "");
	}
	s->have = true;
	yaml_event_type_t t = s->e.type;
	if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
		if (++s->depth > YAML_MAX_DEPTH)
			return at(s, s->e.start_mark, "nested more than %d levels deep",
				  YAML_MAX_DEPTH);
	} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
		s->depth--;
	} else if (t == YAML_ALIAS_EVENT) {
		return at(s, s->e.start_mark, "aliases (*name) are not supported in lists");
	}
	return 0;
}

static bool is_start(const yaml_event_t *e)
{
	return e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT;
}

static bool is_flow(const yaml_event_t *e)
{
	return (e->type == YAML_SEQUENCE_START_EVENT &&
		e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE) ||
	       (e->type == YAML_MAPPING_START_EVENT &&
		e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
}

/* Consume the node the current event starts; *end is where its text ends
 * (a character index).  Scalars and flow collections know; a block
 * collection's own end mark is where the next token starts, past any
 * comments, so take its last descendant's instead.  *items (may be NULL)
 * counts a collection's children. */
static int measure(struct evp *s, size_t *end, size_t *items)
{
	int rc;
	size_t n = 0;
	if (!is_start(&s->e)) {
		*end = s->e.end_mark.index;
		return 0;
	}
	bool flow = is_flow(&s->e);
	*end = s->e.start_mark.index;
	for (;;) {
		if ((rc = next(s)))
			return rc;
		if (s->e.type == YAML_SEQUENCE_END_EVENT || s->e.type == YAML_MAPPING_END_EVENT)
			break;
		size_t e;
		n++;
		if ((rc = measure(s, &e, NULL)))
			return rc;
		*end = e > *end ? e : *end;
	}
	if (flow)
		*end = s->e.end_mark.index;
	if (items)
		*items = n;
	return 0;
}

static bool ev_null(const yaml_event_t *e)
{
	if (e->type != YAML_SCALAR_EVENT || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	struct span v = {(const char *)e->data.scalar.value, e->data.scalar.length};
	return v.n == 0 || span_eq(v, "~") || span_eq(v, "null") || span_eq(v, "Null") ||
	       span_eq(v, "NULL");
}

/* libyaml counts marks in characters (a BOM not counted, CRLF as two):
 * the byte offset of character index in t. */
static size_t byte_at(struct span t, size_t index)
{
	size_t i = t.n >= 3 && memcmp(t.p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	for (; index && i < t.n; index--) {
		unsigned char c = (unsigned char)t.p[i];
		i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	}
	return i < t.n ? i : t.n;
}

/* The start of the line after the one holding byte pos (pos itself when it
 * already starts a line, the end of the text when there is no next line). */
static size_t next_line(struct span t, size_t pos)
{
	if (pos > 0 && pos <= t.n && t.p[pos - 1] == '\n')
		return pos;
	const char *nl = pos < t.n ? memchr(t.p + pos, '\n', t.n - pos) : NULL;
	return nl ? (size_t)(nl - t.p) + 1 : t.n;
}

static const char flow_help[] = "; letterbox edits a list written one entry per line:\n"
				"    subscribers:\n"
				"      - email: ada@example.org\n"
				"        name: Ada Lovelace\n"
				"rewrite it that way and try again (nothing was changed)";

/* What the document says about the `subscribers:` value. */
struct subs_value {
	bool key, null, seq, flow;
	size_t key_col, items, end;
	yaml_mark_t start, stop, last; /* the value's marks; its last item's start */
};

static int read_subs_value(struct evp *s, struct subs_value *v)
{
	v->key = true;
	v->start = s->e.start_mark;
	v->null = ev_null(&s->e);
	v->seq = s->e.type == YAML_SEQUENCE_START_EVENT;
	v->flow = is_flow(&s->e);
	v->items = 0;
	if (!v->seq || v->flow) {
		int rc = measure(s, &v->end, &v->items);
		v->stop = s->e.end_mark;
		return rc;
	}
	v->end = s->e.start_mark.index;
	for (;;) {
		int rc = next(s);
		if (rc)
			return rc;
		if (s->e.type == YAML_SEQUENCE_END_EVENT)
			break;
		size_t e;
		v->items++;
		v->last = s->e.start_mark;
		if ((rc = measure(s, &e, NULL)))
			return rc;
		v->end = e > v->end ? e : v->end;
	}
	v->stop = s->e.end_mark;
	return 0;
}

/* The whole document read, then judged: a YAML error anywhere comes first. */
static int plan(struct evp *s, struct span old, struct listedit_plan *p)
{
	struct subs_value v = {0};
	yaml_mark_t root_at = {0};
	bool root = false, map = false, flow = false;
	size_t root_end = 0;
	int rc;
	for (int i = 0; i < 2; i++)
		if ((rc = next(s)))
			return rc;
	if (s->e.type == YAML_DOCUMENT_START_EVENT) {
		if ((rc = next(s)))
			return rc;
		root = true;
		root_at = s->e.start_mark;
		map = s->e.type == YAML_MAPPING_START_EVENT;
		flow = is_flow(&s->e);
		root_end = s->e.start_mark.index;
		if (!map) {
			rc = measure(s, &root_end, NULL);
		} else {
			for (;;) {
				if ((rc = next(s)))
					return rc;
				if (s->e.type == YAML_MAPPING_END_EVENT)
					break;
				size_t e, col = s->e.start_mark.column;
				bool subs =
				    s->e.type == YAML_SCALAR_EVENT &&
				    span_eq((struct span){(const char *)s->e.data.scalar.value,
							  s->e.data.scalar.length},
					    "subscribers");
				if ((rc = measure(s, &e, NULL)) || (rc = next(s)))
					return rc;
				root_end = e > root_end ? e : root_end;
				if (subs) {
					rc = read_subs_value(s, &v);
					v.key_col = col;
					e = v.end;
				} else {
					rc = measure(s, &e, NULL);
				}
				if (rc)
					return rc;
				root_end = e > root_end ? e : root_end;
			}
		}
		if (rc)
			return rc;
	}
	p->ins = old.n;
	p->dash = 2;
	p->content = 4;
	if (root && !map)
		return at(s, root_at, "not a subscriber list (name: and subscribers:)");
	if (root && flow)
		return at(s, root_at, "the list is written in flow style ({...})%s", flow_help);
	if (!root) {
		p->add_key = true; /* empty, or only comments */
	} else if (!v.key) {
		p->add_key = true;
		p->ins = next_line(old, byte_at(old, root_end));
		p->dash = root_at.column + 2;
	} else if (v.null || (v.seq && v.flow && v.items == 0)) {
		/* no entries yet: drop a "~" or "[]" and start the block list */
		p->cut_from = byte_at(old, v.start.index);
		p->cut_to = byte_at(old, v.stop.index);
		while (p->cut_from > 0 && old.p[p->cut_from - 1] == ' ' &&
		       (p->cut_to == old.n || old.p[p->cut_to] == '\n' || old.p[p->cut_to] == '\r'))
			p->cut_from--;
		p->ins = next_line(old, p->cut_to);
		p->dash = v.key_col + 2;
	} else if (!v.seq) {
		return at(s, v.start, "'subscribers' must be a list of entries (- email: ...)");
	} else if (v.flow) {
		return at(s, v.start, "the list is written in flow style ([...])%s", flow_help);
	} else {
		p->dash = v.start.column;
		/* "-   email: x" keeps its spacing; a "-" alone on its line gets 2 */
		size_t b = byte_at(old, v.last.index);
		while (b > 0 && (old.p[b - 1] == ' ' || old.p[b - 1] == '\t'))
			b--;
		p->content = b > 0 && old.p[b - 1] == '-' ? v.last.column : p->dash + 2;
		p->ins = next_line(old, byte_at(old, v.end));
	}
	if (p->add_key)
		p->content = p->dash + 2;
	return 0;
}

int listedit_plan(const char *file, struct span old, struct listedit_plan *p, struct lb_err *err)
{
	struct evp s = {.file = file, .text = old, .err = err};
	memset(p, 0, sizeof *p);
	const char *nl = old.n ? memchr(old.p, '\n', old.n) : NULL;
	p->eol = nl && nl > old.p && nl[-1] == '\r' ? "\r\n" : "\n";
	if (!yaml_parser_initialize(&s.p))
		return err_set(err, LB_ESOFTWARE, "%s: cannot initialise the YAML parser", file);
	yaml_parser_set_input_string(&s.p, (const unsigned char *)old.p, old.n);
	int rc = plan(&s, old, p);
	if (s.have)
		yaml_event_delete(&s.e);
	yaml_parser_delete(&s.p);
	return rc;
}

/* ---- reading a list back ------------------------------------------------------------------ */

static uint64_t mix(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0xff) * 0x100000001b3ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xfe) * 0x100000001b3ull;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int read_entry(void *ctx, const struct subscriber *s)
{
	struct list_reading *r = ctx;
	size_t i = r->n++;
	r->found |= r->key && strcmp(s->key, r->key) == 0;
	if (r->want && i >= r->skip) {
		/* a new entry: read back as written (a name of blanks reads as none)? */
		const struct listedit_entry *e =
		    i - r->skip < r->nwant ? &r->want[i - r->skip] : NULL;
		const char *name = e && e->name && span_trim(span_cstr(e->name)).n ? e->name : NULL;
		if (!r->bad && (!e || strcmp(s->email, e->email) != 0 || !same_str(s->name, name) ||
				s->nfields != 0))
			r->bad = i + 1;
		return 0;
	}
	uint64_t h = mix(mix(0xcbf29ce484222325ull, s->email), s->name);
	for (size_t k = 0; k < s->nfields; k++)
		h = mix(mix(h, s->fields[k].key), s->fields[k].value);
	if (r->want) {
		if (!r->bad && (i >= r->cap || r->hash[i] != h))
			r->bad = i + 1; /* cap: the old reading's count */
		return 0;
	}
	r->hash = xgrowarray(r->hash, &r->cap, r->n, sizeof *r->hash);
	r->hash[i] = h;
	return 0;
}

int list_read(const char *file, struct span text, struct list_reading *r, struct lb_err *err)
{
	r->n = r->invalid = 0;
	r->bad = 0;
	if (!text.p)
		return sublist_stream_file(file, &r->title, NULL, read_entry, NULL, r, &r->invalid,
					   err);
	return sublist_stream(file, text.p, text.n, &r->title, NULL, read_entry, NULL, r,
			      &r->invalid, err);
}

void list_reading_free(struct list_reading *r)
{
	if (!r->want)
		free(r->hash);
	free(r->title);
	memset(r, 0, sizeof *r);
}

int list_compare(const char *file, const struct list_reading *old,
		 const struct list_reading *edited, struct lb_err *err)
{
	size_t bad = edited->bad;
	if (!same_str(old->title, edited->title) || old->invalid != edited->invalid ||
	    edited->n != old->n + edited->nwant)
		return err_set(err, LB_EDATA,
			       "%s: the edited list would not read back as intended (count %zu); "
			       "nothing was changed: please report this",
			       file, edited->n);
	if (bad)
		return err_set(err, LB_EDATA,
			       "%s: the edited list would not read back as intended (entry %zu); "
			       "nothing was changed: please report this",
			       file, bad);
	return 0;
}
