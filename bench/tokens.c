/* bench/tokens: what finding a token's address costs (store/tokens.h): the
 * work behind every /u/TOKEN request and a poll's first linked report.
 *
 *   build/bench/tokens SITE_DIR [REPEATS]
 *
 * SITE_DIR is a site (letterbox.yaml, subscribers/, state/ with a secret and
 * campaigns); bench/web makes them at 1k/10k/100k.  Prints, in ms: a token
 * of the list's last address (the walk reads every list entry), an unknown
 * token (every list entry and every campaign snapshot), and building the
 * whole index (poll).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/token.h"
#include "store/tokens.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int last_address(void *ctx, const char *address)
{
	char **last = ctx;
	free(*last);
	*last = strdup(address);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: tokens SITE_DIR [REPEATS]\n");
		return 64;
	}
	int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	struct config cfg;
	struct secret s;
	struct lb_err err = {0};
	if (config_load(&cfg, argv[1], NULL, &err) || secret_load(cfg.state_dir, false, &s, &err)) {
		fprintf(stderr, "tokens: %s\n", err.msg);
		return 1;
	}
	char *last = NULL;
	size_t known = 0;
	double t0 = now_ms();
	tokens_each_address(&cfg, last_address, &last);
	double walk = now_ms() - t0;
	char tok[TOKEN_LEN + 1];
	token_make(&s, cfg.list_id, last ? last : "x@example.org", tok);
	double hit = 1e9, miss = 1e9, build = 1e9;
	for (int r = 0; r < reps; r++) {
		t0 = now_ms();
		char *a = tokens_find(&cfg, &s, tok);
		double t = now_ms() - t0;
		hit = t < hit ? t : hit;
		free(a);
		t0 = now_ms();
		a = tokens_find(&cfg, &s, "aaaaaaaaaaaaaaaa");
		t = now_ms() - t0;
		miss = t < miss ? t : miss;
		free(a);
		t0 = now_ms();
		struct token_index *ix = token_index_build(&cfg, &s);
		t = now_ms() - t0;
		build = t < build ? t : build;
		known = token_index_size(ix);
		token_index_free(ix);
	}
	printf("%zu known addresses: walk without HMAC %.1f ms; find the last %.1f ms; "
	       "an unknown token %.1f ms; the index %.1f ms (best of %d)\n",
	       known, walk, hit, miss, build, reps);
	free(last);
	config_free(&cfg);
	return 0;
}
