/* The crisis lexicon: phrases over words (wordtok.h) that make an inquiry
 * urgent.  The notation and the negation policy are in data/urgent/README.md:
 *
 *   kill myself        these words in order, each inflected or not
 *   strangl*           a word that starts so
 *   {hit,punch*}       one of these words
 *   threat* ... kill   up to 3 other words between (not across a sentence end)
 *   -emergency contact an exception: a match that lies within it does not count
 *   [name: negatable]  a heading; phrases under a negatable one are cancelled by
 *                      a denial ("not", "never", "don't", "no", …) up to 3
 *                      words before them in the same clause
 *
 * The built-in files (data/urgent/LANG.txt) are compiled into the program
 * (scripts/embed-lexicon); triage.urgent_words are phrases in the same
 * notation (one per entry, no headings).
 */
#ifndef LB_LEXICON_H
#define LB_LEXICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The built-in files, as data/urgent/ holds them; {NULL, NULL} ends the list
 * (generated at build time). */
struct lexicon_file {
	const char *lang; /* "en", "es": the file's name */
	const char *text;
};
extern const struct lexicon_file lexicon_files[];

/* Whether lang names a built-in file. */
bool lexicon_language_known(const char *lang);

/* Why a phrase (one triage.urgent_words entry) cannot be used, or NULL when
 * it can: "no words", "unbalanced { }", "each of { } must be one word", …
 * (static text). */
const char *lexicon_phrase_error(const char *phrase);

struct lexicon;

/* Every built-in file, parsed once (thread-safe) and kept for the life of
 * the process.  A fault in a built-in file aborts (our bug; a unit test
 * parses them all). */
const struct lexicon *lexicon_builtin(void);

/* The phrases (NULL-terminated, may be NULL) as a lexicon of their own, for
 * all languages; phrases lexicon_phrase_error() refuses are left out.  The
 * strings must outlive it: lexicon_find() returns them.  NULL when there is
 * none.  Free with lexicon_free. */
struct lexicon *lexicon_of_phrases(const char *const *phrases);
void lexicon_free(struct lexicon *lx);

/* The built-in languages named in langs (NULL-terminated), as a set for
 * lexicon_find; NULL: all of them.  Unknown names are ignored. */
uint32_t lexicon_languages(const char *const *langs);

/* The first phrase of builtin (in the languages of langs) or of extra
 * (either may be NULL) that occurs in text[0..n) and is not cancelled by
 * an exception of either or by a denial, as written in its file or in
 * extra's strings; NULL when there is none.  Reads the text once, in
 * blocks: memory does not grow with its length. */
const char *lexicon_find(const struct lexicon *builtin, uint32_t langs, const struct lexicon *extra,
			 const char *text, size_t n);

/* Call fn for each heading and phrase of the built-in files in langs, in
 * file order (what `letterbox check --urgent-words` prints). */
void lexicon_each(uint32_t langs, void (*fn)(void *ctx, const char *lang, const char *line),
		  void *ctx);

#endif
