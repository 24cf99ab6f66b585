/* Suppressions: an append-only log in state/suppressions, one record a line:
 *
 *     2026-11-25T17:35:00Z<TAB>hard-bounce<TAB>ada@example.org<TAB>550 5.1.1 user unknown
 *
 * Lines starting with '#' are comments (the file starts with one saying what
 * it is).  The loaded set keeps one record per address (the latest), the
 * addresses in an arena and the evidence on disk: a send of 100,000
 * recipients consults this set, and the evidence is only wanted when a
 * person asks for it, so it is read from the file on demand.
 */
#include "store/suppressions.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/utf8.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/suppressions_int.h"

#define FILE_NAME     "suppressions"
#define HEADER	      "# letterbox suppressions: machine-written, append-only, never edit\n"
#define EVIDENCE_MAX  500
#define LINE_MAX_LEN  4096 /* no record of ours comes near: a longer line is damage */
#define CHUNK_BITS    10   /* records are allocated 1024 at a time so pointers stay put */
#define CHUNK_RECORDS (1u << CHUNK_BITS)
#define ARENA_BLOCK   65536

struct rec {
	struct suppression pub; /* pub.evidence NULL: not read yet, it is at ev_off */
	off_t ev_off;
	uint32_t ev_len;
};

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

/* What const accessors may still change: the list view, built on demand. */
struct sup_view {
	const struct suppression **v;
	size_t n;
};

struct suppressions {
	char *dir, *path;
	int fd; /* the file as loaded (for evidence on demand), or -1 */
	struct rec **chunks;
	size_t nchunks, chunks_cap;
	size_t n;	 /* records, one per address */
	uint32_t *slots; /* open addressing: record index + 1, 0 = empty */
	size_t nslots;	 /* a power of two */
	struct arena_block *arena;
	struct sup_view *view;
	struct sup_pending *pending; /* state/suppressions.pending (pending.c) */
};

static const char *const reason_names[] = {
    [SUP_NONE] = "none",
    [SUP_UNSUBSCRIBED] = "unsubscribed",
    [SUP_HARD_BOUNCE] = "hard-bounce",
    [SUP_COMPLAINT] = "complaint",
    [SUP_REMOVED] = "removed",
    [SUP_FAILED] = "failed",
    [SUP_RESUBSCRIBED] = "resubscribed",
};

const char *sup_reason_name(enum sup_reason r)
{
	if ((unsigned)r >= sizeof reason_names / sizeof reason_names[0])
		return "none";
	return reason_names[r];
}

const char *sup_source(const struct suppression *x)
{
	const char *e = x->evidence ? x->evidence : "";
	if (strncmp(e, SUP_WEB_EVIDENCE, strlen(SUP_WEB_EVIDENCE)) == 0)
		return "web";
	if (strncmp(e, "`letterbox ", 11) == 0 || strncmp(e, "the staff pages ", 16) == 0)
		return "staff";
	/* sender.c: "550 5.1.1 … (campaign SLUG)", or a pending report it
	 * confirmed: "confirmed by a 5xx at send time: …" (pending.c) */
	if (strncmp(e, "confirmed by a 5xx at send time", 31) == 0 ||
	    (strncmp(e, "confirmed by ", 13) != 0 && strstr(e, " (campaign ")))
		return "send";
	return "mail";
}

static enum sup_reason reason_from(struct span s)
{
	for (size_t i = 1; i < sizeof reason_names / sizeof reason_names[0]; i++)
		if (span_eq(s, reason_names[i]))
			return (enum sup_reason)i;
	return SUP_NONE;
}

enum sup_reason sup_reason_parse(const char *name)
{
	return name ? reason_from(span_cstr(name)) : SUP_NONE;
}

static char *arena_dup(struct suppressions *s, const char *p, size_t n)
{
	struct arena_block *b = s->arena;
	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		b->next = s->arena;
		s->arena = b;
	}
	char *d = b->data + b->used;
	memcpy(d, p, n);
	d[n] = '\0';
	b->used += n + 1;
	return d;
}

static struct rec *rec_at(const struct suppressions *s, size_t i)
{
	return &s->chunks[i >> CHUNK_BITS][i & (CHUNK_RECORDS - 1)];
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* FNV-1a over the lower-cased address, so that a look-up needs no copy. */
static uint64_t key_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ lower((unsigned char)p[i])) * 1099511628211u;
	return h;
}

/* The slot holding addr's record, or the empty slot where it would go. */
static uint32_t *find_slot(const struct suppressions *s, const char *addr, size_t n)
{
	size_t mask = s->nslots - 1;
	for (size_t i = key_hash(addr, n) & mask;; i = (i + 1) & mask) {
		uint32_t *slot = &s->slots[i];
		if (!*slot)
			return slot;
		const char *key = rec_at(s, *slot - 1)->pub.key;
		size_t k = 0;
		while (k < n && key[k] && key[k] == (char)lower((unsigned char)addr[k]))
			k++;
		if (k == n && key[k] == '\0')
			return slot;
	}
}

static void rehash(struct suppressions *s)
{
	free(s->slots);
	s->nslots = s->nslots ? s->nslots * 2 : 1024;
	s->slots = xcalloc(s->nslots, sizeof *s->slots);
	for (size_t i = 0; i < s->n; i++) {
		const char *key = rec_at(s, i)->pub.key;
		*find_slot(s, key, strlen(key)) = (uint32_t)(i + 1);
	}
}

/* The record for addr, created (with reason SUP_NONE) when it is new. */
static struct rec *upsert(struct suppressions *s, const char *addr, size_t n)
{
	if ((s->n + 1) * 10 > s->nslots * 7)
		rehash(s);
	uint32_t *slot = find_slot(s, addr, n);
	if (*slot)
		return rec_at(s, *slot - 1);
	if ((s->n >> CHUNK_BITS) >= s->nchunks) {
		s->chunks =
		    xgrowarray(s->chunks, &s->chunks_cap, s->nchunks + 1, sizeof(struct rec *));
		s->chunks[s->nchunks++] = xcalloc(CHUNK_RECORDS, sizeof(struct rec));
	}
	struct rec *r = rec_at(s, s->n++);
	*slot = (uint32_t)s->n;
	r->pub.address = arena_dup(s, addr, n);
	r->pub.key = r->pub.address;
	for (size_t i = 0; i < n; i++) {
		if (lower((unsigned char)addr[i]) != (unsigned char)addr[i]) {
			r->pub.key = arena_dup(s, addr, n);
			for (char *k = r->pub.key; *k; k++)
				*k = (char)lower((unsigned char)*k);
			break;
		}
	}
	return r;
}

/* "2026-11-25T17:35:00Z", and nothing else: the file is ours. */
bool sup_parse_when(struct span t, time_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (t.n != sizeof shape - 1)
		return false;
	long v[6] = {0};
	for (size_t i = 0, f = 0; i < t.n; i++) {
		if (shape[i] != 'd') {
			if (t.p[i] != shape[i])
				return false;
			f++;
		} else if (t.p[i] >= '0' && t.p[i] <= '9') {
			v[f] = v[f] * 10 + (t.p[i] - '0');
		} else {
			return false;
		}
	}
	long y = v[0], m = v[1], d = v[2];
	if (m < 1 || m > 12 || d < 1 || d > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return false;
	/* days from civil (Howard Hinnant's algorithm), no time zone involved */
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;
	*out = (time_t)(days * 86400 + v[3] * 3600 + v[4] * 60 + v[5]);
	return true;
}

/* One complete line (without its '\n') at file offset off. */
static int parse_line(struct suppressions *s, const char *p, size_t n, off_t off, size_t lineno,
		      struct lb_err *err)
{
	if (n == 0 || p[0] == '#')
		return 0;
	struct span f[3];
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		const char *tab = memchr(p + at, '\t', n - at);
		if (!tab)
			goto bad;
		f[i] = (struct span){p + at, (size_t)(tab - (p + at))};
		at = (size_t)(tab - p) + 1;
	}
	time_t when;
	enum sup_reason reason = reason_from(f[1]);
	if (!sup_parse_when(f[0], &when) || reason == SUP_NONE || f[2].n == 0 ||
	    memchr(p, '\0', n) || n > LINE_MAX_LEN)
		goto bad;
	struct rec *r = upsert(s, f[2].p, f[2].n);
	if (!span_eq(f[2], r->pub.address)) /* the latest spelling is the one to show */
		r->pub.address = arena_dup(s, f[2].p, f[2].n);
	r->pub.reason = reason;
	r->pub.when = when;
	free(r->pub.evidence);
	r->pub.evidence = NULL;
	r->ev_off = off + (off_t)at;
	r->ev_len = (uint32_t)(n - at);
	return 0;
bad:
	return err_set(err, LB_EDATA,
		       "%s:%zu: not a suppression record; this file is written by letterbox "
		       "only: restore it from a backup",
		       s->path, lineno);
}

static int load_file(struct suppressions *s, struct lb_err *err)
{
	s->fd = open(s->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0)
		return errno == ENOENT ? 0 : err_sys(err, fsx_errno_code(errno), "%s", s->path);
	FILE *f = fdopen(dup(s->fd), "r");
	if (!f)
		return err_sys(err, LB_EIO, "%s", s->path);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	off_t off = 0;
	ssize_t len;
	int rc = 0;
	while (!rc && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		/* A last line without its '\n' is a write cut short by a crash:
		 * suppressions_add never returned for it, so it never counted. */
		if (line[len - 1] == '\n')
			rc = parse_line(s, line, (size_t)len - 1, off, lineno, err);
		off += len;
	}
	if (!rc && ferror(f))
		rc = err_sys(err, LB_EIO, "%s", s->path);
	free(line);
	fclose(f);
	return rc;
}

int suppressions_load(const char *state_dir, struct suppressions **out, struct lb_err *err)
{
	struct suppressions *s = xcalloc(1, sizeof *s);
	s->dir = xstrdup(state_dir);
	s->path = path_join(state_dir, FILE_NAME);
	s->view = xcalloc(1, sizeof *s->view);
	rehash(s);
	int rc = load_file(s, err);
	if (!rc)
		rc = sup_pending_load(state_dir, &s->pending, err);
	if (rc) {
		suppressions_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

void suppressions_free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(rec_at(s, i)->pub.evidence);
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->slots);
	while (s->arena) {
		struct arena_block *next = s->arena->next;
		free(s->arena);
		s->arena = next;
	}
	if (s->fd >= 0)
		close(s->fd);
	sup_pending_free(s->pending);
	free(s->view->v);
	free(s->view);
	free(s->dir);
	free(s->path);
	free(s);
}

static struct rec *lookup(const struct suppressions *s, const char *address)
{
	if (!address)
		return NULL;
	uint32_t *slot = find_slot(s, address, strlen(address));
	if (!*slot)
		return NULL;
	struct rec *r = rec_at(s, *slot - 1);
	return r->pub.reason == SUP_RESUBSCRIBED ? NULL : r;
}

bool sup_last_record(const struct suppressions *s, const char *address, time_t *when)
{
	uint32_t *slot = address ? find_slot(s, address, strlen(address)) : NULL;
	if (!slot || !*slot)
		return false;
	*when = rec_at(s, *slot - 1)->pub.when;
	return true;
}

struct sup_pending *sup_pending_of(const struct suppressions *s)
{
	return s->pending;
}

const char *sup_dir(const struct suppressions *s)
{
	return s->dir;
}

enum sup_reason suppressions_check(const struct suppressions *s, const char *address)
{
	struct rec *r = lookup(s, address);
	return r ? r->pub.reason : SUP_NONE;
}

/* Read a record's evidence from the file it was loaded from.  The file is
 * append-only and we hold the descriptor of the one we read, so the bytes are
 * still there; if reading fails the evidence is shown as empty. */
static void fetch_evidence(const struct suppressions *s, struct rec *r)
{
	if (r->pub.evidence)
		return;
	char *e = xmalloc((size_t)r->ev_len + 1);
	ssize_t got = pread(s->fd, e, r->ev_len, r->ev_off);
	if (got != (ssize_t)r->ev_len) {
		log_warn("%s: cannot read the evidence for %s", s->path, r->pub.address);
		got = 0;
	}
	e[got] = '\0';
	r->pub.evidence = e;
}

const struct suppression *suppressions_get(const struct suppressions *s, const char *address)
{
	struct rec *r = lookup(s, address);
	if (!r)
		return NULL;
	fetch_evidence(s, r);
	return &r->pub;
}

const struct suppression *const *suppressions_list(const struct suppressions *s, size_t *n)
{
	struct sup_view *view = s->view;
	free(view->v);
	view->v = xcalloc(s->n + 1, sizeof(const struct suppression *));
	view->n = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct rec *r = rec_at(s, i);
		if (r->pub.reason == SUP_RESUBSCRIBED)
			continue;
		fetch_evidence(s, r);
		view->v[view->n++] = &r->pub;
	}
	*n = view->n;
	return view->v;
}

/* Evidence as one line: every run of white space and control characters
 * (C0, DEL, C1, U+2028/9) becomes one space, bytes that are not UTF-8 become
 * '?', and it is cut at EVIDENCE_MAX bytes on a character boundary. */
void sup_sanitise(struct buf *out, const char *in)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)p), start = out->n;
	bool space = false;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		bool blank = len == 0	? false
			     : len == 1 ? p[i] <= 0x20 || p[i] == 0x7f
			     : len == 2 ? p[i] == 0xc2 && p[i + 1] < 0xa0
					: len == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
					      (p[i + 2] == 0xa8 || p[i + 2] == 0xa9);
		if (blank) {
			space = out->n > start;
			i += len;
			continue;
		}
		size_t need = (len ? len : 1) + space;
		if (out->n - start + need > EVIDENCE_MAX)
			break;
		if (space)
			buf_addc(out, ' ');
		space = false;
		if (len)
			buf_add(out, p + i, len);
		else
			buf_addc(out, '?');
		i += len ? len : 1;
	}
}

/* Under the file's lock: a tail without its '\n' is a record cut short by a
 * crash; cut it off so the next record starts on a line of its own.  *size
 * becomes the length that is left. */
static int drop_torn_tail(int fd, off_t *size)
{
	char b[4096];
	off_t end = *size;
	while (end > 0) {
		off_t from = end > (off_t)sizeof b ? end - (off_t)sizeof b : 0;
		ssize_t got = pread(fd, b, (size_t)(end - from), from);
		if (got != end - from)
			return -1;
		for (ssize_t i = got; i > 0; i--) {
			if (b[i - 1] == '\n') {
				if (from + i == *size)
					return 0;
				*size = from + i;
				return ftruncate(fd, *size);
			}
		}
		end = from;
	}
	*size = 0;
	return ftruncate(fd, 0);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sup_append(const char *dir, const char *path, const char *header, const struct buf *line,
	       struct lb_err *err)
{
	int rc = fsx_mkdirs(dir, 0700, err);
	if (rc)
		return rc;
	int fd = fsx_open_state(path, O_RDWR | O_APPEND | O_CREAT, 0600, err);
	if (fd < 0)
		return err->code;
	/* The lock keeps a concurrent poll's records and ours whole lines. */
	struct stat st;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			goto fail;
	/* 0600 (0660 in shared-group mode); another user's file in a shared
	 * state/ is left as its owner made it */
	if (fstat(fd, &st) < 0 || ((st.st_mode & 07777) != fsx_mode(0600) &&
				   st.st_uid == geteuid() && fchmod(fd, fsx_mode(0600)) < 0))
		goto fail;
	off_t size = st.st_size;
	if ((size > 0 && drop_torn_tail(fd, &size) < 0) ||
	    (size == 0 && write_all(fd, header, strlen(header)) < 0) ||
	    write_all(fd, line->p, line->n) < 0 || fsx_fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0)
		return err_sys(err, LB_EIO, "%s", path);
	/* a new file's name must survive a crash too */
	return st.st_size == 0 ? fsx_sync_dir(dir, err) : 0;
fail:
	rc = err_sys(err, LB_EIO, "%s", path);
	close(fd);
	return rc;
}

int sup_format(struct buf *line, struct buf *ev, struct addr *a, const char *address,
	       enum sup_reason reason, time_t when, const char *evidence, struct lb_err *err)
{
	memset(a, 0, sizeof *a);
	if (addr_parse_spec(span_cstr(address ? address : ""), a, err))
		return err->code;
	for (const char *c = a->spec; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) /* it would break the line */
			return err_set(err, LB_EDATA, "'%s': a control character in the address",
				       address);
	sup_sanitise(ev, evidence);
	time_iso(line, when);
	buf_printf(line, "\t%s\t%s\t", reason_names[reason], a->spec);
	buf_addspan(line, buf_span(ev));
	buf_addc(line, '\n');
	return 0;
}

int suppressions_add(struct suppressions *s, const char *address, enum sup_reason reason,
		     time_t when, const char *evidence, struct lb_err *err)
{
	if (reason <= SUP_NONE || reason > SUP_RESUBSCRIBED)
		return err_set(err, LB_ESOFTWARE, "suppressions_add: no reason given");
	struct addr a;
	struct buf line = BUF_INIT, ev = BUF_INIT;
	int rc = sup_format(&line, &ev, &a, address, reason, when, evidence, err);
	if (!rc)
		rc = sup_append(s->dir, s->path, HEADER, &line, err);
	if (!rc) {
		struct rec *r = upsert(s, a.spec, strlen(a.spec));
		if (strcmp(r->pub.address, a.spec) != 0)
			r->pub.address = arena_dup(s, a.spec, strlen(a.spec));
		r->pub.reason = reason;
		r->pub.when = when;
		free(r->pub.evidence);
		r->pub.evidence = xstrdup(buf_cstr(&ev));
		r->ev_len = (uint32_t)ev.n;
	}
	buf_free(&ev);
	buf_free(&line);
	addr_free(&a);
	return rc;
}
