#include "web/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

char *form_decode(const char *s, size_t n, bool plus)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			goto bad;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (valid_utf8(out, o))
		return out;
bad:
	free(out);
	return NULL;
}

void form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

bool form_parse(struct form *f, const char *s, size_t n, const char **why)
{
	form_free(f);
	size_t cap = 0;
	const char *end = s + n;
	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *pe = amp ? amp : end;
		if (pe > s) { /* "a&&b": empty pairs are skipped */
			if (f->n == FORM_MAX_FIELDS) {
				*why = "too many fields";
				goto fail;
			}
			const char *eq = memchr(s, '=', (size_t)(pe - s));
			const char *ne = eq ? eq : pe;
			char *name = form_decode(s, (size_t)(ne - s), true);
			char *value =
			    eq ? form_decode(eq + 1, (size_t)(pe - eq - 1), true) : xstrdup("");
			if (!name || !value) {
				free(name);
				free(value);
				*why = "a field is not valid UTF-8 or has a bad %-escape";
				goto fail;
			}
			f->v = xgrowarray(f->v, &cap, f->n + 1, sizeof *f->v);
			f->v[f->n++] = (struct form_field){name, value};
		}
		s = amp ? amp + 1 : end;
	}
	return true;
fail:
	form_free(f);
	return false;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return f->v[i].value;
	return NULL;
}
