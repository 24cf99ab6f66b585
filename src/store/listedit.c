#include "store/listedit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/fsx.h"
#include "core/utf8.h"
#include "core/mem.h"
#include "store/listedit_int.h"
#include "store/listscan.h"
#include "store/subscribers.h"

#define MAX_LIST_BYTES (256u << 20) /* as sublist_load */

/* Characters YAML (1.1, as libyaml reads it) takes as line breaks or that
 * no name should hold: C0, DEL, C1 (NEL is one), U+2028, U+2029. */
static bool is_break_or_control(const unsigned char *p, size_t len)
{
	return (len == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
	       (len == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
	       (len == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9));
}

bool listedit_name_ok(const char *name, const char **why)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		if (!len) {
			*why = "it is not UTF-8";
			return false;
		}
		if (is_break_or_control(p + i, len)) {
			*why = "it holds a line break or a control character";
			return false;
		}
		i += len;
	}
	return true;
}

/* Can s be written as a plain scalar after "key: " and read back unchanged
 * as a string?  When in doubt the answer is no: quoting is always safe. */
static bool plain_ok(const char *s)
{
	static const char *const words[] = {"null", "~",   "true", "false", "yes", "no",
					    "on",   "off", "y",	   "n",	    NULL};
	size_t n = strlen(s);
	if (n == 0 || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ' || s[n - 1] == ':' ||
	    strstr(s, ": ") || strstr(s, " #"))
		return false;
	for (const char *const *w = words; *w; w++)
		if (strcasecmp(s, *w) == 0)
			return false;
	if (strspn(s, "0123456789+-._:eE") == n) /* would read as a number or a time */
		return false;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		if (!len || is_break_or_control(p + i, len) ||
		    (len == 3 && p[i] == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf))
			return false;
		i += len;
	}
	return true;
}

static void put_scalar(struct buf *o, const char *s)
{
	if (!s)
		s = "";
	if (plain_ok(s)) {
		buf_adds(o, s);
		return;
	}
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	buf_addc(o, '"');
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		if (len == 1 && (p[i] == '"' || p[i] == '\\')) {
			buf_addc(o, '\\');
			buf_addc(o, (char)p[i]);
		} else if (len == 1 && p[i] == '\n') {
			buf_adds(o, "\\n");
		} else if (len == 1 && p[i] == '\t') {
			buf_adds(o, "\\t");
		} else if (len == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			buf_printf(o, "\\x%c%c", hex[p[i] >> 4], hex[p[i] & 15]);
		} else if (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			buf_printf(o, "\\x%c%c", hex[p[i + 1] >> 4], hex[p[i + 1] & 15]);
		} else if (len == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] == 0xa8) {
			buf_adds(o, "\\L");
		} else if (len == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] == 0xa9) {
			buf_adds(o, "\\P");
		} else if (len == 3 && p[i] == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf) {
			buf_adds(o, "\\uFEFF");
		} else if (!len) {
			buf_adds(o,
				 "\\uFFFD"); /* not UTF-8: never reaches here from checked input */
			len = 1;
		} else {
			buf_add(o, p + i, len);
		}
		i += len;
	}
	buf_addc(o, '"');
}

static void put_entries(struct buf *o, size_t dash, size_t content, const char *eol,
			const struct listedit_entry *v, size_t n)
{
	if (content <= dash)
		content = dash + 2;
	for (size_t i = 0; i < n; i++) {
		buf_printf(o, "%*s-%*semail: ", (int)dash, "", (int)(content - dash - 1), "");
		put_scalar(o, v[i].email);
		buf_adds(o, eol);
		if (v[i].name && v[i].name[0]) {
			buf_printf(o, "%*sname: ", (int)content, "");
			put_scalar(o, v[i].name);
			buf_adds(o, eol);
		}
	}
}

int listedit_append_text(const char *file, struct span old, const struct listedit_entry *v,
			 size_t n, struct buf *out, struct lb_err *err)
{
	struct listedit_plan p;
	if (!old.p)
		old = (struct span){"", 0};
	int rc = listedit_plan(file, old, &p, err);
	if (rc)
		return rc;
	buf_add(out, old.p, p.cut_from);
	buf_add(out, old.p + p.cut_to, p.ins - p.cut_to);
	if (p.ins == old.n && old.n > 0 && old.p[old.n - 1] != '\n')
		buf_adds(out, p.eol);
	if (p.add_key)
		buf_printf(out, "%*ssubscribers:%s", (int)(p.dash - 2), "", p.eol);
	put_entries(out, p.dash, p.content, p.eol, v, n);
	buf_add(out, old.p + p.ins, old.n - p.ins);
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int listedit_verify(const char *file, struct span old, struct span edited,
		    const struct listedit_entry *v, size_t n, struct lb_err *err)
{
	struct list_reading a = {0}, b = {0};
	int rc = list_read(file, old.p ? old : (struct span){"", 0}, &a, err);
	if (!rc) {
		/* the edited list is compared as it is read: old's hashes, then v */
		b = (struct list_reading){
		    .hash = a.hash, .cap = a.n, .want = v, .skip = a.n, .nwant = n};
		if ((rc = list_read(file, edited.p ? edited : (struct span){"", 0}, &b, err)))
			err_prefix(err, "the edited list would not load");
		else
			rc = list_compare(file, &a, &b, err);
	}
	list_reading_free(&a);
	list_reading_free(&b);
	return rc;
}

/* Where to write: a symbolic link's target, so that the link survives. */
static int resolve(const char *path, char **real, bool *exists, struct lb_err *err)
{
	struct stat st;
	*real = realpath(path, NULL);
	*exists = *real != NULL;
	if (*real)
		return 0;
	if (errno != ENOENT)
		return err_sys(err, fsx_errno_code(errno), "%s", path);
	if (lstat(path, &st) == 0)
		return err_set(err, LB_EIO, "%s: a symbolic link to nowhere", path);
	*real = xstrdup(path);
	return 0;
}

/* ---- the streamed edit: lists in the usual layout, of any size ---------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy bytes [from, to) of in (to == UINT64_MAX: to its end) to out. */
static int copy_range(int in, uint64_t from, uint64_t to, int out, char *chunk, size_t size)
{
	while (from < to) {
		size_t want = to - from < size ? (size_t)(to - from) : size;
		ssize_t r = pread(in, chunk, want, (off_t)from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && to != UINT64_MAX))
			return -1;
		if (r == 0)
			return 0;
		if (write_all(out, chunk, (size_t)r) < 0)
			return -1;
		from += (uint64_t)r;
	}
	return 0;
}

/* The new entries read back from the edited file. */
struct readback {
	const struct listedit_entry *v;
	size_t old_n, n, i;
	bool ok;
};

static bool blank(const char *s)
{
	return !s || !span_trim(span_cstr(s)).n;
}

static int read_back(void *ctx, const struct listscan_entry *e)
{
	struct readback *r = ctx;
	size_t i = r->i++;
	if (i < r->old_n)
		return 0;
	const struct listedit_entry *want = i - r->old_n < r->n ? &r->v[i - r->old_n] : NULL;
	const char *name = blank(e->name) ? NULL : e->name,
		   *want_name = want && !blank(want->name) ? want->name : NULL;
	if (!want || e->nul || e->nfields || e->scalar || !e->email ||
	    e->email_len != strlen(want->email) || strcmp(e->email, want->email) != 0 ||
	    !same_str(name, want_name))
		r->ok = false;
	return 0;
}

/* Append v[0..n) to the list open on fd, scanned as scan: the old bytes are
 * copied around the new ones into a temporary file, which is scanned again
 * (it must read as the old entries, unchanged, then v) and fsync'd before
 * it replaces the list.  Memory: a buffer, whatever the list's size. */
static int append_streamed(const char *path, const char *real, int fd, mode_t mode,
			   const struct listscan *scan, const struct listedit_entry *v, size_t n,
			   struct lb_err *err)
{
	struct buf add = BUF_INIT, tmp = BUF_INIT;
	const char *eol = scan->crlf ? "\r\n" : "\n";
	size_t size = 1u << 20;
	char *chunk = xmalloc(size);
	int out = -1, rc = 0;
	if (!scan->newline_at_ins)
		buf_adds(&add, eol);
	put_entries(&add, (size_t)scan->dash, (size_t)scan->content, eol, v, n);
	buf_printf(&tmp, "%s.tmp.%ld", real, (long)getpid());
	if (unlink(tmp.p) < 0 && errno != ENOENT) {
		rc = err_sys(err, fsx_errno_code(errno), "%s", tmp.p);
		goto out;
	}
	mode = fsx_mode(mode);
	out = open(tmp.p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0) {
		rc = err_sys(err, fsx_errno_code(errno), "%s", tmp.p);
		goto out;
	}
	if (fchmod(out, mode) < 0 || copy_range(fd, 0, scan->ins, out, chunk, size) < 0 ||
	    write_all(out, add.p, add.n) < 0 ||
	    copy_range(fd, scan->ins, UINT64_MAX, out, chunk, size) < 0 || fsx_fsync(out) < 0) {
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
		goto out;
	}
	struct readback r = {v, scan->entries, n, 0, true};
	struct listscan after;
	rc = listscan_fd(out, tmp.p, read_back, &r, scan->entries, &after, err);
	if (rc == LISTSCAN_OTHER ||
	    (!rc && (!r.ok || after.entries != scan->entries + n || after.hash_at != scan->hash ||
		     after.meta != scan->meta)))
		rc = err_set(err, LB_EDATA,
			     "%s: the edited list would not read back as intended; nothing was "
			     "changed: please report this",
			     path);
	if (rc)
		goto out;
	if (close(out) < 0) {
		out = -1;
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
		goto out;
	}
	out = -1;
	if (rename(tmp.p, real) < 0) {
		rc = err_sys(err, LB_EIO, "rename to %s", real);
		goto out;
	}
	rc = fsx_sync_parent(real, err);
out:
	if (out >= 0)
		close(out);
	if (rc && tmp.p)
		unlink(tmp.p);
	free(chunk);
	buf_free(&add);
	buf_free(&tmp);
	return rc;
}

/* listedit_append, or with unless (a spec) listedit_add_new. */
static int edit(const char *path, const char *title, const struct listedit_entry *v, size_t n,
		const char *unless, bool *already, struct lb_err *err)
{
	struct buf old = BUF_INIT, edited = BUF_INIT;
	struct list_reading a = {.key = unless ? addr_key(unless) : NULL}, b = {0};
	char *real = NULL;
	bool exists, found_unused;
	if (!already) /* listedit_append: nothing is looked for */
		already = &found_unused;
	*already = false;
	mode_t mode;
	struct stat st;
	int rc = resolve(path, &real, &exists, err);
	if (rc)
		goto out;
	if (exists) {
		if (stat(real, &st) < 0) {
			rc = err_sys(err, LB_EIO, "%s", path);
			goto out;
		}
		mode = st.st_mode & 07777;
		int fd = open(real, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = err_sys(err, fsx_errno_code(errno), "%s", path);
			goto out;
		}
		struct listscan scan;
		struct listscan_key key = {0};
		if (unless)
			listscan_key_init(&key, unless);
		rc = listscan_fd(fd, path, unless ? listscan_key_match : NULL, &key, 0, &scan, err);
		if (rc == 1 && key.found)
			*already = true;
		else if (!rc)
			rc = append_streamed(path, real, fd, mode, &scan, v, n, err);
		close(fd);
		listscan_key_free(&key);
		if (rc == 1 && *already)
			rc = 0;
		if (rc != LISTSCAN_OTHER)
			goto out;
		/* Not the usual layout: libyaml's events, streamed from the file
		 * (a list that does not load is refused in little memory), then
		 * the edit of its text, read back before it is written. */
		if ((rc = list_read(path, (struct span){NULL, 0}, &a, err)))
			goto out;
		if (a.found) {
			*already = true;
			goto out;
		}
		if ((rc = fsx_read(real, &old, MAX_LIST_BYTES, err)))
			goto out;
	} else {
		mode_t um = umask(0);
		umask(um);
		mode = 0666 & ~um;
		char *dir = xstrdup(real);
		rc = fsx_mkdirs(dirname(dir), 0755, err);
		free(dir);
		if (rc)
			goto out;
		buf_adds(&old, "name: ");
		put_scalar(&old, title);
		buf_adds(&old, "\nsubscribers:\n");
		if ((rc = list_read(path, buf_span(&old), &a, err)))
			goto out;
	}
	if ((rc = listedit_append_text(path, buf_span(&old), v, n, &edited, err)))
		goto out;
	b = (struct list_reading){.hash = a.hash, .cap = a.n, .want = v, .skip = a.n, .nwant = n};
	if ((rc = list_read(path, buf_span(&edited), &b, err))) {
		err_prefix(err, "the edited list would not load");
		goto out;
	}
	if ((rc = list_compare(path, &a, &b, err)))
		goto out;
	rc = fsx_write_atomic(real, edited.p, edited.n, mode, err);
out:
	free(a.key);
	list_reading_free(&a);
	list_reading_free(&b);
	free(real);
	buf_free(&old);
	buf_free(&edited);
	return rc;
}

int listedit_append(const char *path, const char *title, const struct listedit_entry *v, size_t n,
		    struct lb_err *err)
{
	return edit(path, title, v, n, NULL, NULL, err);
}

int listedit_add_new(const char *path, const char *title, const struct listedit_entry *e,
		     bool *already, struct lb_err *err)
{
	*already = false;
	return edit(path, title, e, 1, e->email, already, err);
}
