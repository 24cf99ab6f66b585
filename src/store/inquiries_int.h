/* The inquiry store's own pieces, shared by store/inquiries.c (writing,
 * compaction), store/inquiries_log.c (records as text, reading the log) and
 * store/conversation.c (the messages of a conversation, reply copies).  Not
 * for use outside src/store/. */
#ifndef LB_INQUIRIES_INT_H
#define LB_INQUIRIES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/inquiries.h"

/* The log's first line, followed by the messages file's name. */
#define INQ_HEADER "# letterbox inquiries "

/* One history line ("H N<TAB>…") of the log: where it is in the text read. */
struct hist_ref {
	unsigned number;
	const char *p; /* the line after "H N<TAB>", without its newline */
	size_t len;
};

/* The log as read: every inquiry's latest record, with its thread. */
struct book {
	struct inquiry *v; /* indexed by number; number 0 = absent */
	size_t cap;
	unsigned highest;
	char *gen; /* "messages.G" from the header */
	/* The M lines' entries, by number, until the log is read. */
	struct buf *threads;
	size_t tcap;
	/* borrowed: the records' text fields (not thread) point into the log's
	 * text as read, unescaped and NUL-terminated in place, and hist lists
	 * every history line in the log's order: the text stays as long as the
	 * book (the copy store/inquiries_log.c keeps).  Otherwise the records
	 * own their fields (inquiry_free) and hist is empty. */
	bool borrowed;
	struct hist_ref *hist;
	size_t nhist, hcap;
};

/* Read the whole log into *b; free with inq_book_free.  Readers use the copy
 * store/inquiries_log.c keeps up to date instead; this is for compaction,
 * which holds the lock and must see the file as it is. */
int inq_read_log(const char *dir, struct book *b, struct lb_err *err);
void inq_book_free(struct book *b);

/* state_dir/inquiries; caller frees. */
char *inq_store_dir(const char *state_dir);
/* Take the store's lock (dir/lock, creating dir); close *fd to release. */
int inq_lock(const char *dir, int *fd, struct lb_err *err);
/* Append data to dir/name and fsync (under the lock); *off (may be NULL)
 * receives where it starts. */
int inq_append(const char *dir, const char *name, const char *data, size_t n, long long *off,
	       struct lb_err *err);
/* The messages file the log names ("messages.G"), creating the log if there
 * is none; caller frees *gen. */
int inq_generation(const char *dir, char **gen, struct lb_err *err);
/* Append raw to the messages file gen as inquiry number's; *off receives
 * where the raw bytes start. */
int inq_add_blob(const char *dir, const char *gen, unsigned number, const char *raw, size_t n,
		 long long *off, struct lb_err *err);
/* Read len bytes at off of the current messages file, appending to out. */
int inq_read_blob(const char *state_dir, long long off, size_t len, struct buf *out,
		  struct lb_err *err);
/* q's record ("R N" … "."), and one history line ("H N…"), as log text. */
void inq_render(struct buf *b, const struct inquiry *q);
void inq_history_line(struct buf *b, unsigned number, time_t when, const char *who,
		      const char *what, const char *detail);
/* q's thread as the log's "M N<TAB>entry" lines (store/conversation.h). */
void inq_render_thread(struct buf *b, const struct inquiry *q);
/* Compaction: append q's first message, its conversation's messages and its
 * reply copies to msgs (the next generation's messages file) and point q at
 * their new places. */
int inq_relocate(const char *state_dir, struct inquiry *q, struct buf *msgs, struct lb_err *err);

#endif
