/* Adding and removing a subscriber (triage/members.h). */
#include "triage/members.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/timefmt.h"
#include "store/listedit.h"

int members_open(const struct config *cfg, bool lock, bool load, sub_report_fn warn,
		 struct members *m, struct lb_err *err)
{
	memset(m, 0, sizeof *m);
	m->lock_fd = -1;
	int rc = 0;
	if (lock) {
		char *path = path_join(cfg->state_dir, "lock.subscribers");
		rc = fsx_state_dir(cfg->state_dir, err);
		if (!rc)
			rc = fsx_lock(path, true, &m->lock_fd, err);
		free(path);
		/* list files an edit killed with -9 left half-written */
		char *lists = path_join(cfg->site_dir, "subscribers");
		if (!rc)
			fsx_clean_tmp(lists);
		free(lists);
	}
	if (!rc && load)
		rc = sublists_load(cfg->site_dir, &m->ls, warn, NULL, err);
	if (!rc)
		rc = suppressions_load(cfg->state_dir, &m->sup, err);
	return rc;
}

void members_close(struct members *m)
{
	sublists_free(&m->ls);
	suppressions_free(m->sup);
	m->sup = NULL;
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = -1;
}

/* "removed since WHEN": local (site.timezone) for the person told, UTC for
 * the evidence kept in state/. */
static void say_when(struct buf *b, const struct suppression *x, bool local)
{
	buf_printf(b, "%s since ", sup_reason_name(x->reason));
	if (local)
		time_local(b, x->when);
	else
		time_iso(b, x->when);
}

int members_add(const struct config *cfg, const char *list, const struct addr *a, const char *name,
		const char *how, time_t now, struct buf *said, struct lb_err *err)
{
	struct members s;
	struct buf msg = BUF_INIT, rel = BUF_INIT, ev = BUF_INIT;
	char *path = NULL;
	if (list && !sublist_id_ok(list))
		return err_set(err, LB_EUSAGE,
			       "--list '%.64s': a list name is letters, digits, '.', '_', '-'",
			       list);
	char **paths = NULL, *only = NULL;
	bool there, exists;
	int rc = members_open(cfg, true, false, NULL, &s, err);
	if (rc)
		goto out;
	paths = sublist_paths(cfg->site_dir);
	size_t nlists = 0;
	while (paths[nlists])
		nlists++;
	if (!list && nlists != 1) {
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < nlists; i++) {
			char *id = sublist_id(paths[i]);
			buf_printf(&names, "%s%s", i ? ", " : "", id);
			free(id);
		}
		rc = nlists ? err_set(err, LB_EUSAGE,
				      "there are %zu lists (%s): say which with --list", nlists,
				      names.p)
			    : err_set(err, LB_EUSAGE,
				      "there is no list yet: name one with --list NAME (it is "
				      "created)");
		buf_free(&names);
		goto out;
	}
	const char *id = list ? list : (only = sublist_id(paths[0]));
	buf_printf(&rel, "subscribers/%s.yaml", id);
	path = path_join(cfg->site_dir, rel.p);
	exists = fsx_exists(path);
	struct listedit_entry e = {a->spec, name};
	if ((rc = listedit_add_new(path, id, &e, &there, err)))
		goto out;
	if (!there) {
		buf_printf(said, "added %s to %s (%s%s)\n", a->spec, id, path,
			   exists ? "" : ", a new list");
	} else {
		buf_printf(said, "%s is already on %s: not added again\n", a->spec, id);
	}
	const struct suppression *was = suppressions_get(s.sup, a->spec);
	if (was) {
		/* before the add below turns was into the new record */
		say_when(&msg, was, false);
		buf_printf(&ev, "%s, after %s", how, msg.p);
		buf_reset(&msg);
		say_when(&msg, was, true);
		if ((rc = suppressions_add(s.sup, a->spec, SUP_RESUBSCRIBED, now, ev.p, err)))
			goto out;
		buf_printf(said,
			   "%s had been suppressed (%s): re-subscribed, it will be mailed again\n",
			   a->spec, msg.p);
	}
out:
	members_close(&s);
	if (paths)
		fsx_list_free(paths);
	free(only);
	buf_free(&msg);
	buf_free(&rel);
	buf_free(&ev);
	free(path);
	return rc;
}

int members_remove(const struct config *cfg, const struct addr *a, const char *how, time_t now,
		   struct buf *said, struct lb_err *err)
{
	struct members s;
	struct buf lists = BUF_INIT, ev = BUF_INIT;
	char **paths = NULL;
	int rc = members_open(cfg, true, false, NULL, &s, err);
	if (rc)
		goto out;
	paths = sublist_paths(cfg->site_dir);
	for (char **p = paths; *p && !rc; p++) {
		bool there;
		if (!(rc = sublist_contains(*p, a->spec, &there, err)) && there) {
			char *id = sublist_id(*p);
			buf_printf(&lists, "%s%s", lists.n ? ", " : "", id);
			free(id);
		}
	}
	if (rc)
		goto out;
	const struct suppression *was = suppressions_get(s.sup, a->spec);
	if (was) {
		say_when(&ev, was, true);
		buf_printf(said, "%s is already suppressed (%s): nothing to do\n", a->spec, ev.p);
		goto out;
	}
	if ((rc = suppressions_add(s.sup, a->spec, SUP_REMOVED, now, how, err)))
		goto out;
	if (lists.n)
		buf_printf(said,
			   "removed %s: it will not be mailed again (on %s; the list file is left "
			   "as it is)\n",
			   a->spec, lists.p);
	else
		buf_printf(said,
			   "%s is not on any list: suppressed anyway, it will never be mailed\n",
			   a->spec);
out:
	members_close(&s);
	if (paths)
		fsx_list_free(paths);
	buf_free(&lists);
	buf_free(&ev);
	return rc;
}
