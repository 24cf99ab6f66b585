/* bench/softbounce: what recording a soft bounce costs (store/pollstate.h)
 * when the site already has N soft bounces of other addresses: the count of
 * the address's bounces within the window, per bounce (100 addresses with
 * 10 bounces each in the window: more than a real one has, suppressed at 3).  A linked soft
 * bounce (a full mailbox) pays this in poll.
 *
 *   build/bench/softbounce N [BOUNCES=1000]
 *
 * Writes N records in state/poll/soft-bounces of a temporary state
 * directory, as the release before the indexed store kept them (the store
 * reads them in on its first open, not timed), then times BOUNCES soft
 * bounces of one address.  Prints the open (ms), the mean per bounce (µs)
 * and the peak RSS (kB).  Syncing is deferred, as in poll.  The same source builds against that
 * release's library (same API), for the "before".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fsx.h"
#include "store/pollstate.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long peak_kb(void)
{
	long kb = -1;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: softbounce N [BOUNCES]\n");
		return 64;
	}
	long n = strtol(argv[1], NULL, 10), bounces = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
	char dir[] = "/tmp/lbsoft.XXXXXX", path[128];
	if (!mkdtemp(dir))
		return 74;
	snprintf(path, sizeof path, "%s/poll", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/poll/soft-bounces", dir);
	FILE *f = fopen(path, "w");
	for (long i = 0; f && i < n; i++)
		fprintf(
		    f, "2026-11-%02ldT12:00:00Z\tuser%ld@example.org\tmid:old-%ld@mx.example.org\n",
		    1 + i % 28, i % 20000, i);
	if (f)
		fclose(f);
	struct pollstate *ps;
	struct lb_err err = {0};
	/* the first open reads the release's files in (the store's upgrade) */
	if (pollstate_open(dir, "maildir:inbox", &ps, &err) || pollstate_close(ps, &err)) {
		fprintf(stderr, "softbounce: %s\n", err.msg);
		return 1;
	}
	/* as poll does: the batch made durable by its fsx_commit */
	fsx_defer_sync(true);
	double t0 = now_ms();
	if (pollstate_open(dir, "maildir:inbox", &ps, &err)) {
		fprintf(stderr, "softbounce: %s\n", err.msg);
		return 1;
	}
	double t1 = now_ms();
	char key[64];
	size_t k = 0;
	for (long i = 0; i < bounces; i++) {
		snprintf(key, sizeof key, "mid:new-%ld@mx.example.org", i);
		if (pollstate_soft_bounce(ps, "ada@example.org", key, 1796300000 + i, 30L * 86400,
					  &k, &err)) {
			fprintf(stderr, "softbounce: %s\n", err.msg);
			return 1;
		}
	}
	double t2 = now_ms();
	pollstate_close(ps, &err);
	printf("softbounce: %ld stored, open %.1f ms, %.1f us per soft bounce (%ld), peak %ld kB\n",
	       n, t1 - t0, (t2 - t1) * 1e3 / (double)bounces, bounces, peak_kb());
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
