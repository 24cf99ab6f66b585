/* Fetching from the IMAP source (imap_source.h).
 *
 * Fetching never changes the mailbox: UID SEARCH lists the UIDs above the
 * cursor, then per batch UID FETCH (RFC822.SIZE) picks which messages come
 * whole (BODY.PEEK[]) and which headers-only (BODY.PEEK[HEADER], larger than
 * max_size), and the bodies are fetched in runs of at most RUN_BYTES, so
 * memory is bounded by the batch, not by the mailbox.  A message the server
 * will not send (asked twice) is passed over and holds up no other; see
 * source_fetch() in source.h for what the cursor does then.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/mem.h"
#include "receive/imap_source.h"

enum {
	RUN_BYTES = 16u << 20, /* bodies held at once (at least one message) */
};

/* One message of a batch: its UID and RFC822.SIZE, then its bytes while its
 * run is held.  uid comes first: by_uid() compares items as uint32_t. */
struct item {
	uint32_t uid;
	uint32_t size;
	bool got; /* the size, or the bytes, of the current step */
	const char *p;
	size_t n;
};

static int by_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The UIDs above `after`, ascending.  `UID SEARCH UID n:*` matches the last
 * message even when every UID is below n (RFC 3501: "*" is the largest UID
 * in use), so the result is filtered again here. */
int imap_list_uids(struct imap_source *s, uint32_t after, uint32_t **uids, size_t *n,
		   struct lb_err *err)
{
	*uids = NULL;
	*n = 0;
	if (after == UINT32_MAX)
		return 0;
	struct mailimap_search_key *key =
	    mailimap_search_key_new_uid(mailimap_set_new_interval(after + 1, 0));
	clist *res = NULL;
	int r = mailimap_uid_search(s->imap, NULL, key, &res);
	mailimap_search_key_free(key);
	if (!imap_ok(r))
		return imap_fail(s, r, LB_EUNAVAIL, "UID SEARCH", err);
	*uids = xcalloc(clist_count(res) + 1, sizeof **uids);
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (uid > after)
			(*uids)[(*n)++] = uid;
	}
	mailimap_search_result_free(res);
	qsort(*uids, *n, sizeof **uids, by_uid);
	return 0;
}

/* A set of UIDs (ascending) with runs written as intervals. */
static struct mailimap_set *uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

/* The static attributes of one FETCH response: UID, RFC822.SIZE, a body. */
static void fetched(struct mailimap_msg_att *ma, uint32_t *uid, uint32_t *size, const char **body,
		    size_t *len)
{
	for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
		struct mailimap_msg_att_item *item = clist_content(j);
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		struct mailimap_msg_att_static *st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID) {
			*uid = st->att_data.att_uid;
		} else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
			*size = st->att_data.att_rfc822_size;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && body) {
			*body = st->att_data.att_body_section->sec_body_part;
			*len = st->att_data.att_body_section->sec_length;
		}
	}
}

static int uid_fetch(struct imap_source *s, struct mailimap_set *set,
		     struct mailimap_fetch_att *body_att, clist **res, struct lb_err *err)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, body_att ? body_att : mailimap_fetch_att_new_rfc822_size());
	*res = NULL;
	int r = mailimap_uid_fetch(s->imap, set, ft, res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	return imap_ok(r) ? 0 : imap_fail(s, r, LB_EUNAVAIL, "UID FETCH", err);
}

enum part { SIZES, BODIES, HEADERS };

/* One UID FETCH of `part` for the items (ascending by UID) that lack it;
 * *left: how many still do.  *res holds the bytes the items point to. */
static int fetch_lacking(struct imap_source *s, struct item *items, size_t n, enum part part,
			 clist **res, size_t *left, struct lb_err *err)
{
	uint32_t *uids = xcalloc(n, sizeof *uids);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!items[i].got)
			uids[k++] = items[i].uid;
	struct mailimap_fetch_att *att =
	    part == SIZES
		? NULL
		: mailimap_fetch_att_new_body_peek_section(
		      part == HEADERS ? mailimap_section_new_header() : mailimap_section_new(NULL));
	int rc = uid_fetch(s, uid_set(uids, k), att, res, err);
	free(uids);
	if (rc)
		return rc;
	for (clistiter *it = clist_begin(*res); it; it = clist_next(it)) {
		struct item got = {0};
		fetched(clist_content(it), &got.uid, &got.size, &got.p, &got.n);
		/* Only what was asked for: a server may add unsolicited FETCHes. */
		struct item *mine = bsearch(&got.uid, items, n, sizeof *items, by_uid);
		if (!mine || mine->got || (part != SIZES && !got.p))
			continue;
		mine->got = true;
		if (part == SIZES) {
			mine->size = got.size;
		} else {
			mine->p = got.p;
			mine->n = got.n;
		}
	}
	*left = 0;
	for (size_t i = 0; i < n; i++)
		*left += !items[i].got;
	return 0;
}

/* Of the items the server left out twice, the first that is still in the
 * mailbox (*stuck, 0 when none is): the cursor must not pass it.  The NOOP
 * lets the server report what another client expunged; those are skipped. */
static int find_stuck(struct imap_source *s, const struct item *items, size_t n, uint32_t *stuck,
		      struct lb_err *err)
{
	uint32_t *uids = xcalloc(n, sizeof *uids);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!items[i].got)
			uids[k++] = items[i].uid;
	int r = mailimap_noop(s->imap);
	if (!imap_ok(r)) {
		free(uids);
		return imap_fail(s, r, LB_EUNAVAIL, "NOOP", err);
	}
	struct mailimap_search_key *key = mailimap_search_key_new_uid(uid_set(uids, k));
	clist *res = NULL;
	r = mailimap_uid_search(s->imap, NULL, key, &res);
	mailimap_search_key_free(key);
	if (!imap_ok(r)) {
		free(uids);
		return imap_fail(s, r, LB_EUNAVAIL, "UID SEARCH", err);
	}
	*stuck = 0;
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (bsearch(&uid, uids, k, sizeof *uids, by_uid) && (!*stuck || uid < *stuck))
			*stuck = uid;
	}
	mailimap_search_result_free(res);
	for (size_t i = 0; i < k && (!*stuck || uids[i] < *stuck); i++)
		log_info("%s: uid %u was expunged by another client: skipped", s->url.host,
			 uids[i]);
	free(uids);
	return 0;
}

/* `part` for every item, asking once more for those the server leaves out;
 * res[0..2) hold the bytes until freed.  *stuck as find_stuck's. */
static int fetch_part(struct imap_source *s, struct item *items, size_t n, enum part part,
		      clist *res[2], uint32_t *stuck, struct lb_err *err)
{
	size_t left = 0;
	*stuck = 0;
	int rc = fetch_lacking(s, items, n, part, &res[0], &left, err);
	if (!rc && left) {
		log_info("%s: the server left %zu message%s out of a UID FETCH: asking again",
			 s->url.host, left, left == 1 ? "" : "s");
		rc = fetch_lacking(s, items, n, part, &res[1], &left, err);
	}
	return rc || !left ? rc : find_stuck(s, items, n, stuck, err);
}

static int stuck_error(struct imap_source *s, uint32_t uid, struct lb_err *err)
{
	return err_set(err, LB_ETEMP,
		       "%s:%u: the server did not send the message with UID %u (asked twice), "
		       "though %s still holds it: the others were filed, the cursor stays before "
		       "it; the next poll tries again (if this repeats, look at that message "
		       "with a mail client)",
		       s->url.host, s->url.port, uid, s->url.mailbox);
}

static void free_fetched(clist *res[2])
{
	for (int i = 0; i < 2; i++)
		if (res[i])
			mailimap_fetch_list_free(res[i]);
}

/* Where a fetch hands messages over to, and the lowest UID the server has
 * withheld so far (0: none), which the cursor must not pass. */
struct handover {
	src_msg_fn fn;
	void *ctx;
	uint32_t withheld;
};

static void withhold(struct handover *h, uint32_t stuck)
{
	if (stuck && (!h->withheld || stuck < h->withheld))
		h->withheld = stuck;
}

/* Fetch the bodies (or headers) of items[0..n) and hand them over in UID
 * order, passing over a message the server will not send (noted in h). */
static int fetch_run(struct imap_source *s, struct item *items, size_t n, bool headers,
		     struct handover *h, struct lb_err *err)
{
	clist *res[2] = {NULL, NULL};
	uint32_t stuck = 0;
	for (size_t i = 0; i < n; i++)
		items[i].got = false;
	int rc = fetch_part(s, items, n, headers ? HEADERS : BODIES, res, &stuck, err);
	withhold(h, stuck);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!items[i].got) /* withheld, or expunged (find_stuck) */
			continue;
		char id[24];
		snprintf(id, sizeof id, "uid:%u", items[i].uid);
		struct src_msg m = {.id = id,
				    .uid = items[i].uid,
				    .raw = items[i].p,
				    .n = items[i].n,
				    .size = items[i].size,
				    .truncated = headers,
				    .withheld = h->withheld < items[i].uid ? h->withheld : 0};
		if (s->max_size && m.n > s->max_size) {
			m.n = s->max_size;
			m.truncated = true;
		}
		rc = h->fn(h->ctx, &m);
	}
	free_fetched(res);
	return rc;
}

/* One batch: sizes first, then runs of whole messages or of headers-only
 * ones, each within the RUN_BYTES budget, in UID order. */
static int fetch_batch(struct imap_source *s, const uint32_t *uids, size_t n, struct handover *h,
		       struct lb_err *err)
{
	struct item *items = xcalloc(n, sizeof *items);
	for (size_t i = 0; i < n; i++)
		items[i].uid = uids[i];
	clist *res[2] = {NULL, NULL};
	uint32_t stuck = 0;
	int rc = fetch_part(s, items, n, SIZES, res, &stuck, err);
	free_fetched(res);
	withhold(h, stuck);
	/* What has a size: not what the server will not list, nor the expunged. */
	size_t nitems = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (items[i].got)
			items[nitems++] = items[i];
	for (size_t i = 0; !rc && i < nitems;) {
		bool big = s->max_size && items[i].size > s->max_size;
		size_t j = i, bytes = 0;
		while (j < nitems && (s->max_size && items[j].size > s->max_size) == big) {
			size_t cost = big ? 0 : items[j].size; /* headers are small */
			if (j > i && bytes + cost > RUN_BYTES)
				break;
			bytes += cost;
			j++;
		}
		rc = fetch_run(s, items + i, j - i, big, h, err);
		i = j;
	}
	free(items);
	return rc;
}

int imap_fetch(struct msg_source *base, const struct cursor *c, size_t batch, src_msg_fn fn,
	       void *ctx, struct lb_err *err)
{
	struct imap_source *s = (struct imap_source *)base;
	int rc = imap_check_alive(s, err);
	if (rc)
		return rc;
	/* A NOOP lets the server tell us about mail that arrived since SELECT
	 * (or since the last fetch) before we ask what is there. */
	int r = mailimap_noop(s->imap);
	if (!imap_ok(r))
		return imap_fail(s, r, LB_EUNAVAIL, "NOOP", err);
	uint32_t after = c && c->uidvalidity == s->uidvalidity ? c->last_uid : 0;
	if (c && c->uidvalidity && c->uidvalidity != s->uidvalidity)
		log_warn("%s: mailbox %s has a new UIDVALIDITY (%u, was %u): fetching everything",
			 s->url.host, s->url.mailbox, s->uidvalidity, c->uidvalidity);
	uint32_t *uids = NULL;
	size_t n = 0;
	rc = imap_list_uids(s, after, &uids, &n, err);
	if (!rc) {
		s->fetched = true;
		s->seen_uid = n ? uids[n - 1] : after;
	}
	/* A message the server withholds does not hold up the ones after it (an
	 * urgent reply may be among them): they are handed over with the cursor
	 * kept below it, and the error comes at the end. */
	struct handover h = {fn, ctx, 0};
	for (size_t i = 0; !rc && i < n; i += batch)
		rc = fetch_batch(s, uids + i, n - i < batch ? n - i : batch, &h, err);
	free(uids);
	return !rc && h.withheld ? stuck_error(s, h.withheld, err) : rc;
}
