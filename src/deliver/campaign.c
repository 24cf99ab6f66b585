#include "deliver/campaign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/log.h"
#include "deliver/campaign_int.h"

char *campaign_dir(const struct config *cfg, const char *slug)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "campaigns/%s", slug);
	char *d = path_join(cfg->state_dir, b.p);
	buf_free(&b);
	return d;
}

bool campaign_exists(const struct config *cfg, const char *slug)
{
	char *d = campaign_dir(cfg, slug);
	char *p = path_join(d, "recipients");
	bool e = fsx_exists(p);
	free(p);
	free(d);
	return e;
}

const char *rcpt_state_name(enum rcpt_state s)
{
	static const char *const names[] = {"pending", "deferred", "in-flight", "uncertain",
					    "sent",    "failed",   "skipped"};
	return names[s];
}

time_t campaign_backoff(time_t deferred_at, unsigned k)
{
	unsigned shift = k > 10 ? 9 : k - 1;
	return deferred_at + (time_t)(15 * 60) * ((time_t)1 << shift);
}

/* ---- the snapshot's lines -------------------------------------------------------- */

/* Values are tab-separated; escape what would break a field or a line. */
void snap_put_field(struct buf *b, const char *s)
{
	buf_addc(b, '\t');
	for (; s && *s; s++) {
		if (*s == '\t')
			buf_adds(b, "\\t");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '\r')
			buf_adds(b, "\\r");
		else if (*s == '\\')
			buf_adds(b, "\\\\");
		else
			buf_addc(b, *s);
	}
}

char *snap_take_field(char **cursor)
{
	char *s = *cursor, *w = s, *r = s;
	while (*r && *r != '\t' && *r != '\n') {
		if (*r == '\\' && r[1]) {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
			r++;
		} else {
			*w++ = *r++;
		}
	}
	char end = *r;
	*w = '\0';
	*cursor = end == '\t' ? r + 1 : NULL;
	return s;
}

const char *snap_line(struct fmap *m, uint64_t off, size_t *len)
{
	LB_ASSERT(off <= m->n);
	const char *p = m->p + off;
	const char *nl = memchr(p, '\n', m->n - (size_t)off);
	*len = nl ? (size_t)(nl - p) : m->n - (size_t)off;
	fmap_used(m, *len + 1);
	return p;
}

/* Blocks of 256 lines share a 64-bit base; a line's offset is base + 32-bit
 * delta (a block would need lines of 16 MB on average to overflow it). */
#define OFF_BLOCK 256

void offtab_push(struct offtab *t, uint64_t off)
{
	if (t->n % OFF_BLOCK == 0) {
		size_t bcap = t->nbase;
		t->base = xrealloc(t->base, (bcap + 1) * sizeof *t->base);
		t->base[t->nbase++] = off;
	}
	t->delta = xgrowarray(t->delta, &t->cap, t->n + 1, sizeof *t->delta);
	uint64_t d = off - t->base[t->n / OFF_BLOCK];
	LB_ASSERT(d <= UINT32_MAX);
	t->delta[t->n++] = (uint32_t)d;
}

uint64_t offtab_get(const struct offtab *t, size_t i)
{
	return t->base[i / OFF_BLOCK] + t->delta[i];
}

void offtab_free(struct offtab *t)
{
	free(t->base);
	free(t->delta);
	memset(t, 0, sizeof *t);
}

void crcpt_free(struct crcpt *r)
{
	buf_free(&r->line);
	free(r->fields);
	memset(r, 0, sizeof *r);
}

void snap_fill(struct fmap *m, uint64_t off, struct crcpt *r)
{
	size_t n;
	const char *p = snap_line(m, off, &n);
	buf_reset(&r->line);
	buf_add(&r->line, p, n);
	buf_addc(&r->line, '\n');
	r->email = r->name = r->lists = r->reason = NULL;
	r->nfields = 0;
	char *cur = r->line.p + 1;
	if (*cur == '\t')
		cur++;
	else
		cur = NULL;
	char kind = r->line.p[0];
	r->email = cur ? snap_take_field(&cur) : "";
	if (kind == 'K') {
		r->reason = cur ? snap_take_field(&cur) : "";
		return;
	}
	char *name = cur ? snap_take_field(&cur) : NULL;
	r->name = name && *name ? name : NULL;
	r->lists = cur ? snap_take_field(&cur) : "";
	while (cur) {
		char *kv = snap_take_field(&cur);
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		r->fields = xgrowarray(r->fields, &r->fcap, r->nfields + 1, sizeof *r->fields);
		r->fields[r->nfields++] = (struct kv){kv, eq + 1};
	}
}

void campaign_rcpt(struct campaign *c, size_t i, struct crcpt *r)
{
	LB_ASSERT(i < c->n);
	snap_fill(&c->snap, offtab_get(&c->roff, i), r);
}

void campaign_skip(struct campaign *c, size_t j, struct crcpt *r)
{
	LB_ASSERT(j < c->nskip);
	snap_fill(&c->snap, offtab_get(&c->koff, j), r);
}

void campaign_states_init(struct campaign *c)
{
	free(c->st);
	c->st = xcalloc(c->n + 1, 1); /* RS_PENDING is 0 */
}

int campaign_scan_snapshot(struct campaign *c, const char *path, struct lb_err *err)
{
	const char *p = c->snap.p, *end = p + c->snap.n;
	if (c->snap.n < 21 || memcmp(p, "# letterbox campaign ", 21) != 0)
		return err_set(err, LB_EDATA, "%s: not a letterbox campaign snapshot", path);
	const char *nl = memchr(p, '\n', c->snap.n);
	if (!nl)
		return err_set(err, LB_EDATA, "%s: not a letterbox campaign snapshot", path);
	const char *st = memmem(p, (size_t)(nl - p), " started ", 9);
	c->started = st ? (time_t)strtoll(st + 9, NULL, 10) : 0;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* written atomically: cannot happen, but never read past */
		if (*p == 'R')
			offtab_push(&c->roff, (uint64_t)(p - c->snap.p));
		else if (*p == 'K')
			offtab_push(&c->koff, (uint64_t)(p - c->snap.p));
		fmap_used(&c->snap, (size_t)(nl + 1 - p));
	}
	c->n = c->roff.n;
	c->nskip = c->koff.n;
	campaign_states_init(c);
	return 0;
}

/* ---- per-recipient state and detail ------------------------------------------------ */

enum rcpt_state campaign_state(const struct campaign *c, size_t i)
{
	return (enum rcpt_state)c->st[i];
}

void campaign_set_state(struct campaign *c, size_t i, enum rcpt_state s)
{
	c->st[i] = (unsigned char)s;
}

static size_t dslot(const struct rdetail *v, size_t cap, uint32_t key)
{
	size_t mask = cap - 1, i = (key * 2654435761u) & mask;
	while (v[i].key && v[i].key != key)
		i = (i + 1) & mask;
	return i;
}

static struct rdetail *detail_get(const struct campaign *c, size_t idx)
{
	if (!c->dcap)
		return NULL;
	struct rdetail *d = &c->dv[dslot(c->dv, c->dcap, (uint32_t)idx + 1)];
	return d->key ? d : NULL;
}

static struct rdetail *detail_add(struct campaign *c, size_t idx)
{
	struct rdetail *d = detail_get(c, idx);
	if (d)
		return d;
	if ((c->dn + 1) * 2 > c->dcap) {
		size_t cap = c->dcap ? c->dcap * 2 : 64;
		struct rdetail *v = xcalloc(cap, sizeof *v);
		for (size_t i = 0; i < c->dcap; i++)
			if (c->dv[i].key)
				v[dslot(v, cap, c->dv[i].key)] = c->dv[i];
		free(c->dv);
		c->dv = v;
		c->dcap = cap;
	}
	d = &c->dv[dslot(c->dv, c->dcap, (uint32_t)idx + 1)];
	d->key = (uint32_t)idx + 1;
	c->dn++;
	return d;
}

void campaign_detail(const struct campaign *c, size_t i, struct rcpt_detail *out)
{
	memset(out, 0, sizeof *out);
	const struct rdetail *d = detail_get(c, i);
	if (!d)
		return;
	out->deferrals = d->deferrals;
	out->first_deferred = d->first_deferred;
	out->next_at = d->deferrals ? campaign_backoff(d->last_deferred, d->deferrals) : 0;
	out->code = d->code;
	out->why = d->why;
}

/* ---- the journal ------------------------------------------------------------------- */

/* "X idx time code status text": fields split at spaces, text is the rest. */
void campaign_apply(struct campaign *c, const char *line, size_t n)
{
	if (n < 3 || line[1] != ' ')
		return;
	char kind = line[0];
	const char *p = line + 2, *end = line + n;
	char *next;
	if (kind == 'E') {
		c->finished = true;
		c->finished_at = (time_t)strtoll(p, NULL, 10);
		return;
	}
	unsigned long long idx = strtoull(p, &next, 10);
	if (next == p || idx >= c->n)
		return;
	p = next;
	time_t t = (time_t)strtoll(p, &next, 10);
	p = next;
	int code = 0;
	const char *text = NULL;
	size_t tn = 0;
	if (kind == 'S' || kind == 'D' || kind == 'F') {
		code = (int)strtol(p, &next, 10);
		p = next;
		while (p < end && *p == ' ')
			p++;
		/* skip the enhanced status word, keep the text */
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
		text = p;
		tn = (size_t)(end - p);
	} else if (kind == 'K') {
		while (p < end && *p == ' ')
			p++;
		text = p;
		tn = (size_t)(end - p);
	}
	struct rdetail *d = detail_get(c, idx);
	enum rcpt_state s;
	switch (kind) {
	case 'A':
		s = RS_UNCERTAIN; /* until an outcome follows */
		break;
	case 'S':
		s = RS_SENT;
		break;
	case 'D':
		d = detail_add(c, idx);
		if (d->deferrals == 0)
			d->first_deferred = t;
		if (d->deferrals < UINT16_MAX)
			d->deferrals++;
		d->last_deferred = t;
		s = RS_DEFERRED;
		break;
	case 'F':
		s = RS_FAILED;
		break;
	case 'K':
		s = RS_SKIPPED;
		break;
	case 'N':
	case 'R':
		s = d && d->deferrals ? RS_DEFERRED : RS_PENDING;
		break;
	default:
		return;
	}
	c->st[idx] = (unsigned char)s;
	/* Reasons matter for those not sent; 100,000 "250 Ok" copies would not. */
	if (text && kind != 'S') {
		d = detail_add(c, idx);
		d->code = code; /* 0 when there was no reply (expired) */
		free(d->why);
		d->why = xstrndup(text, tn);
	} else if (text && d) {
		d->code = code;
	}
}

/* The time of the first "S idx time ..." line in text[0..n), complete lines
 * only; 0 when there is none. */
static time_t first_s(const char *text, size_t n, size_t *consumed)
{
	const char *p = text, *end = text + n;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (nl - p > 4 && p[0] == 'S' && p[1] == ' ') {
			char *next;
			strtoull(p + 2, &next, 10);
			long long t = strtoll(next, &next, 10);
			if (next < nl && *next == ' ' && t > 0)
				return *consumed = (size_t)(nl + 1 - text), (time_t)t;
		}
		p = nl + 1;
	}
	*consumed = (size_t)(p - text);
	return 0;
}

int campaign_first_sent(const struct config *cfg, const char *slug, time_t *when,
			struct lb_err *err)
{
	*when = 0;
	char *dir = campaign_dir(cfg, slug);
	char *path = path_join(dir, "journal");
	int fd = fsx_open_state(path, O_RDONLY, 0, err);
	int rc = 0;
	if (fd < 0) {
		rc = err->code == LB_ENOINPUT ? 0 : err->code; /* no journal: never sent */
		goto out;
	}
	/* The S records follow the first batch of A records: the first read
	 * nearly always finds one.  A line cut at the buffer's end is kept for
	 * the next read. */
	char buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof buf - have);
		if (got < 0) {
			rc = err_sys(err, LB_EIO, "%s", path);
			break;
		}
		if (got == 0)
			break; /* the end, or a torn last line: not an S we can trust */
		have += (size_t)got;
		size_t used;
		if ((*when = first_s(buf, have, &used)) != 0)
			break;
		if (used == 0 && have == sizeof buf)
			used = have; /* a line longer than the buffer: not a record of ours */
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	close(fd);
out:
	free(path);
	free(dir);
	return rc;
}

/* The journal, a block at a time: memory holds a block, not the file.
 * A torn last line is left out (journal_open cuts it before appending). */
static int replay(struct campaign *c, const char *path, struct lb_err *err)
{
	int fd = fsx_open_state(path, O_RDONLY, 0, err);
	if (fd < 0)
		return err->code == LB_ENOINPUT ? 0 : err->code; /* no journal yet */
	size_t cap = 1 << 20, have = 0;
	char *b = xmalloc(cap);
	int rc = 0;
	for (;;) {
		ssize_t got = read(fd, b + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_sys(err, LB_EIO, "%s", path);
			break;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		const char *p = b, *end = b + have;
		for (const char *nl; (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
			campaign_apply(c, p, (size_t)(nl - p));
		c->jsize += (uint64_t)(p - b);
		have = (size_t)(end - p);
		memmove(b, p, have);
		if (have == cap) /* a line longer than a block: not one of ours */
			b = xrealloc(b, cap *= 2);
	}
	free(b);
	close(fd);
	return rc;
}

int campaign_load(const struct config *cfg, const char *slug, struct campaign *c,
		  struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	c->snap = (struct fmap){"", 0, 0};
	c->slug = xstrdup(slug);
	c->dir = campaign_dir(cfg, slug);
	char *snap = path_join(c->dir, "recipients");
	char *jpath = path_join(c->dir, "journal");
	int rc = fmap_open(snap, true, &c->snap, err);
	if (!rc)
		rc = campaign_scan_snapshot(c, snap, err);
	if (!rc)
		rc = replay(c, jpath, err);
	free(snap);
	free(jpath);
	return rc;
}

bool campaign_finished_fast(const struct config *cfg, const char *slug)
{
	char *dir = campaign_dir(cfg, slug);
	char *path = path_join(dir, "journal");
	struct lb_err err = {0};
	int fd = fsx_open_state(path, O_RDONLY, 0, &err);
	free(path);
	free(dir);
	if (fd < 0)
		return false;
	struct stat st;
	char tail[256];
	bool done = false;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		off_t from = st.st_size > (off_t)sizeof tail ? st.st_size - (off_t)sizeof tail : 0;
		ssize_t got = pread(fd, tail, (size_t)(st.st_size - from), from);
		/* the last complete line: "E time\n" */
		if (got > 1 && tail[got - 1] == '\n') {
			ssize_t i = got - 1;
			while (i > 0 && tail[i - 1] != '\n')
				i--;
			done = (i > 0 || from == 0) && got - i > 2 && tail[i] == 'E' &&
			       tail[i + 1] == ' ';
		}
	}
	close(fd);
	return done;
}

void campaign_free(struct campaign *c)
{
	for (size_t i = 0; i < c->dcap; i++)
		free(c->dv[i].why);
	free(c->dv);
	free(c->st);
	offtab_free(&c->roff);
	offtab_free(&c->koff);
	fmap_close(&c->snap);
	free(c->slug);
	free(c->dir);
	memset(c, 0, sizeof *c);
	c->snap = (struct fmap){"", 0, 0};
}

void campaign_count(const struct campaign *c, struct campaign_counts *k)
{
	memset(k, 0, sizeof *k);
	size_t by[8] = {0};
	for (size_t i = 0; i < c->n; i++)
		by[c->st[i] & 7]++;
	k->sent = by[RS_SENT];
	k->deferred = by[RS_DEFERRED];
	k->failed = by[RS_FAILED];
	k->uncertain = by[RS_UNCERTAIN] + by[RS_INFLIGHT];
	k->pending = by[RS_PENDING];
	k->skipped = by[RS_SKIPPED] + c->nskip;
	k->total = c->n + c->nskip;
}
