/* Word lists the classifier reads text with (internal to src/receive; the
 * crisis language is lexicon.h's, urgent() is declared in classify.h).  All take
 * UTF-8, may be given NULL, and never allocate more than a copy of their
 * input.
 */
#ifndef LB_WORDS_H
#define LB_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Many phrases looked for in one pass over a text, instead of one strstr per
 * phrase.  Phrases are written in lower case, 3 to 255 bytes long; the text
 * is compared with ASCII letters folded to lower case (as strcasestr does in
 * the C locale), other bytes as they are.  A set is built once (its lists
 * are constant) and then only read: build it under pthread_once. */
#define PHRASES_MAX 256
#define PHRASE_NONE SIZE_MAX
struct phrases {
	size_t n;
	size_t min; /* the shortest phrase's length */
	const char *v[PHRASES_MAX];
	unsigned char len[PHRASES_MAX];
	short next[PHRASES_MAX]; /* phrases whose min-byte prefix ends alike */
	short head[4096];
	/* Wu-Manber: how far the text may be skipped, by the three bytes (5
	 * bits each) it has where a min-byte prefix would end */
	unsigned char shift[32768];
};

/* Start an empty set. */
void phrases_init(struct phrases *ps);
/* Add a NULL-terminated list; returns the index of its first phrase.  Past
 * PHRASES_MAX, or for a phrase of the wrong length, aborts (our bug). */
size_t phrases_add(struct phrases *ps, const char *const *list);
/* Make the set ready to search, after the last phrases_add. */
void phrases_done(struct phrases *ps);
/* first[i] (ps->n entries) = the offset of the first occurrence of phrase i
 * in s[0..n) that accept() (may be NULL) takes, else PHRASE_NONE. */
void phrases_find(const struct phrases *ps, const char *s, size_t n, size_t *first,
		  bool (*accept)(void *ctx, size_t pos, size_t len), void *ctx);
/* Whether one of phrases [from, to) occurs entirely within the first end
 * bytes, given phrases_find()'s first[]. */
bool phrases_seen(const struct phrases *ps, const size_t *first, size_t from, size_t to,
		  size_t end);

/* A short request to be taken off the list: the subject or the text is
 * essentially "unsubscribe", "remove me", "stop", "please remove me from
 * your list", "bitte abmelden", "désabonnez-moi", "darme de baja", … with
 * at most a greeting, a name and a thank-you around it, and no negation. */
bool words_unsubscribe(const char *subject, const char *text);

/* A subject that starts like an out-of-office notice ("Automatic reply:",
 * "Out of Office", "Abwesenheitsnotiz", "Réponse automatique", …). */
bool words_oof_subject(const char *subject);

/* Out-of-office wording near the start of a text ("I am out of the
 * office", "ich bin nicht im Büro", "je suis absent", …). */
bool words_oof_text(const char *text);

/* A sender address like noreply@, no-reply@, autoresponder@. */
bool words_noreply(const char *address);

#endif
