#include "core/fsx.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

/* Shared-group mode (fsx_state_dir): the modes asked for get the owner's
 * read and write bits for the group too. */
static bool group_mode;

bool fsx_group_mode(void)
{
	return group_mode;
}

mode_t fsx_mode(mode_t mode)
{
	if (!group_mode)
		return mode;
	mode_t g = (mode & 0600) >> 3;
	if (mode & 0100)
		g |= 0010 | S_ISGID; /* directories: the group passes on */
	return mode | g;
}

int fsx_errno_code(int e)
{
	return e == EACCES || e == EPERM ? LB_ENOPERM : LB_EIO;
}

/* An open(2) failure as an error: a missing file is LB_ENOINPUT, a refused
 * symbolic link says so. */
static int open_error(const char *path, int flags, struct lb_err *err)
{
	if (errno == ELOOP && (flags & O_NOFOLLOW))
		return err_set(err, LB_EIO,
			       "%s: a symbolic link in state/: refused (letterbox does not follow "
			       "links there; remove it)",
			       path);
	return err_sys(err, errno == ENOENT ? LB_ENOINPUT : fsx_errno_code(errno), "%s", path);
}

int fsx_open_state(const char *path, int flags, mode_t mode, struct lb_err *err)
{
	flags |= O_NOFOLLOW | O_CLOEXEC;
	/* O_NONBLOCK until fstat says it is a regular file: opening a FIFO
	 * planted in state/ would otherwise wait for a writer for ever. */
	mode = fsx_mode(mode);
	int fd = open(path, flags | O_NONBLOCK, mode);
	if (fd < 0) {
		open_error(path, flags, err);
		return -1;
	}
	struct stat st;
	int fl;
	if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		err_sys(err, LB_EIO, "%s", path);
	else if (!S_ISREG(st.st_mode))
		err_set(err, LB_EIO, "%s: not a regular file: refused", path);
	/* a file we just made, in a shared state/: the group's bits despite
	 * the umask (the other user must append to it) */
	else if (group_mode && (flags & O_CREAT) && st.st_uid == geteuid() &&
		 (st.st_mode & mode & 0060) != (mode & 0060) && fchmod(fd, st.st_mode | mode) < 0)
		err_sys(err, LB_EIO, "chmod %s", path);
	else
		return fd;
	close(fd);
	return -1;
}

static int read_fd(int fd, const char *path, struct buf *out, size_t max, struct lb_err *err);
static pid_t atomic_tmp_owner(const char *name);

int fsx_read(const char *path, struct buf *out, size_t max, struct lb_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return open_error(path, 0, err);
	return read_fd(fd, path, out, max, err);
}

int fsx_read_state(const char *path, struct buf *out, size_t max, struct lb_err *err)
{
	int fd = fsx_open_state(path, O_RDONLY, 0, err);
	return fd < 0 ? err->code : read_fd(fd, path, out, max, err);
}

/* Read fd (opened on path) to its end into out, and close it. */
static int read_fd(int fd, const char *path, struct buf *out, size_t max, struct lb_err *err)
{
	int rc = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = err_sys(err, LB_EIO, "%s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = err_set(err, LB_EIO, "%s: is a directory", path);
		goto out;
	}
	if (max && (size_t)st.st_size > max) {
		rc = err_set(err, LB_EDATA, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (st.st_size > 0)
		buf_grow(out, (size_t)st.st_size);
	for (;;) {
		if (!buf_grow(out, 65536)) {
			rc = err_set(err, LB_EDATA, "%s: too large", path);
			goto out;
		}
		ssize_t r = read(fd, out->p + out->n, out->cap - out->n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = err_sys(err, LB_EIO, "%s", path);
			goto out;
		}
		if (r == 0)
			break;
		out->n += (size_t)r;
		out->p[out->n] = '\0';
		if (max && out->n > max) {
			rc = err_set(err, LB_EDATA, "%s: larger than %zu bytes", path, max);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

char *path_join(const char *a, const char *b)
{
	if (b[0] == '/' || !a || !a[0])
		return xstrdup(b);
	struct buf p = BUF_INIT;
	buf_adds(&p, a);
	if (p.n && p.p[p.n - 1] != '/')
		buf_addc(&p, '/');
	buf_adds(&p, b);
	return buf_take(&p);
}

static bool deferred;

void fsx_defer_sync(bool defer)
{
	deferred = defer;
}

bool fsx_sync_deferred(void)
{
	return deferred;
}

int fsx_fsync(int fd)
{
	return deferred ? 0 : fsync(fd);
}

int fsx_commit(const char *dir, struct lb_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, LB_EIO, "%s", dir);
	int rc = syncfs(fd) < 0 ? err_sys(err, LB_EIO, "syncfs %s", dir) : 0;
	close(fd);
	return rc;
}

int fsx_sync_dir(const char *dir, struct lb_err *err)
{
	if (deferred)
		return 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, LB_EIO, "%s", dir);
	int rc = 0;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = err_sys(err, LB_EIO, "fsync %s", dir);
	close(fd);
	return rc;
}

int fsx_sync_parent(const char *path, struct lb_err *err)
{
	char *copy = xstrdup(path);
	int rc = fsx_sync_dir(dirname(copy), err);
	free(copy);
	return rc;
}

/* fsx_write_atomic and fsx_write_new: replace says whether an existing path
 * may be replaced (rename) or not (link, which never replaces). */
static int write_whole(const char *path, const void *data, size_t n, mode_t mode, bool replace,
		       struct lb_err *err)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int rc = 0;
	/* What a killed run left of this same file (never other files: the
	 * directory may be anyone's, e.g. for --html FILE). */
	char *dir = xstrdup(path), *base = xstrdup(path);
	struct buf prefix = BUF_INIT;
	buf_printf(&prefix, "%s.tmp.", basename(base));
	fsx_clean_stale(dirname(dir), prefix.p, atomic_tmp_owner);
	buf_free(&prefix);
	free(base);
	free(dir);
	/* Our own name: one left by an earlier process with our PID goes. */
	if (unlink(tmp.p) < 0 && errno != ENOENT) {
		rc = err_sys(err, fsx_errno_code(errno), "%s", tmp.p);
		goto out;
	}
	mode = fsx_mode(mode);
	int fd = open(tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = err_sys(err, fsx_errno_code(errno), "%s", tmp.p);
		goto out;
	}
	/* open() honours the umask; state files must have exactly `mode`. */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, n) < 0 || fsx_fsync(fd) < 0) {
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
		close(fd);
		unlink(tmp.p);
		goto out;
	}
	if (close(fd) < 0) {
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
		unlink(tmp.p);
		goto out;
	}
	if (replace && rename(tmp.p, path) < 0) {
		rc = err_sys(err, LB_EIO, "rename to %s", path);
		unlink(tmp.p);
		goto out;
	}
	if (!replace && link(tmp.p, path) < 0) {
		int e = errno;
		unlink(tmp.p);
		rc = e == EEXIST ? err_set(err, LB_EDATA, "%s exists: not replaced", path)
				 : (errno = e, err_sys(err, fsx_errno_code(e), "%s", path));
		goto out;
	}
	if (!replace && unlink(tmp.p) < 0) {
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
		goto out;
	}
	rc = fsx_sync_parent(path, err);
out:
	buf_free(&tmp);
	return rc;
}

int fsx_write_atomic(const char *path, const void *data, size_t n, mode_t mode, struct lb_err *err)
{
	return write_whole(path, data, n, mode, true, err);
}

int fsx_write_new(const char *path, const void *data, size_t n, mode_t mode, struct lb_err *err)
{
	return write_whole(path, data, n, mode, false, err);
}

int fsx_mkdirs(const char *path, mode_t mode, struct lb_err *err)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, fsx_mode(mode)) < 0) {
			if (errno != EEXIST) {
				rc = err_sys(err, fsx_errno_code(errno), "mkdir %s", p);
				break;
			}
		} else if (group_mode && chmod(p, fsx_mode(mode)) < 0) {
			/* the umask took the group's bits */
			rc = err_sys(err, fsx_errno_code(errno), "chmod %s", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int fsx_lock(const char *path, bool wait, int *fd, struct lb_err *err)
{
	*fd = fsx_open_state(path, O_RDWR | O_CREAT, 0600, err);
	if (*fd < 0)
		return err->code;
	while (flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		int code = errno == EWOULDBLOCK ? LB_ETEMP : LB_EIO;
		if (code == LB_ETEMP)
			err_set(err, code, "another letterbox is running here (lock %s held)",
				path);
		else
			err_sys(err, code, "lock %s", path);
		close(*fd);
		*fd = -1;
		return code;
	}
	return 0;
}

bool fsx_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **fsx_list_err(const char *dir, const char *suffix, struct lb_err *err)
{
	size_t n = 0, cap = 1, slen = strlen(suffix);
	DIR *dp = opendir(dir);
	if (!dp && errno != ENOENT) {
		err_sys(err, fsx_errno_code(errno), "%s", dir);
		return NULL;
	}
	char **v = xcalloc(1, sizeof *v);
	struct dirent *de;
	while (dp && (errno = 0, de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= slen ||
		    strcmp(de->d_name + len - slen, suffix) != 0)
			continue;
		v = xgrowarray(v, &cap, n + 2, sizeof *v);
		v[n++] = path_join(dir, de->d_name);
		v[n] = NULL;
	}
	if (dp && errno) {
		err_sys(err, LB_EIO, "%s", dir);
		closedir(dp);
		fsx_list_free(v);
		return NULL;
	}
	if (dp)
		closedir(dp);
	qsort(v, n, sizeof *v, by_name);
	return v;
}

char **fsx_list(const char *dir, const char *suffix)
{
	struct lb_err err = {0};
	char **v = fsx_list_err(dir, suffix, &err);
	if (v)
		return v;
	log_warn("%s", err.msg);
	return xcalloc(1, sizeof *v);
}

void fsx_list_free(char **paths)
{
	for (char **p = paths; p && *p; p++)
		free(*p);
	free(paths);
}

int fsx_state_dir(const char *dir, struct lb_err *err)
{
	int rc = fsx_mkdirs(dir, 0700, err);
	struct stat st;
	if (rc)
		return rc;
	if (stat(dir, &st) < 0)
		return err_sys(err, fsx_errno_code(errno), "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, LB_EIO, "%s: not a directory", dir);
	/* Shared-group mode: setgid, the group's rwx, nothing for others
	 * (chmod 2770): cron's user and the web server's share the state. */
	group_mode = (st.st_mode & 07777) == 02770;
	if (!(st.st_mode & 077) || group_mode)
		return 0;
	if (st.st_uid != geteuid())
		return err_set(err, LB_ENOPERM,
			       "%s: mode %03o, and owned by uid %ld, not by this user (uid %ld): "
			       "refusing to use a state directory others may read",
			       dir, (unsigned)(st.st_mode & 0777), (long)st.st_uid,
			       (long)geteuid());
	if (chmod(dir, 0700) < 0)
		return err_sys(err, fsx_errno_code(errno), "chmod 700 %s", dir);
	log_warn("%s was mode %03o, open to others: tightened to 700", dir,
		 (unsigned)(st.st_mode & 0777));
	return 0;
}

static bool pid_alive(pid_t pid)
{
	return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM;
}

size_t fsx_clean_stale(const char *dir, const char *prefix, pid_t (*owner)(const char *name))
{
	DIR *dp = opendir(dir);
	if (!dp)
		return 0;
	size_t removed = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		pid_t pid = owner(de->d_name);
		struct stat st;
		if (pid <= 0 || fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode))
			continue;
		bool old = now - st.st_mtime > 3600;
		if ((old && pid != getpid()) || !pid_alive(pid)) {
			if (unlinkat(dirfd(dp), de->d_name, 0) == 0)
				removed++;
		}
	}
	closedir(dp);
	return removed;
}

/* NAME.tmp.PID, as fsx_write_atomic names its temp files. */
static pid_t atomic_tmp_owner(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	while (t && strstr(t + 1, ".tmp."))
		t = strstr(t + 1, ".tmp.");
	if (!t || t == name || !t[5])
		return 0;
	char *end;
	long pid = strtol(t + 5, &end, 10);
	return *end || pid <= 0 || t[5] < '1' || t[5] > '9' ? 0 : (pid_t)pid;
}

size_t fsx_clean_tmp(const char *dir)
{
	return fsx_clean_stale(dir, "", atomic_tmp_owner);
}
