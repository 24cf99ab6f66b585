/* urgency_eval: run the labelled urgency set through the whole classifier.
 *
 *   urgency_eval [-q] [-l LANG]... FILE.tsv...
 *
 * Each line of a FILE (tests/data/urgency/README.md) is "label<TAB>lang<TAB>
 * subject<TAB>body<TAB>reason"; it becomes a mail from a person to the
 * practice, is parsed (parse.h) and classified (classify.h).  Prints each
 * miss and false alarm, then "urgency: recall A/B (P%), false alarms C/D
 * (Q%)"; exits 1 below 98% recall or above 10% false alarms, 65 for a bad
 * line.  -l picks the languages (triage.urgent_languages; default the
 * built-in default); -q prints only the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "receive/classify.h"
#include "receive/parse.h"

#define MIN_RECALL	 0.98
#define MAX_FALSE_ALARMS 0.10
#define MAX_LANGS	 8

struct tally {
	size_t urgent, found, normal, alarms, bad;
};

/* Split line at tabs into at most 5 fields (in place). */
static size_t fields(char *line, char *f[5])
{
	size_t n = 0;
	for (char *p = line; n < 5;) {
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

/* The body with "\n" turned into line breaks. */
static void add_body(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			buf_adds(b, "\n");
			s++;
		} else {
			buf_add(b, s, 1);
		}
	}
}

static void one(const char *file, size_t line, char *f[5], const struct classify_ctx *ctx,
		bool quiet, struct tally *t)
{
	bool want = strcmp(f[0], "urgent") == 0;
	if (!want && strcmp(f[0], "normal") != 0) {
		fprintf(stderr, "%s:%zu:1: label must be urgent or normal\n", file, line);
		t->bad++;
		return;
	}
	struct buf raw = BUF_INIT;
	buf_adds(&raw, "From: Pat Example <pat@people.test>\nTo: Center <hello@example.org>\n"
		       "Subject: ");
	buf_adds(&raw, f[2]);
	buf_adds(&raw, "\nMessage-ID: <eval@people.test>\nMIME-Version: 1.0\n"
		       "Content-Type: text/plain; charset=utf-8\n"
		       "Content-Transfer-Encoding: 8bit\n\n");
	add_body(&raw, f[3]);
	buf_adds(&raw, "\n");
	struct inmsg m;
	struct classification c;
	inmsg_parse(raw.p, raw.n, NULL, &m);
	classify_message(&m, ctx, &c);
	bool got = c.kind == MAIL_INQUIRY && c.urgent;
	if (want) {
		t->urgent++;
		t->found += got;
		if (!got && !quiet)
			printf("  missed       %s:%zu: %s\n", file, line, f[4]);
	} else {
		t->normal++;
		t->alarms += got;
		if (got && !quiet)
			printf("  false alarm  %s:%zu: %s [%s]\n", file, line, f[4],
			       c.urgent_word ? c.urgent_word : "?");
	}
	classification_free(&c);
	inmsg_free(&m);
	buf_free(&raw);
}

int main(int argc, char **argv)
{
	const char *langs[MAX_LANGS + 1] = {NULL};
	size_t nlangs = 0;
	bool quiet = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
		} else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc && nlangs < MAX_LANGS) {
			langs[nlangs++] = argv[++i];
		} else {
			fprintf(stderr, "usage: urgency_eval [-q] [-l LANG]... FILE.tsv...\n");
			return 64;
		}
	}
	struct classify_ctx ctx = {
	    .reply_to = "Center <hello+{token}@example.org>",
	    .from_domain = "example.org",
	};
	ctx.urgent_languages = nlangs ? langs : NULL;
	struct tally t = {0};
	for (; i < argc; i++) {
		FILE *fp = fopen(argv[i], "r");
		if (!fp) {
			perror(argv[i]);
			return 66;
		}
		char *line = NULL;
		size_t cap = 0, no = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, fp)) >= 0) {
			no++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len == 0 || line[0] == '#')
				continue;
			char *f[5];
			if (fields(line, f) != 5) {
				fprintf(stderr, "%s:%zu:1: want 5 tab-separated fields\n", argv[i],
					no);
				t.bad++;
				continue;
			}
			one(argv[i], no, f, &ctx, quiet, &t);
		}
		free(line);
		fclose(fp);
	}
	if (t.bad)
		return 65;
	double recall = t.urgent ? (double)t.found / (double)t.urgent : 0;
	double alarms = t.normal ? (double)t.alarms / (double)t.normal : 1;
	printf("urgency: recall %zu/%zu (%.1f%%), false alarms %zu/%zu (%.1f%%); "
	       "need >= %.0f%% and <= %.0f%%\n",
	       t.found, t.urgent, 100 * recall, t.alarms, t.normal, 100 * alarms, 100 * MIN_RECALL,
	       100 * MAX_FALSE_ALARMS);
	return t.urgent && t.normal && recall >= MIN_RECALL && alarms <= MAX_FALSE_ALARMS ? 0 : 1;
}
