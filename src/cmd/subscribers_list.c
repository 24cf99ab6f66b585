/* letterbox subscribers list: every subscriber, and whether they are
 * mailed.  The lists are streamed (store/subscribers.h), never held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/subscribers_int.h"
#include "core/fsx.h"
#include "core/termsafe.h"
#include "store/subscribers.h"
#include "store/suppressions.h"

static const char usage_list[] =
    "letterbox subscribers list [--list LIST] [--json]\n"
    "\n"
    "Every subscriber of every list (or of LIST), in file order, as columns\n"
    "LIST ADDRESS STATUS NAME.  STATUS is 'active' or why the address is not\n"
    "mailed: unsubscribed, hard-bounce, complaint, removed, failed, with where\n"
    "that came from: \"unsubscribed (web)\" (see `subscribers suppressions`).\n"
    "\n"
    "  --json  one JSON array of objects with the keys \"list\", \"address\",\n"
    "          \"name\" (null when there is none), \"status\" (as above) and\n"
    "          \"source\" (web, mail, send or staff; null when active)";

static void list_row(struct buf *b, bool json, bool first, size_t wl, size_t wa, const char *list,
		     const struct subscriber *e, const char *status, const char *source)
{
	if (json)
		json_row(b, first,
			 (const char *[]){"list", list, "address", e->email, "name", e->name,
					  "status", status, "source", source},
			 5);
	else {
		/* "unsubscribed (web)": the source beside the reason */
		char st[64];
		snprintf(st, sizeof st, source ? "%s (%s)" : "%s", status, source);
		if (e->name) {
			buf_printf(b, "%-*s  %-*s  %-20s  ", (int)wl, list, (int)wa, e->email, st);
			term_safe(b, e->name, strlen(e->name), 0);
			buf_addc(b, '\n');
		} else {
			buf_printf(b, "%-*s  %-*s  %s\n", (int)wl, list, (int)wa, e->email, st);
		}
	}
}

/* `subscribers list` streams the lists twice (store/subscribers.h), and
 * holds none: once to check them all and measure the columns, once to print. */
struct list_walk {
	struct members *s;
	struct buf b;
	bool json, first, print, found;
	size_t wl, wa;
	const char *id, *want;
};

static int walk_entry(void *ctx, const struct subscriber *e)
{
	struct list_walk *w = ctx;
	if (!w->print) {
		w->wl = strlen(w->id) > w->wl ? strlen(w->id) : w->wl;
		w->wa = strlen(e->email) > w->wa ? strlen(e->email) : w->wa;
		return 0;
	}
	const struct suppression *x = suppressions_get(w->s->sup, e->email);
	list_row(&w->b, w->json, w->first, w->wl, w->wa, w->id, e,
		 x ? sup_reason_name(x->reason) : "active", x ? sup_source(x) : NULL);
	w->first = false;
	if (w->b.n > 65536) {
		fwrite(w->b.p, 1, w->b.n, stdout);
		buf_reset(&w->b);
	}
	return 0;
}

static void walk_bad(void *ctx, const char *email, const char *msg)
{
	(void)email;
	warn_entry(ctx, msg);
}

/* Stream the lists (only: that one) through walk_entry, up to the first
 * that does not load; *names (may be NULL) gets their ids. */
static int walk_lists(char **paths, struct list_walk *w, const char *only, struct buf *names)
{
	struct lb_err err = {0};
	int rc = 0;
	for (char **p = paths; *p && !rc; p++) {
		char *id = sublist_id(*p);
		w->id = id;
		w->found |= w->want && strcmp(w->want, id) == 0;
		if (names)
			buf_printf(names, "%s%s", names->n ? ", " : "", id);
		if ((!only || strcmp(only, id) == 0) &&
		    sublist_stream_file(*p, NULL, NULL, walk_entry, w->print ? NULL : walk_bad, w,
					NULL, &err))
			rc = cli_fail(&err);
		free(id);
	}
	return rc;
}

int subscribers_list(struct cli *g, int argc, char **argv)
{
	struct opts o;
	struct members s = {.lock_fd = -1};
	struct buf names = BUF_INIT;
	char **paths = NULL;
	struct list_walk w = {&s, BUF_INIT, false, true, false, false, 4, 7, NULL, NULL};
	int rc = parse_opts(argc, argv, usage_list, "lj", false, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = site_open(g, &s, false, false, false)))
		goto out;
	w.json = o.json;
	w.want = o.list;
	paths = sublist_paths(g->site_dir);
	if ((rc = walk_lists(paths, &w, NULL, &names)))
		goto out;
	if (o.list && !w.found)
		rc = cli_usage(usage_list, "no list '%s' (lists: %s)", o.list,
			       names.n ? names.p : "none");
	if (rc)
		goto out;
	if (!o.json)
		buf_printf(&w.b, "%-*s  %-*s  %-20s  NAME\n", (int)w.wl, "LIST", (int)w.wa,
			   "ADDRESS", "STATUS");
	w.print = true;
	rc = walk_lists(paths, &w, o.list, NULL);
	if (o.json)
		buf_adds(&w.b, w.first ? "[]\n" : "\n]\n");
	fwrite(buf_cstr(&w.b), 1, w.b.n, stdout);
out:
	buf_free(&w.b);
	buf_free(&names);
	if (paths)
		fsx_list_free(paths);
	site_close(&s);
	return rc;
}
