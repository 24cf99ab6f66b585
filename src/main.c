/* letterbox: publish articles by email and hear back from readers.
 * This file is the command table and the global options; nothing else. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"
#include "store/db.h"

static const struct command {
	const char *name;
	cmd_fn fn;
	const char *summary;
} commands[] = {
    {"init", cmd_init, "start a site: letterbox.yaml, templates, an example"},
    {"check", cmd_check, "validate the config, articles, templates and lists"},
    {"preview", cmd_preview, "write one article as a recipient would get it"},
    {"subscribers", cmd_subscribers, "list, add, remove and import subscribers"},
    {"send", cmd_send, "send due articles (run it from cron)"},
    {"poll", cmd_poll, "file replies, bounces and unsubscribes (run it from cron)"},
    {"inquiries", cmd_inquiries, "the people who wrote back: list, show, set, note, reply"},
    {"digest", cmd_digest, "mail staff the open inquiries and newsletter news (cron)"},
    {"status", cmd_status, "where each campaign stands, recipient by recipient"},
    {"cgi", cmd_cgi, "answer one web request (a web server runs it: README)"},
    {"dkim", cmd_dkim, "make a DKIM signing key and print its DNS record"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: letterbox [-C SITE_DIR] [-c CONFIG] [-v] COMMAND [ARGS]\n"
		   "       letterbox COMMAND --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\noptions:\n"
		   "  -C SITE_DIR  the site directory (default: the current directory)\n"
		   "  -c CONFIG    the configuration file (default: SITE_DIR/letterbox.yaml)\n"
		   "  -v           say more (twice: debug)\n"
		   "  --version    print the version\n"
		   "\nexit codes: 0 done, 64 usage, 65 bad data, 69 server unavailable,\n"
		   "74 I/O error, 75 temporary (retry later), 78 configuration error\n");
}

/* Whether letterbox runs as NAME.cgi: a link to it that a web server runs
 * directly (README "The web side"), with the site in LETTERBOX_SITE. */
static bool run_as_cgi(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;
	base = base ? base + 1 : argv0;
	size_t n = base ? strlen(base) : 0;
	return n > 4 && strcmp(base + n - 4, ".cgi") == 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	struct cli g = {.site_dir = "."};
	int c;
	if (run_as_cgi(argv[0])) {
		/* `letterbox cgi` without a shell in between.  Any arguments are
		 * the server's (Apache passes a query without "=" as arguments,
		 * RFC 3875 4.4), not options: they are not read. */
		static char cgi_name[] = "cgi";
		char *cgi_argv[] = {cgi_name, NULL};
		int rc = cmd_cgi(&g, 1, cgi_argv);
		db_done(rc == 0);
		if (g.cfg_loaded)
			config_free(&g.cfg);
		return rc;
	}
	/* "+": stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+C:c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			g.site_dir = optarg;
			break;
		case 'c':
			g.config_path = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("letterbox %s\n", LB_VERSION);
			return 0;
		default: /* getopt said which */
			fprintf(stderr, "(`letterbox --help` says how)\n");
			return 64;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 64;
	}
	const char *name = argv[optind];
	/* A command's bad option is said once, by the command (cli_usage). */
	opterr = 0;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			int rc = commands[i].fn(&g, argc - optind, argv + optind);
			db_done(rc == 0);
			if (g.cfg_loaded)
				config_free(&g.cfg);
			return rc;
		}
	}
	fprintf(stderr, "letterbox: unknown command '%s'\n(`letterbox --help` lists them)\n", name);
	return 64;
}
