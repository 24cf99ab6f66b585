/* An inquiry's conversation in order and its attachments, for the CLI's
 * `inquiries show/attachment` and the staff pages alike (triage/conv.h). */
#include "triage/conv.h"

#include <stdlib.h>
#include <string.h>

#include "core/fsx.h"
#include "core/mem.h"

static int item_cmp(const void *a, const void *b)
{
	const struct conv_item *x = a, *y = b;
	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The order it was stored in (the thread notes each reply; copies from
 * before it did are placed by their Date). */
struct conv_item *conv_items(const char *state, const struct inquiry *q, size_t *k,
			     struct conv_msg **v, size_t *nv)
{
	size_t n = 0, ncopies = 0, nreplies = 0;
	*v = conv_msgs(q, &n);
	*nv = n;
	*k = 0;
	for (const char *c = q->copies; c && *c; c++)
		ncopies += c == q->copies || c[-1] == ' ';
	for (size_t i = 0; i < n; i++)
		nreplies +=
		    (*v)[i].dir == CONV_OUT && (*v)[i].from && !strcmp((*v)[i].from, "reply");
	unsigned older = ncopies > nreplies ? (unsigned)(ncopies - nreplies) : 0, next = older;
	struct conv_item *items = xcalloc(1 + n + ncopies, sizeof *items);
	struct buf raw = BUF_INIT;
	struct lb_err err = {0};
	items[(*k)++] = (struct conv_item){q->received, 0, NULL, 0};
	for (size_t i = 0; i < n; i++) {
		const struct conv_msg *m = &(*v)[i];
		if (m->dir == CONV_IN)
			items[(*k)++] = (struct conv_item){m->when, i + 1, m, 0};
		else if (m->from && !strcmp(m->from, "reply") && next < ncopies)
			items[(*k)++] = (struct conv_item){m->when, i + 1, NULL, ++next};
	}
	for (unsigned c = 1; c <= older; c++) {
		time_t when = 0;
		buf_reset(&raw);
		if (inquiry_copy(state, q, c, &raw, &err) == 0) {
			struct inmsg m;
			inmsg_parse(raw.p, raw.n, NULL, &m);
			when = m.date_time;
			inmsg_free(&m);
		}
		items[(*k)++] = (struct conv_item){when ? when : q->received, n + c, NULL, c};
	}
	if (older)
		qsort(items + 1, *k - 1, sizeof *items, item_cmp);
	buf_free(&raw);
	return items;
}

int conv_item_raw(const char *state, const struct inquiry *q, const struct conv_item *it,
		  const struct buf *first, struct buf *raw, struct lb_err *err)
{
	if (it->copy)
		return inquiry_copy(state, q, it->copy, raw, err);
	if (it->thread)
		return conv_msg_raw(state, it->thread, raw, err);
	buf_addspan(raw, buf_span(first));
	return 0;
}

/* [a-z0-9]{1,8} from s[0..n) lower-cased, or false. */
static bool safe_ext(struct buf *out, const char *s, size_t n)
{
	if (!n || n > 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	buf_reset(out);
	for (size_t i = 0; i < n; i++)
		buf_addc(out, s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i]);
	return true;
}

/* The file name's extension when it is a safe one, else one for the type. */
static void extension(struct buf *out, const struct attachment *a)
{
	static const char *const types[][2] = {
	    {"text/plain", "txt"},	  {"text/html", "html"},     {"image/jpeg", "jpg"},
	    {"message/rfc822", "eml"},	  {"message/global", "eml"}, {"image/svg+xml", "svg"},
	    {"application/msword", "doc"}};
	const char *dot = a->filename ? strrchr(a->filename, '.') : NULL;
	if (dot && safe_ext(out, dot + 1, strlen(dot + 1)))
		return;
	const char *t = a->content_type ? a->content_type : "";
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (!strcmp(t, types[i][0])) {
			buf_reset(out);
			buf_adds(out, types[i][1]);
			return;
		}
	const char *slash = strchr(t, '/');
	if (slash && safe_ext(out, slash + 1, strlen(slash + 1)))
		return;
	buf_reset(out);
	buf_adds(out, "bin");
}

/* "K" or "M.K", each 1..100000 (conv.h). */
bool attachment_which_parse(const char *s, unsigned long *msg, unsigned long *k)
{
	char *end;
	*msg = 1;
	if (*s < '0' || *s > '9')
		return false;
	*k = strtoul(s, &end, 10);
	if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
		*msg = *k;
		*k = strtoul(end + 1, &end, 10);
	}
	return !*end && *msg && *k && *msg <= 100000 && *k <= 100000;
}

int inquiry_attachment_get(const char *state, const struct inquiry *q, const char *which,
			   struct inmsg *m, struct buf *name, struct lb_err *err)
{
	unsigned long msg, k;
	memset(m, 0, sizeof *m);
	if (!attachment_which_parse(which, &msg, &k))
		return err_set(err, LB_EUSAGE,
			       "attachment: '%.40s' is not K or M.K (numbers from 1)", which);
	unsigned num = q->number;
	size_t nitems, nv;
	struct conv_msg *v;
	struct conv_item *items = conv_items(state, q, &nitems, &v, &nv);
	struct buf first = BUF_INIT, raw = BUF_INIT, ext = BUF_INIT;
	int rc = 0;
	if (msg > nitems) {
		rc = err_set(err, LB_ENOINPUT, "inquiry %u has no message %lu (it has %zu)", num,
			     msg, nitems);
		goto out;
	}
	if (msg == 1 && (rc = inquiry_message(state, q, &first, err)) != 0)
		goto out;
	if ((rc = conv_item_raw(state, q, &items[msg - 1], &first, &raw, err)) != 0)
		goto out;
	struct parse_opts po = {NULL, (size_t)k};
	inmsg_parse(raw.p, raw.n, &po, m);
	if (k > m->natt || !m->att_bytes) {
		if (msg == 1 && nitems == 1)
			rc = err_set(err, LB_ENOINPUT,
				     "inquiry %u has no attachment %lu (it has %zu)", num, k,
				     m->natt);
		else
			rc = err_set(err, LB_ENOINPUT,
				     "message %lu of inquiry %u has no attachment %lu (it has %zu)",
				     msg, num, k, m->natt);
		goto out;
	}
	extension(&ext, &m->att[k - 1]);
	buf_printf(name, "inquiry-%u", num);
	if (msg > 1)
		buf_printf(name, "-%lu", msg);
	buf_printf(name, "-attachment-%lu.%s", k, ext.p);
out:
	free(items);
	conv_msgs_free(v, nv);
	buf_free(&first);
	buf_free(&raw);
	buf_free(&ext);
	return rc;
}
