/* Taking a campaign's snapshot: the lists streamed into the file (mapped
 * read-only, core/fmap.h), deduplicated by address with a table of line
 * references instead of a copy of every address, and the index of the
 * recipients' address hashes that status reads (campaign.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/campaign_int.h"

uint64_t campaign_key_hash(const char *key, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];
		if (ch >= 'A' && ch <= 'Z') /* addr_key's folding */
			ch = (unsigned char)(ch + ('a' - 'A'));
		h = (h ^ ch) * 1099511628211ULL;
	}
	return h;
}

/* ---- writing the snapshot: a buffered file that can read back what it wrote ---- */

struct snapw {
	int fd;
	const char *path;
	struct buf out;	  /* not yet written */
	uint64_t flushed; /* bytes written */
	int rc;		  /* the first write error */
	struct lb_err *err;
};

static uint64_t snapw_pos(const struct snapw *w)
{
	return w->flushed + w->out.n;
}

static int snapw_flush(struct snapw *w)
{
	size_t off = 0;
	while (!w->rc && off < w->out.n) {
		ssize_t n = write(w->fd, w->out.p + off, w->out.n - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			w->rc = err_sys(w->err, LB_EIO, "%s", w->path);
		else
			off += (size_t)n;
	}
	w->flushed += off;
	buf_reset(&w->out);
	return w->rc;
}

/* The address of the line at off (written or still buffered), unescaped
 * into b. */
static void snapw_email(struct snapw *w, uint64_t off, struct buf *b)
{
	buf_reset(b);
	char chunk[512];
	bool first = true;
	for (bool esc = false;; first = false) {
		size_t n;
		const char *p;
		if (off >= w->flushed) {
			p = w->out.p + (off - w->flushed);
			n = w->out.n - (size_t)(off - w->flushed);
		} else {
			ssize_t got = pread(w->fd, chunk, sizeof chunk, (off_t)off);
			if (got <= 0)
				return; /* an I/O error: no match; the writer reports it */
			p = chunk;
			n = (size_t)got;
		}
		size_t i = 0;
		if (first) /* skip "R\t" */
			i = n >= 2 ? 2 : n;
		for (; i < n; i++) {
			char ch = p[i];
			if (esc) {
				buf_addc(b, ch == 't'	? '\t'
					    : ch == 'n' ? '\n'
					    : ch == 'r' ? '\r'
							: ch);
				esc = false;
			} else if (ch == '\\') {
				esc = true;
			} else if (ch == '\t' || ch == '\n') {
				return;
			} else {
				buf_addc(b, ch);
			}
		}
		off += n;
		if (n == 0 || off >= snapw_pos(w))
			return;
	}
}

/* ---- deduplication ------------------------------------------------------------------ */

/* Addresses seen: open addressing on the key's hash; a slot holds a line
 * reference ((idx << 1 | is_k) + 1) and 8 bits of the hash, and a possible
 * match is confirmed against the address in the snapshot itself.  Five
 * bytes a slot, at most 3/4 full, growing by half: under ten bytes an
 * address. */
struct dedupe {
	uint32_t *ref;
	uint8_t *tag;
	size_t n, cap;
};

struct collect {
	struct campaign *c;
	struct snapw w;
	struct dedupe d;
	const char *list_id;
	const struct suppressions *sup;
	struct buf tmp, line;
	void (*report)(void *ctx, const char *msg);
	void *ctx;
	struct fmap *list; /* the list being read, and how far */
	size_t list_line;
	uint64_t list_off;
};

static uint64_t ref_off(const struct collect *k, uint32_t ref)
{
	uint32_t v = ref - 1;
	return offtab_get(v & 1 ? &k->c->koff : &k->c->roff, v >> 1);
}

/* The first slot to look at for hash h (any capacity, not only powers of 2). */
static size_t dd_home(const struct dedupe *d, uint64_t h)
{
	return (size_t)(((h & 0xffffffffu) * (uint64_t)d->cap) >> 32);
}

/* The slot for hash h: a match for key, or the empty one to fill. */
static size_t dd_find(struct collect *k, uint64_t h, const char *key, bool *found)
{
	struct dedupe *d = &k->d;
	size_t i = dd_home(d, h);
	uint8_t tag = (uint8_t)(h >> 56);
	for (; d->ref[i]; i = i + 1 == d->cap ? 0 : i + 1) {
		if (d->tag[i] != tag)
			continue;
		snapw_email(&k->w, ref_off(k, d->ref[i]), &k->tmp);
		if (strcasecmp(buf_cstr(&k->tmp), key) == 0) {
			*found = true;
			return i;
		}
	}
	*found = false;
	return i;
}

static void dd_put(struct dedupe *d, uint64_t h, uint32_t ref)
{
	size_t i = dd_home(d, h);
	while (d->ref[i])
		i = i + 1 == d->cap ? 0 : i + 1;
	d->ref[i] = ref;
	d->tag[i] = (uint8_t)(h >> 56);
	d->n++;
}

/* A table half as large again, refilled from the snapshot written so far: the
 * hashes are not kept, so the old table goes first and memory never holds
 * both. */
static int dd_grow(struct collect *k)
{
	struct dedupe *d = &k->d;
	size_t cap = d->cap ? d->cap + d->cap / 2 : 1024;
	free(d->ref);
	free(d->tag);
	d->ref = xcalloc(cap, sizeof *d->ref);
	d->tag = xcalloc(cap, sizeof *d->tag);
	d->cap = cap;
	d->n = 0;
	if (snapw_flush(&k->w))
		return k->w.rc;
	struct fmap m;
	int rc = fmap_fd(k->w.fd, (size_t)k->w.flushed, k->w.path, &m, k->w.err);
	if (rc)
		return rc;
	struct crcpt r = {0};
	for (size_t i = 0; i < k->c->roff.n; i++) {
		snap_fill(&m, offtab_get(&k->c->roff, i), &r);
		dd_put(d, campaign_key_hash(r.email, strlen(r.email)), (uint32_t)(i << 1) + 1);
	}
	for (size_t j = 0; j < k->c->koff.n; j++) {
		snap_fill(&m, offtab_get(&k->c->koff, j), &r);
		if (strncmp(r.reason, "suppressed:", 11) == 0)
			dd_put(d, campaign_key_hash(r.email, strlen(r.email)),
			       (uint32_t)(j << 1 | 1) + 1);
	}
	crcpt_free(&r);
	fmap_close(&m);
	return 0;
}

/* ---- the entries ---------------------------------------------------------------------- */

static void put_line(struct collect *k, struct offtab *t)
{
	offtab_push(t, snapw_pos(&k->w));
	buf_add(&k->w.out, k->line.p, k->line.n);
	if (k->w.out.n >= (1u << 20))
		snapw_flush(&k->w);
}

static void collect_invalid(void *ctx, const char *email, const char *msg)
{
	struct collect *k = ctx;
	if (k->report)
		k->report(k->ctx, msg);
	struct buf r = BUF_INIT;
	buf_printf(&r, "invalid: %s", msg);
	buf_reset(&k->line);
	buf_addc(&k->line, 'K');
	/* the address as written, so that the skip names whom it is about */
	snap_put_field(&k->line, email && *email ? email : "(no address)");
	snap_put_field(&k->line, r.p);
	buf_addc(&k->line, '\n');
	put_line(k, &k->c->koff);
	buf_free(&r);
}

/* The list's pages behind the parser go back (core/fmap.h): the parser
 * reads on from the entry's line, never back. */
static void list_advance(struct collect *k, size_t line)
{
	struct fmap *m = k->list;
	const char *p = m->p + k->list_off, *end = m->p + m->n;
	size_t from = (size_t)k->list_off;
	while (k->list_line + 1 < line && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
		k->list_line++;
	}
	k->list_off = (uint64_t)(p - m->p);
	fmap_used(m, (size_t)k->list_off - from);
}

static int collect_entry(void *ctx, const struct subscriber *s)
{
	struct collect *k = ctx;
	list_advance(k, s->line);
	if (k->w.rc)
		return k->w.rc;
	if ((k->d.n + 1) * 4 > k->d.cap * 3) {
		int rc = dd_grow(k);
		if (rc)
			return rc;
	}
	/* Lists in id order, entries in file order: the first occurrence of an
	 * address wins, whatever its case. */
	uint64_t h = campaign_key_hash(s->key, strlen(s->key));
	bool found;
	dd_find(k, h, s->key, &found);
	if (found)
		return 0;
	buf_reset(&k->line);
	enum sup_reason why = suppressions_check(k->sup, s->email);
	if (why != SUP_NONE) {
		struct buf r = BUF_INIT;
		buf_printf(&r, "suppressed: %s", sup_reason_name(why));
		buf_addc(&k->line, 'K');
		snap_put_field(&k->line, s->email);
		snap_put_field(&k->line, r.p);
		buf_addc(&k->line, '\n');
		buf_free(&r);
		dd_put(&k->d, h, (uint32_t)(k->c->koff.n << 1 | 1) + 1);
		put_line(k, &k->c->koff);
		return k->w.rc;
	}
	buf_addc(&k->line, 'R');
	snap_put_field(&k->line, s->email);
	snap_put_field(&k->line, s->name);
	snap_put_field(&k->line, k->list_id);
	for (size_t f = 0; f < s->nfields; f++) {
		buf_reset(&k->tmp);
		buf_printf(&k->tmp, "%s=%s", s->fields[f].key, s->fields[f].value);
		snap_put_field(&k->line, k->tmp.p);
	}
	buf_addc(&k->line, '\n');
	dd_put(&k->d, h, (uint32_t)(k->c->roff.n << 1) + 1);
	put_line(k, &k->c->roff);
	return k->w.rc;
}

static bool list_wanted(const struct article *a, const char *id)
{
	if (!a->lists)
		return true;
	for (char **w = a->lists; *w; w++)
		if (strcmp(*w, id) == 0)
			return true;
	return false;
}

int campaign_check_lists(const struct config *cfg, const struct article *a, struct lb_err *err)
{
	char **paths = sublist_paths(cfg->site_dir);
	int rc = 0;
	for (char **w = a->lists; w && *w && !rc; w++) {
		bool found = false;
		for (char **p = paths; *p && !found; p++) {
			char *id = sublist_id(*p);
			found = strcmp(id, *w) == 0;
			free(id);
		}
		if (!found)
			rc = err_set(
			    err, LB_EDATA,
			    "%s:%zu:%zu: lists: there is no list '%s' (no subscribers/%s.yaml)",
			    a->path, a->lists_line, a->lists_col, *w, *w);
	}
	fsx_list_free(paths);
	return rc;
}

/* Where the snapshot is written: beside its final name (create), or a file
 * in state/ unlinked at once (a dry run: nothing stays). */
static int open_snapshot(const struct config *cfg, struct campaign *c, bool create, struct buf *tmp,
			 int *fd, struct lb_err *err)
{
	if (create) {
		int rc = fsx_mkdirs(c->dir, 0700, err);
		if (rc)
			return rc;
		fsx_clean_tmp(c->dir); /* what a run killed here left */
		buf_printf(tmp, "%s/recipients.tmp.%ld", c->dir, (long)getpid());
		*fd = open(tmp->p, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			   fsx_mode(0600));
	} else {
		buf_printf(tmp, "%s/.dry-run.XXXXXX", cfg->state_dir);
		*fd = mkostemp(tmp->p, O_CLOEXEC);
		if (*fd >= 0)
			unlink(tmp->p);
	}
	if (*fd < 0)
		return err_sys(err, fsx_errno_code(errno), "%s", tmp->p);
	if (create && fchmod(*fd, fsx_mode(0600)) < 0)
		return err_sys(err, LB_EIO, "%s", tmp->p);
	return 0;
}

int campaign_recipients(const struct config *cfg, const struct article *a,
			const struct suppressions *sup, time_t now, bool create, struct campaign *c,
			void (*report)(void *ctx, const char *msg), void *ctx, struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	c->snap = (struct fmap){"", 0, 0};
	c->slug = xstrdup(a->slug);
	c->dir = campaign_dir(cfg, a->slug);
	c->started = now;
	struct buf tmp = BUF_INIT;
	struct collect k = {.c = c, .sup = sup, .report = report, .ctx = ctx};
	k.w = (struct snapw){.fd = -1, .err = err};
	int rc = campaign_check_lists(cfg, a, err);
	if (!rc)
		rc = open_snapshot(cfg, c, create, &tmp, &k.w.fd, err);
	k.w.path = tmp.p;
	buf_printf(&k.w.out, "# letterbox campaign %s started %lld\n", c->slug, (long long)now);
	char **paths = sublist_paths(cfg->site_dir);
	for (char **p = paths; *p && !rc; p++) {
		char *id = sublist_id(*p);
		if (list_wanted(a, id)) {
			struct fmap list;
			k.list_id = id;
			rc = fmap_open(*p, false, &list, err);
			k.list = &list;
			k.list_line = 0;
			k.list_off = 0;
			if (!rc)
				rc = sublist_stream(*p, list.p, list.n, NULL, NULL, collect_entry,
						    collect_invalid, &k, NULL, err);
			fmap_close(&list);
		}
		free(id);
	}
	fsx_list_free(paths);
	free(k.d.ref);
	free(k.d.tag);
	buf_free(&k.tmp);
	buf_free(&k.line);
	if (!rc)
		rc = snapw_flush(&k.w);
	if (!rc && create && fsx_fsync(k.w.fd) < 0)
		rc = err_sys(err, LB_EIO, "%s", tmp.p);
	if (!rc)
		rc = fmap_fd(k.w.fd, (size_t)k.w.flushed, tmp.p, &c->snap, err);
	c->n = c->roff.n;
	c->nskip = c->koff.n;
	campaign_states_init(c);
	char *snap = path_join(c->dir, "recipients");
	/* The campaign exists once its snapshot is in place: durably. */
	if (!rc && create && rename(tmp.p, snap) < 0)
		rc = err_sys(err, LB_EIO, "rename to %s", snap);
	if (!rc && create)
		rc = fsx_sync_parent(snap, err);
	if (rc && create && k.w.fd >= 0 && tmp.n)
		unlink(tmp.p);
	if (k.w.fd >= 0)
		close(k.w.fd);
	if (!rc && create) {
		/* for status; a failure here costs it a rebuild later, not the run */
		struct lb_err ierr = {0};
		if (campaign_index_write(c, &ierr))
			log_warn("%s", ierr.msg);
	}
	buf_free(&k.w.out);
	buf_free(&tmp);
	free(snap);
	return rc;
}

/* ---- the index --------------------------------------------------------------------- */

#define INDEX_MAGIC "LBIDX01\n"

/* In place (qsort's merge sort would take a second copy of the array: 8 MB
 * at a million recipients): quicksort, the smaller side first. */
static void sort_u64(uint64_t *v, size_t n)
{
	while (n > 16) {
		uint64_t a = v[0], b = v[n / 2], c = v[n - 1];
		uint64_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		size_t i = 0, j = n - 1;
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			uint64_t t = v[i];
			v[i++] = v[j];
			v[j--] = t;
		}
		size_t left = j + 1;
		if (left < n - left) {
			sort_u64(v, left);
			v += left;
			n -= left;
		} else {
			sort_u64(v + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

unsigned campaign_index_bits(size_t n)
{
	unsigned bits = 1;
	while (bits < 63 && ((uint64_t)1 << bits) < n)
		bits++;
	return bits;
}

char *campaign_index_build(struct campaign *c, size_t *len)
{
	unsigned bits = campaign_index_bits(c->n);
	size_t head = 32;
	char *b = xmalloc(head + c->n * sizeof(uint64_t));
	uint64_t *v = (uint64_t *)(void *)(b + head);
	struct crcpt r = {0};
	uint64_t low = ((uint64_t)1 << bits) - 1;
	for (size_t i = 0; i < c->n; i++) {
		campaign_rcpt(c, i, &r);
		uint64_t h = campaign_key_hash(r.email, strlen(r.email));
		v[i] = (h & ~low) | i;
	}
	crcpt_free(&r);
	sort_u64(v, c->n);
	uint64_t meta[3] = {(uint64_t)c->snap.n, (uint64_t)c->n, bits};
	memcpy(b, INDEX_MAGIC, 8);
	memcpy(b + 8, meta, sizeof meta);
	*len = head + c->n * sizeof(uint64_t);
	return b;
}

int campaign_index_write(struct campaign *c, struct lb_err *err)
{
	size_t n;
	char *b = campaign_index_build(c, &n);
	char *path = path_join(c->dir, "index");
	int rc = fsx_write_atomic(path, b, n, 0600, err);
	free(path);
	free(b);
	return rc;
}

int campaign_index_check(const struct fmap *m, uint64_t snap_size, size_t n, unsigned *bits)
{
	uint64_t meta[3];
	if (m->n >= 32)
		memcpy(meta, m->p + 8, sizeof meta);
	if (m->n < 32 || memcmp(m->p, INDEX_MAGIC, 8) != 0 || meta[0] != snap_size ||
	    meta[1] != n || meta[2] != campaign_index_bits(n) || m->n != 32 + n * 8)
		return LB_EDATA;
	*bits = (unsigned)meta[2];
	return 0;
}
