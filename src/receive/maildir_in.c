/* The Maildir source (maildir(5), Maildir++ folders).
 *
 * Only PATH/new is read: a message leaves it when the poller is done with it
 * (renamed into cur/ with the S flag, or into a folder), so new/ is exactly
 * "not handled yet" and no cursor is needed.  cur/ is not looked at: the
 * Maildir is letterbox's own (an MDA delivers into it); a mail client that
 * moved unread messages into cur/ would hide them from the poller.
 * Messages are handed over in file-name order, which for maildir(5) names
 * ("time.unique.host") is delivery order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "receive/source.h"

enum { CHUNK = 65536 };

struct maildir_in {
	struct msg_source base;
	char *dir;
	char *new_dir;
	size_t max_size; /* 0: no limit */
	bool read_only;	 /* a Sent folder: new/ and cur/ read, nothing ever changed */
	struct buf data;
};

static const struct source_ops maildir_ops;

static struct maildir_in *to_md(struct msg_source *s)
{
	return (struct maildir_in *)s;
}

/* dir/{cur,new,tmp}, created when missing (0700: mail is private). */
static int make_maildir(const char *dir, struct lb_err *err)
{
	static const char *const subs[] = {"cur", "new", "tmp"};
	for (size_t i = 0; i < 3; i++) {
		char *p = path_join(dir, subs[i]);
		int rc = fsx_mkdirs(p, 0700, err);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

static char *folder_dir(const char *dir, const char *folder, struct lb_err *err);

int maildir_source_check(const struct endpoint *ep, const char *dir, struct lb_err *err)
{
	struct stat st;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return err_set(err, LB_ECONFIG, "incoming.url: %s is not a directory", dir);
	for (size_t i = 0; i < sizeof ep->folders / sizeof ep->folders[0]; i++) {
		char *f = ep->folders[i] && *ep->folders[i] ? folder_dir(dir, ep->folders[i], err)
							    : xstrdup("");
		if (!f)
			return err_prefix(err, "incoming.folders");
		free(f);
	}
	return 0;
}

int maildir_source_open(const struct endpoint *ep, const char *dir, struct msg_source **out,
			struct lb_err *err)
{
	*out = NULL;
	int rc = maildir_source_check(ep, dir, err);
	if (rc)
		return rc;
	rc = make_maildir(dir, err);
	if (rc)
		return err_prefix(err, "incoming.url: Maildir %s", dir);
	struct maildir_in *md = xcalloc(1, sizeof *md);
	md->base.ops = &maildir_ops;
	md->dir = xstrdup(dir);
	md->new_dir = path_join(dir, "new");
	md->max_size = ep->max_size;
	*out = &md->base;
	return 0;
}

int maildir_sent_open(const char *dir, size_t max_size, struct msg_source **out, struct lb_err *err)
{
	*out = NULL;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return err_set(err, LB_EUNAVAIL, "%s is not a Maildir", dir);
	struct maildir_in *md = xcalloc(1, sizeof *md);
	md->base.ops = &maildir_ops;
	md->dir = xstrdup(dir);
	md->new_dir = path_join(dir, "new");
	md->max_size = max_size;
	md->read_only = true;
	*out = &md->base;
	return 0;
}

static uint32_t maildir_uidvalidity(const struct msg_source *s)
{
	(void)s;
	return 0;
}

static void maildir_close(struct msg_source *s)
{
	struct maildir_in *md = to_md(s);
	buf_free(&md->data);
	free(md->dir);
	free(md->new_dir);
	free(md);
}

/* Where the header ends in b (just after the empty line), or 0. */
static size_t header_end(const struct buf *b)
{
	for (size_t i = 0; i + 1 < b->n; i++) {
		if (b->p[i] != '\n')
			continue;
		if (b->p[i + 1] == '\n')
			return i + 2;
		if (b->p[i + 1] == '\r' && i + 2 < b->n && b->p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* What a file that is not a message is, for the warning. */
static const char *file_type(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
				: "not a regular file";
}

/* Read the message at path into md->data: all of it, or for one larger than
 * max_size its header only (up to and including the empty line, at most
 * max_size bytes).  1 when the file is gone or not a regular file (skip it,
 * with a warning).  Opening never blocks and never follows a link: a FIFO
 * would wait for a writer for ever; a link could point anywhere. */
static int read_message(struct maildir_in *md, const char *path, struct src_msg *m,
			struct lb_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			log_warn("maildir: skipping %s: a symbolic link, not a message", path);
		if (errno == ENOENT || errno == ELOOP)
			return 1;
		return err_sys(err, LB_EIO, "%s", path);
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int rc = err_sys(err, LB_EIO, "%s", path);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("maildir: skipping %s: %s, not a message", path, file_type(st.st_mode));
		close(fd);
		return 1;
	}
	/* a regular file: reads block as they should */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	m->size = (size_t)st.st_size;
	m->truncated = md->max_size && m->size > md->max_size;
	size_t limit = md->max_size ? md->max_size : (size_t)-1;
	buf_reset(&md->data);
	int rc = 0;
	for (;;) {
		size_t want = limit - md->data.n < CHUNK ? limit - md->data.n : CHUNK;
		if (want == 0 || !buf_grow(&md->data, want))
			break;
		ssize_t got = read(fd, md->data.p + md->data.n, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_sys(err, LB_EIO, "%s", path);
			break;
		}
		if (got == 0)
			break;
		md->data.n += (size_t)got;
		md->data.p[md->data.n] = '\0';
		if (m->truncated && header_end(&md->data))
			break;
	}
	close(fd);
	if (m->truncated && header_end(&md->data))
		md->data.n = header_end(&md->data);
	m->raw = buf_cstr(&md->data);
	m->n = md->data.n;
	return rc;
}

static int fetch_dir(struct maildir_in *md, const char *dir, src_msg_fn fn, void *ctx,
		     struct lb_err *err);

static int maildir_fetch(struct msg_source *s, const struct cursor *c, size_t batch, src_msg_fn fn,
			 void *ctx, struct lb_err *err)
{
	(void)c, (void)batch; /* one message in memory at a time; no cursor */
	struct maildir_in *md = to_md(s);
	int rc = 0;
	for (int sub = 0; sub < (md->read_only ? 2 : 1) && !rc; sub++) {
		char *cur = sub ? path_join(md->dir, "cur") : NULL;
		rc = fetch_dir(md, sub ? cur : md->new_dir, fn, ctx, err);
		free(cur);
	}
	/* Do not keep a 25 MB buffer around between polls. */
	buf_free(&md->data);
	return rc;
}

/* Every message in dir/ (new/ or cur/), in name order.  A read-only
 * source names a message without its info part (":2,S…"), which a mail
 * client changes as flags change. */
static int fetch_dir(struct maildir_in *md, const char *dir, src_msg_fn fn, void *ctx,
		     struct lb_err *err)
{
	char **paths = fsx_list(dir, "");
	int rc = 0;
	struct buf name = BUF_INIT;
	for (char **p = paths; *p && !rc; p++) {
		const char *base = strrchr(*p, '/') + 1;
		buf_reset(&name);
		buf_add(&name, base, md->read_only ? strcspn(base, ":") : strlen(base));
		struct src_msg m = {.id = buf_cstr(&name)};
		rc = read_message(md, *p, &m, err);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (!rc)
			rc = fn(ctx, &m);
	}
	fsx_list_free(paths);
	buf_free(&name);
	return rc;
}

/* A Maildir++ folder: "Letterbox/Bounces" is .Letterbox.Bounces. */
static char *folder_dir(const char *dir, const char *folder, struct lb_err *err)
{
	struct buf b = BUF_INIT;
	buf_addc(&b, '.');
	bool start = true;
	for (const char *p = folder; *p; p++) {
		char ch = *p == '/' ? '.' : *p;
		if ((start && (ch == '.')) || (unsigned char)ch < 0x20) {
			buf_free(&b);
			err_set(err, LB_ECONFIG,
				"folder \"%s\": not a valid Maildir++ folder name (empty part, "
				"leading dot or control character)",
				folder);
			return NULL;
		}
		start = ch == '.';
		buf_addc(&b, ch);
	}
	if (start) {
		buf_free(&b);
		err_set(err, LB_ECONFIG, "folder \"%s\": not a valid Maildir++ folder name",
			folder);
		return NULL;
	}
	char *path = path_join(dir, buf_cstr(&b));
	buf_free(&b);
	return path;
}

static int open_folder(const char *fdir, struct lb_err *err)
{
	int rc = make_maildir(fdir, err);
	if (rc)
		return rc;
	/* Maildir++: the marker that tells readers this is a folder. */
	char *mark = path_join(fdir, "maildirfolder");
	int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = err_sys(err, LB_EIO, "%s", mark);
	else
		close(fd);
	free(mark);
	return rc;
}

static int maildir_done(struct msg_source *s, const struct src_msg *msg, const char *folder,
			struct lb_err *err)
{
	struct maildir_in *md = to_md(s);
	const char *id = msg->id ? msg->id : "";
	if (md->read_only)
		return 0; /* a Sent folder is never changed */
	if (!*id || *id == '.' || strchr(id, '/'))
		return err_set(err, LB_ESOFTWARE, "maildir: not a message name: \"%s\"", id);
	char *target = folder ? folder_dir(md->dir, folder, err) : xstrdup(md->dir);
	if (!target)
		return err->code;
	int rc = folder ? open_folder(target, err) : 0;
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_printf(&from, "%s/%s", md->new_dir, id);
	/* The name without any info part, then ":2,S": seen (maildir(5)). */
	buf_printf(&to, "%s/cur/%.*s:2,S", target, (int)strcspn(id, ":"), id);
	if (!rc && rename(from.p, to.p) != 0) {
		/* Gone from new/ but in place: done by an earlier attempt. */
		if (!(errno == ENOENT && fsx_exists(to.p)))
			rc = err_sys(err, LB_EIO, "rename %s to %s", from.p, to.p);
	} else if (!rc) {
		buf_truncate(&to, strlen(strrchr(to.p, '/'))); /* to its cur/ */
		rc = fsx_sync_dir(md->new_dir, err);
		if (!rc)
			rc = fsx_sync_dir(to.p, err);
	}
	buf_free(&from);
	buf_free(&to);
	free(target);
	return rc;
}

static bool new_is_empty(const struct maildir_in *md)
{
	DIR *d = opendir(md->new_dir);
	if (!d)
		return true;
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* what fetch skips (a FIFO, a directory) is no reason to wake */
		struct stat st;
		empty = de->d_type == DT_UNKNOWN
			    ? fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
				  !S_ISREG(st.st_mode)
			    : de->d_type != DT_REG;
	}
	closedir(d);
	return empty;
}

static int maildir_wait(struct msg_source *s, int timeout_s, struct lb_err *err)
{
	(void)err;
	struct maildir_in *md = to_md(s);
	/* Watch first, then look: a delivery between the two is not missed. */
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, md->new_dir, IN_CREATE | IN_MOVED_TO) < 0) {
		close(fd);
		fd = -1;
	}
	struct timespec start, t;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (!new_is_empty(md))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long long left =
		    (long long)timeout_s * 1000 - ((long long)(t.tv_sec - start.tv_sec) * 1000 +
						   (t.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		/* Without inotify (or when it misses, e.g. NFS): look every second. */
		struct pollfd pfd = {fd, POLLIN, 0};
		int ms = left > 1000 ? 1000 : (int)left;
		int ready = fd >= 0 ? poll(&pfd, 1, ms) : poll(NULL, 0, ms);
		if (ready < 0 && errno == EINTR)
			break; /* a signal (SIGTERM): the caller decides */
		if (fd >= 0 && ready > 0) {
			char drain[4096];
			while (read(fd, drain, sizeof drain) > 0)
				;
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static const struct source_ops maildir_ops = {
    .uidvalidity = maildir_uidvalidity,
    .fetch = maildir_fetch,
    .done = maildir_done,
    .wait = maildir_wait,
    .close = maildir_close,
};
