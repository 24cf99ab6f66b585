/* letterbox dkim keygen: a DKIM key for the site and the DNS record that
 * publishes it (compose/dkim.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "compose/dkim.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"

static const char usage[] =
    "letterbox dkim keygen --selector S [--algorithm rsa-sha256|ed25519-sha256] [--out FILE]\n"
    "\n"
    "Make a DKIM private key (RSA 2048 bits, the default, or Ed25519) in FILE\n"
    "(default: dkim/S.key in the site directory), mode 0600, never over an\n"
    "existing file, and print the TXT record to publish at\n"
    "S._domainkey.DOMAIN (DOMAIN: dkim.domain, else the From address's) and the\n"
    "letterbox.yaml lines that use the key.  `letterbox check --dns` then says\n"
    "whether the record is there and matches.";

/* A TXT record's text as zone-file strings: at most 255 octets each. */
static void print_zone_strings(const char *rec)
{
	size_t n = strlen(rec);
	for (size_t i = 0; i < n; i += 250)
		printf("%s\"%.*s\"", i ? "\n\t" : "", (int)(n - i < 250 ? n - i : 250), rec + i);
	printf("\n");
}

static int keygen(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"selector", required_argument, NULL, 's'},
					     {"algorithm", required_argument, NULL, 'a'},
					     {"out", required_argument, NULL, 'o'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *selector = NULL, *out = NULL;
	enum dkim_alg alg = DKIM_RSA_SHA256;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "s:a:o:h", opts, NULL)) != -1) {
		if (c == 's')
			selector = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'a' && !dkim_alg_parse(optarg, &alg))
			return cli_usage(usage,
					 "dkim keygen: --algorithm is rsa-sha256 or "
					 "ed25519-sha256, not \"%s\"",
					 optarg);
		else if (c == 'h')
			return printf("usage: %s\n", usage), 0;
		else if (c != 'a')
			return cli_usage(usage, "dkim keygen: bad option");
	}
	if (optind < argc)
		return cli_usage(usage, "dkim keygen: unexpected argument \"%s\"", argv[optind]);
	if (!selector)
		return cli_usage(usage, "dkim keygen: --selector is required");
	for (const char *p = selector; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return cli_usage(usage, "dkim keygen: the selector is one DNS label: "
						"letters, digits, '-' and '_'");
	int rc = cli_config(g);
	if (rc)
		return rc;
	const struct config *cfg = &g->cfg;
	struct buf rel = BUF_INIT, pem = BUF_INIT, record = BUF_INIT;
	struct lb_err err = {0};
	if (out)
		buf_adds(&rel, out);
	else
		buf_printf(&rel, "dkim/%s.key", selector);
	char *path = out ? xstrdup(out) : config_path(cfg, rel.p);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (fsx_exists(path))
		rc = err_set(&err, LB_EDATA, "%s exists; choose another selector or remove it",
			     path);
	if (!rc && slash && slash != dir)
		rc = fsx_mkdirs(dir, 0700, &err);
	if (!rc)
		rc = dkim_keygen(alg, &pem, &record, &err);
	if (!rc)
		rc = fsx_write_new(path, pem.p, pem.n, 0600, &err);
	if (!rc && !out) {
		/* A site is often a git repository (init writes a .gitignore for
		 * state/): a private key in dkim/ must not be committed with it. */
		char *ignore = path_join(dir, ".gitignore");
		static const char keep_out[] = "# private keys: never committed\n*\n";
		if (!fsx_exists(ignore))
			rc = fsx_write_new(ignore, keep_out, sizeof keep_out - 1, 0644, &err);
		free(ignore);
	}
	if (!rc) {
		const char *domain = cfg->dkim_domain ? cfg->dkim_domain : cfg->from.domain;
		printf("wrote %s (%s, mode 0600)\n\n"
		       "Publish this TXT record in DNS (zone-file form):\n\n"
		       "%s._domainkey.%s. IN TXT ",
		       path, dkim_alg_name(alg), selector, domain);
		print_zone_strings(record.p);
		printf("\nThen sign with it (letterbox.yaml):\n\n"
		       "dkim:\n  selector: %s\n  key_file: %s\n  algorithm: %s\n\n"
		       "and run `letterbox check --dns` once the record is published.\n",
		       selector, rel.p, dkim_alg_name(alg));
	}
	if (pem.p)
		memset(pem.p, 0, pem.n);
	buf_free(&pem);
	buf_free(&record);
	buf_free(&rel);
	free(path);
	free(dir);
	return rc ? cli_fail(&err) : 0;
}

int cmd_dkim(struct cli *g, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		if (argc < 2)
			return cli_usage(usage, "dkim: which subcommand? (keygen)");
		return printf("usage: %s\n", usage), 0;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(g, argc - 1, argv + 1);
	return cli_usage(usage, "dkim: unknown subcommand \"%s\" (there is: keygen)", argv[1]);
}
