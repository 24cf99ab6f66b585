/* letterbox subscribers consent: the consent records of confirmed sign-ups
 * (store/signup.h), for when a practice must show who agreed to what. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/addr.h"
#include "core/json.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "store/signup.h"

static const char usage[] =
    "letterbox subscribers consent [ADDRESS] [--json]\n"
    "\n"
    "The consent records of people who signed up and confirmed (the web form or\n"
    "mail to subscribe.mailto), oldest first, or those of ADDRESS: when they\n"
    "asked and confirmed (UTC), how (web, mail), the list, the address, the IP\n"
    "each step came from, and the hash of the consent text they agreed to (the\n"
    "first 128 bits of its SHA-256: `printf %s TEXT | sha256sum`).\n"
    "\n"
    "  --json  one JSON array of objects with the keys \"confirmed\", \"requested\",\n"
    "          \"source\", \"list\", \"address\", \"ip_request\", \"ip_confirm\",\n"
    "          \"consent_sha256\"";

int subscribers_consent(struct cli *g, int argc, char **argv)
{
	struct consents c = {0};
	struct lb_err err = {0};
	char *want = NULL;
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int ch, rc;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: %s\n", usage);
			return 0;
		}
		if (ch != 'j')
			return cli_usage(usage, "%s: unknown option", argv[0]);
		json = true;
	}
	if (argc - optind > 1)
		return cli_usage(usage, "%s: name at most one address", argv[0]);
	const char *arg = optind < argc ? argv[optind] : NULL;
	if ((rc = cli_config(g)))
		return rc;
	if (arg) {
		struct addr a;
		if (addr_parse(span_cstr(arg), &a, &err)) {
			fprintf(stderr, "letterbox: not an address: %s\n", err.msg);
			return LB_EDATA;
		}
		want = addr_key(a.spec);
		addr_free(&a);
	}
	if (consents_load(g->cfg.state_dir, &c, &err)) {
		free(want);
		return cli_fail(&err);
	}
	struct buf b = BUF_INIT, t1 = BUF_INIT, t2 = BUF_INIT;
	bool first = true;
	if (!json)
		buf_printf(&b, "%-20s  %-20s  %-6s  %-12s  %s  %s  %s  %s\n", "CONFIRMED",
			   "REQUESTED", "SOURCE", "LIST", "ADDRESS", "IP-REQUEST", "IP-CONFIRM",
			   "CONSENT");
	for (size_t i = 0; i < c.n; i++) {
		const struct consent *r = &c.v[i];
		char *key = addr_key(r->address);
		bool skip = want && strcmp(key, want) != 0;
		free(key);
		if (skip)
			continue;
		buf_reset(&t1);
		buf_reset(&t2);
		/* JSON keeps UTC for programs; the table is for a person: local. */
		(json ? time_iso : time_local)(&t1, r->confirmed);
		(json ? time_iso : time_local)(&t2, r->requested);
		if (json) {
			const char *kv[] = {
			    "confirmed",  t1.p,		 "requested",	   t2.p,
			    "source",	  r->source,	 "list",	   r->list,
			    "address",	  r->address,	 "ip_request",	   r->ip_request,
			    "ip_confirm", r->ip_confirm, "consent_sha256", r->hash};
			int f = 1;
			buf_adds(&b, first ? "[\n  {" : ",\n  {");
			for (size_t k = 0; k < sizeof kv / sizeof *kv; k += 2) {
				json_key(&b, kv[k], &f);
				json_str(&b, kv[k + 1]);
			}
			buf_addc(&b, '}');
		} else {
			struct buf ad = BUF_INIT;
			buf_printf(&b, "%-20s  %-20s  %-6s  %-12s  %s  %s  %s  %s\n", t1.p, t2.p,
				   r->source, r->list, term_str(&ad, r->address),
				   *r->ip_request ? r->ip_request : "-",
				   *r->ip_confirm ? r->ip_confirm : "-", r->hash);
			buf_free(&ad);
		}
		first = false;
	}
	if (json)
		buf_adds(&b, first ? "[]\n" : "\n]\n");
	fwrite(buf_cstr(&b), 1, b.n, stdout);
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
	consents_free(&c);
	free(want);
	return 0;
}
