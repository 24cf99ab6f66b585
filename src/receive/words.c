#include "receive/words.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

/* Replies are read this far for out-of-office wording, and unsubscribe
 * requests this many words: both are short by nature. */
#define OOF_SCAN    4096
#define UNSUB_WORDS 200

/* ---- normalising ----------------------------------------------------------------------------- */

/* Lower-case ASCII and Latin-1 letters, make curly apostrophes straight and
 * every run of whitespace (NBSP included) one space. */
static char *normalise(const char *p, size_t n, size_t *len)
{
	char *s = xmalloc(n + 1);
	const unsigned char *u = (const unsigned char *)p;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			     (c == 0xC2 && i + 1 < n && u[i + 1] == 0xA0);
		if (space) {
			i += c == 0xC2;
			if (k && s[k - 1] != ' ')
				s[k++] = ' ';
		} else if (c == 0xE2 && i + 2 < n && u[i + 1] == 0x80 &&
			   (u[i + 2] == 0x98 || u[i + 2] == 0x99)) {
			s[k++] = '\'';
			i += 2;
		} else if (c == 0xCA && i + 1 < n && u[i + 1] == 0xBC) {
			s[k++] = '\'';
			i++;
		} else if (c == 0xC3 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9E &&
			   u[i + 1] != 0x97) {
			s[k++] = (char)c;
			s[k++] = (char)(u[++i] + 0x20);
		} else {
			s[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	s[k] = '\0';
	*len = k;
	return s;
}

/* ---- many phrases at once -------------------------------------------------------------------- */

static unsigned char lower_byte(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Three bytes as 15 bits; ASCII letters give the same bits in either case. */
static unsigned key3(const unsigned char *p)
{
	return (unsigned)(p[0] & 31) << 10 | (unsigned)(p[1] & 31) << 5 | (p[2] & 31);
}

static unsigned bucket(unsigned key)
{
	return (key * 0x9E3779B1u) >> 20;
}

void phrases_init(struct phrases *ps)
{
	ps->n = 0;
	ps->min = 255;
}

size_t phrases_add(struct phrases *ps, const char *const *list)
{
	size_t from = ps->n;
	for (; *list; list++) {
		size_t len = strlen(*list);
		if (len < 3 || len > 255 || ps->n >= PHRASES_MAX)
			abort();
		ps->v[ps->n] = *list;
		ps->len[ps->n++] = (unsigned char)len;
		if (len < ps->min)
			ps->min = len;
	}
	return from;
}

void phrases_done(struct phrases *ps)
{
	size_t m = ps->min;
	memset(ps->head, 0xff, sizeof ps->head);
	memset(ps->shift, (int)(m - 2), sizeof ps->shift);
	for (size_t k = 0; k < ps->n; k++) {
		const unsigned char *p = (const unsigned char *)ps->v[k];
		for (size_t j = 2; j < m; j++) {
			unsigned key = key3(p + j - 2);
			if (ps->shift[key] > m - 1 - j)
				ps->shift[key] = (unsigned char)(m - 1 - j);
		}
		unsigned h = bucket(key3(p + m - 3));
		ps->next[k] = ps->head[h];
		ps->head[h] = (short)k;
	}
}

void phrases_find(const struct phrases *ps, const char *s, size_t n, size_t *first,
		  bool (*accept)(void *ctx, size_t pos, size_t len), void *ctx)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t left = ps->n, m = ps->min;
	for (size_t k = 0; k < ps->n; k++)
		first[k] = PHRASE_NONE;
	/* i: the last byte of a window as long as the shortest phrase */
	for (size_t i = m - 1; i < n && left;) {
		unsigned key = key3(u + i - 2);
		if (ps->shift[key]) {
			i += ps->shift[key];
			continue;
		}
		size_t at = i + 1 - m;
		for (int k = ps->head[bucket(key)]; k >= 0; k = ps->next[k]) {
			size_t len = ps->len[k], j = 0;
			if (first[k] != PHRASE_NONE || len > n - at)
				continue;
			const unsigned char *v = (const unsigned char *)ps->v[k];
			while (j < len && lower_byte(u[at + j]) == v[j])
				j++;
			if (j < len || (accept && !accept(ctx, at, len)))
				continue;
			first[k] = at;
			left--;
		}
		i++;
	}
}

bool phrases_seen(const struct phrases *ps, const size_t *first, size_t from, size_t to, size_t end)
{
	for (size_t k = from; k < to; k++)
		if (first[k] != PHRASE_NONE && first[k] + ps->len[k] <= end)
			return true;
	return false;
}

/* ---- unsubscribe requests -------------------------------------------------------------------- */

static const char *const unsub_keys[] = {"unsubscribe",	  "unsubscribed",   "unsubscribing",
					 "unsub",	  "remove",	    "removed",
					 "removal",	  "delete",	    "stop",
					 "opt",		  "optout",	    "abmelden",
					 "abbestellen",	  "austragen",	    "abmeldung",
					 "désabonner",	  "desabonner",	    "désinscrire",
					 "desinscrire",	  "désabonnement",  "désinscription",
					 "désabonnez",	  "désinscrivez",   "baja",
					 "disiscrivimi",  "cancellami",	    "cancellare",
					 "disiscrizione", "afmelden",	    "uitschrijven",
					 "descadastrar",  "unsubscription", NULL};

/* Words that may stand around a request without changing it. */
static const char *const filler[] = {"please",	     "pls",	   "plz",	 "thanks",
				     "thank",	     "thx",	   "you",	 "hi",
				     "hello",	     "hey",	   "dear",	 "me",
				     "my",	     "from",	   "your",	 "the",
				     "this",	     "these",	   "that",	 "list",
				     "lists",	     "mailing",	   "newsletter", "newsletters",
				     "emails",	     "email",	   "e-mail",	 "mail",
				     "mails",	     "mailings",   "address",	 "kindly",
				     "regards",	     "best",	   "cheers",	 "sincerely",
				     "ok",	     "okay",	   "i",		 "i'd",
				     "i'm",	     "im",	   "want",	 "wish",
				     "would",	     "like",	   "to",	 "be",
				     "of",	     "and",	   "a",		 "an",
				     "it",	     "on",	   "in",	 "all",
				     "any",	     "more",	   "further",	 "future",
				     "no",	     "sending",	   "send",	 "receive",
				     "receiving",    "get",	   "getting",	 "subscription",
				     "immediately",  "asap",	   "now",	 "can",
				     "could",	     "re",	   "aw",	 "fw",
				     "fwd",	     "wg",	   "sv",	 "tr",
				     "sent",	     "iphone",	   "ipad",	 "android",
				     "outlook",	     "mobile",	   "for",	 "so",
				     "much",	     "yes",	   "just",	 "also",
				     "us",	     "our",	   "contact",	 "database",
				     "out",	     "off",	   "take",	 "anymore",
				     "longer",	     "messages",   "message",	 "mailer",
				     "kind",	     "bitte",	   "mich",	 "von",
				     "der",	     "die",	   "das",	 "dem",
				     "den",	     "liste",	   "verteiler",	 "danke",
				     "vielen",	     "dank",	   "hallo",	 "grüße",
				     "gruss",	     "gruß",	   "mfg",	 "ich",
				     "möchte",	     "moechte",	   "keine",	 "mehr",
				     "e-mails",	     "merci",	   "de",	 "la",
				     "le",	     "les",	   "votre",	 "vos",
				     "svp",	     "s'il",	   "vous",	 "plaît",
				     "plait",	     "bonjour",	   "je",	 "veux",
				     "voudrais",     "plus",	   "recevoir",	 "courriels",
				     "cordialement", "moi",	   "por",	 "favor",
				     "gracias",	     "hola",	   "quiero",	 "mi",
				     "correo",	     "correos",	   "más",	 "mas",
				     "recibir",	     "saludos",	   "darme",	 "per",
				     "favore",	     "grazie",	   "dalla",	 "ciao",
				     "vi",	     "prego",	   "graag",	 "mij",
				     "van",	     "lijst",	   "bedankt",	 "u",
				     "alstublieft",  "aub",	   "sie",	 "melden",
				     "ab",	     "subscribed", "subscriber", "sign",
				     "asked",	     NULL};

static const char *const negations[] = {"not", "don't",	 "dont",  "never", "nicht",
					"pas", "didn't", "won't", NULL};

static bool in(const char *w, size_t n, const char *const *list)
{
	for (; *list; list++)
		if ((*list)[0] == w[0] && strncmp(*list, w, n) == 0 && (*list)[n] == '\0')
			return true;
	return false;
}

struct tally {
	int keys, others, words;
	bool negated;
};

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '\'' ||
	       c == '-';
}

static struct tally count_words(const char *s)
{
	struct tally t = {0, 0, 0, false};
	if (!s)
		return t;
	/* A signature ends what the writer asked for. */
	const char *sig = strstr(s, "\n-- \n");
	size_t n = sig ? (size_t)(sig - s) : strlen(s), len;
	char *lo = normalise(s, n, &len);
	for (size_t i = 0; i < len && t.words < UNSUB_WORDS;) {
		while (i < len && !word_byte((unsigned char)lo[i]))
			i++;
		size_t st = i;
		while (i < len && word_byte((unsigned char)lo[i]))
			i++;
		size_t e = i;
		while (e > st && (lo[e - 1] == '-' || lo[e - 1] == '\''))
			e--;
		while (st < e && (lo[st] == '-' || lo[st] == '\''))
			st++;
		if (e == st)
			continue;
		const char *w = lo + st;
		size_t wl = e - st;
		/* "désabonnez-moi", "remove-me": judge by the first part. */
		const char *dash = memchr(w, '-', wl);
		if (dash && in(dash + 1, (size_t)(w + wl - dash - 1), filler))
			wl = (size_t)(dash - w);
		t.words++;
		if (in(w, wl, unsub_keys))
			t.keys++;
		else if (in(w, wl, negations))
			t.negated = true;
		else if (!in(w, wl, filler))
			t.others++;
	}
	free(lo);
	return t;
}

bool words_unsubscribe(const char *subject, const char *text)
{
	struct tally s = count_words(subject), b = count_words(text);
	if (s.negated || b.negated)
		return false;
	/* A name or two may remain ("Thanks, Ana Lopez"). */
	bool body = b.keys > 0 && b.others <= 3;
	bool subj = s.keys > 0 && s.others <= 2;
	return body || (subj && b.others <= 10 && b.keys + b.others < 30);
}

/* ---- out of office --------------------------------------------------------------------------- */

bool words_oof_subject(const char *subject)
{
	static const char *const prefixes[] = {"automatic reply",
					       "autoreply",
					       "auto-reply",
					       "auto reply",
					       "auto:",
					       "automatische antwort",
					       "abwesenheitsnotiz",
					       "abwesenheit",
					       "réponse automatique",
					       "reponse automatique",
					       "respuesta automática",
					       "respuesta automatica",
					       "risposta automatica",
					       "automatisch antwoord",
					       "out of office",
					       "out of the office",
					       "away from",
					       "i am away",
					       "i'm away",
					       "on vacation",
					       "on leave",
					       "vacation",
					       "autosvar",
					       "automaattinen vastaus",
					       "auto response",
					       "autoresponse",
					       "autoresponder",
					       "office closed",
					       "urlaub",
					       "absence",
					       NULL};
	if (!subject)
		return false;
	size_t len;
	char *s = normalise(subject, strlen(subject), &len);
	const char *p = s;
	while (*p == ' ' || *p == '[' || *p == '*')
		p++;
	bool hit = false;
	for (const char *const *q = prefixes; *q && !hit; q++)
		hit = strncmp(p, *q, strlen(*q)) == 0;
	free(s);
	return hit;
}

static const char *const oof_phrases[] = {"out of the office",
					  "out of office",
					  "i am away",
					  "i'm away",
					  "currently away",
					  "currently out",
					  "on vacation",
					  "on holiday",
					  "on leave",
					  "limited access to e-mail",
					  "limited access to email",
					  "will be back",
					  "will return",
					  "i am out",
					  "i'm out",
					  "nicht im büro",
					  "abwesend",
					  "im urlaub",
					  "absent du bureau",
					  "je suis absent",
					  "fuera de la oficina",
					  "estoy de vacaciones",
					  "fuori ufficio",
					  "sono in ferie",
					  "afwezig",
					  "this is an automated",
					  "this is an automatic",
					  "automatic reply",
					  "auto-reply",
					  "autoreply",
					  "we have received your",
					  "we received your message",
					  "thank you for contacting",
					  NULL};

static struct phrases oof_set;
static pthread_once_t oof_once = PTHREAD_ONCE_INIT;

static void oof_build(void)
{
	phrases_init(&oof_set);
	phrases_add(&oof_set, oof_phrases);
	phrases_done(&oof_set);
}

bool words_oof_text(const char *text)
{
	if (!text)
		return false;
	size_t n = strlen(text), len;
	char *s = normalise(text, n < OOF_SCAN ? n : OOF_SCAN, &len);
	size_t first[PHRASES_MAX];
	pthread_once(&oof_once, oof_build);
	phrases_find(&oof_set, s, len, first, NULL, NULL);
	free(s);
	return phrases_seen(&oof_set, first, 0, oof_set.n, len);
}

bool words_noreply(const char *address)
{
	static const char *const locals[] = {
	    "noreply",	 "no-reply",   "no_reply",	"donotreply", "do-not-reply",
	    "autoreply", "auto-reply", "autoresponder", "mailer",     NULL};
	if (!address)
		return false;
	const char *at = strchr(address, '@');
	size_t n = at ? (size_t)(at - address) : strlen(address);
	for (const char *const *l = locals; *l; l++) {
		size_t k = strlen(*l);
		for (size_t i = 0; i + k <= n; i++)
			if (strncasecmp(address + i, *l, k) == 0)
				return true;
	}
	return false;
}
