#include "deliver/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"

struct journal {
	int fd;
	char *path;
	struct buf out;	  /* appended, not yet written */
	uint64_t written; /* bytes handed to write() */
	uint64_t appended;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t want;	 /* sync requested up to here */
	uint64_t synced; /* durable up to here */
	int sync_errno;
	bool stop;
};

static void *sync_thread(void *arg)
{
	struct journal *j = arg;
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->stop && j->want <= j->synced)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->want <= j->synced && j->stop)
			break;
		uint64_t target = j->want;
		pthread_mutex_unlock(&j->mu);
		int rc = fdatasync(j->fd);
		int e = rc < 0 ? errno : 0;
		pthread_mutex_lock(&j->mu);
		if (e)
			j->sync_errno = e;
		else if (target > j->synced)
			j->synced = target;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* The length of path's complete lines: a torn last line (a crash mid-write)
 * is what follows the last '\n'.  Reads the end of the file only. */
static int complete_length(int fd, const char *path, uint64_t *keep, struct lb_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_sys(err, LB_EIO, "%s", path);
	uint64_t end = (uint64_t)st.st_size;
	char b[4096];
	while (end > 0) {
		size_t n = end > sizeof b ? sizeof b : (size_t)end;
		ssize_t got = pread(fd, b, n, (off_t)(end - n));
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)n)
			return err_sys(err, LB_EIO, "%s", path);
		const char *nl = memrchr(b, '\n', n);
		if (nl) {
			*keep = end - n + (uint64_t)(nl - b) + 1;
			return 0;
		}
		end -= n;
	}
	*keep = 0;
	return 0;
}

int journal_open(const char *path, struct buf *contents, struct journal **out, struct lb_err *err)
{
	bool existed = fsx_exists(path);
	/* Never through a symbolic link: records would land in its target. */
	int fd = fsx_open_state(path, O_RDWR | O_CREAT | O_APPEND, 0600, err);
	if (fd < 0)
		return err->code;
	uint64_t keep = 0;
	int rc = existed ? complete_length(fd, path, &keep, err) : fsx_sync_parent(path, err);
	struct stat st;
	/* Cut a torn last line so that new records start on a fresh line. */
	if (!rc && existed && fstat(fd, &st) == 0 && (uint64_t)st.st_size != keep &&
	    (ftruncate(fd, (off_t)keep) < 0 || fdatasync(fd) < 0))
		rc = err_sys(err, LB_EIO, "%s: cutting a torn last record", path);
	if (!rc && contents && keep) {
		struct buf all = BUF_INIT;
		rc = fsx_read_state(path, &all, 0, err);
		if (!rc)
			buf_add(contents, all.p, (size_t)keep < all.n ? (size_t)keep : all.n);
		buf_free(&all);
	}
	if (rc) {
		close(fd);
		return rc;
	}
	struct journal *j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->path = xstrdup(path);
	j->written = j->appended = j->synced = j->want = keep;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	int e = pthread_create(&j->thread, NULL, sync_thread, j);
	if (e) {
		errno = e;
		rc = err_sys(err, LB_EIO, "%s: cannot start the journal's sync thread", path);
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		close(fd);
		free(j->path);
		free(j);
		return rc;
	}
	*out = j;
	return 0;
}

uint64_t journal_append(struct journal *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t before = j->out.n;
	buf_vprintf(&j->out, fmt, ap);
	va_end(ap);
	j->appended += j->out.n - before;
	return j->appended;
}

uint64_t journal_appended(const struct journal *j)
{
	return j->appended;
}

static int write_out(struct journal *j, struct lb_err *err)
{
	size_t off = 0;
	while (off < j->out.n) {
		ssize_t w = write(j->fd, j->out.p + off, j->out.n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, LB_EIO, "%s", j->path);
		}
		off += (size_t)w;
	}
	j->written += j->out.n;
	buf_reset(&j->out);
	return 0;
}

int journal_flush(struct journal *j, struct lb_err *err)
{
	if (j->out.n) {
		int rc = write_out(j, err);
		if (rc)
			return rc;
	}
	pthread_mutex_lock(&j->mu);
	int e = j->sync_errno;
	if (!e && j->written > j->want) {
		j->want = j->written;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	if (e) {
		errno = e;
		return err_sys(err, LB_EIO, "fdatasync %s", j->path);
	}
	return 0;
}

uint64_t journal_synced(struct journal *j)
{
	pthread_mutex_lock(&j->mu);
	uint64_t s = j->synced;
	pthread_mutex_unlock(&j->mu);
	return s;
}

bool journal_wait(struct journal *j, uint64_t seq)
{
	pthread_mutex_lock(&j->mu);
	LB_ASSERT(seq <= j->want || j->sync_errno); /* else no sync would ever cover it */
	while (j->synced < seq && !j->sync_errno)
		pthread_cond_wait(&j->cv, &j->mu);
	bool ok = j->synced >= seq;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

int journal_sync(struct journal *j, struct lb_err *err)
{
	int rc = journal_flush(j, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&j->mu);
	while (j->synced < j->written && !j->sync_errno)
		pthread_cond_wait(&j->cv, &j->mu);
	int e = j->sync_errno;
	pthread_mutex_unlock(&j->mu);
	if (e) {
		errno = e;
		return err_sys(err, LB_EIO, "fdatasync %s", j->path);
	}
	return 0;
}

int journal_close(struct journal *j, struct lb_err *err)
{
	if (!j)
		return 0;
	int rc = journal_sync(j, err);
	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	if (close(j->fd) < 0 && !rc)
		rc = err_sys(err, LB_EIO, "%s", j->path);
	buf_free(&j->out);
	free(j->path);
	free(j);
	return rc;
}
