#include "deliver/campaign.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/strset.h"

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

static const char *own(struct campaign *c, const char *s, size_t n)
{
	c->owned = xgrowarray(c->owned, &c->ownedcap, c->nowned + 1, sizeof *c->owned);
	return c->owned[c->nowned++] = xstrndup(s, n);
}

/* ---- the snapshot ------------------------------------------------------------------- */

/* Values are tab-separated; escape what would break a field or a line. */
static void put_field(struct buf *b, const char *s)
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

/* Unescape a field in place; returns its end. */
static char *take_field(char **cursor)
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
	*cursor = end ? r + 1 : r;
	if (end == '\n')
		*cursor = NULL; /* end of the line */
	return s;
}

static void add_rcpt(struct campaign *c, size_t *cap, const char *email, const char *name,
		     const char *lists)
{
	c->r = xgrowarray(c->r, cap, c->n + 1, sizeof *c->r);
	struct crcpt *r = &c->r[c->n++];
	memset(r, 0, sizeof *r);
	r->email = email;
	r->name = name && *name ? name : NULL;
	r->lists = lists;
}

static void add_skip(struct campaign *c, size_t *cap, const char *email, const char *reason)
{
	c->skip = xgrowarray(c->skip, cap, c->nskip + 1, sizeof *c->skip);
	c->skip[c->nskip++] = (struct cskip){email, reason};
}

/* Building a snapshot: entries are streamed from the list files straight into
 * the snapshot's text, so memory holds one copy of the recipients, whatever
 * the size of the lists. */
struct collect {
	struct buf *out;
	const char *list_id;
	const struct suppressions *sup;
	struct strset seen;
	void (*report)(void *ctx, const char *msg);
	void *ctx;
};

static void collect_invalid(void *ctx, const char *email, const char *msg)
{
	struct collect *k = ctx;
	if (k->report)
		k->report(k->ctx, msg);
	struct buf r = BUF_INIT;
	buf_printf(&r, "invalid: %s", msg);
	buf_addc(k->out, 'K');
	/* the address as written, so that the skip names whom it is about */
	put_field(k->out, email && *email ? email : "(no address)");
	put_field(k->out, r.p);
	buf_addc(k->out, '\n');
	buf_free(&r);
}

static int collect_entry(void *ctx, const struct subscriber *s)
{
	struct collect *k = ctx;
	/* Lists in id order, entries in file order: the first occurrence of an
	 * address wins, whatever its case. */
	if (!strset_add_copy(&k->seen, s->key, NULL, NULL))
		return 0;
	enum sup_reason why = suppressions_check(k->sup, s->email);
	if (why != SUP_NONE) {
		struct buf r = BUF_INIT;
		buf_printf(&r, "suppressed: %s", sup_reason_name(why));
		buf_addc(k->out, 'K');
		put_field(k->out, s->email);
		put_field(k->out, r.p);
		buf_addc(k->out, '\n');
		buf_free(&r);
		return 0;
	}
	buf_addc(k->out, 'R');
	put_field(k->out, s->email);
	put_field(k->out, s->name);
	put_field(k->out, k->list_id);
	for (size_t f = 0; f < s->nfields; f++) {
		struct buf kv = BUF_INIT;
		buf_printf(&kv, "%s=%s", s->fields[f].key, s->fields[f].value);
		put_field(k->out, kv.p);
		buf_free(&kv);
	}
	buf_addc(k->out, '\n');
	return 0;
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

static int parse_snapshot(struct campaign *c, const char *path, struct lb_err *err);

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

int campaign_recipients(const struct config *cfg, const struct article *a,
			const struct suppressions *sup, time_t now, bool create, struct campaign *c,
			void (*report)(void *ctx, const char *msg), void *ctx, struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	c->slug = xstrdup(a->slug);
	c->dir = campaign_dir(cfg, a->slug);
	char **paths = sublist_paths(cfg->site_dir);
	int rc = campaign_check_lists(cfg, a, err);
	struct buf *out = &c->snapshot_text;
	buf_printf(out, "# letterbox campaign %s started %lld\n", c->slug, (long long)now);
	struct collect k = {out, NULL, sup, STRSET_INIT, report, ctx};
	for (char **p = paths; *p && !rc; p++) {
		char *id = sublist_id(*p);
		if (list_wanted(a, id)) {
			k.list_id = id;
			rc = sublist_stream_file(*p, NULL, NULL, collect_entry, collect_invalid, &k,
						 NULL, err);
		}
		free(id);
	}
	strset_free(&k.seen);
	fsx_list_free(paths);
	char *snap = path_join(c->dir, "recipients");
	/* Written before it is parsed: parsing unescapes the text in place. */
	if (!rc && create && !(rc = fsx_mkdirs(c->dir, 0700, err)))
		rc = fsx_write_atomic(snap, c->snapshot_text.p, c->snapshot_text.n, 0600, err);
	if (!rc)
		rc = parse_snapshot(c, snap, err);
	free(snap);
	return rc;
}

static int parse_snapshot(struct campaign *c, const char *path, struct lb_err *err)
{
	char *p = c->snapshot_text.p;
	size_t rcap = 0, scap = 0;
	if (!p || strncmp(p, "# letterbox campaign ", 21) != 0)
		return err_set(err, LB_EDATA, "%s: not a letterbox campaign snapshot", path);
	const char *st = strstr(p, " started ");
	c->started = st ? (time_t)strtoll(st + 9, NULL, 10) : 0;
	p = strchr(p, '\n');
	while (p && *++p) {
		char kind = *p;
		char *cur = p + 1;
		char *end = strchr(p, '\n');
		if (!end)
			break; /* written atomically: cannot happen, but never read past */
		if (*cur == '\t')
			cur++;
		if (kind == 'R') {
			char *email = take_field(&cur);
			char *name = cur ? take_field(&cur) : NULL;
			char *lists = cur ? take_field(&cur) : NULL;
			add_rcpt(c, &rcap, email, name, lists ? lists : "");
			struct crcpt *r = &c->r[c->n - 1];
			size_t fcap = 0;
			while (cur) {
				char *kv = take_field(&cur);
				char *eq = strchr(kv, '=');
				if (!eq)
					continue;
				*eq = '\0';
				r->fields =
				    xgrowarray(r->fields, &fcap, r->nfields + 1, sizeof *r->fields);
				r->fields[r->nfields++] = (struct kv){kv, eq + 1};
			}
		} else if (kind == 'K') {
			char *email = take_field(&cur);
			const char *reason = cur ? take_field(&cur) : "";
			add_skip(c, &scap, email, reason);
		}
		p = end;
	}
	return 0;
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
	struct crcpt *r = &c->r[idx];
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
	switch (kind) {
	case 'A':
		r->state = RS_UNCERTAIN; /* until an outcome follows */
		break;
	case 'S':
		r->state = RS_SENT;
		break;
	case 'D':
		if (r->deferrals == 0)
			r->first_deferred = t;
		r->deferrals++;
		r->state = RS_DEFERRED;
		r->next_at = campaign_backoff(t, r->deferrals);
		break;
	case 'F':
		r->state = RS_FAILED;
		break;
	case 'K':
		r->state = RS_SKIPPED;
		break;
	case 'N':
	case 'R':
		r->state = r->deferrals ? RS_DEFERRED : RS_PENDING;
		break;
	default:
		return;
	}
	if (text) /* an outcome: its code, 0 when there was no reply (expired) */
		r->code = code;
	/* Reasons matter for those not sent; 100,000 "250 Ok" copies would not. */
	if (text && kind != 'S')
		r->why = own(c, text, tn);
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

static void replay(struct campaign *c)
{
	const char *p = c->journal_text.p, *end = p + c->journal_text.n;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn last line */
		campaign_apply(c, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

int campaign_load(const struct config *cfg, const char *slug, struct campaign *c,
		  struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	c->slug = xstrdup(slug);
	c->dir = campaign_dir(cfg, slug);
	char *snap = path_join(c->dir, "recipients");
	char *jpath = path_join(c->dir, "journal");
	int rc = fsx_read_state(snap, &c->snapshot_text, 0, err);
	if (!rc)
		rc = parse_snapshot(c, snap, err);
	if (!rc && fsx_exists(jpath)) {
		rc = fsx_read_state(jpath, &c->journal_text, 0, err);
		if (!rc)
			replay(c);
	}
	free(snap);
	free(jpath);
	return rc;
}

void campaign_free(struct campaign *c)
{
	/* The strings live in the snapshot text or in `owned`; only the arrays are ours. */
	for (size_t i = 0; i < c->n; i++)
		free(c->r[i].fields);
	free(c->r);
	free(c->skip);
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	buf_free(&c->snapshot_text);
	buf_free(&c->journal_text);
	free(c->slug);
	free(c->dir);
	memset(c, 0, sizeof *c);
}

void campaign_count(const struct campaign *c, struct campaign_counts *k)
{
	memset(k, 0, sizeof *k);
	for (size_t i = 0; i < c->n; i++) {
		switch (c->r[i].state) {
		case RS_SENT:
			k->sent++;
			break;
		case RS_DEFERRED:
			k->deferred++;
			break;
		case RS_FAILED:
			k->failed++;
			break;
		case RS_UNCERTAIN:
		case RS_INFLIGHT:
			k->uncertain++;
			break;
		case RS_PENDING:
			k->pending++;
			break;
		case RS_SKIPPED:
			k->skipped++;
			break;
		}
	}
	k->skipped += c->nskip;
	k->total = c->n + c->nskip;
}
