/* An append-only journal file with group commit.
 *
 * Records are lines ("A 17 1795564800\n").  journal_append() only buffers;
 * journal_flush() writes the buffer and asks a background thread to fdatasync
 * the file, so the caller keeps sending while the disk catches up;
 * journal_synced() says how much is durable.  Whoever must not act before a
 * record is on disk (delivering a message before its attempt is declared)
 * waits for the record's sequence number with journal_wait(), from any
 * thread.  One fsync covers every record appended before it: that is the
 * grouping.
 *
 * On open, a torn last line (a crash mid-write) is cut off, so appending
 * resumes on a clean line boundary.
 */
#ifndef LB_JOURNAL_H
#define LB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct journal;

/* Open (creating, 0600) path for appending; *contents receives what is
 * already there (complete lines only) when contents is not NULL. */
int journal_open(const char *path, struct buf *contents, struct journal **j, struct lb_err *err);

/* Buffer a record; returns its sequence number (bytes up to its end). */
uint64_t journal_append(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write what is buffered and start a background fdatasync covering it (if
 * none is running; otherwise the next flush covers it).  LB_EIO on a write
 * error (then the journal is unusable: stop). */
int journal_flush(struct journal *j, struct lb_err *err);

/* Sequence number up to which records are durable. */
uint64_t journal_synced(struct journal *j);
/* Sequence number of everything appended so far. */
uint64_t journal_appended(const struct journal *j);

/* Block until the records up to seq are durable; from any thread (the SMTP
 * workers hold a message's end-of-data dot on this).  seq must have been
 * flushed (journal_flush), or nothing would ever sync it.  False when a sync
 * failed: the record may never be durable, so do not act on it. */
bool journal_wait(struct journal *j, uint64_t seq);

/* Flush and wait until everything appended is durable. */
int journal_sync(struct journal *j, struct lb_err *err);

/* Sync, stop the thread, close.  Returns the last error, if any. */
int journal_close(struct journal *j, struct lb_err *err);

#endif
