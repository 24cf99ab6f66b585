/* letterbox subscribers: list, add, remove and import subscribers, and show
 * the suppressions.  List files are edited in place (store/listedit.h);
 * removing someone is a suppression, never an edit of a file people write. */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/subscribers_int.h"
#include "core/addr.h"
#include "core/fsx.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/strset.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "store/csv.h"
#include "store/listedit.h"
#include "store/subscribers.h"
#include "store/suppressions.h"
#include "triage/members.h"

static const char usage[] =
    "letterbox subscribers list|add|remove|import|suppressions|consent ...\n"
    "\n"
    "  list [--list LIST] [--json]           every subscriber, and if they are mailed\n"
    "  add ADDRESS [--name NAME] [--list LIST]   add someone (or re-subscribe them)\n"
    "  remove ADDRESS                        stop mailing someone (a suppression)\n"
    "  import FILE.csv [--list LIST]         add everyone in a CSV export\n"
    "  suppressions [--pending] [--json]     who is not mailed, why and since when\n"
    "  consent [ADDRESS] [--json]            the records of confirmed sign-ups\n"
    "\n"
    "`letterbox subscribers SUBCOMMAND --help` says more.";

static const char usage_add[] =
    "letterbox subscribers add ADDRESS [--name NAME] [--list LIST]\n"
    "\n"
    "Append ADDRESS (or \"Name <address>\") to subscribers/LIST.yaml, keeping the\n"
    "file's comments and order; the list is created if it does not exist.\n"
    "--list may be left out when there is only one list.  An address already on\n"
    "the list is not added twice.  An address that was suppressed (removed,\n"
    "unsubscribed, bounced...) is re-subscribed: it will be mailed again.\n"
    "Exit 65 for an address or name that cannot be used, 64 for a usage error.";

static const char usage_remove[] =
    "letterbox subscribers remove ADDRESS\n"
    "\n"
    "Stop mailing ADDRESS: it is recorded as a suppression (reason 'removed')\n"
    "in state/.  The list files are not edited (delete the entry by hand if you\n"
    "like); `letterbox subscribers add ADDRESS` undoes a removal.";

static const char usage_import[] =
    "letterbox subscribers import FILE.csv [--list LIST]\n"
    "\n"
    "Add the people in a CSV file with a header row to subscribers/LIST.yaml in\n"
    "one edit.  Understood columns: Mailchimp's \"Email Address\", \"First Name\",\n"
    "\"Last Name\"; listmonk's \"email\", \"name\" (its \"attributes\" are not\n"
    "imported; \"status\" blocklisted rows are skipped); or plain \"email\" and\n"
    "\"name\".  Rows that cannot be added are reported by row number (the header\n"
    "is row 1) with the reason: a bad address, a duplicate, a missing email.\n"
    "Prints \"imported N, skipped M\".  Exit 65 when there is no email column.";

static const char usage_suppressions[] =
    "letterbox subscribers suppressions [--pending] [--json]\n"
    "\n"
    "The addresses letterbox will not mail, as WHEN REASON ADDRESS SOURCE EVIDENCE;\n"
    "SOURCE is where the record came from: web (the /u/ page or a one-click\n"
    "unsubscribe), mail (a report poll filed), send (a refusal at send time) or\n"
    "staff (these commands).\n"
    "\n"
    "  --pending  instead, the reports about subscribers that are not tied to a\n"
    "             message of ours (no verified token): evidence only, nobody is\n"
    "             suppressed until a linked report or a 5xx at send time confirms\n"
    "             it; REASON is what the report asks for (README: What a report\n"
    "             can do)\n"
    "  --json     one JSON array of objects with the keys \"address\", \"reason\"\n"
    "             (unsubscribed, hard-bounce, complaint, removed, failed), \"when\"\n"
    "             (ISO 8601 UTC, 2026-11-25T17:35:00Z), \"source\" and \"evidence\"";

void warn_entry(void *ctx, const char *msg)
{
	(void)ctx;
	term_printf(stderr, "letterbox: warning: %s\n", msg);
}

/* Load what a subcommand needs; with lock, first take state/lock.subscribers
 * so that two edits never interleave (and wait for the other one). */
int site_open(struct cli *g, struct members *s, bool lock, bool lists, bool warn)
{
	struct lb_err err = {0};
	memset(s, 0, sizeof *s);
	s->lock_fd = -1;
	int rc = cli_config(g);
	if (rc)
		return rc;
	rc = members_open(&g->cfg, lock, lists, warn ? warn_entry : NULL, s, &err);
	return rc ? cli_fail(&err) : 0;
}

void site_close(struct members *s)
{
	members_close(s);
}

static void list_names(struct buf *b, const struct sublists *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", ls->v[i].id);
}

/* The list an edit goes to: --list, or the only one.  *l is NULL when the
 * named list does not exist yet (the edit creates it). */
static int pick_list(struct members *s, const char *opt, const char *use, const char **id,
		     struct sublist **l)
{
	if (opt && !sublist_id_ok(opt))
		return cli_usage(use, "--list '%s': a list name is letters, digits, '.', '_', '-'",
				 opt);
	if (!opt && s->ls.n != 1) {
		struct buf names = BUF_INIT;
		list_names(&names, &s->ls);
		int rc = s->ls.n ? cli_usage(use, "there are %zu lists (%s): say which with --list",
					     s->ls.n, names.p)
				 : cli_usage(use, "there is no list yet: name one with --list "
						  "NAME (it is created)");
		buf_free(&names);
		return rc;
	}
	*id = opt ? opt : s->ls.v[0].id;
	*l = sublists_find(&s->ls, *id);
	return 0;
}

static char *list_path(struct cli *g, const char *id)
{
	struct buf rel = BUF_INIT;
	buf_printf(&rel, "subscribers/%s.yaml", id);
	char *path = path_join(g->site_dir, rel.p);
	buf_free(&rel);
	return path;
}

static const char *who(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "unknown user";
}

int parse_opts(int argc, char **argv, const char *use, const char *allowed, bool want_arg,
	       struct opts *o)
{
	static const struct option all[] = {
	    {"list", required_argument, NULL, 'l'}, {"name", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},	    {"pending", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0}};
	memset(o, 0, sizeof *o);
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", all, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", use);
			return -1;
		}
		if (c == '?' || !strchr(allowed, c))
			return cli_usage(use, "%s: unknown option or missing value: %s", argv[0],
					 cli_bad_option(argv));
		if (c == 'l')
			o->list = optarg;
		else if (c == 'n')
			o->name = optarg;
		else if (c == 'p')
			o->pending = true;
		else
			o->json = true;
	}
	if (want_arg && optind == argc - 1)
		o->arg = argv[optind];
	else if (want_arg || optind != argc)
		return cli_usage(
		    use, want_arg ? "%s: name one address or file" : "%s: takes no arguments",
		    argv[0]);
	return 0;
}

/* One object of a JSON array, on a line of its own: n pairs of key and
 * value (a NULL value is null). */
void json_row(struct buf *b, bool first, const char *const *kv, size_t n)
{
	int f = 1;
	buf_adds(b, first ? "[\n  {" : ",\n  {");
	for (size_t i = 0; i < n; i++) {
		json_key(b, kv[2 * i], &f);
		json_str(b, kv[2 * i + 1]);
	}
	buf_addc(b, '}');
}

/* An address as given: "ada@example.org" or "Ada <ada@example.org>". */
static int get_address(const char *arg, const char *name_opt, struct addr *a, char **name)
{
	struct lb_err err = {0};
	if (addr_parse(span_cstr(arg), a, &err)) {
		fprintf(stderr, "letterbox: not an address we can mail: %s\n", err.msg);
		return LB_EDATA;
	}
	const char *n = name_opt ? name_opt : a->display;
	struct span t = span_trim(span_cstr(n ? n : ""));
	*name = t.n ? span_dup(t) : NULL;
	const char *why;
	if (*name && !listedit_name_ok(*name, &why)) {
		fprintf(stderr, "letterbox: the name for %s cannot be used: %s\n", a->spec, why);
		free(*name);
		*name = NULL;
		return LB_EDATA;
	}
	return 0;
}

static int do_add(struct cli *g, int argc, char **argv)
{
	struct opts o;
	struct addr a = {0};
	struct lb_err err = {0};
	char *name = NULL;
	struct buf said = BUF_INIT, how = BUF_INIT;
	int rc = parse_opts(argc, argv, usage_add, "ln", true, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = get_address(o.arg, o.name, &a, &name)) || (rc = cli_config(g)))
		goto out;
	buf_printf(&how, "`letterbox subscribers add` by %s", who());
	rc = members_add(&g->cfg, o.list, &a, name, how.p, time(NULL), &said, &err);
	fputs(buf_cstr(&said), stdout);
	if (rc == LB_EUSAGE)
		rc = cli_usage(usage_add, "%s", err.msg);
	else if (rc)
		rc = cli_fail(&err);
out:
	buf_free(&said);
	buf_free(&how);
	free(name);
	addr_free(&a);
	return rc;
}

static int do_remove(struct cli *g, int argc, char **argv)
{
	struct opts o;
	struct addr a = {0};
	struct lb_err err = {0};
	char *name = NULL;
	struct buf said = BUF_INIT, how = BUF_INIT;
	int rc = parse_opts(argc, argv, usage_remove, "", true, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = get_address(o.arg, NULL, &a, &name)) || (rc = cli_config(g)))
		goto out;
	buf_printf(&how, "`letterbox subscribers remove` by %s", who());
	rc = members_remove(&g->cfg, &a, how.p, time(NULL), &said, &err);
	fputs(buf_cstr(&said), stdout);
	if (rc)
		rc = cli_fail(&err);
out:
	buf_free(&said);
	buf_free(&how);
	free(name);
	addr_free(&a);
	return rc;
}

static int do_suppressions(struct cli *g, int argc, char **argv)
{
	struct opts o;
	struct members s = {.lock_fd = -1};
	int rc = parse_opts(argc, argv, usage_suppressions, "jp", false, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = site_open(g, &s, false, false, false)))
		goto out;
	size_t n;
	const struct suppression *const *v =
	    o.pending ? suppressions_pending_list(s.sup, &n) : suppressions_list(s.sup, &n);
	size_t wr = 6, wa = 7;
	for (size_t i = 0; i < n; i++) {
		size_t r = strlen(sup_reason_name(v[i]->reason)), an = strlen(v[i]->address);
		wr = r > wr ? r : wr;
		wa = an > wa ? an : wa;
	}
	struct buf b = BUF_INIT, when = BUF_INIT;
	if (!o.json)
		buf_printf(&b, "%-20s  %-*s  %-*s  %-6s  EVIDENCE\n", "WHEN", (int)wr, "REASON",
			   (int)wa, "ADDRESS", "SOURCE");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&when);
		if (o.json)
			time_iso(&when, v[i]->when);
		else
			time_local(&when, v[i]->when);
		const char *reason = sup_reason_name(v[i]->reason);
		if (o.json) {
			json_row(&b, i == 0,
				 (const char *[]){"address", v[i]->address, "reason", reason,
						  "when", when.p, "source", sup_source(v[i]),
						  "evidence", v[i]->evidence},
				 5);
		} else {
			struct buf ev = BUF_INIT;
			buf_printf(&b, "%-20s  %-*s  %-*s  %-6s  %s\n", when.p, (int)wr, reason,
				   (int)wa, v[i]->address, sup_source(v[i]),
				   term_str(&ev, v[i]->evidence));
			buf_free(&ev);
		}
	}
	if (o.json)
		buf_adds(&b, n ? "\n]\n" : "[]\n");
	fwrite(buf_cstr(&b), 1, b.n, stdout);
	buf_free(&b);
	buf_free(&when);
out:
	site_close(&s);
	return rc;
}

struct person {
	char *email, *name, *key;
};

struct imported {
	struct person *v;
	size_t n, cap, skipped;
};

static void skip(struct imported *im, const char *file, size_t row, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void skip(struct imported *im, const char *file, size_t row, const char *fmt, ...)
{
	struct buf why = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&why, fmt, ap);
	va_end(ap);
	term_printf(stderr, "import: %s: row %zu: skipped: %s\n", file, row, buf_cstr(&why));
	buf_free(&why);
	im->skipped++;
}

/* One data row: added to im, or skipped with the reason. */
static void import_row(struct members *s, const char *file, const char *id, struct csv_row *r,
		       const struct csv_people *c, struct strset *seen, struct imported *im)
{
	struct span email = span_trim(span_cstr(csv_field(r, c->email)));
	struct addr a;
	struct lb_err err = {0};
	const char *why;
	if (csv_row_blank(r))
		return; /* an empty line is not a person */
	if (!email.n)
		why = "missing email";
	else if (c->status >= 0 &&
		 span_eq_ci(span_trim(span_cstr(csv_field(r, c->status))), "blocklisted"))
		why = "blocklisted in the export";
	else if (addr_parse_spec(email, &a, &err))
		why = err.msg;
	else
		why = NULL;
	if (why) {
		skip(im, file, r->row, "%s%s", err.msg[0] ? "bad address: " : "", why);
		return;
	}
	char *name = csv_people_name(r, c), *key = addr_key(a.spec);
	void *old;
	if (name && !listedit_name_ok(name, &why)) {
		skip(im, file, r->row, "the name for %s cannot be used: %s", a.spec, why);
	} else if (!strset_add(seen, key, (void *)(uintptr_t)r->row, &old)) {
		if (old)
			skip(im, file, r->row, "duplicate: %s is on row %zu too", a.spec,
			     (size_t)(uintptr_t)old);
		else
			skip(im, file, r->row, "duplicate: %s is already on %s", a.spec, id);
	} else {
		enum sup_reason sup = suppressions_check(s->sup, a.spec);
		if (sup)
			fprintf(stderr,
				"import: %s: row %zu: %s stays suppressed (%s); `letterbox "
				"subscribers add %s` re-subscribes\n",
				file, r->row, a.spec, sup_reason_name(sup), a.spec);
		im->v = xgrowarray(im->v, &im->cap, im->n + 1, sizeof *im->v);
		im->v[im->n++] = (struct person){xstrdup(a.spec), name, key};
		name = key = NULL;
	}
	free(name);
	free(key);
	addr_free(&a);
}

static int import_csv(struct cli *g, struct members *s, const char *file, const char *id,
		      struct sublist *l)
{
	struct lb_err err = {0};
	struct buf text = BUF_INIT;
	struct csv c;
	struct csv_row r = {0};
	struct csv_people cols;
	struct strset seen = STRSET_INIT;
	struct imported im = {0};
	char *path = list_path(g, id);
	int rc = fsx_read(file, &text, 64u << 20, &err);
	if (rc)
		goto out;
	csv_init(&c, file, buf_span(&text));
	if ((rc = csv_next(&c, &r, &err)))
		goto out;
	csv_people_columns(&r, &cols);
	if (cols.email < 0) {
		struct buf have = BUF_INIT;
		for (size_t i = 0; i < r.n; i++)
			buf_printf(&have, "%s\"%s\"", i ? ", " : "", r.v[i]);
		rc = err_set(&err, LB_EDATA,
			     "%s: no email column (looked for \"Email Address\" and \"email\"); "
			     "the header row has: %s",
			     file, have.n ? have.p : "nothing");
		buf_free(&have);
		goto out;
	}
	if (cols.left) {
		rc = err_set(&err, LB_EDATA,
			     "%s: this is an export of unsubscribed or cleaned contacts "
			     "(UNSUB_TIME, CLEAN_TIME): importing it would mail people who left",
			     file);
		goto out;
	}
	for (size_t i = 0; l && i < l->n; i++)
		strset_add(&seen, l->v[i].key, NULL, NULL);
	while (!(rc = csv_next(&c, &r, &err)) && r.n)
		import_row(s, file, id, &r, &cols, &seen, &im);
	if (!rc && im.n) {
		struct listedit_entry *v = xcalloc(im.n, sizeof *v);
		for (size_t i = 0; i < im.n; i++)
			v[i] = (struct listedit_entry){im.v[i].email, im.v[i].name};
		rc = listedit_append(path, id, v, im.n, &err);
		free(v);
	}
	if (!rc)
		printf("imported %zu, skipped %zu\n", im.n, im.skipped);
out:
	if (rc)
		cli_fail(&err);
	if (rc && im.n)
		fprintf(stderr, "import: nothing was imported\n");
	for (size_t i = 0; i < im.n; i++) {
		free(im.v[i].email);
		free(im.v[i].name);
		free(im.v[i].key);
	}
	free(im.v);
	strset_free(&seen);
	csv_row_free(&r);
	buf_free(&text);
	free(path);
	return rc;
}

static int do_import(struct cli *g, int argc, char **argv)
{
	struct opts o;
	struct members s = {.lock_fd = -1};
	const char *id = NULL;
	struct sublist *l = NULL;
	int rc = parse_opts(argc, argv, usage_import, "l", true, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!(rc = site_open(g, &s, true, true, false)) &&
	    !(rc = pick_list(&s, o.list, usage_import, &id, &l)))
		rc = import_csv(g, &s, o.arg, id, l);
	site_close(&s);
	return rc;
}

int cmd_subscribers(struct cli *g, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli *, int, char **);
	} subs[] = {{"list", subscribers_list},
		    {"add", do_add},
		    {"remove", do_remove},
		    {"import", do_import},
		    {"suppressions", do_suppressions},
		    {"consent", subscribers_consent}};
	if (argc < 2)
		return cli_usage(usage, "subscribers: name a subcommand");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(g, argc - 1, argv + 1);
	return cli_usage(usage, "subscribers: unknown subcommand '%s'", argv[1]);
}
