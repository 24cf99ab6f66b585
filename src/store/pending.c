/* Pending reports: state/suppressions.pending, one record a line, in the
 * suppressions' format:
 *
 *     2026-11-25T17:35:00Z<TAB>hard-bounce<TAB>zoe@example.org<TAB>bounce 5.1.1 ... (unlinked)
 *
 * The file is small (only reports nobody could tie to a message of ours), so
 * it is read whole and kept in memory; whether a report is still pending is
 * decided against the suppressions at look-up time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/strset.h"
#include "core/timefmt.h"
#include "store/suppressions_int.h"

#define FILE_NAME "suppressions.pending"
#define HEADER                                                                                     \
	"# letterbox reports not tied to a message of ours: evidence, not suppressions; "          \
	"machine-written, append-only, never edit\n"
#define LINE_MAX_LEN 4096

struct sup_pending {
	char *path;
	struct suppression *v; /* every record, in file order; strings owned */
	size_t n, cap;
	struct strset latest; /* key -> index + 1 of its latest record */
	const struct suppression **view;
};

static char *lower_dup(const char *p, size_t n)
{
	char *k = xstrndup(p, n);
	for (char *c = k; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + ('a' - 'A'));
	return k;
}

static void keep(struct sup_pending *p, const char *addr, size_t an, enum sup_reason reason,
		 time_t when, const char *ev, size_t en)
{
	p->v = xgrowarray(p->v, &p->cap, p->n + 1, sizeof *p->v);
	struct suppression *r = &p->v[p->n++];
	r->address = xstrndup(addr, an);
	r->key = lower_dup(addr, an);
	r->reason = reason;
	r->when = when;
	r->evidence = xstrndup(ev, en);
	void *idx = (void *)(uintptr_t)p->n;
	if (!strset_add_copy(&p->latest, r->key, idx, NULL))
		strset_set(&p->latest, r->key, idx);
}

static int parse(struct sup_pending *p, char *text, size_t len, struct lb_err *err)
{
	size_t lineno = 0;
	for (char *line = text, *end = text + len; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			break; /* a torn last line: its append never returned */
		lineno++;
		size_t n = (size_t)(nl - line);
		struct span f[3];
		size_t at = 0;
		if (n == 0 || line[0] == '#')
			goto next;
		for (int i = 0; i < 3; i++) {
			const char *tab = memchr(line + at, '\t', n - at);
			if (!tab)
				goto bad;
			f[i] = (struct span){line + at, (size_t)(tab - (line + at))};
			at = (size_t)(tab - line) + 1;
		}
		time_t when;
		char *name = span_dup(f[1]);
		enum sup_reason reason = sup_reason_parse(name);
		free(name);
		if (!sup_parse_when(f[0], &when) || reason == SUP_NONE ||
		    reason == SUP_RESUBSCRIBED || f[2].n == 0 || memchr(line, '\0', n) ||
		    n > LINE_MAX_LEN)
			goto bad;
		keep(p, f[2].p, f[2].n, reason, when, line + at, n - at);
	next:
		line = nl + 1;
	}
	return 0;
bad:
	return err_set(err, LB_EDATA,
		       "%s:%zu: not a pending-report record; this file is written by letterbox "
		       "only: restore it from a backup",
		       p->path, lineno);
}

int sup_pending_load(const char *state_dir, struct sup_pending **out, struct lb_err *err)
{
	struct sup_pending *p = xcalloc(1, sizeof *p);
	p->path = path_join(state_dir, FILE_NAME);
	struct buf text = BUF_INIT;
	struct lb_err e = {0};
	int rc = fsx_read_state(p->path, &text, 0, &e);
	if (rc == LB_ENOINPUT)
		rc = 0;
	else if (rc)
		*err = e;
	else
		rc = parse(p, text.p, text.n, err);
	buf_free(&text);
	if (rc) {
		sup_pending_free(p);
		p = NULL;
	}
	*out = p;
	return rc;
}

void sup_pending_free(struct sup_pending *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].address);
		free(p->v[i].key);
		free(p->v[i].evidence);
	}
	free(p->v);
	strset_free(&p->latest);
	free(p->view);
	free(p->path);
	free(p);
}

/* The record if it is still pending: not suppressed, and nothing recorded
 * about the address since (a staff lift settles it too). */
static const struct suppression *still_pending(const struct suppressions *s,
					       const struct suppression *r)
{
	time_t last;
	if (suppressions_check(s, r->address) != SUP_NONE)
		return NULL;
	if (sup_last_record(s, r->address, &last) && last > r->when)
		return NULL;
	return r;
}

const struct suppression *suppressions_pending_get(const struct suppressions *s,
						   const char *address)
{
	const struct sup_pending *p = sup_pending_of(s);
	if (!address)
		return NULL;
	char *k = lower_dup(address, strlen(address));
	uintptr_t i = (uintptr_t)strset_get(&p->latest, k, NULL);
	free(k);
	return i ? still_pending(s, &p->v[i - 1]) : NULL;
}

const struct suppression *const *suppressions_pending_list(const struct suppressions *s, size_t *n)
{
	struct sup_pending *p = sup_pending_of(s);
	free(p->view);
	p->view = xcalloc(p->n + 1, sizeof *p->view);
	*n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct suppression *r = &p->v[i];
		if ((uintptr_t)strset_get(&p->latest, r->key, NULL) == i + 1 && still_pending(s, r))
			p->view[(*n)++] = r;
	}
	return p->view;
}

int suppressions_add_pending(struct suppressions *s, const char *address, enum sup_reason reason,
			     time_t when, const char *evidence, struct lb_err *err)
{
	struct sup_pending *p = sup_pending_of(s);
	if (reason <= SUP_NONE || reason >= SUP_RESUBSCRIBED)
		return err_set(err, LB_ESOFTWARE, "suppressions_add_pending: no reason given");
	struct addr a;
	struct buf line = BUF_INIT, ev = BUF_INIT;
	int rc = sup_format(&line, &ev, &a, address, reason, when, evidence, err);
	if (!rc)
		rc = sup_append(sup_dir(s), p->path, HEADER, &line, err);
	if (!rc)
		keep(p, a.spec, strlen(a.spec), reason, when, ev.p ? ev.p : "", ev.n);
	buf_free(&ev);
	buf_free(&line);
	addr_free(&a);
	return rc;
}

static enum sup_reason family(enum sup_reason r)
{
	return r == SUP_FAILED ? SUP_HARD_BOUNCE : r;
}

int suppressions_confirm(struct suppressions *s, const char *address, enum sup_reason kind,
			 time_t when, const char *how, bool *done, struct lb_err *err)
{
	*done = false;
	const struct suppression *r = suppressions_pending_get(s, address);
	if (!r || family(r->reason) != family(kind))
		return 0;
	struct buf ev = BUF_INIT;
	buf_printf(&ev, "confirmed by %s; the report: %s", how, r->evidence);
	int rc = suppressions_add(s, r->address, r->reason, when, ev.p, err);
	buf_free(&ev);
	*done = rc == 0;
	return rc;
}
