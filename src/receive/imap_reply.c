/* letterbox's own replies in the account's IMAP mailbox (source.h,
 * source_file_reply): a copy APPENDed to incoming.sent with \Seen, and the
 * inquiry's original flagged \Answered where poll filed it. */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/mem.h"
#include "receive/imap_source.h"
#include "receive/source.h"

/* IMAP wants CRLF line ends in an APPENDed message. */
static void crlf(struct buf *out, const char *raw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			buf_addc(out, '\r');
		buf_addc(out, raw[i]);
	}
}

static int append_seen(struct imap_source *s, const char *mailbox, const char *raw, size_t n,
		       struct lb_err *err)
{
	char *wire = imap_wire_name(s, mailbox, err);
	if (!wire)
		return err->code;
	struct buf msg = BUF_INIT;
	crlf(&msg, raw, n);
	struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(flags, mailimap_flag_new_seen());
	int r = mailimap_append(s->imap, wire, flags, NULL, buf_cstr(&msg), msg.n);
	mailimap_flag_list_free(flags);
	buf_free(&msg);
	free(wire);
	return imap_ok(r) ? 0 : imap_fail(s, r, LB_ETEMP, "APPEND to incoming.sent", err);
}

/* Flag \Answered every message in folder whose Message-ID is <mid>;
 * *found tells whether there was one.  A folder that cannot be selected
 * (it does not exist) holds none. */
static int flag_answered(struct imap_source *s, const char *folder, const char *mid, bool *found,
			 struct lb_err *err)
{
	*found = false;
	char *wire = imap_wire_name(s, folder, err);
	if (!wire)
		return err->code;
	int r = mailimap_select(s->imap, wire);
	free(wire);
	if (!imap_ok(r))
		return s->dead ? imap_fail(s, r, LB_ETEMP, "SELECT", err) : 0;
	struct buf v = BUF_INIT;
	buf_printf(&v, "<%s>", mid);
	struct mailimap_search_key *key =
	    mailimap_search_key_new_header(xstrdup("Message-ID"), buf_take(&v));
	clist *uids = NULL;
	r = mailimap_uid_search(s->imap, NULL, key, &uids);
	mailimap_search_key_free(key);
	if (!imap_ok(r))
		return imap_fail(s, r, LB_ETEMP, "UID SEARCH HEADER Message-ID", err);
	int rc = 0;
	for (clistiter *it = clist_begin(uids); it && !rc; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		struct mailimap_set *set = mailimap_set_new_single(uid);
		struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
		mailimap_flag_list_add(flags, mailimap_flag_new_answered());
		struct mailimap_store_att_flags *att =
		    mailimap_store_att_flags_new_add_flags_silent(flags);
		r = mailimap_uid_store(s->imap, set, att);
		mailimap_store_att_flags_free(att);
		mailimap_set_free(set);
		if (!imap_ok(r))
			rc = imap_fail(s, r, LB_ETEMP, "UID STORE +FLAGS (\\Answered)", err);
		else
			*found = true;
	}
	mailimap_search_result_free(uids);
	return rc;
}

int imap_file_reply(const struct endpoint *ep, const char *site_dir, const char *raw, size_t n,
		    const char *original_mid, struct lb_err *append_err, struct lb_err *flag_err)
{
	struct msg_source *base = NULL;
	int rc = imap_source_open(ep, site_dir, &base, append_err);
	if (rc) {
		*flag_err = *append_err;
		return rc;
	}
	struct imap_source *s = (struct imap_source *)base;
	int ra = ep->sent && *ep->sent ? append_seen(s, ep->sent, raw, n, append_err) : 0;
	int rf = 0;
	if (!original_mid || !*original_mid) {
		rf = err_set(flag_err, LB_EDATA,
			     "the inquiry's message has no Message-ID: it cannot be flagged");
	} else {
		/* Where poll filed it: the inquiries folder, the failed one
		 * (unparsed), else where it came. */
		const char *where[] = {ep->folders[FOLDER_INQUIRIES], ep->folders[FOLDER_FAILED],
				       s->url.mailbox};
		bool found = false;
		for (size_t i = 0; i < 3 && !found && !rf; i++)
			if (where[i] && *where[i])
				rf = flag_answered(s, where[i], original_mid, &found, flag_err);
		if (!rf && !found)
			rf = err_set(flag_err, LB_ENOINPUT,
				     "the inquiry's message <%s> is no longer in the mailbox",
				     original_mid);
	}
	source_close(base);
	return ra ? ra : rf;
}
