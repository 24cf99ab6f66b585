/* bench/suppressions: what a send's per-recipient suppression check costs
 * (store/suppressions.h), the store's indexed look-up against the set read
 * into memory once (a hash on the key, as the release before the store did).
 *
 *   build/bench/suppressions STATE_DIR RECIPIENTS
 *
 * STATE_DIR holds the suppressions (bench/suppressions-run makes it).  The
 * recipients are user0..user{RECIPIENTS-1}@example.org, half of them
 * suppressed when the state holds user0..user{N-1} for N = RECIPIENTS/2.
 * Prints µs per check both ways and the one-off cost of reading the set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/strset.h"
#include "store/db.h"
#include "store/suppressions.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s STATE_DIR RECIPIENTS\n", argv[0]);
		return 64;
	}
	const char *state = argv[1];
	long n = strtol(argv[2], NULL, 10);
	struct lb_err err = {0};
	struct suppressions *s;
	double t0 = now_s();
	if (suppressions_load(state, &s, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double t1 = now_s();
	char addr[64];
	long hits = 0;
	for (long i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "user%ld@example.org", i);
		hits += suppressions_check(s, addr) != SUP_NONE;
	}
	double t2 = now_s();
	/* the alternative: every current suppression read once into a hash */
	struct strset set = STRSET_INIT;
	size_t k;
	const struct suppression *const *v = suppressions_list(s, &k);
	for (size_t i = 0; i < k; i++)
		strset_add_copy(&set, v[i]->key, NULL, NULL);
	double t3 = now_s();
	long hits2 = 0;
	for (long i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "user%ld@example.org", i);
		for (char *c = addr; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + 32);
		bool found = false;
		strset_get(&set, addr, &found);
		hits2 += found;
	}
	double t4 = now_s();
	printf("%ld recipients, %zu suppressed: handle %.1f ms; indexed look-up %.2f µs/check"
	       " (%.0f ms); read into a hash once %.0f ms, then %.2f µs/check (%.0f ms total)\n",
	       n, k, (t1 - t0) * 1e3, (t2 - t1) * 1e6 / (double)n, (t2 - t1) * 1e3, (t3 - t2) * 1e3,
	       (t4 - t3) * 1e6 / (double)n, (t4 - t2) * 1e3);
	if (hits != hits2)
		fprintf(stderr, "disagree: %ld vs %ld\n", hits, hits2);
	strset_free(&set);
	suppressions_free(s);
	db_done(true);
	return 0;
}
