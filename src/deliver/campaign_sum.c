/* A campaign's summary and index (campaign.h): what status, the digest and
 * the staff pages read, so that their cost does not grow with the list. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/campaign_int.h"

#define SUMMARY_HEAD "letterbox-summary 1\n"

/* What the summary is made from: the snapshot (never rewritten) and the
 * journal's length (append-only: same length, same records). */
struct source {
	long long snap_size, snap_ino, snap_mtime, snap_mtime_ns, journal;
};

static int source_of(const char *dir, struct source *src, struct lb_err *err)
{
	char *snap = path_join(dir, "recipients");
	char *jpath = path_join(dir, "journal");
	struct stat st;
	int rc = 0;
	memset(src, 0, sizeof *src);
	if (stat(snap, &st) < 0) {
		rc =
		    err_sys(err, errno == ENOENT ? LB_ENOINPUT : fsx_errno_code(errno), "%s", snap);
	} else {
		src->snap_size = (long long)st.st_size;
		src->snap_ino = (long long)st.st_ino;
		src->snap_mtime = (long long)st.st_mtim.tv_sec;
		src->snap_mtime_ns = (long long)st.st_mtim.tv_nsec;
		if (stat(jpath, &st) == 0)
			src->journal = (long long)st.st_size;
		else if (errno != ENOENT)
			rc = err_sys(err, fsx_errno_code(errno), "%s", jpath);
	}
	free(snap);
	free(jpath);
	return rc;
}

static void put_source(struct buf *b, const struct source *s)
{
	buf_printf(b, "snapshot %lld %lld %lld %lld\njournal %lld\n", s->snap_size, s->snap_ino,
		   s->snap_mtime, s->snap_mtime_ns, s->journal);
}

/* ---- writing --------------------------------------------------------------------------- */

static void summary_text(struct campaign *c, const struct source *src, struct buf *b)
{
	struct campaign_counts k;
	campaign_count(c, &k);
	buf_adds(b, SUMMARY_HEAD);
	put_source(b, src);
	buf_printf(b, "started %lld\nfinished %d %lld\n", (long long)c->started, c->finished,
		   (long long)c->finished_at);
	buf_printf(b, "counts %zu %zu %zu %zu %zu %zu %zu %zu\n", c->n, c->nskip, k.sent,
		   k.deferred, k.failed, k.uncertain, k.pending, k.skipped);
	struct crcpt r = {0};
	struct rcpt_detail d;
	struct buf why = BUF_INIT;
	for (size_t i = 0; i < c->n; i++) {
		enum rcpt_state s = campaign_state(c, i);
		if (s == RS_SENT || s == RS_PENDING)
			continue;
		if (s == RS_INFLIGHT) /* a run's own word: on disk, A without an outcome */
			s = RS_UNCERTAIN;
		campaign_rcpt(c, i, &r);
		campaign_detail(c, i, &d);
		buf_printf(b, "A\t%zu\t%d\t%d\t%lld", i, (int)s, d.code, (long long)d.next_at);
		snap_put_field(b, r.email);
		/* "=text", or nothing for no text at all */
		buf_reset(&why);
		if (d.why)
			buf_printf(&why, "=%s", d.why);
		snap_put_field(b, buf_cstr(&why));
		buf_addc(b, '\n');
	}
	for (size_t j = 0; j < c->nskip; j++) {
		campaign_skip(c, j, &r);
		buf_addc(b, 'K');
		snap_put_field(b, r.email);
		snap_put_field(b, r.reason);
		buf_addc(b, '\n');
	}
	crcpt_free(&r);
	buf_free(&why);
	buf_printf(b, "states %zu\n", c->n);
	for (size_t i = 0; i < c->n; i++) {
		enum rcpt_state s = campaign_state(c, i);
		buf_addc(b, (char)(s == RS_INFLIGHT ? RS_UNCERTAIN : s));
	}
}

int campaign_summary_write(struct campaign *c, struct lb_err *err)
{
	struct source src;
	int rc = source_of(c->dir, &src, err);
	if (rc)
		return rc;
	if ((uint64_t)src.journal != c->jsize)
		return 0; /* the journal moved on (or back): not ours to describe */
	struct buf b = BUF_INIT;
	summary_text(c, &src, &b);
	char *path = path_join(c->dir, "summary");
	rc = fsx_write_atomic(path, b.p, b.n, 0600, err);
	free(path);
	buf_free(&b);
	struct fmap m;
	unsigned bits;
	char *ipath = path_join(c->dir, "index");
	struct lb_err ierr = {0};
	bool ok = fmap_open(ipath, true, &m, &ierr) == 0 &&
		  campaign_index_check(&m, (uint64_t)src.snap_size, c->n, &bits) == 0;
	fmap_close(&m);
	free(ipath);
	if (!rc && !ok)
		rc = campaign_index_write(c, err);
	return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* "word v1 v2 ...\n" at *p: the nv numbers into v, *p past the line. */
static bool take_ll(char **p, const char *word, long long *v, size_t nv)
{
	size_t n = strlen(word);
	if (strncmp(*p, word, n) != 0)
		return false;
	char *q = *p + n;
	for (size_t i = 0; i < nv; i++) {
		char *end;
		if (*q++ != ' ')
			return false;
		errno = 0;
		v[i] = strtoll(q, &end, 10);
		if (end == q || errno)
			return false;
		q = end;
	}
	if (*q != '\n')
		return false;
	*p = q + 1;
	return true;
}

/* Parse s->text (len bytes).  False when it is not a summary of src (when
 * src is not NULL). */
static bool parse(struct campaign_summary *s, size_t len, const struct source *src)
{
	char *p = s->text, *end = s->text + len;
	long long v[8];
	if (len < strlen(SUMMARY_HEAD) || memcmp(p, SUMMARY_HEAD, strlen(SUMMARY_HEAD)) != 0)
		return false;
	p += strlen(SUMMARY_HEAD);
	if (!take_ll(&p, "snapshot", v, 4) ||
	    (src && (v[0] != src->snap_size || v[1] != src->snap_ino || v[2] != src->snap_mtime ||
		     v[3] != src->snap_mtime_ns)))
		return false;
	if (!take_ll(&p, "journal", v, 1) || (src && v[0] != src->journal))
		return false;
	if (!take_ll(&p, "started", v, 1))
		return false;
	s->started = (time_t)v[0];
	if (!take_ll(&p, "finished", v, 2))
		return false;
	s->finished = v[0] != 0;
	s->finished_at = (time_t)v[1];
	if (!take_ll(&p, "counts", v, 8))
		return false;
	s->n = (size_t)v[0];
	s->k = (struct campaign_counts){(size_t)v[2],
					(size_t)v[3],
					(size_t)v[4],
					(size_t)v[5],
					(size_t)v[6],
					(size_t)v[7],
					(size_t)v[0] + (size_t)v[1]};
	size_t acap = 0, kcap = 0;
	while (p < end && (*p == 'A' || *p == 'K')) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || p[1] != '\t')
			return false;
		char kind = *p;
		char *cur = p + 2;
		if (kind == 'A') {
			char *e;
			struct cattn a = {0};
			a.idx = (size_t)strtoull(cur, &e, 10);
			a.state = (enum rcpt_state)strtol(e + 1, &e, 10);
			a.code = (int)strtol(e + 1, &e, 10);
			a.next_at = (time_t)strtoll(e + 1, &e, 10);
			if (*e != '\t' || a.state > RS_SKIPPED)
				return false;
			cur = e + 1;
			a.email = snap_take_field(&cur);
			const char *why = cur ? snap_take_field(&cur) : "";
			a.why = *why == '=' ? why + 1 : NULL;
			s->attn = xgrowarray(s->attn, &acap, s->nattn + 1, sizeof *s->attn);
			s->attn[s->nattn++] = a;
		} else {
			struct cskip k;
			k.email = snap_take_field(&cur);
			k.reason = cur ? snap_take_field(&cur) : "";
			s->skip = xgrowarray(s->skip, &kcap, s->nskip + 1, sizeof *s->skip);
			s->skip[s->nskip++] = k;
		}
		p = nl + 1;
	}
	if (!take_ll(&p, "states", v, 1) || (size_t)v[0] != s->n || (size_t)(end - p) != s->n)
		return false;
	s->st = (const unsigned char *)p;
	return true;
}

static void summary_reset(struct campaign_summary *s)
{
	free(s->attn);
	free(s->skip);
	s->attn = NULL;
	s->skip = NULL;
	s->nattn = s->nskip = 0;
}

/* From the snapshot and the journal: the summary, written for the next
 * reader (a failure to write costs that reader the same work, no more). */
static int rebuild(const struct config *cfg, struct campaign_summary *s, struct lb_err *err)
{
	struct campaign c;
	int rc = campaign_load(cfg, s->slug, &c, err);
	struct source src;
	if (!rc)
		rc = source_of(c.dir, &src, err);
	if (rc) {
		campaign_free(&c);
		return rc;
	}
	src.journal = (long long)c.jsize; /* what was read, even if it grew since */
	struct buf b = BUF_INIT;
	summary_text(&c, &src, &b);
	struct lb_err werr = {0};
	char *path = path_join(c.dir, "summary");
	if (fsx_write_atomic(path, b.p, b.n, 0600, &werr))
		log_warn("%s", werr.msg);
	free(path);
	size_t len = b.n;
	free(s->text);
	s->text = buf_take(&b);
	summary_reset(s);
	bool ok = parse(s, len, NULL);
	LB_ASSERT(ok); /* we just made it */
	(void)ok;
	/* the index is the snapshot's: still right when only the journal moved */
	struct fmap *m = &s->index;
	path = path_join(c.dir, "index");
	if (fmap_open(path, true, m, &werr) == 0 &&
	    campaign_index_check(m, c.snap.n, c.n, &s->ixbits) == 0)
		s->ix = (const uint64_t *)(const void *)(m->p + 32);
	free(path);
	if (!s->ix) {
		fmap_close(m);
		size_t n;
		s->ixbuf = campaign_index_build(&c, &n);
		s->ix = (const uint64_t *)(void *)(s->ixbuf + 32);
		s->ixbits = campaign_index_bits(c.n);
		path = path_join(c.dir, "index");
		if (fsx_write_atomic(path, s->ixbuf, n, 0600, &werr))
			log_warn("%s", werr.msg);
		free(path);
	}
	campaign_free(&c);
	return 0;
}

int campaign_summary(const struct config *cfg, const char *slug, struct campaign_summary *s,
		     struct lb_err *err)
{
	memset(s, 0, sizeof *s);
	s->index = (struct fmap){"", 0, 0};
	s->slug = xstrdup(slug);
	s->dir = campaign_dir(cfg, slug);
	struct source src;
	int rc = source_of(s->dir, &src, err);
	if (rc)
		return rc;
	char *path = path_join(s->dir, "summary");
	struct buf b = BUF_INIT;
	struct lb_err rerr = {0};
	bool fresh = fsx_read_state(path, &b, 0, &rerr) == 0;
	free(path);
	size_t len = b.n;
	s->text = buf_take(&b);
	fresh = fresh && parse(s, len, &src);
	char *ipath = path_join(s->dir, "index");
	if (fresh && fmap_open(ipath, true, &s->index, &rerr) == 0 &&
	    campaign_index_check(&s->index, (uint64_t)src.snap_size, s->n, &s->ixbits) == 0)
		s->ix = (const uint64_t *)(const void *)(s->index.p + 32);
	free(ipath);
	if (fresh && s->ix)
		return 0;
	fmap_close(&s->index);
	return rebuild(cfg, s, err);
}

void campaign_summary_free(struct campaign_summary *s)
{
	summary_reset(s);
	fmap_close(&s->index);
	free(s->ixbuf);
	free(s->text);
	free(s->slug);
	free(s->dir);
	memset(s, 0, sizeof *s);
}

bool campaign_sent_to(struct campaign_summary *s, const char *key)
{
	if (!s->ix || !s->n)
		return false;
	uint64_t low = ((uint64_t)1 << s->ixbits) - 1;
	uint64_t want = campaign_key_hash(key, strlen(key)) & ~low;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((s->ix[mid] & ~low) < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->n && (s->ix[lo] & ~low) == want; lo++) {
		size_t idx = (size_t)(s->ix[lo] & low);
		if (idx < s->n && s->st[idx] == RS_SENT)
			return true;
	}
	return false;
}

int campaign_each_pending(struct campaign_summary *s,
			  void (*fn)(void *ctx, size_t idx, const char *email), void *ctx,
			  struct lb_err *err)
{
	if (!s->k.pending)
		return 0;
	char *path = path_join(s->dir, "recipients");
	struct fmap m;
	int rc = fmap_open(path, true, &m, err);
	free(path);
	if (rc)
		return rc;
	struct crcpt r = {0};
	const char *p = m.p, *end = m.p + m.n;
	size_t idx = 0;
	for (const char *nl; idx < s->n && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		if (*p != 'R')
			continue;
		if (s->st[idx] == RS_PENDING) {
			snap_fill(&m, (uint64_t)(p - m.p), &r);
			fn(ctx, idx, r.email);
		}
		idx++;
		fmap_used(&m, (size_t)(nl + 1 - p));
	}
	crcpt_free(&r);
	fmap_close(&m);
	return 0;
}
