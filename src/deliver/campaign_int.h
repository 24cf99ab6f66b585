/* Inside deliver/campaign*.c: the snapshot's line format and the helpers
 * the snapshot, the run and the summary share. */
#ifndef LB_CAMPAIGN_INT_H
#define LB_CAMPAIGN_INT_H

#include "deliver/campaign.h"

/* A recipient's detail (campaign.h struct rcpt_detail), in c->dv. */
struct rdetail {
	uint32_t key; /* idx + 1; 0 = empty slot */
	uint16_t deferrals;
	int code;
	time_t first_deferred, last_deferred;
	char *why;
};

/* Append '\t' and s escaped (\t \n \r \\) to b. */
void snap_put_field(struct buf *b, const char *s);
/* Unescape the field at *cursor in place and return it; *cursor moves to
 * the next field, NULL after the line's last. */
char *snap_take_field(char **cursor);
/* The line at off in m (without its '\n'): *len its length. */
const char *snap_line(struct fmap *m, uint64_t off, size_t *len);
/* The line at off in m, unescaped into r (campaign_rcpt). */
void snap_fill(struct fmap *m, uint64_t off, struct crcpt *r);

void offtab_push(struct offtab *t, uint64_t off);
uint64_t offtab_get(const struct offtab *t, size_t i);
void offtab_free(struct offtab *t);

/* Recount offsets, started and kinds from c->snap (mapped): after a load. */
int campaign_scan_snapshot(struct campaign *c, const char *path, struct lb_err *err);
/* Allocate c->st for c->n recipients, all pending. */
void campaign_states_init(struct campaign *c);

/* The index (campaign.h): idx in the low bits of each entry, the address
 * hash in the rest. */
unsigned campaign_index_bits(size_t n);
/* The index of c in memory (as the file has it): 32 bytes of header, then
 * the sorted entries.  Caller frees. */
char *campaign_index_build(struct campaign *c, size_t *len);
/* 0 when m holds the index for a snapshot of snap_size bytes and n
 * recipients (*bits set); else non-zero. */
int campaign_index_check(const struct fmap *m, uint64_t snap_size, size_t n, unsigned *bits);

#endif
