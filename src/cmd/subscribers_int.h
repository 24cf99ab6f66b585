/* Inside `letterbox subscribers` (cmd/subscribers.c): what its
 * subcommands in other files share. */
#ifndef LB_CMD_SUBSCRIBERS_INT_H
#define LB_CMD_SUBSCRIBERS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "triage/members.h"

/* A parsed command line: options and one optional positional argument. */
struct opts {
	const char *list, *name, *arg;
	bool json, pending;
};

/* Parse argv (allowed: the option letters, want_arg: one positional);
 * -1 after --help, an exit code on a usage error. */
int parse_opts(int argc, char **argv, const char *use, const char *allowed, bool want_arg,
	       struct opts *o);
/* Load what a subcommand needs (lists: every list; lock: the subscribers
 * lock first); an exit code, the error printed. */
int site_open(struct cli *g, struct members *s, bool lock, bool lists, bool warn);
void site_close(struct members *s);
/* A sub_report_fn printing "letterbox: warning: MSG". */
void warn_entry(void *ctx, const char *msg);
/* One object of a JSON array, on a line of its own: n pairs of key and
 * value (a NULL value is null). */
void json_row(struct buf *b, bool first, const char *const *kv, size_t n);

/* `letterbox subscribers list` (cmd/subscribers_list.c). */
int subscribers_list(struct cli *g, int argc, char **argv);

#endif
