#include "store/subscribers.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/yamlx.h"

#define DATA LB_EDATA

static void report(sub_report_fn bad, void *ctx, struct ydoc *d, const yaml_node_t *n,
		   const char *what)
{
	if (!bad)
		return;
	struct buf m = BUF_INIT;
	buf_printf(&m, "%s:%zu:%zu: %s", d->file, yline(d, n), n->start_mark.column + 1, what);
	bad(ctx, m.p);
	buf_free(&m);
}

/* One entry: a bare address or a mapping with email/name/others. */
static int load_entry(struct ydoc *d, yaml_node_t *e, struct sublist *l, sub_report_fn bad,
		      void *ctx, struct lb_err *err)
{
	yaml_node_t *email_node = e;
	char *email = NULL, *name = NULL;
	int rc = 0;
	if (yis_map(e)) {
		if ((rc = ymap_check(d, e, "a subscriber", NULL, DATA, err)))
			return rc;
		email_node = ymap_get(d, e, "email");
		if (!email_node) {
			report(bad, ctx, d, e, "a subscriber without an 'email' key: left out");
			l->invalid++;
			return 0;
		}
		if ((rc = yget_str(d, ymap_get(d, e, "name"), "name", &name, DATA, err)))
			return rc;
	}
	if ((rc = yget_str(d, email_node, "email", &email, DATA, err)))
		goto out;
	struct addr a;
	struct lb_err aerr;
	if (addr_parse_spec(span_cstr(email), &a, &aerr) != 0) {
		report(bad, ctx, d, email_node, aerr.msg);
		l->invalid++;
		goto out;
	}
	l->v = xgrowarray(l->v, &l->cap, l->n + 1, sizeof *l->v);
	struct subscriber *s = &l->v[l->n++];
	memset(s, 0, sizeof *s);
	s->email = xstrdup(a.spec);
	s->key = addr_key(a.spec);
	addr_free(&a);
	s->line = yline(d, email_node);
	for (const char *c = name; c && *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			report(bad, ctx, d, e,
			       "the name holds a line break or control character: left out");
			l->invalid++;
			free(s->email);
			free(s->key);
			l->n--;
			goto out;
		}
	}
	if (name && span_trim(span_cstr(name)).n) {
		s->name = name;
		name = NULL;
	}
	if (yis_map(e)) {
		s->fields = xcalloc(ylen(e), sizeof *s->fields);
		for (size_t i = 0; i < ylen(e); i++) {
			struct span k = yscalar(ymap_key(d, e, i));
			yaml_node_t *v = ymap_value(d, e, i);
			if (span_eq(k, "email") || span_eq(k, "name") || yis_null(v))
				continue;
			char *key = span_dup(k);
			rc = yget_str(d, v, key, &s->fields[s->nfields].value, DATA, err);
			if (rc) {
				free(key);
				goto out;
			}
			s->fields[s->nfields++].key = key;
		}
	}
out:
	free(email);
	free(name);
	return rc;
}

/* The list's path and id (its file name without .yaml), set even on error. */
static void sublist_init(struct sublist *l, const char *path)
{
	memset(l, 0, sizeof *l);
	l->path = xstrdup(path);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		n -= 5;
	l->id = xstrndup(base, n);
}

int sublist_load(const char *path, struct sublist *l, sub_report_fn bad, void *ctx,
		 struct lb_err *err)
{
	struct buf text = BUF_INIT;
	int rc = fsx_read(path, &text, 256u << 20, err);
	if (rc)
		sublist_init(l, path);
	else
		rc = sublist_parse(path, text.p, text.n, l, bad, ctx, err);
	buf_free(&text);
	return rc;
}

int sublist_parse(const char *path, const char *text, size_t len, struct sublist *l,
		  sub_report_fn bad, void *ctx, struct lb_err *err)
{
	sublist_init(l, path);
	struct ydoc d = {0};
	int rc = ydoc_load(&d, path, text ? text : "", len, 0, DATA, err);
	if (rc)
		goto out;
	yaml_node_t *root = ydoc_root(&d);
	if (!root)
		goto out; /* an empty list is a list */
	static const char *const keys[] = {"name", "subscribers", NULL};
	if ((rc = ymap_check(&d, root, "a subscriber list", keys, DATA, err)) ||
	    (rc = yget_str(&d, ymap_get(&d, root, "name"), "name", &l->title, DATA, err)))
		goto out;
	yaml_node_t *subs = ymap_get(&d, root, "subscribers");
	if (subs && !yis_seq(subs)) {
		rc = yerr(&d, subs, DATA, err,
			  "'subscribers' must be a list of entries (- email: ...)");
		goto out;
	}
	for (size_t i = 0; subs && i < ylen(subs) && !rc; i++)
		rc = load_entry(&d, yseq_at(&d, subs, i), l, bad, ctx, err);
out:
	ydoc_free(&d);
	return rc;
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

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct sublist *)a)->id, ((const struct sublist *)b)->id);
}

int sublists_load(const char *site_dir, struct sublists *ls, sub_report_fn bad, void *ctx,
		  struct lb_err *err)
{
	memset(ls, 0, sizeof *ls);
	char *dir = path_join(site_dir, "subscribers");
	DIR *dp = opendir(dir);
	int rc = 0;
	if (!dp) {
		free(dir);
		return 0; /* no lists yet */
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(dp)) && !rc) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		ls->v = xgrowarray(ls->v, &cap, ls->n + 1, sizeof *ls->v);
		char *path = path_join(dir, de->d_name);
		rc = sublist_load(path, &ls->v[ls->n++], bad, ctx, err);
		free(path);
	}
	closedir(dp);
	free(dir);
	if (ls->n)
		qsort(ls->v, ls->n, sizeof *ls->v, by_id);
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
