/* What happened after a campaign was sent: the bounces, complaints and
 * unsubscribes that followed, for status and the digest. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "deliver/campaign.h"

struct link {
	const char *key; /* the suppression's addr_key */
	time_t started;	 /* of the campaign */
	size_t camp;
	enum sup_reason reason;
};

/* By address, then the latest campaign first. */
static int by_key_latest(const void *a, const void *b)
{
	const struct link *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (x->started < y->started) - (x->started > y->started);
}

void campaign_after(const struct campaign *cs, size_t n, const struct suppressions *sup,
		    struct campaign_after *out)
{
	memset(out, 0, n * sizeof *out);
	struct link *v = NULL;
	size_t nv = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < cs[i].n; j++) {
			const struct crcpt *r = &cs[i].r[j];
			if (r->state != RS_SENT)
				continue;
			const struct suppression *s = suppressions_get(sup, r->email);
			if (!s || s->when < cs[i].started ||
			    (s->reason != SUP_HARD_BOUNCE && s->reason != SUP_FAILED &&
			     s->reason != SUP_COMPLAINT && s->reason != SUP_UNSUBSCRIBED))
				continue;
			v = xgrowarray(v, &cap, nv + 1, sizeof *v);
			v[nv++] = (struct link){s->key, cs[i].started, i, s->reason};
		}
	}
	if (nv)
		qsort(v, nv, sizeof *v, by_key_latest);
	for (size_t i = 0; i < nv; i++) {
		if (i && strcmp(v[i].key, v[i - 1].key) == 0)
			continue; /* an earlier campaign to the same address */
		struct campaign_after *a = &out[v[i].camp];
		if (v[i].reason == SUP_HARD_BOUNCE || v[i].reason == SUP_FAILED)
			a->bounced++;
		else if (v[i].reason == SUP_COMPLAINT)
			a->complained++;
		else
			a->unsubscribed++;
	}
	free(v);
}

void campaign_after_text(struct buf *b, const struct campaign_after *a)
{
	const char *sep = "";
	if (a->bounced)
		buf_printf(b, "%s%zu bounced later", sep, a->bounced), sep = ", ";
	if (a->complained)
		buf_printf(b, "%s%zu complained (spam)", sep, a->complained), sep = ", ";
	if (a->unsubscribed)
		buf_printf(b, "%s%zu unsubscribed", sep, a->unsubscribed);
}
