/* The archive: every newsletter that has gone out, for the web (/archive/,
 * /archive/SLUG, /archive/feed.xml).  Internal to src/web/.
 *
 * "Sent" means: the article's campaign has at least one S record in its
 * journal (campaign_first_sent), i.e. a message was accepted for at least
 * one subscriber.  A campaign still in progress is in the archive from its
 * first delivery on; one that has delivered nothing (not started, only
 * deferred, failed for everyone, or uncertain) is not.  An article marked
 * `draft: true` is never shown, even after sending; an article whose file is
 * gone or no longer loads is left out (the server's log says why).
 */
#ifndef LB_WEB_ARCHIVE_H
#define LB_WEB_ARCHIVE_H

#include <stddef.h>
#include <time.h>

#include "compose/article.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

struct archive_entry {
	struct article a;
	time_t sent;	     /* the campaign's first delivery */
	const char *summary; /* front matter `summary`, else `preheader`; NULL: none */
};

/* Every sent newsletter of cfg's site, newest first (article date, then the
 * time it went out, then slug).  Only the journals' first records are read.
 * An unreadable newsletters/ or journal is an error (the caller answers 500). */
int archive_list(const struct config *cfg, struct archive_entry **v, size_t *n, struct lb_err *err);
/* The sent newsletter slug: 0 and *e filled; LB_ENOINPUT when there is none
 * (unknown, not sent, draft, two articles with that slug). */
int archive_find(const struct config *cfg, const char *slug, struct archive_entry *e,
		 struct lb_err *err);
void archive_entry_free(struct archive_entry *e);
void archive_list_free(struct archive_entry *v, size_t n);

/* Append s escaped for XML 1.0 character data and attribute values: & < > "
 * ' as entities, the control characters XML forbids dropped, bytes that are
 * not UTF-8 replaced by U+FFFD. */
void xml_escape(struct buf *out, const char *s, size_t n);

#endif
