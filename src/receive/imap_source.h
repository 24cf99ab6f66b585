/* What the IMAP source's two halves share: imap.c (connecting, MOVE, IDLE)
 * and imap_fetch.c (fetching).  Only for those two: receive/source.h is the
 * contract for everyone else. */
#ifndef LB_IMAP_SOURCE_H
#define LB_IMAP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libetpan/libetpan.h>

#include "core/err.h"
#include "receive/source.h"

/* A MOVE target, by its configured (UTF-8) name and as sent. */
struct folder {
	char *name;
	char *wire; /* modified UTF-7 */
};

struct imap_source {
	struct msg_source base;
	mailimap *imap;
	struct imap_url url;
	char *ca_file; /* resolved against the site directory, or NULL */
	size_t max_size;
	long timeout_s; /* incoming.timeout: for every wait on the server */
	uint32_t uidvalidity;
	bool dead;	   /* the connection is gone: every call is LB_EUNAVAIL */
	bool fetched;	   /* seen_uid is set */
	uint32_t seen_uid; /* the highest UID the last fetch listed */
	bool warned;
	bool read_only; /* EXAMINE, not SELECT: not even \Recent changes; done does nothing */
	struct folder *folders; /* created (or found) in this session */
	size_t nfolders, capfolders;
	char reply[256]; /* the server's last response text, made printable */
};

/* Whether a libetpan result is success. */
bool imap_ok(int r);

/* Map a failed libetpan call: a lost connection (closed, timed out, reset)
 * is LB_EUNAVAIL and marks the source dead (the next poll continues), a NO
 * or BAD from the server gets `refused` and the server's text. */
int imap_fail(struct imap_source *s, int r, int refused, const char *what, struct lb_err *err);

/* The configured (UTF-8) mailbox name as IMAP wants it (modified UTF-7);
 * caller frees.  NULL (LB_ECONFIG) when it is not UTF-8. */
char *imap_wire_name(struct imap_source *s, const char *name, struct lb_err *err);

/* LB_EUNAVAIL once the connection is dead. */
int imap_check_alive(struct imap_source *s, struct lb_err *err);

/* The UIDs above `after`, ascending; caller frees *uids. */
int imap_list_uids(struct imap_source *s, uint32_t after, uint32_t **uids, size_t *n,
		   struct lb_err *err);

/* source_fetch() for IMAP (source.h). */
int imap_fetch(struct msg_source *base, const struct cursor *c, size_t batch, src_msg_fn fn,
	       void *ctx, struct lb_err *err);

#endif
