/* letterbox preview ARTICLE: the newsletter as one subscriber would get it,
 * written to DIR/SLUG.eml, DIR/SLUG.html and DIR/SLUG.txt. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "compose/message.h"
#include "core/addr.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "store/subscribers.h"

static const char usage[] =
    "letterbox preview ARTICLE [--to \"Name <addr>\"] [--out DIR] [--now TIME]\n"
    "\n"
    "Compose ARTICLE (a file in newsletters/, by path, file name or slug) for one\n"
    "recipient and write DIR/SLUG.eml (the exact message), DIR/SLUG.html and\n"
    "DIR/SLUG.txt.  Nothing is sent.\n"
    "\n"
    "  --to \"Name <addr>\"  the recipient (default: the first subscriber of the\n"
    "                      article's lists, else a sample reader)\n"
    "  --out DIR           where to write (default: preview/)\n"
    "  --now TIME          the time to compose at, e.g. \"2026-11-25 09:00\"";

static int write_file(const char *dir, const char *slug, const char *ext, struct span data,
		      struct lb_err *err)
{
	struct buf name = BUF_INIT;
	buf_printf(&name, "%s%s", slug, ext);
	char *path = path_join(dir, name.p);
	int rc = fsx_write_atomic(path, data.p, data.n, 0644, err);
	if (!rc)
		printf("%s\n", path);
	free(path);
	buf_free(&name);
	return rc;
}

/* The first subscriber of the article's first list, for a realistic preview. */
static bool first_subscriber(struct cli *g, const struct article *a, struct addr *to)
{
	struct sublists ls;
	struct lb_err err;
	bool found = false;
	if (sublists_load(g->site_dir, &ls, NULL, NULL, &err) != 0)
		return false;
	for (size_t i = 0; i < ls.n && !found; i++) {
		struct sublist *l = &ls.v[i];
		bool wanted = !a->lists;
		for (char **w = a->lists; w && *w && !wanted; w++)
			wanted = strcmp(*w, l->id) == 0;
		if (!wanted || l->n == 0)
			continue;
		to->spec = xstrdup(l->v[0].email);
		to->display = l->v[0].name ? xstrdup(l->v[0].name) : NULL;
		found = true;
	}
	sublists_free(&ls);
	return found;
}

static int preview(struct cli *g, const char *name, const char *to_arg, const char *out, time_t now)
{
	struct lb_err err = {0};
	struct article a = {0};
	struct addr to = {0};
	struct secret secret;
	struct newsletter *nl = NULL;
	struct message m;
	struct buf eml = BUF_INIT, html = BUF_INIT, text = BUF_INIT;
	message_init(&m);
	int rc = cli_article(g, name, &a, &err);
	if (rc)
		goto out;
	if (to_arg) {
		if (addr_parse(span_cstr(to_arg), &to, &err) != 0) {
			err_prefix(&err, "--to");
			err.code = LB_EUSAGE;
			rc = LB_EUSAGE;
			goto out;
		}
	} else if (!first_subscriber(g, &a, &to)) {
		to.spec = xstrdup("reader@example.org");
		to.display = xstrdup("Sample Reader");
	}
	if ((rc = secret_load(g->cfg.state_dir, true, &secret, &err)) ||
	    (rc = newsletter_prepare(&g->cfg, &a, &secret, now, &nl, &err)))
		goto out;
	struct recipient r = {to.spec, to.display, NULL, 0};
	if ((rc = newsletter_compose(nl, &r, now, &m, &err)) ||
	    (rc = newsletter_render_parts(nl, &r, &html, &text, &err)))
		goto out;
	message_flatten(&m, &eml);
	if ((rc = fsx_mkdirs(out, 0755, &err)) ||
	    (rc = write_file(out, a.slug, ".eml", buf_span(&eml), &err)) ||
	    (rc = write_file(out, a.slug, ".html", buf_span(&html), &err)) ||
	    (rc = write_file(out, a.slug, ".txt", buf_span(&text), &err)))
		goto out;
out:
	if (rc)
		cli_fail(&err);
	buf_free(&eml);
	buf_free(&html);
	buf_free(&text);
	message_free(&m);
	newsletter_free(nl);
	addr_free(&to);
	article_free(&a);
	return rc;
}

int cmd_preview(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {"out", required_argument, NULL, 'o'},
					     {"now", required_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *to = NULL, *out = NULL, *now_arg = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:o:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'n':
			now_arg = optarg;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			return cli_usage(usage, "preview: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (optind != argc - 1)
		return cli_usage(usage, "preview: name one article");
	time_t now;
	int rc = cli_now(now_arg, &now);
	if (rc || (rc = cli_config(g)))
		return rc;
	char *dir = out ? xstrdup(out) : config_path(&g->cfg, "preview");
	rc = preview(g, argv[optind], to, dir, now);
	free(dir);
	return rc;
}
