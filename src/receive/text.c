#include "receive/text.h"

#include <string.h>
#include <strings.h>

#include "receive/charset.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void text_lf(struct buf *out, const char *p, size_t n)
{
	const char *end = p + n;
	if (!out->max)
		buf_grow(out, n); /* one allocation for the lot */
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr) {
			buf_add(out, p, (size_t)(end - p));
			return;
		}
		buf_add(out, p, (size_t)(cr - p));
		buf_addc(out, '\n');
		p = cr + 1 < end && cr[1] == '\n' ? cr + 2 : cr + 1;
	}
}

/* ---- HTML ------------------------------------------------------------------------------------ */

struct html {
	struct buf *out;
	int quote, pre;
	bool space;   /* a collapsed run of whitespace is pending */
	int newlines; /* line breaks at the end of the output so far; 2 at the start */
};

static void put(struct html *h, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (h->newlines) {
		for (int i = 0; i < h->quote; i++)
			buf_addc(h->out, '>');
		if (h->quote)
			buf_addc(h->out, ' ');
	} else if (h->space) {
		buf_addc(h->out, ' ');
	}
	h->space = false;
	h->newlines = 0;
	buf_add(h->out, s, n);
}

static void newline(struct html *h)
{
	h->space = false;
	if (h->newlines >= 2)
		return;
	buf_addc(h->out, '\n');
	h->newlines++;
}

static void ensure_break(struct html *h, int k)
{
	while (h->newlines < k)
		newline(h);
}

static void put_cp(struct html *h, unsigned cp)
{
	char b[4];
	if (cp == 0xA0 || cp == ' ' || cp == '\t' || cp == '\n') {
		h->space = true;
		return;
	}
	/* HTML5: these numbers mean Windows-1252. */
	if (cp < 0x100)
		cp = cp1252_decode((unsigned char)cp);
	put(h, b, utf8_encode(cp, b));
}

/* U+00A0..U+00FF in order. */
static const char *const latin1_names[96] = {
    "nbsp",   "iexcl",	"cent",	  "pound",  "curren", "yen",	"brvbar", "sect",   "uml",
    "copy",   "ordf",	"laquo",  "not",    "shy",    "reg",	"macr",	  "deg",    "plusmn",
    "sup2",   "sup3",	"acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",	"AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",	"Iuml",	  "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",	"Oslash", "Ugrave", "Uacute", "Ucirc",	"Uuml",	  "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",	"aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",	"divide", "oslash", "ugrave",
    "uacute", "ucirc",	"uuml",	  "yacute", "thorn",  "yuml",
};

static const struct {
	const char *name;
	unsigned cp;
} entities[] = {
    {"amp", '&'},	{"lt", '<'},	    {"gt", '>'},	{"quot", '"'},
    {"apos", '\''},	{"ndash", 0x2013},  {"mdash", 0x2014},	{"lsquo", 0x2018},
    {"rsquo", 0x2019},	{"sbquo", 0x201A},  {"ldquo", 0x201C},	{"rdquo", 0x201D},
    {"bdquo", 0x201E},	{"hellip", 0x2026}, {"bull", 0x2022},	{"euro", 0x20AC},
    {"trade", 0x2122},	{"dagger", 0x2020}, {"Dagger", 0x2021}, {"permil", 0x2030},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"OElig", 0x152},	{"oelig", 0x153},
    {"Scaron", 0x160},	{"scaron", 0x161},  {"Yuml", 0x178},	{"fnof", 0x192},
    {"circ", 0x2C6},	{"tilde", 0x2DC},   {"ensp", ' '},	{"emsp", ' '},
    {"thinsp", ' '},	{"zwnj", 0x200C},   {"zwj", 0x200D},	{"lrm", 0x200E},
    {"rlm", 0x200F},	{"prime", 0x2032},  {"Prime", 0x2033},	{"larr", 0x2190},
    {"rarr", 0x2192},	{"hearts", 0x2665}, {"nbsp", 0xA0},
};

/* Decode the entity at p ('&'); returns its length, 0 if it is none. */
static size_t entity(struct html *h, const char *p, const char *end)
{
	const char *q = p + 1;
	unsigned cp = 0;
	if (q < end && *q == '#') {
		q++;
		bool hex = q < end && (*q == 'x' || *q == 'X');
		q += hex;
		const char *d = q;
		for (; q < end && q - d < 8; q++) {
			int v = *q >= '0' && *q <= '9'		? *q - '0'
				: hex && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
				: hex && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
								: -1;
			if (v < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned)v;
		}
		if (q == d)
			return 0;
		q += q < end && *q == ';';
		put_cp(h, cp > 0x10FFFF ? 0xFFFD : cp);
		return (size_t)(q - p);
	}
	const char *s = q;
	while (q < end && q - s < 32 && is_alnum(*q))
		q++;
	struct span name = {s, (size_t)(q - s)};
	bool semi = q < end && *q == ';';
	if (name.n == 0)
		return 0;
	for (size_t i = 0; i < sizeof entities / sizeof *entities; i++)
		if (span_eq(name, entities[i].name) && (semi || i < 4 || entities[i].cp == 0xA0)) {
			put_cp(h, entities[i].cp);
			return name.n + 1 + semi;
		}
	for (unsigned i = 0; semi && i < 96; i++)
		if (span_eq(name, latin1_names[i])) {
			put_cp(h, 0xA0 + i);
			return name.n + 2;
		}
	return 0;
}

/* Skip to just past "</name ...>" (case-insensitive), or to the end. */
static const char *skip_element(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if (end - p > (ptrdiff_t)(n + 2) && p[1] == '/' &&
		    strncasecmp(p + 2, name, n) == 0 && !is_alnum(p[2 + n])) {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			return gt ? gt + 1 : end;
		}
		p++;
	}
	return end;
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

static void tag(struct html *h, const char *name, bool closing)
{
	static const char *const para[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", NULL};
	static const char *const block[] = {
	    "div",     "tr",	  "table",   "ul",	 "ol",	   "dl",	 "dt",
	    "dd",      "section", "article", "header",	 "footer", "nav",	 "aside",
	    "address", "center",  "form",    "fieldset", "figure", "figcaption", "main",
	    "hr",      "caption", "details", "summary",	 "tbody",  "thead",	 NULL};
	if (strcmp(name, "br") == 0) {
		h->space = false;
		buf_addc(h->out, '\n');
		h->newlines = h->newlines < 2 ? h->newlines + 1 : 2;
	} else if (in_list(name, para)) {
		ensure_break(h, 2);
	} else if (in_list(name, block)) {
		ensure_break(h, 1);
	} else if (strcmp(name, "li") == 0) {
		ensure_break(h, 1);
		if (!closing)
			put(h, "- ", 2);
	} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		h->space = true;
	} else if (strcmp(name, "blockquote") == 0) {
		ensure_break(h, 1);
		h->quote += closing ? (h->quote > 0 ? -1 : 0) : 1;
	} else if (strcmp(name, "pre") == 0) {
		ensure_break(h, 1);
		h->pre += closing ? (h->pre > 0 ? -1 : 0) : 1;
	}
}

/* Handle the markup at p ('<'); returns where text resumes. */
static const char *markup(struct html *h, const char *p, const char *end)
{
	const char *q = p + 1;
	if (q < end && *q == '!') {
		if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
			const char *e = memmem(q + 3, (size_t)(end - q - 3), "-->", 3);
			return e ? e + 3 : end;
		}
		const char *gt = memchr(q, '>', (size_t)(end - q));
		return gt ? gt + 1 : end;
	}
	if (q < end && *q == '?') {
		const char *gt = memchr(q, '>', (size_t)(end - q));
		return gt ? gt + 1 : end;
	}
	bool closing = q < end && *q == '/';
	q += closing;
	char name[16];
	size_t n = 0;
	for (; q < end && is_alnum(*q); q++)
		if (n < sizeof name - 1)
			name[n++] = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
	name[n] = '\0';
	if (n == 0 || !(name[0] >= 'a' && name[0] <= 'z')) {
		put(h, "<", 1); /* a lone '<' in text */
		return p + 1;
	}
	while (q < end && *q != '>') {
		if (*q == '"' || *q == '\'') {
			const char *e = memchr(q + 1, *q, (size_t)(end - q - 1));
			q = e ? e + 1 : end;
		} else {
			q++;
		}
	}
	q = q < end ? q + 1 : end;
	static const char *const raw[] = {"script", "style", "title", "template", NULL};
	if (!closing && in_list(name, raw))
		return skip_element(q, end, name);
	tag(h, name, closing);
	return q;
}

void html_to_text(struct buf *out, const char *p, size_t n)
{
	struct html h = {out, 0, 0, false, 2};
	const char *end = p + n;
	size_t start = out->n;
	while (p < end) {
		const char *s = p;
		while (p < end && *p != '<' && *p != '&' && !is_space(*p))
			p++;
		put(&h, s, (size_t)(p - s));
		if (p >= end)
			break;
		if (*p == '<') {
			p = markup(&h, p, end);
		} else if (*p == '&') {
			size_t len = entity(&h, p, end);
			if (!len)
				put(&h, "&", 1);
			p += len ? len : 1;
		} else if (h.pre && (*p == '\n' || *p == '\r')) {
			p += *p == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1;
			h.space = false;
			buf_addc(out, '\n');
			h.newlines = 1;
		} else if (h.pre) {
			put(&h, p, 1);
			p++;
		} else {
			h.space = true;
			p++;
		}
	}
	/* No trailing blank lines. */
	while (out->n > start && (out->p[out->n - 1] == '\n' || out->p[out->n - 1] == ' '))
		buf_truncate(out, 1);
	if (out->n > start)
		buf_addc(out, '\n');
}

/* ---- format=flowed --------------------------------------------------------------------------- */

void text_unflow(struct buf *out, const char *p, size_t n, bool delsp)
{
	const char *end = p + n;
	bool prev_flowed = false, first = true;
	size_t prev_depth = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t depth = 0;
		const char *c = p;
		while (c < le && *c == '>')
			c++, depth++;
		if (c < le && *c == ' ')
			c++; /* space stuffing, or the space after the quote marks */
		size_t len = (size_t)(le - c);
		bool sig = len == 3 && memcmp(c, "-- ", 3) == 0;
		bool flowed = !sig && len > 0 && c[len - 1] == ' ';
		if (!(prev_flowed && depth == prev_depth)) {
			if (!first)
				buf_addc(out, '\n');
			for (size_t i = 0; i < depth; i++)
				buf_addc(out, '>');
			if (depth)
				buf_addc(out, ' ');
		}
		buf_add(out, c, len - (flowed && delsp));
		first = false;
		prev_flowed = flowed;
		prev_depth = depth;
		p = nl ? nl + 1 : end;
	}
	if (!first && n && end[-1] == '\n')
		buf_addc(out, '\n');
}

/* ---- the writer's own words ------------------------------------------------------------------ */

struct line {
	struct span s; /* without the LF */
	struct span t; /* trimmed */
	size_t next;   /* offset of the following line */
};

static bool get_line(const char *p, size_t n, size_t pos, struct line *l)
{
	if (pos >= n)
		return false;
	const char *nl = memchr(p + pos, '\n', n - pos);
	size_t e = nl ? (size_t)(nl - p) : n;
	l->s = (struct span){p + pos, e - pos};
	l->t = span_trim(l->s);
	l->next = nl ? e + 1 : n;
	return true;
}

static bool is_quoted(const struct line *l)
{
	return l->t.n && l->t.p[0] == '>';
}

static bool contains_ci(struct span s, const char *needle)
{
	size_t n = strlen(needle);
	char c = lower(needle[0]);
	for (size_t i = 0; i + n <= s.n; i++)
		if (lower(s.p[i]) == c && strncasecmp(s.p + i, needle, n) == 0)
			return true;
	return false;
}

static bool ends_with_ci(struct span s, const char *suffix)
{
	size_t n = strlen(suffix);
	return s.n >= n && strncasecmp(s.p + s.n - n, suffix, n) == 0;
}

static bool starts_with_any(struct span s, const char *const *list)
{
	for (; *list; list++)
		if (span_starts_with_ci(s, *list))
			return true;
	return false;
}

static bool ends_with_any(struct span s, const char *const *list)
{
	for (; *list; list++)
		if (ends_with_ci(s, *list))
			return true;
	return false;
}

static const char *const wrote[] = {
    "wrote:",	  "wrote :",	 "schrieb:",  "a écrit :", "a écrit:", "a écrit\xC2\xA0:",
    "escribió:",  "ha scritto:", "escreveu:", "skrev:",	   "schreef:", "napisał:",
    "kirjoitti:", "написал:",	 "написала:", NULL};
static const char *const attribution_starts[] = {"On ", "Am ", "Le ",  "El ",	  "Il ",
						 "Op ", "Em ", "Den ", "W dniu ", NULL};

/* The lists are read for every line of every text: a first or last byte
 * that none of their entries has settles most lines at once. */
static bool ends_wrote(struct span t)
{
	return t.n && t.p[t.n - 1] == ':' && ends_with_any(t, wrote);
}

static bool starts_attribution(struct span t)
{
	return t.n && t.p[0] && strchr("oaleidwOALEIDW", t.p[0]) &&
	       starts_with_any(t, attribution_starts);
}

/* The length in lines (1-3) of an attribution starting at l, else 0; *after
 * gets the offset past it. */
static int attribution(const char *p, size_t n, const struct line *l, size_t *after)
{
	if (l->t.n == 0 || l->t.n > 400)
		return 0;
	/* "Here is what my husband wrote:" is no attribution: a real one names
	 * an address or a date, or starts like "On …".  (Every ending in wrote
	 * is a colon.) */
	if (l->t.p[l->t.n - 1] == ':') {
		bool marked = false;
		if (ends_wrote(l->t)) {
			marked = memchr(l->t.p, '@', l->t.n) || memchr(l->t.p, '<', l->t.n) ||
				 starts_attribution(l->t);
			for (size_t i = 0; i < l->t.n && !marked; i++)
				marked = l->t.p[i] >= '0' && l->t.p[i] <= '9';
		}
		if (marked ||
		    (span_starts_with_ci(l->t, "Am ") && contains_ci(l->t, " schrieb "))) {
			*after = l->next;
			return 1;
		}
	}
	if (!starts_attribution(l->t))
		return 0;
	/* Gmail wraps long attributions: "On …, Name <\naddr> wrote:". */
	struct line m = *l;
	size_t total = l->t.n;
	for (int k = 2; k <= 3 && get_line(p, n, m.next, &m) && m.t.n; k++) {
		total += m.t.n;
		if (total > 400)
			return 0;
		if (ends_wrote(m.t)) {
			*after = m.next;
			return k;
		}
	}
	return 0;
}

static bool header_label(struct span t, const char *const *labels)
{
	while (t.n && t.p[0] == '*')
		t.p++, t.n--;
	return starts_with_any(t, labels);
}

static const char *const from_labels[] = {
    "From:", "Von:", "De:", "De :", "Van:", "Da:", "Från:", "Fra:", "Od:", "Från :", NULL};
static const char *const other_labels[] = {
    "Sent:",	"Date:",      "To:",	  "Subject:",	"Cc:",	    "Gesendet:", "Datum:",
    "An:",	"Betreff:",   "Envoyé :", "Envoyé:",	"Date :",   "À :",	 "Objet :",
    "Enviado:", "Fecha:",     "Para:",	  "Asunto:",	"Inviato:", "Data:",	 "A:",
    "Oggetto:", "Verzonden:", "Aan:",	  "Onderwerp:", "Skickat:", "Till:",	 "Ämne:",
    "Sendt:",	"Til:",	      "Emne:",	  "Sent :",	NULL};

/* header_label(t, from_labels), settled by the first letter when it can be. */
static bool from_label(struct span t)
{
	size_t i = 0;
	while (i < t.n && t.p[i] == '*')
		i++;
	char c = i < t.n ? lower(t.p[i]) : 0;
	return (c == 'f' || c == 'v' || c == 'd' || c == 'o') && header_label(t, from_labels);
}

/* "From: …" followed by "Sent:"/"Date:"/"To:"/"Subject:" (any language)
 * within the next lines: a quoted message's header block. */
static bool header_block(const char *p, size_t n, const struct line *l)
{
	if (!from_label(l->t))
		return false;
	struct line m = *l;
	for (int k = 0; k < 5 && get_line(p, n, m.next, &m); k++)
		if (header_label(m.t, other_labels))
			return true;
	return false;
}

static bool rule_of(struct span t, char c, size_t min)
{
	if (t.n < min)
		return false;
	for (size_t i = 0; i < t.n; i++)
		if (t.p[i] != c)
			return false;
	return true;
}

static bool is_marker(struct span t, const char *const *markers)
{
	for (; markers && *markers; markers++) {
		if (!t.n || lower(t.p[0]) != lower((*markers)[0]))
			continue; /* both ways of matching need this */
		size_t mn = strlen(*markers);
		if (mn &&
		    (span_eq_ci(t, *markers) || (mn >= 20 && span_starts_with_ci(t, *markers))))
			return true;
	}
	return false;
}

/* Where an unmarked copy of another message starts. */
static bool cut_here(const char *p, size_t n, const struct line *l, const char *const *markers)
{
	static const char *const banners[] = {"original message",
					      "ursprüngliche nachricht",
					      "message d'origine",
					      "mensaje original",
					      "messaggio originale",
					      "oorspronkelijk bericht",
					      "forwarded message",
					      "weitergeleitete nachricht",
					      "message transféré",
					      "mensaje reenviado",
					      "mensagem original",
					      "originalmeddelande",
					      NULL};
	static const char *const forwards[] = {"Begin forwarded message",
					       "Anfang der weitergeleiteten",
					       "Début du message réexpédié", NULL};
	struct span t = l->t;
	if (t.n == 0)
		return false;
	if ((span_starts_with(t, "--") || span_starts_with(t, "__") || span_starts_with(t, "**")) &&
	    t.n < 120) {
		for (const char *const *b = banners; *b; b++)
			if (contains_ci(t, *b))
				return true;
	}
	char c = lower(t.p[0]);
	if (((c == 'b' || c == 'a' || c == 'd') && starts_with_any(t, forwards)) ||
	    header_block(p, n, l) || is_marker(t, markers))
		return true;
	/* Outlook's separator rule above a header block. */
	if (rule_of(t, '_', 10) || rule_of(t, '-', 10)) {
		struct line m = *l;
		while (get_line(p, n, m.next, &m) && m.t.n == 0)
			;
		return m.t.n && header_block(p, n, &m);
	}
	return false;
}

struct own {
	struct buf *out;
	size_t start;
	size_t last; /* output offset where the last line starts */
	bool blank;  /* the last line written was blank (or nothing was written) */
};

static void own_line(struct own *o, const struct line *l)
{
	if (l->t.n == 0) {
		if (!o->blank)
			buf_addc(o->out, '\n');
		o->blank = true;
		return;
	}
	o->last = o->out->n;
	buf_add(o->out, l->s.p, l->s.n);
	buf_addc(o->out, '\n');
	o->blank = false;
}

/* Drop trailing blank lines and separator rules left above a cut. */
static void own_tidy(struct own *o)
{
	struct buf *b = o->out;
	for (;;) {
		while (b->n > o->start && is_space(b->p[b->n - 1]))
			buf_truncate(b, 1);
		if (b->n == o->start)
			break;
		size_t ls = b->n;
		while (ls > o->start && b->p[ls - 1] != '\n')
			ls--;
		struct span t = span_trim((struct span){b->p + ls, b->n - ls});
		if (t.n == 0 || !(rule_of(t, '_', 3) || rule_of(t, '-', 3) || rule_of(t, '=', 3)))
			break;
		buf_truncate(b, b->n - ls);
	}
	if (b->n > o->start)
		buf_addc(b, '\n');
}

bool text_own(struct buf *out, const char *p, size_t n, const char *const *markers)
{
	struct own o = {out, out->n, out->n, true};
	bool trimmed = false;
	if (!out->max)
		buf_grow(out, n + 1); /* the own words are at most all of it */
	size_t pos = 0, after;
	struct line l;

	while (get_line(p, n, pos, &l)) {
		if (is_quoted(&l)) {
			trimmed = true;
			pos = l.next;
			continue;
		}
		if (cut_here(p, n, &l, markers)) {
			trimmed = true;
			break;
		}
		/* Our newsletter's text starts "Site name\nTitle\n=====…". */
		if (rule_of(l.t, '=', 40) && !o.blank) {
			buf_truncate(out, out->n - o.last);
			trimmed = true;
			break;
		}
		if (attribution(p, n, &l, &after)) {
			struct line m = {{NULL, 0}, {NULL, 0}, after};
			while (get_line(p, n, m.next, &m) && m.t.n == 0)
				;
			trimmed = true;
			if (m.t.n && is_quoted(&m)) {
				pos = after;
				continue;
			}
			break; /* an unmarked copy follows, or nothing */
		}
		own_line(&o, &l);
		pos = l.next;
	}
	own_tidy(&o);
	return trimmed;
}
