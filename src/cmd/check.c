/* letterbox check: validate the whole site, report every problem with its
 * place, exit 0 only when all is well. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "compose/message.h"
#include "compose/render.h"
#include "compose/template.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "receive/lexicon.h"
#include "store/subscribers.h"

static const char usage[] =
    "letterbox check [--urgent-words]\n"
    "\n"
    "Validate letterbox.yaml, every article in newsletters/, every template in\n"
    "templates/ and every list in subscribers/.  Each problem is printed as\n"
    "file:line:col: what is wrong.  Exit 0 when all is well, 78 for a\n"
    "configuration problem, 65 for a problem in the data.\n"
    "\n"
    "--urgent-words prints the crisis phrases that make an inquiry urgent: the\n"
    "built-in lexicon in the languages of triage.urgent_languages, then\n"
    "triage.urgent_words (notation: data/urgent/README.md in the sources).";

struct problems {
	size_t data, config;
};

static void report_data(void *ctx, const char *msg)
{
	struct problems *p = ctx;
	fprintf(stderr, "%s\n", msg);
	p->data++;
}

static void report_err(struct problems *p, const struct lb_err *err)
{
	fprintf(stderr, "%s\n", err->msg);
	if (err->code == LB_ECONFIG)
		p->config++;
	else
		p->data++;
}

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

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static void check_template(struct cli *g, const char *file, enum tpl_escape esc,
			   struct template_names *tn, struct problems *p)
{
	char *rel = path_join("templates", file);
	char *path = config_path(&g->cfg, rel);
	struct buf src = BUF_INIT;
	struct lb_err err = {0};
	struct tpl *t = NULL;
	if (fsx_read(path, &src, 1 << 20, &err) || tpl_compile(rel, src.p, src.n, esc, &t, &err)) {
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

/* The one-off mails' templates (compose/onemail.c) know a fixed set of names. */
static enum tpl_lookup_result onemail_known(void *ctx, struct span name, struct span *v)
{
	const char *const *names = ctx;
	static const char *const common[] = {"site.name",
					     "site.url",
					     "site.postal_address",
					     "site.lang",
					     "year",
					     "person.name",
					     "person.first_name",
					     "person.email",
					     "inquiry.number",
					     "inquiry.subject",
					     NULL};
	*v = (struct span){"", 0};
	for (const char *const *n = common; *n; n++)
		if (span_eq(name, *n))
			return TPL_VALUE;
	for (const char *const *n = names; n && *n; n++)
		if (span_eq(name, *n))
			return TPL_VALUE;
	return TPL_UNKNOWN;
}

/* An optional template: checked when it is there. */
static size_t check_optional(struct cli *g, const char *file, enum tpl_escape esc,
			     const char *const *names, struct problems *p)
{
	char *rel = path_join("templates", file);
	char *path = config_path(&g->cfg, rel);
	struct buf src = BUF_INIT;
	struct lb_err err = {0};
	struct tpl *t = NULL;
	size_t checked = 0;
	if (fsx_exists(path)) {
		checked = 1;
		if (fsx_read(path, &src, 1 << 20, &err) ||
		    tpl_compile(rel, src.p, src.n, esc, &t, &err))
			report_err(p, &err);
		else
			tpl_check(t, onemail_known, (void *)(uintptr_t)names, report_data, p);
	}
	tpl_free(t);
	buf_free(&src);
	free(path);
	free(rel);
	return checked;
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

int cmd_check(struct cli *g, int argc, char **argv)
{
	if (cli_help(argc, argv, usage))
		return 0;
	bool words = argc == 2 && strcmp(argv[1], "--urgent-words") == 0;
	if (argc > 1 && !words)
		return cli_usage(usage, "check takes no arguments but --urgent-words");
	struct problems p = {0};
	struct lb_err err = {0};
	if (config_load(&g->cfg, g->site_dir, g->config_path, &err) != 0) {
		report_err(&p, &err);
		fprintf(stderr, "check: stopped at the configuration\n");
		return LB_ECONFIG;
	}
	g->cfg_loaded = true;
	if (words)
		return urgent_words(&g->cfg);

	struct names akeys = {0}, skeys = {0};
	char **paths = cli_article_paths(g);
	size_t narticles = 0;
	for (char **path = paths; *path; path++) {
		struct article a;
		if (article_load(*path, &a, &err) != 0) {
			report_err(&p, &err);
		} else {
			narticles++;
			for (size_t i = 0; i < a.nextra; i++)
				names_add(&akeys, a.extra[i].key);
		}
		article_free(&a);
		free(*path);
	}
	free(paths);

	struct sublists ls;
	size_t nsubs = 0;
	if (sublists_load(g->site_dir, &ls, report_data, &p, &err) != 0)
		report_err(&p, &err);
	for (size_t i = 0; i < ls.n; i++) {
		nsubs += ls.v[i].n;
		for (size_t j = 0; j < ls.v[i].n; j++)
			for (size_t k = 0; k < ls.v[i].v[j].nfields; k++)
				names_add(&skeys, ls.v[i].v[j].fields[k].key);
	}

	struct template_names tn = {(const char *const *)akeys.v, (const char *const *)skeys.v};
	check_template(g, "newsletter.html", TPL_ESC_HTML, &tn, &p);
	check_template(g, "newsletter.txt", TPL_ESC_NONE, &tn, &p);
	static const char *const reply_names[] = {
	    "content", "original.date", "original.text", "original.quoted", "staff.name", NULL};
	size_t ntemplates = 2;
	ntemplates += check_optional(g, "reply.html", TPL_ESC_HTML, reply_names, &p);
	ntemplates += check_optional(g, "reply.txt", TPL_ESC_NONE, reply_names, &p);
	ntemplates += check_optional(g, "acknowledgement.txt", TPL_ESC_NONE, NULL, &p);

	size_t nlists = ls.n;
	sublists_free(&ls);
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
