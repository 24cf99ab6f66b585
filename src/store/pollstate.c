#include "store/pollstate.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strset.h"
#include "core/timefmt.h"
#include "store/inquiries.h"

/* An inquiry filed before keys had digests: where its message is stored, and
 * the key of that message once a message with its Message-ID came by. */
struct stored {
	unsigned number;
	long long off;
	size_t len;
	size_t next; /* the next one with that Message-ID (index + 1), or 0 */
	bool read;   /* key computed (NULL: the message could not be read) */
	char *key;
};

struct pollstate {
	char *state_dir, *dir;
	char *seen_path, *cursor_path, *soft_path;
	struct strset seen;	   /* key -> kind (| REMEMBERED) */
	struct strset legacy_refs; /* "mid:ID<TAB>ref" of a record before digests -> kind */
	struct strset legacy_inq;  /* "mid:ID" -> first of its stored (index + 1) */
	struct stored *stored;
	size_t nstored, storedcap;
	pollstate_key_fn key_of; /* the key of a stored message, see pollstate_remember_inquiry */
	void *key_ctx;
	struct buf pending; /* seen records not yet written */
	struct cursor cur;
	/* soft bounces, loaded when the first one is recorded */
	struct soft {
		time_t when;
		char *akey, *key;
	} * soft;
	size_t nsoft, softcap;
	bool soft_loaded;
	time_t stamp_at; /* pollstate_mark formats its time once a second */
	char stamp[32];
};

static void hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf_addc(b, d[p[i] >> 4]);
		buf_addc(b, d[p[i] & 15]);
	}
}

/* Hash what the person sent into h: the fields below, each tagged, then the
 * body with CRLF read as LF and trailing white space dropped (a relay may add
 * a line end or a CR; the person's words are the same). */
static void sent_digest(const struct sent *s, unsigned char h[32])
{
	gnutls_hash_hd_t d;
	if (gnutls_hash_init(&d, GNUTLS_DIG_SHA256) < 0)
		abort();
	const char *const tags[] = {"from", "date", "subject"};
	const char *const vals[] = {s->from, s->date, s->subject};
	for (size_t i = 0; i < 3; i++) {
		gnutls_hash(d, tags[i], strlen(tags[i]) + 1);
		if (vals[i])
			gnutls_hash(d, vals[i], strlen(vals[i]) + 1);
		else
			gnutls_hash(d, "", 1);
	}
	const char *p = s->body ? s->body : "", *end = p + (s->body ? s->body_n : 0);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr) {
			gnutls_hash(d, p, (size_t)(end - p));
			break;
		}
		bool crlf = cr + 1 < end && cr[1] == '\n';
		gnutls_hash(d, p, (size_t)(cr - p) + !crlf);
		p = cr + 1;
	}
	gnutls_hash_deinit(d, h);
}

char *pollstate_key(const char *message_id, const struct sent *s, const char *raw, size_t n)
{
	struct buf b = BUF_INIT;
	unsigned char h[32];
	if (message_id && *message_id) {
		buf_adds(&b, "mid:");
		/* tabs or line breaks would break the record format, and a space
		 * separates the digest */
		for (const char *p = message_id; *p; p++)
			buf_addc(&b, (unsigned char)*p <= ' ' ? '_' : *p);
		if (s) {
			sent_digest(s, h);
			buf_addc(&b, ' ');
			hex(&b, h, KEY_DIGEST_BYTES);
		}
	} else {
		gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, n, h);
		buf_adds(&b, "sha:");
		hex(&b, h, sizeof h);
	}
	return buf_take(&b);
}

/* Kinds are few: seen keys point at one copy of each name. */
static const char *const kinds[] = {"inquiry",	  "bounce",    "complaint", "unsubscribe",
				    "auto-reply", "subscribe", NULL};

static void *kind_ref(const char *kind)
{
	for (size_t i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], kind) == 0)
			return (void *)(uintptr_t)(i + 1);
	return NULL;
}

/* Keys known only from elsewhere (pollstate_remember_inquiry) carry this bit. */
#define REMEMBERED   0x100
#define KIND_BITS    0xff
#define KIND_INQUIRY 1 /* kind_ref("inquiry") */

/* The key a record from before digests had for key ("mid:ID" for
 * "mid:ID DIGEST"), or NULL; caller frees. */
static char *legacy_key(const char *key)
{
	if (strncmp(key, "mid:", 4) != 0)
		return NULL;
	const char *sp = strrchr(key, ' ');
	return sp ? xstrndup(key, (size_t)(sp - key)) : NULL;
}

/* The key of stored inquiry message s, read and computed once. */
static const char *stored_key(struct pollstate *ps, struct stored *s)
{
	if (s->read)
		return s->key;
	s->read = true;
	struct inquiry q = {.number = s->number, .msg_off = s->off, .msg_len = s->len};
	struct buf raw = BUF_INIT;
	struct lb_err err = {0};
	if (inquiry_message(ps->state_dir, &q, &raw, &err) == 0)
		s->key = ps->key_of(ps->key_ctx, buf_cstr(&raw), raw.n);
	else
		log_warn("inquiry %u: its message cannot be read to compare a message with its "
			 "Message-ID (%s): that message is filed as new",
			 s->number, err.msg);
	buf_free(&raw);
	return s->key;
}

/* Look key (of a message fetched as ref) up: its own entry, or else a record
 * from before digests that provably stands for this message (pollstate_key). */
static bool lookup(struct pollstate *ps, const char *key, const char *ref, uintptr_t *val)
{
	bool found;
	*val = (uintptr_t)strset_get(&ps->seen, key, &found);
	if (found)
		return true;
	char *lk = legacy_key(key);
	if (!lk)
		return false;
	/* an inquiry: the message stored with it is this one */
	for (uintptr_t i = (uintptr_t)strset_get(&ps->legacy_inq, lk, NULL); i && !found;
	     i = ps->stored[i - 1].next) {
		const char *k = stored_key(ps, &ps->stored[i - 1]);
		found = k && strcmp(k, key) == 0;
		*val = KIND_INQUIRY | REMEMBERED;
	}
	/* other kinds (idempotent effects): this message was fetched under the
	 * record's ref.  A Message-ID alone proves nothing. */
	if (!found && ref && *ref) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s\t%s", lk, ref);
		*val = (uintptr_t)strset_get(&ps->legacy_refs, b.p, &found);
		found = found && (*val & KIND_BITS) != KIND_INQUIRY;
		buf_free(&b);
	}
	free(lk);
	return found;
}

const char *pollstate_seen_kind(struct pollstate *ps, const char *key, const char *ref)
{
	uintptr_t k = 0;
	if (!lookup(ps, key, ref, &k))
		return NULL;
	k &= KIND_BITS;
	return k ? kinds[k - 1] : NULL;
}

bool pollstate_logged(const struct pollstate *ps, const char *key)
{
	bool found;
	uintptr_t k = (uintptr_t)strset_get(&ps->seen, key, &found);
	return found && !(k & REMEMBERED);
}

/* Both logs are tab-separated records, one a line, a torn last line ignored:
 * call fn with each complete record's fields (missing ones are ""). */
typedef void (*record_fn)(struct pollstate *ps, char *const f[3]);

static int read_records(struct pollstate *ps, const char *path, record_fn fn, struct lb_err *err)
{
	struct buf text = BUF_INIT;
	/* A log not there yet is empty; one we cannot read is an error: taken
	 * for empty, every message would be filed again. */
	int rc = fsx_read_state(path, &text, 0, err);
	if (rc == LB_ENOINPUT)
		rc = 0;
	else if (rc == 0) {
		char *p = text.p, *end = text.p + text.n;
		char *nl;
		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = '\0';
			char *f[3] = {p, nl, nl};
			for (int i = 1; i < 3; i++) {
				char *tab = strchr(f[i - 1], '\t');
				if (!tab)
					break;
				*tab = '\0';
				f[i] = tab + 1;
			}
			fn(ps, f);
			p = nl + 1;
		}
	}
	buf_free(&text);
	return rc;
}

/* key TAB kind TAB when TAB ref: the latest record of a key wins.  The ref
 * of a record from before digests is kept (see lookup). */
static void seen_record(struct pollstate *ps, char *const f[3])
{
	void *kind = kind_ref(f[1]);
	if (!strset_add_copy(&ps->seen, f[0], kind, NULL))
		strset_set(&ps->seen, f[0], kind);
	const char *ref = strchr(f[2], '\t');
	if (strncmp(f[0], "mid:", 4) == 0 && !strchr(f[0], ' ') && ref && ref[1]) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s\t%s", f[0], ref + 1);
		if (!strset_add_copy(&ps->legacy_refs, b.p, kind, NULL))
			strset_set(&ps->legacy_refs, b.p, kind);
		buf_free(&b);
	}
}

static int load_seen(struct pollstate *ps, struct lb_err *err)
{
	return read_records(ps, ps->seen_path, seen_record, err);
}

/* dir/cursor.HASH for a mailbox's URL. */
static char *cursor_path(const char *dir, const char *url)
{
	unsigned char h[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, url, strlen(url), h);
	struct buf name = BUF_INIT;
	buf_adds(&name, "cursor.");
	hex(&name, h, 8);
	char *path = path_join(dir, name.p);
	buf_free(&name);
	return path;
}

static void parse_cursor(const char *text, struct cursor *c)
{
	char *end;
	c->uidvalidity = (uint32_t)strtoul(text, &end, 10);
	c->last_uid = (uint32_t)strtoul(end, NULL, 10);
}

int pollstate_open(const char *state_dir, const char *source_url, struct pollstate **out,
		   struct lb_err *err)
{
	struct pollstate *ps = xcalloc(1, sizeof *ps);
	ps->state_dir = xstrdup(state_dir);
	ps->dir = path_join(state_dir, "poll");
	ps->seen_path = path_join(ps->dir, "seen");
	ps->soft_path = path_join(ps->dir, "soft-bounces");
	ps->cursor_path = cursor_path(ps->dir, source_url);
	int rc = fsx_mkdirs(ps->dir, 0700, err);
	if (rc) {
		struct lb_err ignore;
		pollstate_close(ps, &ignore);
		return rc;
	}
	struct buf text = BUF_INIT;
	rc = load_seen(ps, err);
	if (!rc && (rc = fsx_read_state(ps->cursor_path, &text, 256, err)) == 0) {
		parse_cursor(buf_cstr(&text), &ps->cur);
	}
	buf_free(&text);
	if (rc && rc != LB_ENOINPUT) {
		struct lb_err ignore;
		pollstate_close(ps, &ignore);
		return rc;
	}
	*out = ps;
	return 0;
}

bool pollstate_seen(struct pollstate *ps, const char *key, const char *ref)
{
	uintptr_t v;
	return lookup(ps, key, ref, &v);
}

void pollstate_remember_key(struct pollstate *ps, const char *key)
{
	strset_add_copy(&ps->seen, key, (void *)(uintptr_t)(KIND_INQUIRY | REMEMBERED), NULL);
}

void pollstate_remember_inquiry(struct pollstate *ps, const struct inquiry *q,
				pollstate_key_fn key_of, void *ctx)
{
	if (q->key) {
		pollstate_remember_key(ps, q->key);
		return;
	}
	if (!q->message_id)
		return;
	ps->key_of = key_of;
	ps->key_ctx = ctx;
	ps->stored = xgrowarray(ps->stored, &ps->storedcap, ps->nstored + 1, sizeof *ps->stored);
	ps->stored[ps->nstored++] =
	    (struct stored){q->number, q->msg_off, q->msg_len, 0, false, NULL};
	char *lk = pollstate_key(q->message_id, NULL, NULL, 0);
	void *first;
	if (!strset_add_copy(&ps->legacy_inq, lk, (void *)(uintptr_t)ps->nstored, &first)) {
		ps->stored[ps->nstored - 1].next = (uintptr_t)first;
		strset_set(&ps->legacy_inq, lk, (void *)(uintptr_t)ps->nstored);
	}
	free(lk);
}

static void field(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_addc(b, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
}

static void append_record(struct pollstate *ps, const char *key, const char *kind, time_t when,
			  const char *ref)
{
	field(&ps->pending, key);
	buf_addc(&ps->pending, '\t');
	field(&ps->pending, kind);
	buf_addc(&ps->pending, '\t');
	if (when != ps->stamp_at || !ps->stamp[0]) {
		struct buf t = BUF_INIT;
		time_iso(&t, when);
		size_t n = t.n < sizeof ps->stamp - 1 ? t.n : sizeof ps->stamp - 1;
		memcpy(ps->stamp, buf_cstr(&t), n);
		ps->stamp[n] = '\0';
		ps->stamp_at = when;
		buf_free(&t);
	}
	buf_adds(&ps->pending, ps->stamp);
	buf_addc(&ps->pending, '\t');
	field(&ps->pending, ref);
	buf_addc(&ps->pending, '\n');
}

void pollstate_mark(struct pollstate *ps, const char *key, const char *kind, time_t when,
		    const char *ref)
{
	append_record(ps, key, kind, when, ref);
	if (!strset_add_copy(&ps->seen, key, kind_ref(kind), NULL))
		strset_set(&ps->seen, key, kind_ref(kind));
}

/* Append data to path and fsync; a new file's directory entry is synced too. */
static int append_sync(const char *path, const char *dir, const char *data, size_t n,
		       struct lb_err *err)
{
	bool existed = fsx_exists(path);
	int fd = fsx_open_state(path, O_WRONLY | O_APPEND | O_CREAT, 0600, err);
	if (fd < 0)
		return err->code;
	int rc = 0;
	while (n && !rc) {
		ssize_t w = write(fd, data, n);
		if (w < 0 && errno != EINTR)
			rc = err_sys(err, LB_EIO, "%s", path);
		else if (w > 0) {
			data += w;
			n -= (size_t)w;
		}
	}
	if (!rc && fsx_fsync(fd) < 0)
		rc = err_sys(err, LB_EIO, "fsync %s", path);
	close(fd);
	if (!rc && !existed)
		rc = fsx_sync_dir(dir, err);
	return rc;
}

int pollstate_sync(struct pollstate *ps, struct lb_err *err)
{
	if (!ps->pending.n)
		return 0;
	int rc = append_sync(ps->seen_path, ps->dir, ps->pending.p, ps->pending.n, err);
	if (!rc)
		buf_reset(&ps->pending);
	return rc;
}

struct cursor pollstate_cursor(const struct pollstate *ps)
{
	return ps->cur;
}

int pollstate_set_cursor(struct pollstate *ps, struct cursor c, struct lb_err *err)
{
	if (c.uidvalidity == ps->cur.uidvalidity && c.last_uid == ps->cur.last_uid)
		return 0;
	struct buf b = BUF_INIT;
	buf_printf(&b, "%u %u\n", c.uidvalidity, c.last_uid);
	int rc = fsx_write_atomic(ps->cursor_path, b.p, b.n, 0600, err);
	buf_free(&b);
	if (!rc)
		ps->cur = c;
	return rc;
}

int pollstate_cursor_of(const struct pollstate *ps, const char *url, struct cursor *c,
			struct lb_err *err)
{
	*c = (struct cursor){0};
	char *path = cursor_path(ps->dir, url);
	struct buf text = BUF_INIT;
	int rc = fsx_read_state(path, &text, 256, err);
	if (!rc)
		parse_cursor(buf_cstr(&text), c);
	else if (rc == LB_ENOINPUT)
		rc = 0;
	buf_free(&text);
	free(path);
	return rc;
}

int pollstate_set_cursor_of(struct pollstate *ps, const char *url, struct cursor c,
			    struct lb_err *err)
{
	char *path = cursor_path(ps->dir, url);
	struct buf b = BUF_INIT;
	buf_printf(&b, "%u %u\n", c.uidvalidity, c.last_uid);
	int rc = fsx_write_atomic(path, b.p, b.n, 0600, err);
	buf_free(&b);
	free(path);
	return rc;
}

static void soft_add(struct pollstate *ps, time_t when, const char *akey, const char *key)
{
	ps->soft = xgrowarray(ps->soft, &ps->softcap, ps->nsoft + 1, sizeof *ps->soft);
	ps->soft[ps->nsoft++] = (struct soft){when, xstrdup(akey), xstrdup(key)};
}

/* when TAB address-key TAB message-key */
static void soft_record(struct pollstate *ps, char *const f[3])
{
	time_t at = 0;
	time_parse(span_cstr(f[0]), &at);
	if (*f[2])
		soft_add(ps, at, f[1], f[2]);
}

static int soft_load(struct pollstate *ps, struct lb_err *err)
{
	int rc = read_records(ps, ps->soft_path, soft_record, err);
	ps->soft_loaded = rc == 0;
	return rc;
}

int pollstate_soft_bounce(struct pollstate *ps, const char *address, const char *key, time_t when,
			  long window, size_t *count, struct lb_err *err)
{
	*count = 0;
	int rc = ps->soft_loaded ? 0 : soft_load(ps, err);
	if (rc)
		return rc;
	char *akey = addr_key(address);
	bool dup = false;
	for (size_t i = 0; i < ps->nsoft; i++) {
		const struct soft *b = &ps->soft[i];
		if (strcmp(b->akey, akey) != 0)
			continue;
		if (strcmp(b->key, key) == 0)
			dup = true; /* the same bounce again (a re-poll): counted once */
		else if (b->when > when - window && b->when <= when)
			(*count)++;
	}
	if (!dup) {
		struct buf line = BUF_INIT;
		time_iso(&line, when);
		buf_addc(&line, '\t');
		field(&line, akey);
		buf_addc(&line, '\t');
		field(&line, key);
		buf_addc(&line, '\n');
		rc = append_sync(ps->soft_path, ps->dir, line.p, line.n, err);
		buf_free(&line);
		if (!rc)
			soft_add(ps, when, akey, key);
	}
	(*count)++; /* this one */
	free(akey);
	return rc;
}

int pollstate_close(struct pollstate *ps, struct lb_err *err)
{
	if (!ps)
		return 0;
	int rc = pollstate_sync(ps, err);
	strset_free(&ps->seen);
	strset_free(&ps->legacy_refs);
	strset_free(&ps->legacy_inq);
	for (size_t i = 0; i < ps->nstored; i++)
		free(ps->stored[i].key);
	free(ps->stored);
	buf_free(&ps->pending);
	for (size_t i = 0; i < ps->nsoft; i++) {
		free(ps->soft[i].akey);
		free(ps->soft[i].key);
	}
	free(ps->soft);
	free(ps->state_dir);
	free(ps->dir);
	free(ps->seen_path);
	free(ps->cursor_path);
	free(ps->soft_path);
	free(ps);
	return rc;
}
