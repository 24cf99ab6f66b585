#include "store/csv.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* The separator the first line uses most, outside quotes; ',' by default. */
static char guess_sep(struct span t)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;
	for (size_t i = 0; i < t.n && (quoted || (t.p[i] != '\n' && t.p[i] != '\r')); i++) {
		if (t.p[i] == '"')
			quoted = !quoted;
		else if (!quoted && t.p[i] == ',')
			comma++;
		else if (!quoted && t.p[i] == ';')
			semi++;
		else if (!quoted && t.p[i] == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	return tab > comma ? '\t' : ',';
}

void csv_init(struct csv *c, const char *file, struct span text)
{
	memset(c, 0, sizeof *c);
	c->file = file;
	c->text = text;
	if (text.n >= 3 && memcmp(text.p, "\xef\xbb\xbf", 3) == 0)
		c->pos = 3;
	c->line = 1;
	c->sep = guess_sep((struct span){text.p + c->pos, text.n - c->pos});
}

void csv_row_free(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* Consume a line end at *i (CRLF, LF or CR); false when there is none. */
static bool line_end(struct csv *c, size_t *i)
{
	const struct span t = c->text;
	if (*i >= t.n || (t.p[*i] != '\n' && t.p[*i] != '\r'))
		return false;
	if (t.p[*i] == '\r' && *i + 1 < t.n && t.p[*i + 1] == '\n')
		(*i)++;
	(*i)++;
	c->line++;
	return true;
}

int csv_next(struct csv *c, struct csv_row *r, struct lb_err *err)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
	const struct span t = c->text;
	size_t i = c->pos;
	if (i >= t.n)
		return 0;
	r->line = c->line;
	r->row = ++c->rows;
	struct buf f = BUF_INIT;
	for (;;) {
		buf_reset(&f);
		if (i < t.n && t.p[i] == '"') {
			size_t start_line = c->line;
			for (i++;; i++) {
				if (i >= t.n) {
					buf_free(&f);
					return err_set(err, LB_EDATA,
						       "%s:%zu: a quoted field that starts on this "
						       "line is never closed",
						       c->file, start_line);
				}
				if (t.p[i] == '"' && i + 1 < t.n && t.p[i + 1] == '"') {
					buf_addc(&f, '"');
					i++;
				} else if (t.p[i] == '"') {
					i++;
					break;
				} else {
					if (t.p[i] == '\n' ||
					    (t.p[i] == '\r' &&
					     (i + 1 >= t.n || t.p[i + 1] != '\n')))
						c->line++;
					buf_addc(&f, t.p[i]);
				}
			}
		}
		size_t start = i;
		while (i < t.n && t.p[i] != c->sep && t.p[i] != '\n' && t.p[i] != '\r')
			i++;
		buf_add(&f, t.p + start, i - start);
		r->v = xgrowarray(r->v, &r->cap, r->n + 1, sizeof *r->v);
		r->v[r->n++] = buf_take(&f);
		if (i < t.n && t.p[i] == c->sep) {
			i++;
			continue;
		}
		line_end(c, &i);
		break;
	}
	c->pos = i;
	buf_free(&f);
	return 0;
}

const char *csv_field(const struct csv_row *r, long i)
{
	return i >= 0 && (size_t)i < r->n ? r->v[i] : "";
}

bool csv_row_blank(const struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (span_trim(span_cstr(r->v[i])).n)
			return false;
	return true;
}

static bool named(const char *field, const char *const *names)
{
	struct span f = span_trim(span_cstr(field));
	for (; *names; names++)
		if (f.n == strlen(*names) && span_eq_ci(f, *names))
			return true;
	return false;
}

void csv_people_columns(const struct csv_row *header, struct csv_people *c)
{
	static const char *const email[] = {"email address",  "email",	       "e-mail",
					    "e-mail address", "email_address", NULL};
	static const char *const name[] = {"name", "full name", "full_name", NULL};
	static const char *const first[] = {"first name", "first_name", "firstname", "fname", NULL};
	static const char *const last[] = {"last name", "last_name", "lastname", "lname", NULL};
	static const char *const status[] = {"status", NULL};
	static const char *const left[] = {"unsub_time", "clean_time", NULL};
	c->email = c->name = c->first = c->last = c->status = -1;
	c->left = false;
	for (size_t i = header->n; i-- > 0;) { /* backwards: the first of equals wins */
		const char *f = header->v[i];
		long *col = named(f, email)    ? &c->email
			    : named(f, name)   ? &c->name
			    : named(f, first)  ? &c->first
			    : named(f, last)   ? &c->last
			    : named(f, status) ? &c->status
					       : NULL;
		if (col)
			*col = (long)i;
		c->left = c->left || named(f, left);
	}
}

char *csv_people_name(const struct csv_row *r, const struct csv_people *c)
{
	struct buf raw = BUF_INIT, name = BUF_INIT;
	if (c->name >= 0 && span_trim(span_cstr(csv_field(r, c->name))).n)
		buf_adds(&raw, csv_field(r, c->name));
	else
		buf_printf(&raw, "%s %s", csv_field(r, c->first), csv_field(r, c->last));
	bool blank = false;
	for (size_t i = 0; i < raw.n; i++) {
		char ch = raw.p[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			blank = name.n > 0;
			continue;
		}
		if (blank)
			buf_addc(&name, ' ');
		blank = false;
		buf_addc(&name, ch);
	}
	buf_free(&raw);
	return name.n ? buf_take(&name) : NULL;
}
