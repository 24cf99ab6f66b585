/* An append-only journal file with group commit.
 *
 * Records are lines ("A 17 1795564800\n").  journal_append() only buffers;
 * journal_flush() writes the buffer and asks a background thread to fdatasync
 * the file, so the caller keeps sending while the disk catches up;
 * journal_synced() says how much is durable.  A caller that must not act
 * before a record is on disk (declaring an attempt before sending) compares
 * the record's sequence number with journal_synced().  One fsync covers
 * every record appended before it: that is the grouping.
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

/* A descriptor that becomes readable when a background sync completes (for
 * poll loops); read it with journal_ack(). */
int journal_fd(const struct journal *j);
void journal_ack(struct journal *j);

/* Flush and wait until everything appended is durable. */
int journal_sync(struct journal *j, struct lb_err *err);

/* Sync, stop the thread, close.  Returns the last error, if any. */
int journal_close(struct journal *j, struct lb_err *err);

#endif
