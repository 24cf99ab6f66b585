#include "core/buf.h"

#include <stdlib.h>

#include "harness.h"

static void test_append_and_take(void)
{
	struct buf b = BUF_INIT;
	CHECK_STR(buf_cstr(&b), "");
	buf_adds(&b, "hello");
	buf_addc(&b, ' ');
	buf_printf(&b, "%d-%s", 42, "x");
	CHECK_STR(buf_cstr(&b), "hello 42-x");
	CHECK_INT(b.n, 10);
	buf_truncate(&b, 2);
	CHECK_STR(buf_cstr(&b), "hello 42");
	char *s = buf_take(&b);
	CHECK_STR(s, "hello 42");
	CHECK(b.p == NULL && b.n == 0);
	free(s);
	s = buf_take(&b);
	CHECK_STR(s, "");
	free(s);
}

static void test_cap(void)
{
	struct buf b;
	buf_init(&b, 8);
	buf_adds(&b, "12345678");
	CHECK(!b.overflow);
	buf_adds(&b, "9");
	CHECK(b.overflow);
	buf_adds(&b, "");
	CHECK_STR(buf_cstr(&b), "12345678");
	buf_free(&b);
}

static void test_spans(void)
{
	struct span s = span_trim(SPAN_LIT("  Hello World \r\n"));
	CHECK(span_eq(s, "Hello World"));
	CHECK(span_eq_ci(s, "hello world"));
	CHECK(!span_eq(s, "hello world"));
	CHECK(span_starts_with_ci(s, "HELLO"));
	CHECK(!span_starts_with(s, "Hello World!"));
	char *d = span_dup(s);
	CHECK_STR(d, "Hello World");
	free(d);
}

int main(void)
{
	RUN(test_append_and_take);
	RUN(test_cap);
	RUN(test_spans);
	return harness_done("buf");
}
