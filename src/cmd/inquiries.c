/* letterbox inquiries: the staff's view of the people who wrote back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/inquiries_edit.h"
#include "cmd/inquiries_files.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/json.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "receive/parse.h"
#include "core/mem.h"
#include "store/conversation.h"
#include "store/inquiries.h"

static const char usage[] =
    "letterbox inquiries [list] [--status new|open|answered|closed|all]\n"
    "                    [--urgent] [--assignee NAME] [--json]\n"
    "letterbox inquiries show N [--full | --copy K [--raw]]\n"
    "letterbox inquiries attachment N [M.]K [--out FILE]\n"
    "letterbox inquiries set N [status=S] [assign=NAME]\n"
    "                          [priority=urgent|normal] [--by NAME]\n"
    "letterbox inquiries note N TEXT... [--by NAME]\n"
    "letterbox inquiries reply N --file REPLY.md [--dry-run] [--by NAME]\n"
    "letterbox inquiries purge --closed-before DATE [--dry-run]\n"
    "\n"
    "  list        the waiting ones, urgent first, then oldest (the default)\n"
    "  show        one inquiry: the person's words, attachments, its history\n"
    "  attachment  save an attachment, decoded, to a new file\n"
    "  set         change the status, assignee or priority\n"
    "  note        add a note to the history\n"
    "  reply       answer in Markdown, from the practice's address, in the thread\n"
    "  purge       delete the inquiries closed before DATE\n"
    "\n"
    "`letterbox inquiries SUBCOMMAND --help` says more.  Exit 0 when done, 64 for\n"
    "a bad command line, 65 when there is no such inquiry or the file to write\n"
    "exists, 66 when there is no such attachment, 69/75 when a reply could not be\n"
    "sent.";

/* `inquiries SUBCOMMAND --help`: each one's details. */
static const struct {
	const char *name, *text;
} sub_help[] = {
    {"list", "letterbox inquiries [list] [--status new|open|answered|closed|all]\n"
	     "                    [--urgent] [--assignee NAME] [--json]\n"
	     "\n"
	     "A table of inquiries - number, age, sender, subject, the article it answers,\n"
	     "status, assignee - urgent ones first, then oldest first.  By default the new\n"
	     "and open ones.\n"
	     "  --status S    only those with status S (all: every inquiry)\n"
	     "  --urgent      only the urgent ones\n"
	     "  --assignee N  only those assigned to N\n"
	     "  --json        one JSON array of objects: number, received, from, from_name,\n"
	     "                subject, article, subscriber, status, priority, assignee,\n"
	     "                unparsed, attachments, messages (how many the conversation\n"
	     "                holds from the person: 1 and its later ones)"},
    {"show", "letterbox inquiries show N [--full | --copy K [--raw]]\n"
	     "\n"
	     "The inquiry's details, the person's own words (the quoted newsletter and\n"
	     "earlier quoted mail trimmed; --full shows everything), attachments (listed,\n"
	     "with the command that saves each) and its history.  When the conversation\n"
	     "went on (later messages that answered a reply or continued the thread,\n"
	     "replies sent), every message in order, numbered, each with when and from.\n"
	     "--copy K prints the K-th reply sent, decoded (From, To, Date, Subject, its\n"
	     "text); with --raw, its source as sent."},
    {"attachment", "letterbox inquiries attachment N [M.]K [--out FILE]\n"
		   "\n"
		   "Save the K-th attachment of inquiry N's first message (M.K: of message M of\n"
		   "the conversation, as show numbers them), decoded, to\n"
		   "./inquiry-N-attachment-K.EXT (inquiry-N-M-attachment-K.EXT), or to FILE with\n"
		   "--out; the name in the message is never used as a path.  The file is written\n"
		   "0600 and an existing one is never replaced."},
    {"set", "letterbox inquiries set N [status=S] [assign=NAME]\n"
	    "                          [priority=urgent|normal] [--by NAME]\n"
	    "\n"
	    "Change the status (new, open, answered, closed), who it is assigned to\n"
	    "(assign= with no name: nobody) or its priority.  Recorded in the history\n"
	    "with the time and --by (default: your login)."},
    {"note", "letterbox inquiries note N TEXT... [--by NAME]\n"
	     "\n"
	     "Add a note to the history, with the time and --by (default: your login)."},
    {"reply", "letterbox inquiries reply N --file REPLY.md [--dry-run] [--by NAME]\n"
	      "\n"
	      "Write the answer in Markdown; letterbox renders it with\n"
	      "templates/reply.html and reply.txt, sends it from the practice's address as\n"
	      "\"Re: <their subject>\" in the same thread, keeps a copy with the inquiry and\n"
	      "sets its status to answered.  --dry-run shows the text and sends nothing.\n"
	      "When the mail cannot be sent the status stays as it was and the reason is\n"
	      "printed."},
    {"purge", "letterbox inquiries purge --closed-before DATE [--dry-run]\n"
	      "\n"
	      "Delete closed inquiries (message, record, history, replies) closed before\n"
	      "DATE, and list them; --dry-run only lists them."},
};

/* The help for the subcommand argv names, or the overview. */
static const char *help_for(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		for (size_t k = 0; k < sizeof sub_help / sizeof sub_help[0]; k++)
			if (strcmp(argv[i], sub_help[k].name) == 0)
				return sub_help[k].text;
	return usage;
}

static bool is_status(const char *s)
{
	return !strcmp(s, "new") || !strcmp(s, "open") || !strcmp(s, "answered") ||
	       !strcmp(s, "closed") || !strcmp(s, "all");
}

/* Cut s to at most w display columns (counting UTF-8 code points). */
static void cell(struct buf *b, const char *s, int w)
{
	int cols = 0;
	size_t i = 0, n = s ? strlen(s) : 0;
	size_t start = b->n;
	while (i < n && cols < w) {
		size_t len = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xF0)
			len = 4;
		else if (c >= 0xE0)
			len = 3;
		else if (c >= 0xC0)
			len = 2;
		if (i + len > n)
			break;
		if (cols == w - 1 && i + len < n) {
			buf_adds(b, "…");
			cols++;
			break;
		}
		buf_add(b, s + i, len);
		i += len;
		cols++;
	}
	(void)start;
	for (; cols < w; cols++)
		buf_addc(b, ' ');
}

static void print_json(const struct inquiry *v, size_t n)
{
	struct buf b = BUF_INIT, t = BUF_INIT;
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		const struct inquiry *q = &v[i];
		int first = 1;
		buf_adds(&b, i ? ",\n{" : "{");
		json_key(&b, "number", &first);
		buf_printf(&b, "%u", q->number);
		buf_reset(&t);
		time_iso(&t, q->received);
		json_key(&b, "received", &first);
		json_str(&b, t.p);
		json_key(&b, "from", &first);
		json_str(&b, q->from);
		json_key(&b, "from_name", &first);
		json_str(&b, q->from_name);
		json_key(&b, "subject", &first);
		json_str(&b, q->subject);
		json_key(&b, "article", &first);
		json_str(&b, q->article);
		json_key(&b, "subscriber", &first);
		buf_adds(&b, q->subscriber ? "true" : "false");
		json_key(&b, "status", &first);
		json_str(&b, q->status);
		json_key(&b, "priority", &first);
		json_str(&b, q->priority);
		json_key(&b, "assignee", &first);
		json_str(&b, q->assignee);
		json_key(&b, "unparsed", &first);
		buf_adds(&b, q->unparsed ? "true" : "false");
		json_key(&b, "attachments", &first);
		json_str(&b, q->attachments);
		size_t nthread, nmsg = 1;
		struct conv_msg *later = conv_msgs(q, &nthread);
		for (size_t j = 0; j < nthread; j++)
			nmsg += later[j].dir == CONV_IN;
		conv_msgs_free(later, nthread);
		json_key(&b, "messages", &first);
		buf_printf(&b, "%zu", nmsg);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]");
	puts(b.p);
	buf_free(&b);
	buf_free(&t);
}

static int list(struct cli *g, const char *status, bool urgent_only, const char *assignee,
		bool json)
{
	struct inquiry *v;
	size_t k = 0;
	struct lb_err err = {0};
	struct inq_query sel = {
	    .status = status, .assignee = assignee, .urgent_only = urgent_only, .threads = json};
	if (inquiries_query(g->cfg.state_dir, &sel, &v, &k, NULL, &err) != 0)
		return cli_fail(&err);
	if (json) {
		print_json(v, k);
	} else if (!k) {
		printf("no %s inquiries\n", status ? status : "new or open");
	} else {
		time_t now = time(NULL);
		printf("   #  %-6s %-4s %-26s %-30s %-18s %-8s %s\n", "", "age", "from", "subject",
		       "article", "status", "assignee");
		for (size_t i = 0; i < k; i++) {
			const struct inquiry *q = &v[i];
			struct buf line = BUF_INIT;
			buf_printf(&line, "%4u  %-6s ", q->number,
				   inquiry_is_urgent(q) ? "URGENT" : "");
			struct buf a = BUF_INIT, t = BUF_INIT;
			time_age(&a, q->received, now);
			cell(&line, a.p, 4);
			buf_addc(&line, ' ');
			cell(&line, term_str(&t, q->from_name ? q->from_name : q->from), 26);
			buf_addc(&line, ' ');
			cell(&line, term_str(&t, q->subject ? q->subject : "(no subject)"), 30);
			buf_addc(&line, ' ');
			cell(&line, term_str(&t, q->article ? q->article : "-"), 18);
			buf_addc(&line, ' ');
			cell(&line, term_str(&t, q->status), 8);
			buf_addc(&line, ' ');
			buf_adds(&line, term_str(&t, q->assignee ? q->assignee : "-"));
			puts(line.p);
			buf_free(&line);
			buf_free(&a);
			buf_free(&t);
		}
	}
	inquiries_free(v, k);
	return 0;
}

/* One message: head ("N. TIME", and its sender when from) unless NULL, then
 * its text (the quoted newsletter and earlier mail trimmed unless full) and
 * its attachments. */
static void print_message(struct cli *g, const struct buf *raw, bool full, unsigned number,
			  const char *head, bool from, size_t msg)
{
	struct inmsg m;
	const char *markers[] = {g->cfg.site_name, "You receive this because you subscribed", NULL};
	struct parse_opts po = {markers};
	inmsg_parse(raw->p, raw->n, &po, &m);
	/* Everything below comes from mail: made safe for the terminal (item 13). */
	struct buf f1 = BUF_INIT, f2 = BUF_INIT;
	if (head && from && m.from_name)
		printf("\n--- %s  from %s <%s>\n", head, term_str(&f1, m.from_name),
		       term_str(&f2, m.from ? m.from : ""));
	else if (head && from)
		printf("\n--- %s  from %s\n", head, term_str(&f1, m.from ? m.from : "(nobody)"));
	else if (head)
		printf("\n--- %s\n", head);
	const char *text = full || !m.own_text ? m.text : m.own_text;
	term_printf(stdout, "\n%s\n", text && *text ? text : "(no text)");
	if (!full && m.trimmed)
		printf("[quoted text trimmed: letterbox inquiries show %u --full]\n", number);
	for (size_t i = 0; i < m.natt; i++) {
		printf(
		    "Attachment: %s (%s, %zu bytes) - save it: letterbox inquiries attachment %u ",
		    term_str(&f1, m.att[i].filename ? m.att[i].filename : "unnamed"),
		    term_str(&f2, m.att[i].content_type ? m.att[i].content_type : "?"),
		    m.att[i].size, number);
		if (msg > 1)
			printf("%zu.", msg);
		printf("%zu\n", i + 1);
	}
	buf_free(&f1);
	buf_free(&f2);
	inmsg_free(&m);
}

/* The whole conversation in the order it was stored (conv_items): each
 * message with when and from, then its text.  A lone message is shown as it
 * always was. */
static void show_conversation(struct cli *g, const struct inquiry *q, const struct buf *first,
			      bool full)
{
	const char *state = g->cfg.state_dir;
	size_t n = 0, k = 0;
	struct conv_msg *v;
	struct conv_item *items = conv_items(state, q, &k, &v, &n);
	struct buf raw = BUF_INIT, t = BUF_INIT;
	struct lb_err err = {0};
	if (k == 1)
		print_message(g, first, full, q->number, NULL, false, 0);
	else
		printf("\nConversation (%zu messages):\n", k);
	for (size_t i = 0; k > 1 && i < k; i++) {
		const struct conv_item *it = &items[i];
		buf_reset(&t);
		buf_printf(&t, "%zu. ", i + 1);
		time_local(&t, it->when);
		buf_reset(&raw);
		if (it->copy)
			buf_printf(&t, "  reply sent (letterbox inquiries show %u --copy %u)",
				   q->number, it->copy);
		if (conv_item_raw(state, q, it, first, &raw, &err))
			term_printf(stdout, "\n--- %s\n\n(cannot be read: %s)\n", t.p, err.msg);
		else
			print_message(g, &raw, full, q->number, t.p, !it->copy, i + 1);
	}
	free(items);
	conv_msgs_free(v, n);
	buf_free(&raw);
	buf_free(&t);
}

static int show(struct cli *g, const char *arg, bool full, const char *copy, bool raw)
{
	char *end;
	unsigned long num = strtoul(arg, &end, 10);
	if (*end || !num)
		return cli_usage(usage, "show: '%s' is not an inquiry number", arg);
	struct inquiry q;
	struct lb_err err = {0};
	if (inquiry_load(g->cfg.state_dir, (unsigned)num, &q, &err) != 0) {
		inquiry_free(&q);
		return cli_fail(&err);
	}
	if (copy) {
		unsigned long k = strtoul(copy, &end, 10);
		int rc = *copy < '0' || *copy > '9' || *end || !k || k > 100000
			     ? cli_usage(usage, "--copy '%s': a number", copy)
			     : inquiries_copy(g, &q, (unsigned)k, raw);
		inquiry_free(&q);
		return rc;
	}
	if (raw) {
		inquiry_free(&q);
		return cli_usage(usage, "--raw goes with --copy K");
	}
	/* Everything below came from outside (the mail, or the store): shown
	 * through termsafe, fields on one line, the text with its lines. */
	struct buf t = BUF_INIT, f1 = BUF_INIT, f2 = BUF_INIT;
	time_local(&t, q.received);
	printf("Inquiry %u%s\n", q.number, !strcmp(q.priority, "urgent") ? "  ** URGENT **" : "");
	printf("From:       %s%s%s%s\n", q.from_name ? term_str(&f1, q.from_name) : "",
	       q.from_name ? " <" : "", term_str(&f2, q.from), q.from_name ? ">" : "");
	printf("Received:   %s\n", t.p);
	printf("Subject:    %s\n", q.subject ? term_str(&f1, q.subject) : "(none)");
	printf("Article:    %s\n", q.article ? term_str(&f1, q.article) : "-");
	printf("Subscriber: %s\n", q.subscriber ? "yes" : "no");
	printf("Status:     %s%s%s\n", term_str(&f1, q.status), q.assignee ? ", assigned to " : "",
	       q.assignee ? term_str(&f2, q.assignee) : "");
	if (q.unparsed)
		printf("Note:       the message's structure could not be read; the text is a "
		       "best guess\n");
	if (q.truncated)
		printf("Note:       larger than incoming.max_size: only its headers were kept\n");
	struct buf first = BUF_INIT;
	int rc = inquiry_message(g->cfg.state_dir, &q, &first, &err);
	if (rc == 0)
		show_conversation(g, &q, &first, full);
	else /* said, not skipped: the person's words are the point */
		rc = cli_fail(&err);
	char *hist = inquiry_history(g->cfg.state_dir, q.number);
	if (*hist) {
		printf("\nHistory:\n");
		for (char *p = hist; *p;) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			/* time TAB who TAB what TAB detail */
			char *f[4];
			inquiry_history_fields(p, f);
			buf_reset(&t); /* the store's UTC, shown local */
			time_local_iso(&t, f[0]);
			term_printf(stdout, "  %s  %-10s %s%s%s\n", t.p, f[1], f[2],
				    *f[3] ? ": " : "", f[3]);
			if (!nl)
				break;
			p = nl + 1;
		}
	}
	free(hist);
	buf_free(&first);
	buf_free(&t);
	buf_free(&f1);
	buf_free(&f2);
	inquiry_free(&q);
	return rc;
}

int cmd_inquiries(struct cli *g, int argc, char **argv)
{
	static const struct option opts[] = {{"status", required_argument, NULL, 's'},
					     {"urgent", no_argument, NULL, 'u'},
					     {"assignee", required_argument, NULL, 'a'},
					     {"json", no_argument, NULL, 'j'},
					     {"full", no_argument, NULL, 'f'},
					     {"copy", required_argument, NULL, 'k'},
					     {"raw", no_argument, NULL, 'r'},
					     {"out", required_argument, NULL, 'o'},
					     {"by", required_argument, NULL, 'b'},
					     {"file", required_argument, NULL, 'F'},
					     {"dry-run", no_argument, NULL, 'n'},
					     {"closed-before", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *status = NULL, *assignee = NULL, *by = NULL, *file = NULL, *before = NULL,
		   *copy = NULL, *out = NULL;
	bool urgent = false, json = false, full = false, dry_run = false, raw = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "s:ua:jfk:ro:b:F:nc:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			status = optarg;
			break;
		case 'u':
			urgent = true;
			break;
		case 'a':
			assignee = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'f':
			full = true;
			break;
		case 'k':
			copy = optarg;
			break;
		case 'r':
			raw = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'F':
			file = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'c':
			before = optarg;
			break;
		case 'h':
			printf("usage: %s\n", help_for(argc, argv));
			return 0;
		default:
			return cli_usage(usage, "inquiries: unknown option or missing value: %s",
					 cli_bad_option(argv));
		}
	}
	if (status && !is_status(status))
		return cli_usage(usage, "--status '%s': use new, open, answered, closed or all",
				 status);
	if (by && (!*by || term_unsafe(by)))
		return cli_usage(usage,
				 "--by: a name without control characters, in UTF-8, please");
	const char *sub = optind < argc ? argv[optind] : "list";
	if (out && strcmp(sub, "attachment") != 0)
		return cli_usage(usage, "--out goes with inquiries attachment");
	int nargs = argc - optind - 1; /* after the subcommand */
	char **args = argv + optind + 1;
	int rc = cli_config(g);
	if (rc)
		return rc;
	if (!strcmp(sub, "list") && nargs <= 0)
		return list(g, status, urgent, assignee, json);
	if (!strcmp(sub, "show") && nargs == 1)
		return show(g, args[0], full, copy, raw);
	if (!strcmp(sub, "attachment") && nargs == 2)
		return inquiries_attachment(g, args[0], args[1], out, usage);
	if (!strcmp(sub, "set") && nargs >= 1)
		return inquiries_set(g, args[0], args + 1, nargs - 1, by, usage);
	if (!strcmp(sub, "note") && nargs >= 1)
		return inquiries_note(g, args[0], args + 1, nargs - 1, by, usage);
	if (!strcmp(sub, "reply") && nargs == 1)
		return inquiries_reply(g, args[0], file, dry_run, by, usage);
	if (!strcmp(sub, "purge") && nargs == 0)
		return inquiries_purge(g, before, dry_run, usage);
	return cli_usage(usage, "inquiries: unknown subcommand or arguments '%s'", sub);
}
