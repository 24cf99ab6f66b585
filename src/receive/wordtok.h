/* Words out of UTF-8 text, the way the crisis lexicon (lexicon.h) compares
 * them: letters folded to lower case, Latin-1 accents dropped ("Está" ->
 * "esta", "daño" -> "dano", "ß" -> "ss"), apostrophes dropped ("don't" ->
 * "dont"), every other mark a separator.  Each word carries the number of
 * its sentence and of its clause, so that a phrase never spans a sentence
 * end and a denial ("not") only reaches into its own clause.
 *
 * A pull parser over a caller's buffer: no allocation.
 */
#ifndef LB_WORDTOK_H
#define LB_WORDTOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer words are cut to this (they match no phrase word, only a prefix). */
#define WORD_MAX 32

struct word {
	char norm[WORD_MAX]; /* folded, NUL-terminated */
	char stem[WORD_MAX]; /* norm with simple suffixes stripped (word_stem) */
	bool cut;	     /* longer than WORD_MAX - 1 bytes: norm is its start */
	uint32_t sentence, clause;
};

struct wordtok {
	const unsigned char *p;
	size_t n, i;
	uint32_t sentence, clause;
};

/* Start reading s[0..n). */
void wordtok_init(struct wordtok *t, const char *s, size_t n);

/* The next word into *w; false at the end of the text. */
bool wordtok_next(struct wordtok *t, struct word *w);

/* Strip inflection from a folded word, in place (at most len bytes kept):
 * -s, -es, -ies, -ed, -ied, -ing, a doubled final consonant left by them,
 * a final -e; a final -y becomes -i.  "hits", "hitting" -> "hit"; "dies",
 * "died", "dying", "die" -> "di".  Words of 3 bytes or fewer stay. */
void word_stem(char *w);

#endif
