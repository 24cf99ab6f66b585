#include "receive/header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "receive/charset.h"

/* Past this many fields a header block is hostile or broken; the rest is
 * still skipped over but not kept, so memory stays bounded. */
#define MAX_FIELDS 10000

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Whether s[0..n) is ASCII without NUL: what utf8_repair copies as it is. */
static bool ascii(const char *s, size_t n)
{
	unsigned char bad = 0;
	for (size_t i = 0; i < n; i++) /* no early exit: the compiler vectorises it */
		bad |= (unsigned char)((unsigned char)s[i] - 1) >= 0x7F;
	return !bad;
}

static char *copy(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *header_dup(struct span s)
{
	if (ascii(s.p, s.n))
		return copy(s.p, s.n);
	struct buf b = BUF_INIT;
	utf8_repair(&b, s.p, s.n);
	return buf_take(&b);
}

bool header_is(struct span s, const char *word, size_t n)
{
	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != word[i])
			return false;
	return true;
}

void strv_add(struct strv *l, struct span s, bool unique)
{
	if (s.n == 0)
		return;
	char *c = header_dup(s);
	for (size_t i = 0; unique && i < l->n; i++) {
		if (strcasecmp(l->v[i], c) == 0) {
			free(c);
			return;
		}
	}
	l->v = xgrowarray(l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = c;
}

bool strv_has(const struct strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	return false;
}

void strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct strv){0};
}

/* ---- the header block ------------------------------------------------------------------------ */

size_t header_scan(struct span in, bool mbox_from, struct hfields *h)
{
	h->n = 0;
	if (!in.p)
		return 0;
	const char *p = in.p, *end = in.p + in.n;
	if (mbox_from && in.n >= 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', in.n);
		p = nl ? nl + 1 : end;
	}
	/* The first of the lines since the last field that are neither a field
	 * nor a fold, or NULL: skipped, unless no field follows them and no
	 * empty line ends the block (then they start the body). */
	const char *bad = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *le = nl ? nl : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p)
			return (size_t)(next - in.p);
		if (is_wsp(*p)) {
			if (h->n && !bad) {
				struct hfield *f = &h->v[h->n - 1];
				f->value.n = (size_t)(le - f->value.p);
			}
			p = next;
			continue;
		}
		const char *q = p;
		while (q<le && * q> ' ' && *q < 0x7F && *q != ':')
			q++;
		const char *name_end = q;
		while (q < le && is_wsp(*q))
			q++;
		if (q == le || *q != ':' || name_end == p) {
			if (!bad)
				bad = p;
			p = next;
			continue;
		}
		bad = NULL;
		q++;
		while (q < le && is_wsp(*q))
			q++;
		if (h->n < MAX_FIELDS) {
			h->v = xgrowarray(h->v, &h->cap, h->n + 1, sizeof *h->v);
			h->v[h->n++] =
			    (struct hfield){{p, (size_t)(name_end - p)}, {q, (size_t)(le - q)}};
		}
		p = next;
	}
	return bad ? (size_t)(bad - in.p) : in.n;
}

void hfields_free(struct hfields *h)
{
	free(h->v);
	*h = (struct hfields){0};
}

struct span header_get(const struct hfields *h, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < h->n; i++) {
		struct span f = h->v[i].name;
		if (f.n != n || lower(f.p[0]) != lower(name[0]))
			continue;
		size_t k = 1;
		while (k < n && lower(f.p[k]) == lower(name[k]))
			k++;
		if (k == n)
			return h->v[i].value;
	}
	return (struct span){NULL, 0};
}

void header_unfold(struct buf *out, struct span v)
{
	if (!v.p)
		return;
	v = span_trim(v);
	const char *p = v.p, *end = v.p + v.n;
	while (p < end) {
		const char *q = p;
		while (q < end && *q != '\r' && *q != '\n')
			q++;
		buf_add(out, p, (size_t)(q - p));
		while (q < end && (*q == '\r' || *q == '\n'))
			q++;
		p = q;
	}
}

char *header_unfold_dup(struct span v)
{
	if (!v.p)
		return copy("", 0);
	v = span_trim(v);
	if (!memchr(v.p, '\n', v.n) && !memchr(v.p, '\r', v.n))
		return header_dup(v);
	struct buf raw = BUF_INIT;
	header_unfold(&raw, v);
	char *s = header_dup(buf_span(&raw));
	buf_free(&raw);
	return s;
}

/* ---- addresses ------------------------------------------------------------------------------- */

static bool plausible_spec(struct span s)
{
	if (s.n < 3 || s.n > 512)
		return false;
	const char *at = memchr(s.p, '@', s.n);
	if (!at || at == s.p || at == s.p + s.n - 1)
		return false;
	unsigned char bad = 0; /* no early exit: the compiler vectorises it */
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		bad |= c <= ' ' || c == '<' || c == '>' || c == 0x7F;
	}
	return !bad;
}

static struct span strip_quotes(struct span s)
{
	while (s.n >= 2 &&
	       ((s.p[0] == '\'' && s.p[s.n - 1] == '\'') || (s.p[0] == '"' && s.p[s.n - 1] == '"')))
		s = span_trim((struct span){s.p + 1, s.n - 2});
	return s;
}

static void emit_element(const char *p, const char *e, const char *lt, const char *gt,
			 void (*emit)(void *, struct span, struct span), void *ctx)
{
	struct span spec, display;
	if (lt) {
		spec = span_trim((struct span){lt + 1, (size_t)((gt ? gt : e) - lt - 1)});
		if (spec.n && spec.p[0] == '@') { /* obsolete source route "@a,@b:" */
			const char *colon = memchr(spec.p, ':', spec.n);
			if (colon)
				spec =
				    (struct span){colon + 1, (size_t)(spec.p + spec.n - colon - 1)};
		}
		display = span_trim((struct span){p, (size_t)(lt - p)});
	} else {
		/* A bare addr-spec, perhaps with a comment standing in for the name. */
		spec = (struct span){NULL, 0};
		display = (struct span){NULL, 0};
		const char *q = p;
		while (q < e) {
			if (is_space(*q)) {
				q++;
			} else if (*q == '(') {
				const char *c = ++q;
				int depth = 1;
				for (; q < e && depth; q++)
					depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
				if (!display.p)
					display = span_trim(
					    (struct span){c, (size_t)(q - c - (depth == 0))});
			} else {
				const char *t = q;
				bool inq = false;
				while (q < e && (inq || (!is_space(*q) && *q != '('))) {
					if (*q == '"')
						inq = !inq;
					q++;
				}
				struct span tok = {t, (size_t)(q - t)};
				if (!spec.p && memchr(tok.p, '@', tok.n))
					spec = tok;
			}
		}
		if (!spec.p)
			return;
	}
	spec = strip_quotes(spec);
	if (plausible_spec(spec))
		emit(ctx, spec, display);
}

void header_mailboxes(struct span v, void (*emit)(void *ctx, struct span spec, struct span display),
		      void *ctx)
{
	static const bool special[256] = {
	    ['"'] = true, ['('] = true, [')'] = true, ['<'] = true, ['>'] = true,
	    [','] = true, [';'] = true, [':'] = true, ['\\'] = true};
	if (!v.p)
		return;
	const char *p = v.p, *end = v.p + v.n;
	while (p < end) {
		const char *elem = p, *lt = NULL, *gt = NULL, *q = p;
		bool inq = false;
		int depth = 0;
		for (; q < end; q++) {
			char c = *q;
			if (!special[(unsigned char)c])
				continue; /* nothing below cares about it */
			if (inq || depth) {
				if (c == '\\' && q + 1 < end)
					q++;
				else if (inq && c == '"')
					inq = false;
				else if (depth && c == '(')
					depth++;
				else if (depth && c == ')')
					depth--;
				continue;
			}
			if (c == '"')
				inq = true;
			else if (c == '(')
				depth = 1;
			else if (c == '<' && !lt)
				lt = q;
			else if (c == '>' && lt && !gt)
				gt = q;
			else if ((c == ',' || c == ';') && (!lt || gt))
				break;
			else if (c == ':' && !lt)
				elem = q + 1; /* a group's name */
		}
		emit_element(elem, q, lt, gt, emit, ctx);
		p = q + 1;
	}
}

void header_msgids(struct span v, void (*emit)(void *ctx, struct span id), void *ctx)
{
	if (!v.p)
		return;
	const char *p = v.p, *end = v.p + v.n;
	bool any = false;
	while (p < end) {
		if (*p == '(') { /* comments may hold brackets that are no ids */
			int depth = 1;
			for (p++; p < end && depth; p++)
				depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		const char *s = ++p;
		while (p < end && *p != '>' && *p != '<')
			p++;
		if (p < end && *p == '>') {
			struct span id = span_trim((struct span){s, (size_t)(p - s)});
			if (id.n && id.n <= 998) {
				emit(ctx, id);
				any = true;
			}
			p++;
		}
	}
	struct span t = span_trim(v);
	if (!any && t.n && t.n <= 998 && memchr(t.p, '@', t.n) && !memchr(t.p, ' ', t.n) &&
	    !memchr(t.p, '\t', t.n) && !memchr(t.p, '<', t.n))
		emit(ctx, t);
}

static void first_id(void *ctx, struct span id)
{
	struct span *out = ctx;
	if (!out->p)
		*out = id;
}

struct span header_first_msgid(struct span v)
{
	struct span id = {NULL, 0};
	header_msgids(v, first_id, &id);
	return id;
}

/* ---- dates ----------------------------------------------------------------------------------- */

struct cur {
	const char *p, *end;
};

static void skip_sep(struct cur *c)
{
	while (c->p < c->end && (is_space(*c->p) || *c->p == ',' || *c->p == '-'))
		c->p++;
}

static bool get_num(struct cur *c, int maxdigits, int *out, int *ndigits)
{
	int v = 0, n = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < maxdigits)
		v = v * 10 + (*c->p++ - '0'), n++;
	*out = v;
	if (ndigits)
		*ndigits = n;
	return n > 0;
}

static struct span get_word(struct cur *c)
{
	const char *s = c->p;
	while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z')))
		c->p++;
	return (struct span){s, (size_t)(c->p - s)};
}

static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int zone_minutes(struct cur *c, bool *ok)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {{"UT", 0},	  {"UTC", 0},  {"GMT", 0},  {"Z", 0},	 {"EST", -5},
		     {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
		     {"PST", -8}, {"PDT", -7}, {"CET", 1},  {"CEST", 2}, {"BST", 1}};
	*ok = true;
	if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
		int sign = *c->p++ == '-' ? -1 : 1, v, nd;
		if (!get_num(c, 4, &v, &nd) || nd != 4 || v % 100 >= 60 || v / 100 > 23) {
			*ok = false;
			return 0;
		}
		return sign * (v / 100 * 60 + v % 100);
	}
	struct span w = get_word(c);
	for (size_t i = 0; i < sizeof zones / sizeof *zones; i++)
		if (span_eq_ci(w, zones[i].name))
			return zones[i].hours * 60;
	return 0; /* unknown or military zones mean nothing reliable: UTC */
}

bool header_date(struct span v, time_t *out)
{
	if (!v.p)
		return false;
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct cur c = {v.p, v.p + v.n};
	int day, mon = -1, year, nd, hh, mm, ss = 0;
	bool ok;

	skip_sep(&c);
	if (c.p < c.end && !(*c.p >= '0' && *c.p <= '9')) {
		get_word(&c); /* day of week */
		skip_sep(&c);
	}
	if (!get_num(&c, 2, &day, NULL))
		return false;
	skip_sep(&c);
	struct span m = get_word(&c);
	for (int i = 0; m.n >= 3 && i < 12; i++)
		if (lower(m.p[0]) == months[3 * i] && lower(m.p[1]) == months[3 * i + 1] &&
		    lower(m.p[2]) == months[3 * i + 2])
			mon = i;
	skip_sep(&c);
	if (mon < 0 || !get_num(&c, 4, &year, &nd))
		return false;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	skip_sep(&c);
	if (!get_num(&c, 2, &hh, NULL) || c.p >= c.end || *c.p++ != ':' ||
	    !get_num(&c, 2, &mm, NULL))
		return false;
	if (c.p < c.end && *c.p == ':') {
		c.p++;
		if (!get_num(&c, 2, &ss, NULL))
			return false;
	}
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day < 1 || day > mdays[mon] || (mon == 1 && day == 29 && !leap) || hh > 23 || mm > 59 ||
	    ss > 60)
		return false;
	while (c.p < c.end && is_space(*c.p))
		c.p++;
	int zone = zone_minutes(&c, &ok);
	if (!ok)
		return false;
	long long t =
	    days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss - zone * 60LL;
	*out = (time_t)t;
	return true;
}

/* ---- MIME parameters ------------------------------------------------------------------------- */

struct span header_mime_type(struct span v)
{
	v = span_trim(v);
	if (v.n == 0)
		return (struct span){NULL, 0};
	const char *semi = memchr(v.p, ';', v.n);
	struct span t = span_trim((struct span){v.p, semi ? (size_t)(semi - v.p) : v.n});
	return t.n ? t : (struct span){NULL, 0};
}

struct span header_word(struct span v)
{
	if (!v.p)
		return v;
	v = span_trim(v);
	size_t i = 0;
	while (i < v.n && !is_space(v.p[i]) && v.p[i] != ';' && v.p[i] != '(' && v.p[i] != ',')
		i++;
	return i ? (struct span){v.p, i} : (struct span){NULL, 0};
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append a raw parameter value, unquoted (quoted) or %XX-decoded (ext). */
static void param_octets(struct buf *out, struct span s, bool quoted, bool ext)
{
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (quoted && c == '\\' && i + 1 < s.n) {
			c = s.p[++i];
		} else if (ext && c == '%' && i + 2 < s.n && hexval(s.p[i + 1]) >= 0 &&
			   hexval(s.p[i + 2]) >= 0) {
			c = (char)(hexval(s.p[i + 1]) << 4 | hexval(s.p[i + 2]));
			i += 2;
		}
		buf_addc(out, c);
	}
}

#define MAX_SEGMENTS 64

struct pval {
	struct span v;
	bool quoted, ext, set;
};

/* RFC 2231: "charset'language'octets" → charset and the rest. */
static struct span split_ext(struct span v, struct span *charset)
{
	const char *q1 = memchr(v.p, '\'', v.n);
	const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(v.p + v.n - q1 - 1)) : NULL;
	if (!q2) {
		*charset = (struct span){NULL, 0};
		return v;
	}
	*charset = (struct span){v.p, (size_t)(q1 - v.p)};
	return (struct span){q2 + 1, (size_t)(v.p + v.n - q2 - 1)};
}

/* seg[i] is set when bit i of have is. */
static void param_emit(struct buf *out, const struct pval *plain_v, const struct pval *star,
		       const struct pval *seg, size_t nseg, uint64_t have)
{
	struct buf oct = BUF_INIT;
	struct span charset = {NULL, 0};
	if (star->set) {
		param_octets(&oct, split_ext(star->v, &charset), false, true);
		charset_to_utf8(out, charset, buf_cstr(&oct), oct.n);
	} else if (nseg) {
		for (size_t i = 0; i < nseg && (have >> i & 1); i++) {
			struct span v = seg[i].v;
			if (i == 0 && seg[i].ext)
				v = split_ext(v, &charset);
			param_octets(&oct, v, seg[i].quoted, seg[i].ext);
		}
		if (seg[0].ext)
			charset_to_utf8(out, charset, buf_cstr(&oct), oct.n);
		else
			header_text(out, buf_span(&oct));
	} else {
		param_octets(&oct, plain_v->v, plain_v->quoted, false);
		header_text(out, buf_span(&oct));
	}
	buf_free(&oct);
}

bool header_param(struct span v, const char *name, struct buf *out)
{
	if (!v.p)
		return false;
	const char *p = v.p, *end = v.p + v.n;
	size_t nlen = strlen(name), nseg = 0;
	struct pval plain_v, star, seg[MAX_SEGMENTS]; /* seg[i] only where have says */
	uint64_t have = 0;
	memset(&plain_v, 0, sizeof plain_v);
	memset(&star, 0, sizeof star);

	/* Skip the type (or disposition) itself. */
	while (p < end && *p != ';')
		p++;
	while (p < end) {
		while (p < end && (is_space(*p) || *p == ';'))
			p++;
		const char *a = p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		struct span attr = span_trim((struct span){a, (size_t)(p - a)});
		if (p >= end || *p == ';')
			continue;
		p++;
		while (p < end && is_space(*p))
			p++;
		struct pval val = {{p, 0}, false, false, true};
		if (p < end && *p == '"') {
			const char *s = ++p;
			while (p < end && *p != '"')
				p += *p == '\\' && p + 1 < end ? 2 : 1;
			val.v = (struct span){s, (size_t)((p < end ? p : end) - s)};
			val.quoted = true;
			p += p < end;
		} else {
			const char *s = p;
			while (p < end && *p != ';')
				p++;
			val.v = span_trim((struct span){s, (size_t)(p - s)});
		}
		if (attr.n < nlen || strncasecmp(attr.p, name, nlen) != 0)
			continue;
		struct span rest = {attr.p + nlen, attr.n - nlen};
		if (rest.n == 0) {
			if (!plain_v.set)
				plain_v = val;
		} else if (span_eq(rest, "*")) {
			val.ext = true;
			if (!star.set)
				star = val;
		} else if (rest.p[0] == '*' && rest.n >= 2 && rest.p[1] >= '0' &&
			   rest.p[1] <= '9') {
			size_t idx = 0, i = 1;
			while (i < rest.n && rest.p[i] >= '0' && rest.p[i] <= '9' &&
			       idx < MAX_SEGMENTS)
				idx = idx * 10 + (size_t)(rest.p[i++] - '0');
			val.ext = i < rest.n && rest.p[i] == '*';
			if (idx < MAX_SEGMENTS && i + val.ext == rest.n && !(have >> idx & 1)) {
				seg[idx] = val;
				have |= (uint64_t)1 << idx;
				if (idx + 1 > nseg)
					nseg = idx + 1;
			}
		}
	}
	if (!plain_v.set && !star.set && !(nseg && (have & 1)))
		return false;
	param_emit(out, &plain_v, &star, seg, nseg && (have & 1) ? nseg : 0, have);
	return true;
}
