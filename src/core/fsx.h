/* Files the safe way: whole-file reads with a cap, atomic replacement
 * (temp file + fsync + rename + fsync of the directory), private directories,
 * and advisory locks.  Every state file letterbox writes goes through here.
 */
#ifndef LB_FSX_H
#define LB_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

/* The exit code for a failed open, opendir, mkdir...: LB_ENOPERM for
 * EACCES and EPERM, else LB_EIO.  (Whether a missing file is "nothing yet"
 * is the caller's to say.) */
int fsx_errno_code(int e);

/* Read the whole file into out (appending).  A file larger than max bytes
 * (0 = no limit) is LB_EDATA; a missing file is LB_ENOINPUT; one we may not
 * read LB_ENOPERM; others LB_EIO. */
int fsx_read(const char *path, struct buf *out, size_t max, struct lb_err *err);

/* The same for a file in state/: a symbolic link is refused (O_NOFOLLOW),
 * never followed to wherever it points. */
int fsx_read_state(const char *path, struct buf *out, size_t max, struct lb_err *err);

/* open(2) for a file in state/ (journals, logs, locks, the secret):
 * O_NOFOLLOW and O_CLOEXEC added, so that a symbolic link planted there
 * is refused instead of written through.  Returns the descriptor, or -1
 * with err set: LB_ENOINPUT for a missing file (without O_CREAT),
 * LB_ENOPERM, else LB_EIO (a symbolic link: LB_EIO, saying so). */
int fsx_open_state(const char *path, int flags, mode_t mode, struct lb_err *err);

/* Make sure the state directory is ours alone: created 0700 when missing;
 * an existing one looser than 0700 is tightened to 0700 with a warning
 * when it is ours, refused (LB_ENOPERM) when it is not.
 *
 * The one exception is shared-group mode, for a web server and cron that
 * run as different users (README "The web side"): a state/ of mode 2770
 * exactly (setgid, the group's rwx, nothing for others) is kept, and from
 * then on this process makes its files and directories for the group too
 * (fsx_mode: 0600 -> 0660, 0700 -> 2770) whatever its umask. */
int fsx_state_dir(const char *dir, struct lb_err *err);
/* Whether fsx_state_dir found shared-group mode. */
bool fsx_group_mode(void);
/* mode as this process makes state files: itself, or in shared-group mode
 * with the owner's read/write (and a directory's setgid) for the group. */
mode_t fsx_mode(mode_t mode);

/* Remove what runs killed with -9 left in dir: fsx_write_atomic's temp
 * files (NAME.tmp.PID) whose PID is not running, or that are older than an
 * hour (by then the PID may belong to another process: a temp file lives
 * for the seconds between its write and its rename).  A running process's
 * temp file younger than that, and our own, are never touched.  Returns
 * how many were removed. */
size_t fsx_clean_tmp(const char *dir);
/* The same rule for any dir and naming, for the names that start with
 * prefix: owner(name) gives the PID that wrote it (0: not a temp file,
 * leave it). */
size_t fsx_clean_stale(const char *dir, const char *prefix, pid_t (*owner)(const char *name));

/* Replace path with data atomically and durably, with the given mode.  After
 * a crash the file holds either the old or the new contents, never a mix.
 * Stale temp files a killed run left for this same path (PATH.tmp.PID) are
 * removed first. */
int fsx_write_atomic(const char *path, const void *data, size_t n, mode_t mode, struct lb_err *err);

/* Create path with data, atomically and durably, with exactly the given
 * mode; an existing path (a file, a link, anything) is never replaced:
 * LB_EDATA "exists".  The data is written to a temp file beside it
 * (PATH.tmp.PID) and linked into place, so path never holds part of it. */
int fsx_write_new(const char *path, const void *data, size_t n, mode_t mode, struct lb_err *err);

/* mkdir -p with mode for the directories it creates; an existing directory
 * is fine (its mode is left alone). */
int fsx_mkdirs(const char *path, mode_t mode, struct lb_err *err);

/* Group commit.  fsx_fsync() is fsync(), unless the process has deferred
 * syncing with fsx_defer_sync(true): then it does nothing and the caller
 * must later call fsx_commit(), which flushes the whole file system holding
 * dir in one go (syncfs).  Nothing may be acknowledged to the outside world
 * (a cursor, a message moved on a server, a mail sent) between the writes
 * and the commit.  `letterbox poll` files thousands of messages this way:
 * one flush per batch instead of several per message. */
void fsx_defer_sync(bool defer);
/* Whether it is deferred now (the store's database follows it, db.h). */
bool fsx_sync_deferred(void);
int fsx_fsync(int fd);
int fsx_commit(const char *dir, struct lb_err *err);

/* fsync a directory, so that a rename or create in it survives a crash. */
int fsx_sync_dir(const char *dir, struct lb_err *err);

/* fsync the directory that contains path. */
int fsx_sync_parent(const char *path, struct lb_err *err);

/* Take an exclusive flock on path (created 0600).  wait=false: a held lock
 * is LB_ETEMP at once, naming what holds it.  *fd receives the descriptor;
 * close it (or exit) to release. */
int fsx_lock(const char *path, bool wait, int *fd, struct lb_err *err);

/* False only when path certainly does not exist.  One we cannot look at
 * (no permission on its directory) counts as there, so that the reader
 * that follows reports the real error instead of "nothing yet". */
bool fsx_exists(const char *path);

/* The paths (dir/name) of the entries of dir whose names end in suffix and
 * do not start with '.', sorted by name, NULL-terminated; a missing
 * directory gives an empty list.  Any other failure to read dir (no
 * permission, an I/O error) is NULL with err set (fsx_errno_code), never an
 * empty list.  Free with strlist_free (yamlx.h) or fsx_list_free. */
char **fsx_list_err(const char *dir, const char *suffix, struct lb_err *err);
/* The same where a caller cannot stop: a failure is a warning on stderr and
 * an empty list. */
char **fsx_list(const char *dir, const char *suffix);
void fsx_list_free(char **paths);

/* Join a and b with one '/' (b absolute: b alone).  Caller frees. */
char *path_join(const char *a, const char *b);

#endif
