#include "compose/mime.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

/* Test strings with long runs: "{75}" stands for 75 'x'. */
static char *expand(const char *s)
{
	struct buf b = BUF_INIT;
	while (*s) {
		if (*s != '{') {
			buf_addc(&b, *s++);
			continue;
		}
		size_t n = 0;
		for (s++; *s >= '0' && *s <= '9'; s++)
			n = n * 10 + (size_t)(*s - '0');
		s++; /* '}' */
		while (n--)
			buf_addc(&b, 'x');
	}
	return buf_take(&b);
}

static char *qp(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	qp_encode(&b, p, n);
	return buf_take(&b);
}

static char *unqp(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	qp_decode(&b, p, n);
	return buf_take(&b);
}

/* What qp_decode(qp_encode(x)) must give: LF alone becomes CRLF, a CR not
 * followed by LF stays what it was. */
static void crlf(struct buf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_addc(out, '\r');
		buf_addc(out, p[i]);
	}
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80    ? 1
			     : s[i] >= 0xF0 ? 4
			     : s[i] >= 0xE0 ? 3
			     : s[i] >= 0xC2 ? 2
					    : 0;
		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Every line of quoted-printable: CRLF-terminated, at most 76 octets of
 * printable ASCII, no trailing whitespace, no leading "." or "From ", and
 * (when utf8 is set) each line decodes to whole UTF-8 characters. */
static bool qp_well_formed(const char *e, size_t n, bool utf8)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(e + i, '\n', n - i);
		if (!nl || nl == e + i || nl[-1] != '\r')
			return false;
		size_t len = (size_t)(nl - 1 - (e + i));
		const char *line = e + i;
		if (len > 76)
			return false;
		for (size_t k = 0; k < len; k++)
			if ((line[k] < ' ' || line[k] > '~') && line[k] != '\t')
				return false;
		if (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			return false;
		if ((len && line[0] == '.') || (len >= 5 && memcmp(line, "From ", 5) == 0))
			return false;
		if (utf8) {
			char *d = unqp(line, len);
			bool ok = utf8_valid((const unsigned char *)d, strlen(d));
			free(d);
			if (!ok)
				return false;
		}
		i += len + 2;
	}
	return true;
}

static uint32_t rng = 2463534242u;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Random text from pieces that exercise every rule of the encoder. */
static void random_text(struct buf *b, size_t pieces)
{
	static const char *const alphabet[] = {
	    "a",
	    "word ",
	    " ",
	    "\t",
	    "?",
	    "\r",
	    "\n",
	    "\r\n",
	    ".",
	    "From ",
	    "F",
	    "=",
	    "\xff",
	    "\xc3\xa9",
	    "\xe6\x97\xa5",
	    "\xf0\x9f\x98\x80",
	    "\xc3",
	    "xxxxxxxxxxxxxxxxxxx",
	};
	for (size_t i = 0; i < pieces; i++)
		buf_adds(b, alphabet[next_random() % (sizeof alphabet / sizeof alphabet[0])]);
	if (next_random() % 8 == 0)
		buf_addc(b, '\0');
}

/* ---- quoted-printable -------------------------------------------------------------------------
 */

static void test_qp_table(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"hello", "hello=\r\n"},
	    {"hello\n", "hello\r\n"},
	    {"hello\r\n", "hello\r\n"},
	    {"a\r\nb\nc", "a\r\nb\r\nc=\r\n"},
	    {"\n\n", "\r\n\r\n"},
	    /* whitespace before a hard break, but not before a soft one */
	    {"a \nb\t\r\n", "a=20\r\nb=09\r\n"},
	    {" \t \n", " \t=20\r\n"},
	    {"a  ", "a  =\r\n"},
	    {" ", " =\r\n"},
	    /* line starts */
	    {".\n", "=2E\r\n"},
	    {"a\n.b\n", "a\r\n=2Eb\r\n"},
	    {"a.b", "a.b=\r\n"},
	    {"From me\n", "=46rom me\r\n"},
	    {"a\nFrom b", "a\r\n=46rom b=\r\n"},
	    {"From\n", "From\r\n"},
	    {"Fro", "Fro=\r\n"},
	    {"xFrom y", "xFrom y=\r\n"},
	    /* escapes */
	    {"a=b", "a=3Db=\r\n"},
	    {"a\rb", "a=0Db=\r\n"},
	    {"a\r", "a=0D=\r\n"},
	    {"\r\r\n", "=0D\r\n"},
	    {"caf\xc3\xa9", "caf=C3=A9=\r\n"},
	    {"\x01\x7f\xff\xc0\x80", "=01=7F=FF=C0=80=\r\n"},
	    {"~!\"#$%&'()*+,-/:;<>?@[\\]^_`{|}", "~!\"#$%&'()*+,-/:;<>?@[\\]^_`{|}=\r\n"},
	    /* line length: 76 with a hard break, 75 + "=" with a soft one */
	    {"{76}\n", "{76}\r\n"},
	    {"{77}\n", "{75}=\r\nxx\r\n"},
	    {"{75}", "{75}=\r\n"},
	    {"{76}", "{75}=\r\nx=\r\n"},
	    {"{151}", "{75}=\r\n{75}=\r\nx=\r\n"},
	    /* triplets are never split */
	    {"{72}=", "{72}=3D=\r\n"},
	    {"{73}=", "{73}=\r\n=3D=\r\n"},
	    {"{73}=\n", "{73}=3D\r\n"},
	    {"{74}=\n", "{74}=\r\n=3D\r\n"},
	    {"{73} \n", "{73}=20\r\n"},
	    {"{74} \n", "{74}=\r\n=20\r\n"},
	    {"{75} x", "{75}=\r\n x=\r\n"},
	    {"{74} x", "{74} =\r\nx=\r\n"},
	    /* nor UTF-8 sequences */
	    {"{69}\xc3\xa9", "{69}=C3=A9=\r\n"},
	    {"{70}\xc3\xa9", "{70}=\r\n=C3=A9=\r\n"},
	    {"{70}\xc3\xa9\n", "{70}=C3=A9\r\n"},
	    {"{63}\xf0\x9f\x98\x80", "{63}=F0=9F=98=80=\r\n"},
	    {"{64}\xf0\x9f\x98\x80", "{64}=\r\n=F0=9F=98=80=\r\n"},
	    {"{74}\xc3", "{74}=\r\n=C3=\r\n"},
	    /* a soft break makes a new line start */
	    {"{75}From x", "{75}=\r\n=46rom x=\r\n"},
	    {"{75}..", "{75}=\r\n=2E.=\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *in = expand(cases[i].in), *want = expand(cases[i].want);
		char *got = qp(in, strlen(in));
		CHECK_STR(got, want);
		free(in);
		free(want);
		free(got);
	}
	char *got = qp("a\0b", 3);
	CHECK_STR(got, "a=00b=\r\n");
	free(got);
}

static void test_qp_decode_table(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"a=3Db", "a=b"},	  {"=c3=a9", "\xc3\xa9"}, {"a=\r\nb", "ab"},
	    {"a= \t\r\nb", "ab"}, {"a=\nb", "ab"},	  {"a=", "a"},
	    {"=\r\n", ""},	  {"a  \r\nb", "a\r\nb"}, {"a\nb", "a\nb"},
	    {"a \t", "a"},	  {"a=4", "a=4"},	  {"a=ZZ", "a=ZZ"},
	    {"a=4g=", "a=4g"},	  {"a=\rb", "a=\rb"},	  {"x=\r\n=2E=3D=3d", "x.=="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = unqp(cases[i].in, strlen(cases[i].in));
		CHECK_STR(got, cases[i].want);
		free(got);
	}
}

/* decode(encode(x)) is x with CRLF line breaks, and the output is well-formed. */
static void test_qp_round_trip(void)
{
	int bad_shape = 0, bad_trip = 0;
	for (int iter = 0; iter < 3000; iter++) {
		struct buf in = BUF_INIT, want = BUF_INIT;
		random_text(&in, next_random() % 60);
		char *e = qp(buf_cstr(&in), in.n);
		struct buf d = BUF_INIT;
		qp_decode(&d, e, strlen(e));
		crlf(&want, buf_cstr(&in), in.n);
		if (!qp_well_formed(e, strlen(e), false) && bad_shape++ == 0)
			fprintf(stderr, "    bad shape: \"%s\"\n", e);
		if (want.n != d.n || memcmp(buf_cstr(&want), buf_cstr(&d), d.n) != 0) {
			if (bad_trip++ == 0)
				fprintf(stderr, "    round trip of \"%s\" gave \"%s\"\n",
					buf_cstr(&in), buf_cstr(&d));
		}
		free(e);
		buf_free(&d);
		buf_free(&in);
		buf_free(&want);
	}
	CHECK_INT(bad_shape, 0);
	CHECK_INT(bad_trip, 0);
}

static const char sample[] =
    "Dear friends,\n"
    "From next week the practice opens at 8:00.  \n"
    ".\n"
    "Gr\xc3\xbc\xc3\x9f\x65 aus K\xc3\xb6ln \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 "
    "= 100%\r\n"
    "A long line that goes on and on and on without any line break at all, well past "
    "seventy-six columns, so that it must be soft-broken twice or more.\t\r\n"
    "lone\rCR and trailing tab\t";

/* Pieces encoded separately and concatenated decode to the concatenation. */
static void test_qp_concatenation(void)
{
	size_t n = sizeof sample - 1;
	int bad = 0, bad_shape = 0;
	for (size_t k = 0; k <= n; k++) {
		struct buf enc = BUF_INIT, want = BUF_INIT;
		qp_encode(&enc, sample, k);
		qp_encode(&enc, sample + k, n - k);
		crlf(&want, sample, k);
		crlf(&want, sample + k, n - k);
		char *d = unqp(buf_cstr(&enc), enc.n);
		bad += strcmp(d, buf_cstr(&want)) != 0;
		bad_shape += !qp_well_formed(buf_cstr(&enc), enc.n, false);
		/* split anywhere but inside a CRLF: just the whole text's decoding */
		if (!(k > 0 && sample[k - 1] == '\r' && sample[k] == '\n')) {
			buf_reset(&want);
			crlf(&want, sample, n);
			bad += strcmp(d, buf_cstr(&want)) != 0;
		}
		free(d);
		buf_free(&enc);
		buf_free(&want);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(bad_shape, 0);

	/* three pieces, random cuts */
	bad = 0;
	for (int iter = 0; iter < 500; iter++) {
		size_t a = next_random() % (n + 1), b = next_random() % (n + 1);
		if (a > b) {
			size_t t = a;
			a = b;
			b = t;
		}
		struct buf enc = BUF_INIT, want = BUF_INIT;
		qp_encode(&enc, sample, a);
		qp_encode(&enc, sample + a, b - a);
		qp_encode(&enc, sample + b, n - b);
		crlf(&want, sample, a);
		crlf(&want, sample + a, b - a);
		crlf(&want, sample + b, n - b);
		char *d = unqp(buf_cstr(&enc), enc.n);
		bad += strcmp(d, buf_cstr(&want)) != 0;
		free(d);
		buf_free(&enc);
		buf_free(&want);
	}
	CHECK_INT(bad, 0);
}

/* Long runs of multi-octet characters at every alignment: no line of the
 * encoding holds part of a character. */
static void test_qp_utf8_not_split(void)
{
	static const char *const chars[] = {"\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80"};
	for (size_t c = 0; c < 3; c++) {
		int bad = 0;
		for (size_t offset = 0; offset < 4; offset++) {
			struct buf in = BUF_INIT;
			for (size_t i = 0; i < offset; i++)
				buf_addc(&in, 'a');
			for (int i = 0; i < 200; i++)
				buf_adds(&in, chars[c]);
			char *e = qp(buf_cstr(&in), in.n);
			bad += !qp_well_formed(e, strlen(e), true);
			free(e);
			buf_free(&in);
		}
		CHECK_INT(bad, 0);
	}
	/* the check itself notices a split character */
	CHECK(!qp_well_formed("=C3=\r\n=A9\r\n", 12, true));
}

/* ---- header fields ----------------------------------------------------------------------------
 */

/* The octets of one encoded-word "=?UTF-8?Q?...?=" or "...?B?...", decoded
 * here independently of mime.c; false if it is neither. */
static bool ew_octets(struct buf *out, const char *w, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (n < 12 || (strncmp(w, "=?UTF-8?Q?", 10) != 0 && strncmp(w, "=?UTF-8?B?", 10) != 0))
		return false;
	bool q = w[8] == 'Q';
	unsigned acc = 0, bits = 0;
	for (size_t i = 10; i < n - 2; i++) {
		if (q && w[i] == '=' && i + 2 < n - 2) {
			char hex[3] = {w[i + 1], w[i + 2], 0};
			buf_addc(out, (char)strtoul(hex, NULL, 16));
			i += 2;
		} else if (q) {
			buf_addc(out, w[i] == '_' ? ' ' : w[i]);
		} else if (w[i] != '=') {
			const char *d = strchr(b64, w[i]);
			if (!d)
				return false;
			acc = (acc << 6 | (unsigned)(d - b64)) & 0xFFFF;
			if ((bits += 6) >= 8) {
				bits -= 8;
				buf_addc(out, (char)(acc >> bits & 0xFF));
			}
		}
	}
	return true;
}

/* A header field as the wire sees it: CRLF-terminated lines of at most 78
 * octets, printable ASCII (and tab) only, continuation lines start with
 * whitespace, every encoded-word at most 75 octets and whole characters. */
static bool hdr_well_formed(const char *h)
{
	size_t n = strlen(h), i = 0;
	if (n < 2 || h[n - 2] != '\r' || h[n - 1] != '\n')
		return false;
	while (i < n) {
		const char *line = h + i, *cr = strstr(line, "\r\n");
		size_t len = (size_t)(cr - line);
		if (len > 78 || (i > 0 && line[0] != ' ' && line[0] != '\t'))
			return false;
		if (len == 0 || (i > 0 && strspn(line, " \t") >= len))
			return false;
		for (size_t k = 0; k < len; k++)
			if ((line[k] < ' ' || line[k] > '~') && line[k] != '\t')
				return false;
		i += len + 2;
	}
	for (const char *w = strstr(h, "=?"); w; w = strstr(w + 2, "=?")) {
		const char *end = strstr(w + 10, "?=");
		if (!end || end + 2 - w > 75)
			return false;
		struct buf d = BUF_INIT;
		bool ok = ew_octets(&d, w, (size_t)(end + 2 - w)) &&
			  utf8_valid((const unsigned char *)buf_cstr(&d), d.n);
		buf_free(&d);
		if (!ok)
			return false;
		w = end;
	}
	return true;
}

/* The value hdr_decode reads back from a field written by hdr_*: unfolded,
 * decoded, without the space after the colon. */
static char *read_back(const char *h)
{
	const char *colon = strchr(h, ':');
	struct buf d = BUF_INIT;
	hdr_decode(&d, colon + 1, strlen(colon + 1));
	char *s = buf_take(&d);
	if (s[0] == ' ')
		memmove(s, s + 1, strlen(s));
	return s;
}

static char *text_field(const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	hdr_text(&b, name, value);
	return buf_take(&b);
}

static void test_hdr_text_table(void)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
	    {"Hello world", "Subject: Hello world\r\n"},
	    {"100% _fun_? (yes) \"quoted\" a=b", "Subject: 100% _fun_? (yes) \"quoted\" a=b\r\n"},
	    {"", "Subject:\r\n"},
	    {" \t ", "Subject:\r\n"},
	    {"  padded  ", "Subject: padded\r\n"},
	    {"a  b\tc", "Subject: a  b\tc\r\n"},
	    {"Hi\r\nBcc: x@y", "Subject: Hi  Bcc: x@y\r\n"},
	    {"Hi\nBcc: x@y", "Subject: Hi Bcc: x@y\r\n"},
	    {"a\x01\x62\x7f", "Subject: a b\r\n"},
	    {"x\xc2\x85y", "Subject: x y\r\n"},
	    {"Gr\xc3\xbc\xc3\x9f\x65 aus K\xc3\xb6ln",
	     "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?K=C3=B6ln?=\r\n"},
	    {"Caf\xc3\xa9 M\xc3\xbcller", "Subject: =?UTF-8?Q?Caf=C3=A9_M=C3=BCller?=\r\n"},
	    {"caf\xc3\xa9  \t  M\xc3\xbcller",
	     "Subject: =?UTF-8?Q?caf=C3=A9__=09__M=C3=BCller?=\r\n"},
	    {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
	     "Subject: =?UTF-8?B?0J/RgNC40LLQtdGCINC80LjRgA==?=\r\n"},
	    {"caf\xe9 ok", "Subject: =?UTF-8?Q?caf=EF=BF=BD?= ok\r\n"},
	    {"a =?utf-8?q?x?= b", "Subject: a =?UTF-8?Q?=3D=3Futf-8=3Fq=3Fx=3F=3D?= b\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = text_field("Subject", cases[i].value);
		CHECK_STR(got, cases[i].want);
		free(got);
	}
}

/* A value never starts a header field of its own, however it is built. */
static void test_hdr_injection(void)
{
	static const char *const values[] = {
	    "Hi\r\nBcc: x@y",
	    "Hi\rBcc: x@y",
	    "Hi\nBcc: x@y",
	    "Hi\r\n\r\nbody",
	    "\r\nBcc: x@y",
	    "{70} \r\nBcc: x@y",
	    "\xc3\xa9{70}\r\nBcc: x@y \xc3\xa9",
	    "Hi\r\n Bcc: x@y",
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char *v = expand(values[i]), *h = text_field("Subject", v);
		CHECK(hdr_well_formed(h));
		CHECK(!strstr(h, "\nBcc") && !strstr(h, "\r\n\r\n"));
		free(h);
		struct buf b = BUF_INIT;
		hdr_address(&b, "To", v, "a@example.org");
		CHECK(hdr_well_formed(buf_cstr(&b)));
		CHECK(!strstr(buf_cstr(&b), "\nBcc"));
		buf_reset(&b);
		hdr_raw(&b, "X-Test", v[0] == '\xc3' ? "ascii\r\nBcc: x" : v);
		CHECK(hdr_well_formed(buf_cstr(&b)));
		buf_free(&b);
		free(v);
	}
}

/* Folding and encoding of long values; each must read back unchanged. */
static void test_hdr_text_long(void)
{
	struct buf v = BUF_INIT;
	static const char *const words[] = {"therapy",
					    "practice",
					    "newsletter",
					    "spring",
					    "Gr\xc3\xbc\xc3\x9f\x65",
					    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
					    "\xf0\x9f\x98\x80"};
	struct {
		const char *what;
		size_t nwords; /* how many of words[] to draw from */
	} kinds[] = {{"ascii", 4}, {"latin", 5}, {"mixed", 7}};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		buf_reset(&v);
		while (v.n < 300) {
			buf_adds(&v, words[next_random() % kinds[k].nwords]);
			buf_adds(&v, next_random() % 5 ? " " : "  ");
		}
		buf_adds(&v, "end");
		char *h = text_field("Subject", buf_cstr(&v)), *back = read_back(h);
		if (!hdr_well_formed(h))
			fprintf(stderr, "    %s: %s", kinds[k].what, h);
		CHECK(hdr_well_formed(h));
		CHECK(strstr(h, "\r\n ") != NULL); /* it did fold */
		CHECK_STR(back, buf_cstr(&v));
		if (k == 0) { /* plain ASCII folds without any encoding */
			CHECK(!strstr(h, "=?"));
		}
		free(h);
		free(back);
	}

	static const char *const values[] = {
	    "{200}",
	    "a {200} b",
	    "a{100}b",
	    "{40} {40} {40} {40}",
	    "a{100} b",
	    "a {60}                                                                      b",
	    "\xc3\xa9                                                                      b",
	    "{77}",
	    "{78}",
	    "\xc3\xa9{100}",
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char *val = expand(values[i]);
		char *h = text_field("Subject", val), *back = read_back(h);
		if (!hdr_well_formed(h))
			fprintf(stderr, "    value %zu: %s", i, h);
		CHECK(hdr_well_formed(h));
		CHECK_STR(back, val);
		free(h);
		free(back);
		/* a long field name leaves less room on the first line */
		h = text_field("X-A-Rather-Long-Field-Name-For-Testing-The-First-Line", val);
		back = read_back(h);
		CHECK(hdr_well_formed(h));
		CHECK_STR(back, val);
		free(h);
		free(back);
		free(val);
	}
	buf_free(&v);
}

static void test_hdr_text_round_trip(void)
{
	int bad = 0;
	for (int iter = 0; iter < 2000; iter++) {
		struct buf in = BUF_INIT, want = BUF_INIT;
		random_text(&in, next_random() % 40);
		/* what the value means once cleaned: controls become spaces,
		 * invalid octets U+FFFD, the ends trimmed */
		for (size_t i = 0; i < strlen(buf_cstr(&in)); i++) {
			unsigned char c = (unsigned char)in.p[i];
			if (c == '\r' || c == '\n')
				buf_addc(&want, ' ');
			else if (c == 0xff || (c == 0xc3 && (unsigned char)in.p[i + 1] != 0xa9))
				buf_adds(&want, "\xef\xbf\xbd");
			else
				buf_addc(&want, (char)c);
		}
		struct span w = span_trim(buf_span(&want));
		char *h = text_field("Subject", buf_cstr(&in)), *back = read_back(h);
		if (!hdr_well_formed(h) || !span_eq(w, back)) {
			if (bad++ == 0)
				fprintf(stderr, "    \"%s\" -> %s    read back \"%s\"\n",
					buf_cstr(&in), h, back);
		}
		free(h);
		free(back);
		buf_free(&in);
		buf_free(&want);
	}
	CHECK_INT(bad, 0);
}

static void test_hdr_address(void)
{
	static const struct {
		const char *display, *want;
	} cases[] = {
	    {NULL, "To: ada@example.org\r\n"},
	    {"", "To: ada@example.org\r\n"},
	    {" \r\n ", "To: ada@example.org\r\n"},
	    {"Ada Lovelace", "To: Ada Lovelace <ada@example.org>\r\n"},
	    {"O'Brien #1", "To: O'Brien #1 <ada@example.org>\r\n"},
	    {"Lovelace, Ada", "To: \"Lovelace, Ada\" <ada@example.org>\r\n"},
	    {"J. Smith", "To: \"J. Smith\" <ada@example.org>\r\n"},
	    {"Say \"hi\" \\o/", "To: \"Say \\\"hi\\\" \\\\o/\" <ada@example.org>\r\n"},
	    {"Hi\r\nBcc: x", "To: \"Hi  Bcc: x\" <ada@example.org>\r\n"},
	    {"Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m",
	     "To: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <ada@example.org>\r\n"},
	    {"M\xc3\xbcller, J\xc3\xb6rg (Dr.)",
	     "To: =?UTF-8?Q?M=C3=BCller=2C_J=C3=B6rg_=28Dr=2E=29?= <ada@example.org>\r\n"},
	    {"=?UTF-8?Q?x?=", "To: =?UTF-8?Q?=3D=3FUTF-8=3FQ=3Fx=3F=3D?= <ada@example.org>\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		hdr_address(&b, "To", cases[i].display, "ada@example.org");
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}

	static const char *const long_names[] = {
	    "Ada Augusta King, Countess of Lovelace, Analyst and Metaphysician, Enchantress "
	    "of Numbers",
	    "{50} {50} {50}",
	    "{100}",
	    "{4}\t\t\t\t\t\t                                              {38}",
	    "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m, Therapeutin f\xc3\xbcr Paar- und "
	    "Familientherapie, Praxis am M\xc3\xbchlenweg",
	};
	for (size_t i = 0; i < sizeof long_names / sizeof long_names[0]; i++) {
		char *name = expand(long_names[i]);
		struct buf b = BUF_INIT;
		hdr_address(&b, "Reply-To", name, "ada@example.org");
		CHECK(hdr_well_formed(buf_cstr(&b)));
		CHECK(strstr(buf_cstr(&b), "\r\n ") != NULL);
		const char *tail = " <ada@example.org>\r\n";
		CHECK(b.n > strlen(tail) && strcmp(buf_cstr(&b) + b.n - strlen(tail), tail) == 0);
		buf_free(&b);
		free(name);
	}
}

static void test_mime_phrase(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"Ada Lovelace", "Ada Lovelace"},
	    {"a.b", "\"a.b\""},
	    {"Caf\xc3\xa9", "=?UTF-8?Q?Caf=C3=A9?="},
	    {"\xe6\x97\xa5\xe6\x9c\xac", "=?UTF-8?B?5pel5pys?="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		mime_phrase(&b, cases[i].in);
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
	/* long: several encoded-words on one unfolded line */
	struct buf b = BUF_INIT, in = BUF_INIT;
	for (int i = 0; i < 40; i++)
		buf_adds(&in, "Zo\xc3\xab ");
	mime_phrase(&b, buf_cstr(&in));
	CHECK(!strchr(buf_cstr(&b), '\r') && !strchr(buf_cstr(&b), '\n'));
	CHECK(strstr(buf_cstr(&b), "?= =?UTF-8?Q?") != NULL);
	buf_reset(&in);
	hdr_decode(&in, b.p, b.n);
	CHECK(strncmp(buf_cstr(&in), "Zo\xc3\xab Zo\xc3\xab ", 10) == 0 && in.n == 40 * 5 - 1);
	buf_free(&b);
	buf_free(&in);
}

static void test_hdr_raw(void)
{
	static const struct {
		const char *name, *value, *want;
	} cases[] = {
	    {"Message-ID", "<abc.123@example.org>", "Message-ID: <abc.123@example.org>\r\n"},
	    {"X-Test", " a\r\nb\x01 ", "X-Test: a  b\r\n"},
	    {"List-Unsubscribe",
	     "<https://example.org/unsubscribe/0123456789abcdef>, "
	     "<mailto:leave@example.org?subject=unsubscribe>",
	     "List-Unsubscribe: <https://example.org/unsubscribe/0123456789abcdef>,"
	     "\r\n <mailto:leave@example.org?subject=unsubscribe>\r\n"},
	    {"Content-Type",
	     "multipart/alternative; boundary=\"=_letterbox_0123456789abcdef0123456789\"",
	     "Content-Type: multipart/alternative;\r\n"
	     " boundary=\"=_letterbox_0123456789abcdef0123456789\"\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		hdr_raw(&b, cases[i].name, cases[i].value);
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
}

/* A non-ASCII octet in a structured field is our bug: the process aborts. */
static void test_hdr_raw_rejects_8bit(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		struct buf b = BUF_INIT;
		hdr_raw(&b, "X-Test", "caf\xc3\xa9");
		_exit(0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void test_hdr_decode(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain text", "plain text"},
	    {"=?UTF-8?Q?caf=C3=A9?=", "caf\xc3\xa9"},
	    {"=?utf-8?q?caf=c3=a9_au_lait?=", "caf\xc3\xa9 au lait"},
	    {"=?utf-8?b?Y2Fmw6k=?=", "caf\xc3\xa9"},
	    {"=?utf-8?b?Y2Fmw6k?=", "caf\xc3\xa9"},
	    {"=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9"},
	    {"=?iso-8859-1?b?Y2Fm6Q==?=", "caf\xc3\xa9"},
	    {"=?windows-1252?Q?=80_=93x=94?=", "\xe2\x82\xac \xe2\x80\x9cx\xe2\x80\x9d"},
	    {"=?windows-1252?Q?=81?=", "\xef\xbf\xbd"},
	    {"=?ISO-8859-15?Q?=A4?=", "\xe2\x82\xac"},
	    {"=?KOI8-R?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	    {"=?US-ASCII*en?Q?hi?=", "hi"},
	    {"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},
	    {"=?UTF-8?Q?a?=\r\n\t=?UTF-8?Q?b?=", "ab"},
	    {"=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=", "a\xc3\xa9"},
	    {"a =?UTF-8?Q?b?= c", "a b c"},
	    {"a=?UTF-8?Q?b?=c", "abc"},
	    {"=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9"},
	    {"=?UTF-8?Q?a?=  ", "a  "},
	    {"plain\r\n folded", "plain folded"},
	    {"=?UTF-8?Q?a=0D=0Ab=00?=", "a  b "},
	    {"=?UTF-8?Q?=FF?=", "\xef\xbf\xbd"},
	    {"raw \xff", "raw \xef\xbf\xbd"},
	    /* kept as they are */
	    {"=?x-no-such-charset?Q?abc?= d", "=?x-no-such-charset?Q?abc?= d"},
	    {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
	    {"=?UTF-8?B?!!!!?=", "=?UTF-8?B?!!!!?="},
	    {"=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?="},
	    {"=?UTF-8?Q?abc", "=?UTF-8?Q?abc"},
	    {"=?", "=?"},
	    {"a=?b", "a=?b"},
	    {"=?UTF-8?Q?a?= =?bogus?Q?b?= =?UTF-8?Q?c?=", "a =?bogus?Q?b?= c"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		hdr_decode(&b, cases[i].in, strlen(cases[i].in));
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
}

int main(void)
{
	RUN(test_qp_table);
	RUN(test_qp_decode_table);
	RUN(test_qp_round_trip);
	RUN(test_qp_concatenation);
	RUN(test_qp_utf8_not_split);
	RUN(test_hdr_text_table);
	RUN(test_hdr_injection);
	RUN(test_hdr_text_long);
	RUN(test_hdr_text_round_trip);
	RUN(test_hdr_address);
	RUN(test_mime_phrase);
	RUN(test_hdr_raw);
	RUN(test_hdr_raw_rejects_8bit);
	RUN(test_hdr_decode);
	return harness_done("mime");
}
