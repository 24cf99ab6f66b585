#include "receive/staffreply.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "store/conversation.h"
#include "store/inquiries.h"

void staff_reply_who(struct buf *out, const struct inmsg *m)
{
	if (m->from_name && *m->from_name && m->from && *m->from)
		buf_printf(out, "%s <%s>", m->from_name, m->from);
	else if (m->from && *m->from)
		buf_adds(out, m->from);
	else
		buf_adds(out, "staff");
}

/* Whether q's thread notes a mail of ours with Message-ID id. */
static bool thread_has_out(const struct inquiry *q, const char *id)
{
	size_t n;
	struct conv_msg *v = conv_msgs(q, &n);
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = v[i].dir == CONV_OUT && v[i].message_id && !strcmp(v[i].message_id, id);
	conv_msgs_free(v, n);
	return found;
}

int staff_reply_file(struct followups *x, const struct config *cfg, const struct src_msg *msg,
		     const struct inmsg *m, time_t now, unsigned number, bool *recorded,
		     struct lb_err *err)
{
	const char *dir = cfg->state_dir;
	int fd = -1;
	struct inquiry q = {0};
	struct buf who = BUF_INIT, d = BUF_INIT;
	char *old = NULL;
	unsigned k = 0;
	*recorded = false;
	int rc = inquiry_lock_load(dir, number, &fd, &q, err);
	if (rc || !q.number)
		goto out; /* an error, or the inquiry is gone */
	if (m->message_id && thread_has_out(&q, m->message_id))
		goto out;
	old = xstrdup(q.status ? q.status : "?");
	free(q.status);
	q.status = xstrdup("answered");
	staff_reply_who(&who, m);
	/* The copy first: a crash before the rest leaves a copy kept twice at
	 * worst (the next poll records it again), never an answer lost. */
	rc = inquiry_add_copy(dir, &q, msg->raw, msg->n, &k, err);
	if (!rc)
		rc = inquiry_note_sent(dir, &q, now, m->message_id, "reply", err);
	if (!rc) {
		buf_printf(&d, "answered by %s (mail client); copy %u", who.p, k);
		rc = inquiry_history_add(dir, number, now, who.p, "reply", d.p, err);
	}
	if (!rc && strcmp(old, "answered") != 0) {
		buf_reset(&d);
		buf_printf(&d, "%s -> answered", old);
		rc = inquiry_history_add(dir, number, now, who.p, "status", d.p, err);
	}
	if (!rc) {
		*recorded = true;
		followup_note(x, number, m->message_id, NULL, NULL, now);
	}
out:
	if (fd >= 0)
		close(fd);
	free(old);
	buf_free(&who);
	buf_free(&d);
	inquiry_free(&q);
	return rc;
}
