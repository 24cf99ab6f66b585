/* letterbox cgi: answer one web request (CGI/1.1) and exit.  The site is
 * -C DIR or the environment's LETTERBOX_SITE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/termsafe.h"
#include "web/web.h"

static const char usage[] = "letterbox [-C SITE] cgi   (run by a web server, see README)";

int cmd_cgi(struct cli *g, int argc, char **argv)
{
	if (cli_help(argc, argv, usage))
		return 0;
	if (argc > 1)
		return cli_usage(usage, "cgi takes no arguments");
	const char *env_site = getenv("LETTERBOX_SITE");
	if (strcmp(g->site_dir, ".") == 0 && env_site && *env_site)
		g->site_dir = env_site;

	struct web_req req;
	struct lb_err err = {0};
	int rc = web_request_read(&req, stdin, time(NULL), &err);
	if (rc == LB_EUSAGE) {
		web_request_free(&req);
		return cli_usage(usage, "%s", err.msg);
	}
	struct web_resp resp;
	web_resp_init(&resp);
	if (rc) {
		log_warn("cgi: %s", err.msg);
		resp.status = 400;
		resp.content_type = "text/plain; charset=utf-8";
		buf_adds(&resp.body, "Bad request.\n");
	} else {
		struct lb_err cerr = {0};
		struct config cfg;
		/* state/ checked as every command does; this is also where a
		 * shared-group state/ (mode 2770) is found (core/fsx.h) */
		if (config_load(&cfg, g->site_dir, g->config_path, &cerr) ||
		    (fsx_exists(cfg.state_dir) && fsx_state_dir(cfg.state_dir, &cerr))) {
			/* the visitor learns nothing about the site; the log does */
			log_warn("cgi: %s", cerr.msg);
			resp.status = 500;
			resp.content_type = "text/plain; charset=utf-8";
			buf_adds(&resp.body, "This site is not available right now.\n");
		} else {
			web_dispatch(&cfg, &req, &resp);
		}
		config_free(&cfg);
	}
	bool written = web_respond(&req, &resp, stdout);
	web_resp_free(&resp);
	web_request_free(&req);
	return written ? 0 : LB_EIO;
}
