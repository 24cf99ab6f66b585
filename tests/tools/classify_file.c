/* classify_file: parse and classify mail files, one result line each.
 *
 *   classify_file [-v] [-t TOKEN=ADDRESS]... [-s ADDRESS]... FILE...
 *
 * Prints "FILE<TAB>kind<TAB>severity<TAB>addr,addr<TAB>status<TAB>subscriber<TAB>slug<TAB>reason";
 * -v adds the parsed fields and texts.  Our patterns are the sample site's
 * (bounces+{token}@example.org, unsubscribe+{token}@example.org,
 * hello+{token}@example.org, Message-IDs @example.org); -t makes a token
 * resolve to an address, -s makes an address a known subscriber.  For the
 * bounce corpus test and for looking at a message by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "receive/classify.h"
#include "receive/parse.h"

#define MAX_ARGS 64

static const char *tokens[MAX_ARGS], *subscribers[MAX_ARGS];
static size_t ntokens, nsubscribers;

static bool resolve(void *cb, const char *token, char **address_out)
{
	(void)cb;
	size_t n = strlen(token);
	for (size_t i = 0; i < ntokens; i++)
		if (strncasecmp(tokens[i], token, n) == 0 && tokens[i][n] == '=') {
			*address_out = xstrdup(tokens[i] + n + 1);
			return true;
		}
	return false;
}

static bool is_subscriber(void *cb, const char *address)
{
	(void)cb;
	for (size_t i = 0; i < nsubscribers; i++)
		if (strcasecmp(subscribers[i], address) == 0)
			return true;
	return false;
}

static int slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(b, tmp, k);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : 0;
}

static void list(const char *what, const struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		printf("  %s: %s\n", what, l->v[i]);
}

static void verbose(const struct inmsg *m)
{
	printf("  unparsed: %d\n  message-id: %s\n  from: %s (%s)\n  subject: %s\n"
	       "  date: %s (%lld)\n  in-reply-to: %s\n  return-path: %s\n",
	       m->unparsed, m->message_id ? m->message_id : "-", m->from ? m->from : "-",
	       m->from_name ? m->from_name : "-", m->subject ? m->subject : "-",
	       m->date ? m->date : "-", (long long)m->date_time,
	       m->in_reply_to ? m->in_reply_to : "-", m->return_path ? m->return_path : "-");
	list("to", &m->to);
	list("cc", &m->cc);
	list("delivered-to", &m->delivered_to);
	list("references", &m->references);
	for (size_t i = 0; i < m->dsn.nrcpt; i++)
		printf("  dsn: %s action=%d status=%s diag=%s\n",
		       m->dsn.rcpt[i].final_recipient ? m->dsn.rcpt[i].final_recipient : "-",
		       m->dsn.rcpt[i].action, m->dsn.rcpt[i].status ? m->dsn.rcpt[i].status : "-",
		       m->dsn.rcpt[i].diagnostic ? m->dsn.rcpt[i].diagnostic : "-");
	if (m->has_arf)
		printf("  arf: %s\n", m->arf.feedback_type ? m->arf.feedback_type : "-");
	if (m->has_original)
		printf("  original: id=%s from=%s\n",
		       m->original.message_id ? m->original.message_id : "-",
		       m->original.from ? m->original.from : "-");
	for (size_t i = 0; i < m->natt; i++)
		printf("  attachment: %s %s %zu\n", m->att[i].filename ? m->att[i].filename : "-",
		       m->att[i].content_type, m->att[i].size);
	printf("  --- text%s ---\n%s  --- own text%s ---\n%s  ---\n",
	       m->text_from_html ? " (from HTML)" : "", m->text, m->trimmed ? " (trimmed)" : "",
	       m->own_text);
}

int main(int argc, char **argv)
{
	static const char *const severities[] = {"-", "hard", "soft", "delayed"};
	static const char *const markers[] = {"Center for Relationship and Intimacy Wellbeing",
					      NULL};
	bool v = false;
	int i = 1, rc = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0)
			v = true;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc && ntokens < MAX_ARGS)
			tokens[ntokens++] = argv[++i];
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc && nsubscribers < MAX_ARGS)
			subscribers[nsubscribers++] = argv[++i];
		else {
			fprintf(stderr, "usage: classify_file [-v] [-t TOKEN=ADDRESS] [-s ADDRESS] "
					"FILE...\n");
			return 64;
		}
	}
	struct classify_ctx ctx = {
	    .bounce_to = "bounces+{token}@example.org",
	    .unsubscribe = "unsubscribe+{token}@example.org",
	    .reply_to = "Center <hello+{token}@example.org>",
	    .from_domain = "example.org",
	    .resolve = resolve,
	    .is_subscriber = is_subscriber,
	};
	struct parse_opts opts = {markers};
	for (; i < argc; i++) {
		struct buf raw = BUF_INIT;
		if (slurp(argv[i], &raw)) {
			perror(argv[i]);
			rc = 74;
			buf_free(&raw);
			continue;
		}
		struct inmsg m;
		struct classification c;
		inmsg_parse(buf_cstr(&raw), raw.n, &opts, &m);
		buf_free(&raw);
		classify_message(&m, &ctx, &c);
		printf("%s\t%s\t%s\t", argv[i], mail_kind_name(c.kind), severities[c.severity]);
		for (size_t k = 0; k < c.addresses.n; k++)
			printf("%s%s", k ? "," : "", c.addresses.v[k]);
		printf("\t%s\t%s\t%s\t%s%s%s%s\n", c.status ? c.status : "-",
		       c.subscriber ? c.subscriber : "-", c.slug ? c.slug : "-", c.reason,
		       c.urgent ? " [urgent: " : "", c.urgent ? c.urgent_word : "",
		       c.urgent ? "]" : "");
		if (v)
			verbose(&m);
		classification_free(&c);
		inmsg_free(&m);
	}
	return rc;
}
