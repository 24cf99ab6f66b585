/* A tiny test harness: table-driven cases, every CHECK can fail.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_STR(got, "want"); }
 *   int main(void) { RUN(test_something); return harness_done("buf"); }
 */
#ifndef LB_HARNESS_H
#define LB_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_pass, harness_fail;
static const char *harness_test;

#define CHECK(cond) harness_check((cond) != 0, __FILE__, __LINE__, #cond)
#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!harness_check(g_ == w_, __FILE__, __LINE__, #got " == " #want))               \
			fprintf(stderr, "    got %lld, want %lld\n", g_, w_);                      \
	} while (0)
#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!harness_check(g_ && w_ && strcmp(g_, w_) == 0, __FILE__, __LINE__,            \
				   #got " == " #want))                                             \
			fprintf(stderr, "    got  \"%s\"\n    want \"%s\"\n", g_ ? g_ : "(null)",  \
				w_ ? w_ : "(null)");                                               \
	} while (0)
#define RUN(fn)                                                                                    \
	do {                                                                                       \
		harness_test = #fn;                                                                \
		fn();                                                                              \
	} while (0)

static inline int harness_check(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		harness_pass++;
		return 1;
	}
	harness_fail++;
	fprintf(stderr, "FAIL %s (%s:%d): %s\n", harness_test, file, line, what);
	return 0;
}

static inline int harness_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, harness_pass, harness_fail);
	return harness_fail ? 1 : 0;
}

#endif
