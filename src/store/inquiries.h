/* Inquiries: the human replies staff triage.
 *
 * Numbers are 1, 2, 3 … (staff can say them aloud), never given twice (a
 * purged number is not given again).  They live in the indexed store
 * (store/db.h, state/letterbox.db), in the inq_* tables
 * (store/inquiries_int.h): a row a record, the history, the conversation's
 * entries (store/conversation.h) and the raw messages and reply copies as
 * rows of their own.  Every function here is one transaction: a record is
 * committed or not.  Reading one costs O(log N); the lists staff see
 * (inquiries_query) are selected and ordered by SQL, with a limit, through
 * an index in triage order; a purge deletes the rows (the database
 * overwrites them, secure_delete) and gives their pages back.
 * Sites of the release before the database had state/inquiries/log and
 * messages.G: the upgrade reads them in (store/inquiries_import.c).
 * Message bodies are never logged; the record keeps a short excerpt.
 */
#ifndef LB_INQUIRIES_H
#define LB_INQUIRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

struct inquiry {
	unsigned number;
	time_t received;
	char *from;	    /* sender's address */
	char *from_name;    /* may be NULL */
	char *subject;	    /* may be NULL */
	char *message_id;   /* without brackets; may be NULL */
	char *key;	    /* poll's dedupe key (pollstate.h); NULL in older records */
	char *article;	    /* slug of the newsletter it answers, or NULL */
	bool subscriber;    /* the sender is on a list */
	char *status;	    /* new, open, answered, closed */
	char *priority;	    /* urgent, normal */
	char *assignee;	    /* may be NULL */
	bool unparsed;	    /* the MIME structure could not be read */
	bool truncated;	    /* larger than incoming.max_size: headers only kept */
	char *excerpt;	    /* the person's own words, at most ~400 bytes */
	char *attachments;  /* "name (type, size)" entries separated by "; ", or NULL */
	char *acknowledged; /* ISO time an acknowledgement was decided on (its intent), or NULL */
	char *alerted;	    /* ISO time the urgent alert was decided on (its intent), or NULL */
	/* What became of those intents (deliver/notify.h says which values):
	 * NULL in records from before the outcome was kept, see `noted`. */
	char *ack_state;
	char *alert_state;
	/* Read from the history, not stored: a letterbox entry about the
	 * acknowledgement's (INQ_NOTED_ACK) or the alert's (INQ_NOTED_ALERT)
	 * outcome exists. */
	unsigned noted;
	/* private: where the raw message is (its row in the store) */
	long long msg_off;
	size_t msg_len;
	char *copies; /* "row:length" of reply copies, space-separated, or NULL */
	/* The conversation after the first message (store/conversation.h):
	 * one entry a line, or NULL.  Read from its own table, never stored
	 * with the record: inquiry_save does not write it. */
	char *thread;
};

/* File a new inquiry with raw bytes.  q->number is assigned: the first free
 * number from q->number on that was never given before (0: after the
 * highest ever given).  Durable when it
 * returns 0 (unless syncing is deferred, see fsx.h).  history is the first
 * history entry's "what" (e.g. "filed"), detail may be "". */
int inquiry_file(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		 const char *history, const char *detail, struct lb_err *err);
/* *next: the number after the highest ever given (1 in an empty store).  A
 * store that cannot be read is an error (never "start again at 1"). */
int inquiries_next_number(const char *state_dir, unsigned *next, struct lb_err *err);

int inquiry_load(const char *state_dir, unsigned number, struct inquiry *q, struct lb_err *err);
/* Take state_dir/lock.inquiries (creating state_dir 0700, waiting for the
 * lock): whoever changes a record (poll's filing and notifications, a staff
 * command) loads and saves it under this lock, so no two changes
 * interleave.  Each store call is a transaction of its own; the lock spans
 * a caller's several (a load, then a save; notify's intent, the mail, its
 * outcome), which a transaction must not (it would hold the database's
 * write lock while mail is sent).  Close *fd to release. */
int inquiries_lock(const char *state_dir, int *fd, struct lb_err *err);
/* inquiries_lock, then inquiry_load of number into *q, for a change to it;
 * an inquiry that is gone (purged meanwhile) is no error: q->number is 0.
 * Close *fd (>= 0 once the lock is held) and inquiry_free(q) after. */
int inquiry_lock_load(const char *state_dir, unsigned number, int *fd, struct inquiry *q,
		      struct lb_err *err);
/* Store a new version of q's record. */
int inquiry_save(const char *state_dir, const struct inquiry *q, struct lb_err *err);
/* The same, and a history entry (as inquiry_history_add) after it, in one
 * transaction: a kill cannot come between the two. */
int inquiry_save_noted(const char *state_dir, const struct inquiry *q, time_t when, const char *who,
		       const char *what, const char *detail, struct lb_err *err);
void inquiry_free(struct inquiry *q);

/* Every inquiry, by number; free with inquiries_free.  Costs O(N): for
 * tools and tests; commands use the queries below. */
int inquiries_load(const char *state_dir, struct inquiry **v, size_t *n, struct lb_err *err);
void inquiries_free(struct inquiry *v, size_t n);

/* A selection of inquiries, as staff ask for it (`inquiries list`, GET
 * /staff/, the digest). */
struct inq_query {
	const char *status;   /* NULL or "waiting": new or open; "all": any; else that one */
	const char *assignee; /* NULL: anyone's */
	bool urgent_only;
	/* Instead of status: those notifications may still be due for
	 * (deliver/notify.h): waiting, or an alert or acknowledgement in doubt. */
	bool notify;
	size_t limit; /* at most this many (0: all) */
	bool threads; /* read each one's thread (conv_msgs) too */
};
/* The inquiries q selects, in the order of inquiry_cmp_triage (urgent
 * first, then oldest), at most q->limit of them in *v (free with
 * inquiries_free); *total (may be NULL) receives how many match in all. */
int inquiries_query(const char *state_dir, const struct inq_query *q, struct inquiry **v, size_t *n,
		    size_t *total, struct lb_err *err);
/* How many inquiries q selects (its limit aside). */
int inquiries_count(const char *state_dir, const struct inq_query *q, size_t *total,
		    struct lb_err *err);
/* How many inquiries came after `after`: received later than it (by_time),
 * else numbered higher. */
int inquiries_count_after(const char *state_dir, bool by_time, long long after, size_t *n,
			  struct lb_err *err);
/* Every inquiry, one at a time and by number, with only what poll's
 * look-ups need: number, received, from, subject, message_id, key, msg_off,
 * msg_len and thread (the rest NULL).  q is valid during the call; fn's
 * nonzero return stops the scan and is returned. */
int inquiries_scan(const char *state_dir, int (*fn)(void *ctx, const struct inquiry *q), void *ctx,
		   struct lb_err *err);

/* A closed inquiry and when it was closed (the last history entry that set
 * status closed, else when it came). */
struct inq_closed {
	unsigned number;
	time_t closed;
	char *from;
};
/* The closed inquiries, by number, that were closed before `before`; free
 * with inq_closed_free. */
int inquiries_closed(const char *state_dir, time_t before, struct inq_closed **v, size_t *n,
		     struct lb_err *err);
void inq_closed_free(struct inq_closed *v, size_t n);

/* The order staff work in: urgent first, then oldest first (qsort). */
int inquiry_cmp_triage(const void *a, const void *b);
bool inquiry_is_urgent(const struct inquiry *q);
/* Still waiting for staff: new or open. */
bool inquiry_is_waiting(const struct inquiry *q);

#define INQ_NOTED_ACK	1u
#define INQ_NOTED_ALERT 2u

/* Append to the history. */
int inquiry_history_add(const char *state_dir, unsigned number, time_t when, const char *who,
			const char *what, const char *detail, struct lb_err *err);
/* N's history as "time<TAB>who<TAB>what<TAB>detail" lines ("" when none);
 * caller frees. */
char *inquiry_history(const char *state_dir, unsigned number);
/* Split one history line (no '\n') in place into its four fields; a
 * missing one is "". */
void inquiry_history_fields(char *line, char *f[4]);

/* Append q's raw message to out. */
int inquiry_message(const char *state_dir, const struct inquiry *q, struct buf *out,
		    struct lb_err *err);
/* Keep a copy of a message sent about q (a reply): stored and noted in q's
 * record (q is saved), in one transaction.  *k receives its number (1, 2 …). */
int inquiry_add_copy(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		     unsigned *k, struct lb_err *err);
/* Append copy k (1-based) of q to out. */
int inquiry_copy(const char *state_dir, const struct inquiry *q, unsigned k, struct buf *out,
		 struct lb_err *err);

/* Remove inquiries for good (raw messages, copies, records, history,
 * conversations), in one transaction: the rows are overwritten
 * (secure_delete) and their pages given back to the file system.  Costs
 * what is removed, not what stays. */
int inquiries_remove(const char *state_dir, const unsigned *numbers, size_t n, struct lb_err *err);
int inquiry_remove(const char *state_dir, unsigned number, struct lb_err *err);

#endif
