#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct span span_cstr(const char *s)
{
	/* never a NULL pointer: callers may hand a span to memchr and friends */
	return s ? (struct span){s, strlen(s)} : (struct span){"", 0};
}

bool span_eq(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && memcmp(a.p, s, n) == 0;
}

bool span_equal(struct span a, struct span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool span_eq_ci(struct span a, const char *s)
{
	size_t n = strlen(s);
	if (a.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)s[i]))
			return false;
	return true;
}

bool span_starts_with(struct span a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && memcmp(a.p, prefix, n) == 0;
}

bool span_starts_with_ci(struct span a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && span_eq_ci((struct span){a.p, n}, prefix);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct span span_trim(struct span a)
{
	while (a.n && is_space(a.p[0])) {
		a.p++;
		a.n--;
	}
	while (a.n && is_space(a.p[a.n - 1]))
		a.n--;
	return a;
}

char *span_dup(struct span a)
{
	char *s = xmalloc(a.n + 1);
	if (a.n)
		memcpy(s, a.p, a.n);
	s[a.n] = '\0';
	return s;
}

void buf_init(struct buf *b, size_t max)
{
	*b = (struct buf){0};
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->p);
	size_t max = b->max;
	*b = (struct buf){0};
	b->max = max;
}

void buf_reset(struct buf *b)
{
	b->n = 0;
	b->overflow = false;
	if (b->p)
		b->p[0] = '\0';
}

bool buf_grow(struct buf *b, size_t n)
{
	if (b->overflow)
		return false;
	if (n > SIZE_MAX / 2 - b->n - 1 || (b->max && b->n + n > b->max)) {
		b->overflow = true;
		return false;
	}
	size_t need = b->n + n + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
	b->p[b->n] = '\0'; /* a fresh buffer is a valid empty string too */
	return true;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	if (!buf_grow(b, n))
		return;
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addspan(struct buf *b, struct span s)
{
	buf_add(b, s.p, s.n);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || !buf_grow(b, (size_t)n))
		return;
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	b->n += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_add_html(struct buf *b, const char *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *ent;
		switch (p[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		buf_add(b, p + run, i - run);
		buf_adds(b, ent);
		run = i + 1;
	}
	buf_add(b, p + run, n - run);
}

void buf_truncate(struct buf *b, size_t n)
{
	b->n = n > b->n ? 0 : b->n - n;
	if (b->p)
		b->p[b->n] = '\0';
}

const char *buf_cstr(const struct buf *b)
{
	return b->p ? b->p : "";
}

struct span buf_span(const struct buf *b)
{
	return (struct span){buf_cstr(b), b->n};
}

char *buf_take(struct buf *b)
{
	char *p = b->p ? b->p : xstrdup("");
	size_t max = b->max;
	*b = (struct buf){0};
	b->max = max;
	return p;
}
