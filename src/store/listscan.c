/* The fast reader of subscriber lists (store/listscan.h).  Every rule here
 * errs towards LISTSCAN_OTHER: a line it is not sure of is libyaml's. */
#include "store/listscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/mem.h"
#include "core/fsx.h"
#include "core/utf8.h"
#include "store/subscribers.h"

#define OTHER	 LISTSCAN_OTHER
#define CHUNK	 (1u << 20)
#define MAX_LINE (16u << 20) /* a longer line is not a list we scan */

/* Lines from a file descriptor through one buffer, or from memory. */
struct src {
	int fd; /* -1: mem */
	const char *mem;
	size_t memlen;
	char *b;
	size_t cap, pos, len;
	uint64_t base; /* file offset of b[0] */
	bool eof;
	const char *path;
	struct lb_err *err;
};

/* The next line: p[0..n) without its '\n', off where it starts, nl whether
 * a '\n' ends it.  1, 0 at the end, or an error.  p is valid until the next
 * call. */
static int src_line(struct src *s, const char **p, size_t *n, uint64_t *off, bool *nl)
{
	if (s->fd < 0) {
		if (s->pos >= s->memlen)
			return 0;
		const char *start = s->mem + s->pos, *e = memchr(start, '\n', s->memlen - s->pos);
		*p = start;
		*off = s->pos;
		*n = e ? (size_t)(e - start) : s->memlen - s->pos;
		*nl = e != NULL;
		s->pos += *n + (e ? 1 : 0);
		return 1;
	}
	for (;;) {
		char *e = s->pos < s->len ? memchr(s->b + s->pos, '\n', s->len - s->pos) : NULL;
		if (e || (s->eof && s->pos < s->len)) {
			*p = s->b + s->pos;
			*off = s->base + s->pos;
			*n = e ? (size_t)(e - *p) : s->len - s->pos;
			*nl = e != NULL;
			s->pos += *n + (e ? 1 : 0);
			return 1;
		}
		if (s->eof)
			return 0;
		if (s->pos) {
			memmove(s->b, s->b + s->pos, s->len - s->pos);
			s->base += s->pos;
			s->len -= s->pos;
			s->pos = 0;
		}
		if (s->len == s->cap) {
			if (s->cap >= MAX_LINE)
				return OTHER;
			s->cap = s->cap ? s->cap * 2 : CHUNK;
			s->b = xrealloc(s->b, s->cap);
		}
		ssize_t r = read(s->fd, s->b + s->len, s->cap - s->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(s->err, LB_EIO, "%s", s->path);
		if (r == 0)
			s->eof = true;
		s->len += (size_t)r;
	}
}

enum state { TOP, EXPECT_SEQ, SEQ };

struct sc {
	struct src src;
	listscan_fn fn;
	void *ctx;
	size_t hash_n;
	struct listscan *out;
	enum state st;
	bool seen_name, seen_subs, seen_public;
	int dash, content_col; /* content_col: the open mapping entry's keys, -1 none */
	size_t line_no;
	/* the entry being read */
	bool open, scalar, has_email, has_name, email_key, name_key, nul;
	size_t nfields, line;
	struct buf email, name, val, keys;
	uint64_t h; /* this entry's hash, fields so far */
};

/* A hash to tell two readings apart (not against an adversary: the old
 * and the edited file are both ours), eight bytes at a time. */
static void fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t x = *h ^ n;
	for (; n >= 8; n -= 8, c += 8) {
		uint64_t w;
		memcpy(&w, c, 8);
		x = (x ^ w) * 0x100000001b3ull;
		x ^= x >> 29;
	}
	for (; n; n--, c++)
		x = (x ^ *c) * 0x100000001b3ull;
	*h = x ^ (x >> 31);
}

static void fnv_value(uint64_t *h, char tag, bool present, const struct buf *v)
{
	char t[2] = {tag, present ? 's' : 'n'};
	fnv(h, t, 2);
	if (present)
		fnv(h, v->p ? v->p : "", v->n);
}

/* Printable as libyaml's reader wants it, UTF-8, and no character YAML
 * takes as a line break (NEL, LS, PS); no tab, no BOM, no lone CR. */
static bool line_ok(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i < n;) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			i++;
			continue;
		}
		if (u[i] < 0x80)
			return false;
		size_t len = utf8_len(u + i, n - i);
		if (!len || (len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) ||
		    (len == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 && (u[i + 2] & 0xfe) == 0xa8) ||
		    (len == 3 && u[i] == 0xef && u[i + 1] == 0xbb && u[i + 2] == 0xbf) ||
		    (len == 3 && u[i] == 0xef && u[i + 1] == 0xbf && u[i + 2] >= 0xbe))
			return false;
		i += len;
	}
	return true;
}

static void put_utf8(struct buf *b, uint32_t c)
{
	if (c < 0x80) {
		buf_addc(b, (char)c);
	} else if (c < 0x800) {
		buf_addc(b, (char)(0xc0 | c >> 6));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_addc(b, (char)(0xe0 | c >> 12));
		buf_addc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | c >> 18));
		buf_addc(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	}
}

static bool hex_value(const char *p, size_t digits, uint32_t *c)
{
	*c = 0;
	for (size_t i = 0; i < digits; i++) {
		char d = p[i];
		int v = d >= '0' && d <= '9'   ? d - '0'
			: d >= 'a' && d <= 'f' ? d - 'a' + 10
			: d >= 'A' && d <= 'F' ? d - 'A' + 10
					       : -1;
		if (v < 0)
			return false;
		*c = *c << 4 | (uint32_t)v;
	}
	return true;
}

/* One escape of a double-quoted scalar at p[0..n) (after the backslash);
 * returns the bytes it takes, 0 for one we leave to libyaml. */
static size_t escape(const char *p, size_t n, struct buf *v, bool *nul)
{
	static const char simple[] = "\"\"\\\\//n\nt\ta\ab\bv\vf\fr\re\033  ";
	const char *s = n ? memchr(simple, p[0], sizeof simple - 1) : NULL;
	if (s && (s - simple) % 2 == 0) {
		buf_addc(v, s[1]);
		return 1;
	}
	size_t digits = !n ? 0 : p[0] == 'x' ? 2 : p[0] == 'u' ? 4 : p[0] == 'U' ? 8 : 0;
	uint32_t c;
	if (n && p[0] == '0')
		c = 0;
	else if (n && p[0] == 'N')
		c = 0x85;
	else if (n && p[0] == '_')
		c = 0xa0;
	else if (n && p[0] == 'L')
		c = 0x2028;
	else if (n && p[0] == 'P')
		c = 0x2029;
	else if (!digits || n < 1 + digits || !hex_value(p + 1, digits, &c) ||
		 (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*nul |= c == 0;
	put_utf8(v, c);
	return 1 + digits;
}

/* The scalar at p[0..n) (what follows "key: " or "- "), into v; *null for
 * a plain null (nothing, ~, null).  A comment may follow. */
static int scalar(const char *p, size_t n, struct buf *v, bool *null, bool *nul)
{
	size_t i;
	buf_reset(v);
	*null = false;
	if (n == 0 || p[0] == '#') {
		*null = true;
		return 0;
	}
	if (p[0] == '"') {
		for (i = 1; i < n && p[i] != '"'; i++) {
			if (p[i] != '\\') {
				buf_addc(v, p[i]);
				continue;
			}
			size_t k = escape(p + i + 1, n - i - 1, v, nul);
			if (!k)
				return OTHER;
			i += k;
		}
	} else if (p[0] == '\'') {
		for (i = 1; i < n; i++) {
			if (p[i] == '\'' && i + 1 < n && p[i + 1] == '\'')
				i++;
			else if (p[i] == '\'')
				break;
			buf_addc(v, p[i]);
		}
	} else {
		if (memchr("-?:,[]{}#&*!|>'\"%@`", p[0], 19))
			return OTHER;
		size_t end = n;
		for (size_t k = 1; k < n && end == n; k++)
			if (p[k] == '#' && p[k - 1] == ' ')
				end = k;
		while (end > 0 && p[end - 1] == ' ')
			end--;
		for (size_t k = 0; k < end; k++)
			if (p[k] == ':' && (k + 1 == end || p[k + 1] == ' '))
				return OTHER; /* a mapping, or an error */
		buf_add(v, p, end);
		*null = (end == 1 && p[0] == '~') ||
			(end == 4 &&
			 (!memcmp(p, "null", 4) || !memcmp(p, "Null", 4) || !memcmp(p, "NULL", 4)));
		return 0;
	}
	if (i >= n)
		return OTHER; /* goes on on the next line */
	size_t j = ++i;
	while (j < n && p[j] == ' ')
		j++;
	return j == n || (p[j] == '#' && j > i) ? 0 : OTHER;
}

/* The length of "word" in "word:" followed by a blank or the end; 0 if p
 * does not start a simple key. */
static size_t key_len(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
			 (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
			 (i > 0 && (p[i] == '-' || p[i] == '.'))))
		i++;
	return i > 0 && i < n && p[i] == ':' && (i + 1 == n || p[i + 1] == ' ') ? i : 0;
}

/* What follows "key:" on the line. */
static void value_of(const char *p, size_t n, size_t klen, const char **v, size_t *vn)
{
	size_t i = klen + 1;
	while (i < n && p[i] == ' ')
		i++;
	*v = p + i;
	*vn = n - i;
}

static int finish_entry(struct sc *s)
{
	if (!s->open)
		return 0;
	s->open = false;
	uint64_t h = s->h;
	fnv(&h, s->scalar ? "S" : "M", 1);
	fnv_value(&h, 'e', s->has_email, &s->email);
	fnv_value(&h, 'n', s->has_name, &s->name);
	fnv(&h, s->nul ? "0" : "1", 1);
	s->out->hash = (s->out->hash ^ h) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
	if (++s->out->entries == s->hash_n)
		s->out->hash_at = s->out->hash;
	if (!s->fn)
		return 0;
	struct listscan_entry e = {s->has_email ? buf_cstr(&s->email) : NULL,
				   s->has_name ? buf_cstr(&s->name) : NULL,
				   s->email.n,
				   s->name.n,
				   s->nfields,
				   s->nul,
				   s->scalar,
				   s->line};
	return s->fn(s->ctx, &e);
}

/* "key: value" of the open mapping entry; p[0..n) starts at the key. */
static int entry_key(struct sc *s, const char *p, size_t n, size_t klen)
{
	const char *v;
	size_t vn;
	bool null, is_email = klen == 5 && !memcmp(p, "email", 5),
		   is_name = klen == 4 && !memcmp(p, "name", 4);
	if ((is_email && s->email_key) || (is_name && s->name_key))
		return OTHER; /* a duplicate key: libyaml's reader says where */
	if (!is_email && !is_name) {
		for (size_t i = 0; i < s->keys.n; i += strlen(s->keys.p + i) + 1)
			if (strlen(s->keys.p + i) == klen && !memcmp(s->keys.p + i, p, klen))
				return OTHER;
		buf_add(&s->keys, p, klen);
		buf_addc(&s->keys, '\0');
	}
	s->email_key |= is_email;
	s->name_key |= is_name;
	value_of(p, n, klen, &v, &vn);
	struct buf *into = is_email ? &s->email : is_name ? &s->name : &s->val;
	int rc = scalar(v, vn, into, &null, &s->nul);
	if (rc || null)
		return rc; /* an empty value is an absent one */
	if (is_email) {
		s->has_email = true;
	} else if (is_name) {
		s->has_name = true;
	} else {
		s->nfields++;
		fnv(&s->h, p, klen);
		fnv_value(&s->h, 'f', true, &s->val);
	}
	return 0;
}

/* "- ..." at the entries' indentation. */
static int entry_line(struct sc *s, const char *p, size_t n, size_t ind, uint64_t next, bool nl)
{
	int rc = finish_entry(s);
	if (rc)
		return rc;
	size_t k = 1;
	while (k < n && p[k] == ' ')
		k++;
	if (k == n || k < 2 || p[k] == '#')
		return OTHER; /* "-" alone: the entry is on the next lines */
	s->open = true;
	s->has_email = s->has_name = s->email_key = s->name_key = s->nul = false;
	s->nfields = 0;
	s->line = s->line_no;
	s->h = 0xcbf29ce484222325ull;
	buf_reset(&s->email);
	buf_reset(&s->name);
	buf_reset(&s->keys);
	s->out->content = (int)(ind + k);
	s->out->ins = next;
	s->out->newline_at_ins = nl;
	size_t klen = key_len(p + k, n - k);
	if (klen) {
		s->scalar = false;
		s->content_col = (int)(ind + k);
		return entry_key(s, p + k, n - k, klen);
	}
	bool null;
	s->scalar = true;
	s->content_col = -1;
	if ((rc = scalar(p + k, n - k, &s->email, &null, &s->nul)))
		return rc;
	s->has_email = !null;
	return 0;
}

/* A key of the list at column 0. */
static int top_key(struct sc *s, const char *p, size_t n)
{
	int rc = finish_entry(s);
	if (rc)
		return rc;
	if (s->st == EXPECT_SEQ)
		return OTHER; /* no entries */
	s->st = TOP;
	size_t klen = key_len(p, n);
	const char *v;
	size_t vn;
	bool null, nul = false;
	if (!klen)
		return OTHER;
	value_of(p, n, klen, &v, &vn);
	if (klen == 11 && !memcmp(p, "subscribers", 11) && !s->seen_subs) {
		s->seen_subs = true;
		s->st = EXPECT_SEQ;
		return vn == 0 || v[0] == '#' ? 0 : OTHER;
	}
	bool is_name = klen == 4 && !memcmp(p, "name", 4) && !s->seen_name,
	     is_public = klen == 6 && !memcmp(p, "public", 6) && !s->seen_public;
	if (!is_name && !is_public)
		return OTHER;
	if ((rc = scalar(v, vn, &s->val, &null, &nul)))
		return rc;
	if (nul || (is_public && !span_eq(buf_span(&s->val), "true") &&
		    !span_eq(buf_span(&s->val), "false")))
		return OTHER;
	s->seen_name |= is_name;
	s->seen_public |= is_public;
	fnv_value(&s->out->meta, is_name ? 'N' : 'P', !null, &s->val);
	return 0;
}

static int on_line(struct sc *s, const char *p, size_t n, uint64_t next, bool nl)
{
	if (++s->line_no == 1)
		s->out->crlf = nl && n && p[n - 1] == '\r';
	if (n && p[n - 1] == '\r') {
		if (!nl)
			return OTHER;
		n--;
	}
	if (!line_ok(p, n))
		return OTHER;
	size_t ind = 0;
	while (ind < n && p[ind] == ' ')
		ind++;
	const char *r = p + ind;
	size_t rn = n - ind;
	if (rn == 0 || r[0] == '#')
		return 0; /* blank, or a comment */
	if (ind == 0 &&
	    (r[0] == '%' || (rn >= 3 && (!memcmp(r, "---", 3) || !memcmp(r, "...", 3)))))
		return OTHER;
	bool dash = r[0] == '-' && (rn == 1 || r[1] == ' ');
	if (dash && (s->st == EXPECT_SEQ || (s->st == SEQ && ind == (size_t)s->dash))) {
		if (s->st == EXPECT_SEQ) {
			s->dash = (int)ind;
			s->out->dash = (int)ind;
			s->st = SEQ;
		}
		return entry_line(s, r, rn, ind, next, nl);
	}
	if (!dash && s->st == SEQ && s->content_col >= 0 && ind == (size_t)s->content_col) {
		size_t klen = key_len(r, rn);
		if (!klen)
			return OTHER;
		s->out->ins = next;
		s->out->newline_at_ins = nl;
		return entry_key(s, r, rn, klen);
	}
	if (!dash && ind == 0)
		return top_key(s, r, rn);
	return OTHER;
}

static int scan(struct sc *s)
{
	const char *p = NULL;
	size_t n = 0;
	uint64_t off = 0;
	bool nl = false;
	int rc;
	memset(s->out, 0, sizeof *s->out);
	s->out->meta = s->out->hash = 0xcbf29ce484222325ull;
	s->content_col = -1;
	while ((rc = src_line(&s->src, &p, &n, &off, &nl)) == 1) {
		if (s->line_no == 0 && n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			return OTHER; /* libyaml does not count a BOM in columns: its case */
		if ((rc = on_line(s, p, n, off + n + (nl ? 1 : 0), nl)))
			return rc;
		s->out->size = off + n + (nl ? 1 : 0);
	}
	if (rc)
		return rc;
	if ((rc = finish_entry(s)))
		return rc;
	return s->st == EXPECT_SEQ || !s->seen_subs || !s->out->entries ? OTHER : 0;
}

static int run(struct sc *s)
{
	int rc = scan(s);
	buf_free(&s->email);
	buf_free(&s->name);
	buf_free(&s->val);
	buf_free(&s->keys);
	free(s->src.b);
	return rc;
}

int listscan_fd(int fd, const char *path, listscan_fn on_entry, void *ctx, size_t hash_n,
		struct listscan *out, struct lb_err *err)
{
	struct sc s = {.src = {.fd = fd, .path = path, .err = err},
		       .fn = on_entry,
		       .ctx = ctx,
		       .hash_n = hash_n,
		       .out = out};
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, LB_EIO, "%s", path);
	return run(&s);
}

int listscan_text(struct span text, listscan_fn on_entry, void *ctx, struct listscan *out)
{
	struct sc s = {.src = {.fd = -1, .mem = text.p, .memlen = text.n},
		       .fn = on_entry,
		       .ctx = ctx,
		       .out = out};
	return run(&s);
}

void listscan_key_init(struct listscan_key *k, const char *spec)
{
	k->key = addr_key(spec);
	const char *at = strrchr(k->key, '@');
	k->local_n = at ? (size_t)(at - k->key) : strlen(k->key);
	k->found = false;
}

void listscan_key_free(struct listscan_key *k)
{
	free(k->key);
	k->key = NULL;
}

int listscan_key_match(void *ctx, const struct listscan_entry *e)
{
	struct listscan_key *k = ctx;
	if (!e->email || e->nul)
		return 0;
	for (const char *c = e->name; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0; /* the loader leaves it out */
	/* The spec of an address whose local part is not quoted starts with
	 * that local part as written: most entries are told apart here,
	 * without parsing them. */
	struct span v = span_trim((struct span){e->email, e->email_len});
	const char *at = v.n && v.p[0] != '"' ? memchr(v.p, '@', v.n) : NULL;
	if (at && ((size_t)(at - v.p) != k->local_n || strncasecmp(v.p, k->key, k->local_n) != 0))
		return 0;
	struct addr a;
	struct lb_err aerr;
	if (addr_parse_spec((struct span){e->email, e->email_len}, &a, &aerr) != 0)
		return 0;
	char *key = addr_key(a.spec);
	k->found = strcmp(key, k->key) == 0;
	free(key);
	addr_free(&a);
	return k->found ? 1 : 0;
}

/* ---- sublist_contains (store/subscribers.h): this scan, else libyaml's ---------------- */

static int contains_streamed(void *ctx, const struct subscriber *s)
{
	struct listscan_key *c = ctx;
	c->found |= strcmp(s->key, c->key) == 0;
	return c->found ? 1 : 0;
}

int sublist_contains(const char *path, const char *spec, bool *there, struct lb_err *err)
{
	struct listscan_key c;
	struct listscan scan;
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
	*there = false;
	if (fd < 0)
		return errno == ENOENT ? 0 : err_sys(err, fsx_errno_code(errno), "%s", path);
	listscan_key_init(&c, spec);
	rc = listscan_fd(fd, path, listscan_key_match, &c, 0, &scan, err);
	close(fd);
	if (rc == LISTSCAN_OTHER) {
		c.found = false;
		rc = sublist_stream_file(path, NULL, NULL, contains_streamed, NULL, &c, NULL, err);
	}
	if (rc == 1)
		rc = 0; /* found: the scan stopped there */
	*there = c.found;
	listscan_key_free(&c);
	return rc;
}
