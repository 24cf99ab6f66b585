#include "receive/wordtok.h"

#include <string.h>

/* What the bytes at s[i] are, and how many there are. */
enum piece {
	P_LETTER,   /* ASCII letter or digit */
	P_FOLD,	    /* a Latin-1 letter with an ASCII spelling */
	P_OTHER,    /* any other letter (kept as it is) */
	P_APOS,	    /* an apostrophe: dropped, words stay joined */
	P_SPACE,    /* a separator */
	P_NEWLINE,  /* a separator; two of them (a blank line) end a sentence */
	P_CLAUSE,   /* , ; : ( ) – —: a separator that ends a clause */
	P_SENTENCE, /* . ! ?: a separator that ends a sentence */
};

/* U+00C0..U+00FF as ASCII; NULL: × and ÷, separators. */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",	NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",	NULL, "o", "u", "u", "u", "u", "y", "th", "y"};

/* A word that starts a new clause after it ("I'm not suicidal but ..."). */
static bool clause_word(const char *w)
{
	static const char *const v[] = {"but",	"though", "although", "however",
					"pero", "aunque", "sino",     NULL};
	for (const char *const *p = v; *p; p++)
		if (strcmp(*p, w) == 0)
			return true;
	return false;
}

static size_t seq_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static enum piece piece_at(const unsigned char *s, size_t n, size_t i, size_t *len)
{
	unsigned char c = s[i];
	*len = 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return P_LETTER;
	if (c == '\'')
		return P_APOS;
	if (c == '\n')
		return P_NEWLINE;
	if (c == ',' || c == ';' || c == ':' || c == '(' || c == ')')
		return P_CLAUSE;
	if (c == '!' || c == '?')
		return P_SENTENCE;
	if (c == '.') {
		/* not in "..." and not in "1.5" or "e.g" */
		bool dots = (i > 0 && s[i - 1] == '.') || (i + 1 < n && s[i + 1] == '.');
		bool inword = i + 1 < n && s[i + 1] > ' ' && s[i + 1] != '"' && s[i + 1] != '\'';
		return dots || inword ? P_SPACE : P_SENTENCE;
	}
	if (c < 0x80)
		return P_SPACE;
	size_t k = seq_len(c);
	if (i + k > n || k == 1) /* a stray byte: a separator */
		return P_SPACE;
	*len = k;
	if (c == 0xC3)
		return latin1[s[i + 1] & 0x3F] ? P_FOLD : P_SPACE;
	if (c == 0xC2) /* U+0080-U+00BF: NBSP, « », ¡ ¿ and other marks */
		return P_SPACE;
	if (c == 0xCA && s[i + 1] == 0xBC) /* ʼ */
		return P_APOS;
	if (c == 0xE2 && (s[i + 1] == 0x80 || s[i + 1] == 0x81)) { /* general punctuation */
		unsigned char d = s[i + 2];
		if (s[i + 1] == 0x80 && (d == 0x98 || d == 0x99))
			return P_APOS;
		if (s[i + 1] == 0x80 && (d == 0x93 || d == 0x94))
			return P_CLAUSE;
		return P_SPACE;
	}
	return P_OTHER;
}

void wordtok_init(struct wordtok *t, const char *s, size_t n)
{
	*t = (struct wordtok){(const unsigned char *)s, s ? n : 0, 0, 0, 0};
}

bool wordtok_next(struct wordtok *t, struct word *w)
{
	const unsigned char *s = t->p;
	bool sentence = false, clause = false;
	size_t len;
	enum piece pc = P_SPACE;
	for (; t->i < t->n; t->i += len) {
		pc = piece_at(s, t->n, t->i, &len);
		if (pc == P_LETTER || pc == P_FOLD || pc == P_OTHER)
			break;
		if (pc == P_SENTENCE)
			sentence = true;
		else if (pc == P_CLAUSE)
			clause = true;
		else if (pc == P_NEWLINE) {
			size_t j = t->i + 1;
			while (j < t->n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
				j++;
			sentence |= j < t->n && s[j] == '\n';
		}
	}
	if (t->i >= t->n)
		return false;
	size_t k = 0;
	w->cut = false;
	for (; t->i < t->n; t->i += len) {
		pc = piece_at(s, t->n, t->i, &len);
		const char *add = NULL;
		size_t addn = 0;
		char one;
		if (pc == P_LETTER) {
			unsigned char c = s[t->i];
			one = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			add = &one;
			addn = 1;
		} else if (pc == P_FOLD) {
			add = latin1[s[t->i + 1] & 0x3F];
			addn = strlen(add);
		} else if (pc == P_OTHER) {
			add = (const char *)s + t->i;
			addn = len;
		} else if (pc != P_APOS) {
			break;
		}
		if (w->cut || k + addn >= WORD_MAX) {
			w->cut = true; /* keep the start whole: nothing after a piece left out */
		} else if (addn) {
			memcpy(w->norm + k, add, addn);
			k += addn;
		}
	}
	w->norm[k] = '\0';
	memcpy(w->stem, w->norm, k + 1);
	if (!w->cut)
		word_stem(w->stem);
	if (sentence) {
		t->sentence++;
		t->clause++;
	} else if (clause) {
		t->clause++;
	}
	w->sentence = t->sentence;
	w->clause = t->clause;
	if (clause_word(w->norm))
		t->clause++;
	return true;
}

static bool ends(const char *w, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && memcmp(w + n - k, suf, k) == 0;
}

/* After -ing or -ed: "hitt" -> "hit", but "kill", "press", "buzz" stay. */
static size_t undouble(const char *w, size_t n)
{
	if (n >= 2 && w[n - 1] == w[n - 2] && strchr("bcdfgkmnprtv", w[n - 1]))
		return n - 1;
	return n;
}

void word_stem(char *w)
{
	size_t n = strlen(w);
	if (n <= 3)
		return;
	if (ends(w, n, "ies") || ends(w, n, "ied")) {
		w[n - 2] = '\0';
		return;
	}
	if (ends(w, n, "ing") && n - 3 >= 2)
		n = undouble(w, n - 3);
	else if (ends(w, n, "ed") && n - 2 >= 3 && !ends(w, n, "eed"))
		n = undouble(w, n - 2);
	else if (ends(w, n, "s") && !ends(w, n, "ss") && !ends(w, n, "us") && !ends(w, n, "is"))
		n--;
	if (n > 3 && w[n - 1] == 'e')
		n--;
	if (n > 1 && w[n - 1] == 'y')
		w[n - 1] = 'i';
	w[n] = '\0';
}
