/* bench/compose: complete per-recipient newsletter messages for an article,
 * written to /dev/null, on one core.
 *
 *   build/bench/compose SITE_DIR ARTICLE [N] [copy]
 *
 * With "copy", every message is also flattened into one contiguous buffer
 * (what an SMTP read callback does, byte for byte) before it is written, so
 * the figure includes touching every byte of every message.
 * Prints messages/s, bytes/message and peak RSS.  Recipients are generated
 * (distinct addresses and names, some non-ASCII) one at a time, so memory
 * must stay flat however large N is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "compose/article.h"
#include "compose/message.h"
#include "core/config.h"
#include "core/token.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: compose SITE_DIR ARTICLE.md [N]\n");
		return 64;
	}
	long n = argc > 3 ? strtol(argv[3], NULL, 10) : 200000;
	int copy = argc > 4 && strcmp(argv[4], "copy") == 0;
	struct buf flat = BUF_INIT;
	struct config cfg;
	struct article a;
	struct lb_err err = {0};
	struct secret s;
	memset(&s, 7, sizeof s);
	if (config_load(&cfg, argv[1], NULL, &err) || article_load(argv[2], &a, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	struct newsletter *nl;
	time_t t0 = time(NULL);
	double p0 = now_s();
	if (newsletter_prepare(&cfg, &a, &s, t0, &nl, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double prep = now_s() - p0;
	int fd = open("/dev/null", O_WRONLY);
	struct message m;
	message_init(&m);
	static const char *const first[] = {"Ada", "Zoë", "Seán", "José", "Mei", "Dana \"Dee\""};
	char email[64], name[64];
	size_t bytes = 0;
	double start = now_s();
	for (long i = 0; i < n; i++) {
		snprintf(email, sizeof email, "reader%ld@example.org", i);
		snprintf(name, sizeof name, "%s Reader%ld", first[i % 6], i);
		struct recipient r = {email, i % 7 ? name : NULL, NULL, 0};
		if (newsletter_compose(nl, &r, time(NULL), &m, &err) ||
		    message_write(&m, fd, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		bytes += m.size;
	}
	double secs = now_s() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	buf_free(&flat);
	printf("compose%s: %ld messages in %.3f s = %.0f messages/s, %.0f bytes/message, "
	       "prepare %.1f ms, peak RSS %.1f MB\n",
	       copy ? " (+ copy)" : "", n, secs, (double)n / secs, (double)bytes / (double)n,
	       prep * 1000, (double)ru.ru_maxrss / 1024);
	close(fd);
	message_free(&m);
	newsletter_free(nl);
	article_free(&a);
	config_free(&cfg);
	return 0;
}
