/* Commands: one file each, all with the same shape.  main.c holds the table. */
#ifndef LB_CMD_H
#define LB_CMD_H

#include <stdbool.h>
#include <time.h>

#include "compose/article.h"
#include "core/config.h"
#include "core/err.h"

/* What the global options said, and the site once loaded. */
struct cli {
	const char *site_dir;	 /* -C, default "." */
	const char *config_path; /* -c, default SITE/letterbox.yaml */
	struct config cfg;
	bool cfg_loaded;
};

typedef int (*cmd_fn)(struct cli *g, int argc, char **argv);

int cmd_init(struct cli *g, int argc, char **argv);
int cmd_preview(struct cli *g, int argc, char **argv);
int cmd_check(struct cli *g, int argc, char **argv);
int cmd_subscribers(struct cli *g, int argc, char **argv);
int subscribers_consent(struct cli *g, int argc, char **argv); /* subscribers_consent.c */
int cmd_send(struct cli *g, int argc, char **argv);
int cmd_status(struct cli *g, int argc, char **argv);
int cmd_poll(struct cli *g, int argc, char **argv);
int cmd_inquiries(struct cli *g, int argc, char **argv);
int cmd_digest(struct cli *g, int argc, char **argv);
int cmd_cgi(struct cli *g, int argc, char **argv);
int cmd_dkim(struct cli *g, int argc, char **argv);

/* Shared helpers for commands (cmd/common.c). */

/* Load letterbox.yaml into g->cfg (once); prints the error and returns its code. */
int cli_config(struct cli *g);
/* Print "letterbox: msg" for an error and return its code. */
int cli_fail(const struct lb_err *err);
/* --now TIME, or the clock. */
int cli_now(const char *arg, time_t *now);
/* Find an article by path, file name or slug in SITE/newsletters and load
 * it.  Another article with its slug is LB_EDATA naming both (they would
 * share one campaign). */
int cli_article(struct cli *g, const char *name, struct article *a, struct lb_err *err);
/* Paths of every newsletters/NAME.md, sorted; NULL-terminated. */
char **cli_article_paths(struct cli *g);
/* A usage error: prints the message and a hint (`letterbox CMD --help`),
 * not the whole usage; returns 64. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt_long returned '?': the option it stopped at ("--frob",
 * "-x", or one whose value is missing), for a cli_usage message. */
const char *cli_bad_option(char **argv);
/* True when argv[1] is -h or --help (then the usage was printed). */
bool cli_help(int argc, char **argv, const char *usage);
/* One run at a time: create the state directory (0700) and take
 * state/lock.WHAT without waiting (held: LB_ETEMP, 75, with a message).
 * *fd is -1 until it is taken; release with cli_unlock. */
int cli_lock(const struct config *cfg, const char *what, int *fd, struct lb_err *err);
void cli_unlock(int fd);

#endif
