/* letterbox check: validate the whole site, report every problem with its
 * place, exit 0 only when all is well. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/check_dns.h"
#include "cmd/cmd.h"
#include "cmd/init_config.h"
#include "compose/dkim.h"
#include "compose/message.h"
#include "compose/onemail.h"
#include "compose/render.h"
#include "compose/template.h"
#include "core/buf.h"
#include "core/datadir.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/campaign.h"
#include "deliver/transport.h"
#include "receive/lexicon.h"
#include "receive/source.h"
#include "store/subscribers.h"

static const char usage[] =
    "letterbox check [--urgent-words | --dns]\n"
    "\n"
    "Validate letterbox.yaml, every article in newsletters/, every template in\n"
    "templates/ and every list in subscribers/, with the checks the commands\n"
    "make before they start (password files, the lists articles name, the\n"
    "templates enabled features need).  Each problem is printed as\n"
    "file:line:col: what is wrong.  Exit 0 when all is well, 78 for a\n"
    "configuration problem, 65 for a problem in the data.\n"
    "\n"
    "--urgent-words prints the crisis phrases that make an inquiry urgent: the\n"
    "built-in lexicon in the languages of triage.urgent_languages, then\n"
    "triage.urgent_words (notation: data/urgent/README.md in the sources).\n"
    "\n"
    "--dns looks up what the From domain publishes for receivers (SPF, DMARC,\n"
    "the DKIM key of each dkim: selector) through the system resolver and says\n"
    "what is missing or does not match the key: exit 0 all good, 65 something\n"
    "to fix, 69 DNS did not answer.  The only command that uses the network\n"
    "for DNS; never run by make test against the internet.";

struct problems {
	size_t data, config;
};

static void report_data(void *ctx, const char *msg)
{
	struct problems *p = ctx;
	fprintf(stderr, "%s\n", msg);
	p->data++;
}

static void report_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static void report_err(struct problems *p, const struct lb_err *err)
{
	fprintf(stderr, "%s\n", err->msg);
	if (err->code == LB_ECONFIG)
		p->config++;
	else
		p->data++;
}

/* What check keeps of the lists: how many subscribers, and the names of
 * their fields (for the templates' {{subscriber.X}}). */
struct list_tally {
	struct problems *p;
	struct names *keys;
	size_t n;
};

/* Names seen in the data, so that templates may use article.X / subscriber.X. */
struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return;
	ns->v = xgrowarray(ns->v, &ns->cap, ns->n + 2, sizeof *ns->v);
	ns->v[ns->n++] = xstrdup(s);
	ns->v[ns->n] = NULL;
}

static int tally_entry(void *ctx, const struct subscriber *s)
{
	struct list_tally *t = ctx;
	t->n++;
	for (size_t k = 0; k < s->nfields; k++)
		names_add(t->keys, s->fields[k].key);
	return 0;
}

static void tally_bad(void *ctx, const char *email, const char *msg)
{
	(void)email;
	report_data(((struct list_tally *)ctx)->p, msg);
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static void check_template(struct cli *g, const char *file, enum tpl_escape esc,
			   struct template_names *tn, struct problems *p)
{
	bool installed;
	char *path = datadir_template(&g->cfg, file, &installed);
	char *rel = installed ? xstrdup(path) : path_join("templates", file);
	struct buf src = BUF_INIT;
	struct lb_err err = {0};
	struct tpl *t = NULL;
	int rc = fsx_read(path, &src, 1 << 20, &err);
	if (rc == LB_ENOINPUT)
		datadir_missing(file, &err);
	if (rc || tpl_compile(rel, src.p, src.n, esc, &t, &err)) {
		report_err(p, &err);
	} else {
		tpl_check(t, newsletter_known_name, tn, report_data, p);
		if (esc == TPL_ESC_HTML) {
			struct style_table st;
			style_init(&st);
			if (style_from_template(&st, rel, src.p, src.n, &err))
				report_err(p, &err);
			style_free(&st);
		}
	}
	tpl_free(t);
	buf_free(&src);
	free(path);
	free(rel);
}

static void print_phrase(void *ctx, const char *lang, const char *line)
{
	const char **last = ctx;
	if (!*last || strcmp(*last, lang) != 0)
		printf("%s# built in: %s\n", *last ? "\n" : "", lang);
	*last = lang;
	printf("%s\n", line);
}

/* check --urgent-words: the lexicon this site uses. */
static int urgent_words(const struct config *cfg)
{
	const char *last = NULL;
	lexicon_each(lexicon_languages((const char *const *)cfg->urgent_languages), print_phrase,
		     &last);
	if (cfg->urgent_words && cfg->urgent_words[0]) {
		printf("%s# triage.urgent_words\n", last ? "\n" : "");
		for (char **w = cfg->urgent_words; *w; w++)
			printf("%s\n", *w);
	}
	return 0;
}

/* The installed templates the site goes without: not a problem (they are
 * used), but said, since the site's own copy is where one edits them. */
static void note_installed(struct cli *g)
{
	char *dir = path_join(datadir(), "templates");
	char **files = fsx_list(dir, "");
	for (char **f = files; *f; f++) {
		const char *base = strrchr(*f, '/') + 1;
		char *site = datadir_template(&g->cfg, base, NULL);
		if (strcmp(site, *f) == 0)
			fprintf(stderr,
				"check: templates/%s: not in the site; where needed, %s is used "
				"(`letterbox init --templates` copies it in)\n",
				base, *f);
		free(site);
	}
	fsx_list_free(files);
	free(dir);
}

int cmd_check(struct cli *g, int argc, char **argv)
{
	if (cli_help(argc, argv, usage))
		return 0;
	bool words = argc == 2 && strcmp(argv[1], "--urgent-words") == 0;
	bool dns = argc == 2 && strcmp(argv[1], "--dns") == 0;
	if (argc > 1 && !words && !dns)
		return cli_usage(usage, "check takes no arguments but --urgent-words or --dns");
	struct problems p = {0};
	struct lb_err err = {0};
	if (config_load(&g->cfg, g->site_dir, g->config_path, &err) != 0) {
		report_err(&p, &err);
		config_free(&g->cfg);
		fprintf(stderr, "check: stopped at the configuration\n");
		return LB_ECONFIG;
	}
	g->cfg_loaded = true;
	/* As every command finds state/ (cmd/common.c): whether it is shared
	 * decides which modes the secret and the DKIM keys may have. */
	if (fsx_exists(g->cfg.state_dir) && fsx_state_dir(g->cfg.state_dir, &err))
		report_err(&p, &err);
	if (words)
		return urgent_words(&g->cfg);
	if (dns)
		return check_dns(&g->cfg);

	/* What `letterbox init` left for the user to fill in. */
	p.config += init_placeholders_file(g->cfg.file, report_line, NULL);

	/* What send and poll check before they connect: the same functions. */
	struct transport_opts to = {&g->cfg.out, g->cfg.site_dir, 60};
	if (transport_check(&to, &err))
		report_err(&p, &err);
	if (source_check(&g->cfg.in, g->cfg.site_dir, &err))
		report_err(&p, &err);
	struct dkim *dk = NULL; /* the keys, as send reads them */
	if (dkim_open(&g->cfg, &dk, &err))
		report_err(&p, &err);
	dkim_free(dk);

	struct names akeys = {0}, skeys = {0};
	char **paths = cli_article_paths(g);
	size_t narticles = 0;
	for (char **path = paths; *path; path++) {
		struct article a = {0};
		if (article_slug_clash(paths, *path, &err) || article_load(*path, &a, &err) ||
		    campaign_check_lists(&g->cfg, &a, &err)) {
			report_err(&p, &err);
		} else {
			narticles++;
			for (size_t i = 0; i < a.nextra; i++)
				names_add(&akeys, a.extra[i].key);
		}
		article_free(&a);
	}
	fsx_list_free(paths);

	/* Lists are streamed: memory does not grow with them. */
	struct list_tally lt = {&p, &skeys, 0};
	char **lists = sublist_paths(g->site_dir);
	size_t nlists = 0;
	for (; lists[nlists]; nlists++) {
		if (sublist_stream_file(lists[nlists], NULL, NULL, tally_entry, tally_bad, &lt,
					NULL, &err) != 0) {
			report_err(&p, &err);
			nlists++;
			break; /* as the lists load everywhere else: up to the first that does not
				*/
		}
	}
	fsx_list_free(lists);
	size_t nsubs = lt.n;

	struct template_names tn = {(const char *const *)akeys.v, (const char *const *)skeys.v};
	check_template(g, "newsletter.html", TPL_ESC_HTML, &tn, &p);
	check_template(g, "newsletter.txt", TPL_ESC_NONE, &tn, &p);
	/* `inquiries reply` needs reply.txt; poll with triage.acknowledge needs
	 * acknowledgement.txt. */
	size_t ntemplates = 2;
	ntemplates += onemail_check(&g->cfg, "reply", true, report_data, &p);
	ntemplates +=
	    onemail_check(&g->cfg, "acknowledgement", g->cfg.acknowledge, report_data, &p);
	/* the web sign-up (web.url) and sign-up by mail need confirm.txt */
	ntemplates += onemail_check(&g->cfg, "confirm", g->cfg.web_url || g->cfg.subscribe_mailto,
				    report_data, &p);
	/* A warning, not a problem: the site's own template may say it in words. */
	if (g->cfg.acknowledge && (!g->cfg.crisis_line || !*g->cfg.crisis_line))
		log_warn("%s: triage.crisis_line is not set: acknowledgements go out with "
			 "{{site.crisis_line}} empty; set it to where people in your country "
			 "turn in an emergency",
			 g->cfg.file);

	note_installed(g);
	names_free(&akeys);
	names_free(&skeys);
	size_t total = p.data + p.config;
	if (total) {
		fprintf(stderr, "check: %zu problem%s\n", total, total == 1 ? "" : "s");
		return p.config ? LB_ECONFIG : LB_EDATA;
	}
	printf("check: all good: %zu article%s, %zu list%s with %zu subscriber%s, %zu templates\n",
	       narticles, narticles == 1 ? "" : "s", nlists, nlists == 1 ? "" : "s", nsubs,
	       nsubs == 1 ? "" : "s", ntemplates);
	return 0;
}
