/* The staff's other pages: GET /staff/campaigns (each campaign's counts, as
 * `letterbox status` gives them) and /staff/subscribers. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "web/routes.h"
#include "web/staff_int.h"

void web_get_staff_campaigns(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return;
	struct buf b = BUF_INIT;
	staff_nav(w, &b, user);
	web_page(w, 200, "Campaigns", b.p);
	buf_free(&b);
}

void web_get_staff_subscribers(struct web *w)
{
	const char *user = staff_enter(w);
	if (!user)
		return;
	struct buf b = BUF_INIT;
	staff_nav(w, &b, user);
	web_page(w, 200, "Subscribers", b.p);
	buf_free(&b);
}

void web_post_staff_subscribers(struct web *w)
{
	const char *user = staff_post_enter(w);
	if (!user)
		return;
	web_error(w, 400, "Not changed", "Not yet.");
}
