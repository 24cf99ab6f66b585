/* letterbox init: a new site that works as it stands, or the templates an
 * existing site lacks. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/init_config.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/embedded.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"

static const char usage[] =
    "letterbox init [DIR] [--name NAME] [--from \"Name <addr>\"]\n"
    "               [--postal-address TEXT] [--url URL] [--timezone ZONE] [--force]\n"
    "       letterbox init [DIR] --templates\n"
    "\n"
    "Start a site in DIR (default: the current directory): letterbox.yaml with\n"
    "every key, set or commented out, templates/, an example article (a draft),\n"
    "an empty list in subscribers/ and a .gitignore; then run `check`.  A value\n"
    "no option gave is the placeholder " INIT_PLACEHOLDER ", which check reports\n"
    "until it is filled in.\n"
    "\n"
    "  --name NAME            the organisation's name (site.name)\n"
    "  --from \"Name <addr>\"   who newsletters are from; reply and unsubscribe\n"
    "                         addresses are made from its domain\n"
    "  --postal-address TEXT  the postal address every footer shows\n"
    "  --url URL              the web site (site.url)\n"
    "  --timezone ZONE        the time zone, like Europe/London (site.timezone)\n"
    "  --force                also when DIR is not empty: letterbox.yaml is\n"
    "                         replaced (the old one kept as letterbox.yaml.old);\n"
    "                         templates, articles and lists are kept\n"
    "  --templates            copy the templates a site lacks into DIR/templates\n"
    "                         (the site's own are never replaced)";

static const char example_article[] =
    "---\n"
    "title: \"Welcome to our newsletter\"\n"
    "date: %s 09:00\n"
    "preheader: \"What to expect from us, and how to write back\"\n"
    "lists: [news]\n"
    "# A draft is never sent: delete this line when the article is ready.\n"
    "draft: true\n"
    "---\n"
    "\n"
    "Thank you for subscribing.  This is an example article: the text under the\n"
    "front matter is [CommonMark](https://commonmark.org/), so *emphasis*, lists\n"
    "and links work as in any Markdown editor.\n"
    "\n"
    "## What you will get\n"
    "\n"
    "- an article now and then, never more than we have something to say;\n"
    "- an answer when you write back: a reply to this message reaches us.\n"
    "\n"
    "To see it as a reader will, run `letterbox preview welcome`.\n";

static const char example_list[] =
    "# A list: `letterbox subscribers add ADDRESS --name NAME --list news` adds\n"
    "# someone here (keeping comments and order); `letterbox subscribers import\n"
    "# FILE.csv --list news` adds many.  The format, one entry per person:\n"
    "#\n"
    "#   - email: ada@example.org\n"
    "#     name: Ada Lovelace\n"
    "#   - grace@example.org\n"
    "#\n"
    "# An unsubscribe is kept in state/, not by editing this file.\n"
    "name: News\n"
    "subscribers:\n";

static const char gitignore[] = "# What letterbox writes as it runs: never committed.\n"
				"/state/\n/outbox/\n/inbox/\n/preview/\n";

/* Write DIR/REL; an existing file is replaced only when replace is set. */
static int put(const char *dir, const char *rel, const char *text, bool replace, bool *wrote,
	       struct lb_err *err)
{
	char *path = path_join(dir, rel);
	int rc = 0;
	*wrote = false;
	if (!fsx_exists(path) || replace) {
		rc = fsx_write_atomic(path, text, strlen(text), 0644, err);
		*wrote = rc == 0;
	}
	free(path);
	return rc;
}

/* Every template this letterbox has, into DIR/templates. */
static int put_templates(const char *dir, bool replace, bool verbose, struct lb_err *err)
{
	char *tdir = path_join(dir, "templates");
	int rc = fsx_mkdirs(tdir, 0755, err);
	free(tdir);
	for (const struct embedded_file *f = embedded_templates; !rc && f->name; f++) {
		char *rel = path_join("templates", f->name);
		bool wrote;
		rc = put(dir, rel, f->text, replace, &wrote, err);
		if (!rc && verbose)
			printf("%s %s\n", wrote ? "wrote" : "kept ", rel);
		free(rel);
	}
	return rc;
}

/* A directory with nothing in it at all. */
static bool bare_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool bare = true;
	while (bare && (e = readdir(d)))
		bare = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return bare;
}

/* Nothing there yet, or only dot files (a fresh git repository) and an
 * empty state/ (tmpfiles.d makes the shared-group one in advance). */
static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return true;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d))) {
		if (strcmp(e->d_name, "state") == 0) {
			char *state = path_join(dir, "state");
			empty = bare_dir(state);
			free(state);
		} else {
			empty = e->d_name[0] == '.';
		}
	}
	closedir(d);
	return empty;
}

/* A bad value: one line and a hint, not the whole usage. */
static int bad_value(const char *opt, const char *val, const char *hint)
{
	term_printf(stderr, "letterbox: init %s '%s': %s\n(`letterbox init --help` says how)\n",
		    opt, val, hint);
	return LB_EUSAGE;
}

static int check_values(const struct init_values *v)
{
	const char *all[] = {v->name, v->from, v->postal_address, v->url, v->timezone};
	/* Control characters (DEL too) and bytes that are not UTF-8 would make
	 * a letterbox.yaml that YAML refuses to read. */
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i] && term_unsafe(all[i]))
			return bad_value(
			    "value", all[i],
			    "a value is one line of UTF-8 text, without control characters");
	struct addr a;
	struct lb_err err;
	if (v->from && addr_parse(span_cstr(v->from), &a, &err))
		return bad_value("--from", v->from, err.msg);
	if (v->from)
		addr_free(&a);
	if (v->url && strncmp(v->url, "https://", 8) != 0 && strncmp(v->url, "http://", 7) != 0)
		return bad_value("--url", v->url, "a web address starts with https://");
	/* The rule config.c applies to site.timezone, so that init never writes a
	 * zone the site then refuses to load. */
	if (v->timezone && !time_zone_known(v->timezone))
		return bad_value("--timezone", v->timezone,
				 "not a time zone: expected a name like Europe/London "
				 "(see /usr/share/zoneinfo)");
	return 0;
}

/* --force replaces letterbox.yaml: the one there is kept first, beside it,
 * as letterbox.yaml.old (or .old.N when that exists too), never lost (its
 * outgoing settings, list_id that every unsubscribe link was made with...).
 * *kept: the copy's path, NULL when there was nothing to keep. */
static int keep_old_config(const char *dir, char **kept, struct lb_err *err)
{
	char *path = path_join(dir, "letterbox.yaml");
	struct buf old = BUF_INIT, name = BUF_INIT;
	*kept = NULL;
	int rc = fsx_exists(path) ? fsx_read(path, &old, 0, err) : 0;
	for (unsigned i = 0; !rc && old.p && !*kept; i++) {
		buf_reset(&name);
		buf_printf(&name, i ? "%s.old.%u" : "%s.old", path, i);
		if (i == 1000)
			rc = err_set(err, LB_EIO, "%s: too many old copies beside it", path);
		else if (!fsx_exists(name.p) &&
			 !(rc = fsx_write_new(name.p, old.p, old.n, 0600, err)))
			*kept = buf_take(&name);
	}
	buf_free(&old);
	buf_free(&name);
	free(path);
	return rc;
}

static int new_site(struct cli *g, const char *dir, const struct init_values *v, bool force)
{
	struct lb_err err = {0};
	if (!dir_empty(dir) && !force) {
		term_printf(stderr,
			    "letterbox: init: %s is not empty; `letterbox init --force %s` makes a "
			    "site there (keeping its articles and lists), `--templates` only adds "
			    "templates\n",
			    dir, dir);
		return LB_EUSAGE;
	}
	struct buf conf = BUF_INIT;
	init_config_write(v, false, &conf);
	char date[16];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	struct buf article = BUF_INIT;
	buf_printf(&article, example_article, date);
	char article_rel[64];
	snprintf(article_rel, sizeof article_rel, "newsletters/%s-welcome.md", date);
	const char *const sub[] = {"newsletters", "subscribers"};
	int rc = fsx_mkdirs(dir, 0755, &err);
	for (size_t i = 0; !rc && i < 2; i++) {
		char *p = path_join(dir, sub[i]);
		rc = fsx_mkdirs(p, 0755, &err);
		free(p);
	}
	bool wrote;
	char *kept = NULL;
	if (!rc)
		rc = keep_old_config(dir, &kept, &err);
	if (!rc)
		rc = put(dir, "letterbox.yaml", buf_cstr(&conf), true, &wrote, &err);
	if (!rc)
		rc = put_templates(dir, false, false, &err);
	char *ndir = path_join(dir, "newsletters");
	char **articles = fsx_list(ndir, ".md");
	if (!rc && !articles[0])
		rc = put(dir, article_rel, buf_cstr(&article), false, &wrote, &err);
	fsx_list_free(articles);
	free(ndir);
	if (!rc)
		rc = put(dir, "subscribers/news.yaml", example_list, false, &wrote, &err);
	if (!rc)
		rc = put(dir, ".gitignore", gitignore, false, &wrote, &err);
	buf_free(&conf);
	buf_free(&article);
	if (rc) {
		free(kept);
		return cli_fail(&err);
	}
	if (kept)
		term_printf(stdout, "letterbox: the old letterbox.yaml is kept as %s\n", kept);
	free(kept);
	term_printf(stdout, "letterbox: a new site in %s\n", dir);
	fflush(stdout);

	g->site_dir = dir;
	g->config_path = NULL;
	char name[] = "check";
	char *check_argv[] = {name, NULL};
	int crc = cmd_check(g, 1, check_argv);
	const char *c = strcmp(dir, ".") == 0 ? "" : " -C ";
	const char *d = strcmp(dir, ".") == 0 ? "" : dir;
	term_printf(
	    stdout,
	    "\nnext:\n"
	    "  1. %s letterbox.yaml (%s/letterbox.yaml), then `letterbox%s%s check`\n"
	    "  2. add yourself: `letterbox%s%s subscribers add you@example.org --list news`\n"
	    "  3. edit %s/%s, then `letterbox%s%s preview welcome` and\n"
	    "     `letterbox%s%s send --dry-run`\n",
	    crc ? "fill in the placeholders check named in" : "look through", dir, c, d, c, d, dir,
	    article_rel, c, d, c, d);
	return 0;
}

int cmd_init(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
					     {"from", required_argument, NULL, 'f'},
					     {"postal-address", required_argument, NULL, 'p'},
					     {"url", required_argument, NULL, 'u'},
					     {"timezone", required_argument, NULL, 'z'},
					     {"force", no_argument, NULL, 'F'},
					     {"templates", no_argument, NULL, 'T'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct init_values v = {0};
	bool force = false, templates = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			v.name = optarg;
			break;
		case 'f':
			v.from = optarg;
			break;
		case 'p':
			v.postal_address = optarg;
			break;
		case 'u':
			v.url = optarg;
			break;
		case 'z':
			v.timezone = optarg;
			break;
		case 'F':
			force = true;
			break;
		case 'T':
			templates = true;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			return cli_usage("letterbox init [DIR] [options]  (letterbox init --help)",
					 "init: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (argc - optind > 1)
		return cli_usage("letterbox init [DIR] [options]  (letterbox init --help)",
				 "init takes one directory");
	const char *dir = optind < argc ? argv[optind] : g->site_dir;
	int rc = check_values(&v);
	if (rc)
		return rc;
	if (templates) {
		struct lb_err err = {0};
		char *conf = path_join(dir, "letterbox.yaml");
		bool site = fsx_exists(conf);
		free(conf);
		if (!site)
			return cli_usage(
			    "letterbox init [DIR] --templates",
			    "%s has no letterbox.yaml: `letterbox init %s` starts a site", dir,
			    dir);
		if (put_templates(dir, false, true, &err))
			return cli_fail(&err);
		return 0;
	}
	return new_site(g, dir, &v, force);
}
