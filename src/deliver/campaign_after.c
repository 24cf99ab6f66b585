/* What happened after a campaign was sent: the bounces, complaints and
 * unsubscribes that followed, for status and the digest.  Read from the
 * suppressions' side: each one asks the campaigns' indexes (campaign.h)
 * whether they were sent to the address, so the cost follows the
 * suppressions, not the lists. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "deliver/campaign.h"

void campaign_after(struct campaign_summary *cs, size_t n, const struct suppressions *sup,
		    struct campaign_after *out)
{
	memset(out, 0, n * sizeof *out);
	size_t ns;
	const struct suppression *const *v = suppressions_list(sup, &ns);
	for (size_t i = 0; i < ns; i++) {
		const struct suppression *s = v[i];
		if (s->reason != SUP_HARD_BOUNCE && s->reason != SUP_FAILED &&
		    s->reason != SUP_COMPLAINT && s->reason != SUP_UNSUBSCRIBED)
			continue;
		/* Each counts once: for the latest campaign sent to the address
		 * before it. */
		size_t best = n;
		for (size_t j = 0; j < n; j++)
			if (s->when >= cs[j].started &&
			    (best == n || cs[j].started > cs[best].started) &&
			    campaign_sent_to(&cs[j], s->key))
				best = j;
		if (best == n)
			continue;
		struct campaign_after *a = &out[best];
		if (s->reason == SUP_HARD_BOUNCE || s->reason == SUP_FAILED)
			a->bounced++;
		else if (s->reason == SUP_COMPLAINT)
			a->complained++;
		else
			a->unsubscribed++;
	}
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
