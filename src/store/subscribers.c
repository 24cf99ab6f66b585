#include "store/subscribers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/yamlx.h"

#define DATA LB_EDATA

/* Lists are read with libyaml's event parser, not its document API: a
 * 100,000-subscriber list as a document tree takes ~70 MB, streamed it takes
 * what one entry takes. */
struct stream {
	yaml_parser_t p;
	yaml_event_t e;
	bool have;
	size_t depth;		 /* collections open */
	const char *path, *text; /* text: NULL when reading from a file */
	size_t len;
	struct lb_err *err;
};

/* yaml_problem_place for a list read from a file: the reader's errors give a
 * byte offset only, so read up to it again, a chunk at a time. */
static void problem_place_in_file(struct stream *s, size_t *line, size_t *col)
{
	*line = s->p.problem_mark.line + 1;
	*col = s->p.problem_mark.column + 1;
	if (s->p.error != YAML_READER_ERROR)
		return;
	FILE *f = fopen(s->path, "rb");
	char chunk[65536];
	size_t left = s->p.problem_offset, n;
	bool cr = false;
	*line = *col = 1;
	while (f && left && (n = fread(chunk, 1, left < sizeof chunk ? left : sizeof chunk, f))) {
		/* as yaml_problem_place: CR LF is one break, a lone CR one too */
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)chunk[i];
			if (c == '\n' && cr) {
				cr = false;
				continue;
			}
			cr = c == '\r';
			if (c == '\n' || c == '\r') {
				(*line)++;
				*col = 1;
			} else if ((c & 0xc0) != 0x80) {
				(*col)++;
			}
		}
		left -= n;
	}
	if (f)
		fclose(f);
}

static int at(struct stream *s, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int at(struct stream *s, yaml_mark_t m, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(s->err, DATA, "%s:%zu:%zu: %s", s->path, m.line + 1, m.column + 1, what);
}

static int next(struct stream *s)
{
	if (s->have)
		yaml_event_delete(&s->e);
	s->have = false;
	if (!yaml_parser_parse(&s->p, &s->e)) {
		size_t line, col;
		if (s->text)
			yaml_problem_place(&s->p, s->text, s->len, &line, &col);
		else
			problem_place_in_file(s, &line, &col);
		return err_set(s->err, DATA, "%s:%zu:%zu: %s%s%s", s->path, line, col,
			       s->p.problem ? s->p.problem : "invalid YAML",
			       s->p.context ? " " : "", s->p.context ? s->p.context : "");
	}
	s->have = true;
	if (s->e.type == YAML_SEQUENCE_START_EVENT || s->e.type == YAML_MAPPING_START_EVENT) {
		if (++s->depth > YAML_MAX_DEPTH)
			return at(s, s->e.start_mark, "nested more than %d levels deep",
				  YAML_MAX_DEPTH);
	} else if (s->e.type == YAML_SEQUENCE_END_EVENT || s->e.type == YAML_MAPPING_END_EVENT) {
		s->depth--;
	}
	if (s->e.type == YAML_ALIAS_EVENT)
		return at(s, s->e.start_mark, "aliases (*name) are not supported in lists");
	return 0;
}

static struct span ev_scalar(const yaml_event_t *e)
{
	return (struct span){(const char *)e->data.scalar.value, e->data.scalar.length};
}

static bool ev_null(const yaml_event_t *e)
{
	if (e->type != YAML_SCALAR_EVENT || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	struct span v = ev_scalar(e);
	return v.n == 0 || span_eq(v, "~") || span_eq(v, "null") || span_eq(v, "Null") ||
	       span_eq(v, "NULL");
}

/* Skip a whole node (the current event starts it). */
static int skip_node(struct stream *s)
{
	int depth = 0, rc;
	do {
		if (s->e.type == YAML_SEQUENCE_START_EVENT || s->e.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (s->e.type == YAML_SEQUENCE_END_EVENT ||
			 s->e.type == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > 0 && (rc = next(s)))
			return rc;
	} while (depth > 0);
	return 0;
}

/* A value with its NUL bytes shown as \0, for a message. */
static char *nul_visible(struct span v)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i])
			buf_addc(&b, v.p[i]);
		else
			buf_adds(&b, "\\0");
	}
	return buf_take(&b);
}

/* One entry, being read. */
struct entry {
	char *email, *name;
	yaml_mark_t at, email_at;
	char *nul_key; /* a value holding a NUL byte (YAML "\0"): the entry is left out */
	yaml_mark_t nul_at;
	struct kv *fields;
	size_t nfields, cap;
};

static void entry_free(struct entry *e)
{
	free(e->email);
	free(e->name);
	free(e->nul_key);
	for (size_t i = 0; i < e->nfields; i++) {
		free(e->fields[i].key);
		free(e->fields[i].value);
	}
	free(e->fields);
	memset(e, 0, sizeof *e);
}

/* A mapping entry: scalar keys, scalar values; the current event is MAPPING_START. */
static int read_mapping(struct stream *s, struct entry *e)
{
	int rc;
	for (;;) {
		if ((rc = next(s)))
			return rc;
		if (s->e.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (s->e.type != YAML_SCALAR_EVENT)
			return at(s, s->e.start_mark, "a subscriber: keys must be plain words");
		char *key = span_dup(ev_scalar(&s->e));
		bool dup = (e->email && strcmp(key, "email") == 0) ||
			   (e->name && strcmp(key, "name") == 0);
		for (size_t i = 0; i < e->nfields && !dup; i++)
			dup = strcmp(e->fields[i].key, key) == 0;
		if (dup) {
			rc = at(s, s->e.start_mark, "duplicate key '%s' in a subscriber", key);
			free(key);
			return rc;
		}
		if ((rc = next(s))) {
			free(key);
			return rc;
		}
		if (s->e.type != YAML_SCALAR_EVENT) {
			rc = at(s, s->e.start_mark, "'%s' must be a string", key);
			free(key);
			return rc;
		}
		struct span v = ev_scalar(&s->e);
		if (memchr(v.p, '\0', v.n)) {
			/* Cut at the NUL it would be another value: refuse it, by name. */
			if (strcmp(key, "email") == 0 && !e->email)
				e->email = nul_visible(v); /* for the message */
			if (!e->nul_key) {
				e->nul_key = key;
				e->nul_at = s->e.start_mark;
			} else {
				free(key);
			}
		} else if (ev_null(&s->e)) {
			free(key); /* an empty value is an absent one */
		} else if (strcmp(key, "email") == 0) {
			e->email = span_dup(v);
			e->email_at = s->e.start_mark;
			free(key);
		} else if (strcmp(key, "name") == 0) {
			e->name = span_dup(v);
			free(key);
		} else {
			e->fields =
			    xgrowarray(e->fields, &e->cap, e->nfields + 1, sizeof *e->fields);
			e->fields[e->nfields++] = (struct kv){key, span_dup(v)};
		}
	}
}

static void report_at(struct stream *s, sub_invalid_fn bad, void *ctx, yaml_mark_t m,
		      const char *email, const char *what)
{
	if (!bad)
		return;
	struct buf msg = BUF_INIT;
	buf_printf(&msg, "%s:%zu:%zu: %s", s->path, m.line + 1, m.column + 1, what);
	bad(ctx, email, msg.p);
	buf_free(&msg);
}

/* Validate an entry and hand it to on_entry; invalid ones go to bad. */
static int deliver_entry(struct stream *s, struct entry *e, sub_entry_fn on_entry,
			 sub_invalid_fn bad, void *ctx, size_t *invalid)
{
	if (e->nul_key) {
		struct buf msg = BUF_INIT;
		if (e->email)
			buf_printf(&msg, "'%s': ", e->email);
		buf_printf(&msg, "the %s holds a NUL byte: left out", e->nul_key);
		report_at(s, bad, ctx, e->nul_at, e->email, msg.p);
		buf_free(&msg);
		(*invalid)++;
		return 0;
	}
	if (!e->email) {
		report_at(s, bad, ctx, e->at, NULL,
			  "a subscriber without an 'email' key: left out");
		(*invalid)++;
		return 0;
	}
	struct addr a;
	struct lb_err aerr;
	if (addr_parse_spec(span_cstr(e->email), &a, &aerr) != 0) {
		report_at(s, bad, ctx, e->email_at, e->email, aerr.msg);
		(*invalid)++;
		return 0;
	}
	for (const char *c = e->name; c && *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			report_at(s, bad, ctx, e->at, e->email,
				  "the name holds a line break or control character: left out");
			(*invalid)++;
			addr_free(&a);
			return 0;
		}
	}
	struct subscriber sub = {a.spec,    addr_key(a.spec), NULL,
				 e->fields, e->nfields,	      e->email_at.line + 1};
	if (e->name && span_trim(span_cstr(e->name)).n)
		sub.name = e->name;
	int rc = on_entry(ctx, &sub);
	free(sub.key);
	addr_free(&a);
	return rc;
}

static int read_entries(struct stream *s, sub_entry_fn on_entry, sub_invalid_fn bad, void *ctx,
			size_t *invalid)
{
	int rc;
	if (ev_null(&s->e))
		return 0; /* "subscribers:" with nothing yet */
	if (s->e.type != YAML_SEQUENCE_START_EVENT)
		return at(s, s->e.start_mark,
			  "'subscribers' must be a list of entries (- email: ...)");
	for (;;) {
		if ((rc = next(s)))
			return rc;
		if (s->e.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		struct entry e = {0};
		e.at = e.email_at = s->e.start_mark;
		if (s->e.type == YAML_SCALAR_EVENT) {
			struct span v = ev_scalar(&s->e);
			if (memchr(v.p, '\0', v.n)) {
				e.nul_key = xstrdup("email");
				e.nul_at = e.at;
				e.email = nul_visible(v);
			} else if (!ev_null(&s->e)) {
				e.email = span_dup(v);
			}
		} else if (s->e.type == YAML_MAPPING_START_EVENT) {
			rc = read_mapping(s, &e);
		} else {
			rc = at(s, s->e.start_mark, "'email' must be a string");
		}
		if (!rc && (e.email || s->e.type == YAML_MAPPING_END_EVENT))
			rc = deliver_entry(s, &e, on_entry, bad, ctx, invalid);
		entry_free(&e);
		if (rc)
			return rc;
	}
}

/* The parse of a list, its input set: sublist_stream and sublist_stream_file. */
static int stream_list(struct stream *s, char **title, bool *public, sub_entry_fn on_entry,
		       sub_invalid_fn bad, void *ctx, size_t *invalid);

int sublist_stream(const char *path, const char *text, size_t len, char **title, bool *public,
		   sub_entry_fn on_entry, sub_invalid_fn bad, void *ctx, size_t *invalid,
		   struct lb_err *err)
{
	struct stream s = {.path = path, .text = text ? text : "", .len = len, .err = err};
	if (!yaml_parser_initialize(&s.p))
		return err_set(err, LB_ESOFTWARE, "%s: cannot initialise the YAML parser", path);
	yaml_parser_set_input_string(&s.p, (const unsigned char *)(text ? text : ""), len);
	return stream_list(&s, title, public, on_entry, bad, ctx, invalid);
}

int sublist_stream_file(const char *path, char **title, bool *public, sub_entry_fn on_entry,
			sub_invalid_fn bad, void *ctx, size_t *invalid, struct lb_err *err)
{
	struct stream s = {.path = path, .err = err};
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_sys(err, errno == ENOENT ? LB_ENOINPUT : fsx_errno_code(errno), "%s",
			       path);
	if (!yaml_parser_initialize(&s.p)) {
		fclose(f);
		return err_set(err, LB_ESOFTWARE, "%s: cannot initialise the YAML parser", path);
	}
	yaml_parser_set_input_file(&s.p, f);
	int rc = stream_list(&s, title, public, on_entry, bad, ctx, invalid);
	if (!rc && ferror(f))
		rc = err_sys(err, LB_EIO, "%s", path);
	fclose(f);
	return rc;
}

static int stream_list(struct stream *s, char **title, bool *public, sub_entry_fn on_entry,
		       sub_invalid_fn bad, void *ctx, size_t *invalid)
{
	size_t dummy = 0;
	if (!invalid)
		invalid = &dummy;
	bool seen_name = false, seen_subs = false, seen_public = false;
	int rc;
	/* STREAM_START, then DOCUMENT_START or STREAM_END (an empty file), then the root. */
	for (int i = 0; i < 3; i++)
		if ((rc = next(s)) || s->e.type == YAML_STREAM_END_EVENT)
			goto out;
	if (ev_null(&s->e))
		goto out; /* an empty list is a list */
	if (s->e.type != YAML_MAPPING_START_EVENT) {
		rc =
		    at(s, s->e.start_mark, "a subscriber list must be a mapping of keys to values");
		goto out;
	}
	for (;;) {
		if ((rc = next(s)) || s->e.type == YAML_MAPPING_END_EVENT)
			break;
		if (s->e.type != YAML_SCALAR_EVENT) {
			rc = at(s, s->e.start_mark, "a subscriber list: keys must be plain words");
			break;
		}
		struct span k = ev_scalar(&s->e);
		yaml_mark_t km = s->e.start_mark;
		bool is_name = span_eq(k, "name"), is_subs = span_eq(k, "subscribers"),
		     is_public = span_eq(k, "public");
		if (!is_name && !is_subs && !is_public) {
			rc = at(s, km, "unknown key '%.*s' in a subscriber list", (int)k.n, k.p);
			break;
		}
		if ((is_name && seen_name) || (is_subs && seen_subs) ||
		    (is_public && seen_public)) {
			rc = at(s, km, "duplicate key '%s' in a subscriber list",
				is_name	  ? "name"
				: is_subs ? "subscribers"
					  : "public");
			break;
		}
		seen_name |= is_name;
		seen_subs |= is_subs;
		seen_public |= is_public;
		if ((rc = next(s)))
			break;
		if (is_public) {
			/* whether the web sign-up form offers the list */
			bool scalar = s->e.type == YAML_SCALAR_EVENT;
			bool yes = scalar && span_eq(ev_scalar(&s->e), "true");
			bool no = scalar && span_eq(ev_scalar(&s->e), "false");
			if (!yes && !no)
				rc = at(s, s->e.start_mark, "'public' must be true or false");
			else if (public)
				*public = yes;
		} else if (is_subs) {
			rc = read_entries(s, on_entry, bad, ctx, invalid);
		} else if (s->e.type != YAML_SCALAR_EVENT) {
			rc = at(s, s->e.start_mark, "'name' must be a string");
		} else if (!ev_null(&s->e) && title) {
			free(*title);
			*title = span_dup(ev_scalar(&s->e));
		} else {
			rc = skip_node(s);
		}
		if (rc)
			break;
	}
out:
	if (s->have)
		yaml_event_delete(&s->e);
	yaml_parser_delete(&s->p);
	return rc;
}

/* sublist_parse's collector: a deep copy per entry. */
static int collect(void *ctx, const struct subscriber *src)
{
	struct sublist *l = ctx;
	l->v = xgrowarray(l->v, &l->cap, l->n + 1, sizeof *l->v);
	struct subscriber *d = &l->v[l->n++];
	*d = (struct subscriber){
	    xstrdup(src->email), xstrdup(src->key), src->name ? xstrdup(src->name) : NULL, NULL,
	    src->nfields,	 src->line};
	if (src->nfields) {
		d->fields = xcalloc(src->nfields, sizeof *d->fields);
		for (size_t i = 0; i < src->nfields; i++)
			d->fields[i] =
			    (struct kv){xstrdup(src->fields[i].key), xstrdup(src->fields[i].value)};
	}
	return 0;
}

struct collect_ctx {
	struct sublist *l;
	sub_report_fn bad;
	void *ctx;
};

static int collect_entry(void *ctx, const struct subscriber *s)
{
	return collect(((struct collect_ctx *)ctx)->l, s);
}

static void collect_bad(void *ctx, const char *email, const char *msg)
{
	(void)email;
	struct collect_ctx *c = ctx;
	if (c->bad)
		c->bad(c->ctx, msg);
}

char *sublist_id(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		n -= 5;
	return xstrndup(base, n);
}

/* The list's path and id, set even on error. */
static void sublist_init(struct sublist *l, const char *path)
{
	memset(l, 0, sizeof *l);
	l->path = xstrdup(path);
	l->id = sublist_id(path);
}

int sublist_load(const char *path, struct sublist *l, sub_report_fn bad, void *ctx,
		 struct lb_err *err)
{
	sublist_init(l, path);
	struct collect_ctx c = {l, bad, ctx};
	return sublist_stream_file(path, &l->title, &l->public, collect_entry, collect_bad, &c,
				   &l->invalid, err);
}

int sublist_parse(const char *path, const char *text, size_t len, struct sublist *l,
		  sub_report_fn bad, void *ctx, struct lb_err *err)
{
	sublist_init(l, path);
	struct collect_ctx c = {l, bad, ctx};
	return sublist_stream(path, text, len, &l->title, &l->public, collect_entry, collect_bad,
			      &c, &l->invalid, err);
}

void sublist_free(struct sublist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct subscriber *s = &l->v[i];
		free(s->email);
		free(s->key);
		free(s->name);
		for (size_t j = 0; j < s->nfields; j++) {
			free(s->fields[j].key);
			free(s->fields[j].value);
		}
		free(s->fields);
	}
	free(l->v);
	free(l->id);
	free(l->path);
	free(l->title);
	memset(l, 0, sizeof *l);
}

char **sublist_paths(const char *site_dir)
{
	char *dir = path_join(site_dir, "subscribers");
	char **v = fsx_list(dir, ".yaml");
	free(dir);
	return v;
}

int sublists_load(const char *site_dir, struct sublists *ls, sub_report_fn bad, void *ctx,
		  struct lb_err *err)
{
	memset(ls, 0, sizeof *ls);
	char **paths = sublist_paths(site_dir);
	int rc = 0;
	size_t n = 0;
	while (paths[n])
		n++;
	ls->v = xcalloc(n + 1, sizeof *ls->v);
	for (size_t i = 0; i < n && !rc; i++)
		rc = sublist_load(paths[i], &ls->v[ls->n++], bad, ctx, err);
	fsx_list_free(paths);
	return rc;
}

void sublists_free(struct sublists *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		sublist_free(&ls->v[i]);
	free(ls->v);
	memset(ls, 0, sizeof *ls);
}

struct sublist *sublists_find(struct sublists *ls, const char *id)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strcmp(ls->v[i].id, id) == 0)
			return &ls->v[i];
	return NULL;
}

bool sublist_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64 || id[0] == '.' || id[0] == '-')
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}
