#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "store/db.h"

int cli_fail(const struct lb_err *err)
{
	term_printf(stderr, "letterbox: %s\n", err->msg);
	return err->code ? err->code : LB_ESOFTWARE;
}

int cli_config(struct cli *g)
{
	if (g->cfg_loaded)
		return 0;
	struct lb_err err = {0};
	int rc = config_load(&g->cfg, g->site_dir, g->config_path, &err);
	if (rc) {
		config_free(&g->cfg);
		return cli_fail(&err);
	}
	g->cfg_loaded = true;
	/* state/ holds tokens' secret and people's mail: ours alone.  (Not
	 * created here: a command that only reads finds "nothing yet".) */
	if (fsx_exists(g->cfg.state_dir) && fsx_state_dir(g->cfg.state_dir, &err))
		return cli_fail(&err);
	/* A site whose state predates the indexed store is upgraded by the
	 * first command that opens it (store/db.h). */
	if (db_ready(g->cfg.state_dir, &err))
		return cli_fail(&err);
	return 0;
}

int cli_now(const char *arg, time_t *now)
{
	if (!arg) {
		*now = time(NULL);
		return 0;
	}
	if (!time_parse(span_cstr(arg), now)) {
		term_printf(stderr,
			    "letterbox: --now '%s': expected a time like 2026-11-25 09:30\n", arg);
		return LB_EUSAGE;
	}
	return 0;
}

char **cli_article_paths(struct cli *g)
{
	char *dir = path_join(g->site_dir, "newsletters");
	char **v = fsx_list(dir, ".md");
	free(dir);
	return v;
}

int cli_article(struct cli *g, const char *name, struct article *a, struct lb_err *err)
{
	memset(a, 0, sizeof *a);
	char **paths = cli_article_paths(g);
	const char *found = NULL;
	if (strchr(name, '/') || fsx_exists(name))
		found = name;
	size_t nlen = strlen(name);
	for (char **p = paths; *p && !found; p++) {
		const char *base = strrchr(*p, '/') + 1;
		size_t blen = strlen(base);
		/* "slug", "slug.md", "2026-11-25-slug", "2026-11-25-slug.md" */
		if (strcmp(base, name) == 0 ||
		    (blen == nlen + 3 && strncmp(base, name, nlen) == 0) ||
		    (blen == nlen + 14 && strncmp(base + 11, name, nlen) == 0 && base[10] == '-') ||
		    (blen == nlen + 11 && strcmp(base + 11, name) == 0))
			found = *p;
	}
	int rc;
	if (!found)
		rc = err_set(err, LB_ENOINPUT, "no article '%s' in %s/newsletters", name,
			     g->site_dir);
	else if (!(rc = article_slug_clash(paths, found, err)))
		rc = article_load(found, a, err);
	fsx_list_free(paths);
	return rc;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct buf msg = BUF_INIT;
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	/* One line and a hint, not the whole help: the command is the usage's
	 * words up to its first argument ("letterbox subscribers add"). */
	size_t n = 0;
	for (const char *w = usage; *w && *w != '\n';) {
		const char *end = w + strcspn(w, " \n");
		if (end == w || *w < 'a' || *w > 'z' || memchr(w, '|', (size_t)(end - w)))
			break;
		n = (size_t)(end - usage);
		w = *end == ' ' ? end + 1 : end;
	}
	term_printf(stderr, "letterbox: %s\n(`%.*s --help` says how)\n", buf_cstr(&msg), (int)n,
		    usage);
	buf_free(&msg);
	return LB_EUSAGE;
}

const char *cli_bad_option(char **argv)
{
	static char one[3];
	const char *last = optind > 0 ? argv[optind - 1] : NULL;
	if (last && strncmp(last, "--", 2) == 0)
		return last;
	/* A short option getopt did not know, or one whose value is missing. */
	if (optopt > ' ' && optopt < 127) {
		one[0] = '-';
		one[1] = (char)optopt;
		return one;
	}
	return last ? last : "?";
}

bool cli_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: %s\n", usage);
			return true;
		}
	}
	return false;
}

int cli_lock(const struct config *cfg, const char *what, int *fd, struct lb_err *err)
{
	*fd = -1;
	int rc = fsx_state_dir(cfg->state_dir, err);
	if (rc)
		return rc;
	char name[32];
	snprintf(name, sizeof name, "lock.%s", what);
	char *path = path_join(cfg->state_dir, name);
	rc = fsx_lock(path, false, fd, err);
	free(path);
	if (rc)
		return rc;
	/* What an earlier run killed with -9 left half-written. */
	fsx_clean_tmp(cfg->state_dir);
	char *camps = path_join(cfg->state_dir, "campaigns");
	char **dirs = fsx_list(camps, "");
	for (char **d = dirs; *d; d++)
		fsx_clean_tmp(*d);
	fsx_list_free(dirs);
	free(camps);
	return 0;
}

void cli_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
