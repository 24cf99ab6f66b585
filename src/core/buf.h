/* Growable byte buffers and read-only slices.
 *
 * struct buf is always NUL-terminated once anything was added (b->p may be NULL
 * while empty: use buf_cstr() to read it as a string).  A buffer may carry a
 * size cap: an append that would pass it sets b->overflow, drops the data and
 * makes every later append a no-op, so a caller checks once at the end.
 * Out of memory aborts (see mem.h): there is nothing useful to do about it in
 * a cron job, and it keeps every call site free of impossible error paths.
 */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A read-only slice of someone else's memory; never owns, never NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

#define SPAN_LIT(s) ((struct span){(s), sizeof(s) - 1})

struct span span_cstr(const char *s);
bool span_eq(struct span a, const char *s);
bool span_equal(struct span a, struct span b);
bool span_eq_ci(struct span a, const char *s);
bool span_starts_with(struct span a, const char *prefix);
bool span_starts_with_ci(struct span a, const char *prefix);
struct span span_trim(struct span a);
/* Duplicate as a NUL-terminated heap string; caller frees. */
char *span_dup(struct span a);

struct buf {
	char *p;       /* bytes, NUL-terminated after the first append */
	size_t n;      /* bytes used, not counting the NUL */
	size_t cap;    /* bytes allocated */
	size_t max;    /* 0 = no cap; else largest n allowed */
	bool overflow; /* an append was refused because of max */
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		0                                                                                  \
	}

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forget the contents, keep the memory. */
void buf_reset(struct buf *b);
/* Make room for n more bytes; returns false (and sets overflow) past the cap. */
bool buf_grow(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addspan(struct buf *b, struct span s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append p[0..n) with & < > " ' written as HTML entities: safe in element
 * text and in quoted attribute values. */
void buf_add_html(struct buf *b, const char *p, size_t n);
/* Drop the last n bytes (n is clamped to the length). */
void buf_truncate(struct buf *b, size_t n);
/* The contents as a string: "" when empty, never NULL. */
const char *buf_cstr(const struct buf *b);
struct span buf_span(const struct buf *b);
/* Hand the memory over: returns a NUL-terminated heap string the caller frees
 * (an empty string when nothing was added) and leaves b empty. */
char *buf_take(struct buf *b);

#endif
