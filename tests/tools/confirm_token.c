/* confirm_token: make a sign-up confirmation token with a site's secret,
 * for tests that need one the web form would not give out (expired, issued
 * in the future, for another list).
 *
 *   confirm_token STATE_DIR REQUESTED LIST ADDRESS [NAME [IP [SOURCE]]]
 *
 * REQUESTED is seconds since the epoch.  Prints the token. */
#include <stdio.h>
#include <stdlib.h>

#include "core/token.h"

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 8) {
		fprintf(stderr, "usage: confirm_token STATE_DIR REQUESTED LIST ADDRESS [NAME [IP "
				"[SOURCE]]]\n");
		return 64;
	}
	struct secret s;
	struct lb_err err = {0};
	if (secret_load(argv[1], false, &s, &err)) {
		fprintf(stderr, "confirm_token: %s\n", err.msg);
		return 1;
	}
	static char web[] = "web", none[] = "";
	char hash[33];
	consent_hash("test", hash);
	struct confirm_req r = {
	    (time_t)strtoll(argv[2], NULL, 10), argc > 7 ? argv[7] : web,  argv[3], argv[4],
	    argc > 5 ? argv[5] : none,		argc > 6 ? argv[6] : none, hash};
	char *t = confirm_token_make(&s, &r);
	if (!t)
		return 1;
	puts(t);
	free(t);
	return 0;
}
