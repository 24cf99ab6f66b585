#include "receive/lexicon.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "receive/classify.h"
#include "receive/wordtok.h"

/* "..." is 0 to GAP_MAX words; a phrase spans at most SPAN_MAX words. */
#define GAP_MAX	  3
#define SPAN_MAX  48
#define NEG_WORDS 3
/* Words read at a time; a block keeps HISTORY words before the next start
 * (denials, exceptions that begin earlier) and AHEAD words after the last. */
#define BLOCK	512
#define HISTORY 64
#define AHEAD	64
#define LANGS	32
#define ALWAYS	UINT8_MAX /* a phrase of lexicon_of_phrases: every language */

struct alt {
	char w[WORD_MAX]; /* a stem, or a prefix of the folded word */
	unsigned char len;
	bool prefix;
};

struct ptok {
	uint32_t alt, nalt; /* alts[alt .. alt+nalt) */
	bool gap;
};

struct pattern {
	const char *src;
	uint32_t tok, ntok;
	unsigned char lang, span;
	bool exception, negatable;
};

struct bucket {
	char key[WORD_MAX + 1]; /* a stem, or '*' and a prefix's first 3 bytes */
	uint32_t *v;
	size_t n, cap;
};

struct lexicon {
	struct pattern *pat;
	struct ptok *tok;
	struct alt *alt;
	size_t npat, ntok, nalt, cappat, captok, capalt;
	char **owned; /* copies of file lines, the patterns' src */
	size_t nowned, capowned;
	struct bucket *tab; /* open addressing; tabcap a power of 2 */
	size_t tabcap;
	struct bucket always; /* phrases whose first word has a short prefix */
	struct bucket exc;    /* exceptions */
};

/* ---- parsing --------------------------------------------------------------------------------- */

/* One word of a phrase (no spaces inside): its alternative into lx->alt. */
static const char *add_alt(struct lexicon *lx, const char *s, size_t n)
{
	bool prefix = n > 0 && s[n - 1] == '*';
	struct wordtok t;
	struct word w, extra;
	wordtok_init(&t, s, n - prefix);
	if (!wordtok_next(&t, &w) || wordtok_next(&t, &extra))
		return prefix ? "a word* must be one word" : "each of { } must be one word";
	if (w.cut)
		return "a word is too long";
	lx->alt = xgrowarray(lx->alt, &lx->capalt, lx->nalt + 1, sizeof *lx->alt);
	struct alt *a = &lx->alt[lx->nalt++];
	memcpy(a->w, prefix ? w.norm : w.stem, WORD_MAX);
	a->len = (unsigned char)strlen(a->w);
	a->prefix = prefix;
	return NULL;
}

static void add_tok(struct lexicon *lx, uint32_t alt, bool gap)
{
	lx->tok = xgrowarray(lx->tok, &lx->captok, lx->ntok + 1, sizeof *lx->tok);
	lx->tok[lx->ntok++] = (struct ptok){alt, (uint32_t)lx->nalt - alt, gap};
}

/* One item between spaces: "...", "{a,b*}", "word*" or plain words. */
static const char *add_item(struct lexicon *lx, const char *s, size_t n, bool *gap)
{
	uint32_t alt = (uint32_t)lx->nalt;
	const char *why = NULL;
	*gap = n == 3 && memcmp(s, "...", 3) == 0;
	if (*gap) {
		add_tok(lx, alt, true);
	} else if (s[0] == '{' || s[n - 1] == '}') {
		if (n < 3 || s[0] != '{' || s[n - 1] != '}' || memchr(s + 1, '{', n - 2) ||
		    memchr(s + 1, '}', n - 2))
			return "unbalanced { }";
		for (size_t i = 1; i < n - 1 && !why;) {
			size_t k = i;
			while (k < n - 1 && s[k] != ',')
				k++;
			why = k > i ? add_alt(lx, s + i, k - i) : "an empty choice in { }";
			i = k + 1;
		}
		if (!why)
			add_tok(lx, alt, false);
	} else if (s[n - 1] == '*') {
		if (!(why = add_alt(lx, s, n)))
			add_tok(lx, alt, false);
	} else { /* "self-harm" is two words */
		struct wordtok t;
		struct word w;
		wordtok_init(&t, s, n);
		while (!why && wordtok_next(&t, &w)) {
			if (w.cut) {
				why = "a word is too long";
				break;
			}
			lx->alt = xgrowarray(lx->alt, &lx->capalt, lx->nalt + 1, sizeof *lx->alt);
			struct alt *a = &lx->alt[lx->nalt++];
			memcpy(a->w, w.stem, WORD_MAX);
			a->len = (unsigned char)strlen(a->w);
			a->prefix = false;
			add_tok(lx, (uint32_t)lx->nalt - 1, false);
		}
	}
	return why;
}

/* Parse s[0..n) (no leading '-') into a pattern; on error nothing is kept. */
static const char *add_pattern(struct lexicon *lx, const char *src, const char *s, size_t n,
			       unsigned char lang, bool exception, bool negatable)
{
	size_t ntok = lx->ntok, nalt = lx->nalt, words = 0, gaps = 0;
	bool gap = true; /* before the first item: "..." may not start */
	const char *why = NULL;
	for (size_t i = 0; i < n && !why;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t k = i;
		while (k < n && s[k] != ' ' && s[k] != '\t')
			k++;
		if (k == i)
			break;
		bool was_gap = gap;
		why = add_item(lx, s + i, k - i, &gap);
		if (!why && gap && was_gap)
			why = "\"...\" must stand between words";
		gaps += gap;
		i = k;
	}
	words = lx->ntok - ntok - gaps;
	if (!why && words == 0)
		why = "no words";
	if (!why && gap)
		why = "\"...\" must stand between words";
	if (!why && words + GAP_MAX * gaps > SPAN_MAX)
		why = "too many words";
	if (why) {
		lx->ntok = ntok;
		lx->nalt = nalt;
		return why;
	}
	lx->pat = xgrowarray(lx->pat, &lx->cappat, lx->npat + 1, sizeof *lx->pat);
	lx->pat[lx->npat++] = (struct pattern){src,
					       (uint32_t)ntok,
					       (uint32_t)(lx->ntok - ntok),
					       lang,
					       (unsigned char)(words + GAP_MAX * gaps),
					       exception,
					       negatable};
	return NULL;
}

static void bucket_add(struct bucket *b, uint32_t pat)
{
	if (b->n && b->v[b->n - 1] == pat)
		return;
	b->v = xgrowarray(b->v, &b->cap, b->n + 1, sizeof *b->v);
	b->v[b->n++] = pat;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct bucket *slot(const struct lexicon *lx, const char *key)
{
	size_t mask = lx->tabcap - 1;
	for (size_t i = hash(key) & mask;; i = (i + 1) & mask)
		if (!lx->tab[i].key[0] || strcmp(lx->tab[i].key, key) == 0)
			return &lx->tab[i];
}

/* The key a word of text is looked up by, or a first alternative filed by. */
static void prefix_key(char key[WORD_MAX + 1], const char *w)
{
	key[0] = '*';
	memcpy(key + 1, w, 3);
	key[4] = '\0';
}

/* File each pattern under the words it may start with. */
static void build_index(struct lexicon *lx)
{
	size_t keys = 0;
	for (size_t p = 0; p < lx->npat; p++)
		keys += lx->tok[lx->pat[p].tok].nalt;
	for (lx->tabcap = 16; lx->tabcap < 2 * keys;)
		lx->tabcap *= 2;
	lx->tab = xcalloc(lx->tabcap, sizeof *lx->tab);
	for (uint32_t p = 0; p < lx->npat; p++) {
		const struct pattern *pt = &lx->pat[p];
		if (pt->exception) {
			bucket_add(&lx->exc, p);
			continue;
		}
		const struct ptok *t = &lx->tok[pt->tok];
		for (uint32_t a = t->alt; a < t->alt + t->nalt; a++) {
			const struct alt *al = &lx->alt[a];
			char key[WORD_MAX + 1];
			if (al->prefix && al->len < 3) {
				bucket_add(&lx->always, p);
				continue;
			}
			if (al->prefix)
				prefix_key(key, al->w);
			else
				memcpy(key, al->w, WORD_MAX);
			struct bucket *b = slot(lx, key);
			memcpy(b->key, key, sizeof key);
			bucket_add(b, p);
		}
	}
}

/* A file's text: headings, phrases and exceptions, one a line. */
static const char *add_file(struct lexicon *lx, const char *text, unsigned char lang,
			    size_t *line_no)
{
	bool negatable = false;
	*line_no = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		p += n + (nl != NULL);
		++*line_no;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n == 0 || *s == '#')
			continue;
		if (*s == '[') {
			negatable = memchr(s, ':', n) && n >= 10 &&
				    memcmp(s + n - 10, "negatable]", 10) == 0;
			continue;
		}
		bool exception = *s == '-';
		lx->owned = xgrowarray(lx->owned, &lx->capowned, lx->nowned + 1, sizeof *lx->owned);
		char *src = lx->owned[lx->nowned++] = xstrndup(s, n);
		const char *why = add_pattern(lx, src, src + exception, n - exception, lang,
					      exception, negatable);
		if (why)
			return why;
	}
	return NULL;
}

static struct lexicon builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_build(void)
{
	for (unsigned char l = 0; lexicon_files[l].lang; l++) {
		size_t line = 0;
		const char *why = l < LANGS ? add_file(&builtin, lexicon_files[l].text, l, &line)
					    : "too many languages";
		if (why) {
			fprintf(stderr, "letterbox: data/urgent/%s.txt:%zu: %s\n",
				lexicon_files[l].lang, line, why);
			abort();
		}
	}
	build_index(&builtin);
}

const struct lexicon *lexicon_builtin(void)
{
	pthread_once(&builtin_once, builtin_build);
	return &builtin;
}

bool lexicon_language_known(const char *lang)
{
	for (size_t l = 0; lang && lexicon_files[l].lang; l++)
		if (strcmp(lexicon_files[l].lang, lang) == 0)
			return true;
	return false;
}

uint32_t lexicon_languages(const char *const *langs)
{
	uint32_t set = 0;
	for (size_t l = 0; lexicon_files[l].lang && l < LANGS; l++) {
		bool on = !langs;
		for (const char *const *p = langs; p && *p && !on; p++)
			on = strcmp(*p, lexicon_files[l].lang) == 0;
		if (on)
			set |= 1u << l;
	}
	return set;
}

const char *lexicon_phrase_error(const char *phrase)
{
	struct lexicon lx = {0};
	bool exception = phrase && phrase[0] == '-';
	const char *why = phrase ? add_pattern(&lx, phrase, phrase + exception,
					       strlen(phrase) - exception, ALWAYS, exception, false)
				 : "no words";
	free(lx.pat);
	free(lx.tok);
	free(lx.alt);
	return why;
}

struct lexicon *lexicon_of_phrases(const char *const *phrases)
{
	if (!phrases || !*phrases)
		return NULL;
	struct lexicon *lx = xcalloc(1, sizeof *lx);
	for (const char *const *p = phrases; *p; p++) {
		bool exception = (*p)[0] == '-';
		add_pattern(lx, *p, *p + exception, strlen(*p) - exception, ALWAYS, exception,
			    false);
	}
	build_index(lx);
	return lx;
}

void lexicon_free(struct lexicon *lx)
{
	if (!lx)
		return;
	for (size_t i = 0; i < lx->tabcap; i++)
		free(lx->tab[i].v);
	for (size_t i = 0; i < lx->nowned; i++)
		free(lx->owned[i]);
	free(lx->tab);
	free(lx->always.v);
	free(lx->exc.v);
	free(lx->owned);
	free(lx->pat);
	free(lx->tok);
	free(lx->alt);
	free(lx);
}

void lexicon_each(uint32_t langs, void (*fn)(void *ctx, const char *lang, const char *line),
		  void *ctx)
{
	for (size_t l = 0; lexicon_files[l].lang && l < LANGS; l++) {
		if (!(langs & (1u << l)))
			continue;
		for (const char *p = lexicon_files[l].text; *p;) {
			size_t n = strcspn(p, "\n");
			if (n && *p != '#') {
				char *line = xstrndup(p, n);
				fn(ctx, lexicon_files[l].lang, line);
				free(line);
			}
			p += n + (p[n] == '\n');
		}
	}
}

/* ---- matching -------------------------------------------------------------------------------- */

static bool alt_matches(const struct lexicon *lx, const struct ptok *t, const struct word *w)
{
	for (uint32_t a = t->alt; a < t->alt + t->nalt; a++) {
		const struct alt *al = &lx->alt[a];
		if (al->prefix ? strncmp(w->norm, al->w, al->len) == 0
			       : !w->cut && strcmp(w->stem, al->w) == 0)
			return true;
	}
	return false;
}

/* Where pattern p's words from k on, matched from w[i] on within one
 * sentence, end at the latest (one past the last word); 0: nowhere. */
static size_t match_from(const struct lexicon *lx, const struct pattern *p, uint32_t k,
			 const struct word *w, size_t n, size_t i, uint32_t sentence)
{
	if (k == p->ntok)
		return i;
	const struct ptok *t = &lx->tok[p->tok + k];
	if (t->gap) {
		size_t best = 0;
		for (size_t g = 0; g <= GAP_MAX; g++) {
			if (g && (i + g > n || w[i + g - 1].sentence != sentence))
				break;
			size_t end = match_from(lx, p, k + 1, w, n, i + g, sentence);
			if (end > best)
				best = end;
		}
		return best;
	}
	if (i >= n || w[i].sentence != sentence || !alt_matches(lx, t, &w[i]))
		return 0;
	return match_from(lx, p, k + 1, w, n, i + 1, sentence);
}

/* A denial up to NEG_WORDS words before w[s], in its clause. */
static bool denied(const struct word *w, size_t s)
{
	static const char *const denials[] = {
	    "not",     "no",	"never", "nor",	   "neither", "dont",  "doesnt", "didnt",
	    "isnt",    "wasnt", "arent", "werent", "havent",  "hasnt", "hadnt",	 "wont",
	    "wouldnt", "nunca", "jamas", "ni",	   "tampoco", NULL};
	for (size_t j = s; j-- > 0 && s - j <= NEG_WORDS && w[j].clause == w[s].clause;)
		for (const char *const *d = denials; *d; d++)
			if (strcmp(w[j].norm, *d) == 0)
				return true;
	return false;
}

/* Whether an exception of lx covers w[s..e). */
static bool excepted(const struct lexicon *lx, uint32_t langs, const struct word *w, size_t n,
		     size_t s, size_t e)
{
	for (size_t k = 0; lx && k < lx->exc.n; k++) {
		const struct pattern *x = &lx->pat[lx->exc.v[k]];
		if (x->lang != ALWAYS && !(langs & (1u << x->lang)))
			continue;
		for (size_t t = s + 1; t-- > 0 && e - t <= x->span;)
			if (match_from(lx, x, 0, w, n, t, w[s].sentence) >= e)
				return true;
	}
	return false;
}

struct finder {
	const struct lexicon *lx[2];
	uint32_t langs;
	const struct word *w;
	size_t n;
};

/* The first pattern of b that matches at w[s] and stands. */
static const char *try_bucket(const struct finder *f, const struct lexicon *lx,
			      const struct bucket *b, size_t s)
{
	for (size_t k = 0; b && k < b->n; k++) {
		const struct pattern *p = &lx->pat[b->v[k]];
		if (p->lang != ALWAYS && !(f->langs & (1u << p->lang)))
			continue;
		size_t e = match_from(lx, p, 0, f->w, f->n, s, f->w[s].sentence);
		if (!e || (p->negatable && denied(f->w, s)) ||
		    excepted(f->lx[0], f->langs, f->w, f->n, s, e) ||
		    excepted(f->lx[1], f->langs, f->w, f->n, s, e))
			continue;
		return p->src;
	}
	return NULL;
}

static const struct bucket *lookup(const struct lexicon *lx, const char *key)
{
	const struct bucket *b = slot(lx, key);
	return b->key[0] ? b : NULL;
}

static const char *try_at(const struct finder *f, size_t s)
{
	const struct word *w = &f->w[s];
	char key[WORD_MAX + 1];
	const char *hit = NULL;
	for (size_t i = 0; i < 2 && !hit; i++) {
		const struct lexicon *lx = f->lx[i];
		if (!lx)
			continue;
		if (!w->cut)
			hit = try_bucket(f, lx, lookup(lx, w->stem), s);
		if (!hit && strlen(w->norm) >= 3) {
			prefix_key(key, w->norm);
			hit = try_bucket(f, lx, lookup(lx, key), s);
		}
		if (!hit)
			hit = try_bucket(f, lx, &lx->always, s);
	}
	return hit;
}

const char *lexicon_find(const struct lexicon *builtin_lx, uint32_t langs,
			 const struct lexicon *extra, const char *text, size_t n)
{
	if (!text || !n || (!builtin_lx && !extra))
		return NULL;
	struct word *w = xmalloc(BLOCK * sizeof *w);
	struct finder f = {{builtin_lx, extra}, langs, w, 0};
	struct wordtok t;
	wordtok_init(&t, text, n);
	const char *hit = NULL;
	size_t start = 0;
	bool more = true;
	while (!hit) {
		while (f.n < BLOCK && (more = wordtok_next(&t, &w[f.n])))
			f.n++;
		size_t limit = more ? f.n - AHEAD : f.n;
		for (size_t s = start; s < limit && !hit; s++)
			hit = try_at(&f, s);
		if (!more)
			break;
		size_t drop = limit - HISTORY;
		memmove(w, w + drop, (f.n - drop) * sizeof *w);
		f.n -= drop;
		start = limit - drop;
	}
	free(w);
	return hit;
}

bool urgent(const char *text, size_t n, const char *const *extra_words,
	    const char *const *languages, const char **matched)
{
	struct lexicon *extra = lexicon_of_phrases(extra_words);
	const char *hit =
	    lexicon_find(lexicon_builtin(), lexicon_languages(languages), extra, text, n);
	lexicon_free(extra);
	if (hit && matched)
		*matched = hit;
	return hit != NULL;
}
