/* letterbox inquiries set / note / reply / purge: the staff's side. */
#include "cmd/inquiries_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "store/inquiries.h"
#include "triage/triage.h"

/* The same lock file deliver/notify.c takes: poll's notifier and a staff
 * member may rewrite the same record at the same moment. */

const char *inquiries_who(const char *by)
{
	if (by && *by)
		return by;
	const char *u = getlogin();
	if (u && *u)
		return u;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static int parse_number(const char *arg, unsigned *out, const char *usage)
{
	struct lb_err err = {0};
	if (triage_number(arg, out, &err))
		return cli_usage(usage, "%s", err.msg);
	return 0;
}

static int lock_inquiries(struct cli *g, int *fd, struct lb_err *err)
{
	return inquiries_lock(g->cfg.state_dir, fd, err);
}

/* ---- set and note: triage/triage.h does them, the CLI says what happened ----------------------
 */

int inquiries_set(struct cli *g, const char *number, char **pairs, int npairs, const char *by,
		  const char *usage)
{
	unsigned num = 0;
	struct triage_change c = {0};
	struct lb_err err = {0};
	int rc = parse_number(number, &num, usage);
	if (rc)
		return rc;
	if (npairs == 0)
		return cli_usage(usage, "set: say what to change: status=..., assign=NAME or "
					"priority=...");
	for (int i = 0; i < npairs; i++) {
		const char *p = pairs[i], *eq = strchr(p, '=');
		if (!eq)
			return cli_usage(usage, "set: '%s' is not key=value", p);
		if (triage_change_add(&c, (struct span){p, (size_t)(eq - p)}, eq + 1, &err))
			return cli_usage(usage, "%s", err.msg);
	}
	const char *who = inquiries_who(by);
	struct buf summary = BUF_INIT;
	rc = triage_set(&g->cfg, num, &c, who, time(NULL), &summary, &err);
	if (rc)
		cli_fail(&err);
	else if (!summary.n)
		printf("inquiry %u: nothing to change\n", num);
	else
		term_printf(stdout, "inquiry %u: %s by %s\n", num, summary.p, who);
	buf_free(&summary);
	return rc;
}

int inquiries_note(struct cli *g, const char *number, char **words, int nwords, const char *by,
		   const char *usage)
{
	unsigned num = 0;
	int rc = parse_number(number, &num, usage);
	if (rc)
		return rc;
	struct buf text = BUF_INIT;
	for (int i = 0; i < nwords; i++) {
		if (i)
			buf_addc(&text, ' ');
		buf_adds(&text, words[i]);
	}
	if (span_trim(buf_span(&text)).n == 0) {
		buf_free(&text);
		return cli_usage(usage, "note: the note's text is missing");
	}
	const char *who = inquiries_who(by);
	struct lb_err err = {0};
	rc = triage_note(&g->cfg, num, text.p, who, time(NULL), &err);
	if (rc)
		cli_fail(&err);
	else
		term_printf(stdout, "inquiry %u: note added by %s\n", num, who);
	buf_free(&text);
	return rc;
}

/* ---- reply ------------------------------------------------------------------------------------
 */

int inquiries_reply(struct cli *g, const char *number, const char *file, bool dry_run,
		    const char *by, const char *usage)
{
	unsigned num = 0;
	int rc = parse_number(number, &num, usage);
	if (rc)
		return rc;
	if (!file)
		return cli_usage(usage, "reply: say which file holds the answer: --file REPLY.md");
	const char *who = inquiries_who(by);
	struct lb_err err = {0};
	struct triage_reply r = {0};
	struct buf md = BUF_INIT;
	time_t now = time(NULL);
	if (strcmp(file, "-") == 0) {
		char chunk[4096];
		size_t k;
		while ((k = fread(chunk, 1, sizeof chunk, stdin)) > 0)
			buf_add(&md, chunk, k);
	} else if ((rc = fsx_read(file, &md, 1 << 20, &err))) {
		if (rc == LB_ENOINPUT)
			err_set(&err, rc, "%s: no such file", file);
	}
	if (!rc)
		rc = triage_reply_prepare(&g->cfg, num, md.p ? md.p : "", md.n, who, now, &r, &err);
	if (!rc && dry_run) {
		term_printf(stdout, "To: %s%s%s%s\nSubject: %s\n", r.to.display ? r.to.display : "",
			    r.to.display ? " <" : "", r.to.spec, r.to.display ? ">" : "",
			    r.subject.p);
		if (r.q.message_id)
			term_printf(stdout, "In-Reply-To: <%s>\n", r.q.message_id);
		term_printf(stdout,
			    "\n%s\n(dry run: nothing sent, nothing recorded; the mail also has an "
			    "HTML version)\n",
			    r.text.p);
	} else if (!rc) {
		unsigned k = 0;
		rc = triage_reply_send(&g->cfg, &r, who, now, &k, &err);
		if (!rc)
			term_printf(stdout,
				    "inquiry %u: reply sent to %s; status answered (the copy: "
				    "letterbox inquiries show %u --copy %u)\n",
				    num, r.to.spec, num, k);
	}
	if (rc)
		cli_fail(&err);
	triage_reply_free(&r);
	buf_free(&md);
	return rc;
}

/* ---- purge ------------------------------------------------------------------------------------
 */

int inquiries_purge(struct cli *g, const char *before, bool dry_run, const char *usage)
{
	time_t limit;
	if (!before)
		return cli_usage(usage, "purge: say which: --closed-before DATE");
	if (!time_parse(span_cstr(before), &limit))
		return cli_usage(
		    usage, "purge: --closed-before '%s': expected a date like 2026-01-31", before);
	const struct config *cfg = &g->cfg;
	struct lb_err err = {0};
	struct inq_closed *v = NULL;
	size_t n = 0, removed = 0;
	unsigned *gone = NULL;
	int fd = -1;
	int rc = lock_inquiries(g, &fd, &err);
	if (!rc)
		rc = inquiries_closed(cfg->state_dir, limit, &v, &n, &err);
	struct buf t = BUF_INIT;
	if (n)
		gone = xcalloc(n, sizeof *gone);
	for (size_t i = 0; !rc && i < n; i++) {
		buf_reset(&t);
		time_local(&t, v[i].closed);
		term_printf(stdout, "%s inquiry %u (from %s, closed %s)\n",
			    dry_run ? "would remove" : "removing", v[i].number,
			    v[i].from ? v[i].from : "?", t.p);
		gone[removed++] = v[i].number;
	}
	/* All at once: one transaction, and the pages given back once. */
	if (!rc && !dry_run && removed)
		rc = inquiries_remove(cfg->state_dir, gone, removed, &err);
	free(gone);
	if (fd >= 0)
		close(fd);
	if (rc)
		cli_fail(&err);
	else
		printf("purge: %zu inquir%s %s\n", removed, removed == 1 ? "y" : "ies",
		       dry_run ? "would be removed (dry run)" : "removed");
	buf_free(&t);
	inq_closed_free(v, n);
	return rc;
}
