/* Inquiries: the human replies staff triage.
 *
 * Numbers are 1, 2, 3 … (staff can say them aloud).  On disk, in
 * state/inquiries/ (0700, files 0600), two append-only files:
 *   messages.G  the raw messages as received, one after the other
 *               ("#N LENGTH\n" + LENGTH bytes + "\n"): each inquiry's first
 *               message, the later ones of its conversation
 *               (store/conversation.h) and copies of the replies staff sent;
 *   log         "# letterbox inquiries messages.G" and then
 *                 R N / key: value lines / "."   a version of N's record,
 *                                               the latest one wins;
 *                 H N<TAB>time<TAB>who<TAB>what<TAB>detail   history;
 *                 M N<TAB>entry                 a message of N's conversation
 *                                               (store/conversation.h);
 *                 D N                           N was purged.
 * Appending, not one file per inquiry: creating a file costs more than the
 * rest of filing a message put together, and `letterbox poll` files
 * thousands.  A record is committed by its "." line; an unfinished one (a
 * crash mid-write) is ignored.  Removing inquiries compacts both files into a
 * new generation G+1 and switches the log over atomically, so purged
 * messages are really gone.  Writers hold state/inquiries/lock.  A process
 * reads the log once and then only what was appended to it since
 * (store/inquiries_log.c): loading a record per received message costs what
 * the message added, not the whole log.
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
	/* private: where the raw message is */
	long long msg_off;
	size_t msg_len;
	char *copies; /* "offset:length" of reply copies, space-separated, or NULL */
	/* The conversation after the first message (store/conversation.h):
	 * one entry a line, or NULL.  Read from the log's M lines, never stored
	 * with the record: inquiry_save does not write it. */
	char *thread;
};

/* File a new inquiry with raw bytes.  q->number is assigned: the first free
 * number from q->number on (0: after the highest in use).  Durable when it
 * returns 0 (unless syncing is deferred, see fsx.h).  history is the first
 * history entry's "what" (e.g. "filed"), detail may be "". */
int inquiry_file(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		 const char *history, const char *detail, struct lb_err *err);
/* *next: the number after the highest in use (1 in an empty store).  A log
 * that cannot be read is an error (never "start again at 1"). */
int inquiries_next_number(const char *state_dir, unsigned *next, struct lb_err *err);

int inquiry_load(const char *state_dir, unsigned number, struct inquiry *q, struct lb_err *err);
/* Take state_dir/lock.inquiries (creating state_dir 0700, waiting for the
 * lock): whoever changes a record (poll's filing and notifications, a staff
 * command) loads and saves it under this lock, so no two changes
 * interleave.  Close *fd to release. */
int inquiries_lock(const char *state_dir, int *fd, struct lb_err *err);
/* inquiries_lock, then inquiry_load of number into *q, for a change to it;
 * an inquiry that is gone (purged meanwhile) is no error: q->number is 0.
 * Close *fd (>= 0 once the lock is held) and inquiry_free(q) after. */
int inquiry_lock_load(const char *state_dir, unsigned number, int *fd, struct inquiry *q,
		      struct lb_err *err);
/* Store a new version of q's record. */
int inquiry_save(const char *state_dir, const struct inquiry *q, struct lb_err *err);
/* The same, and a history entry (as inquiry_history_add) after it, in one
 * write and one fsync: a kill cannot come between the two. */
int inquiry_save_noted(const char *state_dir, const struct inquiry *q, time_t when, const char *who,
		       const char *what, const char *detail, struct lb_err *err);
void inquiry_free(struct inquiry *q);

/* Every inquiry, by number; free with inquiries_free. */
int inquiries_load(const char *state_dir, struct inquiry **v, size_t *n, struct lb_err *err);
void inquiries_free(struct inquiry *v, size_t n);
/* Every inquiry, by number, without copying them: (*v)[i] point into this
 * process's copy of the log and stay valid until the next call into the
 * store (any inquiry_* or inquiries_* function); read them, never change or
 * free them; free(*v) after.  For readers of every record (the staff list,
 * `inquiries list`): copying them all costs as much as reading the log. */
int inquiries_view(const char *state_dir, const struct inquiry ***v, size_t *n, struct lb_err *err);

/* The order staff work in: urgent first, then oldest first (qsort). */
int inquiry_cmp_triage(const void *a, const void *b);
/* The same for an array of pointers (inquiries_view's). */
int inquiry_ptr_cmp_triage(const void *a, const void *b);
bool inquiry_is_urgent(const struct inquiry *q);
/* Still waiting for staff: new or open. */
bool inquiry_is_waiting(const struct inquiry *q);
/* The list staff ask for (`inquiries list` and GET /staff/ alike): keeps in
 * v[0..k) (inquiries_view's pointers) those with status (NULL or "waiting":
 * new or open; "all": any), assigned to assignee (NULL: anyone), urgent
 * when urgent_only, in the order of inquiry_cmp_triage.  Returns k. */
size_t inquiries_select(const struct inquiry **v, size_t n, const char *status,
			const char *assignee, bool urgent_only);

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
/* Keep a copy of a message sent about q (a reply): appended to the messages
 * file and noted in q's record (q is saved).  *k receives its number (1, 2 …). */
int inquiry_add_copy(const char *state_dir, struct inquiry *q, const char *raw, size_t n,
		     unsigned *k, struct lb_err *err);
/* Append copy k (1-based) of q to out. */
int inquiry_copy(const char *state_dir, const struct inquiry *q, unsigned k, struct buf *out,
		 struct lb_err *err);

/* Remove inquiries for good (raw messages, copies, records, history): the
 * store is compacted. */
int inquiries_remove(const char *state_dir, const unsigned *numbers, size_t n, struct lb_err *err);
int inquiry_remove(const char *state_dir, unsigned number, struct lb_err *err);

#endif
