/* MIME encoding for outgoing mail (the decoders are mime_decode.c).  Two
 * halves with different priorities: the quoted-printable encoder runs over
 * every newsletter body, so it is one table-driven pass with its output
 * staged on the stack; the header writers handle short values, so they
 * favour plain structure (split into words, decide, emit).
 */
#include "compose/mime.h"
#include "compose/mime_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "core/mem.h"

#define QP_LINE_MAX  76 /* RFC 2045 6.7 (5), CRLF not counted */
#define HDR_LINE_MAX 78 /* RFC 5322 2.1.1 */
#define EW_MAX	     75 /* RFC 2047 2: a whole encoded-word */
#define EW_OVERHEAD  12 /* "=?UTF-8?Q?" and "?=" */
/* The widest single character in an encoded-word: four octets as =XX. */
#define EW_CHAR_MAX 12
/* A literal whitespace run between words must fit on a fresh line together
 * with an encoded-word holding one character; longer runs are encoded. */
#define WSP_RUN_MAX (HDR_LINE_MAX - EW_OVERHEAD - EW_CHAR_MAX)

static const char hex_digits[] = "0123456789ABCDEF";
const char mime_b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char mime_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static bool contains(struct span s, const char *needle)
{
	return memmem(s.p, s.n, needle, strlen(needle)) != NULL;
}

void mime_put_clean(struct buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		size_t start = i;
		while (i < n && s[i] >= 0x20 && s[i] < 0x7F)
			i++;
		buf_add(out, p + start, i - start);
		if (i == n)
			break;
		size_t len = utf8_len(s + i, n - i);
		if (s[i] < 0x80)
			buf_addc(out, s[i] == '\t' ? '\t' : ' ');
		else if (len == 0)
			buf_add(out, mime_replacement, 3);
		else if (s[i] == 0xC2 && s[i + 1] < 0xA0)
			buf_addc(out, ' ');
		else
			buf_add(out, p + i, len);
		i += len ? len : 1;
	}
}

/* ---- quoted-printable ------------------------------------------------------------------------ */

/* What the encoder does with each octet:
 *   l  literal                  e  always =XX
 *   w  space, tab: =XX right before a hard line break, else literal
 *   r  CR (a hard break when LF follows, else =0D)     n  LF: hard break
 *   s  literal, except at the start of a line ('.' and the F of "From ")
 *   u  may start a UTF-8 sequence, which is kept whole on one line */
static const char qp_class[] = "eeeeeeeeewneeree" /* 0x00 */
			       "eeeeeeeeeeeeeeee" /* 0x10 */
			       "wlllllllllllllsl" /* 0x20 */
			       "lllllllllllllell" /* 0x30 */
			       "llllllslllllllll" /* 0x40 */
			       "llllllllllllllll" /* 0x50 */
			       "llllllllllllllll" /* 0x60 */
			       "llllllllllllllle" /* 0x70 */
			       "eeeeeeeeeeeeeeee" /* 0x80 */
			       "eeeeeeeeeeeeeeee" /* 0x90 */
			       "eeeeeeeeeeeeeeee" /* 0xA0 */
			       "eeeeeeeeeeeeeeee" /* 0xB0 */
			       "eeuuuuuuuuuuuuuu" /* 0xC0 */
			       "uuuuuuuuuuuuuuuu" /* 0xD0 */
			       "uuuuuuuuuuuuuuuu" /* 0xE0 */
			       "uuuuueeeeeeeeeee" /* 0xF0 */;
_Static_assert(sizeof qp_class == 257, "one class per octet");

static bool at_hard_break(const unsigned char *s, const unsigned char *end)
{
	return s < end && (s[0] == '\n' || (s[0] == '\r' && s + 1 < end && s[1] == '\n'));
}

void qp_encode(struct buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + n;
	char chunk[4096]; /* one buf_add per chunk, not per octet */
	size_t k = 0, col = 0;

	while (s < end) {
		if (k > sizeof chunk - 32) {
			buf_add(out, chunk, k);
			k = 0;
		}
		char cls = qp_class[*s];
		size_t len = 1;
		bool esc = cls == 'e' || cls == 'r';
		if (cls == 'n' || (cls == 'r' && s + 1 < end && s[1] == '\n')) {
			chunk[k++] = '\r';
			chunk[k++] = '\n';
			s += cls == 'n' ? 1 : 2;
			col = 0;
			continue;
		} else if (cls == 'w') {
			/* Transports strip trailing whitespace; before a soft
			 * break the "=" protects it, so it stays literal. */
			esc = at_hard_break(s + 1, end);
		} else if (cls == 'u') {
			len = utf8_len(s, (size_t)(end - s));
			len += len == 0;
			esc = true;
		}
		size_t width = esc ? 3 * len : 1;
		/* Leave room for the "=" of a soft break, except for the last
		 * token before a hard break, which may end at column 76. */
		if (col + width >= QP_LINE_MAX &&
		    !(col + width == QP_LINE_MAX && at_hard_break(s + len, end))) {
			memcpy(chunk + k, "=\r\n", 3);
			k += 3;
			col = 0;
		}
		/* A line-start "." is eaten by SMTP dot-stuffing bugs and a
		 * "From " is mangled by mbox; at column 0 a triplet always fits. */
		if (col == 0 && cls == 's' &&
		    (*s == '.' || ((size_t)(end - s) >= 5 && memcmp(s, "From ", 5) == 0))) {
			esc = true;
			width = 3;
		}
		if (esc) {
			for (size_t i = 0; i < len; i++) {
				chunk[k++] = '=';
				chunk[k++] = hex_digits[s[i] >> 4];
				chunk[k++] = hex_digits[s[i] & 15];
			}
		} else {
			chunk[k++] = (char)*s;
		}
		col += width;
		s += len;
	}
	if (n > 0 && p[n - 1] != '\n') {
		memcpy(chunk + k, "=\r\n", 3);
		k += 3;
	}
	buf_add(out, chunk, k);
}

/* ---- header lines ---------------------------------------------------------------------------- */

struct line {
	struct buf *out;
	size_t col;
	size_t max; /* fold rather than pass this column; SIZE_MAX: never fold */
};

static struct line header_start(struct buf *out, const char *name)
{
	size_t n = strlen(name);
	LB_ASSERT(n > 0);
	for (size_t i = 0; i < n; i++)
		LB_ASSERT(name[i] > ' ' && name[i] < 0x7F && name[i] != ':');
	buf_add(out, name, n);
	buf_addc(out, ':');
	return (struct line){out, n + 1, HDR_LINE_MAX};
}

/* Append whitespace ws then word w, folding before ws when the pair would
 * pass the limit.  A fold only ever goes where whitespace already is, so
 * unfolding restores the text and the next line can never start a field. */
static void line_put(struct line *l, struct span ws, struct span w)
{
	if (ws.n && w.n && l->col > 0 && l->col + ws.n + w.n > l->max) {
		buf_add(l->out, "\r\n", 2);
		l->col = 0;
	}
	buf_addspan(l->out, ws);
	buf_addspan(l->out, w);
	l->col += ws.n + w.n;
}

/* Put s word by word; the first word gets sep in front instead of whatever
 * leading whitespace s has. */
static void line_put_words(struct line *l, struct span sep, struct span s)
{
	size_t i = 0;
	while (i < s.n) {
		size_t ws = i;
		while (i < s.n && is_wsp(s.p[i]))
			i++;
		size_t w = i;
		while (i < s.n && !is_wsp(s.p[i]))
			i++;
		struct span word = {s.p + w, i - w};
		line_put(l, ws == 0 ? sep : (struct span){s.p + ws, w - ws}, word);
	}
}

/* ---- RFC 2047 encoded-words ------------------------------------------------------------------ */

enum ew_ctx { EW_TEXT, EW_PHRASE };

/* Octets a Q encoded-word carries as themselves (RFC 2047 5): in a phrase
 * only letters, digits and !*+-/; in unstructured text any printable but
 * the three that mean something inside the word. */
static bool q_plain(unsigned char c, enum ew_ctx ctx)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (ctx == EW_PHRASE)
		return c && strchr("!*+-/", c);
	return c > ' ' && c < 0x7F && c != '=' && c != '?' && c != '_';
}

static size_t q_width(const unsigned char *s, size_t n, enum ew_ctx ctx)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += s[i] == ' ' || q_plain(s[i], ctx) ? 1 : 3;
	return w;
}

static size_t b64_width(size_t n)
{
	return (n + 2) / 3 * 4;
}

static size_t b64_encode(char *dst, const unsigned char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		dst[k++] = mime_b64_digits[v >> 18 & 63];
		dst[k++] = mime_b64_digits[v >> 12 & 63];
		dst[k++] = i + 1 < n ? mime_b64_digits[v >> 6 & 63] : '=';
		dst[k++] = i + 2 < n ? mime_b64_digits[v & 63] : '=';
	}
	return k;
}

/* How much of an encoded-word fits on the current line after sep. */
static size_t ew_room(const struct line *l, size_t sepn)
{
	if (l->max == SIZE_MAX)
		return EW_MAX;
	size_t used = l->col + sepn;
	size_t room = l->max > used ? l->max - used : 0;
	return room < EW_MAX ? room : EW_MAX;
}

/* Write the clean UTF-8 text s as encoded-words: the first preceded by sep,
 * the others by a space, which decoders drop between encoded-words.  Each
 * word fills what is left of the line (at most 75 octets) and ends on a
 * character boundary.  sep must be at most WSP_RUN_MAX long. */
static void put_encoded(struct line *l, struct span sep, struct span s, enum ew_ctx ctx)
{
	const unsigned char *u = (const unsigned char *)s.p;
	size_t ascii = 0, other = 0;
	for (size_t i = 0; i < s.n; i++) {
		ascii += u[i] < 0x80;
		other += u[i] >= 0xC0;
	}
	/* B for text mostly in a non-Latin script, where Q would triple almost
	 * every octet; Q keeps accented Latin text legible. */
	bool b64 = other > ascii;
	size_t q_left = b64 ? 0 : q_width(u, s.n, ctx);

	for (size_t i = 0, j; i < s.n; i = j) {
		/* Fold rather than start a word too small to be worth it. */
		size_t left = b64 ? b64_width(s.n - i) : q_left;
		size_t want = EW_OVERHEAD + (left < 16 ? left : 16);
		if (ew_room(l, sep.n) < want && l->col > 0 && sep.n > 0) {
			buf_add(l->out, "\r\n", 2);
			l->col = 0;
		}
		LB_ASSERT(ew_room(l, sep.n) >=
			  EW_OVERHEAD + (left < EW_CHAR_MAX ? left : EW_CHAR_MAX));
		size_t room = ew_room(l, sep.n) - EW_OVERHEAD, used = 0;
		for (j = i; j < s.n;) {
			size_t cl = utf8_len(u + j, s.n - j);
			cl += cl == 0;
			size_t next = b64 ? b64_width(j + cl - i) : used + q_width(u + j, cl, ctx);
			if (next > room)
				break;
			used = next;
			j += cl;
		}
		LB_ASSERT(j > i);

		char word[EW_MAX];
		size_t k = 10;
		memcpy(word, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?", k);
		if (b64) {
			k += b64_encode(word + k, u + i, j - i);
		} else {
			for (size_t x = i; x < j; x++) {
				if (u[x] == ' ') {
					word[k++] = '_';
				} else if (q_plain(u[x], ctx)) {
					word[k++] = (char)u[x];
				} else {
					word[k++] = '=';
					word[k++] = hex_digits[u[x] >> 4];
					word[k++] = hex_digits[u[x] & 15];
				}
			}
		}
		word[k++] = '?';
		word[k++] = '=';
		line_put(l, sep, (struct span){word, k});
		q_left -= b64 ? 0 : used;
		sep = SPAN_LIT(" ");
	}
}

struct word {
	struct span ws; /* the whitespace before it */
	struct span w;
	bool enc;
};

void hdr_text(struct buf *out, const char *name, const char *value)
{
	struct buf clean = BUF_INIT;
	struct word *words = NULL;
	size_t nw = 0, cap = 0;

	mime_put_clean(&clean, value, strlen(value));
	struct span v = span_trim(buf_span(&clean));
	for (size_t i = 0; i < v.n;) {
		size_t ws = i;
		while (i < v.n && is_wsp(v.p[i]))
			i++;
		size_t w = i;
		bool ascii = true;
		for (; i < v.n && !is_wsp(v.p[i]); i++)
			ascii &= (unsigned char)v.p[i] < 0x80;
		words = xgrowarray(words, &cap, nw + 1, sizeof *words);
		struct word *wd = &words[nw++];
		wd->ws = nw == 1 ? SPAN_LIT(" ") : (struct span){v.p + ws, w - ws};
		wd->w = (struct span){v.p + w, i - w};
		/* Encode what a decoder would misread as an encoded-word, and
		 * words too long for any line: encoded-words can be split. */
		wd->enc = !ascii || contains(wd->w, "=?") || wd->ws.n + wd->w.n > HDR_LINE_MAX;
	}
	for (size_t i = 1; i < nw; i++)
		if (words[i].ws.n > WSP_RUN_MAX)
			words[i - 1].enc = words[i].enc = true;

	struct line l = header_start(out, name);
	for (size_t i = 0; i < nw; i++) {
		if (!words[i].enc) {
			line_put(&l, words[i].ws, words[i].w);
			continue;
		}
		/* Whitespace between encoded-words is invisible to decoders:
		 * adjacent ones share a run that encodes the spaces. */
		size_t j = i;
		while (j + 1 < nw && words[j + 1].enc)
			j++;
		const char *start = words[i].w.p, *stop = words[j].w.p + words[j].w.n;
		put_encoded(&l, words[i].ws, (struct span){start, (size_t)(stop - start)}, EW_TEXT);
		i = j;
	}
	buf_add(out, "\r\n", 2);
	free(words);
	buf_free(&clean);
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c);
}

/* Put display as a phrase after sep; returns false, having written nothing,
 * when there is no display name. */
static bool put_phrase(struct line *l, struct span sep, const char *display)
{
	struct buf clean = BUF_INIT, quoted = BUF_INIT;
	bool ascii = true, atoms = true;
	size_t piece = 0, longest = 0; /* whitespace and a word, as quoted */

	if (!display)
		return false;
	mime_put_clean(&clean, display, strlen(display));
	struct span v = span_trim(buf_span(&clean));
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		ascii &= c < 0x80;
		atoms &= is_wsp(v.p[i]) || is_atext(c);
		if (is_wsp(v.p[i]) && !is_wsp(v.p[i - 1]))
			piece = 0;
		piece += 1 + (c == '"' || c == '\\');
		longest = piece > longest ? piece : longest;
	}
	/* What fits on no line (a word with the whitespace before it, a space
	 * and quotes) is encoded, which can be split. */
	if (v.n == 0) {
		/* nothing to write */
	} else if (!ascii || contains(v, "=?") || longest + 3 > HDR_LINE_MAX) {
		put_encoded(l, sep, v, EW_PHRASE);
	} else if (atoms) {
		line_put_words(l, sep, v);
	} else {
		buf_addc(&quoted, '"');
		for (size_t i = 0; i < v.n; i++) {
			if (v.p[i] == '"' || v.p[i] == '\\')
				buf_addc(&quoted, '\\');
			buf_addc(&quoted, v.p[i]);
		}
		buf_addc(&quoted, '"');
		line_put_words(l, sep, buf_span(&quoted));
	}
	buf_free(&quoted);
	buf_free(&clean);
	return v.n > 0;
}

void hdr_address(struct buf *out, const char *name, const char *display, const char *addr)
{
	for (const char *a = addr; *a; a++)
		LB_ASSERT(*a >= ' ' && *a < 0x7F);
	struct line l = header_start(out, name);
	if (put_phrase(&l, SPAN_LIT(" "), display)) {
		struct buf angle = BUF_INIT;
		buf_printf(&angle, "<%s>", addr);
		line_put(&l, SPAN_LIT(" "), buf_span(&angle));
		buf_free(&angle);
	} else {
		line_put(&l, SPAN_LIT(" "), span_cstr(addr));
	}
	buf_add(out, "\r\n", 2);
}

void mime_phrase(struct buf *out, const char *s)
{
	struct line l = {out, 0, SIZE_MAX};
	put_phrase(&l, SPAN_LIT(""), s);
}

void hdr_raw(struct buf *out, const char *name, const char *value)
{
	struct buf clean = BUF_INIT;
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			LB_BUG("non-ASCII octet in a structured header field");
		buf_addc(&clean, *p < ' ' || *p == 0x7F ? ' ' : *p);
	}
	struct line l = header_start(out, name);
	line_put_words(&l, SPAN_LIT(" "), span_trim(buf_span(&clean)));
	buf_add(out, "\r\n", 2);
	buf_free(&clean);
}
